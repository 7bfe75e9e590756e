"""``POST /api/v1/suppression/check``: Harmony's marketing system asks which addresses it may not mail.

Body: ``{"emails": [...], "customer_numbers": [...], "phones": [...]}`` (any of the three, at most
:data:`MAX_VALUES` values in all). Answer 200: ``{"suppressed": {"emails": [...], ...}, "invalid": {...},
"checked": n}``: the values *as sent* that are on the list (or cannot be an identifier of their kind), in
the order sent. Each value is normalised and hashed exactly as the list was built
(:mod:`dsr.suppression.identifiers`), so ``" Zoe@Example.NL"`` finds ``zoe@example.nl``. The list itself is
never returned.

Any valid bearer token may check (a check changes nothing); 400 names the field that is wrong; 503 when
entries were made with another ``SUPPRESSION_SALT`` (a check would silently miss them).
"""

from __future__ import annotations

from flask import Blueprint, request
from werkzeug.exceptions import HTTPException

from dsr.api.auth import api_error, token_required
from dsr.auth.access import READERS
from dsr.suppression.identifiers import IdentifierKind
from dsr.suppression.operations import SaltChanged, check_values

bp = Blueprint("suppression_api", __name__, url_prefix="/api/v1/suppression")

MAX_VALUES = 1000
FIELDS = {"emails": IdentifierKind.EMAIL, "customer_numbers": IdentifierKind.CUSTOMER_NUMBER,
          "phones": IdentifierKind.PHONE}


@bp.post("/check")
@token_required(*READERS)
def check():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return api_error(400, "The body must be a JSON object.", errors={"body": ["Not a JSON object."]})
    errors: dict[str, list[str]] = {key: ["Unknown field."] for key in sorted(set(body) - set(FIELDS))}
    values: dict[IdentifierKind, list[str]] = {}
    for key, kind in FIELDS.items():
        given = body.get(key, [])
        if not isinstance(given, list) or not all(isinstance(v, str) for v in given):
            errors[key] = [f"{key} is a list of strings."]
        else:
            values[kind] = given
    if not errors and not any(values.values()):
        errors["body"] = [f"Give at least one value in {', '.join(FIELDS)}."]
    if not errors and sum(len(v) for v in values.values()) > MAX_VALUES:
        errors["body"] = [f"At most {MAX_VALUES} values per request; split the list."]
    if errors:
        return api_error(400, "The request is not valid.", errors=errors)
    try:
        suppressed, invalid = check_values(values)
    except SaltChanged as exc:
        return api_error(503, str(exc))
    names = {kind: key for key, kind in FIELDS.items()}
    return {
        "suppressed": {names[k]: v for k, v in suppressed.items()},
        "invalid": {names[k]: v for k, v in invalid.items()},
        "checked": sum(len(v) for v in values.values()),
    }


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return api_error(exc.code or 500, exc.description or exc.name)
