"""Letter layout (issue 14, item 9): the closing formula and the signature never stand alone on a page.

Every kind is rendered in nl, en and fr from the same cases the content tests build
(tests/integration/test_letters.py), read back per page with pypdf, and the page that holds the closing
formula must also hold text of the letter's body before it: more than the contact sentence every letter ends
with, and more than one short sentence. A sweep then lengthens a refusal's reasons
line by line, so that the page break falls before, inside and after the last paragraph and the closing:
whatever the length, the closing goes with the last paragraph.

Layout does not depend on the database: these tests run on SQLite only.
"""

from __future__ import annotations

import re

import pytest

from dsr.extensions import db
from dsr.letters import operations
from dsr.letters.kinds import LetterKind, LetterLanguage
from tests.conftest import TODAY
from tests.integration.test_letters import (
    ALL_KINDS_LANGUAGES,
    _frozen_clock,  # noqa: F401  (autouse: the letters are dated TODAY)
    _information_requested,
    build,
    keep_for_review,
    page_texts,
    people,  # noqa: F401  (fixture)
    systems,  # noqa: F401  (fixture)
)

# The closing formula each language's layout.html prints, and the running texts on every page.
CLOSING = {
    "en": re.compile(r"Yours (sincerely|faithfully),"),
    "nl": re.compile(r"Met vriendelijke groet,"),
    "fr": re.compile(r"Nous vous prions d'agréer, .{0,20}l'expression de nos salutations distinguées\."),
}
RUNNING = {
    "en": [r"Our reference \S+", r"Harmony · Attn\. privacy manager · P\.O\. Box 21460 · 3001 AL Rotterdam"
           r" · privacy@harmony\.nl"],
    "nl": [r"Ons kenmerk \S+", r"Harmony · t\.a\.v\. de privacy manager · Postbus 21460 · 3001 AL Rotterdam"
           r" · privacy@harmony\.nl"],
    "fr": [r"Notre référence \S+", r"Harmony · Attn\. privacy manager · Postbus 21460 · 3001 AL Rotterdam"
           r" · privacy@harmony\.nl"],
}
PAGE_NUMBER = re.compile(r"\b\d+ / \d+\b")
# The sentence every letter ends its body with (phrases.html, ``contact``): on its own with the closing it is
# no more than a page of "Yours sincerely" (issue 14.9).
CONTACT = {
    "en": re.compile(r"If you have any question about this letter, please write to privacy@harmony\.nl or to the "
                     r"address at the top of this letter, mentioning our reference \S+\."),
    "nl": re.compile(r"Hebt u vragen over deze brief\? Schrijf dan naar privacy@harmony\.nl of naar het adres "
                     r"bovenaan deze brief, en vermeld ons kenmerk \S+\."),
    "fr": re.compile(r"Pour toute question concernant cette lettre, écrivez-nous à privacy@harmony\.nl ou à "
                     r"l'adresse figurant en haut de cette lettre, en mentionnant notre référence \S+\."),
}
SENTENCE_END = re.compile(r"[.?!](?=\s|$)")


@pytest.fixture
def ctx(app):
    """SQLite only: where a page breaks does not depend on the database."""
    with app.app_context():
        yield app


def body_before_closing(pdf: bytes, lang: str) -> tuple[int, str]:
    """The page (1-based) holding the closing formula, and the letter text on that page before it."""
    for number, text in enumerate(page_texts(pdf), start=1):
        match = CLOSING[lang].search(text)
        if match is None:
            continue
        before = text[: match.start()]
        for running in RUNNING[lang]:
            before = re.sub(running, " ", before)
        return number, " ".join(PAGE_NUMBER.sub(" ", before).split())
    raise AssertionError(f"no closing formula in the {lang} letter")


def assert_closing_not_alone(pdf: bytes, lang: str, what: str) -> None:
    """The closing and signature share their page with the letter's last paragraph: not alone, and not with
    only the closing contact sentence or another single short sentence."""
    page, before = body_before_closing(pdf, lang)
    assert len(before.split()) >= 5, (
        f"{what}: the closing and signature stand alone on page {page}; the letter's last paragraph stays "
        f"on the page before (text before the closing: {before!r})")
    rest = " ".join(CONTACT[lang].sub(" ", before).split())
    assert len(rest.split()) >= 5, (
        f"{what}: page {page} holds only the contact sentence, the closing and the signature; the last "
        f"paragraph of the body goes with them (text before the closing: {before!r})")
    single = len(SENTENCE_END.findall(before)) <= 1 and len(before.split()) < 40
    assert not single, (
        f"{what}: page {page} holds only the closing block and one short sentence: {before!r}")


@pytest.mark.parametrize("lang", ALL_KINDS_LANGUAGES)
@pytest.mark.parametrize("kind", list(LetterKind))
def test_the_closing_is_never_alone_on_a_page(people, systems, kind, lang):  # noqa: F811
    case = build(kind, people, systems)
    made = operations.render_letter(case, kind, LetterLanguage(lang), today=TODAY)
    keep_for_review(made.pdf, f"layout-{kind.value}-{lang}")
    assert_closing_not_alone(made.pdf, lang, f"{kind.value} ({lang}, {made.pages} pages)")


def test_the_closing_goes_with_the_last_paragraph_wherever_the_page_breaks(people):  # noqa: F811
    """A question of 1 to 40 lines moves the end of the information request across the foot of page one."""
    pages_seen = set()
    for lines in range(1, 41):
        reason = "\n".join(f"Line {n} of what we ask, long enough to take a good part of a line." for n in range(lines))
        case = _information_requested(people, None, text=reason)  # the text the letter quotes (issue 14.2)
        made = operations.render_letter(case, LetterKind.INFORMATION_REQUEST, LetterLanguage.EN, today=TODAY)
        pages_seen.add(made.pages)
        assert_closing_not_alone(made.pdf, "en", f"an information request of {lines} lines")
    assert pages_seen == {1, 2}, "the sweep did not move the closing across a page break"
    db.session.rollback()
