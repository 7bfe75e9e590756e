"""Recording who asks when it is not the subject, checking their mandate and identity, and recording a
request about a deceased person (EDPB 01/2022 on requests through third parties; UAVG art. 5; recital 27)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dsr.attachments.models import Attachment
from dsr.audit.labels import ACTION_LABELS
from dsr.audit.operations import record
from dsr.cases.census import known_empty
from dsr.cases.errors import InvalidInput, RuleViolation
from dsr.cases.guards import WRITERS, require_open, require_role
from dsr.cases.models import Case
from dsr.cases.obligations import Obligation
from dsr.cases.obligations import register as register_obligations
from dsr.domain.enums import AttachmentKind, VerificationMethod
from dsr.extensions import db
from dsr.requesters.models import CaseRequester, RequesterRole

ACTION_LABELS["requester.recorded"] = _l("Requester recorded (not the subject)")
ACTION_LABELS["requester.mandate_checked"] = _l("Requester's mandate checked")
ACTION_LABELS["requester.identity_verified"] = _l("Requester's identity verified")
ACTION_LABELS["case.subject_deceased"] = _l("Recorded: the request is about a deceased person")

MINOR_AGE = 16  # UAVG art. 5: a parent or guardian gives consent and acts for a child under 16


def requester_of(case: Case) -> CaseRequester | None:
    if known_empty(case, "case_requesters"):
        return None
    return db.session.execute(sa.select(CaseRequester).where(CaseRequester.case_id == case.id)).scalar_one_or_none()


def age_on(born: date, day: date) -> int:
    return relativedelta(day, born).years


def record_requester(case: Case, *, role: RequesterRole | str, name: str, address: str | None = None,
                     postcode: str | None = None, city: str | None = None, country: str | None = None,
                     email: str | None = None, actor, now: datetime) -> CaseRequester:
    """Record that someone other than the subject made the request; letters then go to them.

    A parent or guardian acts for a child under 16 only (UAVG art. 5): the subject's date of birth must be
    recorded and make them younger than 16 on the day the request was received."""
    require_role(actor, *WRITERS, what=_l("record who made the request"))
    require_open(case, _l("record who made the request"))
    try:
        role = RequesterRole(role)
    except ValueError:
        raise InvalidInput(_("Unknown kind of requester."), "role") from None
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput(_("Give the requester's name."), "name")
    if len(name) > 200:
        raise InvalidInput(_("The name is longer than 200 characters."), "name")
    if not (address and postcode and city) and not email:
        raise InvalidInput(_("Give the requester's postal address or e-mail address: the letters go to them."),
                           "address")
    if role is RequesterRole.PARENT_GUARDIAN:
        born = case.subject.date_of_birth if case.subject else None
        if born is None:
            raise InvalidInput(_("Record the child's date of birth first: a parent or guardian acts only for a "
                                 "child under 16 (UAVG art. 5)."), "role")
        if age_on(born, case.received_on) >= MINOR_AGE:
            raise RuleViolation(_("The subject was %(age)s when the request was received: a parent or guardian "
                                  "acts only for a child under 16 (UAVG art. 5). Record a mandate instead.",
                                  age=age_on(born, case.received_on)))
    if role is RequesterRole.RELATIVE and not case.subject_deceased:
        raise RuleViolation(_("A relative asks for the subject only once the case records that the subject has "
                              "died; otherwise record a mandate."))
    if requester_of(case) is not None:
        raise RuleViolation(_("%(ref)s already records who made the request.", ref=case.reference))
    requester = CaseRequester(case_id=case.id, role=role, name=name, address=address or None,
                              postcode=postcode or None, city=city or None, country=(country or "").upper() or None,
                              email=email or None, recorded_by_id=actor.id if actor else None, recorded_at=now)
    db.session.add(requester)
    db.session.flush()
    record("requester.recorded", actor=actor, now=now, case=case,
           after={"requester_id": requester.id, "role": role, "name": name})
    return requester


def check_mandate(requester: CaseRequester, *, attachment: Attachment | None, scope: str,
                  expires_on: date | None, actor, now: datetime) -> None:
    """Record that the mandate was checked: the document (kept with the case), what it covers and until when.

    EDPB 01/2022: the controller checks that the third party is entitled to act for the subject."""
    require_role(actor, *WRITERS, what=_l("check a mandate"))
    case = requester.case
    if requester.role.needs_mandate:
        if attachment is None or attachment.case_id != case.id:
            raise InvalidInput(_("Choose the mandate document among this case's attachments."), "attachment")
        if attachment.kind is AttachmentKind.ID_DOCUMENT:
            raise InvalidInput(_("An ID copy is not a mandate (and it is destroyed after the check)."), "attachment")
    scope = (scope or "").strip()
    if requester.role.needs_mandate and not scope:
        raise InvalidInput(_("Say what the mandate covers (its scope)."), "scope")
    if expires_on is not None and expires_on < case.received_on:
        raise RuleViolation(_("The mandate had expired when the request was received: the requester could not "
                              "act for the subject."))
    requester.mandate_attachment_id = attachment.id if attachment is not None else None
    requester.mandate_scope = scope or None
    requester.mandate_expires_on = expires_on
    requester.mandate_checked_by_id, requester.mandate_checked_at = actor.id if actor else None, now
    record("requester.mandate_checked", actor=actor, now=now, case=case, after={
        "requester_id": requester.id, "attachment_id": requester.mandate_attachment_id, "scope": scope,
        "expires_on": expires_on})


def verify_requester_identity(requester: CaseRequester, *, method: VerificationMethod | str, actor,
                              now: datetime) -> None:
    """The requester's identity is checked as the subject's would be; only how, by whom and when is kept."""
    require_role(actor, *WRITERS, what=_l("verify the requester's identity"))
    try:
        method = VerificationMethod(method)
    except ValueError:
        raise InvalidInput(_("Unknown verification method."), "method") from None
    requester.identity_method = method
    requester.identity_verified_by_id, requester.identity_verified_at = actor.id if actor else None, now
    record("requester.identity_verified", actor=actor, now=now, case=requester.case,
           after={"requester_id": requester.id, "method": method})


def open_obligations(case: Case, today: date | None = None) -> list[Obligation]:
    """What must happen before a case made by a requester can be completed: the mandate checked (and valid),
    the requester's identity verified."""
    return requester_obligations(requester_of(case), today)


def requester_obligations(requester: CaseRequester | None, today: date | None = None) -> list[Obligation]:
    """:func:`open_obligations` for a requester already read (the card shows both)."""
    if requester is None:
        return []
    missing = []
    if not requester.role.needs_mandate and requester.role is RequesterRole.RELATIVE:
        pass
    elif requester.mandate_checked_at is None:
        missing.append(Obligation("requesters.mandate_unchecked", _("Check the requester's mandate.")))
    elif requester.mandate_expires_on is not None and today is not None and requester.mandate_expires_on < today:
        missing.append(Obligation("requesters.mandate_expired",
                                  _("The requester's mandate has expired: ask for a new one.")))
    if requester.identity_verified_at is None:
        missing.append(Obligation("requesters.identity_unverified", _("Verify the requester's identity.")))
    return missing


register_obligations("requesters", open_obligations, order=40)


def record_deceased(case: Case, *, died_on: date | None, actor, now: datetime, today: date) -> None:
    """Record that the request is about a deceased person: the GDPR does not protect them (recital 27), and
    the answer is the letter for that case, saying what Harmony can do for the heirs."""
    require_role(actor, *WRITERS, what=_l("record that the subject has died"))
    require_open(case, _l("record that the subject has died"))
    if died_on is not None and died_on > today:
        raise InvalidInput(_("The day of death cannot be in the future."), "died_on")
    case.subject_deceased_on = died_on
    case.subject_deceased_recorded_at = now
    record("case.subject_deceased", actor=actor, now=now, case=case, after={"died_on": died_on})
