"""The case state machine (issue 3, acceptance 1): one table in pure domain code, no database.

The expected table below is written out by hand from the issue ("received → identity check → in progress →
awaiting approval → completed; refused and withdrawn from any open state; closed"), so a change to
``TRANSITIONS`` has to be made here too, on purpose.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from dsr.domain.enums import CLOSED_STATES, CaseState
from dsr.domain.workflow import (
    MANAGER_ACTIONS,
    OPEN_STATES,
    STATE_LABELS,
    TRANSITIONS,
    Action,
    IllegalTransition,
    allowed_actions,
    is_open,
    next_state,
)

S = CaseState
A = Action

OPEN = (S.RECEIVED, S.IDENTITY_CHECK, S.IN_PROGRESS, S.AWAITING_APPROVAL)
DECIDED = (S.COMPLETED, S.REFUSED, S.WITHDRAWN)

EXPECTED: dict[tuple[CaseState, Action], CaseState] = {
    (S.RECEIVED, A.START_IDENTITY_CHECK): S.IDENTITY_CHECK,
    (S.RECEIVED, A.START_WORK): S.IN_PROGRESS,
    (S.IDENTITY_CHECK, A.START_WORK): S.IN_PROGRESS,
    (S.IN_PROGRESS, A.START_IDENTITY_CHECK): S.IDENTITY_CHECK,
    (S.IN_PROGRESS, A.SUBMIT_FOR_APPROVAL): S.AWAITING_APPROVAL,
    (S.AWAITING_APPROVAL, A.SEND_BACK): S.IN_PROGRESS,
    (S.AWAITING_APPROVAL, A.COMPLETE): S.COMPLETED,
    **{(s, A.REFUSE): S.REFUSED for s in OPEN},
    **{(s, A.WITHDRAW): S.WITHDRAWN for s in OPEN},
    **{(s, A.MERGE): S.CLOSED for s in OPEN},
    **{(s, A.CLOSE): S.CLOSED for s in DECIDED},
}

ILLEGAL = [(s, a) for s, a in itertools.product(CaseState, Action) if (s, a) not in EXPECTED]


def test_the_table_is_exactly_the_one_the_issue_describes():
    assert TRANSITIONS == EXPECTED


def test_open_and_closed_states_partition_the_states():
    assert set(OPEN_STATES) == set(OPEN)
    assert set(OPEN_STATES) | CLOSED_STATES == set(CaseState)
    assert not set(OPEN_STATES) & CLOSED_STATES
    assert all(is_open(s) for s in OPEN) and not any(is_open(s) for s in CLOSED_STATES)


@pytest.mark.parametrize(("state", "action", "target"), [(s, a, t) for (s, a), t in EXPECTED.items()],
                         ids=[f"{s.value}-{a.value}" for s, a in EXPECTED])
def test_every_allowed_transition(state, action, target):
    assert next_state(state, action) is target
    assert action in allowed_actions(state)


@pytest.mark.parametrize(("state", "action"), ILLEGAL, ids=[f"{s.value}-{a.value}" for s, a in ILLEGAL])
def test_every_illegal_transition_is_refused_naming_the_current_state(state, action):
    with pytest.raises(IllegalTransition) as caught:
        next_state(state, action)
    assert caught.value.state is state
    assert caught.value.action is action
    message = str(caught.value)
    assert f"in state '{STATE_LABELS[state]}'" in message
    assert action.value.replace("_", " ") in message
    assert action not in allowed_actions(state)


def test_the_message_lists_what_is_allowed_from_there():
    with pytest.raises(IllegalTransition) as caught:
        next_state(S.COMPLETED, A.START_WORK)
    assert str(caught.value) == ("Cannot start work a case in state 'completed' (allowed from there: close).")
    with pytest.raises(IllegalTransition, match=r"allowed from there: none"):
        next_state(S.CLOSED, A.CLOSE)


@pytest.mark.parametrize("state", DECIDED)
def test_a_decided_case_can_only_be_closed(state):
    assert allowed_actions(state) == [A.CLOSE]


def test_a_closed_case_allows_nothing():
    assert allowed_actions(S.CLOSED) == []


def test_every_state_has_a_label():
    assert set(STATE_LABELS) == set(CaseState)


def test_completion_send_back_and_refusal_are_the_managers():
    assert MANAGER_ACTIONS == {A.COMPLETE, A.SEND_BACK, A.REFUSE}


def test_completed_is_reached_only_from_awaiting_approval():
    assert [s for (s, _a), t in TRANSITIONS.items() if t is S.COMPLETED] == [S.AWAITING_APPROVAL]


class CaseLife(RuleBasedStateMachine):
    """Random sequences of actions from a new case, legal or not, through the domain table."""

    def __init__(self):
        super().__init__()
        self.state = S.RECEIVED
        self.path = [S.RECEIVED]

    @rule(action=st.sampled_from(Action))
    def act(self, action):
        before = self.state
        try:
            after = next_state(before, action)
        except IllegalTransition as exc:
            assert (before, action) not in EXPECTED
            assert exc.state is before
            assert f"'{STATE_LABELS[before]}'" in str(exc)
            return
        assert before is not S.CLOSED, f"left closed by {action}"
        if after is S.COMPLETED:
            assert before is S.AWAITING_APPROVAL
        if before in DECIDED:
            assert (action, after) == (A.CLOSE, S.CLOSED)
        self.state = after
        self.path.append(after)

    @precondition(lambda self: self.state is S.CLOSED)
    @rule(action=st.sampled_from(Action))
    def closed_stays_closed(self, action):
        with pytest.raises(IllegalTransition):
            next_state(self.state, action)

    @invariant()
    def state_is_a_case_state(self):
        assert isinstance(self.state, CaseState)
        assert self.state in set(CaseState)

    @invariant()
    def completed_only_after_approval(self):
        for previous, current in itertools.pairwise(self.path):
            if current is S.COMPLETED:
                assert previous is S.AWAITING_APPROVAL
            assert previous is not S.CLOSED


CaseLife.TestCase.settings = settings(max_examples=300, stateful_step_count=30, deadline=None)
TestCaseLife = CaseLife.TestCase


def test_no_transition_leaves_a_closed_state():
    """A decided case is never reopened: its closing time stays (the CHECK ``closed_iff_closed_at``), so the
    month it was answered in stays too. The dashboard relies on it (``dsr.reports.dashboard.kept_fingerprints``
    reads the months before this one again only after an event on a case answered in them): a transition out
    of a closed state would have to read them again after every event."""
    assert not [(state, action) for (state, action), target in TRANSITIONS.items()
                if state in CLOSED_STATES and target not in CLOSED_STATES]
