"""WSGI entry point: ``gunicorn wsgi:app`` in production, ``flask --app wsgi`` for the CLI."""

from dsr import create_app

app = create_app()
