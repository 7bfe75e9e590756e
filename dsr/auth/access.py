"""Who may do what. Views declare the roles they admit; everything else is refused with 403."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from dsr.auth.roles import MANAGERS, READERS, WRITERS
from dsr.domain.enums import Role

__all__ = ["MANAGERS", "READERS", "WRITERS", "roles_required"]  # the role sets live in dsr.auth.roles


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
