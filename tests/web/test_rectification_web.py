"""Rectification and the recipients' notices on the case page (issue 4, item 7): who may do what, CSRF, bad input
answered with 400 and a specific message with nothing written, and every typed value escaped. On SQLite and
PostgreSQL, the clock frozen on 26 November 2026; a copy of the demo systems per test (corrections change it).
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from dsr.cases.models import Case
from dsr.domain.enums import Right, Role
from dsr.extensions import db
from dsr.fulfilment.models import FoundRecord, Lookup
from dsr.notices.models import RecipientNotice
from dsr.rectification.models import Correction, CorrectionStatus
from dsr.texts.models import StandardParagraph, SubjectText, TextPurpose
from tests.conftest import TODAY
from tests.harmony_support import customer_with_everything, demo_systems, private_copy, rows, subject_of
from tests.web.support import (
    card_of,
    case_page,
    csrf_token,
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


def make_reference(app, customer, rights=(Right.RECTIFICATION,)) -> str:
    return new_case(app, rights=rights, **subject_of(customer))


NOTICE_ACTIONS = ("list", "notified", "not_notifiable")  # the recipients' card, dsr.notices.views


def card(html: str) -> str:
    return card_of(html, "rectification", "notices")


def notices_card(html: str) -> str:
    return card_of(html, "notices", "attachments")


def forms_in(html: str) -> set[str]:
    return form_actions(html, "rectification") | form_actions(html, "notices")


def version(app, reference: str) -> int:
    with app.app_context():
        return db.session.execute(sa.select(Case.version).where(Case.reference == reference)).scalar_one()


def post(client, app, reference: str, action: str, *, stale: bool = False, **fields):
    section, form = ("notices", "notice") if action in NOTICE_ACTIONS else ("rectification", "rect")
    data = {f"{form}_{action}-{k}": v for k, v in fields.items()}
    data.setdefault(f"{form}_{action}-version", version(app, reference) - (1 if stale else 0))
    return client.post(f"/cases/{reference}/{section}/{action}", data=data)


def confirmed(app, client, reference: str) -> dict[str, int]:
    """Run and confirm the lookup through the data card; ``{collection: found record id}`` of the first ones."""
    assert client.post(f"/cases/{reference}/data/lookup").status_code == 302
    with app.app_context():
        lookup_id = db.session.execute(sa.select(Lookup.id)).scalar_one()
    assert client.post(f"/cases/{reference}/data/confirm",
                       data={"data_confirm-lookup_id": lookup_id}).status_code == 302
    with app.app_context():
        found = db.session.execute(sa.select(FoundRecord).order_by(FoundRecord.id)).scalars()
        ids: dict[str, int] = {}
        for f in found:
            ids.setdefault(f.collection, f.id)
        return ids


def count(app, model) -> int:
    with app.app_context():
        return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def test_staff_propose_and_apply_and_the_manager_refuses(app, customer, systems):
    reference = make_reference(app, customer)
    staff = signed_in(app, Role.STAFF)
    assert "find the data and confirm the match first" in text_of(card(case_page(staff, reference)))
    ids = confirmed(app, staff, reference)
    block = card(case_page(staff, reference))
    assert {"propose", "propose_manual"} <= forms_in(block)
    assert forms_in(notices_card(case_page(staff, reference))) == {"list"}
    assert f'value="{ids["customers"]}/city"' in block and f'value="{ids["customers"]}/customer_number"' not in block

    response = post(staff, app, reference, "propose", target=f"{ids['customers']}/city", after="Delft",
                    note="Moved in May")
    assert response.status_code == 302 and response.location.endswith("#rectification")
    html = case_page(staff, reference)
    assert any(cat == "success" and "Correction recorded" in text for cat, text in flashes(html))
    text = text_of(card(html))
    assert customer["city"] in text and "Delft" in text and "waiting" in text and "Moved in May" in text
    assert {"apply", "cancel"} <= forms_in(card(html)) and "refuse" not in forms_in(card(html))
    with app.app_context():
        correction_id = db.session.execute(sa.select(Correction.id)).scalar_one()

    assert post(staff, app, reference, "refuse", correction_id=correction_id, reason="Accurate").status_code == 403
    assert post(staff, app, reference, "apply", correction_id=correction_id).status_code == 302
    assert rows(systems, "SELECT city FROM customers WHERE id = :i", i=customer["id"])[0]["city"] == "Delft"
    assert "applied" in text_of(card(case_page(staff, reference)))

    post(staff, app, reference, "propose", target=f"{ids['customers']}/gender", after="F")
    with app.app_context():
        second = db.session.execute(sa.select(Correction.id).where(Correction.field == "gender")).scalar_one()
    manager = signed_in(app, Role.PRIVACY_MANAGER)
    assert "refuse" in forms_in(card(case_page(manager, reference)))
    assert post(manager, app, reference, "refuse", correction_id=second,
                reason="The data is accurate").status_code == 302
    with app.app_context():
        assert db.session.get(Correction, second).status is CorrectionStatus.REFUSED
    audit = signed_in(app, Role.AUDITOR).get(f"/cases/{reference}/audit").get_data(as_text=True)
    for label in ("Correction recorded (Art. 16)", "Correction applied", "Correction refused"):
        assert label in audit


def test_the_auditor_reads_the_card_but_may_post_nothing(app, customer):
    reference = make_reference(app, customer)
    staff = signed_in(app, Role.STAFF)
    ids = confirmed(app, staff, reference)
    post(staff, app, reference, "propose", target=f"{ids['customers']}/city", after="Delft")
    auditor = signed_in(app, Role.AUDITOR)
    html = case_page(auditor, reference)
    block = card(html)
    assert "Delft" in block and forms_in(block) == set() and forms_in(notices_card(html)) == set()
    with app.app_context():
        correction_id = db.session.execute(sa.select(Correction.id)).scalar_one()
    for action, fields in (("propose", {"target": f"{ids['customers']}/city", "after": "Leiden"}),
                           ("apply", {"correction_id": correction_id}), ("list", {})):
        assert post(auditor, app, reference, action, **fields).status_code == 403
    assert count(app, Correction) == 1 and count(app, RecipientNotice) == 0


@pytest.mark.parametrize(("target_of", "after", "message"), [
    (lambda ids: f"{ids['customers']}/email", "not an address", "This is not a valid e-mail address"),
    (lambda ids: f"{ids['customers']}/date_of_birth", "2030-01-01", "A date of birth lies between 1900 and today"),
    (lambda ids: f"{ids['customers']}/customer_number", "1", "is a key or not personal data"),
    (lambda ids: "999999/city", "Delft", "Choose the record and the field to correct."),
    (lambda ids: "", "Delft", "Choose the record and the field to correct."),
    (lambda ids: f"{ids['customers']}/city", "", "Type the corrected value."),
])
def test_bad_input_is_refused_with_a_specific_message_and_nothing_written(app, customer, target_of, after, message):
    reference = make_reference(app, customer)
    staff = signed_in(app, Role.STAFF)
    ids = confirmed(app, staff, reference)
    with app.app_context():
        events = db.session.execute(sa.text("SELECT count(*) FROM audit_events")).scalar_one()
    response = post(staff, app, reference, "propose", target=target_of(ids), after=after)
    assert response.status_code == 400
    assert message in text_of(response.get_data(as_text=True))
    assert count(app, Correction) == 0
    with app.app_context():
        assert db.session.execute(sa.text("SELECT count(*) FROM audit_events")).scalar_one() == events


def test_a_stale_page_and_a_changed_value_are_refused_with_409(app, customer, systems):
    reference = make_reference(app, customer)
    staff = signed_in(app, Role.STAFF)
    ids = confirmed(app, staff, reference)
    post(staff, app, reference, "propose", target=f"{ids['customers']}/city", after="Delft")
    with app.app_context():
        correction_id = db.session.execute(sa.select(Correction.id)).scalar_one()
    assert post(staff, app, reference, "apply", stale=True, correction_id=correction_id).status_code == 409
    engine = sa.create_engine(systems)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE customers SET city = 'Utrecht' WHERE id = :i"), {"i": customer["id"]})
    engine.dispose()
    response = post(staff, app, reference, "apply", correction_id=correction_id)
    assert response.status_code == 409
    assert "someone changed it since" in text_of(response.get_data(as_text=True))
    assert rows(systems, "SELECT city FROM customers WHERE id = :i", i=customer["id"])[0]["city"] == "Utrecht"


def test_typed_values_are_escaped(app, customer):
    reference = make_reference(app, customer)
    staff = signed_in(app, Role.STAFF)
    ids = confirmed(app, staff, reference)
    evil = '<script>alert("x")</script>'
    assert post(staff, app, reference, "propose", target=f"{ids['customers']}/city", after=evil[:40],
                note=f"<b>{evil}</b>").status_code == 302
    html = case_page(staff, reference)
    assert "<script>alert" not in html and "<b><script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in card(html)
    # Refused input is shown again escaped too.
    response = post(staff, app, reference, "propose", target=f"{ids['customers']}/email", after=evil)
    assert response.status_code == 400 and "<script>alert" not in response.get_data(as_text=True)


def test_recipients_are_listed_and_ticked_on_an_erasure_case(app, customer):
    reference = make_reference(app, customer, rights=(Right.ERASURE,))
    staff = signed_in(app, Role.STAFF)
    block = notices_card(case_page(staff, reference))
    assert "Recipients to notify of the erasure (Art. 19)" in block and forms_in(block) == {"list"}
    confirmed(app, staff, reference)
    assert post(staff, app, reference, "list").status_code == 302
    html = case_page(staff, reference)
    block = notices_card(html)
    assert "Government authorities and regulators" in text_of(block)
    assert "not_notifiable" not in forms_in(block) and "notified" in forms_in(block)
    with app.app_context():
        notice = db.session.execute(sa.select(RecipientNotice).where(
            RecipientNotice.recipient_id == "mail")).scalar_one()
        notice_id = notice.id
    response = post(staff, app, reference, "notified", notice_id=notice_id, notified_on="2026-12-24", method="email")
    assert response.status_code == 400 and "cannot be in the future" in text_of(response.get_data(as_text=True))
    response = post(staff, app, reference, "notified", notice_id=notice_id, notified_on="2026-11-26", method="fax")
    assert response.status_code == 400
    assert post(staff, app, reference, "notified", notice_id=notice_id, notified_on="2026-11-26", method="post",
                note="<i>ref 12</i>").status_code == 302
    assert "&lt;i&gt;ref 12&lt;/i&gt;" in notices_card(case_page(staff, reference))
    assert post(staff, app, reference, "not_notifiable", notice_id=notice_id + 1, reason="x").status_code == 403
    manager = signed_in(app, Role.PRIVACY_MANAGER)
    assert "not_notifiable" in forms_in(notices_card(case_page(manager, reference)))
    response = post(manager, app, reference, "not_notifiable", notice_id=notice_id + 1, reason="",
                    subject_text="Dit bedrijf bestaat niet meer.")
    assert response.status_code == 400 and count(app, SubjectText) == 0  # refused: no text written either
    # Per recipient, the text the letters quote on why it was not told, in the case's language (issue 14.2);
    # a standard paragraph chosen for one recipient fills that recipient's form only.
    block = notices_card(case_page(manager, reference))
    assert f'for="notice_not_notifiable-subject_text-{notice_id + 1}"' in block
    assert "Text for the subject, in Dutch (the letter quotes it)" in block
    with app.app_context():
        chosen, body = db.session.execute(sa.select(StandardParagraph.id, StandardParagraph.body).where(
            StandardParagraph.purpose == TextPurpose.NOTICE_NOT_MADE, StandardParagraph.language == "nl")).first()
    prefilled = notices_card(manager.get(f"/cases/{reference}?for=notice-{notice_id + 1}&paragraph={chosen}")
                             .get_data(as_text=True))
    filled = re.findall(r'<textarea[^>]*id="notice_not_notifiable-subject_text-(\d+)"[^>]*>([^<]*)</textarea>',
                        prefilled)
    assert {int(i): t.strip() for i, t in filled if t.strip()} == {notice_id + 1: body}
    assert post(manager, app, reference, "not_notifiable", notice_id=notice_id + 1,
                reason="Backups only; they expire", subject_text=body).status_code == 302
    with app.app_context():
        [text] = db.session.scalars(sa.select(SubjectText)).all()
        assert (text.purpose, text.item_id, text.language, text.body) == (
            TextPurpose.NOTICE_NOT_MADE, notice_id + 1, "nl", body)
        assert db.session.get(RecipientNotice, notice_id + 1).reason == "Backups only; they expire"


def test_no_card_on_a_case_that_requests_neither_right(app, customer):
    reference = make_reference(app, customer, rights=(Right.ACCESS,))
    html = case_page(signed_in(app, Role.STAFF), reference)
    assert 'id="rectification"' not in html and 'id="notices"' not in html


@pytest.mark.parametrize(("rights", "heading"), [
    ((Right.ERASURE,), "Recipients to notify of the erasure (Art. 19)"),
    ((Right.RECTIFICATION,), "Recipients to notify of the rectification (Art. 19)"),
    ((Right.RECTIFICATION, Right.ERASURE), "Recipients to notify (Art. 19)"),
])
def test_the_recipients_card_is_its_own_for_every_right_that_changes_data(app, customer, rights, heading):
    """Art. 19 is the notices feature's card, titled by the change the right registered; the rectification
    card is there only for a rectification."""
    reference = make_reference(app, customer, rights=rights)
    html = case_page(signed_in(app, Role.STAFF), reference)
    assert f'<div class="card-header fw-semibold">{heading}</div>' in card_of(html, "notices", "attachments")
    assert ('id="rectification"' in html) is (Right.RECTIFICATION in rights)


def test_completing_is_refused_while_corrections_wait(app, customer):
    reference = make_reference(app, customer)
    staff = signed_in(app, Role.STAFF)
    ids = confirmed(app, staff, reference)
    post(staff, app, reference, "propose", target=f"{ids['customers']}/city", after="Delft")
    html = case_page(staff, reference)
    assert "1 correction is neither applied nor refused" in text_of(card(html))
    with app.app_context():
        case = db.session.execute(sa.select(Case).where(Case.reference == reference)).scalar_one()
        case.state = "awaiting_approval"
        db.session.commit()
    manager = signed_in(app, Role.PRIVACY_MANAGER)
    response = manager.post(f"/cases/{reference}/act/complete", data={
        "complete-version": version(app, reference), "complete-decision": "Done"})
    assert response.status_code == 409
    assert "cannot be completed yet" in text_of(response.get_data(as_text=True))


def test_every_form_carries_a_csrf_token_and_a_post_without_one_is_refused(app, customer, monkeypatch):
    reference = make_reference(app, customer)
    staff = signed_in(app, Role.STAFF)
    ids = confirmed(app, staff, reference)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"email": "staff@harmony.test", "password": "staff-password-123",
                                       "csrf_token": token}).status_code == 302
    block = card(case_page(client, reference))
    bodies = re.findall(r'<form method="post" action="/cases/[^"]+/rectification/(\w+)"[^>]*>(.*?)</form>', block,
                        re.S)
    assert bodies
    for action, body in bodies:
        assert f'name="rect_{action}-csrf_token"' in body
    bodies = re.findall(r'<form method="post" action="/cases/[^"]+/notices/(\w+)"[^>]*>(.*?)</form>',
                        notices_card(case_page(client, reference)), re.S)
    assert [action for action, _body in bodies] == ["list"]
    assert all(f'name="notice_{action}-csrf_token"' in body for action, body in bodies)
    response = post(client, app, reference, "propose", target=f"{ids['customers']}/city", after="Delft")
    assert response.status_code == 400 and count(app, Correction) == 0
    token = re.search(r'name="rect_propose-csrf_token" value="([^"]+)"', block).group(1)
    assert post(client, app, reference, "propose", target=f"{ids['customers']}/city", after="Delft",
                csrf_token=token).status_code == 302
    assert count(app, Correction) == 1
