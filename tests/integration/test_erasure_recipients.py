"""Art. 19 for erasure, by name, and what an erasure still owes before its case completes (issue 13, items 6
and 7). On SQLite and PostgreSQL with a private copy of the demo systems.
"""

from __future__ import annotations

import pytest

from dsr.cases import lifecycle
from dsr.cases.errors import RuleViolation
from dsr.extensions import db
from dsr.fulfilment.erasure import approve_plan, execute_plan
from dsr.fulfilment.erasure.tasks import open_obligations, record_task_done, record_task_impossible
from dsr.notices import operations as notices
from dsr.notices.models import NoticeMethod
from tests.harmony_support import People, execute, private_copy, rows
from tests.integration.test_erasure import LATER, TODAY, ended_customer, planned


@pytest.fixture
def systems(ctx, harmony, tmp_path, monkeypatch) -> str:
    monkeypatch.setitem(ctx.config, "DEMO_SYSTEMS_URL", url := private_copy(harmony, tmp_path))
    return url


def test_the_recipients_the_erased_records_named_are_listed_and_ticked_one_by_one(systems):
    people = People()
    customer = ended_customer(systems, kept_invoices=False)
    execute(systems, "UPDATE customers SET sales_channel = 'partner:GadgetPlaza' WHERE id = :c", c=customer["id"])
    bearers = sorted({r["risk_bearer"] for r in rows(systems, "SELECT risk_bearer FROM policies WHERE customer_id = :c",
                                                      c=customer["id"])})
    case, _lookup, plan = planned(people, customer)
    assert open_obligations(case) == []  # a draft: whether it is executed is the checklist's (overridable) item
    approve_plan(plan, actor=people.manager, now=LATER)
    assert open_obligations(case) == [
        "3 paper files or processors are neither done nor recorded as impossible (Art. 17, 28(3)(g))."]
    execute_plan(plan, actor=people.staff, now=LATER, today=TODAY)
    db.session.commit()

    listed = notices.list_recipients(case, actor=people.staff, now=LATER)
    named = {(n.recipient_id, n.named) for n in listed if n.named}
    assert {("risk_bearer", b) for b in bearers} <= named and ("partners", "GadgetPlaza") in named
    assert not any(n.recipient_id == "risk_bearer" and not n.named for n in listed)  # by name, not generically
    labels = {n.label("Risk bearer") for n in listed if n.recipient_id == "risk_bearer"}
    assert labels == {f"Risk bearer: {b}" for b in bearers}
    db.session.commit()

    # The case cannot complete while a recipient or a task is open.
    with pytest.raises(RuleViolation) as refused:
        lifecycle.complete(case, decision="Erased.", actor=people.manager, now=LATER)
    assert "paper files or processors" in str(refused.value) and "recipients" in str(refused.value)
    db.session.rollback()

    tasks = [i for i in plan.items if i.is_task]
    record_task_done(tasks[0], done_on=TODAY, note="Destroyed", actor=people.staff, now=LATER, today=TODAY)
    record_task_impossible(tasks[1], reason="The processor confirmed it never received this person's data.",
                           actor=people.manager, now=LATER, today=TODAY)
    for task in tasks[2:]:  # the mail house (a processor) was instructed to delete and confirmed it
        record_task_done(task, done_on=TODAY, note="Mail house confirmed the deletion", actor=people.staff,
                         now=LATER, today=TODAY)
    for notice in notices.notices_of(case):
        if notice.named:
            notices.record_notified(notice, notified_on=TODAY, method=NoticeMethod.EMAIL, actor=people.staff,
                                    now=LATER, today=TODAY)
        else:
            notices.record_not_notifiable(notice, reason="Receives no data of this customer any more.",
                                          actor=people.manager, now=LATER)
    db.session.commit()
    assert open_obligations(case) == [] and notices.open_obligations(case) == []


def test_a_task_is_recorded_after_approval_only_and_impossible_only_by_the_manager(systems):
    people = People()
    customer = ended_customer(systems, kept_invoices=False)
    case, _lookup, plan = planned(people, customer)
    task = next(i for i in plan.items if i.is_task)
    with pytest.raises(RuleViolation, match="not approved yet"):
        record_task_done(task, done_on=TODAY, actor=people.staff, now=LATER, today=TODAY)
    approve_plan(plan, actor=people.manager, now=LATER)
    from dsr.cases.errors import NotAllowed

    with pytest.raises(NotAllowed):
        record_task_impossible(task, reason="x", actor=people.staff, now=LATER, today=TODAY)
    from dsr.cases.errors import InvalidInput

    with pytest.raises(InvalidInput, match="future"):
        record_task_done(task, done_on=TODAY.replace(year=TODAY.year + 1), actor=people.staff, now=LATER, today=TODAY)
