"""A case that objects (Art. 21) is completed only once something was done about the objection: direct
marketing stopped, or every recorded objection decided. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest

from dsr.cases import lifecycle
from dsr.cases.errors import RuleViolation
from dsr.domain.enums import Right, Role
from dsr.extensions import db
from dsr.objection.balancing import decide_objection, open_obligations, processing_choices, record_objection
from dsr.objection.models import ObjectionOutcome
from tests.conftest import NOW, TODAY
from tests.factories import make_case, make_user


def _ready(rights=(Right.OBJECTION,)):
    manager, staff = make_user(Role.PRIVACY_MANAGER), make_user(Role.STAFF)
    case = make_case(actor=staff, rights=rights)
    lifecycle.start_work(case, actor=staff, now=NOW)
    lifecycle.submit_for_approval(case, actor=staff, now=NOW)
    db.session.commit()
    return case, manager, staff


def test_an_objection_with_nothing_done_cannot_be_completed(ctx):
    case, manager, _staff = _ready()
    assert open_obligations(case) == ["Nothing was done about the objection yet: stop direct marketing, or "
                                      "record the objection and decide it (Art. 21)."]
    with pytest.raises(RuleViolation, match="Nothing was done about the objection"):
        lifecycle.complete(case, decision="Answered.", actor=manager, now=NOW)


def test_a_pending_objection_blocks_completion_until_the_manager_decides(ctx):
    case, manager, staff = _ready()
    processing = next(iter(processing_choices()))
    objection = record_objection(case, processing=processing, subject_grounds="I am a journalist.", actor=staff,
                                 now=NOW)
    db.session.commit()
    with pytest.raises(RuleViolation, match="1 objection awaits the privacy manager's decision"):
        lifecycle.complete(case, decision="Answered.", actor=manager, now=NOW)
    db.session.rollback()
    decide_objection(objection, outcome=ObjectionOutcome.REJECTED, reasons="Fraud prevention outweighs it.",
                     compelling_grounds="Recital 47: preventing fraud is a legitimate interest.", effect=None,
                     actor=manager, now=NOW, today=TODAY)
    assert open_obligations(case) == []
    lifecycle.complete(case, decision="Objection weighed and rejected with reasons.", actor=manager, now=NOW, override_reason="The work is not what this test is about")
    db.session.commit()


def test_a_case_that_does_not_object_owes_nothing_here(ctx):
    case, _manager, _staff = _ready(rights=(Right.ACCESS,))
    assert open_obligations(case) == []
