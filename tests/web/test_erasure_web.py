"""Erasure on the case page (issue 4, item 5): staff build the plan from a confirmed match, the privacy manager
approves it, staff execute it, and the results show per record. On SQLite and PostgreSQL, the clock frozen on
26 November 2026, the day the demo systems were generated for (a copy per test: erasure changes it).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

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
    for expected in ("fiscal-retention", "GDPR Art. 17(3)(b)", "call-recording", "marketing", "keep", "erase"):
        assert expected in text
    with app.app_context():
        plan = db.session.execute(sa.select(ErasurePlan)).scalar_one()
        plan_id, rows_listed = plan.id, len(plan.items)
    assert block.count('class="plan-item"') == rows_listed
    assert forms_in(block) == {"plan"}  # staff do not approve

    assert post(staff, reference, "approve", plan_id=plan_id).status_code == 403
    assert post(staff, reference, "execute", plan_id=plan_id).status_code == 409

    manager = signed_in(app, Role.PRIVACY_MANAGER)
    assert "approve" in forms_in(erasure_block(case_page(manager, reference)))
    assert post(manager, reference, "approve", plan_id=plan_id).status_code == 302

    block = erasure_block(case_page(staff, reference))
    assert forms_in(block) == {"execute"} and "approved" in text_of(block)
    assert post(staff, reference, "execute", plan_id=plan_id).status_code == 302
    html = case_page(staff, reference)
    assert any(cat == "success" and "Erasure executed" in text for cat, text in flashes(html))
    block = erasure_block(html)
    assert "executed" in text_of(block) and "row deleted" in block and forms_in(block) == set()
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


def test_the_auditor_sees_the_plan_but_no_buttons(app, customer):
    reference = make_reference(app, customer, (Right.ERASURE,))
    staff = signed_in(app, Role.STAFF)
    post(staff, reference, "lookup")
    with app.app_context():
        lookup_id = db.session.execute(sa.select(Lookup.id)).scalar_one()
    post(staff, reference, "confirm", lookup_id=lookup_id)
    post(staff, reference, "plan", lookup_id=lookup_id)
    block = erasure_block(case_page(signed_in(app, Role.AUDITOR), reference))
    assert "fiscal-retention" in block and forms_in(block) == set()
