"""The controller's facts about automated decisions: a setting, with its wording in nl, en and fr.

``DSR_AUTOMATED_DECISIONS_FILE`` names a YAML file (default: ``declaration.yml`` beside this module,
Harmony's: none). It lists the decisions the controller takes based solely on automated processing, each
with its name, the logic involved and the significance and envisaged consequences for the subject
(Art. 15(1)(h)); an empty list declares that there are none, in the controller's own words (``none``). A
non-empty list has an ``intro`` sentence that leads in to it. The access letter states the declaration in
the letter's language instead of a fixed sentence (issue 14, item 9), and an Art. 22 letter says truthfully
when the controller has declared none.

:func:`load_declaration` reads and checks the file, reporting every problem at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dsr.settings import settings

DEFAULT_PATH = Path(__file__).resolve().parent / "declaration.yml"
LANGUAGES = ("nl", "en", "fr")
_ID = re.compile(r"[a-z][a-z0-9_]{0,59}")


class DeclarationError(ValueError):
    """A declaration file dsr cannot use; lists every problem found."""

    def __init__(self, origin: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{origin}: " + "; ".join(problems))


@dataclass(frozen=True)
class AutomatedDecision:
    """One decision taken solely by automated processing, in the controller's words per language."""

    id: str
    name: Mapping[str, str]
    logic: Mapping[str, str]
    consequences: Mapping[str, str]

    def in_language(self, language: str) -> dict[str, str]:
        return {"id": self.id, "name": self.name[language], "logic": self.logic[language],
                "consequences": self.consequences[language]}


@dataclass(frozen=True)
class Declaration:
    decisions: tuple[AutomatedDecision, ...]
    origin: str
    none_text: Mapping[str, str]  # "we take no such decisions", per language (when the list is empty)
    intro: Mapping[str, str]  # the sentence before the list, per language (when it is not)

    @property
    def none(self) -> bool:
        """The controller declares that it takes no decision based solely on automated processing."""
        return not self.decisions

    def get(self, decision_id: str | None) -> AutomatedDecision | None:
        return next((d for d in self.decisions if d.id == decision_id), None)

    def text(self, language: str) -> str:
        """The declaration as one paragraph in ``language`` (the case page, the export)."""
        if self.none:
            return self.none_text[language]
        return " ".join([self.intro[language], *(f"{d.name[language]}: {d.logic[language]} "
                                                 f"{d.consequences[language]}" for d in self.decisions)])

    def in_language(self, language: str) -> dict[str, Any]:
        """Plain data for a letter: ``none``, its sentence or the lead-in, and the decisions in ``language``."""
        return {"none": self.none, "text": self.none_text[language] if self.none else self.intro[language],
                "decisions": [d.in_language(language) for d in self.decisions]}


def declaration_path(config: Mapping[str, Any] | None = None) -> Path:
    configured = settings(config).get("AUTOMATED_DECISIONS_FILE")
    return Path(configured) if configured else DEFAULT_PATH


def load_declaration(config: Mapping[str, Any] | None = None, *, path: Path | None = None) -> Declaration:
    """The declaration in force: ``path``, else the configured file, else Harmony's (none)."""
    path = path or declaration_path(config)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DeclarationError(str(path), [f"cannot be read ({exc.strerror})"]) from None
    except yaml.YAMLError as exc:
        raise DeclarationError(str(path), [f"is not valid YAML ({exc})"]) from None
    return parse_declaration(data, origin=str(path))


def parse_declaration(data: Any, *, origin: str) -> Declaration:
    problems: list[str] = []
    if not isinstance(data, Mapping) or "decisions" not in data:
        raise DeclarationError(origin, ["needs a 'decisions' list (an empty list declares none)"])
    raw = data["decisions"]
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise DeclarationError(origin, ["'decisions' must be a list (an empty list declares none)"])

    def text(value: Any, where: str) -> dict[str, str]:
        if not isinstance(value, Mapping):
            problems.append(f"{where}: give the text in {', '.join(LANGUAGES)}")
            return dict.fromkeys(LANGUAGES, "")
        missing = [lang for lang in LANGUAGES if not isinstance(value.get(lang), str) or not value[lang].strip()]
        if missing:
            problems.append(f"{where}: no text in {', '.join(missing)}")
        return {lang: " ".join(str(value.get(lang) or "").split()) for lang in LANGUAGES}

    decisions = []
    for n, entry in enumerate(raw, start=1):
        if not isinstance(entry, Mapping):
            problems.append(f"decision {n}: must be a mapping with id, name, logic and consequences")
            continue
        did = str(entry.get("id") or "")
        where = f"decision {did or n}"
        if not _ID.fullmatch(did):
            problems.append(f"{where}: id must be lower case letters, digits and _ (at most 60), got {did!r}")
        decisions.append(AutomatedDecision(id=did, name=text(entry.get("name"), f"{where} name"),
                                           logic=text(entry.get("logic"), f"{where} logic"),
                                           consequences=text(entry.get("consequences"), f"{where} consequences")))
    if decisions:
        intro, none_text = text(data.get("intro"), "intro (the sentence before the list)"), {}
    else:
        none_text, intro = text(data.get("none"), "none (the sentence that says there are no such decisions)"), {}
    ids = [d.id for d in decisions]
    for did in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(f"decision {did}: declared twice")
    if problems:
        raise DeclarationError(origin, problems)
    return Declaration(decisions=tuple(decisions), origin=origin, none_text=none_text, intro=intro)
