"""The work a team did on the demo's cases, through the operations the pages call (issue 16, item 14).

A demo case is moved only as far as its work was done: a case awaiting approval has its search confirmed,
the paper archive and the processors searched and the work of each right prepared (an erasure plan built,
corrections made, an objection or an Art. 22 request recorded, records restricted); a completed case has
the privacy manager's decisions too (the copy's other people's data reviewed, the plan approved by the
other manager and executed, the paper file destroyed, the recipients told, the objection decided, the
automated decision reviewed) and the answer letter issued in the subject's language. Nothing is completed
over the checklist: a step the rules refuse fails the demo, as it would fail the team.

Each step carries the moment it was done (``Steps.at``): a day after receipt, never after ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from dsr.auth.models import User
from dsr.cases import lifecycle
from dsr.cases.models import Case
from dsr.domain.enums import LookupMatch, RedactionChoice, Right
from dsr.extensions import db
from dsr.fulfilment.lookup_ops import confirm_match, latest_lookup, run_lookup
from dsr.letters.kinds import LetterKind, LetterLanguage
from dsr.letters.operations import issue_now
from dsr.tasks.models import CaseTask
from dsr.tasks.operations import complete_task
from dsr.texts.models import TextPurpose
from dsr.texts.operations import save_text, slots
from dsr.timeutil import local_date

COMPLETION_LETTERS = {
    Right.ACCESS: LetterKind.COMPLETION_ACCESS, Right.PORTABILITY: LetterKind.COMPLETION_PORTABILITY,
    Right.RECTIFICATION: LetterKind.COMPLETION_RECTIFICATION, Right.RESTRICTION: LetterKind.COMPLETION_RESTRICTION,
    Right.OBJECTION: LetterKind.COMPLETION_OBJECTION, Right.AUTOMATED_DECISION: LetterKind.COMPLETION_AUTOMATED,
    Right.ERASURE: LetterKind.COMPLETION_ERASURE,
}
# The order a team answers a letter asking for several rights: the copy before the erasure (it reads the records).
ANSWER_ORDER = [Right.ACCESS, Right.PORTABILITY, Right.RECTIFICATION, Right.RESTRICTION, Right.OBJECTION,
                Right.AUTOMATED_DECISION, Right.ERASURE]
OBJECTED_PROCESSING = "harmony_contact_centre/survey_invitations"
PAPER_ARCHIVE = "harmony_paper_archive"

# What staff wrote for the subject, in the subject's language (issue 14.2): the letters quote these.
SUBJECT_TEXTS = {
    TextPurpose.INFORMATION_REQUEST: {
        "nl": "Uw polisnummer of klantnummer, zodat wij zeker weten dat wij de gegevens van de juiste persoon vinden.",
        "en": "Your policy number or customer number, so that we are sure to find the right person's data.",
        "fr": "Votre numéro de police ou de client, afin que nous trouvions avec certitude les données de la "
              "bonne personne."},
    TextPurpose.EXTENSION: {
        "nl": "Uw verzoek betreft gegevens in meerdere systemen, bij onze verwerkers en in ons papieren archief.",
        "en": "Your request concerns data in several systems, at our processors and in our paper archive.",
        "fr": "Votre demande porte sur des données dans plusieurs systèmes, chez nos sous-traitants et dans nos "
              "archives papier."},
    TextPurpose.PARTIAL_REFUSAL: {
        "nl": "De wet verplicht ons facturen en betalingen zeven jaar na afloop van het boekjaar te bewaren; die "
              "hebben wij niet gewist. Alle andere gegevens zijn gewist.",
        "en": "The law obliges us to keep invoices and payments for seven years after the end of the book year; "
              "we have not erased those. All your other data have been erased.",
        "fr": "La loi nous oblige à conserver les factures et paiements sept ans après la fin de l'exercice ; nous "
              "ne les avons pas effacés. Toutes vos autres données ont été effacées."},
    TextPurpose.REFUSAL: {
        "nl": "Wij konden niet vaststellen dat u de persoon bent wiens gegevens u vraagt: u hebt niet geantwoord op "
              "onze twee verzoeken om uw polisnummer en adres te bevestigen.",
        "en": "We could not establish that you are the person whose data you ask for: you did not answer our two "
              "requests to confirm your policy number and address.",
        "fr": "Nous n'avons pas pu établir que vous êtes la personne dont vous demandez les données : vous n'avez "
              "pas répondu à nos deux demandes de confirmer votre numéro de police et votre adresse."},
    TextPurpose.OBJECTION_OUTCOME: {
        "nl": "U ontvangt geen uitnodigingen meer voor ons klanttevredenheidsonderzoek.",
        "en": "You will no longer receive invitations to our customer satisfaction survey.",
        "fr": "Vous ne recevrez plus d'invitations à notre enquête de satisfaction."},
}
OBJECTION_GROUNDS = {"nl": "Ik wil niet meer gebeld of gemaild worden voor enquêtes.",
                     "en": "I do not want to be called or e-mailed for surveys any more.",
                     "fr": "Je ne veux plus être contacté pour des enquêtes."}
AUTOMATED = {
    "described": {"nl": "Mijn schadeclaim werd binnen een seconde afgewezen op de website.",
                  "en": "My claim was refused on the website within a second.",
                  "fr": "Ma déclaration de sinistre a été refusée sur le site en une seconde."},
    "view": {"nl": "Het toestel viel uit mijn tas; dat is geen slijtage.",
             "en": "The phone fell out of my bag; that is not wear and tear.",
             "fr": "Le téléphone est tombé de mon sac ; ce n'est pas de l'usure."},
    "outcome": {"nl": "Een schadebehandelaar heeft uw claim opnieuw beoordeeld en geaccepteerd; de vergoeding volgt "
                      "binnen tien dagen.",
                "en": "A claims handler reviewed your claim again and accepted it; the payment follows within ten "
                      "days.",
                "fr": "Un gestionnaire de sinistres a réexaminé votre déclaration et l'a acceptée ; le paiement suit "
                      "dans les dix jours."},
}
KEPT_SHARED = {"nl": "Dit adres is ook het correspondentieadres van een andere klant; het blijft voor die klant bewaard.",
               "en": "This address is also another customer's correspondence address; it is kept for them.",
               "fr": "Cette adresse est aussi l'adresse de correspondance d'un autre client ; elle est conservée pour "
                     "lui."}
RESTRICTION_EXPLANATION = "The subject needs the claim file for a court case against the repairer."
# The reviewer of an Art. 22 decision as the letter names them: their function in the letter's language.
REVIEWER_FUNCTION = {"nl": "privacymanager", "en": "privacy manager",
                     "fr": "responsable de la protection de la vie privée"}
LIFT_REASON = {"nl": "Uw rechtszaak tegen de reparateur is afgesloten; de gegevens zijn daarvoor niet meer nodig.",
               "en": "Your court case against the repairer has ended; the data are no longer needed for it.",
               "fr": "Votre procès contre le réparateur est terminé ; les données ne sont plus nécessaires."}


@dataclass(frozen=True)
class Team:
    manager: User  # builds erasure plans and decides
    reviewer: User  # the other privacy manager: approves what the first built (four eyes)
    worker: User  # the case's staff member


@dataclass(frozen=True)
class Steps:
    """The moments of one case's history: ``at(n)`` is day ``n`` after receipt at office hours, never later
    than ``now``."""

    received_on: date
    now: datetime

    def at(self, day: int, hour: int = 10) -> datetime:
        return min(self.now, datetime.combine(self.received_on + timedelta(days=day), time(hour), tzinfo=UTC))

    def today(self, day: int, hour: int = 10) -> date:
        return local_date(self.at(day, hour))


def search(case: Case, team: Team, steps: Steps, day: int, *, manual_done: bool) -> None:
    """Staff search Harmony's systems, compare and confirm the match; with ``manual_done`` the paper archive
    and the processors were searched too (their tasks ticked)."""
    lookup = run_lookup(case, actor=team.worker, now=steps.at(day, 9))
    if lookup.match == LookupMatch.PENDING:
        confirm_match(lookup, actor=team.worker, now=steps.at(day, 10))
    if manual_done:
        _tick_tasks(case, team.worker, steps.at(day + 2, 11))


def _tick_tasks(case: Case, actor: User, at: datetime) -> None:
    for task in db.session.execute(sa.select(CaseTask).where(CaseTask.case_id == case.id, CaseTask.done_at.is_(None))
                                   .order_by(CaseTask.id)).scalars():
        complete_task(task, actor=actor, now=at)


def prepare(case: Case, team: Team, steps: Steps, day: int) -> None:
    """The work before the privacy manager's approval, per right; then submitted for approval."""
    rights = set(case.right_values)
    if rights - {Right.OBJECTION, Right.AUTOMATED_DECISION}:
        search(case, team, steps, day, manual_done=True)
    at, today = steps.at(day + 3, 14), steps.today(day + 3, 14)
    if Right.PORTABILITY in rights:
        from dsr.exports.models import ExportKind
        from dsr.exports.operations import request_export
        from dsr.jobs import runner

        job = request_export(case, ExportKind.PORTABILITY, actor=team.worker, now=at)
        db.session.commit()
        if runner.perform(job.id, now=at) != "succeeded":
            raise RuntimeError(f"the portable data file of {case.reference} could not be made")
    if Right.RECTIFICATION in rights:
        _correct(case, team, at, today)
    if Right.RESTRICTION in rights:
        from dsr.domain.restriction import RestrictionGround
        from dsr.restriction import operations as restriction

        restriction.record_ground(case, RestrictionGround.LEGAL_CLAIMS, explanation=RESTRICTION_EXPLANATION,
                                  actor=team.worker, now=at)
        restriction.apply_restriction(case, actor=team.worker, now=at, today=today)
        for record in restriction.records_of(case):
            if record.status.value == "pending":  # the paper file: flagged by a person in the archive room
                restriction.mark_restricted(record, note="Restricted sticker on the paper file; archive register "
                                            "updated.", actor=team.worker, now=at)
    lang = case.language.value
    if Right.OBJECTION in rights:
        from dsr.objection.balancing import record_objection

        record_objection(case, processing=OBJECTED_PROCESSING, subject_grounds=OBJECTION_GROUNDS[lang],
                         actor=team.worker, now=at)
    if Right.AUTOMATED_DECISION in rights:
        from dsr.automated.operations import record_request

        record_request(case, decision_id=None, described=AUTOMATED["described"][lang],
                       decided_on=case.received_on - timedelta(days=9), human_intervention=True, express_view=True,
                       contest=True, subject_view=AUTOMATED["view"][lang], actor=team.worker, now=at, today=today,
                       subject_texts={lang: AUTOMATED["described"][lang]}, view_texts={lang: AUTOMATED["view"][lang]})
    if Right.ERASURE in rights:
        from dsr.fulfilment.erasure import build_erasure_plan

        # A privacy manager builds the plan; the other one approves it (four eyes).
        build_erasure_plan(case, latest_lookup(case), actor=team.manager, now=steps.at(day + 4, 11),
                           today=steps.today(day + 4, 11))
    lifecycle.submit_for_approval(case, actor=team.worker, now=steps.at(day + 5, 16))


def _correct(case: Case, team: Team, at: datetime, today: date) -> None:
    """Art. 16: the subject's new e-mail address written into the customer record (or, for a person found
    nowhere, the address on a letter in the paper archive corrected by hand)."""
    from dsr.rectification import operations as rectification

    lookup = latest_lookup(case)
    found = next((f for f in lookup.records if f.source == "harmony_policy_admin" and f.collection == "customers"),
                 None)
    if found is None:
        done = rectification.propose_manual_correction(
            case, PAPER_ARCHIVE, "correspondence", "sender_address", case.subject.address or "Postbus 1",
            before="(an old address)", actor=team.worker, now=at, today=today)
        rectification.mark_applied(done, note="Corrected on the letter in the archive file.", actor=team.worker,
                                   now=at)
        return
    name = (case.subject.name or "klant").lower().replace(" ", ".").replace("'", "")
    correction = rectification.propose_correction(case, found, "email", f"{name}.{case.id}@mail.example",
                                                  note="New address given in the letter.", actor=team.worker, now=at,
                                                  today=today)
    applied = rectification.apply_corrections(case, [correction], actor=team.worker, now=at)
    if applied.failed:
        raise RuntimeError(f"the correction of {case.reference} failed: {applied.failed}")


def finish(case: Case, team: Team, steps: Steps, day: int, *, decision: str, paper_note: str | None = None) -> None:
    """The privacy manager's part and the answer: each right's decisions, the recipients told, the letters
    issued in the subject's language, the case completed, all on and after day ``day``."""
    rights = set(case.right_values)
    lang = case.language.value
    manager, reviewer, worker = team.manager, team.reviewer, team.worker
    at, today = steps.at(day, 10), steps.today(day, 10)
    answered = steps.at(day + 1, 15)
    for right in [r for r in ANSWER_ORDER if r in rights]:
        if right is Right.ACCESS:
            from dsr.fulfilment.redaction_ops import decide, pending

            lookup = latest_lookup(case)
            for value in pending(lookup):  # Art. 15(4): another person's data in the copy, released as it is
                decide(case, lookup, source=value.source, collection=value.collection, key=value.key,
                       field=value.field, choice=RedactionChoice.RELEASE, ground=None, actor=manager, now=at)
        elif right is Right.OBJECTION:
            from dsr.objection.balancing import decide_objection, objections_for
            from dsr.objection.models import ObjectionEffect, ObjectionOutcome

            for objection in objections_for(case):
                decide_objection(objection, outcome=ObjectionOutcome.UPHELD, reasons=SUBJECT_TEXTS[
                    TextPurpose.OBJECTION_OUTCOME]["en"], compelling_grounds=None, effect=ObjectionEffect.STOP,
                                 actor=manager, now=at, today=today)
            _tick_tasks(case, worker, steps.at(day, 14))  # the survey invitations stopped
        elif right is Right.AUTOMATED_DECISION:
            from dsr.automated.operations import record_review

            record_review(case, reviewer=f"{reviewer.name}, privacy manager", reviewed_on=today, outcome="changed",
                          outcome_text=AUTOMATED["outcome"][lang], view_considered=True, actor=manager, now=at,
                          today=today, subject_texts={lang: AUTOMATED["outcome"][lang]},
                          reviewer_texts={lang: f"{reviewer.name}, {REVIEWER_FUNCTION[lang]}"})
        elif right is Right.ERASURE:
            _erase(case, team, steps, day, paper_note=paper_note)
        write_texts(case, worker, at)
        if right in (Right.RECTIFICATION, Right.RESTRICTION, Right.ERASURE):
            _tell_recipients(case, worker, steps.at(day, 16), today)
        issue_now(case, COMPLETION_LETTERS[right], LetterLanguage(lang), actor=manager, now=steps.at(day + 1, 11))
    _tick_tasks(case, worker, steps.at(day + 1, 12))  # the team's own reminders on the case, done too
    lifecycle.complete(case, decision=decision, actor=manager, now=answered)


def _erase(case: Case, team: Team, steps: Steps, day: int, *, paper_note: str | None) -> None:
    from dsr.fulfilment.erasure import approve_plan, execute_plan
    from dsr.fulfilment.erasure.tasks import latest_plan, record_task_done

    plan = latest_plan(case)
    at = steps.at(day, 10)
    for item in plan.items:
        if not item.is_task and item.undecided:  # no rule applies, or shared with another person: kept
            from dsr.fulfilment.erasure.plan import decide_item

            decide_item(item, action="keep", reason="Shared with another customer: kept for them.",
                        actor=team.reviewer, now=at, subject_texts={case.language.value: KEPT_SHARED[case.language.value]})
    approve_plan(plan, actor=team.reviewer, now=at)
    failed = execute_plan(plan, actor=team.worker, now=steps.at(day, 11), today=steps.today(day, 11))
    if failed:
        raise RuntimeError(f"the erasure plan of {case.reference} failed: {failed}")
    for item in plan.items:
        if item.is_task:
            if item.source == PAPER_ARCHIVE:
                note = paper_note or "No paper file under this customer number: nothing to destroy."
            else:
                note = "Instructed by e-mail to delete this customer's data; the deletion was confirmed."
            record_task_done(item, done_on=steps.today(day, 15), note=note, actor=team.worker,
                             now=steps.at(day, 15), today=steps.today(day, 15))


def write_texts(case: Case, actor: User, at: datetime) -> None:
    """Every text the case's letters quote, written in the subject's language (the kept records' reasons
    too, once the erasure is done)."""
    lang = case.language.value
    for slot in slots(case):
        if lang in slot.texts or slot.purpose not in SUBJECT_TEXTS:
            continue
        if slot.purpose is TextPurpose.PARTIAL_REFUSAL and not _kept_something(case):
            continue
        save_text(case, slot.purpose, slot.item_id, lang, SUBJECT_TEXTS[slot.purpose][lang], actor=actor, now=at)


def _kept_something(case: Case) -> bool:
    from dsr.fulfilment.erasure.tasks import latest_plan

    plan = latest_plan(case) if Right.ERASURE in case.right_values else None
    return plan is not None and any(i.action.value == "keep" for i in plan.items if not i.is_task)


def _tell_recipients(case: Case, actor: User, at: datetime, today: date) -> None:
    """Art. 19: every recipient of the changed records listed and ticked as told."""
    from dsr.notices.models import NoticeMethod
    from dsr.notices.operations import list_recipients, record_notified

    for notice in list_recipients(case, actor=actor, now=at):
        if notice.is_pending:
            record_notified(notice, notified_on=today, method=NoticeMethod.EMAIL, actor=actor, now=at, today=today)


def lift(case: Case, team: Team, steps: Steps, day: int) -> None:
    """Art. 18(3): the restriction lifted once the court case ended, the subject told beforehand."""
    from dsr.restriction import operations as restriction

    lang = case.language.value
    restriction.decide_lift(case, reason=LIFT_REASON["en"], actor=team.manager, now=steps.at(day, 10),
                            subject_texts={lang: LIFT_REASON[lang]})
    issue_now(case, LetterKind.RESTRICTION_LIFTING_NOTICE, LetterLanguage(lang), actor=team.manager,
              now=steps.at(day, 11))
    restriction.lift_restriction(case, actor=team.manager, now=steps.at(day + 14, 10), today=steps.today(day + 14))
    for record in restriction.records_of(case):
        if record.status.value == "restricted":  # restricted by a person: lifted by a person
            restriction.mark_lifted(record, note="Sticker removed from the paper file.", actor=team.worker,
                                    now=steps.at(day + 14, 14))
    _tick_tasks(case, team.worker, steps.at(day + 14, 15))
