"""Pauses and ID copies that end (issue 18, item 6), on SQLite and PostgreSQL.

An information request open for 30 days puts the case under "needs attention"; the privacy manager may
close it (Art. 11(2), 12(2)) and the refusal letter, read back in nl, en and fr, says when the information
was asked for. An ID copy nobody confirmed within 7 days is destroyed by the daily job, and that is recorded.
"""

from __future__ import annotations

import io
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from dsr.attachments.models import Attachment
from dsr.attachments.storage import check_upload, store_attachment
from dsr.audit.models import AuditEvent
from dsr.audit.verify import verify_chain
from dsr.cases import timing
from dsr.cases.errors import RuleViolation
from dsr.cases.models import Case
from dsr.cases.queries import QueueFilters, queue_query
from dsr.domain.enums import AttachmentKind, CaseState, RefusalGround, Role
from dsr.extensions import db
from dsr.identity.jobs import DESTROY_JOB_KIND
from dsr.identity.operations import destroy_unconfirmed_id_copies
from dsr.jobs import runner
from dsr.letters.kinds import LetterKind, LetterLanguage
from dsr.letters.operations import render_letter
from dsr.texts.models import TextPurpose
from dsr.texts.operations import save_text
from dsr.unanswered import operations as ops
from tests.factories import make_case, make_user
from tests.storage_support import path_for

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
ASKED = date(2026, 11, 23)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def people(ctx):
    return make_user(Role.PRIVACY_MANAGER), make_user(Role.STAFF)


def paused_case(staff) -> Case:
    case = make_case(actor=staff, received_on=date(2026, 11, 20))
    timing.request_information(case, reason="Uw polisnummer", requested_on=ASKED, actor=staff, now=NOW,
                               today=ASKED)
    db.session.commit()
    return case


def _flagged(day: date) -> list[str]:
    filters = QueueFilters(flag="long_pause")
    return [c.reference for c in db.session.execute(queue_query(filters, day)).scalars()]


def test_a_request_unanswered_for_30_days_needs_attention(people):
    _manager, staff = people
    case = paused_case(staff)
    assert ops.unanswered(case, ASKED + timedelta(days=29)) is None
    assert _flagged(ASKED + timedelta(days=29)) == []
    found = ops.unanswered(case, ASKED + timedelta(days=30))
    assert (found.pause.requested_on, found.days) == (ASKED, 30)
    assert _flagged(ASKED + timedelta(days=30)) == [case.reference]


def test_an_answered_request_needs_no_attention(people):
    _manager, staff = people
    case = paused_case(staff)
    timing.information_received(case, received_on=date(2026, 11, 25), actor=staff, now=NOW, today=date(2026, 11, 25))
    db.session.commit()
    assert ops.unanswered(case, ASKED + timedelta(days=60)) is None
    assert _flagged(ASKED + timedelta(days=60)) == []


def test_closing_too_early_is_refused(people):
    manager, staff = people
    case = paused_case(staff)
    with pytest.raises(RuleViolation):
        ops.close_unanswered(case, justification="Geen antwoord", actor=manager, now=NOW,
                             today=ASKED + timedelta(days=10))


REFUSAL_SAYS = {
    "nl": ["Op 23 november 2026 hebben wij u gevraagd om informatie", "30 dagen later hadden wij die nog niet ontvangen",
           "artikel 11, tweede lid"],
    "en": ["On 23 November 2026 we asked you for information", "30 days later we had not received it",
           "Article 11(2)"],
    "fr": ["Le 23 novembre 2026, nous vous avons demandé des informations", "30 jours plus tard",
           "article 11, paragraphe 2"],
}


@pytest.mark.parametrize("language", ["nl", "en", "fr"])
def test_closing_refuses_and_the_letter_says_when_it_was_asked(people, language):
    manager, staff = people
    case = paused_case(staff)
    later = NOW + timedelta(days=30)
    ops.close_unanswered(case, justification="Zonder polisnummer kunnen wij u niet identificeren.",
                         actor=manager, now=later, today=ASKED + timedelta(days=30))
    save_text(case, TextPurpose.REFUSAL, 0, language, {  # what the letter quotes, in its language (issue 14.2)
        "nl": "Zonder polisnummer kunnen wij u niet identificeren.",
        "en": "Without your policy number we cannot identify you.",
        "fr": "Sans votre numéro de police, nous ne pouvons pas vous identifier."}[language], actor=manager, now=later)
    db.session.commit()
    assert (case.state, case.refusal_ground) == (CaseState.REFUSED, RefusalGround.IDENTITY_NOT_ESTABLISHED)
    assert [e.action for e in db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.case_id == case.id).order_by(AuditEvent.id))][-3:] == ["case.refuse", "case.closed_unanswered",
                                                                   "subject_text.saved"]
    rendered = render_letter(case, LetterKind.REFUSAL, LetterLanguage(language), today=ASKED + timedelta(days=30))
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(rendered.pdf)).pages)
    for phrase in REFUSAL_SAYS[language]:
        assert phrase in text, phrase
    if os.environ.get("DSR_LETTERS_PDF_DIR"):  # to look at before a release (pdftoppm -png)
        (Path(os.environ["DSR_LETTERS_PDF_DIR"]) / f"refusal-unanswered-{language}.pdf").write_bytes(rendered.pdf)


def test_a_plain_refusal_says_nothing_about_an_unanswered_request(people):
    from dsr.cases import lifecycle

    manager, staff = people
    case = paused_case(staff)
    lifecycle.refuse(case, ground=RefusalGround.IDENTITY_NOT_ESTABLISHED, justification="Niet te identificeren",
                     actor=manager, now=NOW)
    save_text(case, TextPurpose.REFUSAL, 0, "en", "We could not identify you.", actor=manager, now=NOW)
    db.session.commit()
    html = " ".join(render_letter(case, LetterKind.REFUSAL, LetterLanguage.EN, today=ASKED).html)
    assert "we asked you for information" not in html


def _id_copy(case, staff, at):
    attachment = store_attachment(case, check_upload("paspoort.pdf", io.BytesIO(PDF), max_bytes=1024),
                                  actor=staff, now=at, kind=AttachmentKind.ID_DOCUMENT)
    db.session.commit()
    return attachment


def test_unconfirmed_id_copies_are_destroyed_after_7_days(people, ctx):
    _manager, staff = people
    case = make_case(actor=staff)
    old = _id_copy(case, staff, NOW)
    fresh = _id_copy(case, staff, NOW + timedelta(days=3))
    letter = store_attachment(case, check_upload("brief.pdf", io.BytesIO(PDF + b" "), max_bytes=1024),
                              actor=staff, now=NOW, kind=AttachmentKind.LETTER)
    db.session.commit()
    old_path, old_id = path_for(old), old.id
    assert destroy_unconfirmed_id_copies(now=NOW + timedelta(days=6, hours=23), days=7) == []
    done = destroy_unconfirmed_id_copies(now=NOW + timedelta(days=7), days=7)
    db.session.commit()
    assert done == [{"case": case.reference, "attachment_id": old_id}]
    assert not old_path.exists()
    remaining = set(db.session.scalars(sa.select(Attachment.id)))
    assert remaining == {fresh.id, letter.id}
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "identity.id_document_expired")).one()
    assert event.case_id == case.id and event.actor_id is None and event.before["attachment_id"] == old_id
    assert verify_chain().ok


def test_the_daily_job_destroys_them(people, ctx):
    _manager, staff = people
    case = make_case(actor=staff)
    _id_copy(case, staff, NOW - timedelta(days=8))
    job = runner.create(DESTROY_JOB_KIND, now=NOW, params={}, actor=None)
    db.session.commit()
    runner.perform(job.id)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 0
