"""The life of a case: which action may move it from which state to which, in one table.

Every operation that changes a case's state asks :func:`next_state`; an illegal move raises
:class:`IllegalTransition` naming the current state, whichever door it came through (web, API, CLI, job).
"""

from __future__ import annotations

import enum

from dsr.domain.enums import CLOSED_STATES, CaseState

S = CaseState


class Action(enum.StrEnum):
    START_IDENTITY_CHECK = "start_identity_check"
    START_WORK = "start_work"
    SUBMIT_FOR_APPROVAL = "submit_for_approval"
    SEND_BACK = "send_back"
    COMPLETE = "complete"
    REFUSE = "refuse"
    WITHDRAW = "withdraw"
    MERGE = "merge"
    CLOSE = "close"


OPEN_STATES = tuple(s for s in CaseState if s not in CLOSED_STATES)

TRANSITIONS: dict[tuple[CaseState, Action], CaseState] = {
    (S.RECEIVED, Action.START_IDENTITY_CHECK): S.IDENTITY_CHECK,
    (S.RECEIVED, Action.START_WORK): S.IN_PROGRESS,
    (S.IDENTITY_CHECK, Action.START_WORK): S.IN_PROGRESS,
    (S.IN_PROGRESS, Action.START_IDENTITY_CHECK): S.IDENTITY_CHECK,
    (S.IN_PROGRESS, Action.SUBMIT_FOR_APPROVAL): S.AWAITING_APPROVAL,
    (S.AWAITING_APPROVAL, Action.SEND_BACK): S.IN_PROGRESS,
    # Completion is the privacy manager's approval of the work (DESIGN.md: the manager decides).
    (S.AWAITING_APPROVAL, Action.COMPLETE): S.COMPLETED,
    # Refusal (Art. 12(4)/(5), 11(2)), withdrawal and merging into another case: from any open state.
    **{(s, Action.REFUSE): S.REFUSED for s in OPEN_STATES},
    **{(s, Action.WITHDRAW): S.WITHDRAWN for s in OPEN_STATES},
    **{(s, Action.MERGE): S.CLOSED for s in OPEN_STATES},
    # Archiving a decided case.
    (S.COMPLETED, Action.CLOSE): S.CLOSED,
    (S.REFUSED, Action.CLOSE): S.CLOSED,
    (S.WITHDRAWN, Action.CLOSE): S.CLOSED,
}

# Actions only the privacy manager may take (DESIGN.md, "Users and what they do").
MANAGER_ACTIONS = frozenset({Action.COMPLETE, Action.SEND_BACK, Action.REFUSE})

STATE_LABELS = {
    S.RECEIVED: "received",
    S.IDENTITY_CHECK: "identity check",
    S.IN_PROGRESS: "in progress",
    S.AWAITING_APPROVAL: "awaiting approval",
    S.COMPLETED: "completed",
    S.REFUSED: "refused",
    S.WITHDRAWN: "withdrawn",
    S.CLOSED: "closed",
}


class IllegalTransition(Exception):
    """The action is not allowed from the case's current state."""

    def __init__(self, state: CaseState, action: Action):
        self.state = state
        self.action = action
        allowed = ", ".join(a.value.replace("_", " ") for a in allowed_actions(state)) or "none"
        super().__init__(
            f"Cannot {action.value.replace('_', ' ')} a case in state '{STATE_LABELS[state]}' "
            f"(allowed from there: {allowed})."
        )


def next_state(state: CaseState, action: Action) -> CaseState:
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise IllegalTransition(state, action) from None


def allowed_actions(state: CaseState) -> list[Action]:
    return [a for a in Action if (state, a) in TRANSITIONS]


def is_open(state: CaseState) -> bool:
    return state not in CLOSED_STATES
