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
from dsr.domain.enums import Language, RefusalGround, Right, Role
from dsr.extensions import db
from dsr.letters.kinds import LetterKind, LetterLanguage
from dsr.letters.operations import documents
from dsr.texts.models import StandardParagraph, SubjectText, TextPurpose
from dsr.texts.operations import MissingSubjectText
from tests.conftest import NOW, TODAY
from tests.factories import make_case
from tests.web.support import (
    confirmation,
    csrf_token,
    flashes,
    frozen_clock,
    new_case,
    read_form,
    signed_in,
    text_of,
)

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

    # Art. 22: the decision concerned and the subject's view with the request, the outcome with the review.
    with app.app_context():
        manager = db.session.execute(sa.select(User).where(User.role == Role.PRIVACY_MANAGER)).scalar_one()
        art22 = make_case(actor=manager, rights=(Right.AUTOMATED_DECISION,), language=Language.FR)
        lifecycle.start_work(art22, actor=manager, now=NOW)
        db.session.commit()
        art22 = art22.reference
    asked = client.post(f"/api/v1/cases/{art22}/automated-decision", headers=headers, json={
        "described": "Web claim auto-rejected", "human_intervention": True, "express_view": True,
        "subject_view": "Says pipe burst", "subject_texts": {"fr": "Le refus de votre sinistre en ligne."},
        "view_texts": {"fr": "La conduite a éclaté."}})
    assert asked.status_code == 200, asked.get_json()
    reviewed = client.post(f"/api/v1/cases/{art22}/automated-review", headers=headers, json={
        "reviewer": "M. de Vries", "reviewed_on": TODAY.isoformat(), "outcome": "changed",
        "outcome_text": "Pay out", "view_considered": True, "subject_texts": {"fr": "Votre sinistre est payé."},
        "reviewer_texts": {"fr": "M. de Vries, gestionnaire de sinistres senior"}})
    assert reviewed.status_code == 200, reviewed.get_json()
    assert {k: v for k, v in texts(app).items() if k[0].startswith("automated")} == {
        ("automated_decision", "fr"): "Le refus de votre sinistre en ligne.",
        ("automated_view", "fr"): "La conduite a éclaté.",
        ("automated_reviewer", "fr"): "M. de Vries, gestionnaire de sinistres senior",
        ("automated_outcome", "fr"): "Votre sinistre est payé."}
    bad = client.post(f"/api/v1/cases/{art22}/automated-review", headers=headers, json={
        "reviewer": "M. de Vries", "reviewed_on": TODAY.isoformat(), "outcome": "changed",
        "outcome_text": "Pay out", "view_considered": True, "reviewer_texts": {"de": "Herr de Vries"}})
    assert bad.status_code == 400 and "reviewer_texts" in str(bad.get_json()), bad.get_json()


# -- the refuse, extend and pause forms carry the text in the case's language (issue 14.2) ------------------

EVIL = '<script>alert("x")</script> & <b>bold</b>'


def csrf_on(app, monkeypatch) -> None:
    """From here on every POST needs its form's CSRF token (the clients signed in before)."""
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


def form_data(html: str, action: str, **fields) -> dict[str, str]:
    """What the browser posts for the ``action`` form on the page: its hidden fields (CSRF token, version,
    last event) as the page rendered them, plus ``fields``."""
    values = read_form(html).values
    data = {name: values[name][0] for name in (f"{action}-csrf_token", f"{action}-version", f"{action}-last_event")}
    data.update({f"{action}-{name}": value for name, value in fields.items()})
    return data


def paragraph_id(app, purpose: TextPurpose, language: str) -> tuple[int, str]:
    with app.app_context():
        p = db.session.execute(sa.select(StandardParagraph).where(
            StandardParagraph.purpose == purpose, StandardParagraph.language == language)
            .order_by(StandardParagraph.id)).scalars().first()
        return p.id, p.body


def test_the_refuse_form_saves_the_text_for_the_subject_with_the_refusal(app, monkeypatch):
    reference = new_case(app, language=Language.FR)
    manager = signed_in(app, Role.PRIVACY_MANAGER)
    csrf_on(app, monkeypatch)
    page = manager.get(f"/cases/{reference}").get_data(as_text=True)
    assert "Text for the subject, in French (the letter quotes it)" in page
    # The library's French refusal paragraphs are offered; one pre-fills the field (nothing is saved yet).
    chosen, body = paragraph_id(app, TextPurpose.REFUSAL, "fr")
    prefilled = manager.get(f"/cases/{reference}?for=refuse&paragraph={chosen}").get_data(as_text=True)
    assert read_form(prefilled).values["refuse-subject_text"] == [body]
    assert "Filled in from a standard paragraph" in prefilled and texts(app) == {}
    assert read_form(page).values["refuse-subject_text"] == [""]
    # A paragraph of another language or purpose pre-fills nothing.
    other, _body = paragraph_id(app, TextPurpose.REFUSAL, "nl")
    assert read_form(manager.get(f"/cases/{reference}?for=refuse&paragraph={other}").get_data(as_text=True)
                     ).values["refuse-subject_text"] == [""]

    # Without the form's CSRF token nothing is saved.
    data = form_data(prefilled, "refuse", ground="manifestly_unfounded", justification=STAFF_NOTE,
                     subject_text=body + " " + EVIL)
    assert manager.post(f"/cases/{reference}/act/refuse",
                        data={k: v for k, v in data.items() if not k.endswith("csrf_token")}).status_code == 400
    # The confirmation step shows what the letter will quote, escaped, and posts it on.
    step = manager.post(f"/cases/{reference}/act/refuse", data=data)
    html = step.get_data(as_text=True)
    assert step.status_code == 200 and "<script>alert" not in html and "&lt;script&gt;" in html
    title, said, fields = confirmation(step)
    assert f"The refusal letter quotes, in French: “{body} {EVIL}”." in said
    done = manager.post(f"/cases/{reference}/act/refuse", data=fields)
    assert done.status_code == 302
    assert texts(app) == {("refusal", "fr"): body + " " + EVIL}
    with app.app_context():
        case = case_by_reference(reference)
        assert case.decision == STAFF_NOTE and case.state.value == "refused"  # the staff note stays apart
    assert actions(app, "subject_text.") == ["subject_text.saved"]
    # Escaped wherever it is shown again: the texts page, and the preview of the letter.
    shown = manager.get(f"/cases/{reference}/texts").get_data(as_text=True)
    assert "<script>alert" not in shown and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in shown
    preview = manager.post(f"/cases/{reference}/letters/preview", data={
        "kind": "refusal", "language": "fr", "csrf_token": csrf_token(shown)})
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert "<script>alert" not in html and '<b>bold' not in html and "&lt;script&gt;" in html


def test_the_pause_and_extend_forms_save_their_texts_in_one_transaction_with_the_step(app, monkeypatch):
    reference = new_case(app, language=Language.NL)
    staff, manager = signed_in(app, Role.STAFF), signed_in(app, Role.PRIVACY_MANAGER)
    csrf_on(app, monkeypatch)
    page = staff.get(f"/cases/{reference}").get_data(as_text=True)
    assert "Text for the subject, in Dutch (the letter quotes it)" in page
    asked = "Uw polisnummer, zodat wij zeker weten dat wij de juiste persoon antwoorden."
    response = staff.post(f"/cases/{reference}/act/pause", data=form_data(
        page, "pause", reason="Ask for polnr", requested_on=TODAY.isoformat(), subject_text=asked))
    assert response.status_code == 302
    with app.app_context():
        pause = case_by_reference(reference).pauses[-1]
        assert pause.reason == "Ask for polnr"
        stored = db.session.execute(sa.select(SubjectText)).scalar_one()
        assert (stored.purpose, stored.item_id, stored.language, stored.body) == (
            TextPurpose.INFORMATION_REQUEST, pause.id, "nl", asked)

    # The extension refused (staff may not extend): neither the step nor its text is saved.
    page = manager.get(f"/cases/{reference}").get_data(as_text=True)
    reason = "Uw verzoek betreft elf jaar schadedossiers in drie systemen."
    forged = {**form_data(page, "extend", reason="11 yrs of claims", subject_text=reason),
              "extend-csrf_token": csrf_token(staff.get(f"/cases/{reference}").get_data(as_text=True))}
    assert staff.post(f"/cases/{reference}/act/extend", data=forged).status_code == 403
    assert ("extension", "nl") not in texts(app)
    # Too long a text: the form refuses it and the deadline is not extended either.
    too_long = manager.post(f"/cases/{reference}/act/extend", data=form_data(
        page, "extend", reason="11 yrs of claims", subject_text="x" * 5001))
    assert too_long.status_code == 400 and "Nothing was saved" in text_of(too_long.get_data(as_text=True))
    with app.app_context():
        assert case_by_reference(reference).extended_due_on is None
    assert manager.post(f"/cases/{reference}/act/extend", data=form_data(
        page, "extend", reason="11 yrs of claims", subject_text=reason)).status_code == 302
    assert texts(app)[("extension", "nl")] == reason
    with app.app_context():
        case = case_by_reference(reference)
        assert case.extended_due_on is not None and case.extension_reason == "11 yrs of claims"
    # No text typed: the step is saved, no text is written (the letter then asks for one).
    with app.app_context():
        other = make_case(actor=db.session.execute(sa.select(User).where(User.role == Role.STAFF)).scalar_one(),
                          language=Language.NL).reference
    page = staff.get(f"/cases/{other}").get_data(as_text=True)
    assert staff.post(f"/cases/{other}/act/pause", data=form_data(
        page, "pause", reason="Ask for polnr", requested_on=TODAY.isoformat(), subject_text="  ")).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SubjectText).where(
            SubjectText.case_id == case_by_reference(other).id)) == 0


# -- the Art. 22 card's forms carry the decision, the view, the reviewer and the outcome (issue 14.2) ------

def card_data(html: str, prefix: str, **fields) -> dict[str, str]:
    """What the browser posts for a card's form with ``prefix``: its CSRF token as rendered, plus ``fields``."""
    return {f"{prefix}-csrf_token": read_form(html).values[f"{prefix}-csrf_token"][0],
            **{f"{prefix}-{name}": value for name, value in fields.items()}}


def test_the_art22_forms_save_the_texts_the_letter_quotes_and_show_them_again(app, monkeypatch):
    reference = new_case(app, rights=(Right.AUTOMATED_DECISION,), language=Language.FR)
    with app.app_context():
        lifecycle.start_work(case_by_reference(reference), actor=db.session.execute(
            sa.select(User).where(User.role == Role.STAFF)).scalar_one(), now=NOW)
        db.session.commit()
    staff = signed_in(app, Role.STAFF)
    csrf_on(app, monkeypatch)
    page = staff.get(f"/cases/{reference}").get_data(as_text=True)
    assert "The decision concerned: text for the subject, in French (the letter quotes it)" in page
    assert "The subject&#39;s view: text for the subject, in French" in page
    response = staff.post(f"/cases/{reference}/automated-decision", data=card_data(
        page, "adm", described="Web claim auto-rejected by rule WD-3", express_view="y",
        subject_view="Says neighbour's pipe", subject_text="Le refus de votre sinistre par notre site.",
        view_text="L'eau venait de la conduite du voisin."))
    assert response.status_code == 302, text_of(response.get_data(as_text=True))
    page = staff.get(f"/cases/{reference}").get_data(as_text=True)
    # The review form offers the library's French reviewer paragraph; choosing it fills that field only.
    chosen, body = paragraph_id(app, TextPurpose.AUTOMATED_REVIEWER, "fr")
    assert "Reviewed by (name and function): text for the subject, in French" in page
    prefilled = staff.get(f"/cases/{reference}?for=review-reviewer&paragraph={chosen}").get_data(as_text=True)
    values = read_form(prefilled).values
    assert values["review-reviewer_text"] == [body] and values["review-subject_text"] == [""]
    # A review refused (the view not considered) writes no text either.
    refused = staff.post(f"/cases/{reference}/automated-decision/review", data=card_data(
        prefilled, "review", reviewer="Mark dV (sr CH)", reviewed_on=TODAY.isoformat(), outcome="changed",
        outcome_text="Overruled WD-3", reviewer_text="M. de Vries, " + body, subject_text="Payé."))
    assert refused.status_code == 409
    assert ("automated_reviewer", "fr") not in texts(app)
    done = staff.post(f"/cases/{reference}/automated-decision/review", data=card_data(
        prefilled, "review", reviewer="Mark dV (sr CH)", reviewed_on=TODAY.isoformat(), outcome="changed",
        outcome_text="Overruled WD-3", view_considered="y", reviewer_text="M. de Vries, " + body,
        subject_text="Votre sinistre est accepté."))
    assert done.status_code == 302, text_of(done.get_data(as_text=True))
    assert {k: v for k, v in texts(app).items() if k[0].startswith("automated")} == {
        ("automated_decision", "fr"): "Le refus de votre sinistre par notre site.",
        ("automated_view", "fr"): "L'eau venait de la conduite du voisin.",
        ("automated_reviewer", "fr"): "M. de Vries, " + body,
        ("automated_outcome", "fr"): "Votre sinistre est accepté."}
    # Correcting the review shows what the letter quotes now; the staff's record stays apart.
    values = read_form(staff.get(f"/cases/{reference}").get_data(as_text=True)).values
    assert values["review-reviewer_text"] == ["M. de Vries, " + body]
    assert values["review-reviewer"] == ["Mark dV (sr CH)"]
    with app.app_context():
        case = case_by_reference(reference)
        [fr] = documents(case, LetterKind.COMPLETION_AUTOMATED, LetterLanguage.FR, today=TODAY)
        assert "M. de Vries, " + body in htmllib.unescape(fr) and "Mark dV" not in fr
        for purpose in (TextPurpose.AUTOMATED_DECISION, TextPurpose.AUTOMATED_VIEW, TextPurpose.AUTOMATED_OUTCOME):
            db.session.add(SubjectText(case=case, purpose=purpose, item_id=0, language="nl", body="Tekst.",
                                       updated_at=NOW))
        db.session.flush()
        with pytest.raises(MissingSubjectText, match="The reviewer of the automated decision, as the letter "
                                                     "names them has no Dutch text for the subject"):
            documents(case, LetterKind.COMPLETION_AUTOMATED, LetterLanguage.NL, today=TODAY)
