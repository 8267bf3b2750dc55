"""Bulk cleaning of web archives: WARC files in, one JSON Lines file (gzip) per input out.

``python -m service warc`` (``service.offline.cli.warc``) drives it; the package owns everything behind it:

- ``records``: reading WARC files with FastWARC: the scan that cuts a file into chunks of records
  (by offset), reading one chunk, sorting records into pages and skips, HTTP payload decoding;
- ``tasks``: what runs on a Dask worker: a chunk's pages through a per-process extraction pool
  (the time budget is kept by killing, as in the server), answers gzipped into one member;
- ``runner``: the client side: the cluster (a LocalCluster or ``--scheduler``), the bounded
  window of submitted chunks, retries, progress, and one output per input;
- ``output``: output names, atomic completion (temp name, rename) and the skip-if-complete rule;
- ``summary``: the per-input counts (records, pages, cleaned, skipped by reason, errors by code);
- ``writer``: building WARC files from pages (tests, benchmark, demos).
"""
