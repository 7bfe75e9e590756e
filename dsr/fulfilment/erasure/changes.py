"""What erasure registers with Art. 19 (:mod:`dsr.notices.changes`): the records a case's plans erased, and
the recipients those records named (:mod:`.recipients`)."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from dsr.cases.models import Case
from dsr.domain.enums import Right
from dsr.domain.retention_rules import Action
from dsr.extensions import db
from dsr.fulfilment.erasure.recipients import named_recipients
from dsr.fulfilment.models import ErasurePlan, ErasurePlanItem
from dsr.notices.changes import register_change


def erased_places(case: Case) -> set[tuple[str, str]]:
    """``(source, collection)`` of the records erased (not kept) by this case's executed plan items."""
    return {(source, collection) for source, collection in db.session.execute(
        sa.select(ErasurePlanItem.source, ErasurePlanItem.collection).join(ErasurePlan).where(
            ErasurePlan.case_id == case.id, ErasurePlanItem.executed_at.is_not(None),
            ErasurePlanItem.action != Action.KEEP)).all()}


register_change("erased", right=Right.ERASURE, places=erased_places, named=named_recipients,
                heading=_l("Recipients to notify of the erasure (Art. 19)"))
