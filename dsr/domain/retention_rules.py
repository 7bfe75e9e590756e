"""The retention and exemption rules as data: the model, and the loader that validates ``rules.yml``.

The rules live in ``dsr/retention/rules.yml`` so that the privacy manager can read (and review changes to)
exactly what the engine applies (DESIGN.md, "Retention and exemptions": "Rules are data ... each citing
its legal basis"). This module turns that file into frozen dataclasses and refuses a file it cannot
apply with certainty: erasure cannot be undone, so a typo must stop the tool, not fall through to the
catch-all. Every problem found is reported at once, each naming the rule it belongs to.

Pure: PyYAML and dateutil only; no Flask, no SQLAlchemy. :func:`load_rules` is the one function that
reads a file; :func:`parse_rules` and :func:`rules_from_data` work on text and plain data.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml
from dateutil.relativedelta import relativedelta

from dsr.domain.yamltext import safe_load

DEFAULT_RULES_PATH = Path(__file__).resolve().parent.parent / "retention" / "rules.yml"

SUPPORTED_VERSION = 1
# The languages the letters are written in: every rule's title and basis is given in each, since the
# letters quote them to the subject (Art. 12(1): in clear and plain language, so in the subject's own).
LANGUAGES = ("nl", "en", "fr")


class Action(enum.StrEnum):
    """What happens to a record when its subject asks for erasure (Art. 17) or its keep ends.

    ``review`` is never a rule's action: it is what the engine says of a record no rule covers, and what a
    plan says of a record shared with another person, until the privacy manager keeps or erases it.
    """

    ERASE = "erase"
    ANONYMISE = "anonymise"
    KEEP = "keep"
    REVIEW = "review"


class Condition(enum.StrEnum):
    """A fact-based reason to keep a record; each reads one field of ``RecordFacts``."""

    LEGAL_HOLD = "legal_hold"  # legal_hold: the reason, or None when there is no hold
    POLICY_ACTIVE = "policy_active"  # policy_active
    CLAIM_OPEN = "claim_open"  # claim_open
    WITHIN_PERIOD = "within_period"  # dated_on + the rule's period
    WITHIN_STATED_RETENTION = "within_stated_retention"  # retention_until, the record's own end

    @property
    def fact(self) -> str:
        """The ``RecordFacts`` field the condition reads."""
        return _CONDITION_FACTS[self]


_CONDITION_FACTS = {
    Condition.LEGAL_HOLD: "legal_hold",
    Condition.POLICY_ACTIVE: "policy_active",
    Condition.CLAIM_OPEN: "claim_open",
    Condition.WITHIN_PERIOD: "dated_on",
    Condition.WITHIN_STATED_RETENTION: "retention_until",
}


class CountFrom(enum.StrEnum):
    """The day a rule's period runs from; every rule with a period or max_age says which (LEGAL.md).

    ``record_date``: the record's own date (``dated_by``); ``end_of_book_year``: the last day of the book
    year the record's date falls in (its last day is configurable, 31 December by default; fiscal records,
    BW 2:10(3), AWR art. 52(4), Besluit Fiscaal Bestuursrecht §20(1)); ``end_of_contract``: the day the
    record's contract (policy) ended; ``end_of_claim``: the day its claim was closed; ``case_closure``: the
    day the dsr case the plan belongs to was closed. While the contract runs, the claim is open or the case
    is open, the period has not started: the record is kept, without a date yet.
    """

    RECORD_DATE = "record_date"
    END_OF_BOOK_YEAR = "end_of_book_year"
    END_OF_CONTRACT = "end_of_contract"
    END_OF_CLAIM = "end_of_claim"
    CASE_CLOSURE = "case_closure"


# The RecordFacts field each starting point reads.
COUNT_FROM_FACTS = {
    CountFrom.RECORD_DATE: "dated_on",
    CountFrom.END_OF_BOOK_YEAR: "dated_on",
    CountFrom.END_OF_CONTRACT: "contract_ended_on",
    CountFrom.END_OF_CLAIM: "claim_closed_on",
    CountFrom.CASE_CLOSURE: "case_closed_on",
}


@dataclass(frozen=True)
class BookYear:
    """The book year by its last day (month, day); 31 December unless the company's book year differs."""

    month: int = 12
    day: int = 31

    def __post_init__(self) -> None:
        try:
            date(2001, self.month, self.day)  # a common year: 29 February is no book-year end
        except (TypeError, ValueError):
            raise ValueError(f"a book year's last day must be a day of a common year, got {self.month}-{self.day}") from None

    @classmethod
    def parse(cls, text: str) -> BookYear:
        """``MM-DD`` (``12-31``, ``06-30``), as the setting ``DSR_BOOK_YEAR_END`` gives it."""
        match = re.fullmatch(r"(\d{1,2})-(\d{1,2})", str(text).strip())
        if not match:
            raise ValueError(f"a book year's last day is written MM-DD (12-31, 06-30), got {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    def end_of(self, day: date) -> date:
        """The last day of the book year ``day`` belongs to: on or after ``day``."""
        end = date(day.year, self.month, self.day)
        return end if day <= end else date(day.year + 1, self.month, self.day)

    @property
    def text(self) -> str:
        return f"{self.month:02d}-{self.day:02d}"


_PERIOD_RE = re.compile(r"P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?")


@dataclass(frozen=True)
class Period:
    """An ISO 8601 duration in whole days or more (``P180D``, ``P7Y``, ``P1Y6M``); no time part.

    :meth:`last_day` counts the way Regulation (EEC, Euratom) No 1182/71 art. 3 counts (and the SLA clock
    in :mod:`dsr.domain.clock`): the day of the event is not counted (art. 3(1)), a period in months or
    years ends on the day with the same date (art. 3(2)(c)), and where that date does not exist, on the
    last day of that month: 7 years from 29 February 2020 ends on 28 February 2027. There is no roll-over
    to a working day (art. 3(4)): a retention end is not a deadline to act by, and moving it would keep
    data longer than promised.
    """

    text: str
    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0

    def last_day(self, start: date) -> date:
        """The last day of the period that runs from the end of ``start``; the record is kept through it."""
        return start + relativedelta(years=self.years, months=self.months, weeks=self.weeks, days=self.days)


def parse_period(text: object) -> Period:
    """Parse ``PnYnMnWnD`` (any non-empty subset, in that order); raise ``ValueError`` on anything else."""
    if not isinstance(text, str):
        raise ValueError(f"period must be an ISO 8601 duration such as P7Y or P180D, got {text!r}")
    if "T" in text:
        raise ValueError(f"period {text!r} has a time part; retention is counted in whole days")
    match = _PERIOD_RE.fullmatch(text)
    if text == "P" or match is None:
        raise ValueError(f"period {text!r} is not an ISO 8601 duration such as P7Y, P6M or P180D")
    parts = {name: int(value or 0) for name, value in match.groupdict().items()}
    if not any(parts.values()):
        raise ValueError(f"period {text!r} is zero; a retention period must be positive")
    return Period(text=text, **parts)


_CATEGORY_RE = re.compile(r"(user|system)(\.[a-z0-9_]+)*")


@dataclass(frozen=True)
class AppliesTo:
    """Which records a rule covers: collection tags, fideslang data categories, or every record.

    A category covers itself and its descendants in the fideslang taxonomy (``user.authorization`` covers
    ``user.authorization.password``), which is how the taxonomy defines inheritance.
    """

    tags: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    any: bool = False

    def matches(self, tags: Iterable[str], categories: Iterable[str]) -> bool:
        if self.any:
            return True
        if self.tags.intersection(tags):
            return True
        return any(c == mine or c.startswith(mine + ".") for c in categories for mine in self.categories)


@dataclass(frozen=True)
class Rule:
    """One row of the rules file. ``keep_while`` conditions are alternatives: one that holds keeps."""

    id: str
    priority: int
    title: str
    title_nl: str
    applies_to: AppliesTo
    action: Action
    basis: str
    article: str
    source: str
    keep_while: tuple[Condition, ...] = ()
    period: Period | None = None
    count_from: CountFrom = CountFrom.RECORD_DATE
    period_from: str | None = None
    max_age: Period | None = None
    suppress: bool = False
    title_fr: str = ""
    basis_nl: str = ""
    basis_fr: str = ""
    # How long the records are kept, as an access answer tells it (Art. 15(1)(d)), where the title says
    # what an erasure does to them ("…, erased"); per language like the title. Empty: the title says it.
    how_long: tuple[str, str, str] = ("", "", "")

    def title_in(self, language: str) -> str:
        """The title in ``language`` (nl, en or fr); English for any other."""
        return {"nl": self.title_nl, "fr": self.title_fr}.get(language) or self.title

    def how_long_in(self, language: str) -> str:
        """How long the records are kept, for an access answer in ``language``: :attr:`how_long` where the
        rule gives it, else the title."""
        en, nl, fr = self.how_long
        return {"nl": nl, "fr": fr}.get(language, en) or en or self.title_in(language)

    def basis_in(self, language: str) -> str:
        """The legal basis in ``language`` (nl, en or fr); English for any other. :attr:`basis` stays the
        English text that erasure plans store as the case file's record."""
        return {"nl": self.basis_nl, "fr": self.basis_fr}.get(language) or self.basis

    @property
    def is_catch_all(self) -> bool:
        """Decides every record that reaches it: applies to all and keeps nothing conditionally."""
        return self.applies_to.any and self.action is not Action.KEEP


@dataclass(frozen=True)
class RuleSet:
    """The validated rules in precedence order (lowest ``priority`` first) and the declared tags."""

    rules: tuple[Rule, ...]
    tags: Mapping[str, str]
    # A digest of the rules as written: a plan item remembers the rules it was decided under, so that the
    # erase-due run decides again, before erasing anything, every item decided under other rules.
    digest: str = ""

    def get(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


class RulesError(ValueError):
    """The rules file cannot be applied; ``problems`` lists each, prefixed with the rule it concerns."""

    def __init__(self, origin: str, problems: Iterable[str]) -> None:
        self.origin = origin
        self.problems = tuple(problems)
        super().__init__(f"{origin}: " + "; ".join(self.problems))


# Rule sets by file and content: the rules are read for every record an erasure plan or a suppression decides,
# and parsing the YAML costs far more than reading it. A file whose text changed is parsed again.
_LOADED: dict[tuple[str, str], RuleSet] = {}


def load_rules(path: str | Path | None = None) -> RuleSet:
    """Read and validate a rules file; the shipped ``dsr/retention/rules.yml`` when ``path`` is None."""
    path = Path(path) if path is not None else DEFAULT_RULES_PATH
    text = path.read_text(encoding="utf-8")
    key = (str(path), hashlib.sha256(text.encode("utf-8")).hexdigest())
    if key not in _LOADED:
        if len(_LOADED) >= 64:
            _LOADED.clear()
        _LOADED[key] = parse_rules(text, origin=str(path))
    return _LOADED[key]


def parse_rules(text: str, *, origin: str = "<rules>") -> RuleSet:
    """Validate rules given as YAML text (parsed with ``yaml.safe_load``: no tags, no code)."""
    try:
        data = safe_load(text)
    except yaml.YAMLError as exc:
        raise RulesError(origin, [f"not valid YAML: {exc}"]) from exc
    return rules_from_data(data, origin=origin)


_TOP_KEYS = {"version", "tags", "rules"}
_RULE_KEYS = {
    "id", "priority", "title", "title_nl", "title_fr", "applies_to", "action", "keep_while", "period",
    "count_from", "period_from", "max_age", "suppress", "basis", "basis_nl", "basis_fr", "article", "source",
    "how_long", "how_long_nl", "how_long_fr",
}  # fmt: skip
# Optional, but in every language once given.
_OPTIONAL_TRANSLATED_KEYS = {"how_long": ("how_long", "how_long_nl", "how_long_fr")}
_TEXT_KEYS = ("article", "source")
# The texts a letter quotes, per language: English under the plain key, the others with a suffix.
_TRANSLATED_KEYS = {"title": ("title", "title_nl", "title_fr"), "basis": ("basis", "basis_nl", "basis_fr")}
_RULE_ID_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
_Report = Callable[[str], None]


def rules_from_data(data: object, *, origin: str = "<rules>") -> RuleSet:
    """Validate already-parsed data (a mapping with ``version``, ``tags`` and ``rules``) into a RuleSet."""
    if not isinstance(data, Mapping):
        raise RulesError(origin, ["the file must be a mapping with the keys version, tags and rules"])
    problems: list[str] = [f"unknown top-level key {key!r}" for key in data if key not in _TOP_KEYS]
    if data.get("version") != SUPPORTED_VERSION:
        problems.append(f"version must be {SUPPORTED_VERSION}, got {data.get('version')!r}")
    tags = data.get("tags")
    if (
        not isinstance(tags, Mapping)
        or not tags
        or not all(isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in tags.items())
    ):
        problems.append("tags must map each collection tag to a description")
        tags = {}
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        problems.append("rules must be a non-empty list")
        raw_rules = []

    rules: list[Rule] = []
    for index, raw in enumerate(raw_rules, start=1):
        rule_problems: list[str] = []
        rule = _rule(raw, index, set(tags), rule_problems)
        problems.extend(rule_problems)
        if rule is not None and not rule_problems:
            rules.append(rule)
    if problems:
        raise RulesError(origin, problems)
    problems.extend(_structure_problems(rules))
    if problems:
        raise RulesError(origin, problems)
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return RuleSet(rules=tuple(sorted(rules, key=lambda r: r.priority)), tags=dict(tags), digest=digest)


def _rule(raw: object, index: int, tags: set[str], problems: list[str]) -> Rule | None:
    if not isinstance(raw, Mapping):
        problems.append(f"rule #{index}: must be a mapping")
        return None
    rule_id = raw.get("id")
    name = f"rule {rule_id!r}" if isinstance(rule_id, str) and rule_id else f"rule #{index}"

    def bad(message: str) -> None:
        problems.append(f"{name}: {message}")

    if not isinstance(rule_id, str) or not _RULE_ID_RE.fullmatch(rule_id):
        bad("id is required: lowercase letters, digits and hyphens")
    for key in raw:
        if key not in _RULE_KEYS:
            bad(f"unknown key {key!r}")
    priority = raw.get("priority")
    if not isinstance(priority, int) or isinstance(priority, bool):
        bad("priority must be a whole number (lower numbers take precedence)")
    for key in _TEXT_KEYS:
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            bad(f"{key} is required (text)")
    for what, keys in _TRANSLATED_KEYS.items():
        missing = [key for key in keys if not isinstance(raw.get(key), str) or not raw[key].strip()]
        if missing:
            bad(f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} required (text): the letters quote "
                f"the {what} in {', '.join(LANGUAGES)}, so every rule gives {', '.join(keys)}")
    for keys in _OPTIONAL_TRANSLATED_KEYS.values():
        given = [key for key in keys if key in raw]
        missing = [key for key in keys if not isinstance(raw.get(key), str) or not raw[key].strip()]
        if given and missing:
            bad(f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} required (text) with {given[0]}: "
                f"the access letters quote it in {', '.join(LANGUAGES)}")

    applies_to = _applies_to(raw.get("applies_to"), tags, bad)
    try:
        action = Action(raw.get("action"))
        if action is Action.REVIEW:
            raise ValueError
    except ValueError:
        bad(f"unknown action {raw.get('action')!r} (expected one of erase, anonymise, keep)")
        action = None

    keep_while = _keep_while(raw, bad)
    if action is Action.KEEP and not raw.get("keep_while"):
        bad("a keep rule needs keep_while: a record may not be kept without a reason that can end")
    if action is not None and action is not Action.KEEP and "keep_while" in raw:
        bad(f"keep_while is only for keep rules; an {action} rule applies unconditionally")

    period = _period_field(raw, "period", bad)
    max_age = _period_field(raw, "max_age", bad)
    if (Condition.WITHIN_PERIOD in keep_while) != ("period" in raw):
        bad("period and keep_while: within_period go together")
    if "max_age" in raw and action is Action.KEEP:
        bad("max_age is a limit for erase or anonymise rules; a keep rule uses period")
    if ("period" in raw or "max_age" in raw) and not _text(raw.get("period_from")):
        bad("period_from is required with a period or max_age: say which date it runs from")
    if ("period" in raw or "max_age" in raw) and "count_from" not in raw:
        bad(f"count_from is required with a period or max_age: say what the period counts from "
            f"({', '.join(CountFrom)})")
    try:
        count_from = CountFrom(raw.get("count_from", CountFrom.RECORD_DATE))
    except ValueError:
        bad(f"unknown count_from {raw.get('count_from')!r} (expected one of {', '.join(CountFrom)})")
        count_from = CountFrom.RECORD_DATE
    if "count_from" in raw and "period" not in raw and "max_age" not in raw:
        bad("count_from needs a period or max_age")
    suppress = raw.get("suppress", False)
    if not isinstance(suppress, bool):
        bad("suppress must be true or false")
    elif suppress and action is Action.KEEP:
        bad("suppress is for erase or anonymise rules (marketing)")

    if problems or applies_to is None or action is None:
        return None
    return Rule(
        id=rule_id, priority=priority, title=raw["title"].strip(), title_nl=raw["title_nl"].strip(),
        applies_to=applies_to, action=action, basis=raw["basis"].strip(), article=raw["article"].strip(),
        source=raw["source"].strip(), keep_while=keep_while, period=period, count_from=count_from,
        period_from=_text(raw.get("period_from")), max_age=max_age, suppress=suppress,
        title_fr=raw["title_fr"].strip(), basis_nl=raw["basis_nl"].strip(), basis_fr=raw["basis_fr"].strip(),
        how_long=tuple(_text(raw.get(key)) or "" for key in _OPTIONAL_TRANSLATED_KEYS["how_long"]),
    )  # fmt: skip


def _applies_to(raw: object, tags: set[str], bad: _Report) -> AppliesTo | None:
    if not isinstance(raw, Mapping) or set(raw) - {"tags", "categories", "any"}:
        bad("applies_to must be a mapping with tags, categories and/or any: true")
        return None
    every = raw.get("any", False)
    rule_tags = raw.get("tags", [])
    categories = raw.get("categories", [])
    if not isinstance(every, bool) or not isinstance(rule_tags, list) or not isinstance(categories, list):
        bad("applies_to: tags and categories are lists, any is true or false")
        return None
    for tag in rule_tags:
        if not isinstance(tag, str) or tag not in tags:
            bad(f"applies_to: tag {tag!r} is not declared under tags")
    for category in categories:
        if not isinstance(category, str) or not _CATEGORY_RE.fullmatch(category):
            bad(f"applies_to: {category!r} is not a fideslang data category (user.… or system.…)")
    if every and (rule_tags or categories):
        bad("applies_to: any: true covers every record; drop tags and categories")
    if not every and not rule_tags and not categories:
        bad("applies_to names no tag, no category and not any: true, so it covers nothing")
    return AppliesTo(
        tags=frozenset(map(str, rule_tags)), categories=frozenset(map(str, categories)), any=every
    )


def _keep_while(raw: Mapping, bad: _Report) -> tuple[Condition, ...]:
    """One condition or a list of alternatives; each must be a known fact-based condition."""
    value = raw.get("keep_while", [])
    items = [value] if isinstance(value, str) else value if isinstance(value, list) else [value]
    conditions: list[Condition] = []
    for item in items:
        try:
            conditions.append(Condition(item))
        except ValueError:
            bad(f"unknown fact {item!r} in keep_while (expected one of {', '.join(Condition)})")
    if len(set(conditions)) != len(conditions):
        bad("keep_while lists a condition twice")
    return tuple(conditions)


def _period_field(raw: Mapping, key: str, bad: _Report) -> Period | None:
    if key not in raw:
        return None
    try:
        return parse_period(raw[key])
    except ValueError as exc:
        bad(f"bad {key}: {exc}")
        return None


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _structure_problems(rules: list[Rule]) -> list[str]:
    """Precedence must be explicit: unique ids and priorities, one catch-all, and it comes last."""
    problems: list[str] = []
    seen_ids: set[str] = set()
    by_priority: dict[int, str] = {}
    for rule in rules:
        if rule.id in seen_ids:
            problems.append(f"rule {rule.id!r}: id used twice")
        seen_ids.add(rule.id)
        if rule.priority in by_priority:
            problems.append(
                f"rule {rule.id!r}: priority {rule.priority} is also rule {by_priority[rule.priority]!r}'s;"
                " precedence must be explicit"
            )
        by_priority.setdefault(rule.priority, rule.id)
    ordered = sorted(rules, key=lambda r: r.priority)
    catch_alls = [r for r in ordered if r.is_catch_all]
    if not catch_alls:
        problems.append(
            "no catch-all rule: add a last rule with applies_to: {any: true} and action erase or anonymise"
        )
    else:
        first = catch_alls[0]
        for rule in ordered[ordered.index(first) + 1 :]:
            problems.append(
                f"rule {rule.id!r}: unreachable, catch-all rule {first.id!r} (priority {first.priority})"
                " decides every record first"
            )
    return problems


# The few words the rules' article references use besides numbers, per language (the numbers stay as the
# regulation writes them: "17(3)(b)" reads the same in every language's legal practice).
_ARTICLE_WORDS = {
    "nl": (("GDPR", "AVG"), ("Art.", "art."), ("recital", "overweging"), (" not met", " niet vervuld"),
           (" and ", " en ")),
    "fr": (("GDPR", "RGPD"), ("Art.", "art."), ("recital", "considérant"), (" not met", " non rempli"),
           (" and ", " et ")),
}


def localise_article(article: str, language: str) -> str:
    """A rule's article reference ("GDPR Art. 6(1)(b); Art. 17(1)(a) not met") in the letter's language:
    "AVG art. 6(1)(b); art. 17(1)(a) niet vervuld", "RGPD art. 6(1)(b) ; art. 17(1)(a) non rempli"."""
    text = article or ""
    for old, new in _ARTICLE_WORDS.get(language, ()):
        text = text.replace(old, new)
    if language == "fr":
        text = text.replace("; ", "\u202f; ")
    return text
