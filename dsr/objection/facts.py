"""What the reply letters say about an objection (Art. 21): plain, JSON-ready facts, no ORM objects.

The letters are built elsewhere (DESIGN.md, "Letters and exports"); they take these facts and word them
in the subject's language. The names of the keys are the contract with them:

``direct_marketing``: ``None`` when direct marketing was not stopped from this case, else
``{"stopped_on": ISO date of the first stop, "subscriptions_removed": n, "suppressed": bool, ...}``;
``suppressed`` is read from the list now, not remembered. Extra keys: ``complete`` (no source failed on the
last stop), ``kept_under_hold`` (subscriptions kept under a legal hold, not used for marketing).

``other``: the decided Art. 21(1) objections, oldest first, each ``{"processing" (its readable name),
"outcome" ("upheld" | "rejected"), "reasons", "decided_on"}`` plus ``processing_key``, ``purposes`` (the
statement's purpose numbers, to name them per language), ``effect`` and ``compelling_grounds``. A rejected
one makes the reply a (partial) refusal: ``refused`` is true when any is, and the letter then gives the
complaint route (Art. 12(4)). Pending objections are not in the letter.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from dsr.cases.models import Case
from dsr.extensions import db
from dsr.objection.balancing import objections_for
from dsr.objection.models import MarketingStop, ObjectionOutcome
from dsr.suppression.operations import listed, subject_identifiers
from dsr.timeutil import local_date


def _direct_marketing(case: Case) -> dict[str, Any] | None:
    stops = list(db.session.execute(sa.select(MarketingStop).where(MarketingStop.case_id == case.id).order_by(
        MarketingStop.id)).scalars())
    if not stops:
        return None
    found = subject_identifiers(case)
    return {
        "stopped_on": local_date(stops[0].stopped_at).isoformat(),
        "subscriptions_removed": sum(s.removed_count for s in stops),
        "suppressed": bool(found) and all(listed(found).values()),
        "complete": stops[-1].complete,
        "kept_under_hold": len(stops[-1].kept),
    }


def objection_facts(case: Case) -> dict[str, Any]:
    """The objection part of the reply to ``case``; see the module docstring for the keys."""
    other = [{
        "id": o.id,  # which text for the subject goes with it (dsr.texts); never printed
        "processing": o.processing_name,
        "processing_key": o.processing,
        "purposes": list(o.purposes or []),
        "outcome": o.outcome.value,
        "reasons": o.reasons,
        "compelling_grounds": o.compelling_grounds,
        "effect": o.effect.value if o.effect else None,
        "decided_on": local_date(o.decided_at).isoformat(),
    } for o in objections_for(case) if o.decided_at is not None]
    return {
        "direct_marketing": _direct_marketing(case),
        "other": other,
        "refused": any(o["outcome"] == ObjectionOutcome.REJECTED.value for o in other),
    }
