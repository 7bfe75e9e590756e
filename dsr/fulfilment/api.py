"""The lookup and the erasure path in the JSON API (issue 13, item 11), with the case page's roles and rules.

=========================================================  ==================================================
``POST /api/v1/cases/<ref>/lookup``                        run the lookup; 200 with the lookup
``GET  /api/v1/cases/<ref>/lookup``                        the newest lookup
``POST /api/v1/cases/<ref>/lookup/confirm``                ``{"version": n}``: confirm that lookup's match
``POST /api/v1/cases/<ref>/erasure-plan``                  build the plan from the confirmed lookup; 200
``GET  /api/v1/cases/<ref>/erasure-plan``                  the newest plan
``POST /api/v1/cases/<ref>/erasure-plan/decide``           ``{"item": id, "action": "keep"|"erase", "reason"}``
``POST /api/v1/cases/<ref>/erasure-plan/approve``          approve (privacy manager, not the builder)
``POST /api/v1/cases/<ref>/erasure-plan/execute``          execute or resume; 200 with the plan
=========================================================  ==================================================

A lookup is ``{"version", "status", "match", "run_at", "records": [{"source", "collection", "key",
"record_date", "categories", "shared", "shared_reason"}]}``: ``version`` is what ``confirm`` names, so a
confirmation never lands on a newer search than the one the caller read. A plan is ``{"state",
"built_by", "approved_by", "items": [...]}`` as :func:`plan_json` writes it. Errors as elsewhere in the
API: 400 bad input (``errors`` per field), 403 a role or person that may not, 404 no such case, lookup,
plan or item, 409 a rule that forbids it now (unconfirmed match, undecided items, a plan not approved).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, request
from werkzeug.exceptions import HTTPException

from dsr.api.auth import api_error, api_user, token_required
from dsr.auth.roles import MANAGERS, READERS, WRITERS
from dsr.cases.errors import CaseError, InvalidInput, NotAllowed, RuleViolation
from dsr.cases.models import Case
from dsr.cases.queries import case_by_reference
from dsr.extensions import db
from dsr.fulfilment import lookup_ops
from dsr.fulfilment.erasure.execute import execute_plan
from dsr.fulfilment.erasure.plan import approve_plan, build_erasure_plan, decide_item, record_items
from dsr.fulfilment.models import ErasurePlan, ErasurePlanItem, FoundRecord, Lookup
from dsr.timeutil import now, today

bp = Blueprint("fulfilment_api", __name__, url_prefix="/api/v1/cases")


def _day(value) -> str | None:
    return value.isoformat() if value is not None else None


def _email(user) -> str | None:
    return user.email if user is not None else None


def record_json(found: FoundRecord) -> dict[str, Any]:
    return {"source": found.source, "collection": found.collection, "key": dict(found.primary_key),
            "record_date": _day(found.record_date), "categories": list(found.categories),
            "shared": bool(getattr(found, "shared", False)), "shared_reason": getattr(found, "shared_reason", None)}


def lookup_json(lookup: Lookup) -> dict[str, Any]:
    return {"version": lookup.id, "status": lookup.status.value, "match": lookup.match.value,
            "run_at": lookup.run_at.isoformat(), "error": lookup.error,
            "records": [record_json(f) for f in lookup.records],
            "manual_sources": sorted(lookup.manual_tasks or {})}


def item_json(item: ErasurePlanItem) -> dict[str, Any]:
    data = {"id": item.id, "kind": item.kind.value, "source": item.source,
            "collection": item.collection or None, "key": dict(item.primary_key) or None,
            "record_date": _day(item.record_date), "action": item.action.value, "shared": item.shared,
            "shared_reason": item.shared_reason, "rule": item.rule_id, "article": item.article,
            "basis": item.basis, "erase_on": _day(item.erase_on), "until": item.until,
            "outcome": item.outcome.value if item.outcome else None, "result": item.result,
            "failure": item.failure, "breach": item.breach}
    if item.decided_at is not None:
        data["decided"] = {"by": _email(item.decided_by), "at": item.decided_at.isoformat(),
                           "reason": item.decision_reason, "only_fields": item.only_fields}
    if item.is_task:
        data["task"] = {"done_on": _day(item.done_on), "done_by": _email(item.done_by),
                        "evidence": item.evidence_id, "impossible_reason": item.impossible_reason}
    return data


def plan_json(plan: ErasurePlan) -> dict[str, Any]:
    return {"id": plan.id, "state": plan.status.value, "built_by": _email(plan.built_by),
            "approved_by": _email(plan.approved_by), "built_at": plan.built_at.isoformat(),
            "approved_at": plan.approved_at.isoformat() if plan.approved_at else None,
            "executed_at": plan.executed_at.isoformat() if plan.executed_at else None,
            "undecided": sum(1 for i in record_items(plan) if i.undecided),
            "items": [item_json(i) for i in plan.items]}


class _NotFound(Exception):
    pass


def _case(reference: str) -> Case:
    case = case_by_reference(reference)
    if case is None:
        raise _NotFound(f"No case with reference {reference}.")
    return case


def _latest_plan(case: Case) -> ErasurePlan:
    plan = db.session.execute(sa.select(ErasurePlan).where(ErasurePlan.case_id == case.id).order_by(
        ErasurePlan.id.desc()).limit(1)).scalar_one_or_none()
    if plan is None:
        raise _NotFound(f"{case.reference} has no erasure plan yet.")
    return plan


def _latest_lookup(case: Case) -> Lookup:
    lookup = lookup_ops.latest_lookup(case)
    if lookup is None:
        raise _NotFound(f"{case.reference} has no lookup yet.")
    return lookup


def _body() -> dict:
    body = request.get_json(silent=True)
    if body is None and not request.data:
        return {}
    if not isinstance(body, dict):
        raise InvalidInput("The body must be a JSON object.", "body")
    return body


def _int(body: dict, key: str) -> int:
    value = body.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput(f"{key} is a whole number.", key)
    return value


def _run(reference: str, operation) -> Any:
    """Run ``operation(case, body)`` in one transaction; map dsr's refusals to the API's JSON errors."""
    try:
        case = _case(reference)
        result = operation(case, _body())
        db.session.commit()
        return result
    except _NotFound as exc:
        db.session.rollback()
        return api_error(404, str(exc))
    except NotAllowed as exc:
        db.session.rollback()
        return api_error(403, str(exc))
    except CaseError as exc:
        db.session.rollback()
        extra = {"errors": {exc.field: [str(exc)]}} if isinstance(exc, InvalidInput) and exc.field else {}
        return api_error(exc.status, str(exc), **extra)


@bp.post("/<reference>/lookup")
@token_required(*WRITERS)
def run_lookup(reference: str):
    return _run(reference, lambda case, _b: lookup_json(lookup_ops.run_lookup(case, actor=api_user(), now=now())))


@bp.get("/<reference>/lookup")
@token_required(*READERS)
def get_lookup(reference: str):
    return _run(reference, lambda case, _b: lookup_json(_latest_lookup(case)))


def _confirm(case: Case, body: dict) -> dict:
    version = _int(body, "version")
    lookup = db.session.get(Lookup, version)
    if lookup is None or lookup.case_id != case.id:
        raise _NotFound(f"{case.reference} has no lookup {version}.")
    latest = _latest_lookup(case)
    if latest.id != lookup.id:
        raise RuleViolation(f"A newer lookup ({latest.id}) was run since; read it and confirm that one.")
    lookup_ops.confirm_match(lookup, actor=api_user(), now=now())
    return lookup_json(lookup)


@bp.post("/<reference>/lookup/confirm")
@token_required(*WRITERS)
def confirm_lookup(reference: str):
    return _run(reference, _confirm)


@bp.post("/<reference>/erasure-plan")
@token_required(*WRITERS)
def build_plan(reference: str):
    return _run(reference, lambda case, _b: plan_json(build_erasure_plan(
        case, _latest_lookup(case), actor=api_user(), now=now(), today=today())))


@bp.get("/<reference>/erasure-plan")
@token_required(*READERS)
def get_plan(reference: str):
    return _run(reference, lambda case, _b: plan_json(_latest_plan(case)))


def _decide(case: Case, body: dict) -> dict:
    unknown = sorted(set(body) - {"item", "action", "reason"})
    if unknown:
        raise InvalidInput(f"Unknown field(s): {', '.join(unknown)}.", unknown[0])
    plan = _latest_plan(case)
    item_id = _int(body, "item")
    item = db.session.get(ErasurePlanItem, item_id)
    if item is None or item.plan_id != plan.id:
        raise _NotFound(f"The erasure plan of {case.reference} has no item {item_id}.")
    action, reason = body.get("action"), body.get("reason", "")
    if not isinstance(reason, str):
        raise InvalidInput("reason is a string.", "reason")
    if action not in ("keep", "erase"):
        raise InvalidInput("action is keep or erase.", "action")
    decide_item(item, action=action, reason=reason, actor=api_user(), now=now())
    return plan_json(plan)


@bp.post("/<reference>/erasure-plan/decide")
@token_required(*MANAGERS)
def decide(reference: str):
    return _run(reference, _decide)


@bp.post("/<reference>/erasure-plan/approve")
@token_required(*MANAGERS)
def approve(reference: str):
    def operation(case, _body):
        plan = _latest_plan(case)
        approve_plan(plan, actor=api_user(), now=now())
        return plan_json(plan)
    return _run(reference, operation)


@bp.post("/<reference>/erasure-plan/execute")
@token_required(*WRITERS)
def execute(reference: str):
    def operation(case, _body):
        plan = _latest_plan(case)
        failed = execute_plan(plan, actor=api_user(), now=now(), today=today())
        return {**plan_json(plan), "failed": failed}
    return _run(reference, operation)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return api_error(exc.code or 500, exc.description or exc.name)
