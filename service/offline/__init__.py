"""The service without the HTTP server: the command line and WARC processing (no ``service.http``)."""
