"""Translatable names for states and workflow actions, for messages and pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from dsr.domain.enums import CaseState
from dsr.domain.workflow import Action

STATE_LABELS = {
    CaseState.RECEIVED: _l("received"),
    CaseState.IDENTITY_CHECK: _l("identity check"),
    CaseState.IN_PROGRESS: _l("in progress"),
    CaseState.AWAITING_APPROVAL: _l("awaiting approval"),
    CaseState.COMPLETED: _l("completed"),
    CaseState.REFUSED: _l("refused"),
    CaseState.WITHDRAWN: _l("withdrawn"),
    CaseState.CLOSED: _l("closed"),
}

# Verbs as they read in "Cannot <verb> a case ...".
ACTION_VERBS = {
    Action.START_IDENTITY_CHECK: _l("start identity check"),
    Action.START_WORK: _l("start work"),
    Action.SUBMIT_FOR_APPROVAL: _l("submit for approval"),
    Action.SEND_BACK: _l("send back"),
    Action.COMPLETE: _l("complete"),
    Action.REFUSE: _l("refuse"),
    Action.WITHDRAW: _l("withdraw"),
    Action.MERGE: _l("merge"),
    Action.CLOSE: _l("close"),
}
