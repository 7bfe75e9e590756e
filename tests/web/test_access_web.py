"""The preview of the answer to an access request (Art. 15; issue 4, item 6) through the web client: staff,
the privacy manager and the auditor read it in the case's language or another, every view is audited, data
from Harmony's systems is escaped, and it is linked from the data card only for cases with the access
right. On SQLite and PostgreSQL; the clock is frozen on the day the demo systems were generated for."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from dsr.audit.models import AuditEvent
from dsr.auth.models import User
from dsr.domain.enums import Language, Right, Role
from dsr.extensions import db
from dsr.fulfilment.lookup_ops import confirm_match, run_lookup
from tests.conftest import NOW, TODAY
from tests.factories import make_case, make_user
from tests.harmony_support import customer_with_everything, demo_systems, subject_of
from tests.web.support import frozen_clock, signed_in, text_of

HOSTILE = '<script>alert("x")</script> & Zn'


@pytest.fixture
def app(backend_app):
    return backend_app


@pytest.fixture(autouse=True)
def _frozen_clock():
    yield from frozen_clock()


@pytest.fixture(scope="module")
def harmony(tmp_path_factory) -> str:
    """This module's own demo systems, with markup in one customer's street (data the page must escape)."""
    url = demo_systems(tmp_path_factory, TODAY)
    customer = customer_with_everything(url)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE customers SET street = :s WHERE id = :c"), {"s": HOSTILE, "c": customer["id"]})
    engine.dispose()
    return url


@pytest.fixture
def customer(harmony) -> dict:
    return customer_with_everything(harmony)


def _case(app, harmony, customer, monkeypatch, *, rights=(Right.ACCESS,), confirm=True) -> str:
    monkeypatch.setitem(app.config, "DEMO_SYSTEMS_URL", harmony)
    with app.app_context():
        for role in Role:
            if db.session.execute(sa.select(User).where(User.role == role)).scalar_one_or_none() is None:
                make_user(role)
        staff = db.session.execute(sa.select(User).where(User.role == Role.STAFF)).scalar_one()
        case = make_case(actor=staff, rights=rights, language=Language.EN, **subject_of(customer))
        lookup = run_lookup(case, actor=staff, now=NOW)
        if confirm:
            confirm_match(lookup, actor=staff, now=NOW)
        db.session.commit()
        reference = case.reference
        db.session.remove()
        return reference


@pytest.fixture
def reference(app, harmony, customer, monkeypatch) -> str:
    return _case(app, harmony, customer, monkeypatch)


def access_events(app) -> list[AuditEvent]:
    with app.app_context():
        events = list(db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.action == "access.previewed").order_by(AuditEvent.id)).scalars())
        db.session.expunge_all()
        return events


@pytest.mark.parametrize("role", [Role.STAFF, Role.PRIVACY_MANAGER, Role.AUDITOR])
def test_readers_see_the_compiled_answer_and_each_view_is_audited(app, reference, customer, role):
    client = signed_in(app, role)
    response = client.get(f"/cases/{reference}/access")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    text = text_of(html)
    assert customer["email"] in text
    for expected in ("Contact data", "Focus Feedback", "Risk bearer", "Preventing and combating fraud",
                     "Recorded telephone conversations are stored for a maximum of 180 days",
                     "Autoriteit Persoonsgegevens", "Postbus 93374, 2509 AJ Den Haag", "privacy@harmony.nl"):
        assert expected in text, expected
    events = access_events(app)
    assert len(events) == 1
    assert events[0].after["language"] == "en" and events[0].after["records"] > 0


def test_the_language_can_be_chosen(app, reference):
    client = signed_in(app, Role.STAFF)
    nl = text_of(client.get(f"/cases/{reference}/access?lang=nl").get_data(as_text=True))
    assert "Risicodrager" in nl and "Het voorkomen en bestrijden van fraude" in nl
    fr = text_of(client.get(f"/cases/{reference}/access?lang=fr").get_data(as_text=True))
    assert "Porteur de risque" in fr
    assert client.get(f"/cases/{reference}/access?lang=de").status_code == 400
    assert [e.after["language"] for e in access_events(app)] == ["nl", "fr"]


def test_data_from_the_sources_is_escaped(app, reference):
    html = signed_in(app, Role.STAFF).get(f"/cases/{reference}/access").get_data(as_text=True)
    assert '<script>alert("x")</script>' not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Zn" in html


def test_anonymous_is_sent_to_the_login_page(app, reference):
    response = app.test_client().get(f"/cases/{reference}/access")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert access_events(app) == []


def test_linked_from_the_data_card_once_the_match_is_confirmed(app, reference):
    html = signed_in(app, Role.STAFF).get(f"/cases/{reference}").get_data(as_text=True)
    assert f'href="/cases/{reference}/access"' in html


def test_unconfirmed_match_shows_why_and_audits_nothing(app, harmony, customer, monkeypatch):
    reference = _case(app, harmony, customer, monkeypatch, confirm=False)
    client = signed_in(app, Role.STAFF)
    response = client.get(f"/cases/{reference}/access")
    assert response.status_code == 409
    assert "confirm that the records found" in text_of(response.get_data(as_text=True))
    assert customer["email"] not in response.get_data(as_text=True)
    assert access_events(app) == []
    assert f'href="/cases/{reference}/access"' not in client.get(f"/cases/{reference}").get_data(as_text=True)


def test_a_case_without_the_access_right_has_no_preview(app, harmony, customer, monkeypatch):
    reference = _case(app, harmony, customer, monkeypatch, rights=(Right.ERASURE,))
    client = signed_in(app, Role.STAFF)
    assert client.get(f"/cases/{reference}/access").status_code == 404
    assert f'href="/cases/{reference}/access"' not in client.get(f"/cases/{reference}").get_data(as_text=True)
    assert access_events(app) == []


def test_unknown_case_is_404(app, reference):
    assert signed_in(app, Role.STAFF).get("/cases/DSR-0000-0000/access").status_code == 404


def test_the_preview_names_fields_collections_and_retention_in_the_chosen_language(app, reference):
    """The data map's labels and names and the rules' texts in the answer's language; the column name stays
    shown next to each label, for staff to find the value in the source."""
    client = signed_in(app, Role.STAFF)
    nl_html = client.get(f"/cases/{reference}/access?lang=nl").get_data(as_text=True)
    nl = text_of(nl_html)
    for expected in ("Achternaam", "Geboortedatum", "Polissen", "Polisadministratie", "Klantcontactcentrum",
                     "Fiscale bewaarplicht facturen en premiebetalingen (7 jaar)"):
        assert expected in nl, expected
    assert '<span class="d-block font-monospace small field-name" lang="en">last_name</span>' in nl_html
    for english in ("Policy administration", "Contact centre", "Statutory fiscal retention", "Last name"):
        assert english not in nl, english
    fr = text_of(client.get(f"/cases/{reference}/access?lang=fr").get_data(as_text=True))
    for expected in ("Nom", "Date de naissance", "Gestion des polices", "Centre de contact clients",
                     "Obligation légale de conservation fiscale"):
        assert expected in fr, expected
    assert "Policy administration" not in fr and "Statutory fiscal retention" not in fr
