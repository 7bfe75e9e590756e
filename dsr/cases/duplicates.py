"""Repeat and duplicate requests: flagged, then merged or linked; never refused for being a repeat.

A request a year after the last one is never excessive (EDPB 01/2022 §185), so the subject's requests of
the last 12 months are shown wherever a refusal is considered.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dsr.audit.operations import record
from dsr.cases.census import known_empty
from dsr.cases.errors import InvalidInput, RuleViolation
from dsr.cases.guards import WRITERS, check_version, require_open, require_role
from dsr.cases.lifecycle import transition
from dsr.cases.models import Case, CaseLink, CaseRight
from dsr.domain.enums import CLOSED_STATES, LinkKind
from dsr.domain.workflow import Action
from dsr.extensions import db


def open_duplicates(case: Case) -> list[Case]:
    """Other open cases of the same subject asking for at least one of the same rights."""
    if case.state in CLOSED_STATES:
        return []
    rights = [r.right for r in case.rights]
    stmt = (
        sa.select(Case)
        .where(Case.subject_id == case.subject_id, Case.id != case.id, Case.state.not_in(list(CLOSED_STATES)))
        .where(Case.id.in_(sa.select(CaseRight.case_id).where(CaseRight.right.in_(rights))))
        .order_by(Case.received_on, Case.id)
    )
    return list(db.session.execute(stmt).scalars())


def recent_requests(case: Case, today: date, months: int = 12) -> list[Case]:
    """The subject's other requests received in the last ``months`` months, newest first."""
    since = today - relativedelta(months=months)
    return [c for c in case.subject.cases if c.id != case.id and c.received_on >= since]


def previous_request(case: Case) -> Case | None:
    earlier = [c for c in case.subject.cases if c.id != case.id and c.received_on <= case.received_on]
    return max(earlier, key=lambda c: (c.received_on, c.id), default=None)


def linked_cases(case: Case) -> list[tuple[LinkKind, Case]]:
    if known_empty(case, "case_links"):
        return []
    rows = db.session.execute(
        sa.select(CaseLink).where(sa.or_(CaseLink.case_id == case.id, CaseLink.linked_case_id == case.id))
    ).scalars()
    return [(link.kind, link.linked_case if link.case_id == case.id else link.case) for link in rows]


def link_cases(case: Case, other: Case, *, kind: LinkKind, actor, now: datetime) -> CaseLink:
    require_role(actor, *WRITERS, what=_l("link cases"))
    if other.id == case.id:
        raise InvalidInput(_("A case cannot be linked to itself."), "other")
    if other.subject_id != case.subject_id:
        raise RuleViolation(_("Only cases of the same person are linked."))
    if any(c.id == other.id for _k, c in linked_cases(case)):
        raise RuleViolation(_("%(a)s and %(b)s are already linked.", a=case.reference, b=other.reference))
    link = CaseLink(case_id=case.id, linked_case_id=other.id, kind=kind,
                    created_by_id=actor.id if actor else None, created_at=now)
    db.session.add(link)
    record("case.linked", actor=actor, now=now, case=case, after={"linked_case": other.reference, "kind": kind})
    record("case.linked", actor=actor, now=now, case=other, after={"linked_case": case.reference, "kind": kind})
    return link


def merge_into(case: Case, target: Case, *, actor, now: datetime, expected_version: int | None = None) -> None:
    """Fold a duplicate into the earlier open case of the same person: its rights and attachments move (its
    notes and history stay on the merged case, which points to the target).

    The target keeps its own receipt date, so its clock (the earlier one) governs the combined request.
    """
    require_role(actor, *WRITERS, what=_l("merge cases"))
    check_version(case, expected_version)
    require_open(case, _l("merge cases"))
    require_open(target, _l("merge into %(ref)s", ref=target.reference))
    if target.id == case.id:
        raise InvalidInput(_("A case cannot be merged into itself."), "target")
    if target.subject_id != case.subject_id:
        raise RuleViolation(_("Only cases of the same person can be merged."))
    moved_rights = [r.right for r in case.rights if r.right not in target.right_values]
    for right in moved_rights:
        target.rights.append(CaseRight(right=right))
    moved_attachments = [a.id for a in case.attachments]
    for attachment in list(case.attachments):
        attachment.case = target
    decision = _("Merged into %(ref)s.", ref=target.reference)
    transition(case, Action.MERGE, actor=actor, now=now, details={"merged_into": target.reference},
               sets={"merged_into": target, "decision": decision})
    target.updated_at = now
    record("case.merged_from", actor=actor, now=now, case=target,
           after={"merged_case": case.reference, "rights_added": moved_rights,
                  "attachments_moved": moved_attachments})
