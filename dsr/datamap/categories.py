"""The fideslang data categories named in the interface's language (issue 16, item 9).

Fides' taxonomy names its categories in English only ("User Contact Email"); ``categories.yml`` beside this
module names the ones the data map uses in Dutch, English and French. A category not named there is shown
by its Fides name, and an unknown key as it is.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path

import yaml

from dsr.datamap.model import LANGUAGES

NAMES_PATH = Path(__file__).resolve().parent / "categories.yml"


@cache
def category_names() -> dict[str, dict[str, str]]:
    """fideslang key -> {language: name}, as ``categories.yml`` gives them."""
    data = yaml.safe_load(NAMES_PATH.read_text(encoding="utf-8")) or {}
    return {str(key): {lang: str(names[lang]) for lang in LANGUAGES if names.get(lang)}
            for key, names in data.items()}


@cache
def _fides_names() -> dict[str, str]:
    from fideslang.default_taxonomy import DEFAULT_TAXONOMY

    return {c.fides_key: c.name for c in DEFAULT_TAXONOMY.data_category}


def category_name(key: str, language: str) -> str:
    """The category ``key`` as a page in ``language`` names it ("E-mailadres" for user.contact.email)."""
    return category_names().get(key, {}).get(language) or _fides_names().get(key) or key


class CategoryNames(Mapping):
    """``CATEGORY_NAMES[key]`` for templates: the category's name in the language ``language()`` gives."""

    def __init__(self, language) -> None:
        self._language = language

    def __getitem__(self, key: str) -> str:
        if key not in category_names() and key not in _fides_names():
            raise KeyError(key)
        return category_name(key, self._language())

    def __iter__(self) -> Iterator[str]:
        return iter(set(category_names()) | set(_fides_names()))

    def __len__(self) -> int:
        return len(set(category_names()) | set(_fides_names()))
