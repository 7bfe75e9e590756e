"""Texts for the subject (issue 14, item 2): what a letter quotes is written per language, apart from the staff
note; a letter whose text is missing in its language is refused, naming the field, when previewed, issued or
asked for through the API; the library of standard paragraphs is the privacy managers' to keep, and a
paragraph pre-fills a case's text to adapt; the preview marks typed text, the issued letter does not."""

from __future__ import annotations

import html as htmllib

import pytest
import sqlalchemy as sa

from dsr.audit.models import AuditEvent
from dsr.auth.models import User
from dsr.auth.operations import issue_api_token
from dsr.cases import lifecycle
from dsr.cases.queries import case_by_reference
from dsr.domain.enums import Language, RefusalGround, Role
from dsr.extensions import db
from dsr.letters.kinds import LetterKind, LetterLanguage
from dsr.letters.operations import documents
from dsr.texts.models import StandardParagraph, SubjectText, TextPurpose
from dsr.texts.operations import MissingSubjectText
from tests.conftest import NOW, TODAY
from tests.web.support import flashes, frozen_clock, new_case, signed_in, text_of

STAFF_NOTE = "Fifth repeat this month, caller rude, see log"
DUTCH = "Dit is uw vijfde gelijke verzoek deze maand; wij beantwoordden het eerste op 2 november 2026."


@pytest.fixture
def app(backend_app):
    return backend_app


@pytest.fixture(autouse=True)
def _frozen_clock():
    yield from frozen_clock()


@pytest.fixture
def refused(app) -> str:
    """A Dutch case refused by the privacy manager, whose staff note is English and internal."""
    reference = new_case(app, language=Language.NL)
    with app.app_context():
        case = case_by_reference(reference)
        manager = db.session.execute(sa.select(User).where(User.role == Role.PRIVACY_MANAGER)).scalar_one()
        lifecycle.refuse(case, ground=RefusalGround.MANIFESTLY_UNFOUNDED, justification=STAFF_NOTE, actor=manager,
                         now=NOW)
        db.session.commit()
    return reference


def texts(app) -> dict[tuple[str, str], str]:
    with app.app_context():
        return {(t.purpose.value, t.language): t.body for t in db.session.execute(sa.select(SubjectText)).scalars()}


def actions(app, prefix: str) -> list[str]:
    with app.app_context():
        return list(db.session.execute(sa.select(AuditEvent.action).where(AuditEvent.action.like(f"{prefix}%"))
                                       .order_by(AuditEvent.id)).scalars())


def test_a_dutch_letter_with_only_an_english_text_is_refused_naming_the_field(app, refused):
    staff = signed_in(app, Role.STAFF)
    page = staff.get(f"/cases/{refused}/texts").get_data(as_text=True)
    assert STAFF_NOTE in page and "Staff note (internal, never printed)" in page
    assert staff.post(f"/cases/{refused}/texts", data={"slot": "refusal-0", "language": "en",
                                                       "body": "This is your fifth identical request."}).status_code == 303
    message = "The refusal's justification has no Dutch text for the subject"
    preview = staff.post(f"/cases/{refused}/letters/preview", data={"kind": "refusal", "language": "nl"})
    assert preview.status_code == 409 and message in htmllib.unescape(preview.get_data(as_text=True))
    issue = staff.post(f"/cases/{refused}/letters", data={"kind": "refusal", "language": "nl"})
    assert issue.status_code == 409 and message in htmllib.unescape(issue.get_data(as_text=True))
    # "all": the Dutch text is missing, so the three-language letter is refused too; English alone is fine.
    assert staff.post(f"/cases/{refused}/letters", data={"kind": "refusal", "language": "all"}).status_code == 409
    assert staff.post(f"/cases/{refused}/letters", data={"kind": "refusal", "language": "en"}).status_code == 303

    assert staff.post(f"/cases/{refused}/texts", data={"slot": "refusal-0", "language": "nl",
                                                       "body": DUTCH}).status_code == 303
    preview = staff.post(f"/cases/{refused}/letters/preview", data={"kind": "refusal", "language": "nl"})
    body = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert DUTCH in htmllib.unescape(body) and STAFF_NOTE not in body
    assert '<body class="letter kind-refusal preview">' in body and '<blockquote class="typed">' in body
    assert actions(app, "subject_text") == ["subject_text.saved", "subject_text.saved"]
    assert texts(app) == {("refusal", "en"): "This is your fifth identical request.", ("refusal", "nl"): DUTCH}


def test_the_issued_letter_is_not_marked_and_prints_no_staff_note(app, refused):
    with app.app_context():
        case = case_by_reference(refused)
        with pytest.raises(MissingSubjectText, match="no Dutch text"):
            documents(case, LetterKind.REFUSAL, LetterLanguage.NL, today=TODAY)
        db.session.add(SubjectText(case=case, purpose=TextPurpose.REFUSAL, item_id=0, language="nl", body=DUTCH,
                                   updated_at=NOW))
        db.session.flush()
        [issued] = documents(case, LetterKind.REFUSAL, LetterLanguage.NL, today=TODAY)
        assert DUTCH in htmllib.unescape(issued) and STAFF_NOTE not in issued
        assert "preview" not in issued.split("<body", 1)[1].split(">", 1)[0]


def test_an_empty_text_removes_it_and_the_auditor_reads_but_cannot_write(app, refused):
    staff = signed_in(app, Role.STAFF)
    staff.post(f"/cases/{refused}/texts", data={"slot": "refusal-0", "language": "fr", "body": "Demande répétée."})
    auditor = signed_in(app, Role.AUDITOR)
    page = auditor.get(f"/cases/{refused}/texts")
    assert page.status_code == 200 and "Demande répétée." in page.get_data(as_text=True)
    assert auditor.post(f"/cases/{refused}/texts", data={"slot": "refusal-0", "language": "fr",
                                                         "body": ""}).status_code == 403
    response = staff.post(f"/cases/{refused}/texts", data={"slot": "refusal-0", "language": "fr", "body": "  "},
                          follow_redirects=True)
    assert ("success", "The text for the subject was removed.") in flashes(response.get_data(as_text=True))
    assert texts(app) == {}
    assert actions(app, "subject_text") == ["subject_text.saved", "subject_text.removed"]
    # A slot the case does not have, or a language dsr does not write in: a clear 4xx, nothing written.
    assert staff.post(f"/cases/{refused}/texts", data={"slot": "extension-0", "language": "nl",
                                                       "body": "x"}).status_code == 400
    assert staff.post(f"/cases/{refused}/texts", data={"slot": "refusal-0", "language": "de",
                                                       "body": "x"}).status_code == 400
    assert staff.post(f"/cases/{refused}/texts", data={"slot": "nonsense", "language": "nl",
                                                       "body": "x"}).status_code == 400
    assert texts(app) == {}


def test_the_library_is_seeded_kept_by_managers_and_a_paragraph_prefills_a_case_text(app, refused):
    with app.app_context():
        seeded = {(p.purpose.value, p.language) for p in db.session.execute(sa.select(StandardParagraph)).scalars()}
        nl_refusal = db.session.execute(sa.select(StandardParagraph).where(
            StandardParagraph.purpose == TextPurpose.REFUSAL, StandardParagraph.language == "nl")).scalars().first()
        chosen_id, chosen_body = nl_refusal.id, nl_refusal.body
    # The migration's defaults, in the three languages, for every purpose but the optional partial refusal.
    for purpose in ("extension", "information_request", "refusal", "correction_refusal", "objection_outcome",
                    "fee_basis"):
        assert {(purpose, lang) for lang in ("nl", "en", "fr")} <= seeded
    staff = signed_in(app, Role.STAFF)
    assert staff.get("/texts/library").status_code == 200
    new = {"purpose": "extension", "language": "nl", "title": "Drukte", "body": "Wij ontvingen veel verzoeken."}
    assert staff.post("/texts/library", data=new).status_code == 403
    manager = signed_in(app, Role.PRIVACY_MANAGER)
    assert manager.post("/texts/library", data=new).status_code == 303
    assert manager.post("/texts/library", data=new).status_code == 400  # the same title twice
    assert manager.post("/texts/library", data={**new, "language": "de"}).status_code == 400
    with app.app_context():
        added = db.session.execute(sa.select(StandardParagraph).where(StandardParagraph.title == "Drukte")).scalar_one()
        added_id = added.id
    assert manager.post("/texts/library", data={**new, "paragraph_id": added_id, "body": "Veel verzoeken."}
                        ).status_code == 303
    assert staff.post(f"/texts/library/{added_id}/remove").status_code == 403
    assert manager.post(f"/texts/library/{added_id}/remove").status_code == 303
    assert actions(app, "paragraph") == ["paragraph.saved", "paragraph.saved", "paragraph.removed"]

    page = staff.get(f"/cases/{refused}/texts?slot=refusal-0&use={chosen_id}").get_data(as_text=True)
    area = page.split('id="body-refusal-0-nl"', 1)[1].split("</textarea>", 1)[0]
    assert htmllib.unescape(area.split(">", 1)[1]).strip() == chosen_body
    assert "Filled in from a standard paragraph" in text_of(page)
    assert texts(app) == {}  # choosing saves nothing: the person adapts it, then saves


def test_the_api_takes_the_texts_for_the_subject_per_language(app):
    reference = new_case(app, language=Language.FR)
    with app.app_context():
        manager = db.session.execute(sa.select(User).where(User.role == Role.PRIVACY_MANAGER)).scalar_one()
        token = issue_api_token(manager, actor=None, now=NOW)
        db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    bad = client.post(f"/api/v1/cases/{reference}/refuse", headers=headers,
                      json={"ground": "manifestly_unfounded", "justification": STAFF_NOTE,
                            "subject_texts": {"de": "Nein."}})
    assert bad.status_code == 400 and "subject_texts" in bad.get_json()["errors"]
    assert texts(app) == {}  # nothing half-written: the refusal was rolled back with it
    ok = client.post(f"/api/v1/cases/{reference}/refuse", headers=headers,
                     json={"ground": "manifestly_unfounded", "justification": STAFF_NOTE,
                           "subject_texts": {"fr": "Votre demande est manifestement infondée.",
                                             "nl": "Uw verzoek is kennelijk ongegrond."}})
    assert ok.status_code == 200, ok.get_json()
    assert texts(app) == {("refusal", "fr"): "Votre demande est manifestement infondée.",
                          ("refusal", "nl"): "Uw verzoek is kennelijk ongegrond."}
