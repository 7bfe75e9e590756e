"""The "Letters" card on the case page (issue 5, item 2): roles, CSRF, preview, issue, audited download, and
the 400 for a kind or language that does not exist. On SQLite and PostgreSQL, the clock frozen."""

from __future__ import annotations

import hashlib
import re

import pytest
import sqlalchemy as sa

from dsr.audit.models import AuditEvent
from dsr.auth.models import User
from dsr.domain.enums import Language, Role
from dsr.extensions import db
from dsr.letters.models import IssuedLetter
from tests.conftest import NOW
from tests.factories import make_case
from tests.web.support import card_of, csrf_token, flashes, frozen_clock, new_case, signed_in, text_of


@pytest.fixture
def app(backend_app):
    return backend_app


@pytest.fixture(autouse=True)
def _frozen_clock():
    yield from frozen_clock()


@pytest.fixture
def reference(app) -> str:
    return new_case(app, language=Language.FR, name='<img src="file:///etc/passwd">')


def letters_card(html: str) -> str:
    return card_of(html, "letters", "jobs")


def issued(app) -> list[IssuedLetter]:
    with app.app_context():
        letters = list(db.session.execute(sa.select(IssuedLetter).order_by(IssuedLetter.id)).scalars())
        db.session.expunge_all()
        return letters


def events(app, action: str) -> list[dict]:
    with app.app_context():
        return [e.after for e in db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).scalars()]


def test_staff_issue_a_letter_from_the_case_page_in_the_cases_language_by_default(app, reference):
    client = signed_in(app, Role.STAFF)
    card = letters_card(client.get(f"/cases/{reference}").get_data(as_text=True))
    assert "No letter issued yet." in card
    assert re.search(r'<option selected value="fr">|<option value="fr" selected>', card)  # the case's language
    response = client.post(f"/cases/{reference}/letters", data={"kind": "acknowledgement", "language": "fr"})
    assert response.status_code == 303 and response.location.endswith(f"/cases/{reference}#letters")
    [letter] = issued(app)
    assert (letter.kind.value, letter.language.value, letter.version) == ("acknowledgement", "fr", 1)

    page = client.get(f"/cases/{reference}").get_data(as_text=True)
    # Without Redis the job ran in this request: the page says it is done, not "being made".
    assert ("success", "The letter was issued; it is listed under Letters.") in flashes(page)
    card = letters_card(page)
    assert "Acknowledgement of receipt" in text_of(card) and "v1" in card
    download = client.get(f"/cases/{reference}/letters/{letter.id}.pdf")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert hashlib.sha256(download.data).hexdigest() == letter.sha256
    assert f"{reference}-acknowledgement-v1-fr.pdf" in download.headers["Content-Disposition"]
    assert download.headers["Cache-Control"] == "no-store"
    assert events(app, "letter.downloaded")[0]["letter_id"] == letter.id


def test_the_auditor_reads_and_downloads_letters_but_cannot_issue_or_preview(app, reference):
    signed_in(app, Role.STAFF).post(f"/cases/{reference}/letters", data={"kind": "acknowledgement", "language": "en"})
    [letter] = issued(app)
    auditor = signed_in(app, Role.AUDITOR)
    card = letters_card(auditor.get(f"/cases/{reference}").get_data(as_text=True))
    assert "<form" not in card and f"/letters/{letter.id}.pdf" in card
    assert auditor.post(f"/cases/{reference}/letters", data={"kind": "acknowledgement", "language": "en"}
                        ).status_code == 403
    assert auditor.post(f"/cases/{reference}/letters/preview", data={"kind": "acknowledgement",
                                                                     "language": "en"}).status_code == 403
    assert auditor.get(f"/cases/{reference}/letters/{letter.id}.pdf").status_code == 200
    assert len(issued(app)) == 1
    assert len(events(app, "letter.downloaded")) == 1


def test_anonymous_visitors_are_sent_to_the_login_page(app, reference):
    client = app.test_client()
    for url in (f"/cases/{reference}/letters/1.pdf", "/letters/assets/letter.css"):
        assert client.get(url).status_code == 302
    for url in (f"/cases/{reference}/letters", f"/cases/{reference}/letters/preview"):
        assert client.post(url, data={"kind": "acknowledgement"}).status_code == 302


def test_issuing_without_the_csrf_token_is_refused(app, reference, monkeypatch):
    client = signed_in(app, Role.STAFF)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = client.post(f"/cases/{reference}/letters", data={"kind": "acknowledgement", "language": "en"})
    assert response.status_code == 400
    assert issued(app) == []
    card = letters_card(client.get(f"/cases/{reference}").get_data(as_text=True))
    response = client.post(f"/cases/{reference}/letters", data={"kind": "acknowledgement", "language": "en",
                                                                "csrf_token": csrf_token(card)})
    assert response.status_code == 303 and len(issued(app)) == 1


def test_preview_is_a_page_of_its_own_under_the_strict_csp(app, reference):
    client = signed_in(app, Role.STAFF)
    response = client.post(f"/cases/{reference}/letters/preview", data={"kind": "acknowledgement", "language": "en"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert reference in html and "Preview — this letter has not been issued" in html
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html and '<img src="file:///etc' not in html
    assert "style=" not in html and "<script" not in html and "<style" not in html
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    assert 'href="/letters/assets/letter.css"' in html
    assert client.get("/letters/assets/letter.css").status_code == 200
    assert client.get("/letters/assets/../../config.py").status_code == 404
    assert issued(app) == []  # a preview stores nothing
    assert events(app, "letter.previewed") == []  # an acknowledgement reads only the case: not audited


def test_previewing_a_letter_that_reads_harmonys_systems_is_audited_by_the_operation(app, reference):
    """The view calls ``record_preview``; the access and portability letters' previews are audit events."""
    from dsr.cases.queries import case_by_reference
    from dsr.letters.kinds import LetterKind, LetterLanguage
    from dsr.letters.operations import record_preview

    with app.app_context():
        case = case_by_reference(reference)
        staff = db.session.execute(sa.select(User).where(User.role == Role.STAFF)).scalar_one()
        assert not record_preview(case, LetterKind.ACKNOWLEDGEMENT, LetterLanguage.EN, actor=staff, now=NOW)
        for kind in (LetterKind.COMPLETION_ACCESS, LetterKind.COMPLETION_PORTABILITY):
            assert record_preview(case, kind, LetterLanguage.FR, actor=staff, now=NOW)
        db.session.commit()
    assert events(app, "letter.previewed") == [{"kind": "completion_access", "language": "fr"},
                                               {"kind": "completion_portability", "language": "fr"}]


@pytest.mark.parametrize("data", [{"kind": "love_letter", "language": "en"},
                                  {"kind": "acknowledgement", "language": "de"}, {"language": "en"}])
def test_an_unknown_kind_or_language_is_a_bad_request(app, reference, data):
    client = signed_in(app, Role.STAFF)
    assert client.post(f"/cases/{reference}/letters", data=data).status_code == 400
    assert client.post(f"/cases/{reference}/letters/preview", data=data).status_code == 400
    assert issued(app) == []


def test_a_letter_that_does_not_fit_the_case_is_refused_with_the_reason(app, reference):
    client = signed_in(app, Role.STAFF)
    response = client.post(f"/cases/{reference}/letters", data={"kind": "refusal", "language": "en"})
    assert response.status_code == 409
    assert "A letter of this kind does not fit" in text_of(response.get_data(as_text=True))
    assert client.post(f"/cases/{reference}/letters/preview", data={"kind": "completion_erasure",
                                                                     "language": "en"}).status_code == 409
    # A preview is never made by a plain link (GET): it may read Harmony's systems and is audited.
    assert client.get(f"/cases/{reference}/letters/preview?kind=acknowledgement&language=en").status_code == 405
    assert issued(app) == []


def test_a_letter_of_another_case_is_not_found(app, reference):
    client = signed_in(app, Role.STAFF)
    client.post(f"/cases/{reference}/letters", data={"kind": "acknowledgement", "language": "en"})
    [letter] = issued(app)
    with app.app_context():
        staff = db.session.execute(sa.select(User).where(User.role == Role.STAFF)).scalar_one()
        other = make_case(actor=staff).reference
    assert client.get(f"/cases/{other}/letters/{letter.id}.pdf").status_code == 404
    assert client.get(f"/cases/{reference}/letters/{letter.id + 1}.pdf").status_code == 404


def test_a_request_for_information_already_answered_is_not_offered_and_is_refused_with_the_reason(app, reference):
    """The subject's reply is recorded: the card no longer offers the letter that asks for it, and asking for it
    anyway (a form kept open, a crafted post) is a 409 on the case page saying why and what to do."""
    from datetime import date

    from dsr.cases import timing
    from dsr.cases.queries import case_by_reference

    with app.app_context():
        case = case_by_reference(reference)
        staff = db.session.execute(sa.select(User).where(User.role == Role.STAFF)).scalar_one()
        timing.request_information(case, reason="Policy number", requested_on=date(2026, 11, 23), actor=staff,
                                   now=NOW, today=date(2026, 11, 26))
        db.session.commit()
    client = signed_in(app, Role.STAFF)
    assert 'value="information_request"' in letters_card(client.get(f"/cases/{reference}").get_data(as_text=True))
    with app.app_context():
        case = case_by_reference(reference)
        staff = db.session.execute(sa.select(User).where(User.role == Role.STAFF)).scalar_one()
        timing.information_received(case, received_on=date(2026, 11, 25), actor=staff, now=NOW,
                                    today=date(2026, 11, 26))
        db.session.commit()
    assert 'value="information_request"' not in letters_card(client.get(f"/cases/{reference}").get_data(as_text=True))
    for url in (f"/cases/{reference}/letters", f"/cases/{reference}/letters/preview"):
        response = client.post(url, data={"kind": "information_request", "language": "en"})
        assert response.status_code == 409
        assert (f"{reference} is not waiting for information. Record what information is asked for (ask the subject "
                "for information) before writing the letter that asks for it.") in text_of(response.get_data(as_text=True))
    assert issued(app) == []
