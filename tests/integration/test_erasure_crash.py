"""Crash-safe execution (issue 13, item 10): a process really killed between two sources leaves a plan that says
which sources were done, and executing it again does nothing twice. On SQLite and PostgreSQL (dsr's own
database); the demo systems are a private SQLite copy.

The execution runs in a child process of its own, on the same databases. The child's only instrument is
that it kills itself (SIGKILL: no clean-up, no exception handler, no commit) the moment execution asks for a
writable connection to the second source, that is after the first source committed and its outcome was
recorded, and before the second is touched.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dsr.audit.models import AuditEvent
from dsr.domain.enums import ErasureOutcome, ErasurePlanStatus
from dsr.domain.retention import Action
from dsr.extensions import db
from dsr.fulfilment.erasure import approve_plan, execute_plan
from dsr.fulfilment.models import ErasurePlan
from tests.harmony_support import People, private_copy, rows
from tests.integration.test_erasure import LATER, TODAY, active_customer, planned

CHILD = textwrap.dedent("""
    import json, os, signal, sys
    from datetime import date, datetime

    settings = json.loads(sys.argv[1])
    from dsr import create_app
    from dsr.datamap import erase as datamap_erase
    from dsr.extensions import db
    from dsr.fulfilment.models import ErasurePlan
    from dsr.auth.models import User
    import dsr.fulfilment.erasure.execute as execute

    opened = []
    real = datamap_erase.writable_engine

    def writable_engine(url):
        opened.append(url)
        if len(opened) == 2:  # the second source: the first one is committed and recorded by now
            os.kill(os.getpid(), signal.SIGKILL)
        return real(url)

    datamap_erase.writable_engine = writable_engine
    app = create_app(settings["config"])
    with app.app_context():
        plan = db.session.get(ErasurePlan, settings["plan"])
        actor = db.session.get(User, settings["actor"])
        execute.execute_plan(plan, actor=actor, now=datetime.fromisoformat(settings["now"]),
                             today=date.fromisoformat(settings["today"]))
        db.session.commit()
    print("finished without being killed")
""")


@pytest.fixture
def systems(ctx, harmony, tmp_path, monkeypatch) -> str:
    monkeypatch.setitem(ctx.config, "DEMO_SYSTEMS_URL", url := private_copy(harmony, tmp_path))
    return url


def _child(ctx, plan: ErasurePlan, actor) -> subprocess.CompletedProcess:
    config = {key: ctx.config[key] for key in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "STORAGE_DIR",
                                               "DEMO_SYSTEMS_URL", "SUPPRESSION_SALT")}
    config.update(TESTING=True, INSTANCE_PATH=str(Path(ctx.config["STORAGE_DIR"]).parent))
    settings = {"config": config, "plan": plan.id, "actor": actor.id, "now": LATER.isoformat(),
                "today": TODAY.isoformat()}
    return subprocess.run([sys.executable, "-c", CHILD, json.dumps(settings)], capture_output=True, text=True,
                          timeout=300, cwd=Path(__file__).resolve().parents[2])


def test_a_process_killed_between_two_sources_leaves_a_plan_that_is_resumed_without_doing_anything_twice(
        ctx, systems):
    people = People()
    customer = active_customer(systems)
    case, _lookup, plan = planned(people, customer)
    approve_plan(plan, actor=people.manager, now=LATER)
    db.session.commit()
    erasing = [i for i in plan.items if not i.is_task and i.action is not Action.KEEP]
    sources = sorted({i.source for i in erasing})
    assert len(sources) == 2, sources  # the contact centre and the policy administration
    first, second = sources

    died = _child(ctx, plan, people.staff)
    assert died.returncode == -signal.SIGKILL, (died.returncode, died.stdout, died.stderr)
    assert "finished" not in died.stdout

    db.session.expire_all()
    plan = db.session.get(ErasurePlan, plan.id)
    assert plan.status is ErasurePlanStatus.EXECUTING and plan.execution_started_at is not None
    done = {i.id: (i.result, i.executed_at) for i in plan.items if i.source == first and i.executed_at}
    for item in plan.items:
        if item.is_task or item.action is Action.KEEP:
            continue
        if item.source == first:
            assert item.outcome is ErasureOutcome.DELETED and item.executed_at is not None, item.collection
        else:
            assert (item.outcome, item.executed_at) == (None, None), item.collection
    # The first source really is erased, the second untouched.
    assert not rows(systems, "SELECT id FROM call_recordings WHERE customer_number = :n", n=customer["customer_number"])
    assert rows(systems, "SELECT id FROM marketing_subscriptions WHERE customer_id = :c", c=customer["id"])
    events = [e.action for e in db.session.query(AuditEvent).filter(AuditEvent.case_id == case.id)]
    assert "erasure.executing" in events and "erasure.executed" not in events

    # Resumed: only the second source is done; what the first recorded is left exactly as it was.
    assert execute_plan(plan, actor=people.staff, now=LATER, today=TODAY) == {}
    db.session.commit()
    assert plan.status is ErasurePlanStatus.EXECUTED
    assert {i.id: (i.result, i.executed_at) for i in plan.items if i.id in done} == done
    assert all(i.outcome is ErasureOutcome.DELETED for i in plan.items
               if not i.is_task and i.action is not Action.KEEP and i.source == second)
    assert not rows(systems, "SELECT id FROM marketing_subscriptions WHERE customer_id = :c", c=customer["id"])
    [executed] = [e for e in db.session.query(AuditEvent).filter(AuditEvent.case_id == case.id,
                                                                 AuditEvent.action == "erasure.executed")]
    assert set(executed.after["per_source"]) == {second}  # the resumed run erased nothing of the first again
