"""The retention and exemption engine: what an erasure request (GDPR Art. 17) may do to each record.

Given the facts of each record the lookup found and the rules of ``dsr/retention/rules.yml``
(:mod:`dsr.domain.retention_rules`), :func:`decide` says per record: erase, anonymise, or keep, with the
rule, its legal basis and article, and for a kept record the first day it may be erased (DESIGN.md,
"Retention and exemptions"; Art. 17(3); Harmony's statement: "Aan dit verzoek kunnen wij niet altijd
voldoen, bijvoorbeeld als wij de persoonsgegevens nog nodig hebben voor het uitvoeren van de
overeenkomst of om te voldoen aan wettelijke verplichtingen").

**Precedence.** Rules are read in priority order (lowest number first). A keep rule whose condition holds
keeps the record; one whose condition has ended is passed over (its id is listed in ``lapsed``; a
legal hold that was never placed is not listed); the first
erase or anonymise rule that applies decides the records nothing kept before it. The rules file puts the
legal hold first (17(3)(e) beats everything) and the statutory keep before any erase rule.

**Dates.** ``today`` is an argument. Each rule with a period says what it counts from (``count_from``):
the record's date, the end of its book year (``book_year``, 31 December unless given), the end of its
contract, the end of its claim, or the closure of the case. A period runs from the day after that start
and the record is kept through its last day (Regulation 1182/71 art. 3, see
:class:`~dsr.domain.retention_rules.Period`); ``erase_on`` is the day after that: an invoice of 4 June 2025
under seven years from the end of the book year is kept through 31 December 2032 and may be erased from
1 January 2033. While the contract runs, the claim is open or the case is open, the period has not started:
the record is kept without a date. A stated ``retention_until`` is likewise the last day kept.

**No rule, no erasure.** A record that no rule covers by its tags or categories (only the rules for every
record apply to it: the legal hold, the catch-all), or that holds fields without a data category, is never
erased by the catch-all: it is decided ``review`` (``no-rule``), and the privacy manager decides.

**Unknown facts.** ``None`` means the fact is not known. A rule that asks about an unknown fact, and has
no other condition that holds, keeps the record for review (``missing_facts``) rather than erasing it:
an erasure cannot be undone, a review can. ``legal_hold`` is never unknown: dsr records holds itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from dsr.domain.retention_rules import COUNT_FROM_FACTS, Action, BookYear, Condition, CountFrom, Rule, RuleSet

__all__ = [
    "Action", "BookYear", "Decision", "NO_RULE", "NO_RULE_ARTICLE", "NO_RULE_BASIS", "PlanSummary", "RecordFacts", "RuleCount",
    "UNCLASSIFIED_BASIS", "decide", "decide_record", "plan_summary",
]  # fmt: skip

# The decision for a record no rule covers: not a rule of the file, so it has texts of its own (the plan
# stores the English one; :mod:`dsr.fulfilment.erasure.texts` words it in Dutch and French).
CALENDAR_YEAR = BookYear(12, 31)
NO_RULE = "no-rule"
NO_RULE_BASIS = ("No retention rule applies to this record: no rule covers its collection or its data "
                 "categories. It is not erased until the privacy manager decides.")
UNCLASSIFIED_BASIS = ("No retention rule applies to this record: its fields {fields} have no data category. "
                      "It is not erased until the privacy manager decides.")
NO_RULE_ARTICLE = "GDPR Art. 5(2); Art. 17(1)"
_START_WORDS = {
    CountFrom.END_OF_CONTRACT: ("while the contract runs", "the end of the contract"),
    CountFrom.END_OF_CLAIM: ("while the claim is open", "the end of the claim"),
    CountFrom.CASE_CLOSURE: ("until the case is closed", "the closure of the case"),
}


@dataclass(frozen=True)
class RecordFacts:
    """One record the lookup found, with the facts the rules read. Tags and categories become frozensets.

    ``dated_on`` is the date a period runs from: the invoice date, payment date, recording date...
    (each rule's ``period_from`` says which). ``legal_hold`` is the hold's reason, or None.
    """

    source: str
    collection: str
    key: str
    tags: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    dated_on: date | None = None
    policy_active: bool | None = None
    claim_open: bool | None = None
    legal_hold: str | None = None
    retention_until: date | None = None
    contract_ended_on: date | None = None
    claim_closed_on: date | None = None
    case_closed_on: date | None = None
    unclassified: tuple[str, ...] = ()  # fields holding a value that have no data category

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", frozenset(self.tags))
        object.__setattr__(self, "categories", frozenset(self.categories))
        object.__setattr__(self, "unclassified", tuple(self.unclassified))
        for name in ("dated_on", "retention_until", "contract_ended_on", "claim_closed_on", "case_closed_on"):
            _check_date(getattr(self, name), name, optional=True)
        if self.legal_hold is not None and not self.legal_hold.strip():
            raise ValueError(f"{self.ref}: a legal hold needs a reason")

    @property
    def ref(self) -> str:
        return f"{self.source}/{self.collection}/{self.key}"


@dataclass(frozen=True)
class Decision:
    """What happens to one record, and why.

    ``erase_on`` is the first day a kept record may be erased, or None while it depends on an event (the
    hold released, the policy ended, the claim settled, a missing fact supplied); ``until`` says which in
    words. ``breach`` marks a record older than its rule's ``max_age`` (a call recording past 180 days):
    it should not exist; it is reported, and erased. ``suppress`` puts the subject on the suppression
    list (Art. 21(3)), whatever happens to the record itself.
    """

    record: RecordFacts
    action: Action
    rule_id: str
    basis: str
    article: str
    erase_on: date | None = None
    until: str | None = None
    breach: bool = False
    suppress: bool = False
    also_kept_by: tuple[str, ...] = ()
    lapsed: tuple[str, ...] = ()
    missing_facts: tuple[str, ...] = ()

    @property
    def kept_until(self) -> date | None:
        """The last day a kept record is kept, when that is known."""
        return self.erase_on - timedelta(days=1) if self.erase_on is not None else None

    @property
    def needs_review(self) -> bool:
        return bool(self.missing_facts) or self.action is Action.REVIEW


@dataclass(frozen=True)
class _Keep:
    """A keep rule that holds for a record: its last day (None: open-ended) and why, in words."""

    rule: Rule
    last_day: date | None
    reasons: tuple[str, ...]
    missing: tuple[str, ...] = ()


def decide(records: Iterable[RecordFacts], rules: RuleSet, today: date,
           book_year: BookYear = CALENDAR_YEAR) -> list[Decision]:
    """One :class:`Decision` per record, in the order given (Art. 17(1), 17(3); DESIGN.md retention table)."""
    _check_date(today, "today")
    return [decide_record(record, rules, today, book_year) for record in records]


def decide_record(record: RecordFacts, rules: RuleSet, today: date, book_year: BookYear = CALENDAR_YEAR) -> Decision:
    """The decision for one record; see the module docstring for precedence, dates and unknown facts."""
    _check_date(today, "today")
    undeclared = sorted(record.tags - set(rules.tags))
    if undeclared:
        # A misspelt tag would otherwise fall through to the catch-all and erase, say, an invoice.
        raise ValueError(f"{record.ref}: tags not declared in the rules file: {', '.join(undeclared)}")
    matching = [r for r in rules.rules if r.applies_to.matches(record.tags, record.categories)]
    suppress = any(r.suppress for r in matching)
    keeps: list[_Keep] = []
    lapsed: list[str] = []
    decisive: Rule | None = None
    for rule in matching:
        if rule.action is not Action.KEEP:
            decisive = rule
            break
        keep = _evaluate(rule, record, today, book_year)
        if keep is not None:
            keeps.append(keep)
        elif _has_ended(rule):
            lapsed.append(rule.id)

    if keeps:
        return _kept(record, keeps, tuple(lapsed), suppress)
    if decisive is None:
        raise ValueError(f"{record.ref}: no rule decides this record; the rules need a catch-all")
    covered = any(not r.applies_to.any for r in matching)
    if not covered or record.unclassified:
        basis = (UNCLASSIFIED_BASIS.format(fields=", ".join(record.unclassified)) if covered else NO_RULE_BASIS)
        return Decision(record=record, action=Action.REVIEW, rule_id=NO_RULE, basis=basis, article=NO_RULE_ARTICLE,
                        until="until the privacy manager decides", suppress=suppress, lapsed=tuple(lapsed))
    return Decision(
        record=record,
        action=decisive.action,
        rule_id=decisive.id,
        basis=decisive.basis,
        article=decisive.article,
        breach=_past_max_age(decisive, record, today, book_year),
        suppress=suppress,
        lapsed=tuple(lapsed),
    )


def _kept(record: RecordFacts, keeps: Sequence[_Keep], lapsed: tuple[str, ...], suppress: bool) -> Decision:
    """Keep under the first rule that holds; erasable only once every rule that holds has ended."""
    first = keeps[0]
    open_ended = any(k.last_day is None for k in keeps)
    last_days = [k.last_day for k in keeps if k.last_day is not None]
    erase_on = None if open_ended else max(last_days) + timedelta(days=1)
    until = "; ".join(
        [", or ".join(first.reasons)] + [f"{k.rule.id}: {', or '.join(k.reasons)}" for k in keeps[1:]]
    )
    missing = tuple(dict.fromkeys(m for k in keeps for m in k.missing))
    return Decision(
        record=record,
        action=Action.KEEP,
        rule_id=first.rule.id,
        basis=first.rule.basis,
        article=first.rule.article,
        erase_on=erase_on,
        until=until,
        suppress=suppress,
        also_kept_by=tuple(k.rule.id for k in keeps[1:]),
        lapsed=lapsed,
        missing_facts=missing,
    )


def _evaluate(rule: Rule, record: RecordFacts, today: date, book_year: BookYear) -> _Keep | None:
    """The rule's conditions are alternatives: any that holds keeps; any unknown keeps for review.

    Returns None when every condition is known and none holds: the rule has lapsed for this record.
    """
    holding: list[tuple[date | None, str]] = []
    missing: list[str] = []
    for condition in rule.keep_while:
        fact = COUNT_FROM_FACTS[rule.count_from] if condition is Condition.WITHIN_PERIOD else condition.fact
        value = getattr(record, fact)
        if value is None and condition is Condition.WITHIN_PERIOD and _not_started(rule, record):
            assert rule.period is not None
            words = _START_WORDS[rule.count_from]
            holding.append((None, f"{words[0]}, then {rule.period.text} from {words[1]}"))
            continue
        if value is None and condition is not Condition.LEGAL_HOLD:
            missing.append(fact)
            continue
        held = _holds(rule, condition, value, today, book_year)
        if held is not None:
            holding.append(held)
    if holding:
        open_ended = any(last is None for last, _ in holding)
        last_day = None if open_ended else max(last for last, _ in holding if last is not None)
        return _Keep(rule, last_day, tuple(text for _, text in holding))
    if missing:
        reasons = tuple(f"{fact} unknown: check by hand before erasing" for fact in missing)
        return _Keep(rule, None, reasons, tuple(missing))
    return None


def _has_ended(rule: Rule) -> bool:
    """A rule that keeps no more ended (period over, policy ended...); no hold at all is not an end."""
    return any(c is not Condition.LEGAL_HOLD for c in rule.keep_while)


def _not_started(rule: Rule, record: RecordFacts) -> bool:
    """The event a period counts from has not happened yet: the contract runs, the claim or the case is open."""
    if rule.count_from is CountFrom.END_OF_CONTRACT:
        return record.policy_active is True
    if rule.count_from is CountFrom.END_OF_CLAIM:
        return record.claim_open is True
    return rule.count_from is CountFrom.CASE_CLOSURE  # dsr knows its own cases: no date means still open


def _holds(rule: Rule, condition: Condition, value: object, today: date,
           book_year: BookYear) -> tuple[date | None, str] | None:
    """``(last day kept or None while open-ended, why)`` when the condition holds today, else None."""
    if condition is Condition.LEGAL_HOLD:
        return (None, f"until the legal hold is released ({value})") if value else None
    if condition is Condition.POLICY_ACTIVE:
        return (None, "while the policy is active") if value else None
    if condition is Condition.CLAIM_OPEN:
        return (None, "while the claim is open") if value else None
    assert isinstance(value, date)
    if condition is Condition.WITHIN_PERIOD:
        assert rule.period is not None
        start = _period_start(rule, value, book_year)
        last = rule.period.last_day(start)
        origin = (f"the end of the book year, {start.isoformat()}" if rule.count_from is CountFrom.END_OF_BOOK_YEAR
                  else f"{_START_WORDS[rule.count_from][1]}, {start.isoformat()}" if rule.count_from in _START_WORDS
                  else value.isoformat())
        return (
            (last, f"until {last.isoformat()} ({rule.period.text} from {origin})") if today <= last else None
        )
    # WITHIN_STATED_RETENTION: the record's own stated end is its last day.
    return (value, f"until {value.isoformat()} (the record's stated retention)") if today <= value else None


def _period_start(rule: Rule, value: date, book_year: BookYear) -> date:
    """The day the period runs from: the date read, or the last day of its book year (``end_of_book_year``)."""
    return book_year.end_of(value) if rule.count_from is CountFrom.END_OF_BOOK_YEAR else value


def _past_max_age(rule: Rule, record: RecordFacts, today: date, book_year: BookYear) -> bool:
    """A record older than ``max_age`` breaches it: a recording aged 180 days may exist, aged 181 may not."""
    value = getattr(record, COUNT_FROM_FACTS[rule.count_from])
    if rule.max_age is None or value is None:
        return False
    return today > rule.max_age.last_day(_period_start(rule, value, book_year))


@dataclass(frozen=True)
class RuleCount:
    """How many records one rule decides, with the action, and for kept records the next erase-on date."""

    action: Action
    rule_id: str
    count: int
    next_erase_on: date | None = None
    open_ended: int = 0


@dataclass(frozen=True)
class PlanSummary:
    """An erasure plan in numbers, for the approval screen and the case file."""

    total: int
    by_action: dict[Action, int] = field(default_factory=dict)
    by_rule: tuple[RuleCount, ...] = ()
    breaches: int = 0
    needs_review: int = 0
    suppress: bool = False
    next_erase_on: date | None = None


_ACTION_ORDER = (Action.ERASE, Action.ANONYMISE, Action.KEEP, Action.REVIEW)


def plan_summary(decisions: Iterable[Decision]) -> PlanSummary:
    """Counts by action (all three, zeros included) and by (action, rule), in action then rule-id order."""
    decisions = list(decisions)
    by_action = Counter(d.action for d in decisions)
    by_rule: dict[tuple[Action, str], list[Decision]] = {}
    for d in decisions:
        by_rule.setdefault((d.action, d.rule_id), []).append(d)
    counts = []
    for (action, rule_id), group in sorted(
        by_rule.items(), key=lambda kv: (_ACTION_ORDER.index(kv[0][0]), kv[0][1])
    ):
        dates = [d.erase_on for d in group if d.erase_on is not None]
        open_ended = sum(1 for d in group if d.action is Action.KEEP and d.erase_on is None)
        counts.append(RuleCount(action, rule_id, len(group), min(dates, default=None), open_ended))
    scheduled = [d.erase_on for d in decisions if d.erase_on is not None]
    return PlanSummary(
        total=len(decisions),
        by_action={action: by_action.get(action, 0) for action in _ACTION_ORDER},
        by_rule=tuple(counts),
        breaches=sum(1 for d in decisions if d.breach),
        needs_review=sum(1 for d in decisions if d.needs_review),
        suppress=any(d.suppress for d in decisions),
        next_erase_on=min(scheduled, default=None),
    )


def _check_date(value: object, name: str, *, optional: bool = False) -> None:
    # A datetime is a date subclass but would compare wrongly with dates; refuse it as calendar_nl does.
    if value is None and optional:
        return
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a date, got {value!r}")
