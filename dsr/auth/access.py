"""Who may do what. Views declare the roles they admit; everything else is refused with 403."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from dsr.auth.roles import MANAGERS, READERS, WRITERS
from dsr.domain.enums import Role

__all__ = ["MANAGERS", "READERS", "WRITERS", "reads_only", "roles_required"]  # the role sets live in dsr.auth.roles


def reads_only(view: Callable) -> Callable:
    """The page only reads when it is asked for with GET or HEAD: its statements, the login's included, then run
    without a transaction around them (:func:`dsr.auth.views._session_housekeeping`), as the API's ``one_read``
    reads do: no BEGIN and ROLLBACK round trips, some 1.3 ms of a queue page's 7.5 (issue 15, item 3). Its reads
    see what they would see in a transaction: at READ COMMITTED every statement takes its own snapshot anyway.
    Never for a view that writes on GET."""
    view.reads_only = True
    return view


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
