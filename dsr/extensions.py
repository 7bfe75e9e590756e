"""Flask extensions, created unbound here and initialised in :func:`dsr.create_app`."""

from __future__ import annotations

import json
import select
import time
import weakref
from collections.abc import Iterable
from datetime import UTC, datetime
from itertools import chain, islice
from operator import itemgetter
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, g
from flask.cli import with_appcontext
from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase

# Explicit constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware UTC timestamp on every backend (SQLite drops the offset; we put it back)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC one is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _array_literal(values) -> str | None:
    return None if values is None else "{" + ",".join(
        "NULL" if value is None else '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
        for value in values) + "}"


class ArrayParameter(sa.types.TypeDecorator):
    """A PostgreSQL array parameter (``%(name)s::VARCHAR[]``, as :class:`~sqlalchemy.dialects.postgresql.ARRAY`
    renders it) sent as its text literal, every element quoted and escaped: ``{"a","b \\"c\\"",NULL}``. The
    server parses the same text as from psycopg's own dumping of a list, which costs some 15 Python calls a
    list and one more per double quote in an element: Python 3.11 expands its regular expression's
    replacement in Python, and an audit payload's JSON text has some 30 quotes. A case's creation through the
    API sends 16 lists (its events, their payloads, the subject's search keys and the rights): 0.2 ms of its
    CPU (issue 15, item 3). For lists of strings, integers, dates and timestamps (their ``str()`` is what the
    server reads), not nested."""

    impl = ARRAY
    cache_ok = True

    def __init__(self, item_type):
        super().__init__(item_type)
        # Part of the type's cache key (an array of integers must not be compiled as one of strings).
        self.item_type = sa.types.to_instance(item_type)

    def bind_processor(self, dialect):
        if dialect.name != "postgresql":
            return super().bind_processor(dialect)
        return _array_literal


def enum_column_type(enum_cls, name: str) -> sa.Enum:
    """Store a Python enum by value in a VARCHAR with a named CHECK constraint (portable, readable)."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )


db = SQLAlchemy(model_class=Base)


def read(statement, params: dict | None = None) -> sa.Result:
    """The rows of ``statement``, a SELECT of plain columns (not of mapped objects), as ``db.session.execute``
    gives them, run on the session's connection itself: the ORM's layers around an execution (its events,
    compile state and result set-up) cost a page of the queue more Python than its five small statements'
    rows (issue 15, item 3). When the session holds changes not yet flushed, ``db.session.execute`` runs it,
    so it flushes them first as ever.

    On PostgreSQL (psycopg) a statement object read a third time runs by its :class:`_Plan`: what
    ``Connection.execute`` computes again on every call for the same statement (its cache key, the execution
    context, psycopg's column descriptions for the result's metadata) is kept from the second, and only the
    parameters are made and the rows fetched; the result is SQLAlchemy's own, with the same rows. Anything a
    plan cannot do exactly as ``Connection.execute`` (another dialect, execution options, an expanding or
    literal parameter, logging of statements, statement-level event listeners) runs as before."""
    session = db.session
    if session.new or session.dirty or session.deleted:
        return session.execute(statement, params)
    connection = session.connection()
    dialect = connection.dialect
    try:
        kept = _PLANS.get(statement)
    except TypeError:  # not weakly referable: nothing kept
        return connection.execute(statement, params)
    if kept.__class__ is _Plan and kept.dialect is dialect:
        if kept.sql is not None and (params is None or params.__class__ is dict) and kept.runs_on(connection):
            return kept.result(kept.fetch(connection, params))
        return connection.execute(statement, params)
    result = connection.execute(statement, params)
    # Seen once (the dialect kept as the mark), then planned.
    _PLANS[statement] = plan_of(statement, connection, params, result) if kept is dialect else dialect
    return result


# The plans of the statements read() has run, while each statement lives: most are made once per process
# (module constants, functools.cache). A statement read once (made for one request) is only marked as seen:
# its plan would cost what it saves.
_PLANS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# The execution options a plan runs under: the isolation level (the reads of a GET request run in
# AUTOCOMMIT, dsr/api/auth.py, dsr/auth/views.py) is the connection's, set when it is given; no step of an
# execution reads it.
_PLAIN_OPTIONS = frozenset({"isolation_level"})


class _Plan:
    """How one statement object runs on one dialect as ``Connection.execute`` runs it, each step taken from
    SQLAlchemy: the compiled statement it uses (from the engine's compiled cache, with this statement's
    extracted and collected parameters, which do not change: statements are immutable), the parameters by
    :meth:`~sqlalchemy.sql.compiler.SQLCompiler.construct_params` and the compiled statement's bind processors
    as ``DefaultExecutionContext._init_compiled`` applies them, the statement sent by
    ``Connection._cursor_execute`` (the cursor events, the dialect's ``do_execute`` and its errors turned into
    SQLAlchemy's as for any statement), and the rows made by an :class:`~sqlalchemy.engine.IteratorResult` on
    the result metadata the second execution had (its column keys and result processors: what SQLAlchemy
    itself keeps on the compiled statement and uses for every later execution). ``sql`` is None for a
    statement the plan cannot run: it runs as before."""

    __slots__ = ("dialect", "sql", "construct", "extracted", "collected", "processors", "metadata")

    def __init__(self, dialect, compiled=None, extracted=None, collected=None, metadata=None) -> None:
        self.dialect, self.sql = dialect, None
        if compiled is not None:
            self.sql = compiled.string
            self.construct = compiled.construct_params
            self.extracted, self.collected = extracted, collected
            self.processors = compiled._bind_processors
            self.metadata = metadata

    def runs_on(self, connection) -> bool:
        """Whether ``connection`` is as the plan was made for (checked on every call, as cheaply as can be):
        in its active transaction, no logging, no execution options but the isolation level, no statement-level or
        dialect events."""
        transaction = connection._transaction
        if (transaction is None or not transaction.is_active or connection._nested_transaction is not None
                or connection._trans_context_manager or connection._dbapi_connection is None
                or connection._echo or self.dialect._has_events):
            return False
        options = connection._execution_options
        if options and not options.keys() <= _PLAIN_OPTIONS:
            return False
        if connection._has_events or connection.engine._has_events:
            dispatch = connection.dispatch
            return not (dispatch.before_execute or dispatch.after_execute)
        return True

    def fetch(self, connection, params: dict | None, *, events: bool = True) -> list[tuple]:
        """The rows (psycopg's tuples) of one execution. ``events=False`` (tests only: a second run of
        the same statement) sends it without the cursor events."""
        values = self.construct(params, extracted_parameters=self.extracted, escape_names=False,
                                _collected_params=self.collected)
        processors = self.processors
        parameters = {key: processors[key](value) if key in processors else value for key, value in values.items()}
        try:
            cursor = connection._dbapi_connection.cursor()
        except BaseException as exc:
            connection._handle_dbapi_exception(exc, self.sql, parameters, None, None)
        if events:
            connection._cursor_execute(cursor, self.sql, parameters)
        else:
            try:
                connection.dialect.do_execute(cursor, self.sql, parameters)
            except BaseException as exc:
                connection._handle_dbapi_exception(exc, self.sql, parameters, cursor, None)
        try:
            rows = cursor.fetchall()
        except BaseException as exc:
            connection._handle_dbapi_exception(exc, None, None, cursor, None)
        connection._safe_close_cursor(cursor)
        return rows

    def result(self, rows: list[tuple]) -> sa.Result:
        return sa.engine.IteratorResult(self.metadata, iter(rows))


def plan_of(statement, connection, params, result) -> _Plan:
    """The plan of ``statement`` after ``result``, its execution by ``connection.execute(statement, params)``
    (nothing of it read yet): one that runs nothing (``sql`` None) unless every step of that execution
    was one :class:`_Plan` takes exactly as it was."""
    from sqlalchemy.engine import cursor as engine_cursor
    from sqlalchemy.engine.interfaces import BindTyping, ExecuteStyle
    from sqlalchemy.sql import compiler

    dialect = connection.dialect
    never = _Plan(dialect)
    context = getattr(result, "context", None)
    compiled = getattr(context, "compiled", None)
    if (dialect.name != "postgresql" or dialect.driver != "psycopg" or type(result) is not sa.CursorResult
            or not isinstance(compiled, compiler.SQLCompiler) or not context.execution_options.keys() <= _PLAIN_OPTIONS
            or context.execute_style is not ExecuteStyle.EXECUTE
            or context._is_server_side or context.cursor_fetch_strategy is not engine_cursor._DEFAULT_FETCH
            or context.cache_hit not in (dialect.CACHE_HIT, dialect.CACHE_MISS) or context._num_sentinel_cols
            or context.is_crud or context.is_text or context.isddl or compiled.positional
            or compiled.literal_execute_params or compiled.post_compile_params or compiled.escaped_bind_names
            or compiled.schema_translate_map or compiled.insert_prefetch or compiled.update_prefetch
            or compiled.has_out_parameters or compiled._render_postcompile or compiled._collect_params
            or dialect.bind_typing is BindTyping.SETINPUTSIZES or dialect.server_side_cursors
            or result._echo or result._row_logging_fn is not None or (params is not None and type(params) is not dict)):
        return never
    metadata = result._metadata
    if (type(metadata) is not engine_cursor.CursorResultMetaData or compiled._cached_metadata is None
            or metadata._tuplefilter is not None or not metadata.returns_rows):
        return never
    same, extracted, collected, _hit = statement._compile_w_cache(
        dialect=dialect, compiled_cache=connection.engine._compiled_cache, column_keys=sorted(params or ()),
        for_executemany=False, schema_translate_map=None,
        linting=dialect.compiler_linting | compiler.WARN_LINTING)
    if same is not compiled:
        return never
    return _Plan(dialect, compiled, extracted, collected, metadata)


def insert_rows(table: sa.Table, rows: Iterable[dict], *, batch: int = 2000) -> None:
    """Insert ``rows`` (dicts with the same keys, the values as ``sa.insert(table)`` takes them) into
    ``table`` in the session's transaction, streamed: ``batch`` rows per INSERT on SQLite; one COPY on
    PostgreSQL. psycopg sends an ``executemany`` as one INSERT per row, each row's values adapted and sent
    on their own: the 200,000 references of a lookup took 6.5-8.4 s of CPU so, 1.1-1.6 s by COPY (issue 15,
    item 4). The stored rows are the same, their ids in the rows' order: the JSON columns get the text their
    own binding sends (the dialect's serializer, ``json.dumps`` by default; None as SQL NULL or as JSON
    ``null`` as the column says), every other value is adapted by psycopg as for a parameter. Column
    defaults computed in Python are not applied (a server default is), and a database error is raised as
    SQLAlchemy's (:class:`sqlalchemy.exc.IntegrityError` for a broken constraint). While COPY runs, the
    connection is busy: ``rows`` must not read the database, nor change a value it has handed over."""
    connection = db.session.connection()
    rows = iter(rows)
    if connection.dialect.name != "postgresql":
        while chunk := list(islice(rows, batch)):
            db.session.execute(sa.insert(table), chunk)  # Core: no ORM bulk step per row
        return
    first = next(rows, None)
    if first is None:
        return
    names = list(first)
    converters = [(i, convert) for i, name in enumerate(names)
                  if (convert := _copy_converter(table.c[name].type, connection.dialect)) is not None]
    values = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
    preparer = connection.dialect.identifier_preparer
    statement = (f"COPY {preparer.format_table(table)} ({', '.join(preparer.quote(name) for name in names)}) "
                 "FROM STDIN")
    dbapi = connection.dialect.loaded_dbapi
    try:
        with connection.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
            write = copy.write_row
            for row in chain((first,), rows):
                if converters:
                    row = list(values(row))
                    for i, convert in converters:
                        row[i] = convert(row[i])
                    write(row)
                else:
                    write(values(row))
    except dbapi.Error as exc:
        raise sa.exc.DBAPIError.instance(statement, None, exc, dbapi.Error) from exc


def _copy_converter(column_type, dialect):
    """What turns a value of a column of ``column_type`` into what COPY takes for it, as the column's own
    binding does; None where psycopg adapts the value as it is (text, numbers, dates, booleans). A JSON value
    becomes its text, as :meth:`sqlalchemy.types.JSON.bind_processor` makes it (psycopg's JSON wrapper
    would dump it the same, at twice the cost)."""
    if not isinstance(column_type, sa.JSON):
        return column_type._cached_bind_processor(dialect)
    serialize = dialect._json_serializer or json.dumps
    none_as_null = column_type.none_as_null
    # The value before and its text: rows in a row often share one list (a lookup's categories).
    last: list = [None, None]

    def convert(value):
        if value is None:
            return None if none_as_null else "null"
        if value is last[0]:
            return last[1]
        if value is sa.JSON.NULL:
            return "null"
        if isinstance(value, sa.sql.elements.Null):
            return None
        last[:] = value, serialize(value)
        return last[1]

    return convert


login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
bootstrap = Bootstrap5()
# Login throttling (dsr/auth/views.py): storage from RATELIMIT_STORAGE_URI (memory in the embedded default,
# Redis in production, so every process counts the same tries).
limiter = Limiter(key_func=get_remote_address)


def limits_on_routes_only(app: Flask, limiter: Limiter) -> bool:
    """Leave out the limiter's check before every request when only routes carry limits, and say whether it
    was left out. dsr's limits are on the login's routes (dsr/auth/views.py), each checked by its own
    decorator when its route runs; the check Flask-Limiter adds before every request applies the default,
    application and blueprint limits (and limits kept in memory while the storage is down), of which dsr sets
    none, so on every request it found nothing to apply, for some 60 µs of Python, the largest of the
    request's hooks (issue 15, item 3). Called once the blueprints are registered: a default, application,
    blueprint or meta limit, or a fallback kept in memory, keeps the check."""
    manager = limiter.limit_manager
    if (manager.default_limits or manager.application_limits or getattr(manager, "_blueprint_limits", True)
            or getattr(limiter, "_meta_limits", True) or getattr(limiter, "_in_memory_fallback", True)
            or getattr(limiter, "_in_memory_fallback_enabled", True)):
        return False
    hooks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit not in hooks:
        return False
    hooks.remove(limiter._check_request_limit)
    return True


_PINGED_ENGINES: weakref.WeakSet = weakref.WeakSet()
# How long a pooled connection may sit unused before its checkout asks the server whether it is still there.
PING_AFTER_IDLE_SECONDS = 5.0


def _socket_quiet(dbapi_connection) -> bool:
    """Whether nothing is waiting on the connection's socket. Between requests the server sends nothing
    unasked: a restarted or stopped server, or a backend ended by an administrator, leaves an error message
    or end-of-file there, which ``select`` sees without a round trip."""
    fileno = getattr(dbapi_connection, "fileno", None)
    if fileno is None or getattr(dbapi_connection, "closed", False):
        return False
    try:
        readable, _, _ = select.select([fileno()], [], [], 0)
    except Exception:  # noqa: BLE001  (a closed or broken connection: let the ping decide)
        return False
    return not readable


def ping_on_checkout(engine: sa.engine.Engine) -> None:
    """Check a pooled connection before it is used, as ``pool_pre_ping`` does, without its round trip on
    every request (issue 15, item 3: a busy worker made one before each of its 5 to 10 statements).

    A connection whose socket is quiet and that was last returned to the pool less than
    :data:`PING_AFTER_IDLE_SECONDS` ago is used as it is; any other (something arrived on its socket, it sat
    idle, or it has no socket, like SQLite's) is pinged as ``pool_pre_ping`` pinged every one, and a dead one
    is replaced by a new connection (``DisconnectionError`` makes the pool retry the checkout)."""

    def checkin(_dbapi_connection, record) -> None:
        record.info["dsr_checked_in"] = time.monotonic()

    def checkout(dbapi_connection, record, _proxy) -> None:
        returned = record.info.get("dsr_checked_in")
        if returned is None:  # new: just connected
            record.info["dsr_checked_in"] = time.monotonic()
            return
        if time.monotonic() - returned < PING_AFTER_IDLE_SECONDS and _socket_quiet(dbapi_connection):
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise sa.exc.DisconnectionError(str(exc)) from exc
        if not alive:
            raise sa.exc.DisconnectionError("the connection did not answer its ping")

    if engine not in _PINGED_ENGINES:
        _PINGED_ENGINES.add(engine)
        sa.event.listen(engine, "checkin", checkin)
        sa.event.listen(engine, "checkout", checkout)


# -- Flask-Migrate, set up when first used --------------------------------------------------------------------
# Flask-Migrate imports Alembic, Mako and Pygments (about 110 modules) on import: a web or worker process
# that never migrates does not need them (issue 15, item 4). ``flask db ...`` and ``flask_migrate.upgrade()``
# work as before: the first use sets Flask-Migrate up on the app.

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class _MigrateOnFirstUse:
    """Stands as ``app.extensions["migrate"]`` until Flask-Migrate reads it, then is replaced by its own."""

    def __init__(self, app) -> None:
        self.app = app

    def __getattr__(self, name: str):
        return getattr(migrations(self.app), name)


def migrations(app):
    """Flask-Migrate's configuration of ``app`` (``app.extensions["migrate"]``), set up on first use."""
    if isinstance(app.extensions.get("migrate"), _MigrateOnFirstUse):
        from flask_migrate import Migrate

        Migrate(app, db, directory=str(MIGRATIONS), render_as_batch=True, compare_type=True)
    return app.extensions["migrate"]


class _MigrationCommands(click.Group):
    """``flask db``: Flask-Migrate's commands, imported when one is asked for."""

    @staticmethod
    def _commands() -> click.Group:
        from flask_migrate.cli import db as commands

        return commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._commands().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._commands().get_command(ctx, cmd_name)


@click.group("db", cls=_MigrationCommands)
@click.option("-d", "--directory", default=None, help='Migration script directory (default is "migrations")')
@click.option("-x", "--x-arg", multiple=True, help="Additional arguments consumed by custom env.py scripts")
@with_appcontext
def _db_commands(directory, x_arg) -> None:
    """Perform database migrations (Flask-Migrate)."""
    g.directory = directory  # as Flask-Migrate's own group: its commands read them
    g.x_arg = x_arg


def init_migrations(app) -> None:
    app.extensions["migrate"] = _MigrateOnFirstUse(app)
    app.cli.add_command(_db_commands)
