"""Texts for the subject: what a case's letters may quote, entering them per language, the library.

:func:`quoted` is what the letters call: the text for ``purpose`` in the letter's language, or a
:class:`MissingSubjectText` naming the field and the language ("The refusal's justification has no Dutch
text for the subject"), so a Dutch letter never quotes what staff typed in English for themselves.
:func:`slots` lists what a case's letters may quote, each with the staff note it stands beside (shown to
staff, never printed). Every change is audited (``subject_text.saved``/``.removed``,
``paragraph.saved``/``.removed``); the library is the privacy managers' to keep.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask import g, has_request_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dsr.audit.operations import record
from dsr.auth.models import User
from dsr.auth.roles import MANAGERS, WRITERS
from dsr.cases.errors import InvalidInput, RuleViolation
from dsr.cases.guards import require_role
from dsr.cases.models import Case
from dsr.domain.enums import CaseState
from dsr.extensions import db
from dsr.texts.models import BODY_MAX, TEXT_LANGUAGES, StandardParagraph, SubjectText, TextPurpose

LANGUAGE_NAMES = {"nl": _l("Dutch"), "en": _l("English"), "fr": _l("French")}
PURPOSE_LABELS = {
    TextPurpose.REFUSAL: _l("The refusal's justification"),
    TextPurpose.PARTIAL_REFUSAL: _l("The reasons for the partial refusal"),
    TextPurpose.EXTENSION: _l("The reason for the extension"),
    TextPurpose.INFORMATION_REQUEST: _l("The information requested"),
    TextPurpose.CORRECTION_REFUSAL: _l("The reason for not making a correction"),
    TextPurpose.OBJECTION_OUTCOME: _l("The outcome of the balancing of an objection"),
    TextPurpose.FEE_BASIS: _l("The basis of the fee"),
    TextPurpose.RESTRICTION_LIFT: _l("The reason for lifting the restriction"),
    TextPurpose.AUTOMATED_DECISION: _l("The automated decision the request is about"),
    TextPurpose.AUTOMATED_VIEW: _l("The subject's view of the automated decision"),
    TextPurpose.AUTOMATED_OUTCOME: _l("The outcome of the review of the automated decision"),
    TextPurpose.ERASURE_KEPT: _l("The reason a record is kept by the privacy manager's decision"),
    TextPurpose.AUTOMATED_REVIEWER: _l("The reviewer of the automated decision, as the letter names them"),
    TextPurpose.NOTICE_NOT_MADE: _l("The reason a recipient was not told"),
}
TITLE_MAX = 200
_ANSWERING = frozenset({CaseState.IN_PROGRESS, CaseState.AWAITING_APPROVAL, CaseState.COMPLETED, CaseState.CLOSED})


class MissingSubjectText(RuleViolation):
    """A letter would quote a text that has not been written for the subject in the letter's language."""


@dataclass
class Slot:
    """One text a case's letters may quote: its purpose and item, what it is called, the staff note beside it."""

    purpose: TextPurpose
    item_id: int
    label: str
    note: str | None
    required: bool = True  # the letter cannot be issued without it (the partial refusal's reasons are optional)
    texts: dict[str, SubjectText] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.purpose.value}-{self.item_id}"


def parse_purpose(value: str | None) -> TextPurpose:
    try:
        return TextPurpose((value or "").strip())
    except ValueError:
        raise InvalidInput(_("Unknown purpose of a text: %(purpose)s.", purpose=value or ""), "purpose") from None


def parse_language(value: str | None) -> str:
    value = (value or "").strip()
    if value not in TEXT_LANGUAGES:
        raise InvalidInput(_("Unknown language: %(lang)s (choose nl, en or fr).", lang=value), "language")
    return value


def _texts(case: Case) -> dict[tuple[TextPurpose, int], dict[str, SubjectText]]:
    found: dict[tuple[TextPurpose, int], dict[str, SubjectText]] = {}
    if case.id is None:
        return found
    for t in db.session.execute(sa.select(SubjectText).where(SubjectText.case_id == case.id)).scalars():
        found.setdefault((t.purpose, t.item_id), {})[t.language] = t
    return found


def slots(case: Case) -> list[Slot]:
    """What ``case``'s letters may quote now, in the order the case got them, with the texts written so far."""
    from dsr.fees.operations import fee_of
    from dsr.objection.balancing import objections_for
    from dsr.rectification.models import CorrectionStatus
    from dsr.rectification.operations import corrections_of

    out: list[Slot] = []
    for pause in case.pauses:
        out.append(Slot(TextPurpose.INFORMATION_REQUEST, pause.id,
                        _("The information requested on %(day)s", day=pause.requested_on.isoformat()), pause.reason))
    if case.extended_due_on is not None:
        out.append(Slot(TextPurpose.EXTENSION, 0, str(PURPOSE_LABELS[TextPurpose.EXTENSION]), case.extension_reason))
    fee = fee_of(case)
    if fee is not None:
        out.append(Slot(TextPurpose.FEE_BASIS, 0, str(PURPOSE_LABELS[TextPurpose.FEE_BASIS]), fee.basis))
    for c in corrections_of(case):
        if c.status is CorrectionStatus.REFUSED:
            out.append(Slot(TextPurpose.CORRECTION_REFUSAL, c.id,
                            _("The reason for not correcting %(field)s", field=c.field.replace("_", " ")), c.reason))
    for o in objections_for(case):
        if o.decided_at is not None:
            out.append(Slot(TextPurpose.OBJECTION_OUTCOME, o.id,
                            _("The outcome of the objection to %(processing)s", processing=o.processing_name),
                            o.reasons))
    out += _restriction_and_automated_slots(case)
    out += _erasure_slots(case)
    out += _notice_slots(case)
    if case.refusal_ground is not None:
        out.append(Slot(TextPurpose.REFUSAL, 0, str(PURPOSE_LABELS[TextPurpose.REFUSAL]), case.decision))
    elif case.state in _ANSWERING:
        out.append(Slot(TextPurpose.PARTIAL_REFUSAL, 0, str(PURPOSE_LABELS[TextPurpose.PARTIAL_REFUSAL]),
                        case.decision, required=False))
    written = _texts(case)
    for slot in out:
        slot.texts = written.get((slot.purpose, slot.item_id), {})
    return out


def _restriction_and_automated_slots(case: Case) -> list[Slot]:
    from dsr.automated.models import request_of
    from dsr.restriction.models import lift_of

    out: list[Slot] = []
    lift = lift_of(case)
    if lift is not None:
        out.append(Slot(TextPurpose.RESTRICTION_LIFT, 0, str(PURPOSE_LABELS[TextPurpose.RESTRICTION_LIFT]),
                        lift.reason))
    request = request_of(case)
    if request is not None:
        out.append(Slot(TextPurpose.AUTOMATED_DECISION, 0, str(PURPOSE_LABELS[TextPurpose.AUTOMATED_DECISION]),
                        request.decision_described))
        if request.express_view:
            out.append(Slot(TextPurpose.AUTOMATED_VIEW, 0, str(PURPOSE_LABELS[TextPurpose.AUTOMATED_VIEW]),
                            request.subject_view))
        if request.reviewed:
            out.append(Slot(TextPurpose.AUTOMATED_REVIEWER, 0, str(PURPOSE_LABELS[TextPurpose.AUTOMATED_REVIEWER]),
                            request.reviewer))
            out.append(Slot(TextPurpose.AUTOMATED_OUTCOME, 0, str(PURPOSE_LABELS[TextPurpose.AUTOMATED_OUTCOME]),
                            request.outcome_text))
    return out


def _notice_slots(case: Case) -> list[Slot]:
    """One per recipient recorded as not notifiable (Art. 19): the letter lists them, and says why only in a
    text written for the subject (the privacy manager's reason is the controller's record)."""
    from dsr.datamap import catalogue
    from dsr.fulfilment.statement import load_statement
    from dsr.notices.models import NoticeStatus, RecipientNotice

    if case.id is None:
        return []
    notices = db.session.execute(sa.select(RecipientNotice).where(
        RecipientNotice.case_id == case.id, RecipientNotice.status == NoticeStatus.NOT_NOTIFIABLE)
        .order_by(RecipientNotice.id)).scalars().all()
    if not notices:
        return []
    names = {r.id: r.name for r in catalogue.derived("statement", load_statement).recipients}
    lang = _ui_language()
    out = []
    for n in notices:
        name = n.label((names.get(n.recipient_id) or {}).get(lang) or n.recipient_id)
        out.append(Slot(TextPurpose.NOTICE_NOT_MADE, n.id, _("The reason %(recipient)s was not told", recipient=name),
                        n.reason, required=False))
    return out


def _ui_language() -> str:
    from flask_babel import get_locale

    lang = str(get_locale() or "en")[:2]
    return lang if lang in TEXT_LANGUAGES else "en"


def _erasure_slots(case: Case) -> list[Slot]:
    """One per record of the latest erasure plan the privacy manager decided to keep (the letter says why)."""
    from dsr.fulfilment.erasure.tasks import latest_plan
    from dsr.fulfilment.erasure.texts import held_since_approval, kept_by_decision

    plan = latest_plan(case) if case.id is not None else None
    if plan is None:
        return []
    slots = []
    for item in plan.items:
        label = _("The reason %(record)s is kept", record=_record_name(item))
        if kept_by_decision(item):
            slots.append(Slot(TextPurpose.ERASURE_KEPT, item.id, label, item.decision_reason))
        elif held_since_approval(item):  # the letter says a hold was placed; why, only if written here
            slots.append(Slot(TextPurpose.ERASURE_KEPT, item.id, label, item.basis, required=False))
    return slots


def _record_name(item) -> str:
    """A kept record as staff know it on the texts page: system, collection, key and date."""
    key = ", ".join(f"{k} {v}" for k, v in (item.primary_key or {}).items())
    day = f", {item.record_date.isoformat()}" if item.record_date else ""
    return f"{item.source}/{item.collection} ({key}{day})" if key else f"{item.source}/{item.collection}{day}"


def _slot(case: Case, purpose: TextPurpose, item_id: int) -> Slot:
    for slot in slots(case):
        if slot.purpose is purpose and slot.item_id == item_id:
            return slot
    raise InvalidInput(_("%(ref)s has nothing a letter would quote as %(what)s.", ref=case.reference,
                         what=PURPOSE_LABELS[purpose]), "purpose")


def quoted(case: Case, purpose: TextPurpose, language: str, item_id: int = 0, *, required: bool = True) -> str | None:
    """The text for the subject the letter in ``language`` quotes; :class:`MissingSubjectText` when there is
    none in that language. Not ``required``: ``None`` when there is none in any language."""
    texts = _texts(case).get((purpose, item_id), {})
    if language in texts:
        return texts[language].body
    if not required and not texts:
        return None
    try:
        label = _slot(case, purpose, item_id).label
    except InvalidInput:
        label = str(PURPOSE_LABELS[purpose])
    raise MissingSubjectText(_("%(field)s has no %(language)s text for the subject: write it under “Texts for the "
                               "subject” on the case page before making this letter.", field=label,
                               language=LANGUAGE_NAMES[language]))


def save_text(case: Case, purpose: TextPurpose, item_id: int, language: str, body: str | None, *,
              actor: User | None, now: datetime) -> SubjectText | None:
    """Write (or, with an empty ``body``, remove) the text for the subject; audited. The caller commits."""
    require_role(actor, *WRITERS, what=_l("write texts for the subject"))
    slot = _slot(case, purpose, item_id)
    language = parse_language(language)
    body = (body or "").strip().replace("\r\n", "\n")
    if len(body) > BODY_MAX:
        raise InvalidInput(_("The text is too long (at most %(max)d characters).", max=BODY_MAX), "body")
    existing = slot.texts.get(language)
    what = {"purpose": purpose, "item_id": item_id, "language": language}
    if not body:
        if existing is None:
            return None
        record("subject_text.removed", actor=actor, now=now, case=case, before={**what, "body": existing.body})
        db.session.delete(existing)
        db.session.flush()
        return None
    if existing is not None and existing.body == body:
        return existing
    before = {**what, "body": existing.body} if existing is not None else None
    if existing is None:
        existing = SubjectText(case=case, purpose=purpose, item_id=item_id, language=language)
        db.session.add(existing)
    existing.body, existing.author_id, existing.updated_at = body, actor.id if actor else None, now
    db.session.flush()
    record("subject_text.saved", actor=actor, now=now, case=case, before=before, after={**what, "body": body})
    return existing


def save_texts(case: Case, purpose: TextPurpose, item_id: int, texts: Mapping[str, str] | None, *,
               actor: User | None, now: datetime) -> None:
    """Write the texts for the subject an operation carries (``{language: text}``), in the operation's
    transaction: an operation that records a reason (``decide_lift``, ``record_review``, ...) takes them so a
    form or the API writes the staff's note and the subject's text at once. ``None``: nothing to write."""
    if texts is None:
        return
    if not isinstance(texts, Mapping) or not all(isinstance(t, str) for t in texts.values()):
        raise InvalidInput(_("The texts for the subject are given per language (nl, en, fr)."), "subject_texts")
    db.session.flush()
    for language, body in texts.items():
        save_text(case, purpose, item_id, language, body, actor=actor, now=now)


# -- the library ------------------------------------------------------------------------------------------

# Where a request keeps the library it read (dsr.texts.picker.library); a change to the library forgets it.
LIBRARY_CACHE = "dsr_paragraphs"


def _forget_library() -> None:
    if has_request_context():
        g.pop(LIBRARY_CACHE, None)


def paragraphs(purpose: TextPurpose | None = None, language: str | None = None) -> list[StandardParagraph]:
    query = sa.select(StandardParagraph).order_by(StandardParagraph.purpose, StandardParagraph.language,
                                                  StandardParagraph.title)
    if purpose is not None:
        query = query.where(StandardParagraph.purpose == purpose)
    if language is not None:
        query = query.where(StandardParagraph.language == language)
    return list(db.session.execute(query).scalars())


def save_paragraph(paragraph: StandardParagraph | None, *, purpose: TextPurpose, language: str, title: str,
                   body: str, actor: User | None, now: datetime) -> StandardParagraph:
    """Add a standard paragraph (``paragraph`` None) or change one; privacy managers only, audited."""
    require_role(actor, *MANAGERS, what=_l("keep the library of standard paragraphs"))
    language = parse_language(language)
    title, body = (title or "").strip(), (body or "").strip().replace("\r\n", "\n")
    if not title or len(title) > TITLE_MAX:
        raise InvalidInput(_("Give the paragraph a title of at most %(max)d characters.", max=TITLE_MAX), "title")
    if not body or len(body) > BODY_MAX:
        raise InvalidInput(_("Write the paragraph (at most %(max)d characters).", max=BODY_MAX), "body")
    clash = db.session.execute(sa.select(StandardParagraph).where(
        StandardParagraph.purpose == purpose, StandardParagraph.language == language,
        StandardParagraph.title == title)).scalar_one_or_none()
    if clash is not None and clash is not paragraph:
        raise InvalidInput(_("There is already a paragraph with this title for this purpose and language."), "title")
    before = None
    if paragraph is None:
        paragraph = StandardParagraph()
        db.session.add(paragraph)
    else:
        before = _paragraph_dict(paragraph)
    paragraph.purpose, paragraph.language, paragraph.title, paragraph.body = purpose, language, title, body
    paragraph.updated_by_id, paragraph.updated_at = (actor.id if actor else None), now
    db.session.flush()
    _forget_library()
    record("paragraph.saved", actor=actor, now=now, before=before, after=_paragraph_dict(paragraph))
    return paragraph


def remove_paragraph(paragraph: StandardParagraph, *, actor: User | None, now: datetime) -> None:
    require_role(actor, *MANAGERS, what=_l("keep the library of standard paragraphs"))
    record("paragraph.removed", actor=actor, now=now, before=_paragraph_dict(paragraph))
    db.session.delete(paragraph)
    db.session.flush()
    _forget_library()


def _paragraph_dict(p: StandardParagraph) -> dict:
    return {"paragraph_id": p.id, "purpose": p.purpose, "language": p.language, "title": p.title, "body": p.body}
