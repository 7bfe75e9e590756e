"""What the letters say about a restriction (Art. 18) and its lifting (18(3)), as plain JSON-ready data.

Every value is a string, a list, a dict or ``None`` (dates as ISO text). Places are keyed by the data map's
source and collection; :mod:`dsr.letters.facts` names them in the letter's language. Only what the case
records is given: the grounds recorded, the records restricted (by dsr or by a person, with the day), what a
person still has to do, and the decision to lift with its reason.
"""

from __future__ import annotations

from typing import Any

from dsr.cases.models import Case
from dsr.restriction.models import RestrictedStatus
from dsr.restriction.operations import grounds_of, lift_of, records_of
from dsr.timeutil import local_date


def restriction_facts(case: Case) -> dict[str, Any]:
    """The grounds, the places restricted (per source and collection: how many records, since when, by whom
    or what), the places still waiting for a person, and the decision to lift, if any."""
    grounds = [{"ground": g.ground.value, "letter": g.ground.letter,
                "linked_reference": g.linked_case.reference if g.linked_case is not None else None,
                "same_case": g.linked_case_id == case.id, "explanation": g.explanation} for g in grounds_of(case)]
    places: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in records_of(case):
        state = {RestrictedStatus.PENDING: "pending", RestrictedStatus.RESTRICTED: "restricted",
                 RestrictedStatus.LIFT_PENDING: "lifting", RestrictedStatus.LIFTED: "lifted"}[r.status]
        if r.status is RestrictedStatus.LIFTED and r.result and r.result.startswith("not restricted"):
            continue  # lifted before a person restricted it: nothing was ever restricted there
        entry = places.setdefault((state, r.source, r.collection), {
            "state": state, "source": r.source, "collection": r.collection, "records": None, "by_person": False,
            "since": None})
        # A collection of a source a person searches (the paper archive, a processor) has no records dsr
        # knows of: it is named without a count.
        entry["records"] = None if r.primary_key is None else (entry["records"] or 0) + 1
        entry["by_person"] = entry["by_person"] or r.method.value == "person"
        if r.restricted_at is not None:
            day = local_date(r.restricted_at).isoformat()
            entry["since"] = min(entry["since"] or day, day)
    lift = lift_of(case)
    return {
        "grounds": grounds,
        "places": sorted(places.values(), key=lambda p: (p["source"], p["collection"], p["state"])),
        "lift": None if lift is None else {
            "reason": lift.reason, "decided_on": local_date(lift.decided_at).isoformat(),
            "lifted_on": local_date(lift.lifted_at).isoformat() if lift.lifted_at else None},
    }
