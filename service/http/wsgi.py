"""The WSGI entry point: the only module-level app (``gunicorn service.http.wsgi:app``)."""

from service.http.app import create_app

app = create_app()
