"""Letters as HTML and PDF: the Jinja templates of the top-level ``letters/``, rendered per language.

One full template per kind and language (``letters/<lang>/<kind>.html``): legal text is reviewed per
language, not per sentence, so no letter is pieced together from translated fragments (STYLE.md point 7).
Each extends ``letters/<lang>/layout.html`` (the language's labels: "Our reference", the footer, the
signature), which extends ``letters/base.html`` (the page: letterhead, envelope window, footer, the one
stylesheet ``letters/assets/letter.css``).

Safety: autoescape is on for every template, whatever its name, because every letter carries something a
person typed (a name, a reason, a note); and ``StrictUndefined`` makes a misspelt fact an error instead of
a silent gap in a legal letter. The PDF is made by :mod:`dsr.pdf` with its deny-by-default URL fetcher.

Dates and numbers are formatted with Babel in the letter's language, day first in all three
(nl_NL "7 april 2026", en_GB "7 April 2026", fr_FR "7 avril 2026"), whatever the user interface's locale.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache, partial

from babel.dates import format_date as babel_format_date
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

from dsr import pdf
from dsr.letters.facts import BABEL_LOCALES
from dsr.letters.kinds import LetterKind

LETTERS_DIR = pdf.PROJECT_ROOT / "letters"
ASSETS_DIR = LETTERS_DIR / "assets"
DATE_PATTERN = "d MMMM y"


class TemplateMissing(LookupError):
    """No template for this kind in this language yet (a translator adds ``letters/<lang>/<kind>.html``)."""


def format_date(value: date | str | None, language: str, pattern: str = DATE_PATTERN) -> str:
    """``7 April 2026`` in the letter's language; ISO text (as facts carry dates) is accepted too."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    elif isinstance(value, datetime):
        value = value.date()
    text = babel_format_date(value, pattern, locale=BABEL_LOCALES[language])
    if language == "fr" and value.day == 1 and pattern == DATE_PATTERN:
        text = "1er" + text[1:]  # French writes the first of the month as an ordinal: "1er avril 2026"
    return text


def format_number(value, language: str) -> str:
    return format_decimal(value, locale=BABEL_LOCALES[language])


def format_money(cents: int, language: str) -> str:
    """Euro cents as the letter's language writes an amount: ``€ 12,50`` (nl), ``€12.50`` (en), ``12,50 €`` (fr)."""
    from babel.numbers import format_currency

    return format_currency(cents / 100, "EUR", locale=BABEL_LOCALES[language])


@lru_cache(maxsize=4)
def environment(language: str) -> Environment:
    """The Jinja environment for letters in ``language`` (cached: templates compile once per process)."""
    env = Environment(
        loader=FileSystemLoader(str(LETTERS_DIR)),
        autoescape=True,  # for every template: all letters carry typed text
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["date"] = partial(format_date, language=language)
    env.filters["number"] = partial(format_number, language=language)
    env.filters["money"] = partial(format_money, language=language)
    env.globals["lang"] = language
    return env


def template_name(kind: LetterKind, language: str) -> str:
    return f"{language}/{kind.value}.html"


def available(kind: LetterKind, language: str) -> bool:
    return (LETTERS_DIR / template_name(kind, language)).is_file()


def render_html(facts: dict, kind: LetterKind, language: str, *, preview: bool = False, assets: str = "") -> str:
    """The letter as a complete HTML document. ``preview`` adds a banner saying it is not issued yet;
    ``assets`` is the URL prefix of ``letters/assets/`` (empty in a PDF: relative to the asset folder)."""
    try:
        template = environment(language).get_template(template_name(kind, language))
    except TemplateNotFound:
        raise TemplateMissing(f"no {language} template for {kind.value} letters yet "
                              f"(letters/{template_name(kind, language)})") from None
    return template.render(f=facts, kind=kind.value, preview=preview, assets=assets)


def render_pdf(documents: list[str], *, fetcher=None) -> bytes:
    """One PDF of one or more letters (``all`` languages: three), each numbering its own pages."""
    fetcher = fetcher if fetcher is not None else pdf.safe_fetcher()
    if len(documents) == 1:
        return pdf.render_pdf(documents[0], base_dir=ASSETS_DIR, fetcher=fetcher)
    return pdf.render_documents(documents, base_dir=ASSETS_DIR, fetcher=fetcher)


def render_pdf_counted(documents: list[str], *, fetcher=None) -> tuple[bytes, int]:
    """:func:`render_pdf` and the number of pages, counted by WeasyPrint while laying them out."""
    return pdf.render_counted(documents, base_dir=ASSETS_DIR, fetcher=fetcher if fetcher is not None
                              else pdf.safe_fetcher())
