"""Bearer-token authentication for the API. A missing or bad token is 401, a role that may not is 403."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import g, jsonify, request

from dsr.auth.operations import user_for_token
from dsr.domain.enums import Role
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
            user = user_for_token(token.strip(), now=now())
            if user is None:
                return api_error(401, "The bearer token is not valid.")
            if user.role not in roles:
                return api_error(403, "Your role may not do this.", role=user.role.value)
            g.api_user = user
            return view(*args, **kwargs)

        return wrapped

    return decorator
