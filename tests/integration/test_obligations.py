"""The completion obligations registry (issue 12, item 2): features declare what must be settled before a
case may complete; the workflow reads the registry and imports no feature. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from dsr.audit.models import AuditEvent
from dsr.cases import lifecycle, obligations
from dsr.cases.errors import RuleViolation
from dsr.cases.obligations import Obligation
from dsr.domain.enums import CaseState, Right, Role
from dsr.extensions import db
from tests.conftest import NOW
from tests.factories import make_case, make_user


@pytest.fixture
def extra_check():
    """A feature registered for this test only: an overridable and a hard obligation on every case."""
    found: dict[str, list[Obligation]] = {"open": []}
    obligations.register("test_feature", lambda case, today: list(found["open"]), order=99)
    yield found
    obligations._CHECKS.pop("test_feature")


def _awaiting(rights=(Right.ACCESS,)):
    manager, staff = make_user(Role.PRIVACY_MANAGER), make_user(Role.STAFF)
    case = make_case(actor=staff, rights=rights)
    lifecycle.start_work(case, actor=staff, now=NOW)
    lifecycle.submit_for_approval(case, actor=staff, now=NOW)
    db.session.commit()
    return case, manager


def test_the_features_register_their_checks_in_a_fixed_order(ctx):
    assert obligations.registered()[:8] == ("erasure", "rectification", "notices", "objection", "restriction",
                                            "automated", "requesters", "checklist")


def test_obligations_are_structured_and_read_as_their_sentence(ctx):
    case, _manager = _awaiting(rights=(Right.RECTIFICATION, Right.OBJECTION))
    found = obligations.open_obligations(case, exclude=["checklist"])
    assert [o.key for o in found] == ["rectification.no_correction", "objection.nothing_done"]
    assert all(isinstance(o, str) and o == o.message and not o.overridable for o in found)
    assert found[1].as_dict() == {
        "key": "objection.nothing_done", "overridable": False,
        "message": "Nothing was done about the objection yet: stop direct marketing, or record the objection "
                   "and decide it (Art. 21)."}
    assert [o.key for o in obligations.open_obligations(case, features=["objection"])] == ["objection.nothing_done"]


def test_the_checklist_items_are_overridable_obligations(ctx):
    case, _manager = _awaiting()
    found = obligations.open_obligations(case, features=["checklist"])
    assert {o.key for o in found} == {"lookup", "letter_access"} and all(o.overridable for o in found)


def test_a_hard_obligation_blocks_completion_even_with_a_reason(ctx, extra_check):
    case, manager = _awaiting()
    extra_check["open"] = [Obligation("test.hard", "The sky is not yet blue.")]
    with pytest.raises(RuleViolation, match="The sky is not yet blue."):
        lifecycle.complete(case, decision="Done", actor=manager, now=NOW, override_reason="Because")
    assert case.state is CaseState.AWAITING_APPROVAL


def test_a_manager_may_complete_over_an_overridable_obligation_and_it_is_recorded(ctx, extra_check):
    case, manager = _awaiting()
    extra_check["open"] = [Obligation("test.soft", "A courtesy call is not made.", overridable=True)]
    with pytest.raises(RuleViolation, match="A courtesy call is not made."):
        lifecycle.complete(case, decision="Done", actor=manager, now=NOW)
    lifecycle.complete(case, decision="Done", actor=manager, now=NOW, override_reason="Called by phone")
    assert case.state is CaseState.COMPLETED
    event = db.session.query(AuditEvent).filter_by(case_id=case.id, action="case.complete").one()
    assert event.after["override"]["reason"] == "Called by phone"
    assert "test.soft" in event.after["override"]["open"]
