"""The field for a text for the subject on a form of the case page (issue 14.2): the case's language, the
library's standard paragraphs for the purpose in that language, and the paragraph chosen with
``?for=<key>&paragraph=<id>`` (a GET: nothing is saved) pre-filled into the field, for the person to adapt.

Every form that records a reason or a decision a letter quotes (refusal, extension, pause, lifting a
restriction, the Art. 22 request and review, a recipient not told) offers it, next to the staff note.
"""

from __future__ import annotations

from typing import Any

from flask import g, request
from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from dsr.cases.models import Case
from dsr.texts.models import BODY_MAX, TextPurpose
from dsr.texts.operations import LANGUAGE_NAMES, LIBRARY_CACHE, MissingSubjectText, paragraphs, quoted


def subject_text_field(case: Case, purpose: TextPurpose, key: str, field=None, *, item_id: int = 0,
                       what=None, current: bool = False) -> dict[str, Any]:
    """What the ``subject_text`` macro (templates/cases/_action.html) needs for the field ``key``; pre-fills
    ``field`` with the standard paragraph the request chose for it, or (``current``) with the text already
    written for the subject in the case's language, so correcting a record shows what the letter quotes.
    ``what`` names the text where a form has more than one."""
    language = case.language.value
    choices = [p for p in library(language) if p.purpose == purpose]
    wanted, chosen = request.args.get("for"), request.args.get("paragraph", type=int)
    pick = next((p for p in choices if p.id == chosen), None) if wanted == key else None
    if field is not None:
        if pick is not None:
            field.data = pick.body
        elif current and not field.data and case.id is not None:
            try:
                field.data = quoted(case, purpose, language, item_id, required=False)
            except MissingSubjectText:  # written in other languages only: the field stays empty
                field.data = None
    return {"action": key, "language": language, "language_name": LANGUAGE_NAMES[language], "choices": choices,
            "chosen": pick.id if pick else None, "prefilled": pick is not None, "what": what}


def library(language: str) -> list:
    """The standard paragraphs in ``language``, every purpose, read once per request: a case page offers them
    on several forms (refusal, extension, pause, and the cards'), each its purpose's share."""
    cache = g.setdefault(LIBRARY_CACHE, {})
    if language not in cache:
        cache[language] = paragraphs(language=language)
    return cache[language]


def chosen_for() -> str | None:
    """The field a standard paragraph was chosen for in this request (its card opens on it)."""
    return request.args.get("for") if request.args.get("paragraph") else None


def subject_text_area(label=None) -> TextAreaField:
    """The form field: what the letter quotes, in the case's language, saved with the action as its text for
    the subject, apart from the staff note (the page names the language and offers the standard paragraphs).
    Empty writes nothing; the texts page holds the other languages."""
    return TextAreaField(label or _l("Text for the subject (the letter quotes it)"),
                         validators=[Optional(), Length(max=BODY_MAX)])


def written(field) -> str | None:
    """The text a ``subject_text_area`` field carries, or None when it was left empty."""
    return (field.data or "").strip() or None


def in_case_language(case: Case, field) -> dict[str, str] | None:
    """The text for the subject a form's field carries, as ``{the case's language: text}`` (what the
    operations' ``subject_texts`` take); None when the field was left empty."""
    text = written(field)
    return {case.language.value: text} if text else None
