"""Moving a case through its life: the transitions of :mod:`dsr.domain.workflow`, assignment, priority.

Each function checks the actor's role and the case's version, asks the domain table for the next state,
mutates, and appends the audit event. Views, the API, the CLI and jobs all call these.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dsr.audit.operations import record
from dsr.auth.models import User
from dsr.cases import obligations
from dsr.cases.errors import InvalidInput, NotAllowed, RuleViolation
from dsr.cases.guards import MANAGERS, WRITERS, check_version, require_open, require_role
from dsr.cases.labels import ACTION_VERBS, STATE_LABELS
from dsr.cases.models import Case, RepeatedRequest
from dsr.domain.enums import CLOSED_STATES, Priority, RefusalGround, Role
from dsr.domain.workflow import MANAGER_ACTIONS, Action, IllegalTransition, allowed_actions, next_state
from dsr.extensions import db
from dsr.timeutil import local_date


def transition(case: Case, action: Action, *, actor: User | None, now: datetime,
               expected_version: int | None = None, details: dict | None = None,
               sets: dict | None = None) -> None:
    """Apply ``action`` to the case's state, keep ``closed_at`` in step, and audit the move.

    ``sets`` are the columns the new state implies (a decision, a ground); they change together with the
    state, so the database's CHECK constraints hold at every flush.
    """
    new = _may(case, action, actor=actor, expected_version=expected_version)
    old = case.state
    case.state = new
    for column, value in (sets or {}).items():
        setattr(case, column, value)
    if new in CLOSED_STATES and case.closed_at is None:
        case.closed_at = now
        case.paused_since = None  # a decided case has no clock left to pause
    case.updated_at = now
    record(f"case.{action.value}", actor=actor, now=now, case=case,
           before={"state": old}, after={"state": new, **(details or {})})


def _may(case: Case, action: Action, *, actor: User | None, expected_version: int | None):
    """The role, the version and the legal move, checked before anything changes; the new state."""
    require_role(actor, *(MANAGERS if action in MANAGER_ACTIONS else WRITERS),
                 what=_l("%(action)s a case", action=ACTION_VERBS[action]))
    check_version(case, expected_version)
    try:
        return next_state(case.state, action)
    except IllegalTransition:
        allowed = ", ".join(str(ACTION_VERBS[a]) for a in allowed_actions(case.state)) or _("none")
        raise RuleViolation(_("Cannot %(action)s a case in state '%(state)s' (allowed from there: %(allowed)s).",
                              action=ACTION_VERBS[action], state=STATE_LABELS[case.state],
                              allowed=allowed)) from None


def start_identity_check(case: Case, *, actor, now, expected_version=None) -> None:
    transition(case, Action.START_IDENTITY_CHECK, actor=actor, now=now, expected_version=expected_version)
    _claim_if_unassigned(case, actor=actor, now=now)


def start_work(case: Case, *, actor, now, expected_version=None) -> None:
    transition(case, Action.START_WORK, actor=actor, now=now, expected_version=expected_version)
    _claim_if_unassigned(case, actor=actor, now=now)


def _claim_if_unassigned(case: Case, *, actor: User | None, now: datetime) -> None:
    """Staff who start work on an unassigned case become its assignee (nobody else is answering it). A privacy
    manager who moves a case along is not made its assignee: they assign on purpose, in triage."""
    if actor is None or case.assignee_id is not None or actor.role is not Role.STAFF:
        return
    case.assignee = actor
    record("case.assigned", actor=actor, now=now, case=case, before={"assignee": None},
           after={"assignee": actor.email})


def submit_for_approval(case: Case, *, actor, now, expected_version=None) -> None:
    transition(case, Action.SUBMIT_FOR_APPROVAL, actor=actor, now=now, expected_version=expected_version)


def send_back(case: Case, *, reason: str, actor, now, expected_version=None) -> None:
    """The privacy manager returns the work for more effort, saying why."""
    if not (reason or "").strip():
        raise InvalidInput(_("Say why the case goes back."), "reason")
    transition(case, Action.SEND_BACK, actor=actor, now=now, expected_version=expected_version,
               details={"reason": reason})


def complete(case: Case, *, decision: str, actor, now, expected_version=None,
             override_reason: str | None = None) -> None:
    """The privacy manager approves the work: the request has been answered.

    Refused while an obligation registered in :mod:`dsr.cases.obligations` is open: the completion
    checklist's items (the search confirmed, manual sources done, the erasure plan executed, the answer
    letter issued ...: :mod:`dsr.cases.checklist`), which a privacy manager may complete over with
    ``override_reason`` (the audit event keeps it with the items left open), and the legal obligations
    features enforce, never overridden: corrections neither applied nor refused, recipients not notified
    (Art. 16, 19), an objection not acted on (Art. 21), a requester's mandate not checked.
    """
    if not (decision or "").strip():
        raise InvalidInput(_("Summarise what was done for the subject."), "decision")
    require_role(actor, *MANAGERS, what=_l("%(action)s a case", action=ACTION_VERBS[Action.COMPLETE]))
    check_version(case, expected_version)
    still_open = obligations.open_obligations(case, today=local_date(now))
    binding = [o for o in still_open if not o.overridable]
    if binding:
        raise RuleViolation(_("The case cannot be completed yet: %(open)s", open=" ".join(o.message for o in binding)))
    details: dict = {"decision": decision}
    if still_open:
        if not (override_reason or "").strip():
            raise RuleViolation(_("The case cannot be completed yet: %(open)s. A privacy manager may complete it "
                                  "anyway by giving the reason.", open="; ".join(o.message for o in still_open)))
        details["override"] = {"reason": override_reason.strip(), "open": [o.key for o in still_open]}
    transition(case, Action.COMPLETE, actor=actor, now=now, expected_version=expected_version,
               details=details, sets={"decision": decision})


def refuse(case: Case, *, ground: RefusalGround, justification: str, actor, now, expected_version=None,
           repeats: Sequence[Case] = ()) -> None:
    """Refuse the request (Art. 12(4)): a privacy-manager decision with a written justification.

    Grounds: manifestly unfounded or excessive (Art. 12(5), the burden of proof is ours), or the subject's
    identity could not be established (Art. 11(2), 12(2)). The refusal letter must state the reasons and
    the routes to the Autoriteit Persoonsgegevens and the court.

    Excessive, in dsr, is the repetition the EDPB describes (Guidelines 01/2022 §§175–193): ``repeats`` are
    the person's earlier requests this one repeats, the evidence the letter names. At least one is needed,
    and the most recent must have been received within the twelve months before this one (§185).
    """
    if not (justification or "").strip():
        raise InvalidInput(_("A refusal needs a written justification (Art. 12(4))."), "justification")
    _may(case, Action.REFUSE, actor=actor, expected_version=expected_version)
    earlier = _repeated(case, ground, repeats)
    transition(case, Action.REFUSE, actor=actor, now=now, expected_version=expected_version,
               details={"ground": ground, "justification": justification,
                        **({"repeats": [c.reference for c in earlier]} if earlier else {})},
               sets={"refusal_ground": ground, "decision": justification})
    if earlier and case.id is None:
        db.session.flush()
    for c in earlier:
        db.session.add(RepeatedRequest(case_id=case.id, earlier_case_id=c.id, created_at=now,
                                       created_by_id=actor.id if actor else None))


def _repeated(case: Case, ground: RefusalGround, repeats: Sequence[Case]) -> list[Case]:
    """The earlier requests a refusal as excessive names, checked; refuses what is no evidence of repetition."""
    earlier = sorted({c.id: c for c in repeats}.values(), key=lambda c: (c.received_on, c.id))
    if ground is not RefusalGround.EXCESSIVE:
        if earlier:
            raise InvalidInput(_("Earlier requests are linked only to a refusal as excessive."), "repeats")
        return []
    if not earlier:
        raise InvalidInput(_("A refusal as excessive needs the earlier request or requests this one repeats: choose "
                             "them from this person's earlier cases (EDPB Guidelines 01/2022 §§175–193)."), "repeats")
    for c in earlier:
        if c.id == case.id or c.subject_id != case.subject_id:
            raise InvalidInput(_("%(ref)s is not an earlier request of this person.", ref=c.reference), "repeats")
        if c.received_on > case.received_on:
            raise InvalidInput(_("%(ref)s was received after this request: it cannot be repeated by it.",
                                 ref=c.reference), "repeats")
    last = earlier[-1]
    if last.received_on < case.received_on - relativedelta(months=12):
        raise RuleViolation(_("The most recent earlier request linked, %(ref)s, was received on %(day)s, more than a "
                              "year before this one (received on %(received)s): a request a year after the last "
                              "is not excessive (EDPB Guidelines 01/2022 §185).", ref=last.reference,
                              day=last.received_on.isoformat(), received=case.received_on.isoformat()))
    return earlier


def earlier_cases(case: Case, references) -> list[Case]:
    """The person's cases named by ``references`` (the refusal form's or the API's ``repeats``)."""
    if references is None:
        return []
    if isinstance(references, str) or not all(isinstance(r, str) for r in references):
        raise InvalidInput(_("Give the earlier requests as a list of case references."), "repeats")
    mine = {c.reference: c for c in case.subject.cases if c.id != case.id}
    found = []
    for ref in (r.strip() for r in references if r.strip()):
        if ref not in mine:
            raise InvalidInput(_("%(ref)s is not an earlier request of this person.", ref=ref), "repeats")
        found.append(mine[ref])
    return found


def repeated_requests(case: Case) -> list[Case]:
    """The earlier requests a refusal as excessive named, oldest first."""
    if case.id is None:
        return []
    return list(db.session.execute(
        sa.select(Case).join(RepeatedRequest, RepeatedRequest.earlier_case_id == Case.id)
        .where(RepeatedRequest.case_id == case.id).order_by(Case.received_on, Case.id)).scalars())


def withdraw(case: Case, *, how: str, actor, now, expected_version=None) -> None:
    """The subject withdrew the request; record how (letter, e-mail, phone call ...)."""
    if not (how or "").strip():
        raise InvalidInput(_("Record how the subject withdrew the request."), "how")
    transition(case, Action.WITHDRAW, actor=actor, now=now, expected_version=expected_version,
               details={"how": how}, sets={"withdrawal_how": how})


def close(case: Case, *, actor, now, expected_version=None) -> None:
    transition(case, Action.CLOSE, actor=actor, now=now, expected_version=expected_version)


def assign(case: Case, assignee: User | None, *, actor: User | None, now: datetime,
           expected_version: int | None = None) -> None:
    """Assign (or, with ``assignee=None``, unassign) a case. Staff may take a case or give it up; only a
    manager assigns others. The pages offer unassigning as its own action, never as an empty choice."""
    require_role(actor, *WRITERS, what=_l("assign cases"))
    check_version(case, expected_version)
    require_open(case, _l("assign the case"))
    if actor is not None and actor.role is not Role.PRIVACY_MANAGER:
        if assignee is not None and assignee.id != actor.id:
            raise NotAllowed(_("Staff can take a case themselves; only a privacy manager assigns it to others."))
        if assignee is not None and case.assignee_id not in (None, actor.id):
            raise NotAllowed(_("This case is assigned to a colleague; only a privacy manager reassigns it."))
        if assignee is None and case.assignee_id not in (None, actor.id):
            raise NotAllowed(_("Only a privacy manager can unassign someone else's case."))
    if assignee is not None and (not assignee.active or assignee.role is Role.AUDITOR):
        raise InvalidInput(_("%(email)s cannot be assigned cases (inactive or read-only).", email=assignee.email),
                           "assignee")
    before = case.assignee.email if case.assignee else None
    after = assignee.email if assignee else None
    if before == after:
        return
    case.assignee = assignee
    case.updated_at = now
    record("case.assigned", actor=actor, now=now, case=case, before={"assignee": before}, after={"assignee": after})


def set_priority(case: Case, priority: Priority, *, actor, now, expected_version=None) -> None:
    require_role(actor, Role.PRIVACY_MANAGER, what=_l("set a case's priority"))
    check_version(case, expected_version)
    require_open(case, _l("change the priority"))
    if case.priority is priority:
        return
    record("case.priority_changed", actor=actor, now=now, case=case, before={"priority": case.priority},
           after={"priority": priority})
    case.priority = priority
    case.updated_at = now
