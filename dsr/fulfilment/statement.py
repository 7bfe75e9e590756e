"""Harmony's privacy statement as data: what an Art. 15 answer tells the subject besides their data.

``statement.yml`` beside this module holds, in Dutch, English and French, the statement's purposes (numbered
as in the statement), its recipients by name with what they receive and why, its retention sentences, the
sources of the data, the subject's rights (Art. 15–18, 20, 21) and the complaint route (Harmony's privacy
manager, then the Autoriteit Persoonsgegevens). Every entry cites the statement section it comes from, so a
reviewer can check it against the statement. What the controller declares about automated decisions is a
setting of its own (:mod:`dsr.automated.declaration`), not the statement's.

Pure: PyYAML only. :func:`load_statement` reads and validates the file, reporting every problem at once;
:meth:`Statement.category_for` maps a fideslang category to the statement's own category of data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dsr.domain.yamltext import safe_load

DEFAULT_STATEMENT_PATH = Path(__file__).resolve().parent / "statement.yml"
LANGUAGES = ("nl", "en", "fr")
SUPPORTED_VERSION = 1
RIGHT_IDS = ("access", "rectification", "erasure", "restriction", "portability", "objection")
# The recipients the statement names (DESIGN.md, the access row): each must be in the file.
RECIPIENT_IDS = ("risk_bearer", "partners", "repairers", "regulators", "focus_feedback", "hosting", "mail",
                 "legal", "collection_agencies")
SOURCE_IDS = ("provided", "generated")


class StatementError(ValueError):
    """A statement file dsr cannot use; lists every problem found."""

    def __init__(self, origin: str, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__(f"{origin}: " + "; ".join(self.problems))


Text = Mapping[str, str]  # language -> text


@dataclass(frozen=True)
class DataCategory:
    """A category of data as the statement names it, covering fideslang categories (and their children)."""

    id: str
    name: Text
    fideslang: tuple[str, ...]
    section: str


@dataclass(frozen=True)
class Purpose:
    number: int
    title: Text
    text: Text
    section: str


@dataclass(frozen=True)
class Recipient:
    id: str
    name: Text
    receives: Text
    why: Text
    section: str
    always: bool = False
    tags: frozenset[str] = frozenset()

    def relevant(self, tags: Iterable[str]) -> bool:
        """Named in an answer always, or when the subject has a record of one of its tags."""
        return self.always or bool(self.tags & set(tags))


@dataclass(frozen=True)
class Entry:
    """A retention sentence, a source of data or a right: an id, its text, where it comes from."""

    id: str
    text: Text
    section: str
    tags: frozenset[str] = frozenset()
    article: str | None = None


@dataclass(frozen=True)
class Complaint:
    harmony_email: str
    harmony_address: tuple[str, ...]
    harmony_text: Text
    authority_name: Text
    authority_address: tuple[str, ...]
    authority_text: Text
    section: str


@dataclass(frozen=True)
class Statement:
    statement_date: str
    title: Text
    controller: str
    categories: tuple[DataCategory, ...]
    purposes: tuple[Purpose, ...]
    recipients: tuple[Recipient, ...]
    retention: tuple[Entry, ...]
    sources_of_data: tuple[Entry, ...]
    rights: tuple[Entry, ...]
    complaint: Complaint

    def category_for(self, fideslang_key: str) -> DataCategory | None:
        """The statement category whose fideslang key is the longest prefix of ``fideslang_key``."""
        best, length = None, -1
        for category in self.categories:
            for key in category.fideslang:
                if (fideslang_key == key or fideslang_key.startswith(key + ".")) and len(key) > length:
                    best, length = category, len(key)
        return best

    def purpose(self, number: int) -> Purpose:
        for purpose in self.purposes:
            if purpose.number == number:
                return purpose
        raise KeyError(f"the statement has no purpose {number}")

    def retention_for(self, tags: Iterable[str]) -> tuple[Entry, ...]:
        """The statement's retention sentences for records of these tags; the general one if none."""
        wanted = set(tags)
        specific = tuple(e for e in self.retention if e.tags & wanted)
        return specific or tuple(e for e in self.retention if not e.tags)

    def source(self, entry_id: str) -> Entry:
        return next(e for e in self.sources_of_data if e.id == entry_id)


def load_statement(path: str | Path | None = None) -> Statement:
    """Read and validate ``statement.yml`` (or ``path``); :class:`StatementError` lists what is wrong."""
    path = Path(path) if path else DEFAULT_STATEMENT_PATH
    try:
        data = safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise StatementError(str(path), [str(exc)]) from exc
    return statement_from_data(data, origin=str(path))


def statement_from_data(data: Any, *, origin: str = "<statement>") -> Statement:
    problems: list[str] = []
    if not isinstance(data, Mapping):
        raise StatementError(origin, ["the file must be a mapping"])
    if data.get("version") != SUPPORTED_VERSION:
        problems.append(f"version must be {SUPPORTED_VERSION}")

    def text(raw: Any, where: str) -> dict[str, str]:
        if not isinstance(raw, Mapping):
            problems.append(f"{where}: needs a text per language ({', '.join(LANGUAGES)})")
            return {}
        missing = [lang for lang in LANGUAGES if not isinstance(raw.get(lang), str) or not raw[lang].strip()]
        if missing:
            problems.append(f"{where}: no text in {', '.join(missing)}")
        extra = sorted(set(raw) - set(LANGUAGES))
        if extra:
            problems.append(f"{where}: unknown language(s) {', '.join(map(str, extra))}")
        return {lang: " ".join(str(raw.get(lang) or "").split()) for lang in LANGUAGES}

    def section(raw: Mapping, where: str) -> str:
        value = raw.get("section")
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{where}: cite the statement section it comes from (section)")
            return ""
        return value.strip()

    def items(key: str) -> list[Mapping]:
        raw = data.get(key)
        if not isinstance(raw, list) or not raw or not all(isinstance(i, Mapping) for i in raw):
            problems.append(f"{key}: must be a non-empty list of entries")
            return []
        return raw

    categories = tuple(DataCategory(
        id=str(c.get("id")), name=text(c.get("name"), f"category {c.get('id')}"),
        fideslang=tuple(map(str, c.get("fideslang") or ())), section=section(c, f"category {c.get('id')}"))
        for c in items("categories"))
    for category in categories:
        if not category.fideslang:
            problems.append(f"category {category.id}: list the fideslang categories it covers")
    _require_ids("categories", [c.id for c in categories], (), problems)

    purposes = tuple(Purpose(number=p.get("number"), title=text(p.get("title"), f"purpose {p.get('number')} title"),
                             text=text(p.get("text"), f"purpose {p.get('number')} text"),
                             section=section(p, f"purpose {p.get('number')}")) for p in items("purposes"))
    numbers = [p.number for p in purposes]
    if numbers != list(range(1, len(numbers) + 1)):
        problems.append(f"purposes must be numbered 1, 2, ... as in the statement, got {numbers}")

    recipients = []
    for raw in items("recipients"):
        rid = raw.get("id")
        applies = raw.get("applies_to") or {}
        tags = applies.get("tags") or []
        if not (applies.get("always") is True or (isinstance(tags, list) and tags)):
            problems.append(f"recipient {rid}: applies_to needs always: true or a list of tags")
        recipients.append(Recipient(
            id=str(rid), name=text(raw.get("name"), f"recipient {rid} name"),
            receives=text(raw.get("receives"), f"recipient {rid} receives"),
            why=text(raw.get("why"), f"recipient {rid} why"), section=section(raw, f"recipient {rid}"),
            always=applies.get("always") is True, tags=frozenset(map(str, tags))))
    _require_ids("recipients", [r.id for r in recipients], RECIPIENT_IDS, problems)

    def entries(key: str, required: tuple[str, ...] | None = None, *, article: bool = False) -> tuple[Entry, ...]:
        result = []
        for raw in items(key):
            eid = str(raw.get("id"))
            if article and not raw.get("article"):
                problems.append(f"{key} {eid}: name the article")
            result.append(Entry(id=eid, text=text(raw.get("text"), f"{key} {eid}"), section=section(raw, f"{key} {eid}"),
                                tags=frozenset(map(str, raw.get("tags") or [])), article=raw.get("article")))
        if required:
            _require_ids(key, [e.id for e in result], required, problems)
        return tuple(result)

    retention = entries("retention")
    if not any(not e.tags for e in retention):
        problems.append("retention: needs a general entry (no tags) for records no specific sentence covers")
    sources_of_data = entries("sources_of_data", SOURCE_IDS)
    rights = entries("rights", RIGHT_IDS, article=True)

    complaint = _complaint(data.get("complaint"), text, section, problems)
    controller = data.get("controller") or {}
    if problems:
        raise StatementError(origin, problems)
    return Statement(statement_date=str(data.get("statement_date")), title=text(data.get("title"), "title"),
                     controller=str(controller.get("name") or ""), categories=categories, purposes=purposes, recipients=tuple(recipients),
                     retention=retention, sources_of_data=sources_of_data, rights=rights,
                     complaint=complaint)


def _complaint(raw: Any, text, section, problems: list[str]) -> Complaint | None:
    if not isinstance(raw, Mapping):
        problems.append("complaint: missing")
        return None
    harmony, authority = raw.get("harmony") or {}, raw.get("authority") or {}
    for who, part in (("harmony", harmony), ("authority", authority)):
        address = part.get("address")
        if not isinstance(address, list) or len(address) < 2 or not all(isinstance(a, str) for a in address):
            problems.append(f"complaint {who}: address must be a list of lines")
    if "@" not in str(harmony.get("email") or ""):
        problems.append("complaint harmony: needs an e-mail address")
    return Complaint(harmony_email=str(harmony.get("email") or ""),
                     harmony_address=tuple(harmony.get("address") or ()),
                     harmony_text=text(harmony.get("text"), "complaint harmony"),
                     authority_name=text(authority.get("name"), "complaint authority name"),
                     authority_address=tuple(authority.get("address") or ()),
                     authority_text=text(authority.get("text"), "complaint authority"),
                     section=section(raw, "complaint"))


def _require_ids(key: str, found: list[str], required: tuple[str, ...], problems: list[str]) -> None:
    duplicates = sorted({i for i in found if found.count(i) > 1})
    if duplicates:
        problems.append(f"{key}: duplicate id(s) {', '.join(duplicates)}")
    missing = [i for i in required if i not in found]
    if missing:
        problems.append(f"{key}: missing {', '.join(missing)}")
