"""API v1: log requests and read cases with the same rules and roles as the web pages."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, g, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from dsr.api.auth import api_error, token_required
from dsr.auth.access import READERS, WRITERS
from dsr.cases.deadlines import case_clock, working_calendar
from dsr.cases.forms import IntakeForm
from dsr.cases.models import Case
from dsr.cases.operations import CaseError, log_request
from dsr.cases.queries import FilterError, QueueFilters, queue_query
from dsr.cases.serialize import case_json
from dsr.domain.enums import Channel, Language, Right
from dsr.extensions import db
from dsr.timeutil import now, today

bp = Blueprint("api", __name__, url_prefix="/api/v1")

TOP_FIELDS = {"rights", "channel", "received_on", "language", "notes", "subject"}
SUBJECT_FIELDS = {"name", "email", "date_of_birth", "address", "postcode", "city", "country", "phone",
                  "customer_number", "policy_number", "device_id"}
FORM_TO_JSON = {name: f"subject.{name}" for name in SUBJECT_FIELDS}


def _json_case(case: Case) -> dict:
    clock = case_clock(case, working_calendar(), today(), soon_days=current_app.config["DUE_SOON_DAYS"])
    return case_json(case, clock)


def _form_data(body: dict) -> tuple[MultiDict, dict[str, list[str]]]:
    """Flatten the JSON body into form data for :class:`IntakeForm`; report shape errors per field."""
    errors: dict[str, list[str]] = {}
    for key in sorted(set(body) - TOP_FIELDS):
        errors[key] = ["Unknown field."]
    data = MultiDict()
    rights = body.get("rights", [])
    if not isinstance(rights, list) or not all(isinstance(r, str) for r in rights):
        errors["rights"] = ["rights is a list of strings."]
    else:
        for r in rights:
            data.add("rights", r)
    for key in ("channel", "received_on", "language", "notes"):
        value = body.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            errors[key] = ["Must be a string."]
        else:
            data[key] = value
    subject = body.get("subject")
    if not isinstance(subject, dict):
        errors["subject"] = ["subject is an object with at least a name."]
        subject = {}
    for key in sorted(set(subject) - SUBJECT_FIELDS):
        errors[f"subject.{key}"] = ["Unknown field."]
    for key in SUBJECT_FIELDS:
        value = subject.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            errors[f"subject.{key}"] = ["Must be a string."]
        else:
            data[key] = value
    if "received_on" not in data:
        data["received_on"] = today().isoformat()
    data.setdefault("channel", "web")
    data.setdefault("language", "nl")
    data.setdefault("country", "NL")
    return data, errors


def _invalid_choice_message(field) -> list[str]:
    allowed = ", ".join(str(v) for v, _ in field.choices if v)
    return [f"Not one of: {allowed}."]


@bp.post("/cases")
@token_required(*WRITERS)
def create_case():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return api_error(400, "The body must be a JSON object.", errors={"body": ["Not a JSON object."]})
    data, errors = _form_data(body)
    form = IntakeForm(formdata=data, meta={"csrf": False})
    if not form.validate() or errors:
        for name, messages in form.errors.items():
            if name in ("scan", "link_subject", "submit"):
                continue
            key = FORM_TO_JSON.get(name, name)
            field = getattr(form, name)
            if any("Not a valid choice" in str(m) or "not a valid choice" in str(m) for m in messages):
                messages = _invalid_choice_message(field)
            errors.setdefault(key, []).extend(str(m) for m in messages)
    if errors:
        return api_error(400, "The request is not valid.", errors=errors)
    try:
        case = log_request(
            subject=form.subject_details(),
            rights=[Right(r) for r in form.rights.data],
            channel=Channel(form.channel.data),
            received_on=form.received_on.data,
            language=Language(form.language.data),
            notes=form.notes.data or "",
            actor=g.api_user,
            now=now(),
            today=today(),
        )
        db.session.commit()
    except CaseError as exc:
        db.session.rollback()
        return api_error(400, str(exc), errors={"request": [str(exc)]})
    return _json_case(case), 201, {"Location": f"/api/v1/cases/{case.reference}"}


@bp.get("/cases/<reference>")
@token_required(*READERS)
def get_case(reference: str):
    case = db.session.execute(sa.select(Case).where(Case.reference == reference)).scalar_one_or_none()
    if case is None:
        return api_error(404, f"No case with reference {reference}.")
    return _json_case(case)


@bp.get("/cases")
@token_required(*READERS)
def list_cases():
    try:
        filters = QueueFilters.from_args(request.args, current_user_id=g.api_user.id)
    except FilterError as exc:
        return api_error(400, exc.message, errors={exc.field: [exc.message]})
    try:
        per_page = min(max(int(request.args.get("per_page", 50)), 1), 200)
        page_no = max(int(request.args.get("page", 1)), 1)
    except ValueError:
        return api_error(400, "page and per_page are whole numbers.")
    page = db.paginate(queue_query(filters, today()), page=page_no, per_page=per_page, error_out=False)
    return {
        "cases": [_json_case(c) for c in page.items],
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
        "pages": page.pages,
    }


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return api_error(exc.code or 500, exc.description or exc.name)
