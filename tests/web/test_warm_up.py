"""A web worker's warm-up at start (issue 15, item 3): what its first pages would load while a person waits,
done by gunicorn's ``post_worker_init`` (gunicorn.conf.py) before the worker takes a request."""

from __future__ import annotations

import logging
import runpy
from datetime import date
from pathlib import Path

from flask import render_template_string

from dsr import create_app
from dsr.domain.calendar_nl import _statutory_holidays
from dsr.web import _wtforms_catalogue, warm_up

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 12, 7)


def _page_templates() -> set[str]:
    return {p.relative_to(ROOT / "templates").as_posix() for p in (ROOT / "templates").rglob("*.html")}


def _compiled(app) -> set[str]:
    return {template.name for template in app.jinja_env.cache.values()}


def _fresh_app(tmp_path, url: str):
    return create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": url,
                       "SECRET_KEY": "test-secret", "STORAGE_DIR": str(tmp_path / "storage")})


def test_every_page_template_is_compiled_and_the_rest_loaded_before_the_first_request(tmp_path):
    app = _fresh_app(tmp_path, f"sqlite:///{tmp_path / 'warm.sqlite3'}")
    assert not _compiled(app) & _page_templates()
    _wtforms_catalogue.cache_clear()
    _statutory_holidays.cache_clear()
    with app.app_context():
        took = warm_up(app, today=TODAY)
        assert took > 0
        assert _page_templates() <= _compiled(app)  # all 55 or so, not only the queue's
        assert len(_page_templates()) > 40
        # The interface's three languages: WTForms' catalogues read once each, Flask-Babel's kept.
        assert _wtforms_catalogue.cache_info().currsize == 3
        misses = _statutory_holidays.cache_info().misses
        for year in (2025, 2026, 2027):
            _statutory_holidays(year)
        assert _statutory_holidays.cache_info().misses == misses  # computed by the warm-up
        _statutory_holidays(2024)
        assert _statutory_holidays.cache_info().misses == misses + 1  # a year it did not compute
        from dsr.extensions import db

        assert db.engine.pool.checkedin() == 1  # the first connection made, kept in the pool
    # The compiled templates are the ones the app renders (Jinja's cache, not a copy).
    with app.test_request_context():
        before = set(app.jinja_env.cache)
        render_template_string("{% extends 'base.html' %}")
        assert {k for k in app.jinja_env.cache if k in before} == before


def test_a_worker_whose_database_is_down_still_starts(tmp_path, caplog):
    app = _fresh_app(tmp_path, "postgresql+psycopg://postgres@127.0.0.1:9/nothing_listens_here")
    with app.app_context(), caplog.at_level(logging.WARNING):
        warm_up(app, today=TODAY)
    assert _page_templates() <= _compiled(app)
    assert "could not reach the database while warming up" in caplog.text


class _Worker:
    """What gunicorn's hook is given: the worker, with its loaded app and its logger."""

    def __init__(self, app):
        self.wsgi = app
        self.pid = 4242
        self.log = logging.getLogger("test.gunicorn")


def test_gunicorn_conf_warms_each_worker_up_and_says_so(tmp_path, caplog):
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    app = _fresh_app(tmp_path, f"sqlite:///{tmp_path / 'hook.sqlite3'}")
    with caplog.at_level(logging.INFO, logger="test.gunicorn"):
        settings["post_worker_init"](_Worker(app))
    assert _page_templates() <= _compiled(app)
    assert "dsr: worker 4242 warmed up in" in caplog.text



def test_gunicorn_conf_leaves_another_wsgi_app_alone(caplog):
    # bench/queue.py serves bench/hello_wsgi.py from the same folder as its machine's floor.
    from bench.hello_wsgi import app as hello

    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    with caplog.at_level(logging.INFO, logger="test.gunicorn"):
        settings["post_worker_init"](_Worker(hello))
    assert "warmed up" not in caplog.text
