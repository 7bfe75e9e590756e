"""Objection (Art. 21; issue 4, items 8 and 11) against a generated demo systems database, on SQLite and
PostgreSQL (dsr's own database; the demo systems are a SQLite file copied per test, since stopping marketing
changes it). What is expected is read from the demo database with plain SQL, not with the code under test.

Direct marketing stops at once and the subject goes on the suppression list; a marketing import that
contains them again is refused by the check; an erasure under the ``marketing`` rule suppresses too; other
objections are recorded by staff and decided by the privacy manager.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import current_app

from dsr.audit.models import AuditEvent
from dsr.cases.errors import InvalidInput, NotAllowed, RuleViolation
from dsr.domain.enums import Right, Role
from dsr.extensions import db
from dsr.fulfilment import holds
from dsr.fulfilment.erasure import approve_plan, build_erasure_plan, erase_due_items, execute_plan
from dsr.fulfilment.lookup_ops import confirm_match, run_lookup
from dsr.objection import balancing, operations
from dsr.objection.facts import objection_facts
from dsr.objection.models import (
    MarketingStop,
    ObjectionEffect,
    ObjectionOutcome,
    ObjectionStatus,
)
from dsr.suppression import operations as suppression
from dsr.suppression.identifiers import IdentifierKind, digest, key_id
from dsr.suppression.models import SuppressionEntry, SuppressionReason
from dsr.tasks.models import CaseTask
from tests.factories import make_case
from tests.harmony_support import People, private_copy, rows, subject_of
from tests.integration.conftest import assert_unbroken_chain, audit_trail

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)
TODAY = NOW.date()
ADMIN = "harmony_policy_admin"
CONTACT_CALLS = "harmony_contact_centre/call_recordings"


@pytest.fixture
def systems(ctx, harmony, tmp_path, monkeypatch) -> str:
    """A copy of the demo systems for this test only: stopping marketing deletes subscriptions."""
    monkeypatch.setitem(ctx.config, "DEMO_SYSTEMS_URL", url := private_copy(harmony, tmp_path))
    return url


@pytest.fixture
def people(ctx) -> People:
    return People(*Role)


def subscriptions(url: str, customer: dict) -> list[dict]:
    return rows(url, "SELECT id, email FROM marketing_subscriptions WHERE customer_id = :c OR lower(email) = "
                     "lower(:e) ORDER BY id", c=customer["id"], e=customer["email"])


def objection_case(people, customer, *, confirm=True, rights=(Right.OBJECTION,), **overrides):
    case = make_case(actor=people.staff, rights=rights, **subject_of(customer, phone=customer["phone"], **overrides))
    lookup = run_lookup(case, actor=people.staff, now=NOW)
    if confirm:
        confirm_match(lookup, actor=people.staff, now=NOW)
    db.session.commit()
    return case, lookup


def on_list(kind: IdentifierKind, value: str) -> SuppressionEntry | None:
    salt = current_app.config["SUPPRESSION_SALT"]
    return db.session.execute(sa.select(SuppressionEntry).where(
        SuppressionEntry.kind == kind, SuppressionEntry.digest == digest(kind, value, salt))).scalar_one_or_none()


def events(action: str) -> list[AuditEvent]:
    return [e for e in audit_trail() if e.action == action]


def stored_text() -> str:
    """Everything dsr stored about suppression and stops, with their audit events, as one text (the case's
    own events name the subject, as they must)."""
    db.session.expire_all()
    parts = [json.dumps([e.after, e.before]) for e in db.session.scalars(sa.select(AuditEvent))
             if e.action.startswith(("objection.", "suppression."))]
    for entry in db.session.scalars(sa.select(SuppressionEntry)):
        parts.append(f"{entry.kind} {entry.digest} {entry.key_id}")
    for stop in db.session.scalars(sa.select(MarketingStop)):
        parts.append(json.dumps([stop.removed, stop.failed, stop.kinds]))
    return "\n".join(parts)


# -- direct marketing: stopped at once -------------------------------------------------------------------

def test_stopping_direct_marketing_removes_the_subscriptions_and_suppresses_the_subject(systems, customer, people):
    before = subscriptions(systems, customer)
    assert before, "the fixture customer has subscriptions"
    case, lookup = objection_case(people, customer)

    stop = operations.stop_direct_marketing(case, actor=people.staff, now=LATER)
    db.session.commit()

    assert subscriptions(systems, customer) == []
    assert stop.removed_count == len(before) and stop.failed == {} and stop.lookup_id == lookup.id
    assert {r["key"] for r in stop.removed} == {f"id={s['id']}" for s in before}
    assert all(r["result"] == "row deleted" for r in stop.removed)
    # A fresh search finds no subscription any more; the rest of the customer is untouched.
    again = run_lookup(case, actor=people.staff, now=LATER)
    assert "marketing_subscriptions" not in again.summary[ADMIN] and "customers" in again.summary[ADMIN]

    for kind, value in ((IdentifierKind.EMAIL, customer["email"]), (IdentifierKind.CUSTOMER_NUMBER,
                        customer["customer_number"]), (IdentifierKind.PHONE, customer["phone"])):
        entry = on_list(kind, value)
        assert entry is not None, kind
        assert (entry.reason, entry.case_id, entry.added_by_id) == (SuppressionReason.OBJECTION, case.id,
                                                                    people.staff.id)
    # Upper case and spaces are the same address.
    assert on_list(IdentifierKind.EMAIL, "  " + customer["email"].upper() + " ") is not None

    # Only digests are stored: no e-mail address, customer number or phone number anywhere.
    text = stored_text()
    for value in (customer["email"], customer["email"].lower(), customer["customer_number"], customer["phone"]):
        assert value not in text
    [event] = events("objection.marketing_stopped")
    assert event.case_id == case.id and event.actor_id == people.staff.id
    assert event.after["removed"] == len(before) and event.after["suppressed"]["added"] >= 3
    assert_unbroken_chain(audit_trail())

    facts = objection_facts(case)
    assert facts["direct_marketing"] == {"stopped_on": "2026-11-26", "subscriptions_removed": len(before),
                                         "suppressed": True, "complete": True, "kept_under_hold": 0}
    assert facts["other"] == [] and facts["refused"] is False
    json.dumps(facts)


def test_adding_is_idempotent_and_a_stop_that_changes_nothing_is_refused(systems, customer, people):
    case, _lookup = objection_case(people, customer)
    operations.stop_direct_marketing(case, actor=people.staff, now=LATER)
    db.session.commit()
    count = db.session.scalar(sa.select(sa.func.count()).select_from(SuppressionEntry))
    with pytest.raises(RuleViolation, match="already stopped"):
        operations.stop_direct_marketing(case, actor=people.staff, now=LATER)
    db.session.rollback()
    # The same person objecting again on a second case adds no entry, and that stop is recorded.
    second, _ = objection_case(people, customer)
    stop = operations.stop_direct_marketing(second, actor=people.manager, now=LATER)
    db.session.commit()
    assert (stop.identifiers_added, stop.removed_count) == (0, 0)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SuppressionEntry)) == count


def test_without_a_confirmed_search_the_subject_is_suppressed_and_nothing_is_deleted(systems, people):
    [prospect] = rows(systems, """SELECT id, email FROM marketing_subscriptions m WHERE customer_id IS NULL
        AND (SELECT count(*) FROM marketing_subscriptions o WHERE lower(o.email) = lower(m.email)) = 1
        ORDER BY id LIMIT 1""")
    case = make_case(actor=people.staff, rights=(Right.OBJECTION,), name="A. Prospect", email=prospect["email"],
                     customer_number=None, policy_number=None, date_of_birth=None, postcode=None)
    stop = operations.stop_direct_marketing(case, actor=people.staff, now=NOW)
    db.session.commit()
    assert stop.lookup_id is None and stop.removed == [] and stop.kinds == ["email"]
    assert on_list(IdentifierKind.EMAIL, prospect["email"]) is not None
    assert rows(systems, "SELECT id FROM marketing_subscriptions WHERE id = :i", i=prospect["id"])

    # An unconfirmed search changes nothing (stopping again is refused); once confirmed, stopping again
    # removes the subscription.
    lookup = run_lookup(case, actor=people.staff, now=LATER)
    assert lookup.summary[ADMIN]["marketing_subscriptions"]["count"] == 1
    with pytest.raises(RuleViolation, match="already stopped"):
        operations.stop_direct_marketing(case, actor=people.staff, now=LATER)
    confirm_match(lookup, actor=people.staff, now=LATER)
    stop = operations.stop_direct_marketing(case, actor=people.staff, now=LATER)
    db.session.commit()
    assert stop.removed_count == 1 and stop.identifiers_added == 0
    assert not rows(systems, "SELECT id FROM marketing_subscriptions WHERE id = :i", i=prospect["id"])
    assert objection_facts(case)["direct_marketing"]["subscriptions_removed"] == 1


def test_who_may_stop_and_on_which_case(systems, customer, people):
    case, _ = objection_case(people, customer)
    with pytest.raises(NotAllowed):
        operations.stop_direct_marketing(case, actor=people.auditor, now=LATER)
    with pytest.raises(NotAllowed):
        operations.stop_direct_marketing(case, actor=None, now=LATER)
    access, _ = objection_case(people, customer, rights=(Right.ACCESS,))
    with pytest.raises(RuleViolation, match="right to object"):
        operations.stop_direct_marketing(access, actor=people.staff, now=LATER)
    assert len(subscriptions(systems, customer)) > 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SuppressionEntry)) == 0


def test_a_held_subscription_is_kept_but_its_subject_is_still_suppressed(systems, customer, people):
    [first, *rest] = subscriptions(systems, customer)
    case, _ = objection_case(people, customer)
    holds.place_hold(record=holds.RecordRef(ADMIN, "marketing_subscriptions", {"id": first["id"]}),
                     reason="Dispute about the consent", actor=people.manager, now=NOW, case=case)
    stop = operations.stop_direct_marketing(case, actor=people.staff, now=LATER)
    db.session.commit()
    assert [s["id"] for s in subscriptions(systems, customer)] == [first["id"]]
    assert [r["key"] for r in stop.kept] == [f"id={first['id']}"] and stop.removed_count == len(rest)
    assert on_list(IdentifierKind.EMAIL, customer["email"]) is not None
    assert objection_facts(case)["direct_marketing"]["kept_under_hold"] == 1


def test_a_source_that_fails_is_rolled_back_and_the_subject_still_suppressed(systems, customer, people, ctx,
                                                                             monkeypatch):
    case, _ = objection_case(people, customer)
    monkeypatch.setitem(ctx.config, "DEMO_SYSTEMS_URL", "sqlite:////nonexistent/dir/harmony.sqlite3")
    stop = operations.stop_direct_marketing(case, actor=people.staff, now=LATER)
    db.session.commit()
    assert set(stop.failed) == {ADMIN} and stop.removed == [] and not stop.complete
    assert on_list(IdentifierKind.CUSTOMER_NUMBER, customer["customer_number"]) is not None
    monkeypatch.setitem(ctx.config, "DEMO_SYSTEMS_URL", systems)
    finished = operations.stop_direct_marketing(case, actor=people.staff, now=LATER)  # stopping again finishes
    db.session.commit()
    assert finished.complete and subscriptions(systems, customer) == []


# -- a suppressed subject re-imported (issue 4, item 11) --------------------------------------------------

def write_import(path, customer, others: list[dict]) -> None:
    lines = ["first_name;E-mail;customer_number;topic"]
    lines += [f"{o['first_name']};{o['email']};{o['customer_number']};newsletter" for o in others[:2]]
    lines.append(f"{customer['first_name']};  {customer['email'].upper()}  ;;newsletter")
    lines += [f"{o['first_name']};{o['email']};{o['customer_number']};product_offers" for o in others[2:]]
    lines.append("Nobody;not-an-address;;newsletter")
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")


def test_a_suppressed_subject_re_imported_is_refused_while_other_rows_pass(systems, customer, people, ctx,
                                                                           tmp_path):
    case, _ = objection_case(people, customer)
    operations.stop_direct_marketing(case, actor=people.staff, now=LATER)
    db.session.commit()
    others = rows(systems, "SELECT first_name, email, customer_number FROM customers WHERE id <> :c "
                           "ORDER BY id LIMIT 4", c=customer["id"])
    source, clean = tmp_path / "import.csv", tmp_path / "out" / "clean.csv"
    write_import(source, customer, others)

    result = ctx.test_cli_runner().invoke(args=["dsr", "suppression-check", str(source), "-o", str(clean)])
    assert result.exit_code == 4, result.output
    assert "Dropped 1 suppressed row(s): row 3." in result.output
    assert "1 row(s) kept with an identifier that is not valid" in result.output
    assert customer["email"].lower() not in result.output.lower()
    written = clean.read_text(encoding="utf-8").splitlines()
    assert written[0] == "first_name;E-mail;customer_number;topic" and len(written) == 1 + 5
    assert not any(customer["email"].lower() in line.lower() for line in written)
    assert all(o["email"] in clean.read_text() for o in others)

    # The same person by customer number only is caught too; a list without them passes with exit 0.
    by_number = tmp_path / "by-number.csv"
    by_number.write_text(f"klantnummer,naam\n {customer['customer_number'].lower()} ,x\nHC0000000,y\n")
    result = ctx.test_cli_runner().invoke(args=["dsr", "suppression-check", str(by_number)])
    assert result.exit_code == 4 and "row 1." in result.output, result.output
    clean_list = tmp_path / "clean-list.csv"
    clean_list.write_text("email\n" + "\n".join(o["email"] for o in others) + "\n")
    result = ctx.test_cli_runner().invoke(args=["dsr", "suppression-check", str(clean_list), "--column", "email"])
    assert result.exit_code == 0 and "No row is on the suppression list." in result.output, result.output


def test_the_check_refuses_bad_input_and_a_changed_salt(systems, customer, people, ctx, tmp_path, monkeypatch):
    runner = ctx.test_cli_runner()
    headerless = tmp_path / "names.csv"
    headerless.write_text("name,topic\nA,b\n")
    result = runner.invoke(args=["dsr", "suppression-check", str(headerless)])
    assert result.exit_code == 1 and "No identifier column" in result.output
    assert runner.invoke(args=["dsr", "suppression-check", str(headerless), "--column", "topic"]).exit_code == 1
    assert runner.invoke(args=["dsr", "suppression-check", str(tmp_path / "missing.csv")]).exit_code == 1
    assert runner.invoke(args=["dsr", "suppression-check", str(headerless), "-o", str(headerless)]).exit_code == 2

    case, _ = objection_case(people, customer, confirm=False)
    operations.stop_direct_marketing(case, actor=people.staff, now=LATER)
    db.session.commit()
    monkeypatch.setitem(ctx.config, "SUPPRESSION_SALT", "a-different-salt-than-before")
    data = tmp_path / "data.csv"
    data.write_text(f"email\n{customer['email']}\n")
    result = runner.invoke(args=["dsr", "suppression-check", str(data), "-o", str(tmp_path / "clean.csv")])
    assert result.exit_code == 1 and "another SUPPRESSION_SALT" in result.output
    assert not (tmp_path / "clean.csv").exists()
    with pytest.raises(suppression.SaltChanged):
        suppression.check_values({IdentifierKind.EMAIL: [customer["email"]]})


def test_check_values_answers_with_the_values_as_given(systems, customer, people):
    case, _ = objection_case(people, customer, confirm=False)
    operations.stop_direct_marketing(case, actor=people.staff, now=LATER)
    db.session.commit()
    given = [" " + customer["email"].upper(), "someone.else@example.org", "nonsense"]
    suppressed, invalid = suppression.check_values({IdentifierKind.EMAIL: given,
                                                   IdentifierKind.CUSTOMER_NUMBER: [customer["customer_number"]]})
    assert suppressed == {IdentifierKind.EMAIL: [given[0]],
                          IdentifierKind.CUSTOMER_NUMBER: [customer["customer_number"]]}
    assert invalid == {IdentifierKind.EMAIL: ["nonsense"]}


# -- erasure under the marketing rule suppresses ---------------------------------------------------------

def test_an_erasure_plan_with_the_marketing_rule_suppresses_the_subject(systems, customer, people):
    subs = subscriptions(systems, customer)
    case, lookup = objection_case(people, customer, rights=(Right.ERASURE,))
    plan = build_erasure_plan(case, lookup, actor=people.staff, now=NOW, today=TODAY)
    assert {i.rule_id for i in plan.items if i.collection == "marketing_subscriptions"} == {"marketing"}
    approve_plan(plan, actor=people.manager, now=LATER)
    assert on_list(IdentifierKind.EMAIL, customer["email"]) is None  # not before the plan is carried out
    assert execute_plan(plan, actor=people.staff, now=LATER, today=TODAY) == {}
    db.session.commit()
    assert subscriptions(systems, customer) == []
    for kind, value in [(IdentifierKind.EMAIL, s["email"]) for s in subs] + [
            (IdentifierKind.CUSTOMER_NUMBER, customer["customer_number"])]:
        entry = on_list(kind, value)
        assert entry is not None and entry.reason is SuppressionReason.ERASURE and entry.case_id == case.id
    [event] = events("suppression.added")
    assert event.after["via"] == "erasure" and event.after["plan_id"] == plan.id and event.after["added"] >= 2
    assert customer["email"] not in json.dumps(event.after)
    assert all(e.key_id == key_id(current_app.config["SUPPRESSION_SALT"])
               for e in db.session.scalars(sa.select(SuppressionEntry)))


def test_the_scheduled_erasure_of_a_marketing_record_suppresses_too(systems, customer, people):
    [held, *_rest] = subscriptions(systems, customer)
    case, lookup = objection_case(people, customer, rights=(Right.ERASURE,))
    hold = holds.place_hold(record=holds.RecordRef(ADMIN, "marketing_subscriptions", {"id": held["id"]}),
                            reason="Dispute about the consent", actor=people.manager, now=NOW, case=case)
    plan = build_erasure_plan(case, lookup, actor=people.staff, now=NOW, today=TODAY)
    approve_plan(plan, actor=people.manager, now=NOW)
    execute_plan(plan, actor=people.staff, now=NOW, today=TODAY)
    db.session.commit()
    assert on_list(IdentifierKind.EMAIL, customer["email"]) is not None  # held, and suppressed all the same
    # As for a plan executed before the suppression list existed: the list is empty, the hold ends, and the
    # kept subscription comes due.
    db.session.execute(sa.delete(SuppressionEntry))
    holds.release_hold(hold, reason="Settled", actor=people.manager, now=LATER, case=case)
    [item] = [i for i in plan.items if i.primary_key == {"id": held["id"]}]
    item.erase_on = TODAY
    db.session.commit()
    [summary] = erase_due_items(now=LATER, today=TODAY)
    db.session.commit()
    assert summary["erased"] == 1 and not rows(systems, "SELECT id FROM marketing_subscriptions WHERE id = :i",
                                               i=held["id"])
    entry = on_list(IdentifierKind.EMAIL, held["email"])
    assert entry is not None and entry.added_by_id is None and entry.reason is SuppressionReason.ERASURE
    assert [e.actor_id for e in events("suppression.added")][-1] is None


# -- other objections: the privacy manager's balancing (Art. 21(1)) -------------------------------------

def test_an_objection_is_recorded_by_staff_and_decided_by_the_manager_only(systems, customer, people):
    case, _ = objection_case(people, customer)
    case.assignee_id = people.staff.id
    choices = balancing.processing_choices()
    assert CONTACT_CALLS in choices and "harmony_policy_admin/marketing_subscriptions" not in choices
    assert "harmony_policy_admin/customers" not in choices  # contract, not objectable under 21(1)
    assert "Improving services" in choices[CONTACT_CALLS].name

    with pytest.raises(InvalidInput) as bad:
        balancing.record_objection(case, processing="harmony_policy_admin/customers", subject_grounds="x",
                                   actor=people.staff, now=NOW)
    assert bad.value.field == "processing"
    with pytest.raises(InvalidInput):
        balancing.record_objection(case, processing=CONTACT_CALLS, subject_grounds="   ", actor=people.staff,
                                   now=NOW)
    with pytest.raises(NotAllowed):
        balancing.record_objection(case, processing=CONTACT_CALLS, subject_grounds="x", actor=people.auditor,
                                   now=NOW)
    objection = balancing.record_objection(case, processing=CONTACT_CALLS, actor=people.staff, now=NOW,
                                           subject_grounds="I was recorded while talking about my illness.")
    with pytest.raises(RuleViolation, match="already waiting"):
        balancing.record_objection(case, processing=CONTACT_CALLS, subject_grounds="again", actor=people.staff,
                                   now=NOW)
    db.session.commit()
    assert objection.status is ObjectionStatus.PENDING and objection_facts(case)["other"] == []

    with pytest.raises(NotAllowed):
        balancing.decide_objection(objection, outcome=ObjectionOutcome.UPHELD, reasons="ok", compelling_grounds=None,
                                   effect=ObjectionEffect.ERASE, actor=people.staff, now=LATER, today=TODAY)
    with pytest.raises(InvalidInput) as bad:
        balancing.decide_objection(objection, outcome=ObjectionOutcome.REJECTED, reasons="we need it",
                                   compelling_grounds="  ", effect=None, actor=people.manager, now=LATER,
                                   today=TODAY)
    assert bad.value.field == "compelling_grounds"
    with pytest.raises(InvalidInput) as bad:
        balancing.decide_objection(objection, outcome=ObjectionOutcome.UPHELD, reasons="fair", compelling_grounds=None,
                                   effect=None, actor=people.manager, now=LATER, today=TODAY)
    assert bad.value.field == "effect"
    db.session.rollback()

    balancing.decide_objection(objection, outcome=ObjectionOutcome.UPHELD, reasons="Training needs no such calls.",
                               compelling_grounds=None, effect=ObjectionEffect.ERASE, actor=people.manager,
                               now=LATER, today=TODAY)
    db.session.commit()
    assert (objection.status, objection.decided_by_id) == (ObjectionStatus.DECIDED, people.manager.id)
    [task] = db.session.scalars(sa.select(CaseTask).where(CaseTask.case_id == case.id,
                                                           CaseTask.title.startswith("Objection"))).all()
    assert "erase" in task.title and task.assignee_id == people.staff.id
    with pytest.raises(RuleViolation, match="already decided"):
        balancing.decide_objection(objection, outcome=ObjectionOutcome.REJECTED, reasons="x", compelling_grounds="y",
                                   effect=None, actor=people.manager, now=LATER, today=TODAY)

    [recorded] = events("objection.recorded")
    assert recorded.after["processing"] == CONTACT_CALLS and "illness" not in json.dumps(recorded.after)
    [decided] = events("objection.decided")
    assert decided.actor_id == people.manager.id and decided.after["outcome"] == "upheld"
    assert "Training needs" not in json.dumps(decided.after)  # the reasons stay on the objection, not in the trail
    assert decided.after["task_id"] == task.id
    [fact] = objection_facts(case)["other"]
    assert (fact["processing_key"], fact["outcome"], fact["decided_on"], fact["effect"]) == (
        CONTACT_CALLS, "upheld", "2026-11-26", "erase")
    assert fact["reasons"] == "Training needs no such calls." and "Improving services" in fact["processing"]


def test_a_rejected_objection_states_harmonys_grounds_and_makes_a_partial_refusal(systems, customer, people):
    case, _ = objection_case(people, customer)
    incidents = next(k for k in balancing.processing_choices() if k.endswith("/incidents"))
    objection = balancing.record_objection(case, processing=incidents, subject_grounds="The debt was paid.",
                                           actor=people.manager, now=NOW)
    balancing.decide_objection(objection, outcome=ObjectionOutcome.REJECTED, effect=ObjectionEffect.STOP,
                               reasons="The register is needed until the stated end.",
                               compelling_grounds="Preventing fraud against the insured collective (recital 47).",
                               actor=people.manager, now=LATER, today=TODAY)
    db.session.commit()
    assert objection.effect is None  # only an upheld objection has an effect
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseTask).where(
        CaseTask.title.startswith("Objection"))) == 0
    facts = objection_facts(case)
    assert facts["refused"] is True and facts["direct_marketing"] is None
    [fact] = facts["other"]
    assert fact["outcome"] == "rejected" and fact["compelling_grounds"].startswith("Preventing fraud")


def test_the_database_refuses_a_rejection_without_grounds(systems, customer, people):
    case, _ = objection_case(people, customer)
    objection = balancing.record_objection(case, processing=CONTACT_CALLS, subject_grounds="x", actor=people.staff,
                                           now=NOW)
    db.session.commit()
    with db.engine.connect() as conn:
        with pytest.raises(sa.exc.IntegrityError, match="rejection_has_grounds|decided_complete|CHECK"):
            conn.execute(sa.text("UPDATE objection_decisions SET status = 'decided', outcome = 'rejected', "
                                 "reasons = 'x', decided_at = recorded_at, decided_by_id = recorded_by_id "
                                 "WHERE id = :i"), {"i": objection.id})
        conn.rollback()
        with pytest.raises(sa.exc.IntegrityError):
            conn.execute(sa.text("INSERT INTO suppression_entries (kind, digest, key_id, reason, added_at) "
                                 "VALUES ('email', 'zoe@example.nl', 'k', 'objection', CURRENT_TIMESTAMP)"))
        conn.rollback()
