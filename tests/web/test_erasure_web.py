"""Erasure on the case page (issue 4, item 5): staff build the plan from a confirmed match, the privacy manager
approves it, staff execute it, and the results show per record. On SQLite and PostgreSQL, the clock frozen on
26 November 2026, the day the demo systems were generated for (a copy per test: erasure changes it).
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from dsr.auth.models import User
from dsr.domain.enums import ErasurePlanStatus, Right, Role
from dsr.extensions import db
from dsr.fulfilment.models import ErasurePlan, Lookup
from tests.conftest import TODAY
from tests.harmony_support import customer_with_everything, demo_systems, private_copy, rows, subject_of
from tests.web.support import (
    card_of,
    case_page,
    flashes,
    form_actions,
    frozen_clock,
    new_case,
    signed_in,
    text_of,
)


@pytest.fixture
def app(backend_app):
    return backend_app


@pytest.fixture(autouse=True)
def _frozen_clock():
    yield from frozen_clock()


@pytest.fixture(scope="module")
def harmony(tmp_path_factory) -> str:
    return demo_systems(tmp_path_factory, TODAY)


@pytest.fixture
def systems(app, harmony, tmp_path, monkeypatch) -> str:
    monkeypatch.setitem(app.config, "DEMO_SYSTEMS_URL", url := private_copy(harmony, tmp_path))
    return url


@pytest.fixture
def customer(systems) -> dict:
    return customer_with_everything(systems)


def make_reference(app, customer, rights) -> str:
    return new_case(app, rights=rights, **subject_of(customer))


def erasure_block(html: str) -> str:
    return card_of(html, "erasure", "holds")


def forms_in(html: str) -> set[str]:
    return form_actions(html, "data")


def post(client, reference: str, action: str, **fields):
    return client.post(f"/cases/{reference}/data/{action}", data={f"data_{action}-{k}": v for k, v in fields.items()})


def test_plan_approve_and_execute_through_the_case_page(app, customer, systems):
    reference = make_reference(app, customer, (Right.ERASURE,))
    staff = signed_in(app, Role.STAFF)
    assert "An erasure plan is built from a confirmed match." in erasure_block(case_page(staff, reference))
    post(staff, reference, "lookup")
    with app.app_context():
        lookup_id = db.session.execute(sa.select(Lookup.id)).scalar_one()
    assert "plan" not in forms_in(erasure_block(case_page(staff, reference)))
    post(staff, reference, "confirm", lookup_id=lookup_id)
    block = erasure_block(case_page(staff, reference))
    assert "plan" in forms_in(block) and "Build erasure plan" in block

    response = post(staff, reference, "plan", lookup_id=lookup_id)
    assert response.status_code == 302
    html = case_page(staff, reference)
    assert any(cat == "success" and "Erasure plan built" in text for cat, text in flashes(html))
    block = erasure_block(html)
    text = text_of(block)
    assert "draft, awaiting approval" in text
    for expected in ("Statutory fiscal retention of invoices", "GDPR Art. 17(3)(b)", "Call recordings", "marketing",
                     "keep", "erase"):
        assert expected in text
    with app.app_context():
        plan = db.session.execute(sa.select(ErasurePlan)).scalar_one()
        plan_id, rows_listed = plan.id, len([i for i in plan.items if not i.is_task])
    assert block.count('class="plan-item"') == rows_listed
    assert forms_in(block) == {"plan"}  # staff do not approve

    assert post(staff, reference, "approve", plan_id=plan_id).status_code == 403
    assert post(staff, reference, "execute", plan_id=plan_id).status_code == 409

    manager = signed_in(app, Role.PRIVACY_MANAGER)
    assert "approve" in forms_in(erasure_block(case_page(manager, reference)))
    assert post(manager, reference, "approve", plan_id=plan_id).status_code == 302

    block = erasure_block(case_page(staff, reference))
    assert forms_in(block) == {"task_done"} and "approved" in text_of(block)
    assert 'id="execute-erasure"' in block
    # Execution first shows what it will do per system and collection, and what cannot be undone.
    confirm = staff.get(f"/cases/{reference}/erasure/confirm")
    assert confirm.status_code == 200
    page = confirm.get_data(as_text=True)
    assert "This cannot be undone." in page and 'data-collection="call_recordings"' in page
    with app.app_context():
        erase = sum(1 for i in db.session.get(ErasurePlan, plan_id).items
                    if not i.is_task and i.action.value == "erase")
    assert f'<td class="text-end" id="total-erase">{erase}</td>' in page
    assert post(staff, reference, "execute", plan_id=plan_id).status_code == 302
    html = case_page(staff, reference)
    assert any(cat == "success" and "Erasure executed" in text for cat, text in flashes(html))
    block = erasure_block(html)
    assert "executed" in text_of(block) and "row deleted" in block and forms_in(block) == {"task_done"}
    assert 'data-outcome="deleted"' in block and 'data-outcome="kept"' in block
    assert signed_in(app, Role.STAFF).get(f"/cases/{reference}/erasure/confirm").status_code == 302
    with app.app_context():
        assert db.session.get(ErasurePlan, plan_id).status is ErasurePlanStatus.EXECUTED
    assert not rows(systems, "SELECT id FROM call_recordings WHERE customer_number = :n",
                    n=customer["customer_number"])
    audit = signed_in(app, Role.AUDITOR).get(f"/cases/{reference}/audit").get_data(as_text=True)
    for label in ("Erasure plan built", "Erasure plan approved", "Erasure executed"):
        assert label in audit


def test_no_erasure_block_on_a_case_that_does_not_request_erasure(app, customer):
    reference = make_reference(app, customer, (Right.ACCESS,))
    assert 'id="erasure"' not in case_page(signed_in(app, Role.STAFF), reference)


def planned(app, customer) -> tuple[str, object]:
    """An erasure case whose plan staff built through the page (searched, match confirmed); staff's client."""
    reference = make_reference(app, customer, (Right.ERASURE,))
    staff = signed_in(app, Role.STAFF)
    post(staff, reference, "lookup")
    with app.app_context():
        lookup_id = db.session.execute(sa.select(Lookup.id)).scalar_one()
    post(staff, reference, "confirm", lookup_id=lookup_id)
    post(staff, reference, "plan", lookup_id=lookup_id)
    return reference, staff


def test_the_auditor_sees_the_plan_but_no_buttons(app, customer):
    reference, _staff = planned(app, customer)
    block = erasure_block(case_page(signed_in(app, Role.AUDITOR), reference))
    assert "fiscal-retention" in block and forms_in(block) == set()


def _approved(app, customer, manager_builds: bool = False):
    reference = make_reference(app, customer, (Right.ERASURE,))
    staff = signed_in(app, Role.STAFF)
    post(staff, reference, "lookup")
    with app.app_context():
        lookup_id = db.session.execute(sa.select(Lookup.id)).scalar_one()
    post(staff, reference, "confirm", lookup_id=lookup_id)
    manager = signed_in(app, Role.PRIVACY_MANAGER)
    post(manager if manager_builds else staff, reference, "plan", lookup_id=lookup_id)
    with app.app_context():
        plan_id = db.session.execute(sa.select(ErasurePlan.id)).scalar_one()
    return reference, staff, manager, plan_id


def test_the_builder_does_not_approve_their_own_plan(app, customer):
    reference, _staff, manager, plan_id = _approved(app, customer, manager_builds=True)
    block = erasure_block(case_page(manager, reference))
    assert "another privacy manager approves it (four eyes)" in block and "approve" not in forms_in(block)
    assert post(manager, reference, "approve", plan_id=plan_id).status_code == 403
    app.config["ERASURE_FOUR_EYES"] = False
    try:
        assert post(manager, reference, "approve", plan_id=plan_id).status_code == 302
    finally:
        app.config["ERASURE_FOUR_EYES"] = True


def test_paper_and_processor_tasks_are_recorded_done_with_evidence_or_impossible_with_a_reason(app, customer):
    from io import BytesIO

    from dsr.fulfilment.models import ErasurePlanItem

    reference, staff, manager, plan_id = _approved(app, customer)
    block = erasure_block(case_page(staff, reference))
    assert "Destroy the paper file" in block and "after approval" in block and "task_done" not in forms_in(block)
    post(manager, reference, "approve", plan_id=plan_id)
    with app.app_context():
        tasks = {i.kind.value: i.id for i in db.session.execute(sa.select(ErasurePlanItem).where(
            ErasurePlanItem.plan_id == plan_id)).scalars() if i.is_task}
    # A day in the future, and a file that is not a PDF, JPEG or PNG, are refused with nothing saved.
    future = post(staff, reference, "task_done", item_id=tasks["paper"], done_on="2026-12-01")
    assert future.status_code == 400 and "cannot be in the future" in future.get_data(as_text=True)
    bad = staff.post(f"/cases/{reference}/data/task_done", content_type="multipart/form-data", data={
        "data_task_done-item_id": tasks["paper"], "data_task_done-done_on": "2026-11-25",
        "data_task_done-evidence": (BytesIO(b"MZ not an image"), "certificate.exe")})
    assert bad.status_code == 400
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
    done = staff.post(f"/cases/{reference}/data/task_done", content_type="multipart/form-data", data={
        "data_task_done-item_id": tasks["paper"], "data_task_done-done_on": "2026-11-25",
        "data_task_done-note": "Shredded by Iron Mountain, certificate 4411",
        "data_task_done-evidence": (BytesIO(png), "certificate.png")})
    assert done.status_code == 302
    # Only the privacy manager records a task as impossible.
    assert post(staff, reference, "task_impossible", item_id=tasks["processor"], reason="x").status_code == 403
    assert post(manager, reference, "task_impossible", item_id=tasks["processor"],
                reason="Focus Feedback went bankrupt; the curator confirmed the servers were wiped.").status_code == 302
    block = erasure_block(case_page(staff, reference))
    assert 'data-outcome="done"' in block and "certificate.png" in block and "Iron Mountain" in block
    assert 'data-outcome="impossible"' in block and "went bankrupt" in block
    assert post(staff, reference, "task_done", item_id=tasks["paper"], done_on="2026-11-25").status_code == 409
    audit = signed_in(app, Role.AUDITOR).get(f"/cases/{reference}/audit").get_data(as_text=True)
    assert "Paper file destroyed or processor instructed" in audit and "Erasure task recorded as impossible" in audit


# The rules' ids (those that are not also words of a title: "contract", "marketing").
RULE_IDS = re.compile(r"\b(legal-hold|fiscal-retention|call-recording|incident-register|portal-account|"
                      r"survey-invitation|no-exemption|no-rule)\b")
ENGINE_ENGLISH = ("while the policy is active", "while the claim is open", "while the contract runs", "then P",
                  "until the privacy manager decides", "check by hand", "until the legal hold")


# (the action and the "until" of a policy the contract keeps while it runs, as the plan's row shows them)
@pytest.mark.parametrize(("locale", "title", "until"), [
    ("nl", "Fiscale bewaarplicht facturen en premiebetalingen (7 jaar)", "bewaren zolang de polis loopt"),
    ("fr", "Obligation légale de conservation fiscale des factures et des paiements de primes (7 ans)",
     "conserver tant que la police est en vigueur"),
    ("en", "Statutory fiscal retention of invoices and premium payments (7 years)", "keep while the policy is active"),
])
def test_the_plan_names_rules_by_their_titles_and_says_until_when_in_the_readers_language(
        app, systems, locale, title, until):
    """Issue 16, item 9: no rule id before the titles; a kept record's "until" without an erase-on date in
    the reader's language, not the retention engine's English."""
    from tests.integration.test_erasure import active_customer

    reference, staff = planned(app, active_customer(systems))
    with app.app_context():
        staff_user = db.session.execute(sa.select(User).where(User.role == Role.STAFF)).scalar_one()
        staff_user.locale = locale
        db.session.commit()
        plan = db.session.execute(sa.select(ErasurePlan)).scalar_one()
        assert any(i.until == "while the policy is active" and i.erase_on is None for i in plan.items)
    text = text_of(erasure_block(case_page(staff, reference)))
    assert title in text and until in text
    assert not RULE_IDS.search(text), RULE_IDS.search(text)
    if locale != "en":
        for words in ENGINE_ENGLISH:
            assert words not in text, words
