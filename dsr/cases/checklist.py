"""What must be done before a case is completed, per right, derived from what the case records (issue 16, item 1).

The case page shows the list. Its own items are registered with :mod:`dsr.cases.obligations` as
overridable obligations, so :func:`dsr.cases.lifecycle.complete` refuses while one is open unless a
privacy manager overrides with a reason, which the audit trail keeps. Legal obligations that features
register themselves (corrections decided and recipients told, Art. 16 and 19; objections acted on, Art. 21;
a requester's mandate) are listed too, read from that registry, and are never overridden.

It reads several features' records, so it is web shell in the rooms contract (like the case page that
shows it); the workflow reaches it only through the registry.

Each item reads the feature's own records (a confirmed search, an executed erasure plan, an issued letter);
nothing is stored here. The features build on cases, so they are imported where they are read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from dsr.cases import obligations
from dsr.cases.models import Case
from dsr.cases.obligations import Obligation
from dsr.domain.enums import LookupMatch, Right
from dsr.extensions import db


@dataclass(frozen=True)
class Check:
    key: str
    label: str
    done: bool
    detail: str = ""
    # A legal obligation enforced by its feature: completing over it is refused even with a reason.
    overridable: bool = True


def checklist(case: Case, today: date | None = None) -> list[Check]:
    """The completion checklist of ``case`` as it stands now."""
    from dsr.exports.models import Export, ExportKind
    from dsr.fulfilment.lookup_ops import shown_lookups
    from dsr.fulfilment.models import ErasurePlan
    from dsr.letters.kinds import KINDS, LetterKind
    from dsr.letters.models import IssuedLetter
    from dsr.tasks.models import CaseTask

    rights = set(case.right_values)
    checks: list[Check] = []
    lookup = next(iter(shown_lookups(case)), None)  # the newest, as the page's cards show it
    # An objection or an Art. 22 request concerns a processing or a decision, not a copy of the records.
    needs_search = bool(rights - {Right.OBJECTION, Right.AUTOMATED_DECISION}) or not rights
    if needs_search:
        if lookup is None:
            detail = _("Harmony's systems have not been searched.")
        elif lookup.match == LookupMatch.PENDING:
            detail = _("The records found are not yet confirmed as this person's.")
        elif lookup.match == LookupMatch.REJECTED:
            detail = _("The records found were rejected as someone else's: search again.")
        elif lookup.status.value == "failed":
            detail = _("The last search failed.")
        else:
            detail = ""
        checks.append(Check("lookup", _("A search of Harmony's systems, the match confirmed (or nothing found)"),
                            lookup is not None and lookup.match in (LookupMatch.CONFIRMED, LookupMatch.NONE)
                            and lookup.status.value != "failed", detail))
        task_ids = list((lookup.manual_tasks or {}).values()) if lookup is not None else []
        if task_ids:
            open_tasks = db.session.scalar(sa.select(sa.func.count()).select_from(CaseTask).where(
                CaseTask.id.in_(task_ids), CaseTask.done_at.is_(None))) or 0
            checks.append(Check("manual", _("The sources a person searches (paper archive, processors) done"),
                                open_tasks == 0, _("%(n)s still open.", n=open_tasks) if open_tasks else ""))
    if Right.ERASURE in rights:
        plan = db.session.execute(sa.select(ErasurePlan).where(ErasurePlan.case_id == case.id)
                                  .order_by(ErasurePlan.id.desc()).limit(1)).scalar_one_or_none()
        status = plan.status.value if plan is not None else None
        checks.append(Check("erasure", _("An erasure plan decided and executed"), status == "executed",
                            {None: _("No plan yet."), "draft": _("The plan awaits approval."),
                             "approved": _("The approved plan is not executed yet."),
                             "executing": _("The plan is being executed.")}.get(status, "")))
    if Right.PORTABILITY in rights:
        made = db.session.scalar(sa.select(sa.func.count()).select_from(Export).where(
            Export.case_id == case.id, Export.kind == ExportKind.PORTABILITY)) or 0
        checks.append(Check("portability", _("The portable data file made (Art. 20)"), made > 0))
    if Right.RESTRICTION in rights:
        from dsr.restriction.models import RestrictedRecord

        restricted = db.session.scalar(sa.select(sa.func.count()).select_from(RestrictedRecord).where(
            RestrictedRecord.case_id == case.id, RestrictedRecord.restricted_at.is_not(None))) or 0
        waiting = db.session.scalar(sa.select(sa.func.count()).select_from(RestrictedRecord).where(
            RestrictedRecord.case_id == case.id, RestrictedRecord.restricted_at.is_(None))) or 0
        checks.append(Check("restriction", _("The records found restricted (Art. 18)"),
                            (restricted > 0 or (lookup is not None and lookup.status.value == "nothing_found"))
                            and waiting == 0,
                            _("%(n)s still to be restricted by a person.", n=waiting) if waiting else ""))
    issued = {k for (k,) in db.session.execute(sa.select(IssuedLetter.kind).where(IssuedLetter.case_id == case.id))}
    for right in sorted(rights, key=lambda r: r.value):
        # The answer is the completion letter; a warning or a notice to the same right is not an answer, but for
        # the notice that a restriction will be lifted: once lifting is decided the answer is no longer written
        # (it would say the data are now only stored), and that notice tells the subject the outcome (18(3)).
        kinds = [k for k, spec in KINDS.items() if spec.right is right and (
            k.value.startswith("completion_") or k is LetterKind.RESTRICTION_LIFTING_NOTICE)]
        if kinds:
            checks.append(Check(f"letter_{right.value}", _("The answer letter for %(right)s issued",
                                                            right=_right_name(right)),
                                any(k in issued for k in kinds)))
    for key, sentence in _legal_obligations(case, today):
        checks.append(Check(key, sentence, False, overridable=False))
    return checks


def _right_name(right: Right) -> str:
    from dsr.cases.labels import RIGHT_LABELS

    return str(RIGHT_LABELS[right])


def _legal_obligations(case: Case, today: date | None) -> list[tuple[str, str]]:
    """What the features registered (:mod:`dsr.cases.obligations`), but this checklist's own items."""
    return [(o.key, o.message) for o in obligations.open_obligations(case, today=today, exclude=[CHECKLIST])
            if not o.overridable]


def open_items(checks: list[Check]) -> list[Check]:
    return [c for c in checks if not c.done]


def _open_checklist_items(case: Case, today: date | None) -> list[Obligation]:
    """The checklist's own items still open, as obligations a privacy manager may override with a reason."""
    return [Obligation(c.key, c.label, overridable=True)
            for c in open_items(checklist(case, today)) if c.overridable]


CHECKLIST = "checklist"
obligations.register(CHECKLIST, _open_checklist_items, order=50)
