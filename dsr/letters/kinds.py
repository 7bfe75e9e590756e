"""The kinds of letter dsr writes, which cases each fits, and what each must be able to say.

A letter is a legal act: a completion letter for erasure on a case that asked only for access, or a refusal
on a case nobody refused, would tell the subject something untrue. :func:`check_fits` refuses such a letter
before any work is queued; :mod:`dsr.letters.facts` then gathers what the letter states.

Every refusal and partial refusal must state the reasons and the routes to the supervisory authority and to
the court (GDPR Art. 12(4)); :attr:`KindSpec.complaint_route` marks the kinds whose templates must carry
them (the erasure completion too: records it keeps are a refusal of that part of the request).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dsr.cases.errors import InvalidInput, RuleViolation
from dsr.cases.models import Case
from dsr.domain.enums import CaseState, Right


class LetterKind(enum.StrEnum):
    ACKNOWLEDGEMENT = "acknowledgement"
    INFORMATION_REQUEST = "information_request"
    EXTENSION_NOTICE = "extension_notice"
    COMPLETION_ACCESS = "completion_access"
    COMPLETION_RECTIFICATION = "completion_rectification"
    COMPLETION_ERASURE = "completion_erasure"
    COMPLETION_OBJECTION = "completion_objection"
    COMPLETION_PORTABILITY = "completion_portability"
    PARTIAL_REFUSAL = "partial_refusal"
    REFUSAL = "refusal"
    DECEASED = "deceased"  # a request about a deceased person (recital 27; issue 18, item 3)
    FEE_WARNING = "fee_warning"  # a further copy carries a fee: warned first (Art. 15(3); issue 18, item 5)
    COMPLETION_RESTRICTION = "completion_restriction"  # Art. 18: what was restricted, where, who was told
    RESTRICTION_LIFTING_NOTICE = "restriction_lifting_notice"  # told before a restriction is lifted (18(3))
    # The human review of an automated decision: outcome, the view considered (Art. 22(3); issue 18, item 2)
    COMPLETION_AUTOMATED = "completion_automated"


class LetterLanguage(enum.StrEnum):
    """The languages a letter is written in; ``all`` is one PDF with the letter in each of the three."""

    NL = "nl"
    EN = "en"
    FR = "fr"
    ALL = "all"


LANGUAGES = ("nl", "en", "fr")

_OPEN = frozenset({CaseState.RECEIVED, CaseState.IDENTITY_CHECK, CaseState.IN_PROGRESS,
                   CaseState.AWAITING_APPROVAL})
# A completion letter may be previewed while the work is being approved and issued once it is decided;
# an archived case keeps its letters (a re-issue after archiving is a new version of the same letter).
_ANSWERING = frozenset({CaseState.IN_PROGRESS, CaseState.AWAITING_APPROVAL, CaseState.COMPLETED,
                        CaseState.CLOSED})


@dataclass(frozen=True)
class KindSpec:
    kind: LetterKind
    label: object
    states: frozenset[CaseState]
    right: Right | None = None  # the right the case must invoke, if any
    complaint_route: bool = False  # states the routes to the AP and the court (Art. 12(4))
    # The facts the letter needs, gathered by dsr.letters.facts (documentation for the translator too).
    needs: tuple[str, ...] = ()


KINDS: dict[LetterKind, KindSpec] = {s.kind: s for s in (
    KindSpec(LetterKind.ACKNOWLEDGEMENT, _l("Acknowledgement of receipt"), _OPEN,
             needs=("deadlines",)),
    KindSpec(LetterKind.INFORMATION_REQUEST, _l("Request for identity or clarification"), _OPEN,
             needs=("information_request", "deadlines")),
    KindSpec(LetterKind.EXTENSION_NOTICE, _l("Extension notice"), _OPEN, needs=("extension",)),
    KindSpec(LetterKind.COMPLETION_ACCESS, _l("Completion: access (Art. 15)"), _ANSWERING, Right.ACCESS,
             needs=("access",)),
    KindSpec(LetterKind.COMPLETION_RECTIFICATION, _l("Completion: rectification (Art. 16)"), _ANSWERING,
             Right.RECTIFICATION, needs=("rectification",)),
    KindSpec(LetterKind.COMPLETION_ERASURE, _l("Completion: erasure (Art. 17)"), _ANSWERING, Right.ERASURE,
             complaint_route=True, needs=("erasure",)),
    KindSpec(LetterKind.COMPLETION_OBJECTION, _l("Completion: objection (Art. 21)"), _ANSWERING, Right.OBJECTION,
             needs=("objection",)),
    KindSpec(LetterKind.COMPLETION_PORTABILITY, _l("Completion: portability (Art. 20)"), _ANSWERING,
             Right.PORTABILITY, needs=("portability",)),
    KindSpec(LetterKind.PARTIAL_REFUSAL, _l("Partial refusal"), _ANSWERING, complaint_route=True,
             needs=("partial_refusal",)),
    KindSpec(LetterKind.REFUSAL, _l("Refusal"), frozenset({CaseState.REFUSED, CaseState.CLOSED}),
             complaint_route=True, needs=("refusal",)),
    KindSpec(LetterKind.DECEASED, _l("Answer about a deceased person"), _OPEN | _ANSWERING, needs=("deceased",)),
    KindSpec(LetterKind.FEE_WARNING, _l("Fee for a further copy (warning)"), _OPEN, Right.ACCESS, needs=("fee",)),
    KindSpec(LetterKind.COMPLETION_RESTRICTION, _l("Completion: restriction (Art. 18)"), _ANSWERING,
             Right.RESTRICTION, needs=("restriction",)),
    # Told before the restriction is lifted (18(3)); the lift often comes after the case was answered.
    KindSpec(LetterKind.RESTRICTION_LIFTING_NOTICE, _l("Notice: the restriction will be lifted (Art. 18(3))"),
             _OPEN | frozenset({CaseState.COMPLETED}), Right.RESTRICTION, complaint_route=True,
             needs=("restriction", "restriction_lift")),
    KindSpec(LetterKind.COMPLETION_AUTOMATED, _l("Completion: automated decision reviewed (Art. 22)"), _ANSWERING,
             Right.AUTOMATED_DECISION, complaint_route=True, needs=("automated",)),
)}

LANGUAGE_LABELS = {LetterLanguage.NL: "Nederlands", LetterLanguage.EN: "English", LetterLanguage.FR: "Français",
                   LetterLanguage.ALL: _l("All three, in one PDF")}


def parse_kind(value: str | None) -> LetterKind:
    try:
        return LetterKind((value or "").strip())
    except ValueError:
        raise InvalidInput(_("Unknown kind of letter: %(kind)s.", kind=value or ""), "kind") from None


def parse_language(value: str | None) -> LetterLanguage:
    try:
        return LetterLanguage((value or "").strip())
    except ValueError:
        raise InvalidInput(_("Unknown letter language: %(lang)s (choose nl, en, fr or all).", lang=value or ""),
                           "language") from None


def languages_of(language: LetterLanguage) -> tuple[str, ...]:
    """The languages a letter in ``language`` is rendered in, in the order they appear in the PDF."""
    return LANGUAGES if language is LetterLanguage.ALL else (language.value,)


def check_fits(case: Case, kind: LetterKind) -> KindSpec:
    """Refuse (``RuleViolation``) a letter that would say something untrue about ``case``."""
    spec = KINDS[kind]
    if case.reduced_at is not None:  # dsr's own retention left no subject to write to (dsr.casefiles)
        raise RuleViolation(_("%(ref)s was reduced under dsr's own retention: no letter can be made for it.",
                              ref=case.reference))
    if spec.right is not None and spec.right not in case.right_values:
        raise RuleViolation(_("%(ref)s does not invoke the right this letter answers (Art. %(art)s).",
                              ref=case.reference, art=spec.right.article))
    if case.state not in spec.states:
        raise RuleViolation(_("A letter of this kind does not fit %(ref)s in its current state (%(state)s).",
                              ref=case.reference, state=case.state.value))
    if kind is LetterKind.EXTENSION_NOTICE and case.extended_due_on is None:
        raise RuleViolation(_("%(ref)s has not been extended; extend the deadline first.", ref=case.reference))
    if kind is LetterKind.FEE_WARNING:
        from dsr.fees.models import FeeStatus
        from dsr.fees.operations import fee_of

        fee = fee_of(case)
        if fee is None or fee.status is not FeeStatus.WARNED:
            raise RuleViolation(_("%(ref)s has no fee waiting for the subject's answer.", ref=case.reference))
    if kind is LetterKind.DECEASED:
        if not case.subject_deceased:
            raise RuleViolation(_("%(ref)s does not record that the person has died.", ref=case.reference))
        from dsr.requesters.operations import requester_of

        if requester_of(case) is None:
            raise RuleViolation(_("Record who asked about the deceased person (a relative, heir or executor): "
                                  "the letter goes to them."))
    if kind is LetterKind.RESTRICTION_LIFTING_NOTICE:
        import sqlalchemy as sa

        from dsr.extensions import db
        from dsr.restriction.models import RestrictionLift

        lift = db.session.execute(sa.select(RestrictionLift).where(
            RestrictionLift.case_id == case.id)).scalar_one_or_none()
        if lift is None or lift.lifted_at is not None:
            raise RuleViolation(_("%(ref)s has no decision to lift its restriction waiting to be announced: "
                                  "decide to lift it first, with the reason.", ref=case.reference))
    if kind is LetterKind.COMPLETION_AUTOMATED:
        from dsr.automated.models import request_of

        request = request_of(case)
        if request is None or not request.reviewed:
            raise RuleViolation(_("%(ref)s records no human review of the automated decision yet: record who "
                                  "reviewed it, when and the outcome first.", ref=case.reference))
    if kind is LetterKind.REFUSAL and case.refusal_ground is None:
        raise RuleViolation(_("%(ref)s has not been refused.", ref=case.reference))
    if kind is LetterKind.INFORMATION_REQUEST:
        _check_information_asked(case)
    if kind is LetterKind.COMPLETION_RESTRICTION:
        _check_restriction_not_lifted(case)
    return spec


def _check_information_asked(case: Case) -> None:
    """The letter asks for what the open request for information asks, and says the period waits (or runs)
    until the reply comes: it fits only while one is open. Once the reply is recorded it would ask again for
    what has arrived; the letter that asked is on file (issued letters never change), and asking for more is a
    new request, with a letter of its own."""
    if not case.pauses:
        raise RuleViolation(_("Record what information is asked for (ask the subject for information) before "
                              "writing the letter that asks for it."))
    if all(p.resumed_on is not None for p in case.pauses):
        # Both sentences are the interface's own (translated) words: the case waits for nothing, and what to do.
        raise RuleViolation(" ".join((
            _("%(ref)s is not waiting for information.", ref=case.reference),
            _("Record what information is asked for (ask the subject for information) before writing the letter "
              "that asks for it."))))


def _check_restriction_not_lifted(case: Case) -> None:
    """The answer to a restriction request says the data are now only stored and that the subject is told before
    the restriction is lifted (Art. 18(2), (3)). Once lifting is decided that is no longer so: the lifting notice
    tells the subject (what was restricted, the decision and its reason), and once lifted the answer would list
    nothing. The answer issued before stays on file."""
    from dsr.restriction.models import lift_of

    lift = lift_of(case)
    if lift is None:
        return
    if lift.lifted_at is not None:
        raise RuleViolation(_("The restriction is already lifted."))
    message = _("Lifting this restriction was already decided.")
    if not issued_since(case, LetterKind.RESTRICTION_LIFTING_NOTICE, lift.decided_at):
        message += " " + _("Tell the subject before the restriction is lifted (Art. 18(3)): issue the letter "
                           "announcing the lifting first.")
    raise RuleViolation(message)


def issued_since(case: Case, kind: LetterKind, since) -> bool:
    """Whether a ``kind`` letter to ``case`` was issued at or after ``since``. Read from the issued letters'
    table by its columns' own types: this module cannot import their model (``dsr.letters.models`` imports
    this module, and an import inside a function is an import cycle too: tests/unit/test_contracts.py)."""
    import sqlalchemy as sa

    from dsr.extensions import UTCDateTime, db, enum_column_type

    issued = sa.table("issued_letters", sa.column("case_id", sa.Integer),
                      sa.column("kind", enum_column_type(LetterKind, "letter_kind")),
                      sa.column("issued_at", UTCDateTime))
    return db.session.scalar(sa.select(sa.func.count()).select_from(issued).where(
        issued.c.case_id == case.id, issued.c.kind == kind, issued.c.issued_at >= since)) > 0
