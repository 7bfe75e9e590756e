"""Letters (issue 5, items 1-3 and 6): every kind rendered to PDF and read back with pypdf; issuing, versions,
immutability, retries; the extension notice fulfilling its obligation; injection attempts printed as text.

On SQLite and PostgreSQL, with a copy of the demo systems per test (the erasure letter erases). The texts
checked are read from the PDF, not from the HTML: what the subject gets is what is tested.

A translator who adds ``letters/nl/<kind>.html`` and ``letters/fr/<kind>.html`` adds the language to
:data:`ALL_KINDS_LANGUAGES`; the expected words per language are in :data:`EXPECT`.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import time_machine
from pypdf import PdfReader

from dsr import pdf
from dsr.audit.models import AuditEvent
from dsr.cases import lifecycle, timing
from dsr.cases.errors import RuleViolation
from dsr.domain.enums import JobStatus, Language, RefusalGround, Right
from dsr.extensions import db
from dsr.jobs import runner
from dsr.jobs.models import Job
from dsr.letters import operations, render
from dsr.letters.kinds import KINDS, LetterKind, LetterLanguage
from dsr.letters.models import ImmutableLetter, IssuedLetter
from dsr.texts.models import SubjectText, TextPurpose
from dsr.texts.operations import save_text
from tests.conftest import NOW, TODAY
from tests.factories import make_case
from tests.harmony_support import (
    People,
    customer_with_everything,
    private_copy,
    review_third_parties,
    subject_of,
)
from tests.storage_support import path_for, storage_root

# Languages in which every kind has its own template (the translator extends this list).
ALL_KINDS_LANGUAGES = ["en", "nl", "fr"]
ACKNOWLEDGEMENT_LANGUAGES = ["nl", "en", "fr"]

EXPECT = {
    "en": {"today": "26 November 2026", "received": "20 November 2026", "april": "7 April 2026",
           "complaint": ["Autoriteit Persoonsgegevens", "Postbus 93374", "2509 AJ Den Haag", "Article 77",
                         "Article 79", "court"],
           "salutation": "Dear", "harmony": "Attn. privacy manager · P.O. Box 21460"},
    "nl": {"today": "26 november 2026", "received": "20 november 2026", "april": "7 april 2026",
           "complaint": ["Autoriteit Persoonsgegevens", "Postbus 93374", "2509 AJ Den Haag", "artikel 77",
                         "artikel 79", "rechter"],
           "salutation": "Geachte", "accented": ["Schröder"], "harmony": "t.a.v. de privacy manager · Postbus 21460"},
    "fr": {"today": "26 novembre 2026", "received": "20 novembre 2026", "april": "7 avril 2026",
           "complaint": ["Autoriteit Persoonsgegevens", "Postbus 93374", "2509 AJ Den Haag", "article 77",
                         "article 79", "tribunal"],
           "salutation": "Madame, Monsieur", "accented": ["reçu", "référence", "réception"],
           "harmony": "Attn. privacy manager · Postbus 21460"},
}
EVIL_NAME = '<img src="file:///etc/passwd">'
EVIL_NOTE = "<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def systems(ctx, harmony, tmp_path, monkeypatch) -> str:
    """A copy of the demo systems for this test only: the erasure letter's case erases records."""
    monkeypatch.setitem(ctx.config, "DEMO_SYSTEMS_URL", url := private_copy(harmony, tmp_path))
    return url


@pytest.fixture
def people(ctx) -> People:
    return People()


# -- reading PDFs -----------------------------------------------------------------------------------------

def page_texts(data: bytes) -> list[str]:
    """The text of each page, whitespace collapsed (pypdf breaks lines where the layout does)."""
    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(data)).pages]


def pdf_text(data: bytes) -> str:
    return " ".join(page_texts(data))


def as_weasyprint_makes_it(documents: list[str]) -> bytes:
    """The documents laid out by WeasyPrint as they are (each fetching and parsing its stylesheet)."""
    import weasyprint

    base = render.ASSETS_DIR.resolve().as_uri() + "/"
    laid_out = [weasyprint.HTML(string=html, base_url=base, url_fetcher=pdf.safe_fetcher()).render()
                for html in documents]
    pages = [page for document in laid_out for page in document.pages]
    return (laid_out[0].copy(pages) if len(laid_out) > 1 else laid_out[0]).write_pdf()


def keep_for_review(data: bytes, name: str) -> None:
    """With DSR_LETTERS_PDF_DIR set, keep the PDF there, to look at (``pdftoppm -png``) before a release."""
    folder = os.environ.get("DSR_LETTERS_PDF_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{name}.pdf").write_bytes(data)


# -- a case in the state each kind of letter fits -----------------------------------------------------------

# What staff recorded for themselves (internal, in English, never printed) and what the letters quote: the
# texts for the subject, one per language (issue 14.2). The matrix below checks that a letter prints its own
# language's text and neither the staff note nor another language's text.
STAFF_NOTES = {
    "information_request": "Ask caller for polnr or IBAN tail, ID unclear on phone",
    "extension": "11 yrs claims in 3 systems plus paper backlog, need more time",
    "refusal": "5th identical request this month, see call log of 2 Nov",
    "correction_refusal": "Archive letter is evidence, do not alter",
    "objection_outcome": "Fraud model needs it, see DPIA-7",
    "objection_grounds": "Fraud prevention protects all insured customers.",
    "fee_basis": "1h of work at 12.50 per hour",
    "applied": "Corrected on the letter in the archive file.",
    "restriction_lift": "Court case vs repairer closed 2 Nov, per lawyer",
    "automated_decision": "Web claim 88-17 auto-rejected by rule WD-3",
    "automated_view": "Says neighbour's pipe, not wear",
    "automated_outcome": "Overruled WD-3, pay out",
    "erasure_kept": "Keep: disputed in complaint file C-2291",
    "automated_reviewer": "Mark dV (sr CH), team West",
    "notice_not_made": "Curator of bankrupt mailhouse does not reply",
}
SUBJECT_TEXTS = {
    "information_request": {"en": "Your policy number, or the last four digits of your IBAN.",
                            "nl": "Uw polisnummer, of de laatste vier cijfers van uw IBAN.",
                            "fr": "Votre numéro de police, ou les quatre derniers chiffres de votre IBAN."},
    "extension": {"en": "Your request covers eleven years of claims held in three systems.",
                  "nl": "Uw verzoek betreft elf jaar schadedossiers in drie systemen.",
                  "fr": "Votre demande porte sur onze années de sinistres conservés dans trois systèmes."},
    "refusal": {"en": "This is your fifth identical request this month; we answered the first on 2 November 2026.",
                "nl": "Dit is uw vijfde gelijke verzoek deze maand; het eerste beantwoordden wij op 2 november 2026.",
                "fr": "C'est votre cinquième demande identique ce mois-ci ; nous avons répondu à la première le "
                      "2 novembre 2026."},
    "correction_refusal": {"en": "The archive holds your letter as you signed it; we do not change it.",
                           "nl": "Het archief bewaart uw brief zoals u hem ondertekende; die veranderen wij niet.",
                           "fr": "Les archives conservent votre lettre telle que vous l'avez signée ; nous ne la "
                                 "modifions pas."},
    "objection_outcome": {"en": "Needed to detect fraud on claims.",
                          "nl": "Nodig om fraude met schadeclaims op te sporen.",
                          "fr": "Nécessaire pour détecter la fraude aux sinistres."},
    "fee_basis": {"en": "One hour of work to compile and send the overview again.",
                  "nl": "Eén uur werk om het overzicht opnieuw samen te stellen en te versturen.",
                  "fr": "Une heure de travail pour préparer et renvoyer l'aperçu."},
    "restriction_lift": {"en": "Your court case against the repairer ended on 2 November 2026.",
                         "nl": "Uw rechtszaak tegen de hersteller is op 2 november 2026 geëindigd.",
                         "fr": "Votre procès contre le réparateur a pris fin le 2 novembre 2026."},
    "automated_decision": {"en": "The refusal of your claim for water damage by our website, within a second.",
                           "nl": "De afwijzing van uw claim voor waterschade door onze website, binnen een seconde.",
                           "fr": "Le refus de votre demande pour dégâts des eaux par notre site, en une seconde."},
    "automated_view": {"en": "The water came from the neighbour's pipe, not from wear.",
                       "nl": "Het water kwam uit de leiding van de buren, niet door slijtage.",
                       "fr": "L'eau venait de la conduite du voisin, et non de l'usure."},
    "automated_outcome": {"en": "The claim is accepted; the payment follows within ten days.",
                          "nl": "De claim is aanvaard; de betaling volgt binnen tien dagen.",
                          "fr": "La demande est acceptée ; le paiement suit dans les dix jours."},
    "erasure_kept": {"en": "You are disputing these data with us; we keep them until the dispute is settled.",
                     "nl": "U betwist deze gegevens bij ons; wij bewaren ze tot het geschil is opgelost.",
                     "fr": "Vous contestez ces données auprès de nous ; nous les conservons jusqu'au règlement du "
                           "litige."},
    "automated_reviewer": {"en": "M. de Vries, senior claims handler",
                           "nl": "M. de Vries, senior schadebehandelaar",
                           "fr": "M. de Vries, gestionnaire de sinistres senior"},
    "notice_not_made": {"en": "This company went bankrupt and no longer exists.",
                        "nl": "Dit bedrijf is failliet gegaan en bestaat niet meer.",
                        "fr": "Cette entreprise a fait faillite et n'existe plus."},
    "partial_refusal": {"en": "The law obliges us to keep some of your records; we erased all the others.",
                        "nl": "De wet verplicht ons sommige gegevens te bewaren; alle andere hebben wij gewist.",
                        "fr": "La loi nous oblige à conserver certaines de vos données ; nous avons effacé "
                              "toutes les autres."},
}


def write_texts(case, people, purpose: str, item_id: int = 0, languages=("nl", "en", "fr")) -> None:
    """The texts for the subject of ``purpose``, as a person writes them on the case's texts page."""
    db.session.flush()
    for lang in languages:
        save_text(case, TextPurpose(purpose), item_id, lang, SUBJECT_TEXTS[purpose][lang], actor=people.staff,
                  now=NOW)


def _case(people, **kw):
    return make_case(actor=people.staff, commit=False, **kw)


def _looked_up(people, systems, rights):
    from dsr.fulfilment.lookup_ops import confirm_match, run_lookup

    customer = customer_with_everything(systems)
    case = _case(people, rights=rights, **subject_of(customer))
    lifecycle.start_work(case, actor=people.staff, now=NOW)
    lookup = run_lookup(case, actor=people.staff, now=NOW)
    confirm_match(lookup, actor=people.staff, now=NOW + timedelta(minutes=1))
    return case, lookup


def _manual_tasks_done(case, people):
    """The paper archive and the processor were dealt with by a person: their tasks are ticked done."""
    from dsr.tasks.models import CaseTask
    from dsr.tasks.operations import complete_task

    for task in db.session.execute(sa.select(CaseTask).where(CaseTask.case_id == case.id,
                                                             CaseTask.done_at.is_(None))).scalars():
        complete_task(task, actor=people.staff, now=NOW)


def _recipients_told(case, people, *, last_not_told: bool = False):
    """Art. 19: the recipients are listed and each is ticked notified by letter on TODAY; with
    ``last_not_told`` the last one is recorded as not notifiable, with a text for the subject on why."""
    from dsr.notices.models import NoticeMethod
    from dsr.notices.operations import list_recipients, record_not_notifiable, record_notified

    notices = list_recipients(case, actor=people.staff, now=NOW)
    for notice in notices[:-1] if last_not_told else notices:
        record_notified(notice, notified_on=TODAY, method=NoticeMethod.POST, actor=people.staff, now=NOW,
                        today=TODAY)
    if last_not_told:
        record_not_notifiable(notices[-1], reason=STAFF_NOTES["notice_not_made"], actor=people.manager, now=NOW)
        write_texts(case, people, "notice_not_made", notices[-1].id)


def _accessed(people, systems):
    case, _lookup = _looked_up(people, systems, (Right.ACCESS,))
    _manual_tasks_done(case, people)
    review_third_parties(case, people.manager, now=NOW)  # Art. 15(4), before the copy is released
    return case


def _erased(people, systems):
    from dsr.domain.retention_rules import Action
    from dsr.fulfilment.erasure import approve_plan, build_erasure_plan, execute_plan
    from dsr.fulfilment.erasure.plan import decide_item

    case, lookup = _looked_up(people, systems, (Right.ERASURE,))
    plan = build_erasure_plan(case, lookup, actor=people.staff, now=NOW, today=TODAY)
    # The privacy manager keeps one record the rules would erase; the letter says why, as written for the subject.
    kept = next(i for i in plan.items if not i.is_task and i.action is Action.ERASE)
    decide_item(kept, action="keep", reason=STAFF_NOTES["erasure_kept"], actor=people.manager, now=NOW)
    write_texts(case, people, "erasure_kept", kept.id)
    approve_plan(plan, actor=people.manager, now=NOW)
    execute_plan(plan, actor=people.staff, now=NOW, today=TODAY)
    from dsr.fulfilment.erasure.tasks import record_task_done

    for task in (i for i in plan.items if i.is_task):  # the paper file destroyed, the processor instructed
        record_task_done(task, done_on=TODAY, actor=people.staff, now=NOW, today=TODAY)
    _manual_tasks_done(case, people)
    _recipients_told(case, people, last_not_told=True)
    return case


def _rectified(people, systems):
    from dsr.rectification.operations import mark_applied, propose_manual_correction, refuse_correction

    case, _lookup = _looked_up(people, systems, (Right.RECTIFICATION,))
    done = propose_manual_correction(case, "harmony_paper_archive", "correspondence", "sender_address",
                                     "Rue de la Loi 16, 1000 Bruxelles", before="Coolsingel 4", actor=people.staff,
                                     now=NOW, today=TODAY)
    mark_applied(done, note=STAFF_NOTES["applied"], actor=people.staff, now=NOW)
    refused = propose_manual_correction(case, "harmony_paper_archive", "correspondence", "sender_name",
                                        "Zoë Vandenbroeck", actor=people.staff, now=NOW, today=TODAY)
    refuse_correction(refused, reason=STAFF_NOTES["correction_refusal"], actor=people.manager, now=NOW)
    write_texts(case, people, "correction_refusal", refused.id)
    _recipients_told(case, people)
    return case


def _objected(people, systems):
    from dsr.objection.balancing import decide_objection, processing_choices, record_objection
    from dsr.objection.models import ObjectionOutcome

    case = _case(people, rights=(Right.OBJECTION,))
    lifecycle.start_work(case, actor=people.staff, now=NOW)
    objection = record_objection(case, processing=next(iter(processing_choices())),
                                 subject_grounds="I do not want to be profiled.", actor=people.staff, now=NOW)
    decided = decide_objection(objection, outcome=ObjectionOutcome.REJECTED, reasons=STAFF_NOTES["objection_outcome"],
                               compelling_grounds=STAFF_NOTES["objection_grounds"], effect=None,
                               actor=people.manager, now=NOW, today=TODAY)
    write_texts(case, people, "objection_outcome", decided.id)
    return case


def _information_requested(people, systems, reason=STAFF_NOTES["information_request"], text=None):
    """Information asked for; ``text``: what the letter quotes in every language (else SUBJECT_TEXTS)."""
    case = _case(people)
    timing.request_information(case, reason=reason, requested_on=TODAY, actor=people.staff, now=NOW, today=TODAY)
    if text is None:
        write_texts(case, people, "information_request", case.pauses[-1].id)
    else:
        db.session.flush()
        for lang in ("nl", "en", "fr"):
            save_text(case, TextPurpose.INFORMATION_REQUEST, case.pauses[-1].id, lang, text, actor=people.staff,
                      now=NOW)
    return case


def _extended(people, systems):
    case = _case(people)
    timing.extend(case, reason=STAFF_NOTES["extension"], actor=people.manager, now=NOW, today=TODAY)
    write_texts(case, people, "extension")
    return case


def _refused(people, systems):
    """Refused as excessive: it repeats the person's request of 2 November 2026, linked as the evidence."""
    from dsr.cases.operations import log_request
    from tests.factories import subject_details

    first = make_case(actor=people.staff, received_on=date(2026, 11, 2), now=NOW - timedelta(days=24),
                      today=date(2026, 11, 2), commit=False)
    case = log_request(subject=subject_details(), rights=[Right.ACCESS], channel=first.channel,
                       received_on=date(2026, 11, 20), language=first.language, notes="", actor=people.staff,
                       now=NOW, today=TODAY, link_subject=first.subject)
    lifecycle.refuse(case, ground=RefusalGround.EXCESSIVE, justification=STAFF_NOTES["refusal"],
                     actor=people.manager, now=NOW, repeats=[first])
    write_texts(case, people, "refusal")
    return case


def _deceased(people, systems):
    """A widow living at the subject's address asks about her late husband's data (issue 18, item 3)."""
    from datetime import date

    from dsr.requesters.operations import record_deceased, record_requester

    case = _case(people)
    record_deceased(case, died_on=date(2026, 11, 1), actor=people.staff, now=NOW, today=TODAY)
    record_requester(case, role="relative", name="H. Weduwe", address="Coolsingel 40", postcode="3011 AD",
                     city="Rotterdam", actor=people.staff, now=NOW)
    return case


def _fee_warned(people, systems, proposed_on: date = TODAY):
    """The same person asks again for a copy; the privacy manager proposes a fee (issue 18, item 5), on
    ``proposed_on`` (by default within PAUSE_ASK_WORKING_DAYS of receipt: the clock stops)."""
    from datetime import date

    from dsr.cases.operations import log_request
    from dsr.domain.enums import VerificationMethod, VerificationOutcome
    from dsr.fees.operations import propose_fee
    from dsr.identity.operations import record_verification
    from tests.factories import subject_details

    first = make_case(actor=people.staff, received_on=date(2026, 10, 20), now=NOW - timedelta(days=30),
                      today=date(2026, 10, 27), commit=False)
    record_verification(first, method=VerificationMethod.POLICY_RECORDS, outcome=VerificationOutcome.VERIFIED,
                        note="", actor=people.staff, now=NOW - timedelta(days=25))
    lifecycle.submit_for_approval(first, actor=people.staff, now=NOW - timedelta(days=25))
    lifecycle.complete(first, decision="Overview sent", actor=people.manager, now=NOW - timedelta(days=24),
                       override_reason="The first request's work is not what this test is about")
    again = log_request(subject=subject_details(), rights=[Right.ACCESS], channel=first.channel,
                        received_on=date(2026, 11, 20), language=first.language, notes="", actor=people.staff,
                        now=NOW, today=TODAY, link_subject=first.subject)
    propose_fee(again, amount_cents=1250, basis=STAFF_NOTES["fee_basis"], actor=people.manager, now=NOW,
                today=proposed_on)
    write_texts(again, people, "fee_basis")
    return again


def _restricted(people, systems):
    """Art. 18: the subject needs the claim file for a court case; the records found are restricted, the paper
    archive and the other records by a person, and the recipients told (Art. 19)."""
    from dsr.domain.restriction import RestrictionGround
    from dsr.restriction import operations as restriction

    case, _lookup = _looked_up(people, systems, (Right.RESTRICTION,))
    restriction.record_ground(case, RestrictionGround.LEGAL_CLAIMS, explanation="Court case against the repairer.",
                              actor=people.staff, now=NOW)
    restriction.apply_restriction(case, actor=people.staff, now=NOW, today=TODAY)
    for record in restriction.records_of(case):
        if record.status.value == "pending":
            restriction.mark_restricted(record, note="Flagged as restricted.", actor=people.staff, now=NOW)
    _recipients_told(case, people)
    return case


def _lift_decided(people, systems):
    from dsr.restriction import operations as restriction

    case = _restricted(people, systems)
    restriction.decide_lift(case, reason=STAFF_NOTES["restriction_lift"], actor=people.manager, now=NOW)
    write_texts(case, people, "restriction_lift")
    return case


def _automated_reviewed(people, systems):
    """A refused claim contested under Art. 22(3); a person reviewed it with the subject's view (issue 18.2)."""
    from dsr.automated.operations import record_request, record_review

    case = _case(people, rights=(Right.AUTOMATED_DECISION,))
    lifecycle.start_work(case, actor=people.staff, now=NOW)
    record_request(case, decision_id=None, described=STAFF_NOTES["automated_decision"], decided_on=date(2026, 11, 3),
                   human_intervention=True, express_view=True, contest=True, subject_view=STAFF_NOTES["automated_view"],
                   actor=people.staff, now=NOW, today=TODAY)
    record_review(case, reviewer=STAFF_NOTES["automated_reviewer"], reviewed_on=TODAY, outcome="changed",
                  outcome_text=STAFF_NOTES["automated_outcome"], view_considered=True,
                  actor=people.manager, now=NOW, today=TODAY)
    for purpose in ("automated_decision", "automated_view", "automated_reviewer", "automated_outcome"):
        write_texts(case, people, purpose)
    return case


def _partially_refused(people, systems):
    """Erased but for what the law keeps, with the reasons written for the subject."""
    case = _erased(people, systems)
    write_texts(case, people, "partial_refusal")
    return case


BUILDERS = {
    LetterKind.COMPLETION_RESTRICTION: _restricted,
    LetterKind.RESTRICTION_LIFTING_NOTICE: _lift_decided,
    LetterKind.COMPLETION_AUTOMATED: _automated_reviewed,
    LetterKind.DECEASED: _deceased,
    LetterKind.FEE_WARNING: _fee_warned,
    LetterKind.ACKNOWLEDGEMENT: lambda people, systems: _case(people, rights=(Right.ACCESS, Right.ERASURE)),
    LetterKind.INFORMATION_REQUEST: _information_requested,
    LetterKind.EXTENSION_NOTICE: _extended,
    LetterKind.COMPLETION_ACCESS: _accessed,
    LetterKind.COMPLETION_RECTIFICATION: _rectified,
    LetterKind.COMPLETION_ERASURE: _erased,
    LetterKind.COMPLETION_OBJECTION: _objected,
    LetterKind.COMPLETION_PORTABILITY: lambda people, systems: _looked_up(people, systems, (Right.PORTABILITY,))[0],
    LetterKind.PARTIAL_REFUSAL: _partially_refused,
    LetterKind.REFUSAL: _refused,
}
# What each kind must say besides what every letter says (English; a translator adds theirs per language).
KIND_CONTENT = {
    "en": {
        LetterKind.ACKNOWLEDGEMENT: ["access to your personal data (Article 15 GDPR)",
                                    lambda case: render.format_date(case.promised_on, "en"),
                                    lambda case: render.format_date(case.legal_due_on, "en")],
        LetterKind.INFORMATION_REQUEST: [],
        LetterKind.EXTENSION_NOTICE: ["eleven years of claims",
                                     lambda case: render.format_date(case.extended_due_on, "en"),
                                     lambda case: render.format_date(case.extension_notice_due_on, "en")],
        LetterKind.COMPLETION_ACCESS: ["Focus Feedback", "enclosed", "Autoriteit Persoonsgegevens"],
        LetterKind.COMPLETION_RECTIFICATION: ["Rue de la Loi 16", "Autoriteit Persoonsgegevens"],
        LetterKind.COMPLETION_ERASURE: ["What we keep", "Art. 17(3)(b)", "Autoriteit Persoonsgegevens"],
        LetterKind.COMPLETION_OBJECTION: ["Autoriteit Persoonsgegevens"],
        LetterKind.COMPLETION_PORTABILITY: ["machine-readable", "enclosed"],
        LetterKind.PARTIAL_REFUSAL: ["Art. 17(3)(b)"],
        LetterKind.REFUSAL: ["excessive"],
        LetterKind.DECEASED: ["recital 27 GDPR", "Dear Sir or Madam", "certificate of inheritance"],
        LetterKind.FEE_WARNING: ["€12.50", "first copy was free"],
        LetterKind.COMPLETION_RESTRICTION: ["What we restricted", "Customer details", "Policy administration",
                                            "Article 18(1)(c) GDPR", "Who we told (Article 19 GDPR)",
                                            "about the restriction", "Article 18(3) GDPR"],
        LetterKind.RESTRICTION_LIFTING_NOTICE: ["We will lift the restriction", "Customer details",
                                                "Article 18(3) GDPR"],
        LetterKind.COMPLETION_AUTOMATED: ["3 November 2026", "M. de Vries, senior claims handler",
                                          "the decision has been changed", "takes no decisions about you based solely"],
    },
    "nl": {
        LetterKind.ACKNOWLEDGEMENT: ["inzage in uw persoonsgegevens (artikel 15 AVG)",
                                    lambda case: render.format_date(case.promised_on, "nl"),
                                    lambda case: render.format_date(case.legal_due_on, "nl")],
        LetterKind.INFORMATION_REQUEST: ["Wat dit betekent voor de termijn van ons antwoord"],
        LetterKind.EXTENSION_NOTICE: ["verlenging met twee maanden",
                                     lambda case: render.format_date(case.extended_due_on, "nl"),
                                     lambda case: render.format_date(case.extension_notice_due_on, "nl")],
        LetterKind.COMPLETION_ACCESS: ["Focus Feedback", "bijgevoegde", "Autoriteit Persoonsgegevens", "Ontvangers",
                                       "Bewaartermijn", "artikel 79"],
        LetterKind.COMPLETION_RECTIFICATION: ["Rue de la Loi 16", "Autoriteit Persoonsgegevens",
                                              "aanvullende verklaring"],
        LetterKind.COMPLETION_ERASURE: ["Wat wij bewaren", "AVG art. 17(3)(b)", "Autoriteit Persoonsgegevens",
                                        "artikel 17, derde lid"],
        LetterKind.COMPLETION_OBJECTION: ["Autoriteit Persoonsgegevens",
                                          "dwingende gerechtvaardigde gronden"],
        LetterKind.COMPLETION_PORTABILITY: ["machineleesbare", "bijgevoegde", "overdraagbaarheid van gegevens"],
        LetterKind.PARTIAL_REFUSAL: ["AVG art. 17(3)(b)", "gedeeltelijk toegewezen", "artikel 35, tweede lid"],
        LetterKind.DECEASED: ["overweging 27 AVG", "Geachte heer/mevrouw Weduwe", "verklaring van erfrecht"],
        LetterKind.FEE_WARNING: ["12,50", "eerste kopie was kosteloos"],
        LetterKind.COMPLETION_AUTOMATED: ["3 november 2026",
                                          "M. de Vries, senior schadebehandelaar", "het besluit is gewijzigd",
                                          "uw standpunt", "neemt geen besluiten over u die uitsluitend"],
        LetterKind.REFUSAL: ["buitensporig", "kennelijk ongegrond of buitensporig",
                             "artikel 35, tweede lid"],
        LetterKind.COMPLETION_RESTRICTION: ["Wat wij hebben beperkt", "Klantgegevens", "Polisadministratie",
                                            "artikel 18, eerste lid, onder c, AVG", "artikel 19 AVG",
                                            "beperking van de verwerking", "artikel 18, derde lid, AVG"],
        LetterKind.RESTRICTION_LIFTING_NOTICE: ["Wij heffen de beperking op", "Klantgegevens",
                                                "artikel 18, derde lid, AVG"],
    },
    "fr": {
        LetterKind.ACKNOWLEDGEMENT: ["l'accès à vos données personnelles (article 15 du RGPD)",
                                    lambda case: render.format_date(case.promised_on, "fr"),
                                    lambda case: render.format_date(case.legal_due_on, "fr")],
        LetterKind.INFORMATION_REQUEST: ["suspendu"],
        LetterKind.EXTENSION_NOTICE: ["prolongé de deux mois",
                                     lambda case: render.format_date(case.extended_due_on, "fr"),
                                     lambda case: render.format_date(case.extension_notice_due_on, "fr")],
        LetterKind.COMPLETION_ACCESS: ["Focus Feedback", "ci-joint", "Autoriteit Persoonsgegevens", "destinataires",
                                       "Durée de conservation", "article 79"],
        LetterKind.COMPLETION_RECTIFICATION: ["Rue de la Loi 16", "Autoriteit Persoonsgegevens",
                                              "déclaration complémentaire"],
        LetterKind.COMPLETION_ERASURE: ["Ce que nous conservons", "RGPD art. 17(3)(b)", "Autoriteit Persoonsgegevens",
                                        "article 17, paragraphe 3"],
        LetterKind.COMPLETION_OBJECTION: ["Autoriteit Persoonsgegevens",
                                          "motifs légitimes et impérieux"],
        LetterKind.COMPLETION_PORTABILITY: ["lisible par machine", "ci-joint", "portabilité"],
        LetterKind.PARTIAL_REFUSAL: ["RGPD art. 17(3)(b)", "ne pouvons pas donner suite"],
        LetterKind.DECEASED: ["considérant 27 du RGPD", "attestation d’hérédité"],
        LetterKind.FEE_WARNING: ["12,50", "première copie était gratuite"],
        LetterKind.COMPLETION_AUTOMATED: ["3 novembre 2026",
                                          "M. de Vries, gestionnaire de sinistres senior", "la décision a été modifiée",
                                          "point de vue", "aucune décision fondée exclusivement"],
        LetterKind.REFUSAL: ["excessive", "manifestement infondé ou excessif",
                             "article 35, paragraphe 2"],
        LetterKind.COMPLETION_RESTRICTION: ["Ce que nous avons limité", "Données du client", "Gestion des polices",
                                            "article 18, paragraphe 1, point c), du RGPD", "article 19 du RGPD",
                                            "de la limitation du traitement", "article 18, paragraphe 3, du RGPD"],
        LetterKind.RESTRICTION_LIFTING_NOTICE: ["Nous allons lever la limitation", "Données du client",
                                                "article 18, paragraphe 3, du RGPD"],
    },
}


# The texts for the subject each kind quotes (issue 14.2), and the deadlines it states (issue 14.12).
KIND_TEXTS = {
    LetterKind.INFORMATION_REQUEST: ["information_request"],
    LetterKind.EXTENSION_NOTICE: ["extension"],
    LetterKind.COMPLETION_RECTIFICATION: ["correction_refusal"],
    LetterKind.COMPLETION_OBJECTION: ["objection_outcome"],
    LetterKind.FEE_WARNING: ["fee_basis"],
    LetterKind.PARTIAL_REFUSAL: ["partial_refusal", "erasure_kept"],
    LetterKind.COMPLETION_ERASURE: ["erasure_kept", "notice_not_made"],
    LetterKind.REFUSAL: ["refusal"],
    LetterKind.RESTRICTION_LIFTING_NOTICE: ["restriction_lift"],
    LetterKind.COMPLETION_AUTOMATED: ["automated_decision", "automated_view", "automated_reviewer",
                                      "automated_outcome"],
}
REPEAT_WORDS = {"en": "received on", "nl": "ontvangen op", "fr": "reçue le"}
KIND_DEADLINES = {
    LetterKind.ACKNOWLEDGEMENT: ("promise_answer_by", "legal.due_on"),
    LetterKind.EXTENSION_NOTICE: ("extended.due_on", "legal.due_on"),
    # A counted pause suspends the period: the letter states no date to answer by (only the day it asked).
}


def deadline_dates(case, kind: LetterKind, lang: str) -> list[str]:
    """The deadlines ``kind`` states, as the case's clock gives them on the letter's date, in ``lang``."""
    from dsr.cases.deadlines import case_clock, working_calendar

    clock = case_clock(case, working_calendar(), TODAY)
    found = []
    for path in KIND_DEADLINES.get(kind, ()):
        value = clock
        for part in path.split("."):
            value = getattr(value, part)
        found.append(render.format_date(value, lang))
    return found


def build(kind: LetterKind, people, systems):
    assert kind in BUILDERS, (f"no builder for the letter kind {kind.value!r}: add one to BUILDERS in "
                              "tests/integration/test_letters.py (a case in the state this kind fits)")
    case = BUILDERS[kind](people, systems)
    db.session.commit()
    return case


# -- every kind, per language ---------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ALL_KINDS_LANGUAGES)
@pytest.mark.parametrize("kind", list(LetterKind))
def test_every_kind_renders_with_what_every_letter_must_say(people, systems, kind, lang):
    case = build(kind, people, systems)
    made = operations.render_letter(case, kind, LetterLanguage(lang), today=TODAY)
    keep_for_review(made.pdf, f"{kind.value}-{lang}")
    # The stylesheet parsed once (dsr.pdf) makes the PDF WeasyPrint makes of the documents as they are.
    assert made.pdf == as_weasyprint_makes_it(made.html)
    text = pdf_text(made.pdf)
    expect = EXPECT[lang]

    assert case.reference in text
    assert expect["received"] in text  # the received date, day first, in the letter's language
    assert expect["today"] in text  # the letter's date
    assert "Coolsingel 40" in text and "ROTTERDAM" in text  # the subject's address block
    # Harmony's own address, as the statement's version in the letter's language writes it (issue 14.8).
    assert expect["harmony"] in text and "3001 AL Rotterdam" in text
    assert re.search(r"\b1 / \d+\b", text), "no page number"
    if KINDS[kind].complaint_route or kind in (LetterKind.COMPLETION_OBJECTION, LetterKind.COMPLETION_RECTIFICATION):
        for words in expect["complaint"]:
            assert words in text, f"{kind}: the complaint route lacks {words!r}"
    for words in KIND_CONTENT[lang][kind]:
        words = words(case) if callable(words) else words
        assert words in text, f"{kind} ({lang}) does not say {words!r}"
    assert made.fetcher.refused == []
    assert all(url.startswith(render.ASSETS_DIR.as_uri()) for url in made.fetcher.fetched)
    assert any(url.endswith(".ttf") for url in made.fetcher.fetched), "the project's own font is not used"
    # Issue 14, items 2 and 12: the texts for the subject in the letter's language; no staff note, no text
    # written in another language, no database key; the salutation; the deadlines the case's clock gives.
    assert case.subject.name in text, f"{kind} ({lang}): the subject is not named"
    assert expect["salutation"] in text, f"{kind} ({lang}): no salutation"
    for purpose in KIND_TEXTS.get(kind, []):
        assert SUBJECT_TEXTS[purpose][lang] in text, f"{kind} ({lang}) does not quote its {purpose} text"
    flat = re.sub(r"\s+", " ", text)
    for name, note in STAFF_NOTES.items():
        assert note not in flat, f"{kind} ({lang}) prints the staff note {name!r}"
    for purpose, texts in SUBJECT_TEXTS.items():
        for other, words in texts.items():
            if other != lang:
                assert words not in flat, f"{kind} ({lang}) prints the {other} text of {purpose}"
    assert "id=" not in text and not re.search(r"\bid\s*[:=]\s*\d", text), f"{kind} ({lang}) names a database key"
    for day in deadline_dates(case, kind, lang):
        assert day in text, f"{kind} ({lang}) does not state the deadline {day}"
    if kind is LetterKind.REFUSAL:  # excessive: the earlier request it repeats, by reference and date (14.10)
        [earlier] = lifecycle.repeated_requests(case)
        assert f" {earlier.reference}, {REPEAT_WORDS[lang]} {render.format_date(earlier.received_on, lang)}" in text


@pytest.mark.parametrize("lang", ACKNOWLEDGEMENT_LANGUAGES)
def test_acknowledgement_in_each_language_keeps_accents_and_formats_dates_day_first(people, lang):
    case = _case(people, name="Hélène Zoë Françoise Schröder", received_on=date(2026, 4, 7), today=date(2026, 4, 8),
                 address="Boulevard Émile Jacqmain 12", postcode="1000", city="Bruxelles", country="BE")
    db.session.commit()
    made = operations.render_letter(case, LetterKind.ACKNOWLEDGEMENT, LetterLanguage(lang), today=date(2026, 4, 8))
    keep_for_review(made.pdf, f"acknowledgement-accents-{lang}")
    text = pdf_text(made.pdf)
    expect = EXPECT[lang]
    assert "Hélène Zoë Françoise Schröder" in text  # é, ë, ç, ö survive, in the project's font
    assert "Boulevard Émile Jacqmain 12" in text and "1000 BRUXELLES" in text
    assert {"nl": "BELGIË", "en": "BELGIUM", "fr": "BELGIQUE"}[lang] in text  # a foreign country, in the language
    assert expect["april"] in text
    assert date(2026, 4, 8).strftime("%d").lstrip("0") + " " in text
    assert expect["salutation"] in text
    for word in expect.get("accented", []):
        assert word in text
    assert case.reference in text


# An acknowledgement written after a date has passed does not promise it (found in use: one issued on
# 7 December said "we will answer no later than 13 November"); nor does it say that asking the subject for
# more stops the clock once asking no longer would (LEGAL.md T5: only when asked without undue delay).
LATE_ACKNOWLEDGEMENT = {
    "en": {"promise": "no later than {promise}", "middle": "we have not managed it, for which we apologise",
           "until": "when the period the law allows us (Article 12(3) GDPR) ends",
           "late": "We have not answered in time", "extension": "extend this period by two further months",
           "waits": "if we ask no later than {ask_by}, the period for our answer waits", "write": "we will write to you."},
    "nl": {"promise": "uiterlijk op {promise}", "middle": "dat is ons niet gelukt. Onze excuses daarvoor",
           "until": "wanneer de termijn die de wet ons geeft",
           "late": "Wij hebben niet op tijd geantwoord", "extension": "met twee maanden verlengen",
           "waits": "vragen wij het uiterlijk op {ask_by}, dan wacht de termijn", "write": "schrijven wij u."},
    "fr": {"promise": "au plus tard le {promise}", "middle": "nous ne l'avons pas tenu",
           "until": "date à laquelle expire le délai légal (article 12, paragraphe 3, du RGPD)",
           "late": "Nous n'avons pas répondu à temps", "extension": "prolonger ce délai de deux mois",
           "waits": "si nous le faisons au plus tard le {ask_by}, le délai de notre réponse est suspendu",
           "write": "nous vous écrirons."},
}


@pytest.mark.parametrize("lang", ACKNOWLEDGEMENT_LANGUAGES)
def test_an_acknowledgement_written_late_promises_no_date_that_has_passed(people, lang):
    from flask import current_app

    from dsr.cases.deadlines import case_clock, working_calendar

    case = _case(people, received_on=date(2026, 10, 1), today=date(2026, 10, 1))
    db.session.commit()
    clock = case_clock(case, working_calendar(), date(2026, 10, 2),
                       ask_working_days=current_app.config["PAUSE_ASK_WORKING_DAYS"])
    promise, due = clock.promise_answer_by, clock.due_on
    words = LATE_ACKNOWLEDGEMENT[lang]
    promised = words["promise"].format(promise=render.format_date(promise, lang))

    def letter(day: date) -> str:
        made = operations.render_letter(case, LetterKind.ACKNOWLEDGEMENT, LetterLanguage(lang), today=day)
        keep_for_review(made.pdf, f"acknowledgement-{lang}-{day.isoformat()}")
        return pdf_text(made.pdf)

    ask_by = clock.ask_deadline  # PAUSE_ASK_WORKING_DAYS after receipt
    waits = words["waits"].format(ask_by=render.format_date(ask_by, lang))
    assert date(2026, 10, 1) < ask_by < promise
    for day in (date(2026, 10, 1), ask_by):  # while asking still stops the clock, the letter says until when
        text = letter(day)
        assert promised in text and waits in text and words["write"] not in text
    after = letter(ask_by + timedelta(days=1))
    assert promised in after and words["write"] in after
    assert words["waits"].split("{ask_by}")[1] not in after

    on_time = letter(promise)  # on the promised day itself, as ever
    assert promised in on_time and words["extension"] in on_time
    assert words["middle"] not in on_time and words["late"] not in on_time
    assert words["write"] in on_time and words["waits"].split("{ask_by}")[1] not in on_time

    middle = promise + timedelta(days=1)
    assert middle <= due  # the promise of four weeks falls before the legal month ends
    text = letter(middle)
    assert promised not in text and words["middle"] in text and words["until"] in text
    assert render.format_date(due, lang) in text and words["extension"] in text

    assert words["write"] in text and words["waits"].split("{ask_by}")[1] not in text

    text = letter(due + timedelta(days=1))
    assert promised not in text and words["late"] in text and words["extension"] not in text
    assert render.format_date(due, lang) in text and "Autoriteit Persoonsgegevens" in text
    assert words["write"] in text and words["waits"].split("{ask_by}")[1] not in text


# The other letters that state a deadline promise none that has passed either, and say the clock stops only when
# the case records that it does (a pause counted: LEGAL.md T5).
LATE_EXTENSION = {
    "en": {"promise": "no later than {extended}", "late": "we apologise that this letter reaches you late",
           "told": "and we told you so on {sent}", "ended": "The extended period ended on {extended}",
           "sooner": "if we can answer sooner, we will", "would": "would have ended on {original}"},
    "nl": {"promise": "uiterlijk op {extended}", "late": "onze excuses dat deze brief u te laat bereikt",
           "told": "en dat hebben wij u op {sent} laten weten",
           "ended": "Ook de verlengde termijn is op {extended} geëindigd",
           "sooner": "kunnen wij eerder antwoorden, dan doen wij dat", "would": "zou zijn geëindigd op {original}"},
    "fr": {"promise": "au plus tard le {extended}", "late": "nous vous prions de nous excuser de ce retard",
           "told": "et nous vous l'avons fait savoir le {sent}",
           "ended": "Ce délai prolongé a lui aussi expiré, le {extended}",
           "sooner": "si nous pouvons vous répondre plus tôt, nous le ferons",
           "would": "devait expirer le {original}"},
}


def _letter_text(case, kind: LetterKind, lang: str, day: date, name: str) -> str:
    made = operations.render_letter(case, kind, LetterLanguage(lang), today=day)
    keep_for_review(made.pdf, f"{name}-{lang}-{day.isoformat()}")
    return " ".join(pdf_text(made.pdf).replace("\u2010 ", "").split())


@pytest.mark.parametrize("lang", ALL_KINDS_LANGUAGES)
def test_an_extension_notice_written_late_promises_no_date_that_has_passed(people, lang):
    """Art. 12(3): the subject is told of an extension within the first month. A notice written after that month
    says it comes late (unless the case records the subject was told in time), and one written after the
    extended deadline does not promise it."""
    case = _extended(people, None)
    db.session.commit()
    original, extended = case.extension_notice_due_on, case.extended_due_on
    words = {k: v.format(original=render.format_date(original, lang), extended=render.format_date(extended, lang),
                         sent=render.format_date(TODAY, lang)) for k, v in LATE_EXTENSION[lang].items()}

    def letter(day: date, name: str = "extension_notice") -> str:
        return _letter_text(case, LetterKind.EXTENSION_NOTICE, lang, day, name)

    for day in (TODAY, original):  # in time, as ever
        text = letter(day)
        assert words["promise"] in text and words["sooner"] in text
        assert words["late"] not in text and words["ended"] not in text
    for day in (original + timedelta(days=1), extended):  # after the first month: late, the promise still holds
        text = letter(day)
        assert words["promise"] in text and words["late"] in text and words["would"] in text
        assert words["ended"] not in text
    text = letter(extended + timedelta(days=1))  # after the extended deadline: no promise of a past day
    assert words["promise"] not in text and words["ended"] in text and words["late"] in text
    assert words["sooner"] not in text

    timing.record_extension_notice(case, sent_on=TODAY, actor=people.staff, now=NOW, today=TODAY)
    db.session.commit()  # told in time (by e-mail, say): a later copy of the notice does not say it is late
    text = letter(original + timedelta(days=1), "extension_notice-told")
    assert words["told"] in text and words["late"] not in text and words["promise"] in text
    text = letter(extended + timedelta(days=1), "extension_notice-told")
    assert words["told"] in text and words["late"] not in text and words["ended"] in text


LATE_INFORMATION_REQUEST = {
    "en": {"promise": "we will answer by {due} at the latest", "ended": "which ended on {due}",
           "suspended": "is suspended"},
    "nl": {"promise": "wij antwoorden uiterlijk op {due}", "ended": "die termijn is op {due} verstreken",
           "suspended": "opgeschort totdat"},
    "fr": {"promise": "nous vous répondrons au plus tard le {due}", "ended": "qui a expiré le {due}",
           "suspended": "est suspendu"},
}


@pytest.mark.parametrize("lang", ALL_KINDS_LANGUAGES)
def test_an_information_request_asked_late_promises_no_date_that_has_passed(people, lang):
    """Information asked for after PAUSE_ASK_WORKING_DAYS does not stop the clock (LEGAL.md T5): the letter gives
    the deadline in force while it has not passed, and after it says that it has, without promising it."""
    from dsr.cases.deadlines import case_clock, working_calendar

    case = _case(people, received_on=date(2026, 10, 1), today=date(2026, 10, 1))
    asked = date(2026, 10, 20)
    timing.request_information(case, reason=STAFF_NOTES["information_request"], requested_on=asked,
                               actor=people.staff, now=NOW, today=asked)
    write_texts(case, people, "information_request", case.pauses[-1].id)
    db.session.commit()
    assert not case.pauses[-1].counted
    due = case_clock(case, working_calendar(), asked).due_on
    words = {k: v.format(due=render.format_date(due, lang)) for k, v in LATE_INFORMATION_REQUEST[lang].items()}

    for day in (asked, due):
        text = _letter_text(case, LetterKind.INFORMATION_REQUEST, lang, day, "information_request-late")
        assert words["promise"] in text and words["ended"] not in text and words["suspended"] not in text
    text = _letter_text(case, LetterKind.INFORMATION_REQUEST, lang, due + timedelta(days=1),
                        "information_request-late")
    assert words["promise"] not in text and words["ended"] in text and words["suspended"] not in text
    assert "Autoriteit Persoonsgegevens" in text


FEE_CLOCK = {
    "en": {"suspended": "until then, the time we have to answer is suspended",
           "runs": "does not suspend the time we have to answer (Article 12(3) GDPR): it ends on {due}",
           "ended": "which ended on {due}"},
    "nl": {"suspended": "tot dan staat de termijn voor ons antwoord stil",
           "runs": "niet stil: die eindigt op {due}", "ended": "die termijn is op {due} verstreken"},
    "fr": {"suspended": "d’ici là, le délai de réponse est suspendu",
           "runs": "ne suspend pas le délai de notre réponse (article 12, paragraphe 3, du RGPD), qui expire le {due}",
           "ended": "qui a expiré le {due}"},
}


@pytest.mark.parametrize("lang", ALL_KINDS_LANGUAGES)
def test_a_fee_proposed_in_time_says_the_clock_waits(people, lang):
    """Waiting for the subject to agree to a fee stops the clock when the fee was proposed within
    PAUSE_ASK_WORKING_DAYS of receipt (the pause counts, LEGAL.md T5)."""
    words = FEE_CLOCK[lang]
    in_time = _fee_warned(people, None)  # proposed six days after receipt, a Friday: within five working days
    db.session.commit()
    assert in_time.pauses[-1].counted
    text = _letter_text(in_time, LetterKind.FEE_WARNING, lang, TODAY, "fee_warning-in-time")
    assert words["suspended"] in text and words["runs"].split("{due}")[0] not in text


@pytest.mark.parametrize("lang", ALL_KINDS_LANGUAGES)
def test_a_fee_proposed_late_does_not_say_the_clock_waits(people, lang):
    """A fee proposed later than PAUSE_ASK_WORKING_DAYS after receipt is a late ask: the clock runs on, and the
    letter says so and until when, and after that day that the period has ended."""
    from dsr.cases.deadlines import case_clock, working_calendar

    words = FEE_CLOCK[lang]
    proposed = date(2026, 12, 4)
    late = _fee_warned(people, None, proposed_on=proposed)
    db.session.commit()
    assert not late.pauses[-1].counted
    due = case_clock(late, working_calendar(), proposed).due_on
    runs, ended = (words[k].format(due=render.format_date(due, lang)) for k in ("runs", "ended"))
    for day in (proposed, due):
        text = _letter_text(late, LetterKind.FEE_WARNING, lang, day, "fee_warning-late")
        assert runs in text and words["suspended"] not in text and ended not in text
    text = _letter_text(late, LetterKind.FEE_WARNING, lang, due + timedelta(days=1), "fee_warning-late")
    assert ended in text and runs not in text and words["suspended"] not in text


def test_all_three_languages_in_one_pdf_each_numbering_its_own_pages(people):
    case = _case(people, language=Language.EN)
    db.session.commit()
    made = operations.render_letter(case, LetterKind.ACKNOWLEDGEMENT, LetterLanguage.ALL, today=TODAY)
    keep_for_review(made.pdf, "acknowledgement-all")
    pages = page_texts(made.pdf)
    assert len(pages) == made.pages == 3
    for page, lang in zip(pages, ("nl", "en", "fr"), strict=True):
        assert EXPECT[lang]["salutation"] in page
        assert EXPECT[lang]["received"] in page
        assert "1 / 1" in page  # each letter counts its own pages, not "1 / 3"


def test_a_long_letter_numbers_its_pages_and_repeats_the_reference(people, systems):
    case = _erased(people, systems)
    db.session.commit()
    made = operations.render_letter(case, LetterKind.COMPLETION_ERASURE, LetterLanguage.EN, today=TODAY)
    pages = page_texts(made.pdf)
    assert len(pages) >= 2
    for n, page in enumerate(pages, start=1):
        assert f"{n} / {len(pages)}" in page
    for page in pages[1:]:
        assert f"Our reference {case.reference}" in page


# -- issuing ---------------------------------------------------------------------------------------------------

def _issue(case, kind, language, actor) -> IssuedLetter:
    job = operations.request_letter(case, kind, language, actor=actor, now=NOW)
    db.session.commit()
    job_id = job.id
    runner.dispatch(job)
    job = db.session.get(Job, job_id)
    db.session.refresh(job)
    assert job.status is JobStatus.SUCCEEDED, job.error
    return db.session.execute(sa.select(IssuedLetter).where(IssuedLetter.job_id == job_id)).scalar_one()


def test_a_letter_job_reads_its_case_once_and_reports_no_progress(people):
    """The job a worker runs for a letter (issue 15, the letter ÷ bare WeasyPrint row): the case with its
    subject, rights and pauses in one read, no look for an earlier attempt's letter on the first attempt, and
    no progress reports (each is a transaction of its own; a letter takes a fraction of a second)."""
    case = _case(people)
    db.session.commit()
    _issue(case, LetterKind.ACKNOWLEDGEMENT, LetterLanguage.EN, people.staff)  # warms the per-process caches
    job = operations.request_letter(case, LetterKind.ACKNOWLEDGEMENT, LetterLanguage.EN, actor=people.staff,
                                    now=NOW)
    db.session.commit()
    job_id = job.id
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()))

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert runner.perform(job_id) == "succeeded"
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert sum(s.startswith("SELECT cases.") for s in statements) == 1, statements
    assert not any(s.startswith("SELECT data_subjects") or s.startswith("SELECT case_rights")
                   or s.startswith("SELECT case_pauses") for s in statements), statements
    assert not any("FROM issued_letters WHERE issued_letters.job_id" in s for s in statements), statements
    progress_writes = [s for s in statements if s.startswith("UPDATE jobs SET progress=")]
    assert progress_writes == [], progress_writes
    assert len(statements) <= 16, statements


def test_issuing_stores_the_pdf_with_its_sha256_and_a_reissue_is_a_new_version(people):
    case = _case(people)
    db.session.commit()
    first = _issue(case, LetterKind.ACKNOWLEDGEMENT, LetterLanguage.NL, people.staff)
    path = path_for(first)
    stored = path.read_bytes()
    assert hashlib.sha256(stored).hexdigest() == first.sha256 and len(stored) == first.size
    assert path.is_relative_to(storage_root() / "letters")
    assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert (first.version, first.kind, first.language, first.issued_by_id) == (
        1, LetterKind.ACKNOWLEDGEMENT, LetterLanguage.NL, people.staff.id)
    assert "Geachte" in pdf_text(stored)

    second = _issue(case, LetterKind.ACKNOWLEDGEMENT, LetterLanguage.EN, people.staff)
    assert second.version == 2 and second.storage_key != first.storage_key
    assert path.read_bytes() == stored  # the first version never changes
    third = _issue(case, LetterKind.ACKNOWLEDGEMENT, LetterLanguage.ALL, people.staff)
    assert third.version == 3 and third.pages == 3

    events = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "letter.issued")
                                .order_by(AuditEvent.id)).scalars().all()
    assert [e.after["version"] for e in events] == [1, 2, 3]
    assert events[0].after["sha256"] == first.sha256

    first.sha256 = "0" * 64
    with pytest.raises(ImmutableLetter):
        db.session.flush()
    db.session.rollback()


def test_a_retried_letter_job_makes_one_version_and_leaves_no_stray_file(people):
    case = _case(people)
    db.session.commit()
    blocker = storage_root() / "letters"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("in the way")  # the letters folder cannot be made: the job fails
    job = operations.request_letter(case, LetterKind.ACKNOWLEDGEMENT, LetterLanguage.EN, actor=people.staff, now=NOW)
    db.session.commit()
    job_id = job.id
    runner.dispatch(job)
    job = db.session.get(Job, job_id)
    db.session.refresh(job)
    assert job.status is JobStatus.FAILED and job.error
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IssuedLetter)) == 0

    blocker.unlink()
    runner.retry(job, actor=people.staff, now=NOW)
    db.session.commit()
    runner.dispatch(job)
    db.session.refresh(job)
    assert job.status is JobStatus.SUCCEEDED
    letter = db.session.execute(sa.select(IssuedLetter)).scalar_one()
    assert letter.version == 1 and letter.job_id == job_id

    # A job whose letter was stored but whose worker died before saying so: run again, it finds the letter.
    again = operations.issue(job, now=NOW + timedelta(minutes=5))
    assert again.id == letter.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IssuedLetter)) == 1
    assert [p.name for p in (storage_root() / "letters").rglob("*") if p.is_file()] == [Path(letter.storage_key).name]


def test_issuing_the_extension_notice_fulfils_the_obligation(people):
    case = _extended(people, None)
    db.session.commit()
    assert case.extension_notice_owed
    letter = _issue(case, LetterKind.EXTENSION_NOTICE, LetterLanguage.EN, people.staff)
    db.session.refresh(case)
    assert not case.extension_notice_owed and case.extension_notice_sent_on == TODAY
    sent = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "case.extension_notice_sent")).scalar_one()
    assert sent.after["late"] is False
    assert render.format_date(case.extended_due_on, "en") in pdf_text(path_for(letter).read_bytes())
    # A second version of the notice is a new letter; the obligation stays met, recorded once.
    _issue(case, LetterKind.EXTENSION_NOTICE, LetterLanguage.EN, people.staff)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "case.extension_notice_sent")) == 1


def test_a_letter_that_does_not_fit_the_case_is_refused_before_anything_is_queued(people):
    case = _case(people, rights=(Right.ACCESS,))
    db.session.commit()
    for kind in (LetterKind.COMPLETION_ERASURE, LetterKind.REFUSAL, LetterKind.EXTENSION_NOTICE,
                 LetterKind.INFORMATION_REQUEST, LetterKind.COMPLETION_ACCESS):
        with pytest.raises(RuleViolation):
            operations.request_letter(case, kind, LetterLanguage.EN, actor=people.staff, now=NOW)
    lifecycle.start_work(case, actor=people.staff, now=NOW)
    for lang in ("nl", "fr"):
        if not render.available(LetterKind.COMPLETION_ACCESS, lang):  # until a translator writes it
            with pytest.raises(RuleViolation, match="no .* text"):
                operations.request_letter(case, LetterKind.COMPLETION_ACCESS, LetterLanguage(lang),
                                          actor=people.staff, now=NOW)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0


# -- injection ------------------------------------------------------------------------------------------------

def test_typed_markup_is_printed_as_text_and_nothing_is_fetched(people):
    case = _case(people, name=EVIL_NAME, notes=EVIL_NOTE)
    timing.request_information(case, reason="Internal", requested_on=TODAY, actor=people.staff, now=NOW, today=TODAY)
    db.session.flush()
    save_text(case, TextPurpose.INFORMATION_REQUEST, case.pauses[-1].id, "en", f"{EVIL_NOTE} and {EVIL_NAME}",
              actor=people.staff, now=NOW)  # the text the letter quotes carries the markup
    db.session.commit()
    made = operations.render_letter(case, LetterKind.INFORMATION_REQUEST, LetterLanguage.EN, today=TODAY)
    keep_for_review(made.pdf, "injection-en")
    text = pdf_text(made.pdf)
    assert EVIL_NAME in text and EVIL_NOTE in text
    assert "&lt;" not in text  # escaped once, not twice
    assert made.fetcher.refused == []
    assert not any("passwd" in url for url in made.fetcher.fetched)
    assert all(url.startswith(render.ASSETS_DIR.as_uri()) for url in made.fetcher.fetched)


def test_the_fetcher_refuses_files_outside_the_assets_and_the_network():
    fetcher = pdf.safe_fetcher()
    for url in ("file:///etc/passwd", "http://example.com/x.css", "data:text/css,body{}",
                (render.ASSETS_DIR / ".." / ".." / "config.py").as_uri()):
        with pytest.raises(pdf.RefusedURL):
            fetcher.fetch(url)
    assert fetcher.refused[0] == "file:///etc/passwd" and len(fetcher.refused) == 4
    assert fetcher.fetched == []


# -- rule texts and the data map's names in the letter's language ---------------------------------------------

LOCALISED = {
    "nl": {"erasure": ["Polisadministratie", "Facturen", "Fiscale bewaarplicht facturen en premiebetalingen",
                       "Wettelijke verplichting: facturen en premiebetalingen"],
           "access": ["Fiscale bewaarplicht facturen en premiebetalingen", "Papieren archief",
                      "Focus Feedback (verwerker)"]},
    "fr": {"erasure": ["Gestion des polices", "Factures", "Obligation légale de conservation fiscale",
                       "font partie de la comptabilité"],
           "access": ["Obligation légale de conservation fiscale", "Archives papier",
                      "Focus Feedback (sous-traitant)"]},
}


@pytest.mark.parametrize("lang", ["nl", "fr"])
def test_erasure_and_access_letters_quote_rules_and_name_systems_in_their_language(people, systems, lang):
    """The retention rules' titles and bases and the data map's names of systems and collections are data, not
    template text: a Dutch or French letter quotes them in its own language, never the English."""
    from dsr.datamap.sources import load_sources
    from dsr.domain.retention_rules import load_rules

    rules = load_rules().rules
    english = [r.title for r in rules] + [" ".join(r.basis.split())[:40] for r in rules]
    english += [s.name for s in load_sources({}).values()]  # "Policy administration", "Paper archive", ...
    english += ["Still referred to by records", "invoices", "premium payments", "call recordings"]

    erased = _erased(people, systems)
    access = BUILDERS[LetterKind.COMPLETION_ACCESS](people, systems)
    db.session.commit()
    for case, kind, part in ((erased, LetterKind.COMPLETION_ERASURE, "erasure"),
                             (access, LetterKind.COMPLETION_ACCESS, "access")):
        made = operations.render_letter(case, kind, LetterLanguage(lang), today=TODAY)
        keep_for_review(made.pdf, f"{kind.value}-names-{lang}")
        text = pdf_text(made.pdf).replace("\u2010 ", "")  # undo the hyphenation at line ends
        for words in LOCALISED[lang][part]:
            assert words in text, f"{kind} ({lang}) does not say {words!r}"
        for words in english:
            assert words not in text, f"{kind} ({lang}) quotes the English {words!r}"


@pytest.mark.parametrize("lang", ["nl", "en", "fr"])
def test_the_access_letter_names_the_recipients_the_records_name(people, systems, lang):
    """CJEU C-154/21 (issue 14, item 4): the risk bearer, the repairer and the sales partner by name, as the
    subject's records give them; the statement's category only where no record names one."""
    from dsr.fulfilment.statement import load_statement
    from tests.harmony_support import execute, rows

    customer = customer_with_everything(systems)
    execute(systems, "UPDATE customers SET sales_channel = 'partner:Belsimpel' WHERE id = :c", c=customer["id"])
    bearers = {r["risk_bearer"] for r in rows(systems, "SELECT risk_bearer FROM policies WHERE customer_id = :c",
                                               c=customer["id"])}
    case = _accessed(people, systems)
    db.session.commit()
    made = operations.render_letter(case, LetterKind.COMPLETION_ACCESS, LetterLanguage(lang), today=TODAY)
    keep_for_review(made.pdf, f"completion_access-recipients-{lang}")
    text = " ".join(pdf_text(made.pdf).replace("\u2010 ", "").split())
    assert bearers and all(bearer in text for bearer in bearers)
    assert "Belsimpel" in text and "partner:Belsimpel" not in text
    names = {r.id: r.name[lang] for r in load_statement().recipients}
    assert names["risk_bearer"] in text  # what the named recipient is, beside its name
    assert names["regulators"] in text  # no record names them: the statement's category


def test_a_record_kept_by_decision_is_explained_by_its_text_for_the_subject(people, systems):
    """Issue 14.2: the erasure letter says why the privacy manager keeps a record in the text written for the
    subject in its language, never the decision's reason; a new reason takes the texts of the old one away."""
    from dsr.domain.retention_rules import Action
    from dsr.fulfilment.erasure import approve_plan, build_erasure_plan, execute_plan
    from dsr.fulfilment.erasure.plan import decide_item
    from dsr.fulfilment.erasure.tasks import record_task_done
    from dsr.texts.operations import MissingSubjectText

    case, lookup = _looked_up(people, systems, (Right.ERASURE,))
    plan = build_erasure_plan(case, lookup, actor=people.staff, now=NOW, today=TODAY)
    kept = next(i for i in plan.items if not i.is_task and i.action is Action.ERASE)
    decide_item(kept, action="keep", reason="Disputed, file C-1", actor=people.manager, now=NOW,
                subject_texts={"nl": "Eerdere tekst.", "en": "Earlier text."})
    decide_item(kept, action="keep", reason="Disputed, file C-1", actor=people.manager, now=NOW)
    assert {t.language for t in db.session.execute(sa.select(SubjectText)).scalars()} == {"nl", "en"}
    decide_item(kept, action="keep", reason=STAFF_NOTES["erasure_kept"], actor=people.manager, now=NOW,
                subject_texts={"nl": SUBJECT_TEXTS["erasure_kept"]["nl"]})
    assert [(t.language, t.body) for t in db.session.execute(sa.select(SubjectText)).scalars()] == [
        ("nl", SUBJECT_TEXTS["erasure_kept"]["nl"])]  # the English text was written for the earlier reason
    approve_plan(plan, actor=people.manager, now=NOW)
    execute_plan(plan, actor=people.staff, now=NOW, today=TODAY)
    for task in (i for i in plan.items if i.is_task):
        record_task_done(task, done_on=TODAY, actor=people.staff, now=NOW, today=TODAY)
    _manual_tasks_done(case, people)
    _recipients_told(case, people)
    db.session.commit()
    text = pdf_text(operations.render_letter(case, LetterKind.COMPLETION_ERASURE, LetterLanguage.NL,
                                             today=TODAY).pdf)
    assert SUBJECT_TEXTS["erasure_kept"]["nl"] in " ".join(text.split())
    assert "C-1" not in text and "C-2291" not in text
    with pytest.raises(MissingSubjectText, match="has no English text for the subject"):
        operations.render_letter(case, LetterKind.COMPLETION_ERASURE, LetterLanguage.EN, today=TODAY)
    with pytest.raises(MissingSubjectText):
        operations.request_letter(case, LetterKind.PARTIAL_REFUSAL, LetterLanguage.EN, actor=people.staff, now=NOW)


# -- letters that would say what the case no longer records ---------------------------------------------------

def test_no_request_for_information_is_written_once_the_reply_is_recorded(people):
    """The subject's reply recorded (the pause ended): a request for information would say the period "is
    suspended ... until we receive it" and ask for the reply again. Refused with the reason, before anything is
    queued; the letter issued while it was waiting stays on file, and a new request has a letter of its own,
    quoting that request."""
    case = _information_requested(people, None)
    db.session.commit()
    asked = _issue(case, LetterKind.INFORMATION_REQUEST, LetterLanguage.EN, people.staff)
    timing.information_received(case, received_on=TODAY, actor=people.staff, now=NOW, today=TODAY)
    db.session.commit()

    for make in (lambda: operations.render_letter(case, LetterKind.INFORMATION_REQUEST, LetterLanguage.EN,
                                                  today=TODAY),
                 lambda: operations.request_letter(case, LetterKind.INFORMATION_REQUEST, LetterLanguage.EN,
                                                   actor=people.staff, now=NOW)):
        with pytest.raises(RuleViolation, match=f"{case.reference} is not waiting for information. Record what "
                                                "information is asked for"):
            make()
    db.session.rollback()
    assert [letter.id for letter in operations.letters_of(case)] == [asked.id]  # the letter that asked stays on file

    again = timing.request_information(case, reason="Ask for the claim number", requested_on=TODAY,
                                       actor=people.staff, now=NOW, today=TODAY)
    db.session.flush()
    save_text(case, TextPurpose.INFORMATION_REQUEST, again.id, "en", "The number of the claim you mean.",
              actor=people.staff, now=NOW)
    db.session.commit()
    text = _letter_text(case, LetterKind.INFORMATION_REQUEST, "en", TODAY, "information_request-again")
    assert "The number of the claim you mean." in text
    assert SUBJECT_TEXTS["information_request"]["en"] not in text


RESTRICTION_ANSWER = {"en": "From now on we only store these data",
                      "nl": "Wij bewaren deze gegevens voortaan alleen nog",
                      "fr": "Désormais, nous ne faisons que conserver ces données"}


def test_the_restriction_answer_is_not_written_again_once_its_lifting_is_decided(people, systems):
    """After the decision to lift, the answer to the restriction request would still say "From now on we only
    store these data" and "We will write to you before we lift the restriction"; once lifted, over an empty
    table. The lifting notice is the letter for the decision (Art. 18(3)); the answer issued before it stays on
    file."""
    from dsr.restriction import operations as restriction

    case = _restricted(people, systems)
    db.session.commit()
    answer = _issue(case, LetterKind.COMPLETION_RESTRICTION, LetterLanguage.EN, people.staff)
    lifecycle.submit_for_approval(case, actor=people.staff, now=NOW)
    lifecycle.complete(case, decision="Restricted as asked.", actor=people.manager, now=NOW,
                       override_reason="The checklist is not what this test is about")
    db.session.commit()
    for lang in ALL_KINDS_LANGUAGES:  # answered: a copy of the answer still fits, and says it as it is
        text = _letter_text(case, LetterKind.COMPLETION_RESTRICTION, lang, TODAY, "completion_restriction-answered")
        assert RESTRICTION_ANSWER[lang] in text

    def refused(match: str) -> str:
        for make in (lambda: operations.render_letter(case, LetterKind.COMPLETION_RESTRICTION, LetterLanguage.EN,
                                                      today=TODAY),
                     lambda: operations.request_letter(case, LetterKind.COMPLETION_RESTRICTION, LetterLanguage.EN,
                                                       actor=people.staff, now=NOW)):
            with pytest.raises(RuleViolation, match=match) as caught:
                make()
        db.session.rollback()
        return str(caught.value)

    restriction.decide_lift(case, reason=STAFF_NOTES["restriction_lift"], actor=people.manager, now=NOW)
    write_texts(case, people, "restriction_lift")
    db.session.commit()
    assert "issue the letter announcing the lifting first" in refused("Lifting this restriction was already decided")
    _issue(case, LetterKind.RESTRICTION_LIFTING_NOTICE, LetterLanguage.EN, people.manager)
    assert "announcing" not in refused("Lifting this restriction was already decided")

    restriction.lift_restriction(case, actor=people.manager, now=NOW, today=TODAY)
    db.session.commit()
    refused("The restriction is already lifted")
    assert answer.id in [letter.id for letter in operations.letters_of(case)]


def test_a_restriction_lifted_before_it_was_answered_is_answered_by_the_lifting_notice(people, systems):
    """Lifting decided before the answer letter went out: the answer is no longer written, and the notice of the
    lifting (what was restricted, the decision, its reason) meets the checklist's answer item instead, so the
    case completes without an override."""
    from dsr.cases.checklist import checklist
    from dsr.restriction import operations as restriction

    case = _restricted(people, systems)
    restriction.decide_lift(case, reason=STAFF_NOTES["restriction_lift"], actor=people.manager, now=NOW)
    write_texts(case, people, "restriction_lift")
    db.session.commit()

    def answered() -> bool:
        return next(c for c in checklist(case, TODAY) if c.key == "letter_restriction").done

    assert not answered()
    with pytest.raises(RuleViolation, match="Lifting this restriction was already decided"):
        operations.render_letter(case, LetterKind.COMPLETION_RESTRICTION, LetterLanguage.EN, today=TODAY)
    db.session.rollback()
    _issue(case, LetterKind.RESTRICTION_LIFTING_NOTICE, LetterLanguage.EN, people.manager)
    assert answered()


# "We have granted part of your request", only where the case records a part granted.
GRANTED = {"en": "We have granted part of your request",
           "nl": "Wij hebben uw verzoek gedeeltelijk toegewezen",
           "fr": "Nous avons fait droit à une partie de votre demande"}
NOTHING_GRANTED = {"en": "This letter tells you what we cannot grant, and why",
                   "nl": "In deze brief leest u wat wij van uw verzoek niet kunnen toewijzen, en waarom",
                   "fr": "La présente lettre vous indique ce à quoi nous ne pouvons pas donner suite"}


def _nothing_erased(people, systems):
    """Erasure asked; the privacy manager keeps every record the rules would erase, and the paper file and the
    processor could not be reached: the case records nothing erased."""
    from dsr.domain.retention_rules import Action
    from dsr.fulfilment.erasure import approve_plan, build_erasure_plan, execute_plan
    from dsr.fulfilment.erasure.plan import decide_item
    from dsr.fulfilment.erasure.tasks import record_task_impossible

    case, lookup = _looked_up(people, systems, (Right.ERASURE,))
    plan = build_erasure_plan(case, lookup, actor=people.staff, now=NOW, today=TODAY)
    for item in plan.items:
        if not item.is_task and item.action is not Action.KEEP:
            decide_item(item, action="keep", reason=STAFF_NOTES["erasure_kept"], actor=people.manager, now=NOW)
            write_texts(case, people, "erasure_kept", item.id)
    approve_plan(plan, actor=people.manager, now=NOW)
    execute_plan(plan, actor=people.staff, now=NOW, today=TODAY)
    tasks = [i for i in plan.items if i.is_task]
    assert tasks, "the demo customer's paper file and processor are part of what this test is about"
    for task in tasks:
        record_task_impossible(task, reason="Not reachable.", actor=people.manager, now=NOW, today=TODAY)
    _manual_tasks_done(case, people)
    return case


@pytest.mark.parametrize("lang", ALL_KINDS_LANGUAGES)
def test_a_partial_refusal_that_records_nothing_granted_does_not_say_part_was_granted(people, systems, lang):
    from dsr.letters.facts import gather

    case = _nothing_erased(people, systems)
    db.session.commit()
    assert gather(case, LetterKind.PARTIAL_REFUSAL, language=lang, today=TODAY)["partial_refusal"]["granted"] == []
    made = operations.render_letter(case, LetterKind.PARTIAL_REFUSAL, LetterLanguage(lang), today=TODAY)
    keep_for_review(made.pdf, f"partial_refusal-nothing-granted-{lang}")
    text = " ".join(pdf_text(made.pdf).replace("\u2010 ", "").split())
    assert GRANTED[lang] not in text and NOTHING_GRANTED[lang] in text
    assert SUBJECT_TEXTS["erasure_kept"][lang] in text  # what is kept, and why, as ever
    for words in EXPECT[lang]["complaint"]:
        assert words in text


@pytest.mark.parametrize("lang", ALL_KINDS_LANGUAGES)
def test_a_partial_refusal_says_part_was_granted_when_the_case_records_records_erased(people, systems, lang):
    from dsr.letters.facts import gather

    case = build(LetterKind.PARTIAL_REFUSAL, people, systems)  # erased but for what is kept
    assert gather(case, LetterKind.PARTIAL_REFUSAL, language=lang,
                  today=TODAY)["partial_refusal"]["granted"] == ["erasure"]
    text = _letter_text(case, LetterKind.PARTIAL_REFUSAL, lang, TODAY, "partial_refusal-granted")
    assert GRANTED[lang] in text and NOTHING_GRANTED[lang] not in text
