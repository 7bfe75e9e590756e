"""Bearer-token authentication for the API. A missing or bad token is 401, a role that may not is 403."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import g, jsonify, request

from dsr.auth.operations import token_for_secret
from dsr.domain.enums import Role
from dsr.extensions import db
from dsr.timeutil import now


def api_error(status: int, message: str, **extra):
    response = jsonify({"error": message, **extra})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="dsr"'
    return response


def token_required(*roles: Role) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return api_error(401, "A bearer token is required (Authorization: Bearer <token>).")
            row = token_for_secret(token.strip(), now=now())
            if row is None:
                return api_error(401, "The bearer token is not valid (unknown, expired or revoked).")
            if db.session.is_modified(row):  # its last use (to the minute), before the view's own transaction
                db.session.commit()
            user = row.user
            if user.role not in roles:
                return api_error(403, "Your role may not do this.", role=user.role.value)
            # A read-only token may do what an auditor may: read. Whatever only writers may do is refused.
            if row.read_only and Role.AUDITOR not in roles:
                return api_error(403, "This token is read-only.")
            g.api_user = user
            g.api_token = row
            return view(*args, **kwargs)

        return wrapped

    return decorator
