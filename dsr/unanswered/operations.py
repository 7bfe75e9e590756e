"""Cases whose information request went unanswered, and closing them (Art. 11(2), 12(2))."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dsr.audit.labels import ACTION_LABELS
from dsr.audit.models import AuditEvent
from dsr.audit.operations import record
from dsr.cases import lifecycle
from dsr.cases.errors import RuleViolation
from dsr.cases.models import Case, CasePause
from dsr.domain.enums import RefusalGround
from dsr.extensions import db

ACTION_LABELS["case.closed_unanswered"] = _l("Closed: the information asked for did not come (Art. 11(2), 12(2))")
CLOSED_UNANSWERED = "case.closed_unanswered"


@dataclass(frozen=True)
class Unanswered:
    pause: CasePause
    days: int


def attention_days() -> int:
    return int(current_app.config.get("PAUSE_ATTENTION_DAYS", 30))


def unanswered(case: Case, today: date, *, days: int | None = None) -> Unanswered | None:
    """The open information request of ``case`` older than ``days``, if any."""
    days = attention_days() if days is None else days
    pause = next((p for p in case.pauses if p.resumed_on is None), None)
    if pause is None or not case.state.is_open or (today - pause.requested_on).days < days:
        return None
    from dsr.fees.models import CopyFee

    if db.session.scalar(sa.select(sa.func.count()).select_from(CopyFee).where(CopyFee.pause_id == pause.id)):
        return None  # waiting for an answer to a fee, not for information about identity or the request
    return Unanswered(pause, (today - pause.requested_on).days)


def close_unanswered(case: Case, *, justification: str, actor, now: datetime, today: date,
                     expected_version: int | None = None) -> None:
    """Refuse the request because what was asked for to identify the subject or understand the request did
    not come within the set days (Art. 11(2), 12(2)); the refusal letter states when it was asked for."""
    found = unanswered(case, today)
    if found is None:
        raise RuleViolation(_("%(ref)s has no information request open for %(n)s days or more.",
                              ref=case.reference, n=attention_days()))
    lifecycle.refuse(case, ground=RefusalGround.IDENTITY_NOT_ESTABLISHED, justification=justification,
                     actor=actor, now=now, expected_version=expected_version)
    record(CLOSED_UNANSWERED, actor=actor, now=now, case=case,
           after={"pause_id": found.pause.id, "asked_on": found.pause.requested_on, "days": found.days})


def closed_unanswered_facts(case: Case) -> dict | None:
    """For the refusal letter: when the information was asked for and how long nothing came, as recorded."""
    event = db.session.execute(sa.select(AuditEvent).where(
        AuditEvent.case_id == case.id, AuditEvent.action == CLOSED_UNANSWERED).order_by(AuditEvent.id.desc())
        .limit(1)).scalar_one_or_none()
    if event is None or event.after is None:
        return None
    return {"asked_on": date.fromisoformat(event.after["asked_on"]), "days": event.after["days"]}
