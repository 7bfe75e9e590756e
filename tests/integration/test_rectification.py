"""Rectification (Art. 16) and the recipients' notices (Art. 19; issue 4, item 7) on a small generated demo systems
database, with dsr's own database on SQLite and PostgreSQL. The demo systems are a SQLite file copied per test:
applying a correction changes it. What is expected is read from the demo database with plain SQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from dsr.cases import lifecycle, obligations
from dsr.cases.errors import InvalidInput, NotAllowed, RuleViolation, StaleCase
from dsr.domain.enums import Right, Role, VerificationMethod, VerificationOutcome
from dsr.extensions import db
from dsr.fulfilment.lookup_ops import confirm_match, run_lookup
from dsr.fulfilment.models import FoundRecord, Lookup
from dsr.identity.operations import record_verification
from dsr.notices import operations as notices
from dsr.notices.facts import recipient_facts
from dsr.notices.models import NoticeMethod, NoticeStatus
from dsr.rectification import operations as ops
from dsr.rectification.facts import rectification_facts
from dsr.rectification.models import Correction, CorrectionStatus
from dsr.tasks.models import CaseTask
from tests.factories import make_case
from tests.harmony_support import People, execute, private_copy, rows, subject_of
from tests.integration.conftest import assert_unbroken_chain, audit_trail

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 26)
LATER = NOW + timedelta(minutes=5)
ADMIN, CONTACT, PAPER = "harmony_policy_admin", "harmony_contact_centre", "harmony_paper_archive"
ALWAYS = {"regulators", "hosting", "mail", "legal"}


@pytest.fixture
def systems(ctx, harmony, tmp_path, monkeypatch) -> str:
    """A copy of the demo systems for this test only: a correction changes it."""
    monkeypatch.setitem(ctx.config, "DEMO_SYSTEMS_URL", url := private_copy(harmony, tmp_path))
    return url


@pytest.fixture
def people(ctx) -> People:
    return People(*Role)


def looked_up(people: People, customer: dict | None = None, rights=(Right.RECTIFICATION,), **subject):
    case = make_case(actor=people.staff, rights=rights, **(subject_of(customer) if customer else subject))
    lookup = run_lookup(case, actor=people.staff, now=NOW)
    if lookup.record_count:
        confirm_match(lookup, actor=people.staff, now=NOW)
    db.session.commit()
    return case, lookup


def record(lookup: Lookup, collection: str, source: str = ADMIN) -> FoundRecord:
    return next(f for f in lookup.records if (f.source, f.collection) == (source, collection))


def propose(case, found, field, after, people, **kw):
    correction = ops.propose_correction(case, found, field, after, actor=kw.pop("actor", people.staff), now=NOW,
                                        today=TODAY, **kw)
    db.session.commit()
    return correction


def actions(case) -> list[str]:
    return [e.action for e in audit_trail() if e.case_id == case.id]


# -- proposing and applying -------------------------------------------------------------------------------

def test_a_correction_is_applied_to_the_source_and_read_back(people, customer, systems):
    case, lookup = looked_up(people, customer)
    correction = propose(case, record(lookup, "customers"), "city", "  Rotterdam  ", people, note="Moved in May")
    assert (correction.before_value, correction.after_value, correction.status) == \
        (customer["city"], "Rotterdam", CorrectionStatus.PENDING)
    assert correction.primary_key == {"id": customer["id"]}
    # Proposing reads; it writes nothing to the source.
    assert rows(systems, "SELECT city FROM customers WHERE id = :i", i=customer["id"])[0]["city"] == customer["city"]

    ops.apply_correction(correction, actor=people.staff, now=LATER)
    db.session.commit()
    assert rows(systems, "SELECT city FROM customers WHERE id = :i", i=customer["id"])[0]["city"] == "Rotterdam"
    db.session.expire_all()
    correction = db.session.get(Correction, correction.id)
    assert correction.status is CorrectionStatus.APPLIED and correction.decided_by_id == people.staff.id
    assert correction.decided_at == LATER and "Policy administration" in correction.result
    assert actions(case)[-2:] == ["rectification.proposed", "rectification.applied"]
    applied = next(e for e in audit_trail() if e.action == "rectification.applied")
    assert applied.after["corrections"][0]["before"] == customer["city"]
    assert applied.after["corrections"][0]["after"] == "Rotterdam"
    assert_unbroken_chain(audit_trail())


def test_an_e_mail_correction_is_normalised_and_corrects_the_subject_too(people, customer, systems):
    case, lookup = looked_up(people, customer)
    correction = propose(case, record(lookup, "customers"), "email", "Francis.New@Example.NL", people)
    assert correction.after_value == "Francis.New@example.nl"
    ops.apply_correction(correction, actor=people.staff, now=LATER)
    db.session.commit()
    assert rows(systems, "SELECT email FROM customers WHERE id = :i", i=customer["id"])[0]["email"] == \
        "Francis.New@example.nl"
    db.session.expire_all()
    # dsr knew the person by the old address: its copy is corrected as well, and audited.
    assert case.subject.email == "Francis.New@example.nl"
    event = next(e for e in audit_trail() if e.action == "rectification.subject_corrected")
    assert event.before == {"email": customer["email"]} and event.after["email"] == "Francis.New@example.nl"


def test_a_subject_known_by_another_value_is_left_alone(people, customer, systems):
    case, lookup = looked_up(people, customer)
    case.subject.email = customer["email"].upper().replace("@", "+dsr@")  # wrote from another address
    db.session.commit()
    kept = case.subject.email
    correction = propose(case, record(lookup, "customers"), "email", "new@example.nl", people)
    ops.apply_correction(correction, actor=people.staff, now=LATER)
    db.session.commit()
    db.session.expire_all()
    assert case.subject.email == kept
    assert "rectification.subject_corrected" not in actions(case)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("email", "not an address", "not a valid e-mail address"),
    ("phone", "call me", "not a phone number"),
    ("date_of_birth", "2030-01-01", "between 1900 and today"),
    ("date_of_birth", "5 June 1951", "YYYY-MM-DD"),
    ("city", "   ", "Type the corrected value"),
    ("city", "x" * 121, "at most 120 characters"),
    ("city", "Smith\x00burgh", "control character"),
    ("customer_number", "10000365", "is a key"),
    ("id", "7", "is a key"),
    ("no_such_field", "x", "has no field"),
])
def test_bad_values_are_refused_and_nothing_is_stored(people, customer, field, value, message):
    case, lookup = looked_up(people, customer)
    with pytest.raises(InvalidInput, match=message):
        ops.propose_correction(case, record(lookup, "customers"), field, value, actor=people.staff, now=NOW,
                               today=TODAY)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Correction)) == 0


def test_a_dutch_postcode_is_checked_and_written_as_the_post_writes_it(people, systems):
    dutch = rows(systems, "SELECT * FROM customers WHERE country = 'NL' AND email IS NOT NULL ORDER BY id")[0]
    case, lookup = looked_up(people, dutch)
    found = record(lookup, "customers")
    with pytest.raises(InvalidInput, match="four digits and two letters"):
        ops.propose_correction(case, found, "postcode", "12345", actor=people.staff, now=NOW, today=TODAY)
    db.session.rollback()
    correction = propose(case, found, "postcode", "3011ad", people)
    assert correction.after_value == "3011 AD"


def test_the_unchanged_value_a_twin_and_an_unconfirmed_match_are_refused(people, customer):
    case, lookup = looked_up(people, customer)
    found = record(lookup, "customers")
    with pytest.raises(InvalidInput, match="already holds this value"):
        ops.propose_correction(case, found, "city", customer["city"], actor=people.staff, now=NOW, today=TODAY)
    db.session.rollback()
    propose(case, found, "city", "Leiden", people)
    with pytest.raises(RuleViolation, match="already waiting"):
        ops.propose_correction(case, found, "city", "Delft", actor=people.staff, now=NOW, today=TODAY)
    db.session.rollback()

    other, unconfirmed = looked_up(people, customer)
    unconfirmed.confirmed_at = unconfirmed.confirmed_by_id = None
    db.session.commit()
    with pytest.raises(RuleViolation, match="Confirm"):
        ops.propose_correction(other, record(unconfirmed, "customers"), "city", "Delft", actor=people.staff,
                               now=NOW, today=TODAY)
    db.session.rollback()
    with pytest.raises(InvalidInput, match="Unknown record"):
        ops.propose_correction(other, found, "city", "Delft", actor=people.staff, now=NOW, today=TODAY)


def test_only_a_rectification_case_takes_corrections_and_the_auditor_none(people, customer):
    case, lookup = looked_up(people, customer, rights=(Right.ACCESS,))
    with pytest.raises(RuleViolation, match="does not request rectification"):
        ops.propose_correction(case, record(lookup, "customers"), "city", "Delft", actor=people.staff, now=NOW,
                               today=TODAY)
    db.session.rollback()
    case, lookup = looked_up(people, customer)
    with pytest.raises(NotAllowed):
        ops.propose_correction(case, record(lookup, "customers"), "city", "Delft", actor=people.auditor, now=NOW,
                               today=TODAY)


def test_a_stale_page_is_refused_by_the_case_version(people, customer):
    case, lookup = looked_up(people, customer)
    version = case.version
    correction = propose(case, record(lookup, "customers"), "city", "Delft", people, expected_version=version)
    assert case.version > version
    with pytest.raises(StaleCase):
        ops.apply_correction(correction, actor=people.staff, now=LATER, expected_version=version)


# -- refusing, stale values, one transaction per source ---------------------------------------------------

def test_only_the_privacy_manager_refuses_and_says_why(people, customer, systems):
    case, lookup = looked_up(people, customer)
    correction = propose(case, record(lookup, "customers"), "gender", "F", people)
    with pytest.raises(NotAllowed):
        ops.refuse_correction(correction, reason="Accurate", actor=people.staff, now=LATER)
    with pytest.raises(InvalidInput, match="reason"):
        ops.refuse_correction(correction, reason="  ", actor=people.manager, now=LATER)
    ops.refuse_correction(correction, reason="The data is accurate: the passport copy shows M.",
                          actor=people.manager, now=LATER)
    db.session.commit()
    assert correction.status is CorrectionStatus.REFUSED and correction.decided_by_id == people.manager.id
    assert rows(systems, "SELECT gender FROM customers WHERE id = :i", i=customer["id"])[0]["gender"] == \
        customer["gender"]
    with pytest.raises(RuleViolation, match="already decided"):
        ops.apply_correction(correction, actor=people.staff, now=LATER)
    event = next(e for e in audit_trail() if e.action == "rectification.refused")
    assert event.after["reason"] == "The data is accurate: the passport copy shows M."


def test_a_value_changed_since_the_proposal_is_not_overwritten(people, customer, systems):
    case, lookup = looked_up(people, customer)
    correction = propose(case, record(lookup, "customers"), "city", "Delft", people)
    execute(systems, "UPDATE customers SET city = 'Utrecht' WHERE id = :i", i=customer["id"])
    with pytest.raises(RuleViolation, match="no longer holds the value recorded before") as refused:
        ops.apply_correction(correction, actor=people.staff, now=LATER)
    assert "Utrecht" in str(refused.value) and customer["city"] in str(refused.value)
    db.session.rollback()
    assert rows(systems, "SELECT city FROM customers WHERE id = :i", i=customer["id"])[0]["city"] == "Utrecht"
    assert db.session.get(Correction, correction.id).status is CorrectionStatus.PENDING
    assert "rectification.applied" not in actions(case)
    # Cancelled and proposed again from the current value, it goes through.
    ops.cancel_correction(correction, actor=people.staff, now=LATER)
    again = propose(case, record(lookup, "customers"), "city", "Delft", people)
    assert again.before_value == "Utrecht"
    ops.apply_correction(again, actor=people.staff, now=LATER)
    db.session.commit()
    assert rows(systems, "SELECT city FROM customers WHERE id = :i", i=customer["id"])[0]["city"] == "Delft"
    assert "rectification.cancelled" in actions(case)


def test_applying_again_after_the_source_already_holds_the_value_does_not_fail(people, customer, systems):
    case, lookup = looked_up(people, customer)
    correction = propose(case, record(lookup, "customers"), "city", "Delft", people)
    execute(systems, "UPDATE customers SET city = 'Delft' WHERE id = :i", i=customer["id"])  # a retried write
    ops.apply_correction(correction, actor=people.staff, now=LATER)
    db.session.commit()
    assert correction.status is CorrectionStatus.APPLIED and "already held" in correction.result


def test_apply_all_uses_one_transaction_per_source(people, customer, systems):
    case, lookup = looked_up(people, customer)
    city = propose(case, record(lookup, "customers"), "city", "Delft", people)
    policy = record(lookup, "policies")
    holder = propose(case, policy, "account_holder", "F. Dodd-Smith", people)
    invitation = propose(case, record(lookup, "survey_invitations", CONTACT), "language", "nl", people)
    execute(systems, "UPDATE policies SET account_holder = 'Someone Else' WHERE id = :i",
            i=policy.primary_key["id"])
    outcome = ops.apply_corrections(case, [city, holder, invitation], actor=people.staff, now=LATER)
    db.session.commit()
    assert [c.id for c in outcome.applied] == [invitation.id] and set(outcome.failed) == {ADMIN}
    # The policy administration's transaction was rolled back as a whole: the city was not written either.
    assert rows(systems, "SELECT city FROM customers WHERE id = :i", i=customer["id"])[0]["city"] == customer["city"]
    assert rows(systems, "SELECT language FROM survey_invitations WHERE id = :i",
                i=invitation.primary_key["id"])[0]["language"] == "nl"
    assert (city.status, holder.status, invitation.status) == \
        (CorrectionStatus.PENDING, CorrectionStatus.PENDING, CorrectionStatus.APPLIED)
    event = next(e for e in audit_trail() if e.action == "rectification.applied")
    assert list(event.after["failed"]) == [ADMIN]


# -- manual sources ---------------------------------------------------------------------------------------

def test_a_correction_in_the_paper_archive_is_a_task_marked_applied_by_hand(people, customer):
    case, _lookup = looked_up(people, customer)
    correction = ops.propose_manual_correction(case, PAPER, "correspondence", "sender_address",
                                               "Coolsingel 40, 3011 AD Rotterdam", before="Old street 1",
                                               actor=people.staff, now=NOW, today=TODAY)
    db.session.commit()
    task = db.session.get(CaseTask, correction.task_id)
    assert task.is_open and "Sender's address" in task.title and "Paper archive" in task.title
    assert correction.primary_key is None and correction.before_value == "Old street 1"
    with pytest.raises(RuleViolation, match="made by a person"):
        ops.apply_correction(correction, actor=people.staff, now=LATER)
    db.session.rollback()
    with pytest.raises(InvalidInput, match="Say what was corrected"):
        ops.mark_applied(correction, note="", actor=people.staff, now=LATER)
    db.session.rollback()
    ops.mark_applied(correction, note="Letter of 3 May corrected in the file by J. Smit", actor=people.staff,
                     now=LATER)
    db.session.commit()
    assert correction.status is CorrectionStatus.APPLIED and correction.result.startswith("Letter of 3 May")
    assert not db.session.get(CaseTask, task.id).is_open
    assert actions(case)[-4:] == ["task.added", "rectification.proposed", "task.completed",
                                  "rectification.applied"]


def test_a_manual_correction_needs_a_manual_source_and_a_correctable_field(people, customer):
    case, _lookup = looked_up(people, customer)
    with pytest.raises(InvalidInput, match="a person searches"):
        ops.propose_manual_correction(case, ADMIN, "customers", "city", "Delft", actor=people.staff, now=NOW,
                                      today=TODAY)
    with pytest.raises(InvalidInput, match="is a key"):
        ops.propose_manual_correction(case, PAPER, "correspondence", "customer_number", "1", actor=people.staff,
                                      now=NOW, today=TODAY)


# -- recipients (Art. 19) ---------------------------------------------------------------------------------

def expected_recipients(url: str, customer: dict) -> set[str]:
    """From the statement's applies_to, by what the demo database holds for the customer (plain SQL)."""
    cid, number = customer["id"], customer["customer_number"]
    has = lambda sql, **p: bool(rows(url, sql, **p))  # noqa: E731
    policies = has("SELECT 1 FROM policies WHERE customer_id = :c", c=cid)
    claims = has("SELECT 1 FROM claims k JOIN policies p ON p.id = k.policy_id WHERE p.customer_id = :c", c=cid)
    money = has("SELECT 1 FROM invoices WHERE customer_id = :c", c=cid) or \
        has("SELECT 1 FROM incidents WHERE customer_id = :c", c=cid)
    surveys = has("SELECT 1 FROM survey_invitations WHERE customer_number = :n", n=number)
    return ALWAYS | ({"risk_bearer", "partners"} if policies else set()) | ({"partners", "repairers"} if claims
                                                                            else set()) \
        | ({"collection_agencies"} if money else set()) | ({"focus_feedback"} if surveys else set())


def test_the_recipients_follow_from_the_statement_and_the_subjects_records(people, customer, systems):
    case, _lookup = looked_up(people, customer)
    listed = notices.list_recipients(case, actor=people.staff, now=NOW)
    db.session.commit()
    assert {n.recipient_id for n in listed} == expected_recipients(systems, customer)
    assert all(n.status is NoticeStatus.PENDING for n in listed)
    assert "recipients.listed" in actions(case)
    # Listing again keeps what was ticked and adds nothing new.
    notices.record_notified(listed[0], notified_on=TODAY, method=NoticeMethod.EMAIL, actor=people.staff,
                            now=LATER, today=TODAY)
    again = notices.list_recipients(case, actor=people.staff, now=LATER)
    assert len(again) == len(listed) and again[0].status is NoticeStatus.NOTIFIED


def test_a_prospect_with_only_a_subscription_has_only_the_recipients_named_always(people, systems):
    prospect = rows(systems, """SELECT m.email FROM marketing_subscriptions m WHERE m.customer_id IS NULL
        AND NOT EXISTS (SELECT 1 FROM customers c WHERE lower(c.email) = lower(m.email))
        AND NOT EXISTS (SELECT 1 FROM survey_invitations s WHERE lower(s.email) = lower(m.email))
        AND (SELECT count(*) FROM marketing_subscriptions o WHERE lower(o.email) = lower(m.email)) = 1
        ORDER BY m.id LIMIT 1""")[0]
    case, lookup = looked_up(people, name="A Prospect", email=prospect["email"], customer_number=None,
                             policy_number=None, date_of_birth=None, postcode=None)
    assert {f.collection for f in lookup.records} == {"marketing_subscriptions"}
    listed = notices.list_recipients(case, actor=people.staff, now=NOW)
    assert {n.recipient_id for n in listed} == ALWAYS


def test_recipients_need_a_confirmed_match_and_a_rectification_or_erasure_case(people, customer):
    case, lookup = looked_up(people, customer, rights=(Right.ACCESS,))
    with pytest.raises(RuleViolation, match="rectification, an erasure or a restriction; this case requests none"):
        notices.list_recipients(case, actor=people.staff, now=NOW)
    db.session.rollback()
    case = make_case(actor=people.staff, rights=(Right.ERASURE,), **subject_of(customer))
    with pytest.raises(RuleViolation, match="Search"):
        notices.list_recipients(case, actor=people.staff, now=NOW)
    db.session.rollback()
    run_lookup(case, actor=people.staff, now=NOW)
    with pytest.raises(RuleViolation, match="Confirm"):
        notices.list_recipients(case, actor=people.staff, now=NOW)


def test_notified_and_not_notifiable_each_with_what_the_law_asks(people, customer):
    case, _lookup = looked_up(people, customer, rights=(Right.ERASURE,))
    listed = {n.recipient_id: n for n in notices.list_recipients(case, actor=people.staff, now=NOW)}
    db.session.commit()
    mail, hosting = listed["mail"], listed["hosting"]
    with pytest.raises(InvalidInput, match="future"):
        notices.record_notified(mail, notified_on=TODAY + timedelta(days=1), method=NoticeMethod.EMAIL,
                                actor=people.staff, now=LATER, today=TODAY)
    with pytest.raises(InvalidInput, match="before the request arrived"):
        notices.record_notified(mail, notified_on=date(2026, 1, 1), method=NoticeMethod.EMAIL,
                                actor=people.staff, now=LATER, today=TODAY)
    notices.record_notified(mail, notified_on=TODAY, method=NoticeMethod.POST, note="Letter ref. 12",
                            actor=people.staff, now=LATER, today=TODAY)
    with pytest.raises(RuleViolation, match="already recorded"):
        notices.record_notified(mail, notified_on=TODAY, method=NoticeMethod.POST, actor=people.staff,
                                now=LATER, today=TODAY)
    with pytest.raises(NotAllowed):
        notices.record_not_notifiable(hosting, reason="Too much work", actor=people.staff, now=LATER)
    with pytest.raises(InvalidInput, match="Say why"):
        notices.record_not_notifiable(hosting, reason=" ", actor=people.manager, now=LATER)
    notices.record_not_notifiable(hosting, reason="The hosting provider holds backups only; they expire in 30 "
                                  "days (disproportionate effort)", actor=people.manager, now=LATER)
    db.session.commit()
    facts = {f["id"]: f for f in recipient_facts(case)}
    assert facts["mail"] == {"id": "mail", "notice_id": facts["mail"]["notice_id"], "name": facts["mail"]["name"],
                             "status": "notified", "notified_on": "2026-11-26", "reason": None}
    assert set(facts["mail"]["name"]) == {"nl", "en", "fr"}
    assert facts["hosting"]["status"] == "not_notifiable" and "backups" in facts["hosting"]["reason"]
    assert {f["status"] for i, f in facts.items() if i not in ("mail", "hosting")} == {"pending"}
    assert [a for a in actions(case) if a.startswith("recipient")] == [
        "recipients.listed", "recipient.notified", "recipient.not_notifiable"]


# -- what stays open, and completing the case -------------------------------------------------------------

def awaiting_approval(case, people) -> None:
    lifecycle.start_identity_check(case, actor=people.staff, now=NOW)
    record_verification(case, method=VerificationMethod.POLICY_RECORDS, outcome=VerificationOutcome.VERIFIED,
                        note="", actor=people.staff, now=NOW)
    lifecycle.submit_for_approval(case, actor=people.staff, now=NOW)
    db.session.commit()


def test_a_rectification_case_completes_only_once_nothing_is_open(people, customer):
    case, lookup = looked_up(people, customer)
    assert [o for o in obligations.open_obligations(case, exclude=["checklist"]) if "No correction" in o]
    correction = propose(case, record(lookup, "customers"), "city", "Delft", people)
    assert obligations.open_obligations(case, exclude=["checklist"]) == ["1 correction is neither applied nor refused (Art. 16)."]
    awaiting_approval(case, people)
    with pytest.raises(RuleViolation, match="cannot be completed yet: 1 correction"):
        lifecycle.complete(case, decision="Corrected", actor=people.manager, now=LATER)
    db.session.rollback()
    with pytest.raises(NotAllowed):
        lifecycle.complete(case, decision="Corrected", actor=people.staff, now=LATER)
    db.session.rollback()

    ops.apply_correction(correction, actor=people.staff, now=LATER)
    assert obligations.open_obligations(case, exclude=["checklist"]) == ["The recipients who received the data are not listed yet (Art. 19)."]
    listed = notices.list_recipients(case, actor=people.staff, now=LATER)
    assert "recipients are not yet ticked" in obligations.open_obligations(case, exclude=["checklist"])[0]
    for notice in listed[1:]:
        notices.record_notified(notice, notified_on=TODAY, method=NoticeMethod.EMAIL, actor=people.staff,
                                now=LATER, today=TODAY)
    notices.record_not_notifiable(listed[0], reason="Gone out of business", actor=people.manager, now=LATER)
    db.session.commit()
    assert obligations.open_obligations(case, exclude=["checklist"]) == []
    lifecycle.complete(case, decision="Corrected and recipients told", actor=people.manager, now=LATER, override_reason="The work is not what this test is about")
    db.session.commit()
    assert case.state.value == "completed"
    facts = rectification_facts(case)
    assert facts["corrections"] == [{
        "id": correction.id, "source": ADMIN, "source_name": "Policy administration", "collection": "customers", "field": "city",
        "before": customer["city"], "after": "Delft", "status": "applied", "reason": None,
        "decided_on": "2026-11-26"}]
    assert len(facts["recipients"]) == len(listed)


def test_refused_corrections_owe_no_notices_and_an_access_case_nothing(people, customer):
    case, lookup = looked_up(people, customer)
    correction = propose(case, record(lookup, "customers"), "city", "Delft", people)
    ops.refuse_correction(correction, reason="Accurate", actor=people.manager, now=LATER)
    db.session.commit()
    assert obligations.open_obligations(case, exclude=["checklist"]) == []  # nothing rectified: nobody to tell (Art. 19)
    assert rectification_facts(case)["corrections"][0]["status"] == "refused"
    access, _lookup = looked_up(people, customer, rights=(Right.ACCESS,))
    assert obligations.open_obligations(access, exclude=["checklist"]) == []


def test_a_correction_already_written_to_the_source_cannot_be_refused_or_cancelled(people, customer, systems):
    """An apply whose dsr transaction failed after the source took the value leaves the correction
    'waiting' while Harmony's system holds the new value: refusing or cancelling it would make the case
    file contradict the source, so both are refused and applying again records it."""
    case, lookup = looked_up(people, customer)
    correction = propose(case, record(lookup, "customers"), "city", "Delft", people)
    db.session.commit()
    execute(systems, "UPDATE customers SET city = 'Delft' WHERE id = :i", i=customer["id"])
    with pytest.raises(RuleViolation, match="already holds the corrected value"):
        ops.refuse_correction(correction, reason="Not proven.", actor=people.manager, now=NOW)
    db.session.rollback()
    with pytest.raises(RuleViolation, match="already holds the corrected value"):
        ops.cancel_correction(correction, actor=people.staff, now=NOW)
    db.session.rollback()
    assert correction.is_pending


def test_once_something_is_corrected_only_the_recipients_of_that_data_are_owed_a_notice(people, customer):
    """Art. 19: the recipients of the data that was rectified. A corrected survey invitation concerns Focus
    Feedback (and those always named), not the risk bearer or the repairers of the subject's policies; a
    correction applied later that reaches more recipients asks for the list again."""
    case, lookup = looked_up(people, customer)
    before = {r.id for r in notices.relevant_recipients(case)}
    assert {"risk_bearer", "focus_feedback"} <= before  # what the records found would concern
    invitation = propose(case, record(lookup, "survey_invitations", CONTACT), "language", "nl", people)
    ops.apply_corrections(case, [invitation], actor=people.staff, now=LATER)
    db.session.commit()
    listed = {n.recipient_id for n in notices.list_recipients(case, actor=people.staff, now=LATER)}
    db.session.commit()
    assert "focus_feedback" in listed and not listed & {"risk_bearer", "partners", "repairers"}

    holder = propose(case, record(lookup, "policies"), "account_holder", "F. Dodd-Smith", people)
    ops.apply_corrections(case, [holder], actor=people.staff, now=LATER)
    db.session.commit()
    assert any("list the recipients again" in p for p in obligations.open_obligations(case, exclude=["checklist"]))
    again = {n.recipient_id for n in notices.list_recipients(case, actor=people.staff, now=LATER)}
    assert "risk_bearer" in again and not any("again" in p for p in obligations.open_obligations(case, exclude=["checklist"]))
