"""Bearer-token authentication for the API. A missing or bad token is 401, a role that may not is 403."""

from __future__ import annotations

import functools
from collections.abc import Callable
from functools import wraps

from flask import g, jsonify, request

from dsr.auth.models import User
from dsr.auth.operations import Actor, token_for_secret
from dsr.domain.enums import Role
from dsr.extensions import db
from dsr.timeutil import now


def api_error(status: int, message: str, **extra):
    response = jsonify({"error": message, **extra})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="dsr"'
    return response


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
NO_TRANSACTION = {"isolation_level": "AUTOCOMMIT"}

# What every API request reads anyway, read in the token's statement: (columns, receive) pairs registered
# by the packages that need them (the platform imports none of them). ``columns(dialect name)`` gives scalar
# sub-queries, made once per dialect (an empty tuple: read apart as before); ``receive`` gets their values,
# once the token is found usable.
_WITH_TOKEN: list[tuple[Callable[[str], tuple], Callable[..., None]]] = []


def read_with_the_token(columns: Callable[[str], tuple], receive: Callable[..., None]) -> None:
    """Have every API request's token statement also read ``columns(dialect)``, handed to ``receive(*values)``."""
    _WITH_TOKEN.append((columns, receive))
    _also.cache_clear()


@functools.cache
def _also(dialect: str) -> tuple[tuple, tuple]:
    """The columns every registration asks for on this dialect, and how many each."""
    made = [columns(dialect) for columns, _ in _WITH_TOKEN]
    return tuple(c for cols in made for c in cols), tuple(len(cols) for cols in made)


def _hand_on(values: tuple, counts: tuple) -> None:
    start = 0
    for (_, receive), n in zip(_WITH_TOKEN, counts, strict=True):
        if n:
            receive(*values[start:start + n])
        start += n


def api_user() -> User:
    """The request's token's user, read when a view first asks (a read needs only :data:`g.api_user_id`)."""
    user = g.get("api_user")
    if user is None:
        user = g.api_user = db.session.get(User, g.api_user_id)
    return user


def api_actor() -> Actor:
    """Who the request's writes name as their actor, for a view of ``token_required(..., actor_only=True)``:
    the token's user as read with the token."""
    return g.api_actor


def token_required(*roles: Role, one_read: bool = False, actor_only: bool = False) -> Callable:
    """The view needs a bearer token of one of ``roles``. ``one_read``: on a GET the view only reads (a case,
    a page of cases), so its statements (and the token's) run without a transaction around them: no BEGIN and
    ROLLBACK round trips to the database, two of the five a case by reference cost. Its reads see what they
    would see in a transaction (at READ COMMITTED every statement takes its own snapshot anyway). Never for
    a view that writes: an audit event and the chain's head must be one transaction.

    ``actor_only``: the view writes but needs of its user only what :func:`api_actor` gives (the id and the
    e-mail address), read as plain columns with the token instead of as an object in the session."""
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            # (Unless the request's session is already in a transaction, as when a test shares its own.)
            outside = one_read and request.method in SAFE_METHODS and not db.session().in_transaction()
            if outside:
                db.session.connection(execution_options=NO_TRANSACTION)
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return api_error(401, "A bearer token is required (Authorization: Bearer <token>).")
            # A write's actor is the token's user, read in the same statement; a read needs its id only.
            also, counts = _also(db.session.get_bind().dialect.name)
            with_user = request.method not in SAFE_METHODS and not actor_only
            use = token_for_secret(token.strip(), now=now(), with_user=with_user, also=also)
            if use is None:
                return api_error(401, "The bearer token is not valid (unknown, expired or revoked).")
            if use.touched:  # its last use (to the minute), before the view's own transaction
                db.session.commit()
                if outside:  # the commit gave the connection back
                    db.session.connection(execution_options=NO_TRANSACTION)
            if use.role not in roles:
                return api_error(403, "Your role may not do this.", role=use.role.value)
            # A read-only token may do what an auditor may: read. Whatever only writers may do is refused.
            if use.read_only and Role.AUDITOR not in roles:
                return api_error(403, "This token is read-only.")
            _hand_on(use.also, counts)
            g.api_user_id = use.user_id
            if use.user is not None:
                g.api_user = use.user
            elif actor_only:
                g.api_actor = Actor(use.user_id, use.email)
            return view(*args, **kwargs)

        return wrapped

    return decorator
