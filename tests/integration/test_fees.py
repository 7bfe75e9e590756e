"""Fees for further copies (issue 18, item 5), on SQLite and PostgreSQL: the first copy is free; a further copy
may carry a fee, the subject is warned first with a letter (read back in nl, en and fr) and the case pauses
until they agree (the clock runs again) or withdraw."""

from __future__ import annotations

import io
import os
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import time_machine
from pypdf import PdfReader

from dsr.audit.models import AuditEvent
from dsr.cases import lifecycle
from dsr.cases.errors import InvalidInput, NotAllowed, RuleViolation
from dsr.cases.operations import log_request
from dsr.domain.enums import CaseState, Right, VerificationMethod, VerificationOutcome
from dsr.extensions import db
from dsr.fees import operations as ops
from dsr.fees.models import FeeStatus
from dsr.identity.operations import record_verification
from dsr.letters.kinds import LetterKind, LetterLanguage
from dsr.letters.operations import render_letter
from dsr.texts.models import TextPurpose
from dsr.texts.operations import MissingSubjectText, save_text
from dsr.unanswered.operations import unanswered
from tests.conftest import NOW, TODAY
from tests.factories import make_case, subject_details
from tests.harmony_support import People

BASIS = "Kosten van het opnieuw samenstellen en versturen van het overzicht: 1 uur werk."
# What the letter quotes: the basis written for the subject in the letter's language (issue 14.2).
BASIS_FOR_SUBJECT = {"nl": "Eén uur werk om het overzicht opnieuw samen te stellen en te versturen.",
                     "en": "One hour of work to compile and send the overview again.",
                     "fr": "Une heure de travail pour préparer et renvoyer l'aperçu."}


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def people(ctx) -> People:
    return People()


def second_request(people):
    """A first access case answered on 2 November 2026, then the same person asks again on 20 November."""
    first = make_case(actor=people.staff, received_on=date(2026, 10, 20), now=NOW - timedelta(days=30),
                      today=date(2026, 10, 27), commit=False)
    record_verification(first, method=VerificationMethod.POLICY_RECORDS, outcome=VerificationOutcome.VERIFIED,
                        note="", actor=people.staff, now=NOW - timedelta(days=25))
    lifecycle.submit_for_approval(first, actor=people.staff, now=NOW - timedelta(days=25))
    lifecycle.complete(first, decision="Overzicht gestuurd", actor=people.manager, now=NOW - timedelta(days=24),
                       override_reason="The first request's work is not what this test is about")
    second = log_request(subject=subject_details(), rights=[Right.ACCESS], channel=first.channel,
                         received_on=date(2026, 11, 20), language=first.language, notes="", actor=people.staff,
                         now=NOW, today=TODAY, link_subject=first.subject)
    db.session.commit()
    return first, second


def test_the_first_copy_is_free(people):
    case = make_case(actor=people.staff, rights=(Right.ACCESS,))
    assert ops.earlier_copy(case) is None
    with pytest.raises(RuleViolation, match="first copy is free"):
        ops.propose_fee(case, amount_cents=1500, basis=BASIS, actor=people.manager, now=NOW, today=TODAY)


def test_a_further_copy_fee_pauses_until_agreed(people):
    first, case = second_request(people)
    assert ops.earlier_copy(case).reference == first.reference
    with pytest.raises(NotAllowed):
        ops.propose_fee(case, amount_cents=1500, basis=BASIS, actor=people.staff, now=NOW, today=TODAY)
    with pytest.raises(InvalidInput):
        ops.propose_fee(case, amount_cents=0, basis=BASIS, actor=people.manager, now=NOW, today=TODAY)
    due_before = case.legal_due_on
    fee = ops.propose_fee(case, amount_cents=1500, basis=BASIS, actor=people.manager, now=NOW, today=TODAY)
    db.session.commit()
    assert (fee.status, fee.earlier_reference, case.paused_since) == (FeeStatus.WARNED, first.reference, TODAY)
    assert unanswered(case, TODAY + timedelta(days=40)) is None  # a fee is not an identity question
    ops.fee_agreed(case, on=TODAY + timedelta(days=5), actor=people.staff, now=NOW + timedelta(days=5),
                   today=TODAY + timedelta(days=5))
    db.session.commit()
    assert fee.status is FeeStatus.AGREED and case.paused_since is None
    assert case.legal_due_on > due_before  # the paused days move the deadline
    assert [e.action for e in db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action.like("fee.%")).order_by(AuditEvent.id))] == ["fee.proposed", "fee.agreed"]


def test_the_earlier_copy_from_the_subjects_cases_read_by_the_case_page_is_the_one_the_statement_finds(people):
    """The case page reads the subject's cases with their rights; the fee card then finds the earlier copy among
    them instead of asking again (issue 15, item 3). A withdrawn access case, an erasure case and an
    open access case of the same person are no earlier copy; the first answered one is."""
    first, case = second_request(people)
    later = log_request(subject=subject_details(), rights=[Right.ACCESS], channel=first.channel,
                        received_on=date(2026, 11, 2), language=first.language, notes="", actor=people.staff,
                        now=NOW - timedelta(days=20), today=date(2026, 11, 2), link_subject=first.subject)
    lifecycle.withdraw(later, how="Per e-mail", actor=people.staff, now=NOW - timedelta(days=19))
    for rights in ([Right.ERASURE], [Right.ACCESS]):
        log_request(subject=subject_details(), rights=rights, channel=first.channel, received_on=date(2026, 10, 1),
                    language=first.language, notes="", actor=people.staff, now=NOW - timedelta(days=50),
                    today=date(2026, 10, 1), link_subject=first.subject)
    db.session.commit()
    db.session.expire_all()
    by_statement = ops.earlier_copy(db.session.get(type(case), case.id))
    assert by_statement is not None and by_statement.reference == first.reference
    db.session.expire_all()
    case = db.session.get(type(case), case.id)
    # As the case page reads them: the subject's cases with their rights, then no statement of the fee card's.
    cases = db.session.scalars(sa.select(type(case)).where(type(case).subject_id == case.subject_id)
                               .options(sa.orm.selectinload(type(case).rights))).all()
    sa.orm.attributes.set_committed_value(case.subject, "cases", list(cases))
    asked = []

    def ask(_conn, _cursor, statement, *_args):
        asked.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", ask)
    try:
        assert ops.earlier_copy(case) == by_statement
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", ask)
    assert asked == []


def test_not_agreeing_withdraws_the_request(people):
    _first, case = second_request(people)
    ops.propose_fee(case, amount_cents=1500, basis=BASIS, actor=people.manager, now=NOW, today=TODAY)
    ops.fee_declined(case, on=TODAY, how="Per e-mail: wil niet betalen", actor=people.staff, now=NOW, today=TODAY)
    db.session.commit()
    assert case.state is CaseState.WITHDRAWN and ops.fee_of(case).status is FeeStatus.WITHDRAWN
    with pytest.raises(RuleViolation):
        ops.fee_agreed(case, on=TODAY, actor=people.staff, now=NOW, today=TODAY)


WARNS = {
    "nl": ["€ 15,00", "eerste kopie was kosteloos", "artikel 15, derde lid", "termijn voor ons antwoord stil",
           "intrekken", "Op 2 november 2026"],
    "en": ["€15.00", "first copy was free", "Article 15(3) GDPR", "suspended", "withdraw", "On 2 November 2026"],
    "fr": ["15,00 €", "première copie était gratuite", "article 15, paragraphe 3", "délai de réponse est suspendu",
           "retirer votre demande", "Le 2 novembre 2026"],
}


@pytest.mark.parametrize("language", ["nl", "en", "fr"])
def test_the_warning_letter_states_the_fee_before_charging(people, language):
    first, case = second_request(people)
    with pytest.raises(RuleViolation):
        render_letter(case, LetterKind.FEE_WARNING, LetterLanguage(language), today=TODAY)
    ops.propose_fee(case, amount_cents=1500, basis=BASIS, actor=people.manager, now=NOW, today=TODAY)
    db.session.commit()
    with pytest.raises(MissingSubjectText, match="basis of the fee"):  # the staff's basis is not printed
        render_letter(case, LetterKind.FEE_WARNING, LetterLanguage(language), today=TODAY)
    save_text(case, TextPurpose.FEE_BASIS, 0, language, BASIS_FOR_SUBJECT[language], actor=people.manager, now=NOW)
    db.session.commit()
    rendered = render_letter(case, LetterKind.FEE_WARNING, LetterLanguage(language), today=TODAY)
    if os.environ.get("DSR_LETTERS_PDF_DIR"):  # to look at before a release (pdftoppm -png)
        (Path(os.environ["DSR_LETTERS_PDF_DIR"]) / f"fee-warning-{language}.pdf").write_bytes(rendered.pdf)
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(rendered.pdf)).pages)
    assert BASIS not in text
    for phrase in WARNS[language] + [first.reference, BASIS_FOR_SUBJECT[language]]:
        assert phrase.replace("\u00a0", " ") in text.replace("\u00a0", " "), phrase
