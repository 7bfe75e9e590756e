"""Restriction of processing (Art. 18; issue 18, item 1) on a generated demo systems database, with dsr's own
database on SQLite and PostgreSQL: the grounds, the markers set and cleared in Harmony's systems (read back
with plain SQL), the tasks for a person, the Art. 19 notices, and lifting only after the subject was told.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from dsr.cases import lifecycle, obligations
from dsr.cases.errors import InvalidInput, NotAllowed, RuleViolation
from dsr.domain.enums import Right, Role
from dsr.domain.restriction import RestrictionGround
from dsr.extensions import db
from dsr.fulfilment.lookup_ops import confirm_match, run_lookup
from dsr.letters.kinds import LetterKind, LetterLanguage
from dsr.notices import operations as notices
from dsr.notices.models import NoticeMethod
from dsr.restriction import operations as ops
from dsr.restriction.models import RestrictedStatus, RestrictMethod
from dsr.tasks.models import CaseTask
from dsr.texts.models import TextPurpose
from dsr.texts.operations import MissingSubjectText, save_text
from tests.factories import make_case
from tests.harmony_support import People, private_copy, rows, subject_of
from tests.integration.conftest import assert_unbroken_chain, audit_trail
from tests.integration.test_letters import pdf_text
from tests.storage_support import path_for

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 26)
LATER = NOW + timedelta(hours=1)
ADMIN, PAPER = "harmony_policy_admin", "harmony_paper_archive"


@pytest.fixture
def systems(ctx, harmony, tmp_path, monkeypatch) -> str:
    """A copy of the demo systems for this test only: restricting changes it."""
    monkeypatch.setitem(ctx.config, "DEMO_SYSTEMS_URL", url := private_copy(harmony, tmp_path))
    return url


@pytest.fixture
def people(ctx) -> People:
    return People(*Role)


def restriction_case(people, customer, rights=(Right.RESTRICTION,), confirm=True):
    case = make_case(actor=people.staff, rights=rights, **subject_of(customer))
    lifecycle.start_work(case, actor=people.staff, now=NOW)
    lookup = run_lookup(case, actor=people.staff, now=NOW)
    if confirm:
        confirm_match(lookup, actor=people.staff, now=NOW)
    db.session.commit()
    return case, lookup


def markers(url: str, customer: dict) -> dict[str, list]:
    cid = customer["id"]
    return {
        "customers": [r["restricted_since"] for r in rows(url, "SELECT restricted_since FROM customers WHERE id = :c",
                                                          c=cid)],
        "policies": [r["restricted"] for r in rows(url, "SELECT restricted FROM policies WHERE customer_id = :c",
                                                   c=cid)],
        "claims": [r["restricted_since"] for r in rows(url, "SELECT restricted_since FROM claims WHERE policy_id IN "
                                                            "(SELECT id FROM policies WHERE customer_id = :c)", c=cid)],
    }


def actions(case) -> list[str]:
    return [e.action for e in audit_trail() if e.case_id == case.id]


def restricted(people, customer, ground=RestrictionGround.LEGAL_CLAIMS):
    case, lookup = restriction_case(people, customer)
    ops.record_ground(case, ground, explanation="I need my claim file for my court case against the repairer.",
                      actor=people.staff, now=NOW)
    outcome = ops.apply_restriction(case, actor=people.staff, now=NOW, today=TODAY)
    db.session.commit()
    return case, lookup, outcome


# -- grounds --------------------------------------------------------------------------------------------------

def test_grounds_a_and_d_name_the_case_whose_rectification_or_objection_is_the_period(people, customer, systems):
    case, _lookup = restriction_case(people, customer, rights=(Right.RESTRICTION, Right.RECTIFICATION))
    other = make_case(actor=people.staff, rights=(Right.ACCESS,))
    with pytest.raises(InvalidInput, match="Name the case that asks for"):
        ops.record_ground(case, RestrictionGround.ACCURACY_CONTESTED, actor=people.staff, now=NOW)
    with pytest.raises(InvalidInput, match="does not ask for"):
        ops.record_ground(case, RestrictionGround.ACCURACY_CONTESTED, linked_reference=other.reference,
                          actor=people.staff, now=NOW)
    with pytest.raises(InvalidInput, match="There is no case"):
        ops.record_ground(case, RestrictionGround.OBJECTION_PENDING, linked_reference="DSR-2026-99999",
                          actor=people.staff, now=NOW)
    with pytest.raises(InvalidInput, match="Only grounds"):
        ops.record_ground(case, RestrictionGround.LEGAL_CLAIMS, linked_reference=case.reference,
                          actor=people.staff, now=NOW)
    # This case asks for rectification too: (a) is linked to itself, by its reference in any case.
    ground = ops.record_ground(case, "accuracy_contested", linked_reference=case.reference.lower(),
                               explanation="My date of birth is wrong.", actor=people.staff, now=NOW)
    db.session.commit()
    assert (ground.ground, ground.linked_case_id, ground.explanation) == \
        (RestrictionGround.ACCURACY_CONTESTED, case.id, "My date of birth is wrong.")
    with pytest.raises(RuleViolation, match="already recorded"):
        ops.record_ground(case, RestrictionGround.ACCURACY_CONTESTED, linked_reference=case.reference,
                          actor=people.staff, now=NOW)
    with pytest.raises(NotAllowed):
        ops.record_ground(case, RestrictionGround.UNLAWFUL_PROCESSING, actor=people.auditor, now=NOW)
    event = next(e for e in audit_trail() if e.action == "restriction.ground_recorded")
    assert event.after["article"] == "18(1)(a)" and event.after["linked_case"] == case.reference


def test_a_case_that_does_not_request_restriction_records_no_ground(people, customer, systems):
    case, _lookup = restriction_case(people, customer, rights=(Right.ACCESS,))
    with pytest.raises(RuleViolation, match="does not request restriction"):
        ops.record_ground(case, RestrictionGround.LEGAL_CLAIMS, actor=people.staff, now=NOW)


# -- restricting ----------------------------------------------------------------------------------------------

def test_restricting_sets_the_markers_the_data_map_declares_and_gives_a_person_the_rest(people, customer, systems):
    before = markers(systems, customer)
    assert all(v is None or v in (0, False) for vs in before.values() for v in vs)
    case, lookup, outcome = restricted(people, customer)

    after = markers(systems, customer)
    assert after["customers"] and all(v is not None for v in after["customers"])
    assert after["policies"] and all(v in (1, True) for v in after["policies"])
    assert all(str(v) == TODAY.isoformat() for v in after["claims"])  # a date marker: the day
    records = ops.records_of(case)
    marked = [r for r in records if r.method is RestrictMethod.MARKER]
    found_marked = [f for f in lookup.records if (f.source, f.collection) in
                    {(ADMIN, "customers"), (ADMIN, "policies"), (ADMIN, "claims")}]
    assert len(marked) == len(found_marked) == len(outcome.done)
    assert all(r.status is RestrictedStatus.RESTRICTED and r.result.endswith("set in Policy administration")
               for r in marked)
    # Every other record found waits for a person, and so does each collection of a source a person searches
    # (the paper archive, the processor): one task per collection.
    from flask import current_app

    from dsr.datamap.sources import load_sources

    sources = load_sources(current_app.config)
    manual = sum(len(sources[k].collections) for k in lookup.manual_tasks)
    by_person = [r for r in records if r.method is RestrictMethod.PERSON]
    assert len(by_person) == len(lookup.records) - len(found_marked) + manual
    assert any(r.source == PAPER and r.primary_key is None for r in by_person)
    assert all(r.status is RestrictedStatus.PENDING and r.task.is_open for r in by_person)
    assert len({r.task_id for r in by_person}) == len({(r.source, r.collection) for r in by_person})
    assert "Restrict (Art. 18)" in by_person[0].task.title
    event = next(e for e in audit_trail() if e.action == "restriction.applied")
    assert len(event.after["records"]) == len(marked) and len(event.after["tasks"]) == len(by_person)
    assert customer["last_name"] not in str(event.after)  # references, never values
    with pytest.raises(RuleViolation, match="already restricted"):
        ops.apply_restriction(case, actor=people.staff, now=LATER, today=TODAY)


def test_restricting_waits_for_a_ground_and_a_confirmed_search(people, customer, systems):
    case, lookup = restriction_case(people, customer, confirm=False)
    with pytest.raises(RuleViolation, match="Record the ground"):
        ops.apply_restriction(case, actor=people.staff, now=NOW, today=TODAY)
    ops.record_ground(case, RestrictionGround.UNLAWFUL_PROCESSING, actor=people.staff, now=NOW)
    with pytest.raises(RuleViolation, match="Confirm that the records found"):
        ops.apply_restriction(case, actor=people.staff, now=NOW, today=TODAY)
    assert all(v is None for v in markers(systems, customer)["customers"])


def test_a_source_that_fails_is_rolled_back_and_named_and_restricting_again_finishes(
        people, customer, systems, monkeypatch, ctx):
    case, _lookup = restriction_case(people, customer)
    ops.record_ground(case, RestrictionGround.LEGAL_CLAIMS, actor=people.staff, now=NOW)
    monkeypatch.setitem(ctx.config, "DEMO_SYSTEMS_URL", "sqlite:////nonexistent/dir/harmony.sqlite3")
    outcome = ops.apply_restriction(case, actor=people.staff, now=NOW, today=TODAY)
    db.session.commit()
    assert ADMIN in outcome.failed and not outcome.done
    monkeypatch.setitem(ctx.config, "DEMO_SYSTEMS_URL", systems)
    again = ops.apply_restriction(case, actor=people.staff, now=LATER, today=TODAY)
    db.session.commit()
    assert again.done and not again.failed and not again.tasks  # the tasks were given the first time
    assert all(v is not None for v in markers(systems, customer)["customers"])


def test_the_case_completes_only_when_restricted_and_the_recipients_told(people, customer, systems):
    case, _lookup = restriction_case(people, customer)
    keys = [o.key for o in obligations.open_obligations(case, exclude=["checklist"])]
    assert "restriction.no_ground" in keys and "restriction.not_applied" in keys
    ops.record_ground(case, RestrictionGround.LEGAL_CLAIMS, actor=people.staff, now=NOW)
    ops.apply_restriction(case, actor=people.staff, now=NOW, today=TODAY)
    db.session.commit()
    keys = [o.key for o in obligations.open_obligations(case, exclude=["checklist"])]
    assert keys == ["notices.recipients_not_listed", "restriction.person_pending"]
    for record in ops.records_of(case):
        if record.status is RestrictedStatus.PENDING:
            ops.mark_restricted(record, note="Flagged 'restricted' on the file in the archive room.",
                                actor=people.staff, now=LATER)
    assert all(t.done_at is not None for t in db.session.execute(sa.select(CaseTask).where(
        CaseTask.case_id == case.id, CaseTask.title.like("Restrict%"))).scalars())
    # Art. 19: the recipients of the restricted records (the risk bearer of the policies) are listed, ticked.
    listed = notices.list_recipients(case, actor=people.staff, now=LATER)
    assert "risk_bearer" in {n.recipient_id for n in listed}
    lifecycle.submit_for_approval(case, actor=people.staff, now=LATER)
    with pytest.raises(RuleViolation):
        lifecycle.complete(case, decision="Restricted", actor=people.manager, now=LATER)
    for notice in listed:
        notices.record_notified(notice, notified_on=TODAY, method=NoticeMethod.EMAIL, actor=people.staff,
                                now=LATER, today=TODAY)
    assert obligations.open_obligations(case, exclude=["checklist"]) == []
    lifecycle.complete(case, decision="Restricted", actor=people.manager, now=LATER,
                       override_reason="The completion letter is not what this test is about")
    db.session.commit()
    assert_unbroken_chain(audit_trail())


# -- lifting (Art. 18(3)) -------------------------------------------------------------------------------------

def _issue_notice(case, people, now):
    from dsr.letters.operations import issue_now

    return issue_now(case, LetterKind.RESTRICTION_LIFTING_NOTICE, LetterLanguage.NL, actor=people.manager, now=now)


def test_lifting_waits_for_the_letter_that_tells_the_subject_then_clears_the_markers(people, customer, systems):
    from dsr.casefiles.operations import kept_by
    from dsr.domain.casefile_retention import KeptBy

    case, _lookup, outcome = restricted(people, customer)
    assert KeptBy.RESTRICTION in kept_by(case)  # dsr's own retention keeps the file while it is in force
    by_hand = next(r for r in outcome.tasks if r.source == PAPER)
    ops.mark_restricted(by_hand, note="Restricted flag on the archive file.", actor=people.staff, now=NOW)
    db.session.commit()
    with pytest.raises(NotAllowed):
        ops.decide_lift(case, reason="Your claim was settled.", actor=people.staff, now=LATER)
    with pytest.raises(RuleViolation, match="Decide to lift"):
        ops.lift_restriction(case, actor=people.manager, now=LATER, today=TODAY)
    ops.decide_lift(case, reason="Court case vs repairer closed, per lawyer", actor=people.manager, now=LATER,
                    subject_texts={"en": "Your court case against the repairer has ended."})
    db.session.commit()
    with pytest.raises(RuleViolation, match="Tell the subject before"):
        ops.lift_restriction(case, actor=people.manager, now=LATER, today=TODAY)
    assert all(v is not None for v in markers(systems, customer)["customers"])
    # The notice quotes the reason as written for the subject in its own language, never the staff's note
    # (issue 14.2): a Dutch notice with only an English text is refused, naming the field.
    with pytest.raises(MissingSubjectText, match="The reason for lifting the restriction has no Dutch text"):
        _issue_notice(case, people, LATER + timedelta(seconds=30))
    db.session.rollback()
    save_text(case, TextPurpose.RESTRICTION_LIFT, 0, "nl", "Uw rechtszaak tegen de hersteller is beëindigd.",
              actor=people.manager, now=LATER)
    db.session.commit()

    letter = _issue_notice(case, people, LATER + timedelta(minutes=1))
    text = " ".join(pdf_text(path_for(letter).read_bytes()).split())
    assert "Uw rechtszaak tegen de hersteller is beëindigd." in text
    assert "per lawyer" not in text and "has ended" not in text
    assert letter.kind is LetterKind.RESTRICTION_LIFTING_NOTICE
    outcome = ops.lift_restriction(case, actor=people.manager, now=LATER + timedelta(minutes=2), today=TODAY)
    db.session.commit()
    after = markers(systems, customer)
    assert all(v is None for v in after["customers"] + after["claims"])
    assert all(v in (0, False) for v in after["policies"])
    assert ops.lift_of(case).lifted_at is not None
    marked = [r for r in ops.records_of(case) if r.method is RestrictMethod.MARKER]
    assert all(r.status is RestrictedStatus.LIFTED and "cleared" in r.lift_result for r in marked)
    # A record a person had restricted gets a task to lift it; one never restricted needs nothing.
    assert outcome.tasks and all(r.status is RestrictedStatus.LIFT_PENDING and r.source == PAPER
                                 for r in outcome.tasks)
    never = [r for r in ops.records_of(case) if r.method is RestrictMethod.PERSON and r.source != PAPER]
    assert all(r.status is RestrictedStatus.LIFTED and r.lift_result == "nothing to lift" and r.task.done_at
               for r in never)
    record = outcome.tasks[0]
    with pytest.raises(InvalidInput):
        ops.mark_lifted(record, note="  ", actor=people.staff, now=LATER + timedelta(minutes=3))
    ops.mark_lifted(record, note="Flag removed from the archive file.", actor=people.staff,
                    now=LATER + timedelta(minutes=3))
    assert record.status is RestrictedStatus.LIFTED and record.lift_task.done_at is not None
    assert KeptBy.RESTRICTION not in kept_by(case)
    assert actions(case).count("restriction.lifted") == 2
    assert "restriction.lift_decided" in actions(case)


def test_the_notice_must_come_after_the_decision_to_lift(people, customer, systems):
    case, _lookup, _outcome = restricted(people, customer)
    with pytest.raises(RuleViolation, match="no decision to lift"):
        _issue_notice(case, people, LATER)


def test_a_restriction_under_a_or_d_stays_while_the_rectification_is_undecided(people, customer, systems):
    from dsr.rectification import operations as rectification

    case, lookup = restriction_case(people, customer, rights=(Right.RESTRICTION, Right.RECTIFICATION))
    ops.record_ground(case, RestrictionGround.ACCURACY_CONTESTED, linked_reference=case.reference,
                      actor=people.staff, now=NOW)
    ops.apply_restriction(case, actor=people.staff, now=NOW, today=TODAY)
    found = next(f for f in lookup.records if (f.source, f.collection) == (ADMIN, "customers"))
    correction = rectification.propose_correction(case, found, "city", "Delft", actor=people.staff, now=NOW,
                                                  today=TODAY)
    db.session.commit()
    with pytest.raises(RuleViolation, match="still being verified"):
        ops.decide_lift(case, reason="Verified.", actor=people.manager, now=LATER)
    rectification.refuse_correction(correction, reason="Our records show Rotterdam.", actor=people.manager,
                                     now=LATER)
    ops.decide_lift(case, reason="We verified your address: it is accurate.", actor=people.manager, now=LATER)
    db.session.commit()
    assert ops.lift_of(case).reason == "We verified your address: it is accurate."


def test_a_marker_another_case_still_needs_is_kept_when_one_case_lifts(people, customer, systems):
    first, _lookup, _outcome = restricted(people, customer)
    second, _lookup2, _outcome2 = restricted(people, customer, ground=RestrictionGround.UNLAWFUL_PROCESSING)
    assert all(r.result.endswith("already set in Policy administration")
               for r in ops.records_of(second) if r.method is RestrictMethod.MARKER)
    ops.decide_lift(first, reason="Court case ended.", actor=people.manager, now=LATER,
                    subject_texts={"nl": "Uw rechtszaak is beëindigd."})
    db.session.commit()
    _issue_notice(first, people, LATER + timedelta(minutes=1))
    ops.lift_restriction(first, actor=people.manager, now=LATER + timedelta(minutes=2), today=TODAY)
    db.session.commit()
    assert all(v is not None for v in markers(systems, customer)["customers"])
    kept = [r for r in ops.records_of(first) if r.method is RestrictMethod.MARKER]
    assert all(f"still restricted for {second.reference}" in r.lift_result for r in kept)


@pytest.mark.parametrize(("lang", "words"), [
    ("en", "found none, so there was nothing to restrict"),
    ("nl", "niets gevonden; er was dus niets te beperken"),
    ("fr", "il n'y avait donc rien à limiter"),
])
def test_nothing_found_is_answered_as_such_in_each_language(people, systems, lang, words):
    import io

    from pypdf import PdfReader

    from dsr.letters.operations import render_letter

    case = make_case(actor=people.staff, rights=(Right.RESTRICTION,), name="Nobody Atall",
                     email="nobody@nowhere.example", customer_number=None, policy_number=None)
    lifecycle.start_work(case, actor=people.staff, now=NOW)
    assert run_lookup(case, actor=people.staff, now=NOW).status.value == "nothing_found"
    ops.record_ground(case, RestrictionGround.UNLAWFUL_PROCESSING, actor=people.staff, now=NOW)
    db.session.commit()
    assert [o.key for o in obligations.open_obligations(case, exclude=["checklist"])] == []
    made = render_letter(case, LetterKind.COMPLETION_RESTRICTION, LetterLanguage(lang), today=TODAY)
    text = " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(made.pdf)).pages)
    assert words in text.replace("\u202f", " ").replace("’", "'")
    assert "18(3)" not in text and "18, derde lid" not in text  # nothing restricted: nothing to lift


@pytest.mark.parametrize(("lang", "words"), [
    ("en", "restriction of the processing of your personal data (Article 18 GDPR)"),
    ("nl", "beperking van de verwerking van uw persoonsgegevens (artikel 18 AVG)"),
    ("fr", "la limitation du traitement de vos données personnelles (article 18 du RGPD)"),
])
@pytest.mark.parametrize("kind", [LetterKind.ACKNOWLEDGEMENT, LetterKind.REFUSAL])
def test_the_acknowledgement_and_a_refusal_name_the_right_in_each_language(people, lang, words, kind):
    import io

    from pypdf import PdfReader

    from dsr.domain.enums import RefusalGround
    from dsr.letters.operations import render_letter

    case = make_case(actor=people.staff, rights=(Right.RESTRICTION,))
    if kind is LetterKind.REFUSAL:
        from dsr.texts.models import TextPurpose
        from dsr.texts.operations import save_text

        lifecycle.refuse(case, ground=RefusalGround.MANIFESTLY_UNFOUNDED, justification="Your data is not held by "
                         "us.", actor=people.manager, now=NOW)
        # A letter quotes the justification only as a text for the subject in its own language (issue 14.2).
        save_text(case, TextPurpose.REFUSAL, 0, lang, {"en": "We hold no data about you.",
                                                       "nl": "Wij hebben geen gegevens over u.",
                                                       "fr": "Nous ne détenons aucune donnée vous concernant."}[lang],
                  actor=people.manager, now=NOW)
    db.session.commit()
    made = render_letter(case, kind, LetterLanguage(lang), today=TODAY)
    text = " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(made.pdf)).pages)
    assert words in text.replace("\u202f", " ").replace("’", "'")
