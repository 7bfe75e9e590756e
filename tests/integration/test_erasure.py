"""Erasure (issue 4, item 5) end to end on a small generated demo systems database, on SQLite and PostgreSQL
(dsr's own database; the demo systems are a SQLite file copied per test, since erasure changes it).

What is expected is read from the demo database with plain SQL, not with the code under test.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from dsr.audit.models import AuditEvent
from dsr.cases.errors import NotAllowed, RuleViolation
from dsr.domain.enums import ErasureOutcome, ErasurePlanStatus, Right
from dsr.domain.retention import Action
from dsr.extensions import db
from dsr.fulfilment import holds
from dsr.fulfilment.erasure import approve_plan, build_erasure_plan, erase_due_items, execute_plan
from dsr.fulfilment.lookup_ops import confirm_match, run_lookup
from dsr.fulfilment.models import ErasurePlan
from tests.factories import make_case
from tests.harmony_support import People, execute, private_copy, rows, subject_of
from tests.integration.conftest import assert_unbroken_chain, audit_trail

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 26)
LATER = NOW + timedelta(minutes=5)
ADMIN, CONTACT = "harmony_policy_admin", "harmony_contact_centre"


@pytest.fixture
def systems(ctx, harmony, tmp_path, monkeypatch) -> str:
    """A copy of the demo systems for this test only: erasure changes it."""
    monkeypatch.setitem(ctx.config, "DEMO_SYSTEMS_URL", url := private_copy(harmony, tmp_path))
    return url


@pytest.fixture
def people(ctx) -> People:
    return People()




def active_customer(url: str) -> dict:
    """A customer with an active policy, a recent call recording, invoices and a marketing subscription, and
    two more recordings made for the test: one exactly 180 days old, one 181 days old."""
    customer = rows(url, """
        SELECT c.* FROM customers c
        WHERE EXISTS (SELECT 1 FROM policies p WHERE p.customer_id = c.id AND p.status = 'active')
          AND EXISTS (SELECT 1 FROM call_recordings r WHERE r.customer_number = c.customer_number)
          AND EXISTS (SELECT 1 FROM invoices i WHERE i.customer_id = c.id)
          AND EXISTS (SELECT 1 FROM marketing_subscriptions m WHERE m.customer_id = c.id)
          AND NOT EXISTS (SELECT 1 FROM marketing_subscriptions m WHERE lower(m.email) = lower(c.email)
                   AND (m.customer_id IS NULL OR m.customer_id <> c.id))
               AND NOT EXISTS (SELECT 1 FROM survey_invitations s WHERE lower(s.email) = lower(c.email)
                   AND s.customer_number <> c.customer_number)
        ORDER BY c.id LIMIT 1""")[0]
    first = rows(url, "SELECT id FROM call_recordings WHERE customer_number = :n ORDER BY id",
                 n=customer["customer_number"])[0]["id"]
    for tag, day in (("180", TODAY - timedelta(days=180)), ("181", TODAY - timedelta(days=181))):
        execute(url, """INSERT INTO call_recordings (recording_ref, customer_number, caller_phone, started_at,
                            duration_seconds, direction, agent, reason, storage_uri)
                        SELECT 'T' || :tag || recording_ref, customer_number, caller_phone, :at, duration_seconds,
                               direction, agent, reason, storage_uri || :tag
                        FROM call_recordings WHERE id = :id""",
                tag=tag, at=f"{day.isoformat()} 09:00:00.000000", id=first)
    return customer


def ended_customer(url: str, kept_invoices: bool = True) -> dict:
    """A customer whose policies have all ended and who has no open claim and no incident; with invoices or
    premium payments still under fiscal retention (from 2019 on: kept through 31 December 2026 at least), or
    with none."""
    fiscal = """EXISTS (SELECT 1 FROM invoices i WHERE i.customer_id = c.id AND i.issued_on >= '2019-01-01')"""
    payments = """EXISTS (SELECT 1 FROM premium_payments pp JOIN policies p ON p.id = pp.policy_id
                          WHERE p.customer_id = c.id AND pp.paid_on >= '2019-01-01')"""
    condition = f"AND {fiscal}" if kept_invoices else f"AND NOT {fiscal} AND NOT {payments}"
    return rows(url, f"""
        SELECT c.* FROM customers c
        WHERE EXISTS (SELECT 1 FROM policies p WHERE p.customer_id = c.id)
          AND NOT EXISTS (SELECT 1 FROM policies p WHERE p.customer_id = c.id AND p.status = 'active')
          AND NOT EXISTS (SELECT 1 FROM claims k JOIN policies p ON p.id = k.policy_id
                          WHERE p.customer_id = c.id AND k.status = 'open')
          AND NOT EXISTS (SELECT 1 FROM incidents i WHERE i.customer_id = c.id)
          AND NOT EXISTS (SELECT 1 FROM marketing_subscriptions m WHERE lower(m.email) = lower(c.email)
                   AND (m.customer_id IS NULL OR m.customer_id <> c.id))
               AND NOT EXISTS (SELECT 1 FROM survey_invitations s WHERE lower(s.email) = lower(c.email)
                   AND s.customer_number <> c.customer_number)
          {condition}
        ORDER BY c.id LIMIT 1""")[0]  # noqa: S608 (the test's own fixed SQL)


def planned(people: People, customer: dict, rights=(Right.ERASURE,)):
    case = make_case(actor=people.staff, rights=rights, **subject_of(customer))
    lookup = run_lookup(case, actor=people.staff, now=NOW)
    confirm_match(lookup, actor=people.staff, now=NOW)
    plan = build_erasure_plan(case, lookup, actor=people.staff, now=NOW, today=TODAY)
    db.session.commit()
    return case, lookup, plan


def by_key(plan: ErasurePlan) -> dict:
    return {(i.collection, i.primary_key["id"]): i for i in plan.items if not i.is_task}


def recordings(url: str, customer: dict) -> dict[str, int]:
    return {r["started_at"][:10]: r["id"] for r in rows(
        url, "SELECT id, started_at FROM call_recordings WHERE customer_number = :n", n=customer["customer_number"])}


def events(action: str) -> list[AuditEvent]:
    return [e for e in audit_trail() if e.action == action]


# -- the plan ---------------------------------------------------------------------------------------------

def test_the_plan_decides_each_record_by_the_retention_rules(systems, people):
    customer = active_customer(systems)
    case, lookup, plan = planned(people, customer)
    items = by_key(plan)
    assert plan.status is ErasurePlanStatus.DRAFT and plan.lookup_id == lookup.id
    assert len(by_key(plan)) == lookup.record_count
    assert {(i.kind.value, i.source) for i in plan.items if i.is_task} == {
        ("paper", "harmony_paper_archive"), ("processor", "focus_feedback"), ("processor", "harmony_mail_house")}

    recs = recordings(systems, customer)
    aged_180 = items[("call_recordings", recs[(TODAY - timedelta(days=180)).isoformat()])]
    aged_181 = items[("call_recordings", recs[(TODAY - timedelta(days=181)).isoformat()])]
    assert (aged_180.action, aged_180.rule_id, aged_180.breach) == (Action.ERASE, "call-recording", False)
    assert (aged_181.action, aged_181.rule_id, aged_181.breach) == (Action.ERASE, "call-recording", True)

    invoice = rows(systems, "SELECT i.id, i.issued_on FROM invoices i JOIN policies p ON p.id = i.policy_id "
                            "WHERE i.customer_id = :c AND p.status = 'active' ORDER BY i.issued_on LIMIT 1",
                   c=customer["id"])[0]
    kept = items[("invoices", invoice["id"])]
    assert (kept.action, kept.rule_id) == (Action.KEEP, "fiscal-retention")
    assert "17(3)(b)" in kept.article
    # Seven years from the end of the book year (31 December): kept through 31 December, erased on 1 January.
    assert kept.erase_on == date(date.fromisoformat(invoice["issued_on"]).year + 8, 1, 1)
    assert kept.record_date == date.fromisoformat(invoice["issued_on"]) and kept.rules_version

    policy = rows(systems, "SELECT id FROM policies WHERE customer_id = :c AND status = 'active'", c=customer["id"])
    for p in policy:
        assert (items[("policies", p["id"])].action, items[("policies", p["id"])].rule_id) == (Action.KEEP, "contract")
        assert items[("policies", p["id"])].erase_on is None
    assert items[("customers", customer["id"])].action is Action.KEEP

    for m in rows(systems, "SELECT id FROM marketing_subscriptions WHERE customer_id = :c", c=customer["id"]):
        assert (items[("marketing_subscriptions", m["id"])].action,
                items[("marketing_subscriptions", m["id"])].rule_id) == (Action.ERASE, "marketing")

    [event] = events("erasure.planned")
    assert event.case_id == case.id and event.after["breaches"] >= 1
    assert event.after["items"]["keep"] == sum(1 for i in plan.items if i.action is Action.KEEP)


def test_a_plan_needs_an_erasure_case_and_a_confirmed_match(systems, people):
    customer = active_customer(systems)
    access = make_case(actor=people.staff, rights=(Right.ACCESS,), **subject_of(customer))
    lookup = run_lookup(access, actor=people.staff, now=NOW)
    confirm_match(lookup, actor=people.staff, now=NOW)
    with pytest.raises(RuleViolation):
        build_erasure_plan(access, lookup, actor=people.staff, now=NOW, today=TODAY)

    case = make_case(actor=people.staff, rights=(Right.ERASURE,), **subject_of(customer))
    unconfirmed = run_lookup(case, actor=people.staff, now=NOW)
    with pytest.raises(RuleViolation):
        build_erasure_plan(case, unconfirmed, actor=people.staff, now=NOW, today=TODAY)


# -- approval and execution -------------------------------------------------------------------------------

def test_the_whole_path_erases_what_may_go_and_never_a_held_record(systems, people):
    customer = active_customer(systems)
    recs = recordings(systems, customer)
    held_early = max(recs.values())
    case = make_case(actor=people.staff, rights=(Right.ERASURE,), **subject_of(customer))
    holds.place_hold(record=holds.RecordRef(CONTACT, "call_recordings", {"id": held_early}),
                     reason="Complaint about this call before the court", actor=people.manager, now=NOW, case=case)
    lookup = run_lookup(case, actor=people.staff, now=NOW)
    confirm_match(lookup, actor=people.staff, now=NOW)
    plan = build_erasure_plan(case, lookup, actor=people.staff, now=NOW, today=TODAY)
    assert by_key(plan)[("call_recordings", held_early)].rule_id == "legal-hold"

    with pytest.raises(RuleViolation):
        execute_plan(plan, actor=people.manager, now=LATER, today=TODAY)
    with pytest.raises(NotAllowed):
        approve_plan(plan, actor=people.staff, now=LATER)
    approve_plan(plan, actor=people.manager, now=LATER)
    assert plan.status is ErasurePlanStatus.APPROVED

    # A hold placed between approval and execution still wins.
    [subscription] = rows(systems, "SELECT id FROM marketing_subscriptions WHERE customer_id = :c ORDER BY id LIMIT 1",
                          c=customer["id"])
    holds.place_hold(record=holds.RecordRef(ADMIN, "marketing_subscriptions", subscription),
                     reason="Dispute about the consent", actor=people.manager, now=LATER, case=case)
    failed = execute_plan(plan, actor=people.staff, now=LATER, today=TODAY)
    db.session.commit()
    assert failed == {} and plan.status is ErasurePlanStatus.EXECUTED

    items = by_key(plan)
    late = items[("marketing_subscriptions", subscription["id"])]
    assert (late.action, late.rule_id, late.executed_at) == (Action.KEEP, "legal-hold", None)
    assert rows(systems, "SELECT id FROM marketing_subscriptions WHERE id = :i", i=subscription["id"])
    assert rows(systems, "SELECT id FROM call_recordings WHERE id = :i", i=held_early)
    left = {r["id"] for r in rows(systems, "SELECT id FROM call_recordings WHERE customer_number = :n",
                                  n=customer["customer_number"])}
    assert left == {held_early}
    for item in by_key(plan).values():
        if item.action is Action.KEEP:
            assert (item.result, item.outcome) == (None, ErasureOutcome.KEPT)
        else:
            # A recording's audio goes with it (issue 13, item 5): this demo stores no files, so it was
            # found already gone, and the item says so.
            done = "row deleted" + ("; stored object of storage_uri not found: already gone"
                                    if item.collection == "call_recordings" else "")
            assert item.executed_at == LATER and item.result == done, item.collection
            assert item.outcome is ErasureOutcome.DELETED

    [event] = events("erasure.executed")
    assert event.after["erased"] == sum(1 for i in by_key(plan).values() if i.action is not Action.KEEP)
    assert event.after["held_since_approval"] == 1

    # The letter never quotes the hold's reason as the manager typed it (issue 14.2): it says a hold was
    # placed, in its own language, and quotes a text written for the subject only where the team wrote one.
    from dsr.letters.facts import erasure_items
    from dsr.texts.models import TextPurpose
    from dsr.texts.operations import save_text, slots

    def hold_reason(language: str) -> dict:
        from dsr.fulfilment.erasure.texts import HELD_SINCE_APPROVAL_LETTER

        [reason] = [r for r in erasure_items(plan, language)["reasons"]
                    if r["basis"] == HELD_SINCE_APPROVAL_LETTER[language]]
        return reason

    assert (hold_reason("nl")["basis"], hold_reason("nl")["typed"]) == (
        "Na goedkeuring van het wisplan onder een juridische bewaarplicht geplaatst.", None)
    assert "Dispute about the consent" not in json.dumps(erasure_items(plan, "en"))
    [slot] = [s for s in slots(case) if s.purpose is TextPurpose.ERASURE_KEPT and s.item_id == late.id]
    assert not slot.required
    save_text(case, TextPurpose.ERASURE_KEPT, late.id, "nl", "U betwist uw toestemming; wij bewaren de "
              "aanmelding tot dat geschil is beslecht.", actor=people.manager, now=LATER)
    assert hold_reason("nl")["typed"].startswith("U betwist uw toestemming")
    assert customer["email"] not in json.dumps(event.after) and customer["street"] not in json.dumps(event.after)

    # A fresh search finds only what was kept.
    again = run_lookup(case, actor=people.staff, now=LATER)
    found = {(f.source, f.collection, f.primary_key["id"]) for f in again.records}
    kept = {(i.source, i.collection, i.primary_key["id"]) for i in by_key(plan).values() if i.action is Action.KEEP}
    erased = {(i.source, i.collection, i.primary_key["id"]) for i in by_key(plan).values()
              if i.action is not Action.KEEP}
    assert found and found <= kept and not found & erased
    assert_unbroken_chain(audit_trail())


def test_an_ended_customer_is_anonymised_and_their_old_records_deleted(systems, people):
    customer = ended_customer(systems)
    case, lookup, plan = planned(people, customer)
    approve_plan(plan, actor=people.manager, now=LATER)
    assert execute_plan(plan, actor=people.manager, now=LATER, today=TODAY) == {}
    db.session.commit()
    # Kept invoices still refer to the customer: anonymised (row kept, personal fields masked), and why.
    item = by_key(plan)[("customers", customer["id"])]
    assert (item.action, item.outcome) == (Action.ANONYMISE, ErasureOutcome.ANONYMISED)
    assert "masked: first_name" in item.result and "email" in item.result
    assert "row kept: kept records refer to it: harmony_policy_admin/invoices/id=" in item.result
    [row] = rows(systems, "SELECT * FROM customers WHERE id = :c", c=customer["id"])
    assert (row["first_name"], row["last_name"], row["street"]) == ("***", "***", "***")
    assert row["email"] is None and row["date_of_birth"] is None and row["customer_number"]
    # Policies that kept invoices still point at are kept until those invoices go, not deleted under them.
    for p in rows(systems, "SELECT id FROM policies WHERE customer_id = :c", c=customer["id"]):
        policy = by_key(plan)[("policies", p["id"])]
        assert policy.action is Action.KEEP or policy.result == "row deleted"
    again = run_lookup(case, actor=people.staff, now=LATER)
    kept = {(i.collection, i.primary_key["id"]) for i in by_key(plan).values() if i.action is Action.KEEP}
    assert {(f.collection, f.primary_key["id"]) for f in again.records if f.collection != "customers"} <= kept


def test_a_customer_nothing_kept_refers_to_is_deleted_not_masked(systems, people):
    customer = ended_customer(systems, kept_invoices=False)
    case, lookup, plan = planned(people, customer)
    item = by_key(plan)[("customers", customer["id"])]
    assert item.action is Action.ERASE
    approve_plan(plan, actor=people.manager, now=LATER)
    assert execute_plan(plan, actor=people.manager, now=LATER, today=TODAY) == {}
    db.session.commit()
    assert (item.outcome, item.result) == (ErasureOutcome.DELETED, "row deleted")
    assert rows(systems, "SELECT id FROM customers WHERE id = :c", c=customer["id"]) == []


def test_an_anonymised_customer_is_deleted_once_the_last_kept_record_referring_to_it_has_gone(systems, people):
    customer = ended_customer(systems)
    case, lookup, plan = planned(people, customer)
    approve_plan(plan, actor=people.manager, now=LATER)
    execute_plan(plan, actor=people.manager, now=LATER, today=TODAY)
    db.session.commit()
    item = by_key(plan)[("customers", customer["id"])]
    assert item.outcome is ErasureOutcome.ANONYMISED
    kept = [i for i in by_key(plan).values() if i.action is Action.KEEP]
    assert kept and all(i.erase_on is not None for i in kept)
    last = max(i.erase_on for i in kept)
    # The day before the last kept record goes, the row is still there (masked); on that day it goes too.
    day_before = last - timedelta(days=1)
    erase_due_items(now=datetime.combine(day_before, datetime.min.time(), tzinfo=UTC), today=day_before)
    db.session.commit()
    assert item.outcome is ErasureOutcome.ANONYMISED
    assert rows(systems, "SELECT first_name FROM customers WHERE id = :c", c=customer["id"]) == [{"first_name": "***"}]
    erase_due_items(now=datetime.combine(last, datetime.min.time(), tzinfo=UTC), today=last)
    db.session.commit()
    assert (item.outcome, item.result) == (ErasureOutcome.DELETED, f"erased on {last.isoformat()}: row deleted")
    assert rows(systems, "SELECT id FROM customers WHERE id = :c", c=customer["id"]) == []
    assert all(i.outcome is ErasureOutcome.DELETED for i in by_key(plan).values())


# -- the scheduled part -----------------------------------------------------------------------------------

def test_erase_due_items_erases_a_kept_record_once_its_date_comes(systems, people):
    customer = active_customer(systems)
    case, lookup, plan = planned(people, customer)
    approve_plan(plan, actor=people.manager, now=LATER)
    execute_plan(plan, actor=people.manager, now=LATER, today=TODAY)
    db.session.commit()
    payments = sorted((i for i in plan.items if i.collection == "premium_payments" and i.action is Action.KEEP),
                      key=lambda i: (i.erase_on, i.id))
    first, second = payments[0], next(p for p in payments[1:] if p.erase_on > payments[0].erase_on)
    due = second.erase_on
    holds.place_hold(record=holds.RecordRef(ADMIN, "premium_payments", first.primary_key),
                     reason="Disputed collection", actor=people.manager, now=LATER, case=case)
    db.session.commit()

    earliest = min(i.erase_on for i in plan.items if i.erase_on is not None)
    assert erase_due_items(now=LATER, today=earliest - timedelta(days=1)) == []
    at = datetime.combine(due, datetime.min.time(), tzinfo=UTC)
    [summary] = erase_due_items(now=at, today=due)
    db.session.commit()
    assert summary["case"] == case.reference and summary["erased"] >= 1
    assert second.executed_at is not None and second.result.startswith(f"erased on {due.isoformat()}")
    assert not rows(systems, "SELECT id FROM premium_payments WHERE id = :i", i=second.primary_key["id"])
    # The held one was due too, but is kept under the hold, now with no date.
    assert (first.executed_at, first.rule_id, first.erase_on) == (None, "legal-hold", None)
    assert rows(systems, "SELECT id FROM premium_payments WHERE id = :i", i=first.primary_key["id"])
    [event] = events("erasure.scheduled")
    assert event.case_id == case.id and event.actor_id is None
    assert f"premium_payments/id={second.primary_key['id']}" in " ".join(event.after["records"])
    # Nothing is erased twice.
    assert all(s["erased"] == 0 for s in erase_due_items(now=at, today=due))


def test_the_erase_due_command_runs_the_scheduled_part(ctx, systems, people):
    customer = active_customer(systems)
    case, lookup, plan = planned(people, customer)
    approve_plan(plan, actor=people.manager, now=LATER)
    execute_plan(plan, actor=people.manager, now=LATER, today=TODAY)
    db.session.commit()
    with time_machine.travel(NOW, tick=False):
        result = ctx.test_cli_runner().invoke(args=["dsr", "erase-due"])
    assert result.exit_code == 0, result.output
    assert "0 case(s) with records due for erasure." in result.output  # a kept record is due tomorrow at the earliest


def test_a_source_that_cannot_be_read_refuses_the_plan(systems, people, ctx, monkeypatch):
    customer = active_customer(systems)
    case = make_case(actor=people.staff, rights=(Right.ERASURE,), **subject_of(customer))
    lookup = run_lookup(case, actor=people.staff, now=NOW)
    confirm_match(lookup, actor=people.staff, now=NOW)
    monkeypatch.setitem(ctx.config, "DEMO_SYSTEMS_URL", "sqlite:////nonexistent/harmony.sqlite3")
    with pytest.raises(RuleViolation, match="could not be read"):
        build_erasure_plan(case, lookup, actor=people.staff, now=NOW, today=TODAY)


def test_records_kept_while_the_policy_ran_are_erased_once_it_has_ended(systems, people):
    """Kept without a date ("while the policy is active") is re-checked by every scheduled run: once the
    policy ended and no claim is open, the contract no longer keeps them and they are erased."""
    customer = active_customer(systems)
    case, lookup, plan = planned(people, customer)
    approve_plan(plan, actor=people.manager, now=LATER)
    execute_plan(plan, actor=people.manager, now=LATER, today=TODAY)
    db.session.commit()
    contract = [i for i in plan.items if i.rule_id == "contract" and i.executed_at is None]
    assert contract and all(i.erase_on is None for i in contract)
    policies = [i for i in contract if i.collection == "policies"]
    assert policies

    # The next day nothing changed: the run says nothing about this case.
    tomorrow = TODAY + timedelta(days=1)
    at = datetime.combine(tomorrow, datetime.min.time(), tzinfo=UTC)
    assert [s for s in erase_due_items(now=at, today=tomorrow) if s["case"] == case.reference] == []

    # The policy ends and its claims are settled; the next run erases what the contract alone kept.
    execute(systems, "UPDATE policies SET status = 'ended', end_date = :d WHERE customer_id = :c",
            d=tomorrow.isoformat(), c=customer["id"])
    execute(systems, """UPDATE claims SET status = 'settled' WHERE policy_id IN
                        (SELECT id FROM policies WHERE customer_id = :c)""", c=customer["id"])
    later = tomorrow + timedelta(days=1)
    at = datetime.combine(later, datetime.min.time(), tzinfo=UTC)
    [summary] = [s for s in erase_due_items(now=at, today=later) if s["case"] == case.reference]
    db.session.commit()
    assert summary["erased"] + summary["newly_dated"] >= len(policies)
    erased_now = [i for i in contract if (db.session.refresh(i), i.executed_at)[1] is not None]
    assert erased_now, "the contract's end erased nothing"
    for item in erased_now:  # really gone from the source, or (a customer) anonymised in place
        row = rows(systems, f"SELECT * FROM {item.collection} WHERE id = :i",  # noqa: S608 (data-map name)
                   i=item.primary_key["id"])
        assert not row or item.collection == "customers", item.key_text
    for item in contract:
        db.session.refresh(item)
        # Erased now, or kept on another ground with a date (e.g. fiscal retention), never "contract" again.
        assert item.executed_at is not None or (item.rule_id != "contract" and item.erase_on), item.key_text
    erased_policies = [i for i in policies if i.executed_at is not None]
    for item in erased_policies:
        assert not rows(systems, "SELECT id FROM policies WHERE id = :i", i=item.primary_key["id"])
    [event] = [e for e in events("erasure.scheduled") if e.case_id == case.id]
    assert event.after["erased"] == summary["erased"]


def test_execution_records_the_recipients_each_erased_record_named(systems, people):
    """Art. 19 by name: the risk bearer of a policy, the repairer of a claim and the sales partner of a customer
    are read from each record before it goes (the data map's ``dsr.recipient``); a direct sale names nobody."""
    customer = ended_customer(systems, kept_invoices=False)
    execute(systems, "UPDATE customers SET sales_channel = 'partner:GadgetPlaza' WHERE id = :c", c=customer["id"])
    policies = rows(systems, "SELECT id, risk_bearer FROM policies WHERE customer_id = :c", c=customer["id"])
    case, lookup, plan = planned(people, customer)
    approve_plan(plan, actor=people.manager, now=LATER)
    execute_plan(plan, actor=people.manager, now=LATER, today=TODAY)
    db.session.commit()
    items = by_key(plan)
    assert items[("customers", customer["id"])].recipients == {"partners": ["GadgetPlaza"]}
    for policy in policies:
        item = items[("policies", policy["id"])]
        assert item.outcome is ErasureOutcome.DELETED
        assert item.recipients == {"risk_bearer": [policy["risk_bearer"]]}
    assert all(i.recipients is None for i in items.values() if i.collection in ("devices", "invoices"))
