"""Automated decisions (Art. 22; issue 18, item 2, and issue 14, item 9), on SQLite and PostgreSQL.

An Art. 22 request is a right of its own: what the subject asks about which decision is recorded, then the
human review (who, when, upheld or changed, a text for the subject, the subject's view considered); the case
cannot be completed before both. The controller's facts about automated decisions are a setting in nl, en
and fr: the access letter and the Art. 22 letter, read back from the PDF in each language, state them — the
decisions declared, or truthfully that there are none.
"""

from __future__ import annotations

import io
import os
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import time_machine
import yaml
from pypdf import PdfReader

from dsr.audit.models import AuditEvent
from dsr.automated.models import AutomatedDecisionRequest, ReviewOutcome
from dsr.automated.operations import open_obligations, record_request, record_review
from dsr.cases import lifecycle
from dsr.cases.errors import InvalidInput, NotAllowed, RuleViolation
from dsr.cases.obligations import open_obligations as all_open_obligations
from dsr.domain.enums import Right, Role
from dsr.extensions import db
from dsr.letters.kinds import LetterKind, LetterLanguage
from dsr.letters.operations import render_letter
from dsr.texts.models import TextPurpose
from dsr.texts.operations import MissingSubjectText, save_text
from tests.conftest import NOW, TODAY
from tests.factories import make_case, make_user
from tests.harmony_support import People, customer_with_everything, private_copy, subject_of

DECLARED = {
    "intro": {"nl": "Harmony neemt het volgende besluit uitsluitend geautomatiseerd (artikel 22 AVG).",
              "en": "Harmony takes the following decision by automated means only (Article 22 GDPR).",
              "fr": "Harmony prend la décision suivante de manière exclusivement automatisée (article 22 du RGPD)."},
    "decisions": [{
        "id": "claim_fast_track",
        "name": {"nl": "Snelle afhandeling van kleine schadeclaims", "en": "Fast-track handling of small claims",
                 "fr": "Traitement accéléré des petits sinistres"},
        "logic": {"nl": "Een claim onder 500 euro wordt getoetst aan de polisvoorwaarden en de schadehistorie.",
                  "en": "A claim under 500 euros is checked against the policy terms and the claims history.",
                  "fr": "Un sinistre de moins de 500 euros est comparé aux conditions et à l'historique."},
        "consequences": {"nl": "De claim wordt direct betaald of naar een schadebehandelaar gestuurd.",
                         "en": "The claim is paid at once or passed to a claims handler.",
                         "fr": "Le sinistre est payé aussitôt ou transmis à un gestionnaire."},
    }],
}
SAYS_DECLARED = {
    "nl": ["Snelle afhandeling van kleine schadeclaims", "getoetst aan de polisvoorwaarden",
           "direct betaald of naar een schadebehandelaar"],
    "en": ["Fast-track handling of small claims", "checked against the policy terms", "paid at once or passed"],
    "fr": ["Traitement accéléré des petits sinistres", "comparé aux conditions", "payé aussitôt ou transmis"],
}
SAYS_NONE = {"nl": "Harmony neemt geen besluiten over u die uitsluitend berusten op geautomatiseerde verwerking",
             "en": "Harmony takes no decisions about you based solely on automated processing",
             "fr": "Harmony ne prend à votre sujet aucune décision fondée exclusivement sur un traitement automatisé"}


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def people(ctx) -> People:
    return People()


@pytest.fixture
def declared(ctx, tmp_path, monkeypatch) -> Path:
    """The controller declares one automated decision (the setting DSR_AUTOMATED_DECISIONS_FILE)."""
    path = tmp_path / "automated.yml"
    path.write_text(yaml.safe_dump(DECLARED, allow_unicode=True), encoding="utf-8")
    monkeypatch.setitem(ctx.config, "AUTOMATED_DECISIONS_FILE", str(path))
    return path


def art22_case(people, **kw):
    case = make_case(actor=people.staff, rights=(Right.AUTOMATED_DECISION,), commit=False, **kw)
    lifecycle.start_work(case, actor=people.staff, now=NOW)
    return case


def ask(case, people, **kw):
    args = {"decision_id": None, "described": "My claim of 3 November was refused within a second.",
            "decided_on": date(2026, 11, 3), "human_intervention": True, "express_view": False, "contest": True,
            "subject_view": "", **kw}
    # What the letter quotes is written for the subject (issue 14.2): here the same words in every language.
    args.setdefault("subject_texts", dict.fromkeys(("nl", "en", "fr"), args["described"]))
    if args["express_view"]:
        args.setdefault("view_texts", dict.fromkeys(("nl", "en", "fr"), args["subject_view"]))
    return record_request(case, **args, actor=people.staff, now=NOW, today=TODAY)


def review(case, people, **kw):
    args = {"reviewer": "M. de Vries, senior claims handler", "reviewed_on": TODAY, "outcome": "upheld",
            "outcome_text": "The damage is wear and tear, which the policy does not cover.",
            "view_considered": False, **kw}
    args.setdefault("subject_texts", dict.fromkeys(("nl", "en", "fr"), args["outcome_text"]))
    args.setdefault("reviewer_texts", {"nl": "M. de Vries, senior schadebehandelaar",
                                       "en": "M. de Vries, senior claims handler",
                                       "fr": "M. de Vries, gestionnaire de sinistres senior"})
    return record_review(case, **args, actor=people.manager, now=NOW, today=TODAY)


def letter_text(case, kind: LetterKind, language: str, name: str) -> str:
    rendered = render_letter(case, kind, LetterLanguage(language), today=TODAY)
    if os.environ.get("DSR_LETTERS_PDF_DIR"):  # to look at before a release (pdftoppm -png)
        folder = Path(os.environ["DSR_LETTERS_PDF_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}-{language}.pdf").write_bytes(rendered.pdf)
    return " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(rendered.pdf)).pages)


# -- the request and the review ------------------------------------------------------------------------------

def test_the_request_and_the_review_are_recorded_with_their_audit_events(people):
    case = art22_case(people)
    asked = ask(case, people, express_view=True, subject_view="The pipe burst; it was not wear.")
    assert asked.asks == ["human_intervention", "express_view", "contest"] and not asked.reviewed
    assert [o.key for o in open_obligations(case)] == ["automated.review_missing"]
    with pytest.raises(RuleViolation, match="must have considered it"):
        review(case, people)  # the subject gave a view: the review must have weighed it
    done = review(case, people, outcome=ReviewOutcome.CHANGED, outcome_text="The claim is paid.",
                  view_considered=True)
    db.session.commit()
    stored = db.session.get(AutomatedDecisionRequest, done.id)
    assert (stored.reviewer, stored.reviewed_on, stored.outcome, stored.view_considered) == (
        "M. de Vries, senior claims handler", TODAY, ReviewOutcome.CHANGED, True)
    assert open_obligations(case) == []
    actions = db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.action.like("automated.%")).order_by(AuditEvent.id)).all()
    assert actions == ["automated.request_recorded", "automated.review_recorded"]
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "automated.review_recorded")).one()
    assert event.after["outcome"] == "changed" and event.after["reviewer"] == "M. de Vries, senior claims handler"
    with pytest.raises(RuleViolation, match="can no longer be changed"):
        ask(case, people)


def test_completion_waits_for_the_request_and_the_review(people):
    case = art22_case(people)
    db.session.commit()
    assert "automated.request_missing" in [o.key for o in all_open_obligations(case, today=TODAY)]
    with pytest.raises(RuleViolation):
        lifecycle.complete(case, decision="Reviewed", actor=people.manager, now=NOW,
                           override_reason="A manager may not skip the human review")
    db.session.rollback()
    ask(case, people)
    review(case, people)
    keys = [o.key for o in all_open_obligations(case, today=TODAY)]
    assert not [k for k in keys if k.startswith("automated.")]
    assert "lookup" not in keys  # an Art. 22 request needs no search of Harmony's systems


def test_a_declared_decision_is_named_and_an_unknown_one_refused(people, declared):
    case = art22_case(people)
    with pytest.raises(InvalidInput) as refused:
        ask(case, people, decision_id="credit_score")
    assert refused.value.field == "decision_id"
    assert ask(case, people, decision_id="claim_fast_track").decision_id == "claim_fast_track"


@pytest.mark.parametrize(("kw", "field"), [
    ({"described": "   "}, "described"),
    ({"described": "x" * 4001}, "described"),
    ({"human_intervention": False, "contest": False}, "human_intervention"),
    ({"express_view": True, "subject_view": " "}, "subject_view"),
    ({"decided_on": TODAY + timedelta(days=1)}, "decided_on"),
])
def test_bad_input_for_the_request_is_refused_and_nothing_is_stored(people, kw, field):
    case = art22_case(people)
    with pytest.raises(InvalidInput) as refused:
        ask(case, people, **kw)
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AutomatedDecisionRequest)) == 0


@pytest.mark.parametrize(("kw", "field"), [
    ({"reviewer": " "}, "reviewer"),
    ({"outcome": "maybe"}, "outcome"),
    ({"outcome_text": ""}, "outcome_text"),
    ({"reviewed_on": None}, "reviewed_on"),
    ({"reviewed_on": TODAY + timedelta(days=1)}, "reviewed_on"),
    ({"reviewed_on": date(2026, 11, 19)}, "reviewed_on"),
])
def test_bad_input_for_the_review_is_refused(people, kw, field):
    case = art22_case(people)
    ask(case, people)
    with pytest.raises(InvalidInput) as refused:
        review(case, people, **kw)
    assert refused.value.field == field


def test_only_an_art22_case_by_a_writer(people):
    access = make_case(actor=people.staff, rights=(Right.ACCESS,), commit=False)
    with pytest.raises(RuleViolation, match="Art. 22"):
        ask(access, people)
    case = art22_case(people)
    with pytest.raises(NotAllowed):
        record_request(case, decision_id=None, described="x", decided_on=None, human_intervention=True,
                       express_view=False, contest=False, actor=make_user(Role.AUDITOR), now=NOW, today=TODAY)


# -- the letters ---------------------------------------------------------------------------------------------

def test_the_letter_waits_for_the_review(people):
    case = art22_case(people)
    ask(case, people)
    with pytest.raises(RuleViolation, match="no human review"):
        render_letter(case, LetterKind.COMPLETION_AUTOMATED, LetterLanguage.EN, today=TODAY)


@pytest.mark.parametrize("language", ["nl", "en", "fr"])
def test_with_none_declared_the_art22_letter_says_so_truthfully(people, language):
    case = art22_case(people)
    ask(case, people)
    review(case, people)
    db.session.commit()
    text = letter_text(case, LetterKind.COMPLETION_AUTOMATED, language, "automated-none")
    assert SAYS_NONE[language] in text
    assert {"nl": "het besluit blijft staan", "en": "the decision stands",
            "fr": "la décision est maintenue"}[language] in text
    assert "wear and tear" in text and {"nl": "M. de Vries, senior schadebehandelaar",
                                        "en": "M. de Vries, senior claims handler",
                                        "fr": "M. de Vries, gestionnaire de sinistres senior"}[language] in text
    assert "Autoriteit Persoonsgegevens" in text  # the routes to the AP and the court (Art. 12(4))
    assert {"nl": "artikel 35", "en": "Article 35(1)", "fr": "article 35"}[language] in text
    for phrase in SAYS_DECLARED[language]:
        assert phrase not in text


@pytest.mark.parametrize("language", ["nl", "en", "fr"])
def test_a_declared_decision_is_explained_in_the_art22_letter(people, declared, language):
    case = art22_case(people)
    ask(case, people, decision_id="claim_fast_track", express_view=True, subject_view="The pipe burst.")
    review(case, people, outcome="changed", outcome_text="The claim is paid.", view_considered=True)
    db.session.commit()
    text = letter_text(case, LetterKind.COMPLETION_AUTOMATED, language, "automated-declared")
    for phrase in SAYS_DECLARED[language]:
        assert phrase in text, phrase
    assert SAYS_NONE[language] not in text
    assert "The pipe burst." in text and "The claim is paid." in text
    assert {"nl": "het besluit is gewijzigd", "en": "the decision has been changed",
            "fr": "la décision a été modifiée"}[language] in text


def test_the_letter_quotes_the_texts_for_the_subject_in_its_language_never_the_staff_record(people):
    """Issue 14.2: the decision, the view and the outcome as written for the subject in the letter's language;
    what staff recorded (English shorthand) is never printed, and a language without its text is refused."""
    case = art22_case(people)
    ask(case, people, described="Web claim 88-17 auto-rejected by rule WD-3", express_view=True,
        subject_view="Says pipe burst", subject_texts={"nl": "De afwijzing van uw schademelding van 3 november."},
        view_texts={"nl": "De leiding is gesprongen; het was geen slijtage."})
    review(case, people, reviewer="Mark dV (sr CH)", outcome="changed", outcome_text="Overruled WD-3, pay out",
           view_considered=True, subject_texts={"nl": "Uw schade wordt vergoed."},
           reviewer_texts={"nl": "M. de Vries, senior schadebehandelaar"})
    db.session.commit()
    text = letter_text(case, LetterKind.COMPLETION_AUTOMATED, "nl", "automated-texts")
    for quoted in ("De afwijzing van uw schademelding van 3 november.",
                   "De leiding is gesprongen; het was geen slijtage.", "Uw schade wordt vergoed.",
                   "M. de Vries, senior schadebehandelaar"):
        assert quoted in text
    for note in ("WD-3", "Says pipe burst", "pay out", "Mark dV", "sr CH"):
        assert note not in text
    with pytest.raises(MissingSubjectText, match="The automated decision the request is about has no English"):
        render_letter(case, LetterKind.COMPLETION_AUTOMATED, LetterLanguage.EN, today=TODAY)
    for purpose in (TextPurpose.AUTOMATED_DECISION, TextPurpose.AUTOMATED_VIEW):
        save_text(case, purpose, 0, "en", "Written in English.", actor=people.staff, now=NOW)
    with pytest.raises(MissingSubjectText, match="The reviewer of the automated decision, as the letter names "
                                                 "them has no English"):
        render_letter(case, LetterKind.COMPLETION_AUTOMATED, LetterLanguage.EN, today=TODAY)
    save_text(case, TextPurpose.AUTOMATED_REVIEWER, 0, "en", "M. de Vries, senior claims handler",
              actor=people.staff, now=NOW)
    with pytest.raises(MissingSubjectText, match="The outcome of the review of the automated decision has no "
                                                 "English"):
        render_letter(case, LetterKind.COMPLETION_AUTOMATED, LetterLanguage.EN, today=TODAY)


@pytest.fixture
def systems(ctx, harmony, tmp_path, monkeypatch) -> str:
    monkeypatch.setitem(ctx.config, "DEMO_SYSTEMS_URL", url := private_copy(harmony, tmp_path))
    return url


def accessed(people, systems):
    from dsr.fulfilment.lookup_ops import confirm_match, run_lookup
    from dsr.tasks.models import CaseTask
    from dsr.tasks.operations import complete_task

    case = make_case(actor=people.staff, rights=(Right.ACCESS,), commit=False,
                     **subject_of(customer_with_everything(systems)))
    lifecycle.start_work(case, actor=people.staff, now=NOW)
    lookup = run_lookup(case, actor=people.staff, now=NOW)
    confirm_match(lookup, actor=people.staff, now=NOW + timedelta(minutes=1))
    for task in db.session.scalars(sa.select(CaseTask).where(CaseTask.case_id == case.id)):
        complete_task(task, actor=people.staff, now=NOW)
    # Other people's data in the copy is reviewed before the letter goes (Art. 15(4)): all released here.
    from dsr.fulfilment.models import RedactionChoice
    from dsr.fulfilment.redaction_ops import decide, pending

    for value in pending(lookup):
        decide(case, lookup, source=value.source, collection=value.collection, key=value.key, field=value.field,
               choice=RedactionChoice.RELEASE, ground=None, actor=people.manager, now=NOW)
    db.session.commit()
    return case


@pytest.mark.parametrize("language", ["nl", "en", "fr"])
def test_the_access_letter_states_the_controllers_declaration(people, systems, declared, language):
    case = accessed(people, systems)
    text = letter_text(case, LetterKind.COMPLETION_ACCESS, language, "access-declared")
    assert DECLARED["intro"][language] in text
    for phrase in SAYS_DECLARED[language]:
        assert phrase in text, phrase
    assert SAYS_NONE[language] not in text
    declared.write_text(yaml.safe_dump({"decisions": [], "none": {
        "nl": "Geen enkel besluit wordt geautomatiseerd genomen.", "en": "No decision is automated.",
        "fr": "Aucune décision n'est automatisée."}}, allow_unicode=True), encoding="utf-8")
    text = letter_text(case, LetterKind.COMPLETION_ACCESS, language, "access-none")
    assert {"nl": "Geen enkel besluit wordt geautomatiseerd genomen.", "en": "No decision is automated.",
            "fr": "Aucune décision n'est automatisée."}[language] in text
    for phrase in SAYS_DECLARED[language]:
        assert phrase not in text
