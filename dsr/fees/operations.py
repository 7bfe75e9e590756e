"""Proposing a fee for a further copy, and the subject's answer (Art. 15(3), 12(5); EDPB 01/2022 §§192-194)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dsr.audit.labels import ACTION_LABELS
from dsr.audit.operations import record
from dsr.cases import lifecycle, timing
from dsr.cases.census import known_empty
from dsr.cases.errors import InvalidInput, RuleViolation
from dsr.cases.guards import WRITERS, require_open, require_role
from dsr.cases.models import Case, CaseRight
from dsr.domain.enums import CaseState, Right, Role
from dsr.extensions import db
from dsr.fees.models import CopyFee, FeeStatus
from dsr.timeutil import local_date

ACTION_LABELS["fee.proposed"] = _l("Fee for a further copy proposed; the subject is warned first (Art. 15(3))")
ACTION_LABELS["fee.agreed"] = _l("The subject agreed to the fee")
ACTION_LABELS["fee.declined"] = _l("The subject did not agree to the fee and withdrew")
MAX_CENTS = 100_000  # a fee covers administrative costs; anything above EUR 1,000 is a typing error


@dataclass(frozen=True)
class EarlierCopy:
    reference: str
    given_on: date


_COPY_GIVEN = (CaseState.COMPLETED, CaseState.CLOSED)


def _read_cases_of_subject(case: Case) -> list[Case] | None:
    """The subject's cases as already read into the session with their rights (the case page reads them), or
    None when they were not: reading them here would cost more than the statement."""
    subject = sa.inspect(case).dict.get("subject")
    cases = sa.inspect(subject).dict.get("cases") if subject is not None else None
    if cases is None or any("rights" not in sa.inspect(c).dict for c in cases):
        return None
    return cases


def earlier_copy(case: Case) -> EarlierCopy | None:
    """The first copy this subject already had: an access case of theirs completed before this one arrived."""
    if case.subject_id is None:
        return None
    cases = _read_cases_of_subject(case)
    if cases is not None:  # the case page has read them with their rights: no statement of its own
        earlier = min((c for c in cases if c.id != case.id and c.state in _COPY_GIVEN and c.closed_at is not None
                       and any(r.right is Right.ACCESS for r in c.rights)),
                      key=lambda c: (c.closed_at, c.id), default=None)
    else:
        earlier = db.session.execute(
            sa.select(Case).join(CaseRight).where(
                Case.subject_id == case.subject_id, Case.id != case.id, CaseRight.right == Right.ACCESS,
                Case.state.in_(_COPY_GIVEN), Case.closed_at.is_not(None))
            .order_by(Case.closed_at, Case.id)).scalars().first()
    if earlier is None or local_date(earlier.closed_at) > case.received_on:
        return None
    return EarlierCopy(earlier.reference, local_date(earlier.closed_at))


def fee_of(case: Case) -> CopyFee | None:
    if known_empty(case, "copy_fees"):
        return None
    return db.session.execute(sa.select(CopyFee).where(CopyFee.case_id == case.id)).scalar_one_or_none()


def propose_fee(case: Case, *, amount_cents: int, basis: str, actor, now: datetime, today: date) -> CopyFee:
    """Warn the subject that a further copy carries a fee, and wait: the clock pauses until they answer.

    Only the privacy manager decides it, only on an access request, never for the first copy."""
    require_role(actor, Role.PRIVACY_MANAGER, what=_l("propose a fee"))
    require_open(case, _l("propose a fee"))
    if Right.ACCESS not in case.right_values:
        raise RuleViolation(_("A fee is only for a further copy of the data (Art. 15(3)); %(ref)s does not ask "
                              "for access.", ref=case.reference))
    earlier = earlier_copy(case)
    if earlier is None:
        raise RuleViolation(_("The first copy is free (Art. 15(3)): this person has had no copy before."))
    if fee_of(case) is not None:
        raise RuleViolation(_("%(ref)s already has a fee proposed.", ref=case.reference))
    if not isinstance(amount_cents, int) or not 0 < amount_cents <= MAX_CENTS:
        raise InvalidInput(_("Give an amount between EUR 0.01 and EUR 1,000."), "amount")
    basis = (basis or "").strip()
    if not basis:
        raise InvalidInput(_("Explain how the amount follows from the administrative costs."), "basis")
    pause = timing.request_information(case, reason=f"Agreement to a fee of {amount_cents / 100:.2f} EUR "
                                       "for a further copy", requested_on=today, actor=actor, now=now, today=today)
    db.session.flush()
    fee = CopyFee(case_id=case.id, amount_cents=amount_cents, basis=basis, earlier_reference=earlier.reference,
                  earlier_on=earlier.given_on, status=FeeStatus.WARNED, pause_id=pause.id, warned_on=today,
                  proposed_by_id=actor.id if actor else None, proposed_at=now)
    db.session.add(fee)
    db.session.flush()
    record("fee.proposed", actor=actor, now=now, case=case, after={
        "fee_id": fee.id, "amount_cents": amount_cents, "basis": basis, "earlier": earlier.reference})
    return fee


def fee_agreed(case: Case, *, on: date, actor, now: datetime, today: date) -> None:
    """The subject agreed to pay: the clock runs again from that day."""
    fee = _warned(case)
    require_role(actor, *WRITERS, what=_l("record the answer to a fee"))
    if fee.pause_id is not None and timing.open_pause(case) is not None and timing.open_pause(case).id == fee.pause_id:
        timing.information_received(case, received_on=on, actor=actor, now=now, today=today)
    elif on > today:
        raise InvalidInput(_("The day of the answer cannot be in the future."), "on")
    fee.status, fee.answered_on = FeeStatus.AGREED, on
    record("fee.agreed", actor=actor, now=now, case=case, after={"fee_id": fee.id, "on": on})


def fee_declined(case: Case, *, on: date, how: str, actor, now: datetime, today: date) -> None:
    """The subject did not agree: the request is withdrawn, as they said (or by not wanting to pay)."""
    fee = _warned(case)
    if on > today:
        raise InvalidInput(_("The day of the answer cannot be in the future."), "on")
    lifecycle.withdraw(case, how=how or "Did not agree to the fee for a further copy", actor=actor, now=now)
    fee.status, fee.answered_on = FeeStatus.WITHDRAWN, on
    record("fee.declined", actor=actor, now=now, case=case, after={"fee_id": fee.id, "on": on})


def _warned(case: Case) -> CopyFee:
    fee = fee_of(case)
    if fee is None or fee.status is not FeeStatus.WARNED:
        raise RuleViolation(_("%(ref)s is not waiting for an answer to a fee.", ref=case.reference))
    return fee
