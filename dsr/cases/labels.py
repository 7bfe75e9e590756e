"""Translatable names for states, workflow actions, rights, channels and languages, for messages and pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from dsr.domain.enums import CaseState, Channel, Language, Right
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

# The rights, channels and languages as the intake form, the queue, the reports and the letters name them.
RIGHT_LABELS = {
    Right.ACCESS: _l("Access (Art. 15)"),
    Right.RECTIFICATION: _l("Rectification (Art. 16)"),
    Right.ERASURE: _l("Erasure (Art. 17)"),
    Right.OBJECTION: _l("Objection (Art. 21)"),
    Right.PORTABILITY: _l("Portability (Art. 20)"),
    Right.RESTRICTION: _l("Restriction (Art. 18)"),
    Right.AUTOMATED_DECISION: _l("Automated decision (Art. 22)"),
}
CHANNEL_LABELS = {
    Channel.POST: _l("Post"),
    Channel.EMAIL: _l("E-mail"),
    Channel.PHONE: _l("Phone"),
    Channel.WEB: _l("Web form"),
    Channel.PARTNER: _l("Via a partner"),
}
# The language of a reply or a scan, named in the interface's language ("Engels" on a Dutch page).
LANGUAGE_LABELS = {Language.NL: _l("Dutch"), Language.EN: _l("English"), Language.FR: _l("French")}
