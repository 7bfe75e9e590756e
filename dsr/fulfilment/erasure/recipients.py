"""Art. 19 for erasure, by name: the recipients the erased records themselves named (issue 13, item 7).

A field the data map marks ``dsr.recipient`` names who received its record: the risk bearer of a policy, the
repairer of a claim, the sales partner of a customer. Execution reads those names from each record before it
goes (:func:`dsr.fulfilment.erasure.execute.named_recipients`) and keeps them on the plan item; this module
gathers them per recipient of the privacy statement, so that the case lists "Risk bearer: Maasstad
Schadeverzekeringen N.V." rather than only "the risk bearer", and each is ticked on its own.
"""

from __future__ import annotations

import sqlalchemy as sa

from dsr.cases.models import Case
from dsr.extensions import db
from dsr.fulfilment.models import ErasurePlan, ErasurePlanItem


def named_recipients(case: Case) -> dict[str, list[str]]:
    """``{statement recipient id: [names]}`` named by the records the case's erasure plans erased."""
    found: dict[str, set[str]] = {}
    for recipients in db.session.execute(sa.select(ErasurePlanItem.recipients).join(ErasurePlan).where(
            ErasurePlan.case_id == case.id, ErasurePlanItem.executed_at.is_not(None),
            ErasurePlanItem.recipients.is_not(None))).scalars():
        for rid, names in (recipients or {}).items():
            found.setdefault(rid, set()).update(n for n in names if n)
    return {rid: sorted(names) for rid, names in sorted(found.items())}
