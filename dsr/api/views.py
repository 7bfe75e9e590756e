"""API v1: log requests and read cases with the same rules and roles as the web pages."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, g, request
from flask.json.provider import DefaultJSONProvider
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from dsr.api.auth import api_actor, api_error, api_user, token_required
from dsr.api.memo import case_text, compact
from dsr.api.rows import api_case, api_page
from dsr.auth.access import READERS, WRITERS
from dsr.auth.models import User
from dsr.auth.operations import find_user
from dsr.automated.operations import record_request, record_review
from dsr.cases import lifecycle, timing
from dsr.cases.deadlines import case_clock, extension_rule, working_calendar
from dsr.cases.errors import CaseError, InvalidInput, NotAllowed
from dsr.cases.forms import api_intake_form
from dsr.cases.models import Case
from dsr.cases.operations import log_request
from dsr.cases.queries import FilterError, QueueFilters, case_by_reference
from dsr.cases.serialize import case_json
from dsr.domain.enums import RefusalGround, VerificationMethod, VerificationOutcome
from dsr.extensions import db
from dsr.identity.operations import record_verification
from dsr.texts.models import TEXT_LANGUAGES, TextPurpose
from dsr.texts.operations import save_text
from dsr.timeutil import now, today

bp = Blueprint("api", __name__, url_prefix="/api/v1")

TOP_FIELDS = {"rights", "channel", "received_on", "language", "notes", "subject"}
SUBJECT_FIELDS = {"name", "title", "email", "date_of_birth", "address", "postcode", "city", "country", "phone",
                  "customer_number", "policy_number", "device_id"}
FORM_TO_JSON = {name: f"subject.{name}" for name in SUBJECT_FIELDS}


def _json_cases(cases: list[Case]) -> list[dict]:
    """The cases' JSON, each with its clock on today's date (the day, the calendar and the settings read once)."""
    calendar, day, config = working_calendar(), today(), current_app.config
    soon, ask = config["DUE_SOON_DAYS"], config["PAUSE_ASK_WORKING_DAYS"]
    return [case_json(case, case_clock(case, calendar, day, soon_days=soon, ask_working_days=ask)) for case in cases]


def _json_case(case: Case) -> dict:
    return _json_cases([case])[0]


def _kept_texts(cases: list) -> str | None:
    """The compact JSON texts of :class:`~dsr.api.rows.ApiCase` items joined by commas, each kept by what it
    was made from (dsr.api.memo): with them a response is written byte for byte as Flask's JSON response of
    the same dicts (tests/web/test_api_rows.py compares the two). ``None`` when Flask would indent (a debug
    app) or another JSON provider writes the responses."""
    provider = current_app.json
    if not isinstance(provider, DefaultJSONProvider) or provider.mimetype != "application/json" or (
            provider.compact is None and current_app.debug) or provider.compact is False:
        return None
    calendar, day, config = working_calendar(), today(), current_app.config
    soon, ask, rule = config["DUE_SOON_DAYS"], config["PAUSE_ASK_WORKING_DAYS"], extension_rule()
    return ",".join(case_text(case, calendar, day, soon, ask, rule, provider) for case in cases)


def _form_data(body: dict) -> tuple[MultiDict, dict[str, list[str]]]:
    """Flatten the JSON body into form data for :class:`~dsr.cases.forms.ApiIntakeForm`; report shape errors per field."""
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
@token_required(*WRITERS, actor_only=True)
def create_case():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return api_error(400, "The body must be a JSON object.", errors={"body": ["Not a JSON object."]})
    data, errors = _form_data(body)
    form = api_intake_form(data)
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
        # Only worded from, so not put in the session (nothing to track, nothing to expire at the commit).
        case = log_request(**form.request_details(), actor=api_actor(), now=now(), today=today(), in_session=False)
        # Worded from the case as written, before the commit expires it (no reloading it afterwards).
        body, location = _json_case(case), f"/api/v1/cases/{case.reference}"
        db.session.commit()
    except CaseError as exc:
        db.session.rollback()
        return api_error(exc.status, str(exc), errors={getattr(exc, "field", None) or "request": [str(exc)]})
    return body, 201, {"Location": location}


@bp.get("/cases/<reference>")
@token_required(*READERS, one_read=True)
def get_case(reference: str):
    # What the JSON shows, its subject, assignee, merge target, rights, pauses and attachments, in one
    # statement read as rows (dsr.api.rows).
    case = api_case(reference)
    if case is None:
        return api_error(404, f"No case with reference {reference}.")
    text = _kept_texts([case])
    return _json_case(case) if text is None else current_app.response_class(f"{text}\n", mimetype="application/json")


@bp.get("/cases")
@token_required(*READERS, one_read=True)
def list_cases():
    try:
        filters = QueueFilters.from_args(request.args, current_user_id=g.api_user_id)
    except FilterError as exc:
        return api_error(400, exc.message, errors={exc.field: [exc.message]})
    numbers, errors = {}, {}
    for name, default in (("page", 1), ("per_page", 50)):
        try:
            numbers[name] = int(request.args.get(name, default))
        except ValueError:
            errors[name] = [f"{name} is a whole number."]
    if errors:
        return api_error(400, "page and per_page are whole numbers.", errors=errors)
    per_page = min(max(numbers["per_page"], 1), 200)
    page_no = max(numbers["page"], 1)
    # Everything a case's JSON shows joined to the page's own statement (its count rides along too), read as
    # rows: a page is one read, whatever its size (issue 15, item 3; dsr.api.rows).
    page = api_page(filters, today(), page=page_no, per_page=per_page)
    rest = {
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
        # False when there are more than ``total`` (lists count up to 10,000 rows): ``pages`` is then too.
        "total_exact": page.total_exact,
        "pages": page.pages,
    }
    texts = _kept_texts(page.items)
    if texts is None:
        return {"cases": _json_cases(page.items), **rest}
    return current_app.response_class(f'{{"cases":[{texts}],{compact(current_app.json, rest)[1:]}\n',
                                      mimetype="application/json")


def _load(reference: str) -> Case | None:
    return case_by_reference(reference)


def _body() -> dict:
    body = request.get_json(silent=True)
    if body is None and not request.data:
        return {}
    if not isinstance(body, dict):
        raise InvalidInput("The body must be a JSON object.", "body")
    return body


def _date(body: dict, key: str) -> date:
    value = body.get(key)
    if value is None:
        return today()
    if not isinstance(value, str):
        raise InvalidInput("A date is a string YYYY-MM-DD.", key)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"Not a date: {value!r}; use YYYY-MM-DD.", key) from None


def _text(body: dict, key: str) -> str:
    value = body.get(key, "")
    if not isinstance(value, str):
        raise InvalidInput("Must be a string.", key)
    return value


def _flag(body: dict, key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise InvalidInput("Must be true or false.", key)
    return value


def _optional_date(body: dict, key: str) -> date | None:
    return None if body.get(key) is None else _date(body, key)


def _optional_text(body: dict, key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidInput("Must be a string or null.", key)
    return value


def _automated_request(case, b, u):
    return record_request(case, decision_id=_optional_text(b, "decision_id"), described=_text(b, "described"),
                          decided_on=_optional_date(b, "decided_on"),
                          human_intervention=_flag(b, "human_intervention"), express_view=_flag(b, "express_view"),
                          contest=_flag(b, "contest"), subject_view=_text(b, "subject_view"), actor=u, now=now(),
                          today=today(), view_texts=_texts_by_language(b, "view_texts"))


def _automated_review(case, b, u):
    return record_review(case, reviewer=_text(b, "reviewer"), reviewed_on=_date(b, "reviewed_on"),
                         outcome=_text(b, "outcome"), outcome_text=_text(b, "outcome_text"),
                         view_considered=_flag(b, "view_considered"), actor=u, now=now(), today=today(),
                         reviewer_texts=_texts_by_language(b, "reviewer_texts"))


def _version(body: dict) -> int | None:
    value = body.get("version")
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise InvalidInput("version is the case's integer version.", "version")
    return value


def _assignee(body: dict) -> User | None:
    email = body.get("assignee")
    if email is None:
        return None
    if not isinstance(email, str):
        raise InvalidInput("assignee is a user's e-mail address or null.", "assignee")
    user = find_user(email)
    if user is None:
        raise InvalidInput(f"No user with e-mail {email}.", "assignee")
    return user


def _enum_value(enum_cls, body: dict, key: str):
    value = body.get(key)
    try:
        return enum_cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum_cls)
        raise InvalidInput(f"Not one of: {allowed}.", key) from None


def _texts_by_language(body: dict, key: str) -> dict[str, str] | None:
    texts = body.get(key)
    if texts is not None and not (isinstance(texts, dict) and all(
            lang in TEXT_LANGUAGES and isinstance(text, str) for lang, text in texts.items())):
        raise InvalidInput(f"{key} is an object of texts for the subject by language (nl, en, fr).", key)
    return texts


def _subject_texts(purpose: TextPurpose, item=lambda case: 0):
    """After the operation, write the texts for the subject it carries (``subject_texts``: by language), which
    the letters quote instead of the staff's own ``reason``/``justification`` (issue 14.2)."""
    def wrap(operation):
        def run(case, body: dict, user):
            result = operation(case, body, user)
            texts = _texts_by_language(body, "subject_texts")
            if texts is None:
                return result
            for lang, text in texts.items():
                save_text(case, purpose, item(case), lang, text, actor=user, now=now())
            return result
        return run
    return wrap


CASE_OPERATIONS = {
    "assign": lambda case, b, u: lifecycle.assign(case, _assignee(b), actor=u, now=now(),
                                                  expected_version=_version(b)),
    "pause": _subject_texts(TextPurpose.INFORMATION_REQUEST, lambda case: case.pauses[-1].id)(
        lambda case, b, u: timing.request_information(
        case, reason=_text(b, "reason"), requested_on=_date(b, "requested_on"), actor=u, now=now(), today=today(),
        ask_working_days=current_app.config["PAUSE_ASK_WORKING_DAYS"], expected_version=_version(b))),
    "resume": lambda case, b, u: timing.information_received(
        case, received_on=_date(b, "received_on"), actor=u, now=now(), today=today(), expected_version=_version(b)),
    "extend": _subject_texts(TextPurpose.EXTENSION)(
        lambda case, b, u: timing.extend(case, reason=_text(b, "reason"), actor=u, now=now(), today=today(),
                                         expected_version=_version(b))),
    "extension-notice": lambda case, b, u: timing.record_extension_notice(
        case, sent_on=_date(b, "sent_on"), actor=u, now=now(), today=today(), expected_version=_version(b)),
    "refuse": _subject_texts(TextPurpose.REFUSAL)(lambda case, b, u: lifecycle.refuse(
        case, ground=_enum_value(RefusalGround, b, "ground"), justification=_text(b, "justification"), actor=u,
        now=now(), expected_version=_version(b), repeats=lifecycle.earlier_cases(case, b.get("repeats")))),
    "withdraw": lambda case, b, u: lifecycle.withdraw(case, how=_text(b, "how"), actor=u, now=now(),
                                                      expected_version=_version(b)),
    "verify": lambda case, b, u: record_verification(
        case, method=_enum_value(VerificationMethod, b, "method"),
        outcome=_enum_value(VerificationOutcome, b, "outcome"), note=_text(b, "note"), actor=u, now=now(),
        expected_version=_version(b)),
    "start-identity-check": lambda case, b, u: lifecycle.start_identity_check(
        case, actor=u, now=now(), expected_version=_version(b)),
    "start-work": lambda case, b, u: lifecycle.start_work(case, actor=u, now=now(), expected_version=_version(b)),
    "submit-for-approval": lambda case, b, u: lifecycle.submit_for_approval(
        case, actor=u, now=now(), expected_version=_version(b)),
    "complete": lambda case, b, u: lifecycle.complete(case, decision=_text(b, "decision"), actor=u, now=now(),
                                                      expected_version=_version(b),
                                                      override_reason=_text(b, "override_reason") or None),
    "close": lambda case, b, u: lifecycle.close(case, actor=u, now=now(), expected_version=_version(b)),
    # Art. 22 (issue 18, item 2): the decision concerned and what is asked, then the human review.
    "automated-decision": _subject_texts(TextPurpose.AUTOMATED_DECISION)(_automated_request),
    "automated-review": _subject_texts(TextPurpose.AUTOMATED_OUTCOME)(_automated_review),
}


@bp.post("/cases/<reference>/<operation>")
@token_required(*WRITERS)
def case_operation(reference: str, operation: str):
    """The workflow operations, with the same rules and roles as the case page.

    200 with the updated case; 400 bad input; 403 a role that may not; 409 an illegal transition, a rule
    that forbids it (a late or second extension) or a stale ``version``; 404 unknown case or operation.
    """
    if operation not in CASE_OPERATIONS:
        return api_error(404, f"No operation {operation!r}.", operations=sorted(CASE_OPERATIONS))
    case = _load(reference)
    if case is None:
        return api_error(404, f"No case with reference {reference}.")
    try:
        CASE_OPERATIONS[operation](case, _body(), api_user())
        db.session.commit()
    except NotAllowed as exc:
        db.session.rollback()
        return api_error(403, str(exc))
    except StaleDataError:
        db.session.rollback()
        return api_error(409, f"{reference} was changed by someone else at the same time; try again.")
    except CaseError as exc:
        db.session.rollback()
        fresh = _load(reference)
        extra = {"state": fresh.state.value if fresh else None}
        if isinstance(exc, InvalidInput) and exc.field:
            extra["errors"] = {exc.field: [str(exc)]}
        return api_error(exc.status, str(exc), **extra)
    return _json_case(case)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return api_error(exc.code or 500, exc.description or exc.name)
