"""Finding a subject's data in Harmony's demo systems and legal holds (issue 4, items 3 and 10), on SQLite
and PostgreSQL (dsr's own database; the demo systems are a generated SQLite file, as in the embedded demo).

What is expected is read from the demo database with plain SQL (here and in tests/harmony_support.py), not
with the lookup code.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from dsr.audit.models import AuditEvent
from dsr.auth.models import User
from dsr.cases import lifecycle
from dsr.cases.errors import InvalidInput, NotAllowed, RuleViolation
from dsr.cases.models import Case
from dsr.domain.enums import LookupMatch, LookupStatus, Role
from dsr.extensions import db
from dsr.fulfilment import holds
from dsr.fulfilment.lookup_ops import confirm_match, reject_match, run_lookup
from dsr.fulfilment.models import FoundRecord, LegalHold, Lookup
from dsr.tasks.models import CaseTask
from tests.factories import make_case, make_user
from tests.harmony_support import (
    customer_with_everything,
    demo_systems,
    rows,
    subject_of,
    values_that_must_not_be_stored,
)
from tests.integration.conftest import assert_unbroken_chain, audit_trail, row_count

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 26)
LATER = NOW + timedelta(minutes=5)
POLICY_ADMIN, CONTACT_CENTRE = "harmony_policy_admin", "harmony_contact_centre"
MANUAL = {"harmony_paper_archive", "focus_feedback", "harmony_mail_house"}


@pytest.fixture(scope="module")
def harmony(tmp_path_factory) -> str:
    """A small demo systems database (200 customers), generated once for this module."""
    return demo_systems(tmp_path_factory, TODAY)


@pytest.fixture
def systems(ctx, harmony, monkeypatch) -> str:
    """The sources' connection (``connection_env: DEMO_SYSTEMS_URL``) points at the generated database."""
    monkeypatch.setitem(ctx.config, "DEMO_SYSTEMS_URL", harmony)
    return harmony


class People:
    def __init__(self):
        self._ids = {"manager": make_user(Role.PRIVACY_MANAGER).id, "staff": make_user(Role.STAFF).id,
                     "auditor": make_user(Role.AUDITOR).id}

    manager = property(lambda self: db.session.get(User, self._ids["manager"]))
    staff = property(lambda self: db.session.get(User, self._ids["staff"]))
    auditor = property(lambda self: db.session.get(User, self._ids["auditor"]))


@pytest.fixture
def people(ctx) -> People:
    return People()


def expected_counts(url: str, customer: dict) -> dict[str, dict[str, int]]:
    ids = {"cid": customer["id"], "cn": customer["customer_number"], "email": customer["email"].lower()}
    queries = {
        POLICY_ADMIN: {
            "customers": "SELECT count(*) AS n FROM customers WHERE id = :cid",
            "policies": "SELECT count(*) AS n FROM policies WHERE customer_id = :cid",
            "devices": "SELECT count(*) AS n FROM devices WHERE policy_id IN "
                       "(SELECT id FROM policies WHERE customer_id = :cid)",
            "claims": "SELECT count(*) AS n FROM claims WHERE policy_id IN "
                      "(SELECT id FROM policies WHERE customer_id = :cid)",
            "invoices": "SELECT count(*) AS n FROM invoices WHERE policy_id IN "
                        "(SELECT id FROM policies WHERE customer_id = :cid)",
            "premium_payments": "SELECT count(*) AS n FROM premium_payments WHERE policy_id IN "
                                "(SELECT id FROM policies WHERE customer_id = :cid)",
            "marketing_subscriptions": "SELECT count(*) AS n FROM marketing_subscriptions "
                                       "WHERE customer_id = :cid OR lower(email) = :email",
            "portal_accounts": "SELECT count(*) AS n FROM portal_accounts WHERE customer_id = :cid",
            "incidents": "SELECT count(*) AS n FROM incidents WHERE customer_id = :cid",
        },
        CONTACT_CENTRE: {
            "call_recordings": "SELECT count(*) AS n FROM call_recordings WHERE customer_number = :cn",
            "survey_invitations": "SELECT count(*) AS n FROM survey_invitations WHERE customer_number = :cn "
                                  "OR lower(email) = :email OR call_recording_id IN "
                                  "(SELECT id FROM call_recordings WHERE customer_number = :cn)",
        },
    }
    counts = {source: {coll: rows(url, sql, **ids)[0]["n"] for coll, sql in colls.items()}
              for source, colls in queries.items()}
    # A collection without records of the person is not listed (a customer without claims has none).
    return {source: {coll: n for coll, n in colls.items() if n} for source, colls in counts.items()}


def case_for(customer: dict, actor: User, **overrides) -> Case:
    return make_case(actor=actor, **subject_of(customer, **overrides))


def stranger_case(actor: User) -> Case:
    return make_case(actor=actor, name="Nobody Known", email="nobody@example.invalid", customer_number="99999999",
                     policy_number="HP000000000", date_of_birth=date(1901, 1, 1), postcode="0000 XX")


def events(action: str) -> list[AuditEvent]:
    return [e for e in audit_trail() if e.action == action]


# -- the lookup -------------------------------------------------------------------------------------------

def test_lookup_finds_a_customers_records_per_source_and_collection(systems, people):
    customer = customer_with_everything(systems)
    case = case_for(customer, people.staff)

    lookup = run_lookup(case, actor=people.staff, now=NOW)
    db.session.commit()

    assert lookup.status is LookupStatus.FOUND
    counts = {source: {coll: entry["count"] for coll, entry in colls.items()}
              for source, colls in lookup.summary.items()}
    assert counts == expected_counts(systems, customer)
    assert lookup.record_count == row_count(FoundRecord)
    # Categories per collection: what the records hold, e.g. the customer's e-mail and bank account.
    assert "user.contact.email" in lookup.summary[POLICY_ADMIN]["customers"]["categories"]
    assert "user.financial.bank_account" in lookup.summary[POLICY_ADMIN]["policies"]["categories"]
    assert "user.contact.phone_number" in lookup.summary[CONTACT_CENTRE]["call_recordings"]["categories"] or \
        not any(r["caller_phone"] for r in rows(systems, "SELECT caller_phone FROM call_recordings "
                                                          "WHERE customer_number = :n", n=customer["customer_number"]))
    stored = db.session.scalars(sa.select(FoundRecord).where(FoundRecord.lookup_id == lookup.id)).all()
    customers = [r for r in stored if r.collection == "customers"]
    assert [r.primary_key for r in customers] == [{"id": customer["id"]}]
    assert customers[0].matched_by in ("customer_number", "email", "name+date_of_birth+postcode")
    assert customers[0].record_date is None  # customers declare no dated_by
    invoices = rows(systems, "SELECT id, issued_on FROM invoices WHERE customer_id = :c", c=customer["id"])
    dates = {r.primary_key["id"]: r.record_date for r in stored if r.collection == "invoices"}
    assert dates == {i["id"]: date.fromisoformat(str(i["issued_on"])) for i in invoices}
    assert all(isinstance(r.categories, list) and r.categories for r in stored)


def test_a_lookup_stores_references_and_categories_never_field_values(systems, people):
    customer = customer_with_everything(systems)
    case = case_for(customer, people.staff)
    run_lookup(case, actor=people.staff, now=NOW)
    db.session.commit()

    assert {c["name"] for c in sa.inspect(db.engine).get_columns("found_records")} == {
        "id", "lookup_id", "source", "collection", "primary_key", "categories", "matched_by", "record_date",
        "shared", "shared_reason", "shared_with"}  # the reason names fields and other records' keys, not values
    with db.engine.connect() as conn:
        rows = [*conn.execute(sa.text("SELECT * FROM found_records")), *conn.execute(sa.text("SELECT * FROM lookups")),
                *conn.execute(sa.text("SELECT * FROM audit_events WHERE action LIKE 'lookup.%'"))]
    dump = json.dumps([list(map(str, row)) for row in rows], ensure_ascii=False)
    secrets = values_that_must_not_be_stored(systems, customer)
    assert len(secrets) >= 5
    assert [v for v in secrets if v in dump] == []


def test_an_unknown_person_is_nothing_found(systems, people):
    case = stranger_case(people.staff)

    lookup = run_lookup(case, actor=people.staff, now=NOW)
    db.session.commit()

    assert lookup.status is LookupStatus.NOTHING_FOUND
    assert lookup.summary == {POLICY_ADMIN: {}, CONTACT_CENTRE: {}}
    assert row_count(FoundRecord) == 0
    assert lookup.match == "none"
    with pytest.raises(RuleViolation):
        confirm_match(lookup, actor=people.staff, now=LATER)


@pytest.mark.parametrize("url", [
    "sqlite:////nonexistent/harmony.sqlite3",
    "postgresql://postgres@127.0.0.1:1/nothing",  # nothing listens on port 1: connection refused
], ids=["missing-sqlite-file", "postgres-refused"])
def test_an_unreachable_source_fails_the_lookup_with_a_reason_and_stores_nothing_else(ctx, people, url,
                                                                                      monkeypatch):
    monkeypatch.setitem(ctx.config, "DEMO_SYSTEMS_URL", url)
    case = make_case(actor=people.staff)
    tasks_before = row_count(CaseTask)

    lookup = run_lookup(case, actor=people.staff, now=NOW)
    db.session.commit()

    assert lookup.status is LookupStatus.FAILED
    assert "could not be searched" in lookup.error
    assert "Policy administration" in lookup.error or "Contact centre" in lookup.error
    assert "\n" not in lookup.error and "sqlalche.me" not in lookup.error
    assert (row_count(FoundRecord), row_count(CaseTask), lookup.summary, lookup.manual_tasks) == (
        0, tasks_before, {}, {})
    [event] = events("lookup.run")
    assert event.after["status"] == "failed" and event.after["error"] == lookup.error


def test_a_missing_connection_setting_fails_the_lookup(ctx, people, monkeypatch):
    monkeypatch.setitem(ctx.config, "DEMO_SYSTEMS_URL", "")
    monkeypatch.delenv("DEMO_SYSTEMS_URL", raising=False)
    lookup = run_lookup(make_case(actor=people.staff), actor=people.staff, now=NOW)
    assert lookup.status is LookupStatus.FAILED and "DEMO_SYSTEMS_URL" in lookup.error


def test_lookups_are_audited_with_counts_not_data(systems, people):
    customer = customer_with_everything(systems)
    case = case_for(customer, people.staff)
    lookup = run_lookup(case, actor=people.staff, now=NOW)
    db.session.commit()

    [event] = events("lookup.run")
    assert event.case_id == case.id and event.actor_id == people.staff.id
    assert event.after["lookup_id"] == lookup.id
    assert event.after["status"] == "found"
    assert event.after["records"] == lookup.record_count
    assert event.after["sources"] == {s: sum(c["count"] for c in colls.values())
                                      for s, colls in lookup.summary.items()}
    assert event.after["identities"] == sorted(["customer_number", "email", "name", "date_of_birth", "postcode"])
    assert sorted(event.after["manual_tasks"]) == sorted(MANUAL)
    text = json.dumps(event.after)
    assert customer["email"] not in text and customer["last_name"] not in text
    assert_unbroken_chain(audit_trail())


def test_name_and_date_of_birth_identify_only_with_the_postcode(systems, people):
    """DESIGN.md: name + date of birth + postcode together; without the postcode the e-mail alone is used."""
    customer = customer_with_everything(systems)
    case = case_for(customer, people.staff, customer_number=None, postcode=None)
    lookup = run_lookup(case, actor=people.staff, now=NOW)
    assert lookup.identities == {"email": customer["email"]}
    assert lookup.summary[POLICY_ADMIN]["customers"]["count"] == 1


def test_a_person_with_nothing_to_search_by_is_refused_before_anything_is_stored(systems, people):
    case = make_case(actor=people.staff, email=None, customer_number=None, policy_number=None, postcode=None)
    with pytest.raises(InvalidInput, match="nothing to search with"):
        run_lookup(case, actor=people.staff, now=NOW)
    db.session.rollback()
    assert row_count(Lookup) == 0


def test_the_auditor_cannot_run_a_lookup_and_a_closed_case_is_not_searched(systems, people):
    case = stranger_case(people.staff)
    with pytest.raises(NotAllowed):
        run_lookup(case, actor=people.auditor, now=NOW)
    lifecycle.withdraw(case, how="letter of 25 November", actor=people.staff, now=NOW)
    with pytest.raises(RuleViolation):
        run_lookup(case, actor=people.staff, now=NOW)
    db.session.rollback()
    assert row_count(Lookup) == 0


def test_manual_sources_become_tasks_once_per_case(systems, people):
    customer = customer_with_everything(systems)
    case = case_for(customer, people.staff)
    first = run_lookup(case, actor=people.staff, now=NOW)
    db.session.commit()
    second = run_lookup(case, actor=people.staff, now=LATER)
    db.session.commit()

    tasks = db.session.scalars(sa.select(CaseTask).where(CaseTask.case_id == case.id).order_by(CaseTask.id)).all()
    assert len(tasks) == 3
    assert set(first.manual_tasks) == MANUAL and second.manual_tasks == first.manual_tasks
    titles = sorted(t.title for t in tasks)
    assert titles[0].startswith("Check Focus Feedback (processor): Send Focus Feedback the e-mail address")
    # The mail house is a processor the statement names only as a recipient: the data map declares it.
    assert titles[1].startswith("Check Mail house (processor): Send the mail house the customer number")
    assert titles[2].startswith("Check Paper archive: Look up the customer's file by customer number")
    assert all(len(t) <= 300 for t in titles)
    assert len(events("task.added")) == 3


def test_manual_tasks_are_made_by_the_first_lookup_that_succeeds(ctx, harmony, people, monkeypatch):
    case = stranger_case(people.staff)
    monkeypatch.setitem(ctx.config, "DEMO_SYSTEMS_URL", "sqlite:////nonexistent/harmony.sqlite3")
    assert run_lookup(case, actor=people.staff, now=NOW).status is LookupStatus.FAILED
    assert row_count(CaseTask) == 0
    monkeypatch.setitem(ctx.config, "DEMO_SYSTEMS_URL", harmony)
    assert set(run_lookup(case, actor=people.staff, now=LATER).manual_tasks) == MANUAL
    assert row_count(CaseTask) == len(MANUAL)


# -- confirming or rejecting the match --------------------------------------------------------------------

@pytest.fixture
def found(systems, people) -> Lookup:
    case = case_for(customer_with_everything(systems), people.staff)
    lookup = run_lookup(case, actor=people.staff, now=NOW)
    db.session.commit()
    return lookup


def test_staff_confirm_the_match_and_it_is_audited(found, people):
    assert found.match == "pending"
    confirm_match(found, actor=people.staff, now=LATER)
    db.session.commit()

    db.session.expire_all()
    assert (found.confirmed_at, found.confirmed_by_id, found.match) == (LATER, people.staff.id, "confirmed")
    [event] = events("lookup.confirmed")
    assert event.after == {"lookup_id": found.id, "records": found.record_count}
    with pytest.raises(RuleViolation, match="already judged"):
        reject_match(found, reason="late doubts", actor=people.manager, now=LATER)


def test_staff_reject_the_match_with_a_reason_and_it_is_audited(found, people):
    with pytest.raises(InvalidInput):
        reject_match(found, reason="  ", actor=people.staff, now=LATER)
    reject_match(found, reason="Same name, different date of birth on the letter", actor=people.staff, now=LATER)
    db.session.commit()

    db.session.expire_all()
    assert found.match == "rejected" and found.rejected_by_id == people.staff.id
    [event] = events("lookup.rejected")
    assert event.after["reason"] == "Same name, different date of birth on the letter"
    with pytest.raises(RuleViolation):
        confirm_match(found, actor=people.staff, now=LATER)


def test_only_a_person_with_write_access_judges_the_newest_lookup(found, people):
    with pytest.raises(NotAllowed):
        confirm_match(found, actor=people.auditor, now=LATER)
    with pytest.raises(NotAllowed):
        confirm_match(found, actor=None, now=LATER)  # a job cannot vouch that records are this person's
    newer = run_lookup(found.case, actor=people.staff, now=LATER)
    db.session.commit()
    with pytest.raises(RuleViolation, match="newer search"):
        confirm_match(found, actor=people.staff, now=LATER)
    confirm_match(newer, actor=people.manager, now=LATER)
    db.session.commit()
    assert events("lookup.confirmed")[0].after["lookup_id"] == newer.id


# -- legal holds ------------------------------------------------------------------------------------------

def test_only_a_privacy_manager_places_a_hold_and_gives_a_reason(systems, people):
    case = stranger_case(people.staff)
    for actor in (people.staff, people.auditor, None):
        with pytest.raises(NotAllowed):
            holds.place_hold(subject=case.subject, reason="Claim in court", actor=actor, now=NOW, case=case)
    for reason in ("", "   "):
        with pytest.raises(InvalidInput):
            holds.place_hold(subject=case.subject, reason=reason, actor=people.manager, now=NOW, case=case)
    with pytest.raises(InvalidInput):
        holds.place_hold(reason="no target", actor=people.manager, now=NOW)
    db.session.rollback()
    assert row_count(LegalHold) == 0

    hold = holds.place_hold(subject=case.subject, reason="Claim in court, Rechtbank Rotterdam C/10/123",
                            actor=people.manager, now=NOW, case=case)
    db.session.commit()
    assert (hold.subject_id, hold.placed_by_id, hold.is_active) == (case.subject_id, people.manager.id, True)
    [event] = events("hold.placed")
    assert event.case_id == case.id and event.after["reason"].startswith("Claim in court")
    with pytest.raises(RuleViolation, match="already under a legal hold"):
        holds.place_hold(subject=case.subject, reason="again", actor=people.manager, now=LATER, case=case)


def test_a_hold_is_released_by_a_privacy_manager_with_a_reason(systems, people):
    case = stranger_case(people.staff)
    hold = holds.place_hold(subject=case.subject, reason="Dispute about claim 2026-0042", actor=people.manager,
                            now=NOW, case=case)
    db.session.commit()
    with pytest.raises(NotAllowed):
        holds.release_hold(hold, reason="settled", actor=people.staff, now=LATER)
    with pytest.raises(InvalidInput):
        holds.release_hold(hold, reason="", actor=people.manager, now=LATER)
    holds.release_hold(hold, reason="Settled out of court on 20 November", actor=people.manager, now=LATER)
    db.session.commit()

    db.session.expire_all()
    assert (hold.is_active, hold.released_by_id, hold.release_reason) == (
        False, people.manager.id, "Settled out of court on 20 November")
    [event] = events("hold.released")
    assert event.before["reason"] == "Dispute about claim 2026-0042"
    assert event.after == {"release_reason": "Settled out of court on 20 November"}
    with pytest.raises(RuleViolation):
        holds.release_hold(hold, reason="twice", actor=people.manager, now=LATER)
    # Released, the subject can be held again.
    holds.place_hold(subject=case.subject, reason="New claim", actor=people.manager, now=LATER, case=case)


def test_a_hold_release_is_recorded_on_the_case_it_was_released_from(systems, people):
    first = stranger_case(people.staff)
    hold = holds.place_hold(subject=first.subject, reason="Dispute", actor=people.manager, now=NOW, case=first)
    other = make_case(actor=people.staff, name="Other Person", email="other@example.nl", customer_number="7")
    holds.release_hold(hold, reason="Settled", actor=people.manager, now=LATER, case=other)
    db.session.commit()
    [event] = events("hold.released")
    assert event.case_id == other.id


def test_the_erasure_guard_keeps_every_held_record(found, people):
    case = found.case
    invoice, other = [holds.RecordRef.of(r) for r in found.records if r.collection == "invoices"][:2]
    stranger = stranger_case(people.staff)
    assert holds.active_hold_for(invoice, case.subject_id) is None
    holds.refuse_if_held(invoice, case.subject_id)  # nothing held: no objection

    # A hold on one record keeps that record only, whoever's erasure reaches it.
    on_record = holds.place_hold(record=invoice, reason="Invoice disputed in court", actor=people.manager,
                                 now=NOW, case=case)
    db.session.commit()
    assert holds.active_hold_for(invoice, case.subject_id) == on_record
    assert holds.active_hold_for(holds.RecordRef(invoice.source, invoice.collection, dict(invoice.primary_key)),
                                 None) == on_record
    assert holds.active_hold_for(other, case.subject_id) is None
    with pytest.raises(holds.RecordHeld, match="Invoice disputed in court"):
        holds.refuse_if_held(invoice, case.subject_id)

    # A hold on the subject keeps all of their records, and no one else's.
    on_subject = holds.place_hold(subject=case.subject, reason="Court case", actor=people.manager, now=NOW,
                                  case=case)
    db.session.commit()
    assert holds.active_hold_for(other, case.subject_id) == on_subject
    assert holds.active_hold_for(invoice, case.subject_id) == on_record  # the record's own hold first
    assert holds.active_hold_for(other, stranger.subject_id) is None
    assert holds.active_holds_for([invoice, other], case.subject_id) == [on_record, on_subject]

    holds.release_hold(on_record, reason="Judgment final", actor=people.manager, now=LATER)
    holds.release_hold(on_subject, reason="Judgment final", actor=people.manager, now=LATER)
    db.session.commit()
    assert holds.active_hold_for(invoice, case.subject_id) is None
    holds.refuse_if_held(invoice, case.subject_id)


def test_a_record_hold_matches_keys_as_json_gives_them_back():
    a = holds.RecordRef("s", "c", {"day": date(2026, 1, 2), "n": 1})
    assert a.primary_key == {"day": "2026-01-02", "n": 1}
    assert a.same_as("s", "c", {"n": 1, "day": "2026-01-02"})
    assert not a.same_as("s", "c", {"n": 2, "day": "2026-01-02"})
    assert not a.same_as("s", "other", {"n": 1, "day": "2026-01-02"})


# -- the database refuses inconsistent rows ---------------------------------------------------------------

def _insert_hold(conn, **overrides):
    values = {"subject_id": None, "source": None, "collection": None, "primary_key": None, "reason": "Court",
              "placed_by_id": None, "placed_at": NOW, "released_at": None, "released_by_id": None,
              "release_reason": None}
    values.update(overrides)
    conn.execute(sa.text(
        "INSERT INTO legal_holds (subject_id, source, collection, primary_key, reason, placed_by_id, placed_at, "
        "released_at, released_by_id, release_reason) VALUES (:subject_id, :source, :collection, :primary_key, "
        ":reason, :placed_by_id, :placed_at, :released_at, :released_by_id, :release_reason)"), values)


@pytest.mark.parametrize(("overrides", "constraint"), [
    ({"subject_id": "S", "source": "harmony_policy_admin", "collection": "invoices", "primary_key": '{"id": 1}'},
     "ck_legal_holds_one_target"),
    ({"subject_id": None}, "ck_legal_holds_one_target"),
    ({"subject_id": None, "source": "harmony_policy_admin", "collection": "invoices"}, "ck_legal_holds_one_target"),
    ({"reason": "  "}, "ck_legal_holds_reason_given"),
    ({"released_at": LATER}, "ck_legal_holds_release_complete"),
    ({"released_at": LATER, "released_by_id": "U"}, "ck_legal_holds_release_complete"),
    ({"released_by_id": "U", "release_reason": "done"}, "ck_legal_holds_release_complete"),
    ({"released_at": NOW - timedelta(days=1), "released_by_id": "U", "release_reason": "done"},
     "ck_legal_holds_released_after_placed"),
], ids=["both-targets", "no-target", "incomplete-record", "blank-reason", "released-by-nobody",
        "released-without-reason", "reason-without-release", "released-before-placed"])
def test_the_database_refuses_inconsistent_holds(ctx, people, overrides, constraint):
    case = make_case(actor=people.staff)
    user_id, subject_id = people.manager.id, case.subject_id
    fill = {k: (subject_id if v == "S" else user_id if v == "U" else v) for k, v in overrides.items()}
    with db.engine.connect() as conn:
        trans = conn.begin()
        _insert_hold(conn, subject_id=subject_id, placed_by_id=user_id)  # a valid row goes in
        _insert_hold(conn, source="harmony_policy_admin", collection="invoices", primary_key='{"id": 1}',
                     placed_by_id=user_id, released_at=LATER, released_by_id=user_id, release_reason="Settled")
        with pytest.raises(sa.exc.IntegrityError) as refused:
            _insert_hold(conn, **{"subject_id": subject_id, "placed_by_id": user_id, **fill})
        trans.rollback()
    assert constraint in str(refused.value)


@pytest.mark.parametrize(("sets", "constraint"), [
    ("status = 'failed'", "ck_lookups_failed_has_error"),
    ("error = 'x'", "ck_lookups_failed_has_error"),
    ("confirmed_at = run_at", "ck_lookups_confirmed_complete"),
    ("rejected_at = run_at, rejected_by_id = run_by_id", "ck_lookups_rejected_complete"),
    ("confirmed_at = run_at, confirmed_by_id = run_by_id, rejected_at = run_at, rejected_by_id = run_by_id, "
     "rejection_reason = 'x'", "ck_lookups_confirmed_or_rejected"),
    ("status = 'nothing_found', confirmed_at = run_at, confirmed_by_id = run_by_id",
     "ck_lookups_decided_only_when_found"),
    ("status = 'lost'", "ck_lookups_lookup_status"),
], ids=["failed-without-error", "error-without-failure", "confirmed-by-nobody", "rejected-without-reason",
        "confirmed-and-rejected", "confirmed-nothing", "unknown-status"])
def test_the_database_refuses_inconsistent_lookups(found, sets, constraint):
    with db.engine.connect() as conn:
        with pytest.raises(sa.exc.IntegrityError) as refused:
            conn.execute(sa.text(f"UPDATE lookups SET {sets} WHERE id = :id"), {"id": found.id})  # noqa: S608
        conn.rollback()
    assert constraint in str(refused.value)


# -- several workers at once (PostgreSQL) -----------------------------------------------------------------

def test_concurrent_lookups_of_one_case_create_the_manual_tasks_once(backend_app, harmony, monkeypatch):
    if backend_app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("concurrent writers are tested on PostgreSQL")
    from tests.integration.test_concurrency import run_together

    monkeypatch.setitem(backend_app.config, "DEMO_SYSTEMS_URL", harmony)
    with backend_app.app_context():
        staff = make_user(Role.STAFF)
        staff_id, case_id = staff.id, case_for(customer_with_everything(harmony), staff).id

    def work(_i):
        lookup = run_lookup(db.session.get(Case, case_id), actor=db.session.get(User, staff_id), now=NOW)
        db.session.commit()
        return lookup.manual_tasks

    results = run_together(backend_app, work, threads=4)
    with backend_app.app_context():
        assert row_count(CaseTask) == len(MANUAL) and row_count(Lookup) == 4
        assert all(r == results[0] for r in results) and set(results[0]) == MANUAL
        assert_unbroken_chain(audit_trail())


@pytest.mark.parametrize(("sets", "constraint"), [
    ("match = 'confirmed'", "ck_lookups_verdict_agrees"),
    ("match = 'none'", "ck_lookups_verdict_agrees"),
    ("confirmed_at = run_at, confirmed_by_id = run_by_id", "ck_lookups_verdict_agrees"),
    ("match = 'maybe'", "ck_lookups_lookup_match"),
], ids=["confirmed-by-nobody", "found-but-nothing-to-judge", "confirmed-but-pending", "unknown-verdict"])
def test_the_match_verdict_agrees_with_who_judged(found, sets, constraint):
    """The verdict is a stored enum (issue 12, item 6) kept in step with confirmed_at and rejected_at."""
    assert found.match is LookupMatch.PENDING
    with db.engine.connect() as conn:
        with pytest.raises(sa.exc.IntegrityError) as refused:
            conn.execute(sa.text(f"UPDATE lookups SET {sets} WHERE id = :id"), {"id": found.id})  # noqa: S608
        conn.rollback()
    assert constraint in str(refused.value)
