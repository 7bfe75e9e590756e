"""Recording how a subject's identity was verified, and destroying ID copies once checked.

Identity is asked for only on reasonable doubt and in proportion (Art. 12(6); EDPB 01/2022 §73: an
authenticated customer is not asked for ID). A copy of an ID document is not kept: staff confirm the
check, the copy is deleted, and only "ID seen, by whom, when" remains (EDPB §§74–79; AP guidance).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dsr.attachments.models import Attachment
from dsr.attachments.storage import delete_attachment
from dsr.audit.operations import record
from dsr.cases.errors import InvalidInput, RuleViolation
from dsr.cases.guards import WRITERS, check_version, require_open, require_role
from dsr.cases.lifecycle import transition
from dsr.cases.models import Case
from dsr.domain.enums import AttachmentKind, CaseState, VerificationMethod, VerificationOutcome
from dsr.domain.workflow import Action
from dsr.extensions import db
from dsr.identity.models import IdentityVerification


def record_verification(case: Case, *, method: VerificationMethod, outcome: VerificationOutcome, note: str,
                        actor, now: datetime, expected_version: int | None = None) -> IdentityVerification:
    """Record a verification; a verified identity moves a new or identity-check case into progress."""
    require_role(actor, *WRITERS, what=_l("record an identity verification"))
    check_version(case, expected_version)
    require_open(case, _l("verify the identity"))
    if method is VerificationMethod.ID_DOCUMENT_SEEN and outcome is VerificationOutcome.VERIFIED and not note:
        note = "ID document seen"
    verification = IdentityVerification(case_id=case.id, method=method, outcome=outcome, note=note or "",
                                        verified_by_id=actor.id if actor else None, verified_at=now)
    db.session.add(verification)
    record("identity.verified" if outcome is VerificationOutcome.VERIFIED else "identity.not_verified",
           actor=actor, now=now, case=case, after={"method": method, "outcome": outcome, "note": note or ""})
    if outcome is VerificationOutcome.VERIFIED and case.state in (CaseState.RECEIVED, CaseState.IDENTITY_CHECK):
        transition(case, Action.START_WORK, actor=actor, now=now)
    return verification


def confirm_id_document(case: Case, attachment: Attachment, *, outcome: VerificationOutcome, actor, now: datetime,
                        expected_version: int | None = None) -> IdentityVerification | None:
    """Staff confirm they checked an ID copy; the copy is deleted and only the fact of the check remains."""
    require_role(actor, *WRITERS, what=_l("confirm an ID check"))
    check_version(case, expected_version)
    if attachment.case_id != case.id:
        raise InvalidInput(_("That attachment belongs to another case."), "attachment")
    if attachment.kind is not AttachmentKind.ID_DOCUMENT:
        raise RuleViolation(_("Only an attachment marked as an ID document is destroyed after the check."))
    sha = attachment.sha256
    delete_attachment(attachment)
    record("identity.id_document_destroyed", actor=actor, now=now, case=case,
           before={"attachment_id": attachment.id, "sha256": sha}, after={"kept": "ID seen, by whom, when"})
    if case.state in (CaseState.COMPLETED, CaseState.REFUSED, CaseState.WITHDRAWN, CaseState.CLOSED):
        # A late-arriving copy of a closed case is still destroyed, but no verification is recorded.
        return None
    return record_verification(case, method=VerificationMethod.ID_DOCUMENT_SEEN, outcome=outcome,
                               note="ID document seen; copy destroyed after the check", actor=actor, now=now)


def destroy_unconfirmed_id_copies(*, now: datetime, days: int) -> list[dict]:
    """Destroy every ID copy uploaded more than ``days`` ago that nobody confirmed (and so destroyed).

    An ID copy is kept only for the check (EDPB 01/2022 §§74–79; AP guidance): one left unchecked is not
    kept waiting. No verification is recorded, since nobody checked it: the case shows that the copy was
    destroyed unchecked, and identity must be established another way. Run daily by the system.
    """
    from datetime import timedelta

    import sqlalchemy as sa

    cutoff = now - timedelta(days=days)
    due = list(db.session.execute(sa.select(Attachment).where(
        Attachment.kind == AttachmentKind.ID_DOCUMENT, Attachment.uploaded_at <= cutoff).order_by(Attachment.id))
        .scalars())
    done = []
    for attachment in due:
        case, attachment_id, sha, uploaded = attachment.case, attachment.id, attachment.sha256, attachment.uploaded_at
        delete_attachment(attachment)
        record("identity.id_document_expired", actor=None, now=now, case=case,
               before={"attachment_id": attachment_id, "sha256": sha, "uploaded_at": uploaded},
               after={"kept": "that an ID copy was received and destroyed unchecked", "after_days": days})
        done.append({"case": case.reference, "attachment_id": attachment_id})
    return done
