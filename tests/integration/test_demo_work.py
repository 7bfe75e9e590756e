"""The demo looks like a team in control (issue 16, item 14) and shows a paper-archive entry (issue 13, item 12).

``flask dsr demo``'s loader is run once per database; what it made is read back with plain queries, not with
the checklist or the operations under test: every completed case has the work its rights require and no
completion over the checklist; every state is there; a case awaiting approval was searched; the erasure of a
customer who wrote by post keeps the scan and the note on the original, and its paper file was destroyed by a
person on a recorded day; few open cases are overdue, and the dashboard's tile and banner count the same.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import current_app

from dsr.audit.models import AuditEvent
from dsr.demo.loader import DEMO_USERS, load_demo
from dsr.domain.enums import CaseState, Right
from dsr.extensions import db
from tests.conftest import NOW, TODAY
from tests.web.support import dashboard_overdue

OPEN = ("received", "identity_check", "in_progress", "awaiting_approval")
SEARCHED = {r.value for r in Right} - {Right.OBJECTION.value, Right.AUTOMATED_DECISION.value}


@pytest.fixture
def demo(backend_app, time_machine):
    time_machine.move_to(NOW, tick=False)
    with backend_app.app_context():
        load_demo(now=NOW, today=TODAY)
        db.session.remove()
    return backend_app


def q(sql: str, **params) -> list[dict]:
    return [dict(r) for r in db.session.execute(sa.text(sql), params).mappings()]


def one(sql: str, **params):
    return db.session.execute(sa.text(sql), params).scalar()


def _rights(case_id: int) -> set[str]:
    return {r["right"] for r in q("SELECT \"right\" FROM case_rights WHERE case_id = :c", c=case_id)}


def _check_answered(case: dict) -> None:
    """What a completed case of these rights must have behind it, read from the tables."""
    c, ref = case["id"], case["reference"]
    rights = _rights(c)
    managers = {r["id"] for r in q("SELECT id FROM users WHERE role = 'privacy_manager'")}
    letters = {(r["kind"], r["language"]) for r in q("SELECT kind, language FROM issued_letters WHERE case_id = :c",
                                                      c=c)}
    for right in rights:
        assert (f"completion_{right if right != 'automated_decision' else 'automated'}", case["language"]) \
            in letters, (ref, right, letters)
    assert one("SELECT count(*) FROM case_tasks WHERE case_id = :c AND done_at IS NULL", c=c) == 0, ref
    if rights & SEARCHED:
        lookup = q("SELECT id, match, manual_tasks FROM lookups WHERE case_id = :c ORDER BY id DESC", c=c)[0]
        assert lookup["match"] in ("confirmed", "none"), ref
        assert one("SELECT count(*) FROM case_tasks WHERE case_id = :c AND kind = 'manual_source' "
                   "AND done_at IS NOT NULL", c=c) >= 1, ref  # the paper archive, the processors searched
    if "access" in rights:
        assert one("SELECT count(*) FROM redaction_decisions WHERE case_id = :c AND decided_by_id IS NULL",
                   c=c) == 0, ref
    if "erasure" in rights:
        plan = q("SELECT * FROM erasure_plans WHERE case_id = :c ORDER BY id DESC", c=c)[0]
        assert plan["status"] == "executed", ref
        assert {plan["built_by_id"], plan["approved_by_id"]} <= managers
        assert plan["built_by_id"] != plan["approved_by_id"], ref  # four eyes
        tasks = q("SELECT * FROM erasure_plan_items WHERE plan_id = :p AND kind <> 'record'", p=plan["id"])
        assert {t["source"] for t in tasks} >= {"harmony_paper_archive"}, ref
        assert all(t["outcome"] == "done" and t["done_on"] and t["done_by_id"] and t["result"] for t in tasks), ref
    if rights & {"erasure", "rectification", "restriction"}:
        assert one("SELECT count(*) FROM recipient_notices WHERE case_id = :c", c=c) > 0, ref
        assert one("SELECT count(*) FROM recipient_notices WHERE case_id = :c AND status = 'pending'", c=c) == 0, ref
    if "rectification" in rights:
        statuses = {r["status"] for r in q("SELECT status FROM corrections WHERE case_id = :c", c=c)}
        assert statuses and statuses <= {"applied", "refused"}, ref
    if "objection" in rights:
        assert q("SELECT status, outcome FROM objection_decisions WHERE case_id = :c", c=c) == [
            {"status": "decided", "outcome": "upheld"}], ref
    if "restriction" in rights:
        assert one("SELECT count(*) FROM restricted_records WHERE case_id = :c AND restricted_at IS NOT NULL",
                   c=c) > 0, ref
    if "automated_decision" in rights:
        review = q("SELECT reviewer, reviewed_on, outcome FROM automated_decision_requests WHERE case_id = :c", c=c)
        assert review and all(review[0].values()), ref
    if "portability" in rights:
        assert one("SELECT count(*) FROM exports WHERE case_id = :c AND kind = 'portability'", c=c) == 1, ref


def test_the_demo_looks_like_a_team_in_control(demo):
    """Loaded once per database (the loader takes a while): each part below reads what it made."""
    with demo.app_context():
        _work_done_up_to_each_state()
        _paper_archive_case()
        overdue = _few_overdue()
    _dashboard_and_banner_agree(demo, overdue)


def _work_done_up_to_each_state() -> None:
    cases = q("SELECT * FROM cases ORDER BY id")
    states = {c["state"] for c in cases}
    assert states == {s.value for s in CaseState}

    # No completion over the checklist: the work was done, not overridden.
    completions = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "case.complete")).all()
    assert completions and not [e for e in completions if "override" in (e.after or {})]
    completed = [c for c in cases if c["state"] == "completed" or (c["state"] == "closed" and c["decision"])]
    assert len(completed) >= 10
    for case in completed:
        _check_answered(case)
    # Every right answered at least once, through its own work.
    assert set().union(*(_rights(c["id"]) for c in completed)) == {r.value for r in Right}

    # Awaiting approval means the search was done and confirmed, and the paper archive searched.
    for case in (c for c in cases if c["state"] == "awaiting_approval"):
        if _rights(case["id"]) & SEARCHED:
            assert one("SELECT count(*) FROM lookups WHERE case_id = :c AND match IN ('confirmed', 'none')",
                       c=case["id"]) == 1, case["reference"]
        assert one("SELECT count(*) FROM case_tasks WHERE case_id = :c AND kind = 'manual_source' "
                   "AND done_at IS NULL", c=case["id"]) == 0, case["reference"]
        if "erasure" in _rights(case["id"]):
            assert one("SELECT status FROM erasure_plans WHERE case_id = :c", c=case["id"]) == "draft"

    # A refused case has its refusal letter, in the subject's language, with the text written for them.
    for case in (c for c in cases if c["state"] == "refused"):
        assert q("SELECT language FROM issued_letters WHERE case_id = :c AND kind = 'refusal'",
                 c=case["id"]) == [{"language": case["language"]}]

    # One restriction was lifted when its ground ended, the subject told beforehand (Art. 18(3)).
    lifts = q("SELECT * FROM restriction_lifts WHERE lifted_at IS NOT NULL")
    assert len(lifts) == 1
    notice = q("SELECT issued_at FROM issued_letters WHERE case_id = :c AND kind = 'restriction_lifting_notice'",
               c=lifts[0]["case_id"])
    assert notice and str(lifts[0]["decided_at"]) <= str(notice[0]["issued_at"]) <= str(lifts[0]["lifted_at"])

    # History happened on its days: nothing after now, the answers spread over the weeks.
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.occurred_at > NOW)) == 0
    assert len({str(c["closed_at"])[:10] for c in completed}) >= 8


def _paper_archive_case() -> None:
    """The erasure of a customer who wrote by post: the scan and the note on the original are the case's; the
    paper file was destroyed by a person, on a recorded day, saying what."""
    [item] = q("""SELECT i.*, p.case_id FROM erasure_plan_items i JOIN erasure_plans p ON p.id = i.plan_id
                  WHERE i.source = 'harmony_paper_archive' AND i.result LIKE 'Destroyed%'""")
    case = q("SELECT * FROM cases WHERE id = :c", c=item["case_id"])[0]
    assert case["channel"] == "post" and case["state"] == "completed"
    assert _rights(case["id"]) == {"erasure"}
    scan = q("SELECT * FROM attachments WHERE case_id = :c", c=case["id"])
    assert len(scan) == 1 and scan[0]["media_type"] == "image/png"
    assert (Path(current_app.config["STORAGE_DIR"]) / scan[0]["storage_key"]).is_file()
    notes = [r["body"] for r in q("SELECT body FROM case_notes WHERE case_id = :c", c=case["id"])]
    assert any("original is filed in the paper archive" in n for n in notes)
    # Destroyed by a person, on a day, saying what: the audit trail has the same.
    person = q("SELECT role FROM users WHERE id = :u", u=item["done_by_id"])[0]
    assert person["role"] in ("staff", "privacy_manager")
    assert str(item["done_on"]) <= TODAY.isoformat() and "original of the erasure request" in item["result"]
    done = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "erasure.task_done",
                                                          AuditEvent.case_id == case["id"])).all()
    assert any(e.after["source"] == "harmony_paper_archive" and e.after["note"] == item["result"] for e in done)


def _few_overdue() -> int:
    open_cases = q(f"SELECT id, legal_due_on FROM cases WHERE state IN {OPEN}")  # noqa: S608 (a constant)
    due = [date.fromisoformat(str(c["legal_due_on"])) for c in open_cases]
    overdue = [d for d in due if d < TODAY]
    on_track = [d for d in due if (d - TODAY).days > 7]
    assert 1 <= len(overdue) <= len(open_cases) // 5
    assert len(on_track) > len(open_cases) // 2
    return len(overdue)


def _dashboard_and_banner_agree(app, overdue: int) -> None:
    client = app.test_client()
    email, _name, _role, password = DEMO_USERS[0]
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    counts = dashboard_overdue(client)
    assert counts["tile"] == counts["banner"] == ("Past the legal deadline", overdue)
