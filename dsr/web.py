"""Error pages, template helpers and the JSON form of errors under /api."""

from __future__ import annotations

import secrets
import threading
import time
from datetime import date
from functools import lru_cache

import jinja2
import sqlalchemy as sa
from flask import Flask, current_app, g, has_request_context, render_template, request, url_for
from flask.globals import request_ctx
from flask.sessions import SecureCookieSessionInterface
from flask_babel import force_locale, get_locale, get_translations
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, generate_csrf
from jinja2 import pass_context
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException

from dsr.api.auth import api_error
from dsr.filestore import StorageFailed
from dsr.timeutil import UI_LOCALES, format_day, format_moment, interface_language


def translations():
    """The translations of the request's locale, looked up once per locale and request: Flask-Babel finds them
    again on every call (domain, context, the locale's identifier, its cache), and a queue page translates
    hundreds of labels (issue 15, item 3). Keyed on the locale object itself, so ``force_locale`` (a letter
    in the subject's language) gets its own, and the request's again after it."""
    locale = get_locale()
    if locale is None:  # outside an app context: Flask-Babel's null translations
        return get_translations()
    cached = g.get("_dsr_translations")
    if cached is None or cached[0] is not locale:
        cached = g._dsr_translations = (locale, get_translations())
    return cached[1]


def install_gettext(app: Flask) -> None:
    """The templates' ``_``, ``gettext``, ``ngettext``, ``pgettext`` and ``npgettext`` through
    :func:`translations` (Flask-Babel installs the same callables, each finding its translations anew)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True)


def render_gettext() -> dict:
    """The templates' ``_``, ``gettext``, ``ngettext``, ``pgettext`` and ``npgettext`` for one rendering, bound
    to the translations in force when it starts (a context processor's values override the environment's
    globals). They behave as Jinja's newstyle ones (``autoescape`` makes the message Markup, so the variables
    are escaped; a message is always a format string), without finding the translations again for each of a
    page's hundreds of messages: a queue page spent an eighth of its time there (issue 15, item 3). A letter
    rendered under ``force_locale`` gets that locale's, since its rendering starts inside it."""
    t = translations()
    kept = fragment_keeper()

    @pass_context
    def gettext(ctx, string, **variables):
        rv = t.ugettext(string)
        if not variables and "%" not in rv:  # formatting would return it unchanged
            return Markup(rv) if ctx.eval_ctx.autoescape else rv
        return (Markup(rv) if ctx.eval_ctx.autoescape else rv) % variables

    @pass_context
    def ngettext(ctx, singular, plural, num, **variables):
        variables.setdefault("num", num)
        rv = t.ungettext(singular, plural, num)
        return (Markup(rv) if ctx.eval_ctx.autoescape else rv) % variables

    @pass_context
    def pgettext(ctx, context, string, **variables):
        variables.setdefault("context", context)
        rv = t.upgettext(context, string)
        return (Markup(rv) if ctx.eval_ctx.autoescape else rv) % variables

    @pass_context
    def npgettext(ctx, context, singular, plural, num, **variables):
        variables.setdefault("context", context)
        variables.setdefault("num", num)
        rv = t.unpgettext(context, singular, plural, num)
        return (Markup(rv) if ctx.eval_ctx.autoescape else rv) % variables

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext, "pgettext": pgettext, "npgettext": npgettext,
            "kept": kept}


_RENDERINGS = threading.local()


class UnlinkedTemplate(jinja2.Template):
    """A template whose rendering leaves no reference cycle behind, with all it was given inside it.

    A rendering's context holds its macros (a template's own and those imported ``with context``), and each
    macro holds the context it was made in: every rendering left a cycle that only the garbage collector
    frees, and with it everything the page was given (a queue page: its 25 cases with their subjects,
    assignees and rows, the rows' HTML, the filters; some 320 objects). Those counted towards the
    collector's next pass, which came every second page and cost 0.25 ms a page, and each tenth of those
    passes went through the older objects too, and each tenth of those through every object made since the
    worker started (20-70 ms in the middle of some page: issue 15, item 3). When a rendering has finished
    (not when it raised: the traceback may still be read), the contexts it made, its own and those of its
    imports and includes ``with context`` (made shared with its variables), are emptied, which breaks the
    cycles; the few objects left in them (the macros, their cells) are the collector's as before. A
    rendering inside a rendering (a card's template rendered by a helper a page calls) empties its own
    contexts only. Nothing keeps a context past its rendering: Flask's ``template_rendered`` signal is sent
    with the variables Flask gave, not with the context."""

    def new_context(self, vars=None, shared=False, locals=None):  # noqa: A002 (Jinja's names)
        context = super().new_context(vars, shared, locals)
        made = getattr(_RENDERINGS, "made", None)
        if shared and made:
            made[-1].append(context)
        return context

    def render(self, *args, **kwargs) -> str:
        if self.environment.is_async:
            return super().render(*args, **kwargs)
        made = _RENDERINGS.__dict__.setdefault("made", [])
        contexts: list = []
        made.append(contexts)
        try:
            context = self.new_context(dict(*args, **kwargs))
            try:
                html = self.environment.concat(self.root_render_func(context))
            except Exception:
                self.environment.handle_exception()
        finally:
            made.pop()
        for each in (context, *contexts):
            each.vars.clear()
            each.exported_vars.clear()
            each.parent.clear()  # a dict of the rendering's own: new_context copies what it is given
        return html


class Marks:
    """What a kept fragment leaves to each request, given to the fragment as its caller's argument: the
    request's CSRF token, its path with the query string and its query string, each written into the kept
    HTML as a random mark and put in its place (escaped as Jinja would) whenever the fragment is shown."""

    csrf = Markup(f"kept-{secrets.token_hex(16)}-csrf")
    path = Markup(f"kept-{secrets.token_hex(16)}-path")
    query = Markup(f"kept-{secrets.token_hex(16)}-query")


def _filled(mark: Markup) -> str:
    if mark is Marks.csrf:
        return generate_csrf()
    if mark is Marks.path:
        return str(escape(request.full_path))
    return str(escape(request.query_string.decode()))


_FRAGMENTS: dict[tuple, tuple[str, tuple[Markup, ...]]] = {}
FRAGMENTS_KEPT = 1_000


def fragment_keeper():
    """The templates' ``kept``, for one rendering: ``{% call(marks) kept("name", key...) %}…{% endcall %}``
    renders the block once per process for its name, its key, the rendering's language and where the request
    came in (host, script root, subdomain: its addresses), and gives the same HTML afterwards, with the
    request's :class:`Marks` filled in. A page frame's unchanging parts (the navigation, the queue's filters
    and saved views: some hundred translations, thirty ``current_user`` lookups and fifty addresses a page)
    are then made once per user, role and language instead of on every request (issue 15, item 3). The key must
    name everything the block shows besides the marks; ``KEEP_FRAGMENTS = False`` renders every block each
    time (the tests compare both). A key that cannot be hashed renders the block each time; the store is emptied
    when it grows past a thousand fragments (a search term is part of the queue's key, and the part of the queue
    above its rows is some 10 KB: at most about 10 MB a process)."""
    adapter = request_ctx.url_adapter if has_request_context() else None
    if adapter is None or not current_app.config.get("KEEP_FRAGMENTS", True):
        where = None
    else:
        where = (str(get_locale()), adapter.map, adapter.server_name, adapter.script_name, adapter.subdomain,
                 adapter.url_scheme)

    def kept(name: str, *key, caller) -> Markup:
        if where is None:
            html, marks = _render(caller)
        else:
            try:
                html, marks = _FRAGMENTS[name, where, *key]
            except KeyError:
                if len(_FRAGMENTS) >= FRAGMENTS_KEPT:
                    _FRAGMENTS.clear()
                html, marks = _FRAGMENTS[name, where, *key] = _render(caller)
            except TypeError:  # a key that is not hashable
                html, marks = _render(caller)
        for mark in marks:
            html = html.replace(mark, _filled(mark))
        return Markup(html)

    return kept


def _render(caller) -> tuple[str, tuple[Markup, ...]]:
    html = str(caller(Marks))  # a str: Markup's replace would escape what fills the marks
    return html, tuple(mark for mark in (Marks.csrf, Marks.path, Marks.query) if mark in html)


_URLS: dict[tuple, str] = {}


def request_origin(adapter) -> tuple:
    """Where a request came in, as far as an address built for it depends on it: the URL adapter's map, host,
    script root, subdomain and scheme (a key for what is kept per process and built with ``url_for``)."""
    return adapter.map, adapter.server_name, adapter.script_name, adapter.subdomain, adapter.url_scheme


def kept_url_for(endpoint: str, **values) -> str:
    """The templates' ``url_for``, each address built once per process: a queue page builds some 70 (the
    frame's links and assets, six sort links, the pages), each through Flask's and Werkzeug's URL building
    with the request's adapter (issue 15, item 3). An address depends on the endpoint, its values and where
    the request came in (host, script root, subdomain), which are the key; the app registers no
    ``url_defaults``. A relative endpoint, an external address or a value that cannot be a key is built as
    before; the memo is emptied when it grows past a few thousand (a search term is part of a sort link)."""
    adapter = request_ctx.url_adapter if has_request_context() else None
    if adapter is None or endpoint[:1] == "." or "_external" in values or "_scheme" in values:
        return url_for(endpoint, **values)
    try:
        key = (*request_origin(adapter), endpoint,
               *[(k, v.__class__, v) for k, v in values.items()])  # in their order: the query string's follows it
        return _URLS[key]
    except KeyError:
        if len(_URLS) > 5_000:
            _URLS.clear()
        url = _URLS[key] = url_for(endpoint, **values)
        return url
    except TypeError:  # a value that is not hashable
        return url_for(endpoint, **values)


@lru_cache(maxsize=16)
def _wtforms_catalogue(locale: str):
    from babel import support
    from wtforms.i18n import messages_path

    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class WtformsTranslations:
    """WTForms' own messages ("Not a valid date value.") in the request's language. Flask-WTF reads their
    catalogue from disk again for every request that validates a form (five stat calls and a parse: issue 15,
    item 3); this one keeps each language's, and asks the locale at each message, so ``force_locale`` holds."""

    def ugettext(self, string: str) -> str:
        return _wtforms_catalogue(str(get_locale() or "en")).ugettext(string)

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return _wtforms_catalogue(str(get_locale() or "en")).ungettext(singular, plural, n)


WTFORMS_TRANSLATIONS = WtformsTranslations()


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed session cookie, with its signing serializer made once per secret key (and fallback keys),
    not twice a request: making one serializes an empty session to see whether the serializer gives text,
    some 40 Python calls, and every request opens the session, an API request with no cookie too (issue 15,
    item 3). The serializer keeps nothing of a request, so one serves every request and thread."""

    def __init__(self):
        self._kept: dict = {}

    def get_signing_serializer(self, app: Flask):
        fallbacks = app.config["SECRET_KEY_FALLBACKS"]
        key = (app.secret_key, tuple(fallbacks) if fallbacks else ())
        serializer = self._kept.get(key)
        if serializer is None:
            serializer = super().get_signing_serializer(app)
            if serializer is not None:
                if len(self._kept) >= 8:  # keys come and go only in tests
                    self._kept.clear()
                self._kept[key] = serializer
        return serializer


def warm_up(app: Flask, *, today: date) -> float:
    """Do once, when a web worker starts, what it would otherwise do in the middle of its first requests;
    returns the seconds it took. gunicorn calls it (``gunicorn.conf.py``, ``post_worker_init``) before the
    worker takes a request: every page template of ``templates/`` compiled, the interface's translations
    (Flask-Babel's and WTForms') and locale data of each language loaded, and the working-day calendar's
    holidays of last, this and next year computed, and a first connection to the database opened into the
    pool (SQLAlchemy sets its dialect up at the first). A worker's first queue page took 0.5-0.8 s without
    it (the templates 0.4 s, the holidays package's import 0.25 s, the first connection 0.15 s) against
    10 ms after, and with several workers each one's first page of each kind fell to whichever person asked
    it first (issue 15, item 3). Nothing is read from the database, and a worker that cannot reach it still
    starts (its first request connects, or shows the error). Called in an app context."""
    from dsr.domain.calendar_nl import _statutory_holidays
    from dsr.extensions import db

    started = time.perf_counter()
    for name in app.jinja_loader.list_templates():  # the app's own templates, not its extensions'
        if name.endswith(".html"):
            app.jinja_env.get_template(name)
    with app.test_request_context():
        for locale in UI_LOCALES.values():
            with force_locale(locale):
                get_translations()
                _wtforms_catalogue(str(get_locale()))
                format_day(today)
    for year in range(today.year - 1, today.year + 2):
        _statutory_holidays(year)
    try:
        db.engine.connect().close()  # back into the pool, open
    except sa.exc.OperationalError as exc:
        app.logger.warning("dsr: could not reach the database while warming up: %s", exc.orig)
    return time.perf_counter() - started


def register(app: Flask) -> None:
    app.session_interface = SessionCookies()
    app.jinja_env.template_class = UnlinkedTemplate  # before the first template is loaded
    install_gettext(app)
    if not app.url_default_functions:  # an address would then depend on more than its key
        app.jinja_env.globals["url_for"] = kept_url_for
    app.context_processor(render_gettext)

    @app.before_request
    def _wtforms_translations():
        # Flask-WTF takes a request's WTForms translations from here when present (flask_wtf.i18n).
        request.wtforms_translations = WTFORMS_TRANSLATIONS

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = exc.code or 500
        if request.path.startswith("/api/"):
            response = api_error(code, exc.description or exc.name)
            if getattr(exc, "valid_methods", None):  # a 405 must say what is allowed (RFC 9110 15.5.6)
                response.headers["Allow"] = ", ".join(exc.valid_methods)
            return response
        messages = {
            400: _("The request could not be understood."),
            403: _("Your role does not allow this. Ask a privacy manager if you need it."),
            404: _("There is nothing at this address."),
            410: _("This file is no longer stored."),
            413: _("The upload is too large: a scan may be at most 10 MB. Nothing was saved."),
        }
        return render_template("errors/error.html", code=code,
                               message=messages.get(code, exc.description)), code

    @app.errorhandler(StorageFailed)
    def _storage_failed(exc: StorageFailed):
        """A file could not be written (a full disk): the request's transaction is undone, which also
        removes the files it had written; the person is told, and nothing is half-saved."""
        from dsr.extensions import db

        db.session.rollback()
        app.logger.error("storage failed on %s %s: errno %s", request.method, request.path, exc.errno)
        if request.path.startswith("/api/"):
            return api_error(507, str(exc))
        return render_template("errors/error.html", code=507, message=str(exc)), 507

    @app.errorhandler(OverflowError)
    @app.errorhandler(sa.exc.DataError)
    def _unstorable(exc):
        """The database refused a value (out of range, too long): the safety net behind dsr/input_guard.py,
        a 400 and a rolled-back transaction rather than a 500."""
        from dsr.extensions import db

        db.session.rollback()
        app.logger.warning("unstorable value on %s %s: %s", request.method, request.path, type(exc).__name__)
        message = "A value could not be stored: a number is out of range or a text is too long. Nothing was saved."
        if request.path.startswith("/api/"):
            return api_error(400, message, errors={"body": [message]})
        return render_template("errors/error.html", code=400, message=message), 400

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):
        message = _("The form has expired or did not come from this site. Reload the page and try again; "
                    "nothing was saved.")
        return render_template("errors/error.html", code=400, message=message), 400

    # One format per kind for dates and moments on every page (dsr.timeutil); Flask-Babel's own
    # datetimeformat and dateformat filters are replaced, so that no page can show "05/01/2027".
    app.add_template_filter(format_day, "day")
    app.add_template_filter(format_moment, "moment")
    app.add_template_filter(lambda value, _format=None: format_day(value), "dateformat")
    app.add_template_filter(lambda value, _format=None: format_moment(value), "datetimeformat")

    @app.template_filter("article")
    def _article(reference: str | None) -> str:
        """An article reference in the interface's language: "GDPR Art. 17(3)(b)" reads "AVG art. 17(3)(b)"
        on a Dutch page and "RGPD art. 17(3)(b)" on a French one."""
        from dsr.domain.retention_rules import localise_article

        return localise_article(reference or "", interface_language())

    @app.template_filter("audit_fields")
    def _audit_fields(values) -> str:
        """An audit event's before/after as "key: value; ...", for reading (Jinja escapes the result)."""
        if not values:
            return ""
        import json

        return "; ".join(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in values.items())

    @app.template_filter("action_label")
    def _action_label(action: str) -> str:
        from dsr.audit.labels import action_label

        return action_label(action)

    @app.template_filter("country_name")
    def _country_name(code: str | None) -> str:
        from babel import Locale
        from flask_babel import get_locale

        if not code:
            return ""
        return Locale.parse(str(get_locale() or "en")).territories.get(code, code)

    @app.template_filter("day_reason")
    def _day_reason(reason: str | None) -> str:
        """Why a day is not a working day, in the interface's language ("Sunday; King's Day" -> "zondag; ...").

        The calendar (dsr.domain.calendar_nl) names weekdays and Atw holidays in English; a declared day's own
        name (from the decree) is shown as recorded."""
        from flask_babel import lazy_gettext as _l

        names = {"Saturday": _l("Saturday"), "Sunday": _l("Sunday"), "New Year's Day": _l("New Year's Day"),
                 "Liberation Day": _l("Liberation Day"), "Christmas Day": _l("Christmas Day"),
                 "Boxing Day": _l("Boxing Day"), "Good Friday": _l("Good Friday"),
                 "Easter Monday": _l("Easter Monday"), "Ascension Day": _l("Ascension Day"),
                 "Whit Monday": _l("Whit Monday"), "King's Day": _l("King's Day"), "Queen's Day": _l("Queen's Day"),
                 "Day declared equal to a public holiday": _l("Day declared equal to a public holiday")}
        if not reason:
            return ""
        return "; ".join(str(names.get(part.strip(), part.strip())) for part in str(reason).split(";"))

    @app.template_filter("identity_label")
    def _identity_label(identity: str, labels: dict) -> str:
        return str(labels.get(identity, identity))

    @app.template_filter("reject_page")
    def _reject_page(args: dict) -> dict:
        return {k: v for k, v in args.items() if k != "page"}

    @app.template_filter("plural_days")
    def _plural_days(n: int) -> str:
        # The request's translations as found once (Flask-Babel's ngettext finds them again on every call).
        ngettext = translations().ungettext
        return ngettext("%(num)d day", "%(num)d days", abs(n)) % {"num": abs(n)}
