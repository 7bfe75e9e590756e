"""The OpenAPI 3.1 document of /api/v1, served at /api/v1/openapi.json.

Written by hand, next to the views, from the same constants they use (the intake fields, the case
operations, the queue filters). tests/web/test_openapi.py keeps it true: every /api/v1 route is described
and nothing else is, and a schemathesis run against the test app finds no 500 and no answer that departs
from it. A new API route without its description here fails that test.
"""

from __future__ import annotations

from flask import Blueprint

from dsr.api.views import CASE_OPERATIONS, SUBJECT_FIELDS
from dsr.cases.queries import FLAGS, SORTS
from dsr.domain.enums import CaseState, Channel, Language, Priority, Right

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")

_STR = {"type": "string"}
_NSTR = {"type": ["string", "null"]}
_DATE = {"type": "string", "format": "date"}
_NDATE = {"type": ["string", "null"], "format": "date"}

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": _STR,
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": _STR}},
    },
}

CASE = {
    "type": "object",
    "required": ["reference", "state", "rights", "channel", "language", "received_on", "due_on", "subject"],
    "properties": {
        "reference": {"type": "string", "pattern": r"^DSR-\d{4}-\d{5}$"},
        "state": _STR,
        "rights": {"type": "array", "items": {"enum": [r.value for r in Right]}},
        "channel": {"enum": [c.value for c in Channel]},
        "language": {"enum": [lang.value for lang in Language]},
        "received_on": _DATE,
        "promised_on": _NDATE,
        "legal_due_on": _NDATE,
        "due_on": _NDATE,
        "days_left": {"type": ["integer", "null"]},
        "deadline_status": _NSTR,
        "extended": {"type": "boolean"},
        "paused": {"type": "boolean"},
        "paused_days": {"type": "integer"},
        "assignee": _NSTR,
        "priority": _STR,
        "notes": _NSTR,
        "subject": {"type": "object"},
        "attachments": {"type": "array", "items": {
            "type": "object", "required": ["id", "filename", "media_type", "size", "sha256"],
            "properties": {"id": {"type": "integer"}, "filename": _STR, "media_type": _STR,
                           "size": {"type": "integer"}, "sha256": _STR}}},
        "created_at": {"type": "string", "format": "date-time"},
    },
}

NEW_CASE = {
    "type": "object",
    "required": ["rights", "subject"],
    "additionalProperties": False,
    "properties": {
        "rights": {"type": "array", "items": {"enum": [r.value for r in Right]}, "minItems": 1},
        "channel": {"enum": [c.value for c in Channel]},
        "received_on": _DATE,
        "language": {"enum": [lang.value for lang in Language]},
        "notes": _STR,
        "subject": {"type": "object", "required": ["name"], "additionalProperties": False,
                    "properties": {name: _STR for name in sorted(SUBJECT_FIELDS)}},
    },
}

OPERATION_BODY = {
    "type": "object",
    "description": "What the operation needs: version (the case's version, against lost updates), and per "
                   "operation assignee, reason, requested_on, received_on, sent_on, ground, justification, "
                   "how, method, outcome, note; complete: decision, and override_reason when the case's "
                   "completion checklist is not met (a privacy manager's recorded reason); automated-decision "
                   "(Art. 22): described, decision_id (a declared decision, or null), decided_on, "
                   "human_intervention, express_view, contest (booleans), subject_view; automated-review: "
                   "reviewer, reviewed_on, outcome (upheld or changed), outcome_text, view_considered. The reason and "
                   "justification are the staff's record, never printed (as are described, subject_view and "
                   "outcome_text); pause, extend, refuse, automated-decision (the decision concerned) and "
                   "automated-review (its outcome) take subject_texts too: what the letters quote, by language "
                   "(nl, en, fr); automated-decision takes view_texts, the subject's view; automated-review takes "
                   "reviewer_texts, the reviewer as the letter names them (name and function). refuse as excessive: "
                   "repeats, the references of the person's earlier requests it repeats (the last within a year).",
    "properties": {"version": {"type": "integer"},
                   "repeats": {"type": "array", "items": _STR},
                   **{key: {"type": "object", "additionalProperties": False,
                            "properties": {lang: _STR for lang in ("nl", "en", "fr")}}
                      for key in ("subject_texts", "view_texts", "reviewer_texts")}},
}

SUPPRESSION = {
    "type": "object",
    "additionalProperties": False,
    "properties": {key: {"type": "array", "items": _STR} for key in ("emails", "customer_numbers", "phones")},
}


def _answers(ok: dict | None, ok_code: str = "200", *extra: str) -> dict:
    answers = {"401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}
    if ok is not None:
        answers[ok_code] = {"description": "Done.", "content": {"application/json": {"schema": ok}}}
    for code in extra:
        answers[code] = {"$ref": "#/components/responses/Error"}
    return answers


LOOKUP = {"type": "object", "required": ["version", "status", "match"],
          "properties": {"version": {"type": "integer"}, "status": _STR, "match": _STR}}
PLAN = {"type": "object", "required": ["id", "state"], "properties": {"id": {"type": "integer"}, "state": _STR}}


def _fulfilment(summary: str, operation_id: str, answer: str, reference: dict, *, body: bool = False) -> dict:
    item = {"summary": summary, "operationId": operation_id, "parameters": [reference],
            "responses": _answers({"$ref": f"#/components/schemas/{answer}"}, "200", "400", "404", "409")}
    if body:
        item["requestBody"] = {"content": {"application/json": {"schema": {"type": "object"}}}}
    return item


def _queue_filters() -> list[dict]:
    """The queue page's filters (dsr/cases/queries.py, QueueFilters.from_args)."""
    def query(name: str, schema: dict) -> dict:
        return {"name": name, "in": "query", "schema": schema}

    return [
        query("state", {"enum": [s.value for s in CaseState] + ["open", "all"]}),
        query("right", {"enum": [r.value for r in Right]}),
        query("channel", {"enum": [c.value for c in Channel]}),
        query("assignee", {"type": "string", "pattern": r"^(me|none|[0-9]{1,18})$"}),
        query("overdue", {"enum": ["1", "true", "yes", "on", "0", "false", "no", "off"]}),
        query("due_within", {"type": "integer", "minimum": 0, "maximum": 366}),
        query("q", {"type": "string", "maxLength": 200}),
        query("flag", {"enum": sorted(FLAGS)}),
        query("priority", {"enum": [p.value for p in Priority]}),
        query("sort", {"enum": sorted(SORTS)}),
        query("dir", {"enum": ["asc", "desc"]}),
    ]


def document() -> dict:
    reference = {"name": "reference", "in": "path", "required": True, "schema": _STR}
    return {
        "openapi": "3.1.0",
        "info": {"title": "dsr API", "version": "1",
                 "description": "Log and follow data-subject requests. Bearer tokens are made on the API tokens "
                                "page (they expire, may be read-only, and can be revoked). Every error is JSON "
                                "with `error` and, per field, `errors`."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/cases": {
                "get": {"summary": "The queue, filtered as on the queue page", "operationId": "listCases",
                        "parameters": [
                            {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                            {"name": "per_page", "in": "query",
                             "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
                            *_queue_filters(),
                        ],
                        "responses": _answers({"type": "object", "required": ["cases", "page", "per_page", "total"],
                                               "properties": {"cases": {"type": "array",
                                                                        "items": {"$ref": "#/components/schemas/Case"}},
                                                              "page": {"type": "integer"},
                                                              "per_page": {"type": "integer"},
                                                              "total": {"type": "integer"},
                                                              "total_exact": {"type": "boolean"},
                                                              "pages": {"type": "integer"}}}, "200", "400")},
                "post": {"summary": "Log a request", "operationId": "createCase",
                         "requestBody": {"required": True, "content": {"application/json": {
                             "schema": {"$ref": "#/components/schemas/NewCase"}}}},
                         "responses": _answers({"$ref": "#/components/schemas/Case"}, "201", "400", "409")},
            },
            "/api/v1/cases/{reference}": {
                "get": {"summary": "One case", "operationId": "getCase", "parameters": [reference],
                        "responses": _answers({"$ref": "#/components/schemas/Case"}, "200", "404")},
            },
            "/api/v1/cases/{reference}/{operation}": {
                "post": {"summary": "An operation on a case, with the same rules and roles as the case page",
                         "operationId": "caseOperation",
                         "parameters": [reference, {"name": "operation", "in": "path", "required": True,
                                                    "schema": {"enum": list(CASE_OPERATIONS)}}],
                         "requestBody": {"content": {"application/json": {
                             "schema": {"$ref": "#/components/schemas/OperationBody"}}}},
                         "responses": _answers({"$ref": "#/components/schemas/Case"}, "200", "400", "404", "409")},
            },
            "/api/v1/suppression/check": {
                "post": {"summary": "Which of these identifiers are on the marketing suppression list",
                         "operationId": "checkSuppression",
                         "requestBody": {"required": True, "content": {"application/json": {
                             "schema": {"$ref": "#/components/schemas/SuppressionCheck"}}}},
                         "responses": _answers({"type": "object", "required": ["suppressed", "invalid", "checked"],
                                                "properties": {"suppressed": {"type": "object"},
                                                               "invalid": {"type": "object"},
                                                               "checked": {"type": "integer"}}}, "200", "400",
                                               "503")},
            },
            # Lookup and erasure (dsr/fulfilment/api.py), with the same rules and roles as the case page.
            "/api/v1/cases/{reference}/lookup": {
                "get": _fulfilment("The latest search of the data map for this case's person", "getLookup",
                                   "Lookup", reference),
                "post": _fulfilment("Search the data map for this case's person", "runLookup", "Lookup", reference),
            },
            "/api/v1/cases/{reference}/lookup/confirm": {
                "post": _fulfilment("Confirm or reject the found records as this person's", "confirmLookup",
                                    "Lookup", reference, body=True),
            },
            "/api/v1/cases/{reference}/erasure-plan": {
                "get": _fulfilment("The latest erasure plan", "getErasurePlan", "ErasurePlan", reference),
                "post": _fulfilment("Build an erasure plan from the confirmed lookup", "buildErasurePlan",
                                    "ErasurePlan", reference),
            },
            "/api/v1/cases/{reference}/erasure-plan/decide": {
                "post": _fulfilment("Decide an item of the plan", "decideErasureItem", "ErasurePlan", reference,
                                    body=True),
            },
            "/api/v1/cases/{reference}/erasure-plan/approve": {
                "post": _fulfilment("Approve the plan (privacy manager)", "approveErasurePlan", "ErasurePlan",
                                    reference),
            },
            "/api/v1/cases/{reference}/erasure-plan/execute": {
                "post": _fulfilment("Execute the approved plan", "executeErasurePlan", "ErasurePlan", reference),
            },
            "/api/v1/openapi.json": {
                "get": {"summary": "This document", "operationId": "openapi", "security": [],
                        "responses": {"200": {"description": "The OpenAPI 3.1 document.",
                                              "content": {"application/json": {"schema": {"type": "object"}}}}}},
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Case": CASE, "NewCase": NEW_CASE, "OperationBody": OPERATION_BODY,
                        "Lookup": LOOKUP, "ErasurePlan": PLAN,
                        "SuppressionCheck": SUPPRESSION, "Error": ERROR},
            "responses": {"Error": {"description": "Refused; the message says why.",
                                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
        },
    }


@bp.get("/openapi.json")
def openapi():
    return document()
