"""Recording a direct transmission (Art. 20(2)): who received the data, how and when."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dsr.audit.labels import ACTION_LABELS
from dsr.audit.operations import record
from dsr.cases.errors import InvalidInput, RuleViolation
from dsr.cases.guards import WRITERS, require_role
from dsr.cases.models import Case
from dsr.domain.enums import Right
from dsr.extensions import db
from dsr.transmissions.models import DirectTransmission, TransmissionChannel

ACTION_LABELS["portability.transmitted"] = _l("Portable data transmitted directly to another controller (Art. 20(2))")
CONTROLLER_MAX = 200


def record_transmission(case: Case, *, controller: str, channel: TransmissionChannel | str, on: date, actor,
                        now: datetime, today: date) -> DirectTransmission:
    """Record that the portable data went directly to ``controller`` by ``channel`` on ``on`` (Art. 20(2)).

    Only on a case that asks for portability; the day cannot be before the request nor in the future."""
    require_role(actor, *WRITERS, what=_l("record a direct transmission"))
    if Right.PORTABILITY not in case.right_values:
        raise RuleViolation(_("%(ref)s does not ask for data portability (Art. 20).", ref=case.reference))
    controller = " ".join((controller or "").split())
    if not controller:
        raise InvalidInput(_("Name the organisation that received the data."), "controller")
    if len(controller) > CONTROLLER_MAX:
        raise InvalidInput(_("The organisation's name is longer than %(n)s characters.", n=CONTROLLER_MAX),
                           "controller")
    try:
        channel = TransmissionChannel(channel)
    except ValueError:
        raise InvalidInput(_("Unknown channel."), "channel") from None
    if on > today:
        raise InvalidInput(_("The day of the transmission cannot be in the future."), "on")
    if on < case.received_on:
        raise InvalidInput(_("The day of the transmission cannot be before the request was received."), "on")
    sent = DirectTransmission(case_id=case.id, receiving_controller=controller, channel=channel, transmitted_on=on,
                              recorded_by_id=actor.id if actor else None, recorded_at=now)
    db.session.add(sent)
    db.session.flush()
    record("portability.transmitted", actor=actor, now=now, case=case,
           after={"transmission_id": sent.id, "controller": controller, "channel": channel, "on": on})
    return sent


def transmissions(case: Case) -> list[DirectTransmission]:
    return list(db.session.execute(sa.select(DirectTransmission).where(DirectTransmission.case_id == case.id)
                                   .order_by(DirectTransmission.transmitted_on, DirectTransmission.id)).scalars())
