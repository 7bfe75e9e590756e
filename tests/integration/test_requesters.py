"""Who asks (issue 18, item 3), on SQLite and PostgreSQL: a requester who is not the subject, their mandate
and identity checked before the case completes; letters addressed to the requester about the subject and
the letter about a deceased person, read back in nl, en and fr."""

from __future__ import annotations

import io
import os
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
import time_machine
from pypdf import PdfReader

from dsr.attachments.storage import check_upload, store_attachment
from dsr.audit.models import AuditEvent
from dsr.cases import lifecycle
from dsr.cases.errors import InvalidInput, RuleViolation
from dsr.domain.enums import AttachmentKind, CaseState, Right, VerificationMethod, VerificationOutcome
from dsr.extensions import db
from dsr.identity.operations import record_verification
from dsr.letters.kinds import LetterKind, LetterLanguage
from dsr.letters.operations import render_letter
from dsr.requesters import operations as ops
from dsr.requesters.models import RequesterRole
from tests.conftest import NOW, TODAY
from tests.factories import make_case
from tests.harmony_support import People

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LAWYER = {"name": "mr. A. de Wit", "address": "Weena 10", "postcode": "3012 CM", "city": "Rotterdam"}


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def people(ctx) -> People:
    return People()


def text_of(case, kind: LetterKind, language: str) -> str:
    rendered = render_letter(case, kind, LetterLanguage(language), today=TODAY)
    if os.environ.get("DSR_LETTERS_PDF_DIR"):  # to look at before a release (pdftoppm -png)
        (Path(os.environ["DSR_LETTERS_PDF_DIR"]) / f"{kind.value}-requester-{language}.pdf").write_bytes(rendered.pdf)
    return " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(rendered.pdf)).pages)


def test_a_lawyers_request_completes_only_with_mandate_and_both_identities(people):
    case = make_case(actor=people.staff, rights=(Right.ACCESS,))
    requester = ops.record_requester(case, role=RequesterRole.LAWYER, **LAWYER, actor=people.staff, now=NOW)
    mandate = store_attachment(case, check_upload("volmacht.pdf", io.BytesIO(PDF), max_bytes=1024),
                               actor=people.staff, now=NOW, kind=AttachmentKind.CORRESPONDENCE)
    record_verification(case, method=VerificationMethod.POLICY_RECORDS, outcome=VerificationOutcome.VERIFIED,
                        note="", actor=people.staff, now=NOW)
    lifecycle.submit_for_approval(case, actor=people.staff, now=NOW)
    with pytest.raises(RuleViolation, match="mandate"):
        lifecycle.complete(case, decision="Overzicht gestuurd", actor=people.manager, now=NOW)
    with pytest.raises(InvalidInput):
        ops.check_mandate(requester, attachment=mandate, scope=" ", expires_on=None, actor=people.staff, now=NOW)
    ops.check_mandate(requester, attachment=mandate, scope="Inzage en correctie", expires_on=date(2027, 6, 30),
                      actor=people.staff, now=NOW)
    with pytest.raises(RuleViolation, match="identity"):
        lifecycle.complete(case, decision="Overzicht gestuurd", actor=people.manager, now=NOW)
    ops.verify_requester_identity(requester, method="additional_information", actor=people.staff, now=NOW)
    lifecycle.complete(case, decision="Overzicht gestuurd", actor=people.manager, now=NOW, override_reason="The work is not what this test is about")
    db.session.commit()
    assert case.state is CaseState.COMPLETED
    assert [e.action for e in db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action.like("requester.%")).order_by(AuditEvent.id))] == [
        "requester.recorded", "requester.mandate_checked", "requester.identity_verified"]


def test_a_mandate_expired_before_the_request_is_refused(people):
    case = make_case(actor=people.staff, received_on=date(2026, 11, 20))
    requester = ops.record_requester(case, role="representative", name="J. Jansen", email="j@example.nl",
                                     actor=people.staff, now=NOW)
    mandate = store_attachment(case, check_upload("machtiging.pdf", io.BytesIO(PDF), max_bytes=1024),
                               actor=people.staff, now=NOW, kind=AttachmentKind.CORRESPONDENCE)
    with pytest.raises(RuleViolation, match="expired"):
        ops.check_mandate(requester, attachment=mandate, scope="Alles", expires_on=date(2026, 11, 19),
                          actor=people.staff, now=NOW)


@pytest.mark.parametrize(("born", "allowed"), [(date(2011, 1, 5), True), (date(2010, 11, 20), False)])
def test_a_parent_acts_only_for_a_child_under_16(people, born, allowed):
    case = make_case(actor=people.staff, received_on=date(2026, 11, 20), date_of_birth=born)
    record = lambda: ops.record_requester(case, role="parent_guardian", name="P. Ouder",  # noqa: E731
                                          email="ouder@example.nl", actor=people.staff, now=NOW)
    if allowed:
        assert record().role is RequesterRole.PARENT_GUARDIAN
    else:
        with pytest.raises(RuleViolation, match="under 16"):
            record()


def test_a_requester_needs_an_address(people):
    case = make_case(actor=people.staff)
    with pytest.raises(InvalidInput):
        ops.record_requester(case, role="lawyer", name="mr. X", actor=people.staff, now=NOW)


ON_BEHALF = {"nl": ["Geachte heer/mevrouw De Wit", "U schreef ons als advocaat van Zoë Van den Broeck"],
             "en": ["Dear Sir or Madam", "You wrote to us as lawyer of Zoë Van den Broeck"],
             "fr": ["Vous nous avez écrit en qualité d’avocat de Zoë Van den Broeck"]}


@pytest.mark.parametrize("language", ["nl", "en", "fr"])
def test_letters_go_to_the_requester_about_the_subject(people, language):
    case = make_case(actor=people.staff)
    ops.record_requester(case, role="lawyer", **LAWYER, actor=people.staff, now=NOW)
    db.session.commit()
    text = text_of(case, LetterKind.ACKNOWLEDGEMENT, language)
    for phrase in ON_BEHALF[language] + ["Weena 10", "3012 CM ROTTERDAM"]:
        assert phrase in text, phrase
    assert "Coolsingel" not in text  # the subject's address is not on the letter


DECEASED = {"nl": ["overweging 27 AVG", "op 1 november 2026", "verklaring van erfrecht", "Geachte heer/mevrouw Erfgenaam"],
            "en": ["recital 27 GDPR", "on 1 November 2026", "certificate of inheritance", "Dear Sir or Madam"],
            "fr": ["considérant 27 du RGPD", "décès de Zoë Van den Broeck le 1", "attestation d’hérédité"]}


@pytest.mark.parametrize("language", ["nl", "en", "fr"])
def test_a_request_about_a_deceased_person_gets_its_own_letter(people, language):
    case = make_case(actor=people.staff)
    with pytest.raises(RuleViolation):
        ops.record_requester(case, role="relative", name="H. Erfgenaam", email="h@example.nl", actor=people.staff,
                             now=NOW)
    ops.record_deceased(case, died_on=date(2026, 11, 1), actor=people.staff, now=NOW, today=TODAY)
    with pytest.raises(RuleViolation, match="Record who asked"):
        render_letter(case, LetterKind.DECEASED, LetterLanguage(language), today=TODAY)
    ops.record_requester(case, role="relative", name="H. Erfgenaam", address="Kade 1", postcode="1011 AA",
                         city="Amsterdam", actor=people.staff, now=NOW)
    db.session.commit()
    text = text_of(case, LetterKind.DECEASED, language)
    for phrase in DECEASED[language]:
        assert phrase in text, phrase
    assert "Kade 1" in text and "Coolsingel" not in text
    for on_behalf in ("schreef ons als", "wrote to us as", "écrit en qualité"):  # a relative acts for no one
        assert on_behalf not in text


def test_the_deceased_letter_needs_the_record(people):
    case = make_case(actor=people.staff)
    with pytest.raises(RuleViolation, match="died"):
        render_letter(case, LetterKind.DECEASED, LetterLanguage.EN, today=TODAY)
    with pytest.raises(InvalidInput):
        ops.record_deceased(case, died_on=date(2027, 1, 1), actor=people.staff, now=NOW, today=TODAY)
