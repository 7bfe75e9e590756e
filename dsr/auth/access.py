"""Who may do what. Views declare the roles they admit; everything else is refused with 403."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, current_app, request
from flask_login import current_user, login_required

from dsr.auth.roles import MANAGERS, READERS, WRITERS
from dsr.domain.enums import Role

__all__ = ["MANAGERS", "READERS", "WRITERS", "only_reads", "reads_only", "roles_required"]  # the role sets live in dsr.auth.roles


def reads_only(view: Callable) -> Callable:
    """The page only reads when it is asked for with GET or HEAD: its statements, the login's included, then run
    without a transaction around them (:func:`dsr.auth.views._session_housekeeping`), as the API's ``one_read``
    reads do: no BEGIN and ROLLBACK round trips, some 1.3 ms of a queue page's 7.5 (issue 15, item 3). Its reads
    see what they would see in a transaction: at READ COMMITTED every statement takes its own snapshot anyway.
    Its session and user are read as plain columns (:func:`dsr.auth.sessions.read_session`): ``current_user``
    is then a detached :class:`~dsr.auth.models.User`, whose columns read as ever and whose relationships raise.
    Never for a view that writes on GET."""
    view.reads_only = True
    return view


def only_reads() -> bool:
    """The current request is a GET or HEAD of a view marked :func:`reads_only`."""
    return request.method in ("GET", "HEAD") and getattr(
        current_app.view_functions.get(request.endpoint), "reads_only", False)


def roles_required(*roles: Role) -> Callable:
    """Login first (anonymous users are sent to the login page), then the role check (403)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return login_required(wrapped)

    return decorator
