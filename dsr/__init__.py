"""dsr: a case manager for GDPR data-subject requests."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, g, has_request_context, request
from flask_login import current_user

import config
from dsr.extensions import (
    babel,
    bootstrap,
    csrf,
    db,
    init_migrations,
    limiter,
    limits_on_routes_only,
    login_manager,
    ping_on_checkout,
)
from dsr.timeutil import UI_LOCALES  # English pages in British conventions: day first ("7 April 2026")

ROOT = Path(__file__).resolve().parent.parent


def _select_locale() -> str:
    if not has_request_context():  # CLI commands and jobs: messages in English
        return "en_GB"
    user = current_user._get_current_object()  # once: each use of the proxy finds the user again
    if user and user.is_authenticated:
        return UI_LOCALES.get(user.locale, "en_GB")
    return UI_LOCALES[request.accept_languages.best_match(["en", "nl", "fr"]) or "en"]


class App(Flask):
    """Flask, with what :meth:`ensure_sync` finds kept per function.

    Flask asks, for each function it calls in a request (the view, every ``before_request``,
    ``after_request`` and teardown function, each of the two dozen template context processors), whether it
    is a coroutine function (``inspect.iscoroutinefunction``, some 15 Python calls each): 36 times and some
    550 calls a queue page, the same answer each time (issue 15, item 3). The answer is a function's for
    life, so it is kept per function (a bound method is equal to the same method bound to the same object);
    the functions are the app's own, registered at start-up, and a callable that cannot be a key is asked
    each time."""

    _SYNC_KEPT = 4096

    def ensure_sync(self, func):
        kept = self.__dict__.setdefault("_dsr_sync", {})
        try:
            return kept[func]
        except KeyError:
            made = super().ensure_sync(func)
            if len(kept) >= self._SYNC_KEPT:
                kept.clear()
            kept[func] = made
            return made
        except TypeError:  # unhashable
            return super().ensure_sync(func)


def create_app(test_config: dict | None = None) -> Flask:
    """Application factory: configuration from the environment, then ``test_config`` on top."""
    instance_path = os.environ.get("DSR_INSTANCE_PATH") or str(config.DEFAULT_INSTANCE)
    app = App(
        __name__,
        instance_path=instance_path,
        template_folder=str(ROOT / "templates"),
        static_folder="static",
    )
    if test_config and "INSTANCE_PATH" in test_config:
        app.instance_path = test_config["INSTANCE_PATH"]
    app.config.from_mapping(config.from_environment(Path(app.instance_path)))
    if test_config:
        app.config.from_mapping(test_config)
    if app.config.get("STORAGE_BACKEND", "local") == "local":
        Path(app.config["STORAGE_DIR"]).mkdir(parents=True, exist_ok=True)

    from dsr import input_guard

    input_guard.register(app)  # before the routes are added: <int:...> is bounded to what a database holds
    db.init_app(app)
    init_migrations(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=_select_locale, default_translation_directories=str(ROOT / "translations"))
    bootstrap.init_app(app)

    _enable_sqlite_foreign_keys(app)
    with app.app_context():
        ping_on_checkout(db.engine)
    from dsr.subjects.search import install_hook

    install_hook()
    _register_models()
    from dsr.cases import checklist  # noqa: F401  (registers the completion checklist's items as obligations)
    from dsr.datamap import catalogue

    catalogue.install(app)
    _register_blueprints(app)
    limits_on_routes_only(app, limiter)
    _register_security_headers(app)

    from dsr import cli, web

    cli.register(app)
    web.register(app)
    load_job_handlers()
    return app


def load_job_handlers() -> None:
    """Import the modules that register job handlers, so a worker knows every kind of job."""
    import importlib

    from dsr.jobs import HANDLER_MODULES

    for name in HANDLER_MODULES:
        importlib.import_module(name)


def _register_models() -> None:
    # Import every model module so metadata is complete for Alembic and for the mappers.
    from dsr.attachments import models as _a  # noqa: F401
    from dsr.audit import models as _au  # noqa: F401
    from dsr.auth import models as _u  # noqa: F401
    from dsr.automated import models as _adm  # noqa: F401
    from dsr.casefiles import models as _cf  # noqa: F401
    from dsr.cases import models as _c  # noqa: F401
    from dsr.cases import saved_views as _sv  # noqa: F401
    from dsr.exports import models as _ex  # noqa: F401
    from dsr.fees import models as _fee  # noqa: F401
    from dsr.fulfilment import models as _f  # noqa: F401
    from dsr.identity import models as _i  # noqa: F401
    from dsr.jobs import models as _j  # noqa: F401
    from dsr.letters import models as _le  # noqa: F401
    from dsr.notices import models as _n  # noqa: F401
    from dsr.objection import models as _o  # noqa: F401
    from dsr.reading import models as _rd  # noqa: F401
    from dsr.rectification import models as _r  # noqa: F401
    from dsr.reports import models as _rep  # noqa: F401
    from dsr.requesters import models as _req  # noqa: F401
    from dsr.restriction import models as _rs  # noqa: F401
    from dsr.subjects import models as _s  # noqa: F401
    from dsr.suppression import models as _sup  # noqa: F401
    from dsr.tasks import models as _t  # noqa: F401
    from dsr.texts import models as _tx  # noqa: F401
    from dsr.transmissions import models as _tr  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from dsr.api.openapi import bp as api_docs_bp
    from dsr.api.views import bp as api_bp
    from dsr.attachments.views import bp as attachments_bp
    from dsr.auth.oidc import bp as oidc_bp
    from dsr.auth.token_views import bp as tokens_bp
    from dsr.auth.views import bp as auth_bp
    from dsr.automated.views import bp as automated_bp
    from dsr.casefiles.views import bp as casefiles_bp
    from dsr.cases.actions import bp as case_actions_bp
    from dsr.cases.triage import bp as triage_bp
    from dsr.cases.views import bp as cases_bp
    from dsr.declared_days.views import bp as declared_days_bp
    from dsr.exports.views import bp as exports_bp
    from dsr.fees.views import bp as fees_bp
    from dsr.fulfilment.access_views import bp as access_bp
    from dsr.fulfilment.api import bp as fulfilment_api_bp
    from dsr.fulfilment.views import bp as fulfilment_bp
    from dsr.jobs.views import bp as jobs_bp
    from dsr.letters.views import bp as letters_bp
    from dsr.notices.views import bp as notices_bp
    from dsr.objection.views import bp as objection_bp
    from dsr.reading.views import bp as reading_bp
    from dsr.rectification.views import bp as rectification_bp
    from dsr.reports.views import bp as reports_bp
    from dsr.requesters.views import bp as requesters_bp
    from dsr.restriction.views import bp as restriction_bp
    from dsr.suppression.api import bp as suppression_api_bp
    from dsr.texts.views import bp as texts_bp
    from dsr.transmissions.views import bp as transmissions_bp
    from dsr.unanswered.views import bp as unanswered_bp
    from dsr.users.views import bp as users_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(tokens_bp)
    app.register_blueprint(oidc_bp)
    from dsr.auth import oidc

    oidc.init_app(app)
    app.register_blueprint(cases_bp)
    app.register_blueprint(case_actions_bp)
    app.register_blueprint(triage_bp)
    app.register_blueprint(fulfilment_bp)
    app.register_blueprint(access_bp)
    app.register_blueprint(rectification_bp)
    app.register_blueprint(notices_bp)
    app.register_blueprint(objection_bp)
    app.register_blueprint(restriction_bp)
    app.register_blueprint(reading_bp)
    app.register_blueprint(attachments_bp)
    app.register_blueprint(casefiles_bp)
    app.register_blueprint(unanswered_bp)
    app.register_blueprint(transmissions_bp)
    app.register_blueprint(automated_bp)
    app.register_blueprint(requesters_bp)
    app.register_blueprint(fees_bp)
    app.register_blueprint(users_bp)
    app.register_blueprint(declared_days_bp)
    app.register_blueprint(texts_bp)
    app.register_blueprint(jobs_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(letters_bp)
    app.register_blueprint(exports_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(api_docs_bp)  # GET /api/v1/openapi.json: public, like any API's description
    csrf.exempt(api_bp)  # bearer-token API: no cookies, so no CSRF
    app.register_blueprint(suppression_api_bp)  # POST /api/v1/suppression/check
    csrf.exempt(suppression_api_bp)
    app.register_blueprint(fulfilment_api_bp)  # /api/v1/cases/<ref>/lookup and /erasure-plan
    csrf.exempt(fulfilment_api_bp)


def _fk_pragma(dbapi_connection, _record) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()


def _enable_sqlite_foreign_keys(app: Flask) -> None:
    """SQLite ignores foreign keys unless asked on every connection."""
    import sqlalchemy as sa

    if not sa.event.contains(sa.engine.Engine, "connect", _fk_pragma):
        sa.event.listen(sa.engine.Engine, "connect", _fk_pragma)
    with app.app_context():
        if db.engine.dialect.name == "sqlite" and not sa.event.contains(db.engine, "connect", _sqlite_wal):
            sa.event.listen(db.engine, "connect", _sqlite_wal)


def _sqlite_wal(dbapi_connection, _record) -> None:
    """dsr's own SQLite database (the embedded default) in WAL mode: readers never block the one writer
    (a job's progress, a worker beside the web process), and a commit costs no fsync of the whole journal.
    ``synchronous=NORMAL`` keeps every committed transaction through a crash of the application; only a
    power cut may lose the last ones. Production uses PostgreSQL."""
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _register_security_headers(app: Flask) -> None:
    """Every asset is served by the app itself: a strict CSP holds (the back office holds personal data).

    Every response carries the security headers, error pages and redirects too. Nothing but the static
    assets may be kept by a browser or a proxy: every page is behind the login and may show personal data
    (and the login page's answer is no one's business either), so every other response is ``no-store``.
    """
    production = app.config["DSR_ENV"] == "production"
    defaults = [
        ("Content-Security-Policy",
         "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
         "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
    ]
    if production:
        defaults.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    defaults = [(name.lower(), name, value) for name, value in defaults]

    @app.after_request
    def _headers(response):
        headers = response.headers
        # What ``setdefault`` did for each, with one look at the headers already set instead of one (a
        # lower-casing of every name) per default: 15-20 µs less a response (issue 15, item 3).
        present = set(headers.keys(lower=True))
        for lower, name, value in defaults:
            if lower not in present:
                headers.add(name, value)
        if request.endpoint not in ("static", "bootstrap.static") or getattr(g, "no_store", False):
            headers["Cache-Control"] = "no-store"
            headers.pop("Expires", None)
        return response
