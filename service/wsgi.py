"""The WSGI entry point: the only module-level app (``gunicorn service.wsgi:app``)."""

from service.app import create_app

app = create_app()
