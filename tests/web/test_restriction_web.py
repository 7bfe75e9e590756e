"""Restriction (Art. 18) on the case page, through the Flask client: the intake form offers the right, the card
records grounds and restricts the records found, and only the privacy manager decides to lift. The auditor
changes nothing (403); bad input is a 400 naming the problem. On SQLite and PostgreSQL, the clock frozen on
26 November 2026 (the day the demo systems were generated for; a copy per test, since restricting changes it).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from dsr.domain.enums import Right, Role
from dsr.extensions import db
from dsr.fulfilment.models import Lookup
from dsr.restriction.models import RestrictedRecord, RestrictionGroundRecord, RestrictionLift
from dsr.texts.models import StandardParagraph, SubjectText, TextPurpose
from tests.conftest import TODAY
from tests.harmony_support import customer_with_everything, demo_systems, private_copy, rows, subject_of
from tests.web.support import (
    card_of,
    case_page,
    flashes,
    form_actions,
    frozen_clock,
    new_case,
    read_form,
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


def post(client, reference: str, action: str, **fields):
    return client.post(f"/cases/{reference}/restriction/{action}",
                       data={f"restriction_{action}-{k}": v for k, v in fields.items()})


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def confirmed(app, client, reference: str) -> None:
    client.post(f"/cases/{reference}/data/lookup")
    with app.app_context():
        lookup_id = db.session.execute(sa.select(Lookup.id).order_by(Lookup.id.desc())).scalars().first()
    assert client.post(f"/cases/{reference}/data/confirm", data={"data_confirm-lookup_id": lookup_id}).status_code == 302


def test_the_intake_form_offers_restriction_and_the_queue_filters_on_it(app):
    reference = new_case(app, rights=(Right.RESTRICTION,))
    staff = signed_in(app, Role.STAFF)
    html = staff.get("/cases/new").get_data(as_text=True)
    assert 'value="restriction"' in html and "Restriction (Art. 18)" in html
    queue = staff.get("/cases?right=restriction").get_data(as_text=True)
    assert reference in queue
    assert reference not in staff.get("/cases?right=access").get_data(as_text=True)


def test_staff_record_a_ground_and_restrict_the_records_found(app, systems, customer):
    reference = new_case(app, rights=(Right.RESTRICTION,), **subject_of(customer))
    staff = signed_in(app, Role.STAFF)
    block = card_of(case_page(staff, reference), "restriction")
    assert "ground" in form_actions(block, "restriction") and "apply" not in form_actions(block, "restriction")

    response = post(staff, reference, "ground", ground="accuracy_contested", linked_reference="")
    assert response.status_code == 400 and "Name the case that asks for" in response.get_data(as_text=True)
    assert post(staff, reference, "ground", ground="nonsense").status_code == 400
    assert count(app, RestrictionGroundRecord) == 0
    response = post(staff, reference, "ground", ground="legal_claims",
                    explanation="<b>Court case</b> against the repairer.")
    assert response.status_code == 302 and response.location.endswith("#restriction")
    block = card_of(case_page(staff, reference), "restriction")
    assert "Harmony no longer needs the data" in text_of(block) and "&lt;b&gt;Court case&lt;/b&gt;" in block
    assert "Confirm a search" in block

    confirmed(app, staff, reference)
    response = post(staff, reference, "apply")
    assert response.status_code == 302
    html = case_page(staff, reference)
    assert any(cat == "success" and "records restricted" in text for cat, text in flashes(html))
    block = card_of(html, "restriction")
    assert "marker Restricted since" in block and "by a person" in block  # the data map's label, not the column
    assert all(r["restricted_since"] for r in rows(systems, "SELECT restricted_since FROM customers WHERE id = :c",
                                                   c=customer["id"]))
    assert "restricted" in form_actions(block, "restriction")  # a person marks what they restricted
    assert "apply" not in form_actions(block, "restriction")  # every record found is restricted or given out
    assert "decide_lift" not in form_actions(block, "restriction")  # the privacy manager's
    assert post(staff, reference, "decide_lift", reason="Settled.").status_code == 403
    manager = signed_in(app, Role.PRIVACY_MANAGER)
    assert "decide_lift" in form_actions(card_of(case_page(manager, reference), "restriction"), "restriction")
    # The form carries the text the lifting notice quotes, in the case's language (issue 14.2); a standard
    # paragraph of the library pre-fills it (nothing saved); a refused decision writes no text either.
    html = case_page(manager, reference)
    assert "Text for the subject, in Dutch (the letter quotes it)" in card_of(html, "restriction")
    with app.app_context():
        chosen, body = db.session.execute(sa.select(StandardParagraph.id, StandardParagraph.body).where(
            StandardParagraph.purpose == TextPurpose.RESTRICTION_LIFT, StandardParagraph.language == "nl")
            .order_by(StandardParagraph.id)).first()
    prefilled = manager.get(f"/cases/{reference}?for=lift&paragraph={chosen}").get_data(as_text=True)
    assert read_form(prefilled).values["restriction_decide_lift-subject_text"] == [body]
    assert post(manager, reference, "decide_lift", reason="", subject_text=body).status_code == 400
    assert count(app, SubjectText) == 0
    assert post(manager, reference, "decide_lift", reason="Court case closed per lawyer",
                subject_text="Uw rechtszaak is beëindigd.").status_code == 302
    with app.app_context():
        [text] = db.session.scalars(sa.select(SubjectText)).all()
        assert (text.purpose, text.language, text.body) == (TextPurpose.RESTRICTION_LIFT, "nl",
                                                            "Uw rechtszaak is beëindigd.")
        assert db.session.scalars(sa.select(RestrictionLift)).one().reason == "Court case closed per lawyer"
    block = card_of(case_page(manager, reference), "restriction")
    assert "issue the lifting notice first" in block
    response = post(manager, reference, "lift")
    assert response.status_code == 409 and "Tell the subject before" in response.get_data(as_text=True)
    assert count(app, RestrictionLift) == 1
    audit = manager.get(f"/cases/{reference}/audit").get_data(as_text=True)
    assert "Ground for restriction recorded (Art. 18(1))" in audit and "Records restricted (Art. 18)" in audit


def test_the_auditor_sees_the_card_but_may_not_act(app, systems, customer):
    reference = new_case(app, rights=(Right.RESTRICTION,), **subject_of(customer))
    auditor = signed_in(app, Role.AUDITOR)
    block = card_of(case_page(auditor, reference), "restriction")
    assert 'id="restriction-grounds"' in block and form_actions(block, "restriction") == set()
    for action, fields in (("ground", {"ground": "legal_claims"}), ("apply", {}), ("lift", {}),
                           ("decide_lift", {"reason": "x"})):
        assert post(auditor, reference, action, **fields).status_code == 403
    assert count(app, RestrictionGroundRecord) == 0 and count(app, RestrictedRecord) == 0


def test_no_card_on_a_case_without_restriction_and_unknown_actions_are_404(app, systems, customer):
    reference = new_case(app, rights=(Right.ACCESS,), **subject_of(customer))
    staff = signed_in(app, Role.STAFF)
    assert 'id="restriction"' not in case_page(staff, reference)
    response = post(staff, reference, "ground", ground="legal_claims")
    assert response.status_code == 409 and "does not request restriction" in response.get_data(as_text=True)
    assert post(staff, reference, "nonsense").status_code == 404
    response = staff.get(f"/cases/{reference}/restriction/apply")
    assert response.status_code == 302 and response.location.endswith("#restriction")
