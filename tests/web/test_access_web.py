"""The preview of the answer to an access request (Art. 15; issue 4, item 6) through the web client: staff,
the privacy manager and the auditor read it in the case's language or another, every showing is audited and
is a POST (issue 12, item 6), data from Harmony's systems is escaped, and it is offered on the data card only
for cases with the access right. The review of other people's data in it (Art. 15(4); issue 18, item 4). On SQLite and PostgreSQL; the clock is frozen on the day the demo systems were generated for."""

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
from tests.web.support import frozen_clock, read_form, signed_in, text_of

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
    response = client.post(f"/cases/{reference}/access")
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
    nl = text_of(client.post(f"/cases/{reference}/access", data={"lang": "nl"}).get_data(as_text=True))
    assert "Risicodrager" in nl and "Het voorkomen en bestrijden van fraude" in nl
    fr = text_of(client.post(f"/cases/{reference}/access", data={"lang": "fr"}).get_data(as_text=True))
    assert "Porteur de risque" in fr
    assert client.post(f"/cases/{reference}/access", data={"lang": "de"}).status_code == 400
    assert [e.after["language"] for e in access_events(app)] == ["nl", "fr"]


def test_data_from_the_sources_is_escaped(app, reference):
    html = signed_in(app, Role.STAFF).post(f"/cases/{reference}/access").get_data(as_text=True)
    assert '<script>alert("x")</script>' not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Zn" in html


def test_anonymous_is_sent_to_the_login_page(app, reference):
    response = app.test_client().post(f"/cases/{reference}/access")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert access_events(app) == []


def test_linked_from_the_data_card_once_the_match_is_confirmed(app, reference):
    html = signed_in(app, Role.STAFF).get(f"/cases/{reference}").get_data(as_text=True)
    assert f'action="/cases/{reference}/access"' in html


def test_unconfirmed_match_shows_why_and_audits_nothing(app, harmony, customer, monkeypatch):
    reference = _case(app, harmony, customer, monkeypatch, confirm=False)
    client = signed_in(app, Role.STAFF)
    response = client.post(f"/cases/{reference}/access")
    assert response.status_code == 409
    assert "confirm that the records found" in text_of(response.get_data(as_text=True))
    assert customer["email"] not in response.get_data(as_text=True)
    assert access_events(app) == []
    assert f'action="/cases/{reference}/access"' not in client.get(f"/cases/{reference}").get_data(as_text=True)


def test_a_case_without_the_access_right_has_no_preview(app, harmony, customer, monkeypatch):
    reference = _case(app, harmony, customer, monkeypatch, rights=(Right.ERASURE,))
    client = signed_in(app, Role.STAFF)
    assert client.post(f"/cases/{reference}/access").status_code == 404
    assert f'action="/cases/{reference}/access"' not in client.get(f"/cases/{reference}").get_data(as_text=True)
    assert access_events(app) == []


def test_unknown_case_is_404(app, reference):
    assert signed_in(app, Role.STAFF).post("/cases/DSR-0000-0000/access").status_code == 404


def test_the_preview_names_fields_collections_and_retention_in_the_chosen_language(app, reference):
    """The data map's labels and names and the rules' texts in the answer's language; the column name stays
    shown next to each label, for staff to find the value in the source."""
    client = signed_in(app, Role.STAFF)
    nl_html = client.post(f"/cases/{reference}/access", data={"lang": "nl"}).get_data(as_text=True)
    nl = text_of(nl_html)
    for expected in ("Achternaam", "Geboortedatum", "Polissen", "Polisadministratie", "Klantcontactcentrum",
                     "Fiscale bewaarplicht facturen en premiebetalingen (7 jaar)"):
        assert expected in nl, expected
    assert '<span class="d-block font-monospace small field-name" lang="en">last_name</span>' in nl_html
    for english in ("Policy administration", "Contact centre", "Statutory fiscal retention", "Last name"):
        assert english not in nl, english
    fr = text_of(client.post(f"/cases/{reference}/access", data={"lang": "fr"}).get_data(as_text=True))
    for expected in ("Nom", "Date de naissance", "Gestion des polices", "Centre de contact clients",
                     "Obligation légale de conservation fiscale"):
        assert expected in fr, expected
    assert "Policy administration" not in fr and "Statutory fiscal retention" not in fr


# -- a POST with contents and collapsible sections (issue 12.6, 16.11) --------------------------------------


def test_the_preview_is_a_post_with_a_table_of_contents_and_collapsible_sections(app, reference):
    client = signed_in(app, Role.STAFF)
    assert client.get(f"/cases/{reference}/access").status_code == 405  # a link cannot set off the reading
    assert access_events(app) == []
    html = client.post(f"/cases/{reference}/access").get_data(as_text=True)
    assert 'id="access-toc"' in html
    for section in ("access-review", "access-categories-section", "access-data", "access-purposes-section",
                    "access-recipients-section", "access-rights-section", "access-complaint-section"):
        assert f'href="#{section}"' in html and f'id="{section}"' in html, section
    assert html.count("<details") == html.count("</details>") > 8 and "<summary" in html
    assert "<script" not in html.split("</nav>", 1)[1]  # no inline script: the CSP forbids it
    # The language is chosen with buttons that post, each with the CSRF token.
    assert 'name="lang" value="nl"' in html and 'name="lang" value="fr"' in html


# -- the review of other people's data (Art. 15(4), issue 18.4) ---------------------------------------------


def _flagged(app, reference, collection: str, field: str):
    from dsr.cases.queries import case_by_reference
    from dsr.fulfilment.lookup_ops import latest_lookup
    from dsr.fulfilment.redaction_ops import flagged_values

    with app.app_context():
        lookup = latest_lookup(case_by_reference(reference))
        values = [v for v in flagged_values(lookup) if (v.collection, v.field) == (collection, field)]
        return lookup.id, values


def _decisions(app) -> list:
    from dsr.fulfilment.models import RedactionDecision

    with app.app_context():
        rows = [(d.collection, d.field, d.choice.value, d.ground and d.ground.value, d.spans, d.decided_at is not None)
                for d in db.session.execute(sa.select(RedactionDecision).order_by(RedactionDecision.id)).scalars()]
        return rows


def test_each_review_form_carries_its_records_key_as_a_browser_reads_it(app, reference):
    # The key is JSON in a hidden field: unescaped, its quotes ended the attribute and every decision from
    # the page was refused ("Choose release, …"), though posts made by hand passed.
    import json

    lookup_id, incidents = _flagged(app, reference, "incidents", "description")
    page = signed_in(app, Role.STAFF).post(f"/cases/{reference}/access").get_data(as_text=True)
    keys = [json.loads(value) for value in read_form(page).values["key"]]
    assert incidents and incidents[0].key in keys


def test_staff_prepare_and_the_privacy_manager_decides_a_value_that_may_concern_others(app, reference):
    import json

    lookup_id, incidents = _flagged(app, reference, "incidents", "description")
    target = incidents[0]
    passage = target.value.split()[0]
    form = {"lookup_id": str(lookup_id), "source": target.source, "collection": target.collection,
            "key": json.dumps(target.key), "field": target.field, "choice": "redact", "ground": "other_person",
            "passages": passage, "note": "Naam van de buurman", "lang": "nl"}

    page = signed_in(app, Role.PRIVACY_MANAGER).post(f"/cases/{reference}/access")
    assert "not decided" in text_of(page.get_data(as_text=True))

    # The auditor only reads; staff prepare: a proposal, not a decision.
    assert signed_in(app, Role.AUDITOR).post(f"/cases/{reference}/access/redactions", data=form).status_code == 403
    staff = signed_in(app, Role.STAFF)
    response = staff.post(f"/cases/{reference}/access/redactions", data=form)
    assert response.status_code == 200
    assert "prepared by" in text_of(response.get_data(as_text=True))
    [(coll, field, choice, ground, spans, decided)] = _decisions(app)
    assert (coll, field, choice, ground, decided) == ("incidents", "description", "redact", "other_person", False)
    assert spans[0] == [0, len(passage)]  # offsets into the value; the passage itself is not stored

    # Bad input: a passage that is not in the value, a withholding without a ground; nothing changes.
    manager = signed_in(app, Role.PRIVACY_MANAGER)
    wrong = manager.post(f"/cases/{reference}/access/redactions", data={**form, "passages": "Zzyzx quux"})
    assert wrong.status_code == 400 and "does not occur in the value" in text_of(wrong.get_data(as_text=True))
    no_ground = manager.post(f"/cases/{reference}/access/redactions", data={**form, "choice": "withhold",
                                                                            "ground": ""})
    assert no_ground.status_code == 400 and "choose a ground" in text_of(no_ground.get_data(as_text=True))
    assert [d[5] for d in _decisions(app)] == [False]

    # The privacy manager decides: the copy shows the passage as [withheld].
    decided = manager.post(f"/cases/{reference}/access/redactions", data=form)
    assert decided.status_code == 200
    assert [d[5] for d in _decisions(app)] == [True]
    assert "[withheld]" in text_of(decided.get_data(as_text=True))
    with app.app_context():
        actions = [e.action for e in db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.action.like("redaction.%")).order_by(AuditEvent.id)).scalars()]
        payloads = [e.after for e in db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.action.like("redaction.%"))).scalars()]
    assert actions == ["redaction.proposed", "redaction.decided"]
    assert all(target.value not in json.dumps(p) and passage not in json.dumps(p) for p in payloads)


def test_an_access_export_is_refused_while_a_value_that_may_concern_others_is_undecided(app, reference):
    response = signed_in(app, Role.STAFF).post(f"/cases/{reference}/exports", data={"kind": "access"},
                                                 follow_redirects=True)
    assert "not yet decided by the privacy manager" in text_of(response.get_data(as_text=True))
    with app.app_context():
        from dsr.exports.models import Export

        assert db.session.scalar(sa.select(sa.func.count()).select_from(Export)) == 0
