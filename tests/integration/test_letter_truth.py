"""Only what is recorded (issue 14.1): each sentence of a letter that reports work appears with the fact the case
records and not without it, and an access or erasure completion letter is refused while that work is open.

The cases are built on a private copy of the demo systems (the customer with everything: policies, claims,
invoices, survey invitations), so the manual sources (the paper archive, Focus Feedback as processor) and
the Art. 19 recipients are those the data map and the privacy statement give for a real customer.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
import time_machine

from dsr.domain.enums import Right, SubjectTitle
from dsr.extensions import db
from dsr.letters import operations
from dsr.letters.facts import FactsUnavailable
from dsr.letters.kinds import LetterKind, LetterLanguage
from dsr.notices.models import NoticeMethod
from dsr.notices.operations import list_recipients, record_not_notifiable, record_notified
from dsr.tasks.models import CaseTask
from dsr.tasks.operations import complete_task
from dsr.texts.models import TextPurpose
from dsr.texts.operations import save_text
from tests.conftest import NOW, TODAY
from tests.harmony_support import People, private_copy, review_third_parties
from tests.integration.test_letters import (
    _looked_up,
    _manual_tasks_done,
    _recipients_told,
    keep_for_review,
    pdf_text,
)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def systems(ctx, harmony, tmp_path, monkeypatch) -> str:
    monkeypatch.setitem(ctx.config, "DEMO_SYSTEMS_URL", url := private_copy(harmony, tmp_path))
    return url


@pytest.fixture
def people(ctx) -> People:
    return People()


def _text(case, kind, lang="en") -> str:
    return pdf_text(operations.render_letter(case, kind, LetterLanguage(lang), today=TODAY).pdf)


def _open_tasks(case) -> list[CaseTask]:
    return list(db.session.execute(sa.select(CaseTask).where(CaseTask.case_id == case.id, CaseTask.done_at.is_(None))
                                   .order_by(CaseTask.id)).scalars())


def test_the_access_letter_waits_for_each_manual_source_and_then_names_it_with_its_date(people, systems):
    case, lookup = _looked_up(people, systems, (Right.ACCESS,))
    assert len(_open_tasks(case)) == 3  # the paper archive and the processors Focus Feedback and the mail house

    with pytest.raises(FactsUnavailable) as refused:
        _text(case, LetterKind.COMPLETION_ACCESS)
    message = str(refused.value)
    assert "The task for Paper archive is still open." in message
    assert "The task for Focus Feedback (processor) is still open." in message
    assert "The task for Mail house (processor) is still open." in message

    archive = next(t for t in _open_tasks(case) if "Paper archive" in t.title)
    complete_task(archive, actor=people.staff, now=NOW)
    with pytest.raises(FactsUnavailable) as refused:
        _text(case, LetterKind.COMPLETION_ACCESS)
    assert "Paper archive" not in str(refused.value) and "Focus Feedback" in str(refused.value)

    _manual_tasks_done(case, people)
    # Issue 18.4: nor while a value that may hold other people's data is undecided (Art. 15(4)).
    with pytest.raises(FactsUnavailable) as refused:
        _text(case, LetterKind.COMPLETION_ACCESS)
    assert "may hold other people's data are not decided yet (Art. 15(4))" in str(refused.value)
    assert review_third_parties(case, people.manager, now=NOW) > 0
    text = _text(case, LetterKind.COMPLETION_ACCESS)
    assert ("We also searched the records kept outside our computer systems: Focus Feedback (processor) "
            "(26 November 2026), Mail house (processor) (26 November 2026) and Paper archive (26 November 2026).") in text
    assert "Wij hebben ook gezocht in de gegevens die buiten onze computersystemen worden bewaard: Focus Feedback " \
           "(verwerker) (26 november 2026), Drukkerij en verzendhuis (verwerker) (26 november 2026) en Papieren " \
           "archief (26 november 2026)." in _text(case, LetterKind.COMPLETION_ACCESS, "nl")

    # Without the fact, no sentence: a search that had no manual source to hand to a person.
    lookup.manual_tasks = {}
    db.session.flush()
    assert "outside our computer systems" not in _text(case, LetterKind.COMPLETION_ACCESS)


def _erased_not_told(people, systems):
    from dsr.fulfilment.erasure import approve_plan, build_erasure_plan, execute_plan

    case, lookup = _looked_up(people, systems, (Right.ERASURE,))
    plan = build_erasure_plan(case, lookup, actor=people.staff, now=NOW, today=TODAY)
    approve_plan(plan, actor=people.manager, now=NOW)
    execute_plan(plan, actor=people.staff, now=NOW, today=TODAY)
    return case


def test_the_erasure_letter_waits_for_the_tasks_and_the_art19_notices_then_states_each_as_recorded(people, systems):
    case = _erased_not_told(people, systems)
    with pytest.raises(FactsUnavailable) as refused:
        _text(case, LetterKind.COMPLETION_ERASURE)
    message = str(refused.value)
    assert "The task for Paper archive is still open." in message
    assert "The recipients who received the data are not listed yet (Art. 19)." in message

    with pytest.raises(FactsUnavailable, match="paper files or processors are neither done"):
        _manual_tasks_done(case, people)
        _text(case, LetterKind.COMPLETION_ERASURE)
    from dsr.fulfilment.erasure.tasks import latest_plan, record_task_done

    for task in (i for i in latest_plan(case).items if i.is_task):  # the paper file destroyed, processor told
        record_task_done(task, done_on=TODAY, actor=people.staff, now=NOW, today=TODAY)
    notices = list_recipients(case, actor=people.staff, now=NOW)
    assert len(notices) >= 2
    with pytest.raises(FactsUnavailable, match="not yet ticked as notified or not notifiable"):
        _text(case, LetterKind.COMPLETION_ERASURE)

    told, untold = notices[0], notices[1:]
    record_notified(told, notified_on=TODAY, method=NoticeMethod.EMAIL, actor=people.staff, now=NOW, today=TODAY)
    from dsr.texts.models import TextPurpose
    from dsr.texts.operations import save_text

    for notice in untold:
        record_not_notifiable(notice, reason="They keep no copy of what we sent.", actor=people.manager, now=NOW)
    # Why one of them was not told, written for the subject (issue 14.2); the others have no such text.
    save_text(case, TextPurpose.NOTICE_NOT_MADE, untold[0].id, "en", "This company no longer exists.",
              actor=people.manager, now=NOW)

    from dsr.notices.operations import recipients_by_id

    names = {rid: dict(r.name)["en"] for rid, r in recipients_by_id().items()}
    text = _text(case, LetterKind.COMPLETION_ERASURE)
    told_part = text.split("about the erasure:", 1)[1].split("We could not tell", 1)[0]
    assert f"{names[told.recipient_id]}, on 26 November 2026" in told_part
    untold_part = text.split("We could not tell", 1)[1]
    for notice in untold:
        assert names[notice.recipient_id] in untold_part
        assert names[notice.recipient_id] not in told_part
    # The privacy manager's reason is the controller's record, never printed; the subject's text is.
    assert "They keep no copy of what we sent." not in text
    assert f"{names[untold[0].recipient_id]}: This company no longer exists." in re.sub(r"\s+", " ", untold_part)
    assert text.count("This company no longer exists.") == 1
    assert ("We also had the records kept outside our computer systems checked, and erased where they may be "
            "erased: Focus Feedback (processor) (26 November 2026), Mail house (processor) (26 November 2026) and "
            "Paper archive (26 November 2026).") in text
    # The old blanket sentence is gone: nothing is said about recipients beyond what was recorded.
    assert "On request we will tell you who they are" not in text


def test_the_rectification_letter_states_the_recipients_told_and_waits_for_open_corrections(people, systems):
    from dsr.rectification.operations import mark_applied, propose_manual_correction

    case, _lookup = _looked_up(people, systems, (Right.RECTIFICATION,))
    correction = propose_manual_correction(case, "harmony_paper_archive", "correspondence", "sender_address",
                                           "Rue de la Loi 16, 1000 Bruxelles", before="Coolsingel 4",
                                           actor=people.staff, now=NOW, today=TODAY)
    with pytest.raises(FactsUnavailable, match="neither applied nor refused"):
        _text(case, LetterKind.COMPLETION_RECTIFICATION)
    mark_applied(correction, note="Corrected in the archive file.", actor=people.staff, now=NOW)
    with pytest.raises(FactsUnavailable, match="Art. 19"):
        _text(case, LetterKind.COMPLETION_RECTIFICATION)
    _recipients_told(case, people)
    text = _text(case, LetterKind.COMPLETION_RECTIFICATION)
    assert "We have told the following recipients of your personal data about the corrections:" in text
    assert "26 November 2026" in text.split("about the corrections:", 1)[1]


def test_records_are_grouped_with_count_and_dates_and_listed_in_an_annex_only_when_asked(people, systems):
    """Issue 14.3: no database key anywhere; one row per system and category; the full list, with the invoice
    numbers the subject knows, only in an annex the subject asked for."""
    from tests.harmony_support import rows
    from tests.integration.test_letters import _erased

    case = _erased(people, systems)
    plain = _text(case, LetterKind.COMPLETION_ERASURE)
    assert "id=" not in plain and "(id" not in plain
    invoices = [r for r in rows(systems, "SELECT invoice_number, issued_on FROM invoices i JOIN customers c "
                                          "ON c.id = i.customer_id WHERE c.customer_number = :n",
                                n=case.subject.customer_number)]
    assert len(invoices) >= 2
    # One row for the kept invoices, with their number and the range of their dates.
    row = re.search(r"Policy administration: Invoices (\d+) (\d+ \w+ \d{4}) – (\d+ \w+ \d{4})", plain)
    assert row, plain
    assert int(row.group(1)) == len(invoices)
    assert not any(inv["invoice_number"] in plain for inv in invoices)
    assert "Annex" not in plain

    made = operations.render_letter(case, LetterKind.COMPLETION_ERASURE, LetterLanguage.EN, today=TODAY, annex=True)
    keep_for_review(made.pdf, "completion_erasure-annex-en")
    with_annex = pdf_text(made.pdf)
    annex = with_annex.split("Annex: every record", 1)[1]
    assert all(inv["invoice_number"] in annex for inv in invoices)
    assert "id=" not in with_annex
    assert made.pages > operations.render_letter(case, LetterKind.COMPLETION_ERASURE, LetterLanguage.EN,
                                                 today=TODAY).pages


@pytest.mark.parametrize(("title", "lang", "salutation", "closing"), [
    (SubjectTitle.MR, "nl", "Geachte heer Van der Laarse,", "Met vriendelijke groet,"),
    (SubjectTitle.MS, "nl", "Geachte mevrouw Van der Laarse,", "Met vriendelijke groet,"),
    (None, "nl", "Geachte heer/mevrouw Van der Laarse,", "Met vriendelijke groet,"),
    (SubjectTitle.MR, "en", "Dear Mr van der Laarse,", "Yours sincerely,"),
    (SubjectTitle.MS, "en", "Dear Ms van der Laarse,", "Yours sincerely,"),
    (None, "en", "Dear Sir or Madam,", "Yours faithfully,"),
    (SubjectTitle.MR, "fr", "Monsieur,", "Nous vous prions d'agréer, Monsieur, l'expression"),
    (SubjectTitle.MS, "fr", "Madame,", "Nous vous prions d'agréer, Madame, l'expression"),
    (None, "fr", "Madame, Monsieur,", "Nous vous prions d'agréer, Madame, Monsieur, l'expression"),
])
def test_the_salutation_and_closing_follow_the_title_in_each_language(people, title, lang, salutation, closing):
    from tests.factories import make_case

    case = make_case(actor=people.staff, name="Jan van der Laarse", commit=False)
    case.subject.title = title
    text = _text(case, LetterKind.ACKNOWLEDGEMENT, lang)
    assert salutation in text
    assert closing in text
    if lang == "nl":
        assert "Geachte Jan" not in text


@pytest.mark.parametrize(("lang", "words"), [
    ("nl", ["Omdat u in België woont, kunt u uw klacht ook indienen bij de toezichthouder daar: "
            "Gegevensbeschermingsautoriteit / Autorité de protection des données",
            "rechtbank Rotterdam, waar Harmony is gevestigd"]),
    ("en", ["As you live in Belgium, you may also lodge your complaint with the supervisory authority there",
            "in Rotterdam, where Harmony is established"]),
    ("fr", ["Comme vous résidez hors des Pays-Bas (Belgique)", "de Rotterdam, où Harmony est établie"]),
])
def test_a_subject_in_another_eu_country_is_told_of_their_own_authority_and_the_court(people, lang, words):
    from dsr.cases import lifecycle
    from dsr.domain.enums import RefusalGround
    from tests.factories import make_case

    abroad = make_case(actor=people.staff, name="Lotte Peeters", country="BE", postcode="1000", city="Brussel",
                       commit=False)
    lifecycle.refuse(abroad, ground=RefusalGround.MANIFESTLY_UNFOUNDED, justification="x", actor=people.manager, now=NOW)
    save_text(abroad, TextPurpose.REFUSAL, 0, lang, "y", actor=people.manager, now=NOW)
    text = _text(abroad, LetterKind.REFUSAL, lang)
    for w in words:
        assert w in text
    home = make_case(actor=people.staff, name="Jan Jansen", commit=False)
    lifecycle.refuse(home, ground=RefusalGround.MANIFESTLY_UNFOUNDED, justification="x", actor=people.manager, now=NOW)
    save_text(home, TextPurpose.REFUSAL, 0, lang, "y", actor=people.manager, now=NOW)
    text = _text(home, LetterKind.REFUSAL, lang)
    assert "Gegevensbeschermingsautoriteit" not in text
    assert {"nl": "rechtbank van uw woonplaats", "en": "of the place where you live",
            "fr": "de votre domicile"}[lang] in " ".join(text.split())
