"""Deciding an erasure plan's records: read each record's facts from its source and apply the rules.

Read-only: every source is read through :func:`dsr.datamap.lookup.readonly_engines`. Which collection holds
contracts and which holds claims comes from the data map (``dsr.contract``, ``dsr.claim``): no table name of
Harmony's is known here. A record's contracts are found through the data map's references: the contract
itself, the contracts it refers to (a device's policy), or the contracts that refer to it (a customer's
policies); its claims are the claims on those contracts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from dsr.datamap import erase as datamap_erase
from dsr.datamap import lookup as datamap_lookup
from dsr.datamap.model import Collection, Erase, Lifecycle
from dsr.datamap.sources import Source
from dsr.domain.retention import NO_RULE_ARTICLE, Action, BookYear, Decision, RecordFacts, decide
from dsr.domain.retention_rules import load_rules
from dsr.fulfilment.erasure.texts import NO_STRATEGY, REFERENCED, SHARED, SHARED_ARTICLE, outcome_basis
from dsr.fulfilment.holds import RecordRef, active_holds_for
from dsr.fulfilment.lookup_ops import _as_date


def book_year(config: Mapping[str, Any]) -> BookYear:
    """The book year fiscal retention counts from (``DSR_BOOK_YEAR_END``, 31 December by default)."""
    return BookYear.parse(str(config.get("BOOK_YEAR_END") or "12-31"))


def rules_version(config: Mapping[str, Any]) -> str:
    """The rules and book year a decision is made under; an item decided under others is decided again."""
    return f"{load_rules().digest}:{book_year(config).text}"


@dataclass
class Entry:
    """One record being decided: where it is, what the lookup knew of it, its row (None: gone)."""

    ref: RecordRef
    categories: Sequence[str]
    record_date: date | None
    row: dict[str, Any] | None = None
    decision: Decision | None = None
    shared: bool = False  # also reached from another person (the lookup says why)
    shared_reason: str | None = None


@dataclass(frozen=True)
class Lifecycles:
    """What the rules may ask of a record's contracts and claims; None where it is not known."""

    policy_active: bool | None = None
    claim_open: bool | None = None
    contract_ended_on: date | None = None
    claim_closed_on: date | None = None


def _links(source: Source, coll: Collection, target: Collection) -> list[tuple[str, str]]:
    """``(field of coll, field of target)`` pairs joining coll's rows to target's, either way round."""
    pairs = []
    for fld in coll.fields:
        pairs += [(fld.name, r.field) for r in fld.references
                  if r.dataset == source.key and r.collection == target.name]
    for fld in target.fields:
        pairs += [(r.field, fld.name) for r in fld.references
                  if r.dataset == source.key and r.collection == coll.name]
    return pairs


def _related(conn, tables, source: Source, coll: Collection, row: Mapping, target: Collection) -> list[dict]:
    """The rows of ``target`` joined to ``row`` by a reference of the data map (the row itself if same)."""
    table = tables[target.name]
    if coll.name == target.name:
        return [dict(row)]
    clauses = [table.c[theirs] == row[mine] for mine, theirs in _links(source, coll, target)
               if row.get(mine) is not None]
    if not clauses:
        return []
    return [dict(r) for r in conn.execute(sa.select(table).where(sa.or_(*clauses))).mappings()]


def _state(rows: list[dict], life: Lifecycle) -> tuple[bool, date | None]:
    """``(any still running, the day the last one ended)``; the day is None while one runs or is undated."""
    running = any(r.get(life.status) in life.running for r in rows)
    ends = [_as_date(r.get(life.ended_by)) if life.ended_by else None for r in rows]
    ended = None if running or not rows or None in ends else max(ends)
    return running, ended


def lifecycles(conn, tables: Mapping[str, sa.Table], source: Source, coll: Collection,
               row: Mapping | None) -> Lifecycles:
    """The record's contract and claim facts, from the collections the data map marks as such.

    Unknown (None) when the record is gone or nothing in the data map ties it to a contract: the rules
    then keep it for review rather than guess. A record tied to no contract row at all (a customer without
    policies) has no active policy and no open claim.
    """
    linked = [c for c in source.collections
              if c.contract is not None and (c.name == coll.name or _links(source, coll, c))]
    if row is None or not linked:
        return Lifecycles()
    contract_rows = [(c, r) for c in linked for r in _related(conn, tables, source, coll, row, c)]
    active, ended = _combined(contract_rows, "contract")
    if coll.claim is not None:
        claim_rows = [(coll, dict(row))]
    else:
        claim_rows = [(k, r) for k in source.collections if k.claim is not None
                      for c, crow in contract_rows for r in _related(conn, tables, source, c, crow, k)]
    open_, closed = _combined(claim_rows, "claim")
    return Lifecycles(policy_active=active, claim_open=open_, contract_ended_on=ended, claim_closed_on=closed)


def _combined(rows: list[tuple[Collection, dict]], kind: str) -> tuple[bool, date | None]:
    """``(any running, the day the last ended)`` over rows of one or more collections of ``kind``."""
    if not rows:
        return False, None
    states = [_state([r for c, r in rows if c.name == name], getattr(coll, kind))
              for name, coll in {c.name: c for c, _ in rows}.items()]
    running = any(s[0] for s in states)
    days = [s[1] for s in states]
    return running, None if running or None in days else max(days)


def decide_entries(entries: list[Entry], sources: Mapping[str, Source], subject_id: int | None,
                   config: Mapping[str, Any], today: date, case_closed_on: date | None = None) -> None:
    """Read each record's facts through a read-only connection, add the holds, and decide (Art. 17(3)).

    ``case_closed_on`` is the day the case was closed (None while it is open), for rules counting from it.
    """
    holds = active_holds_for([e.ref for e in entries], subject_id)
    by_source: dict[str, list[int]] = {}
    for index, entry in enumerate(entries):
        by_source.setdefault(entry.ref.source, []).append(index)
    found: dict[int, RecordFacts] = {}
    for key, indexes in sorted(by_source.items()):
        source = sources[key]
        engine = datamap_lookup.readonly_engines([source], config)[key]
        try:
            with engine.connect() as conn:
                tables = datamap_erase.reflect(conn, source)
                for i in indexes:
                    entry = entries[i]
                    coll = source.collection(entry.ref.collection)
                    entry.row = datamap_erase.read_row(conn, tables[coll.name], entry.ref.primary_key)
                    life = lifecycles(conn, tables, source, coll, entry.row)
                    until = entry.row.get(coll.retention_until) if entry.row and coll.retention_until else None
                    unclassified = [f.name for f in coll.fields
                                    if not f.categories and entry.row and entry.row.get(f.name) is not None]
                    found[i] = RecordFacts(
                        source=key, collection=coll.name, key=entry.ref.text, tags=coll.tags,
                        categories=entry.categories, dated_on=entry.record_date, policy_active=life.policy_active,
                        claim_open=life.claim_open, legal_hold=holds[i].reason if holds[i] is not None else None,
                        retention_until=_as_date(until), contract_ended_on=life.contract_ended_on,
                        claim_closed_on=life.claim_closed_on, case_closed_on=case_closed_on,
                        unclassified=tuple(unclassified))
                conn.rollback()
        finally:
            engine.dispose()
    facts = [found[i] for i in range(len(entries))]
    for entry, decision in zip(entries, decide(facts, load_rules(), today, book_year(config)), strict=True):
        entry.decision = decision


@dataclass(frozen=True)
class Outcome:
    """An entry's final say: the decision's fields, or ``referenced`` when a kept record points at it."""

    action: Action
    rule_id: str
    basis: str
    article: str
    erase_on: date | None
    until: str | None
    breach: bool


def outcomes(entries: list[Entry], sources: Mapping[str, Source]) -> list[Outcome]:
    """The decisions, with the rows that kept rows refer to held back: a row its collection deletes whole is
    kept too, until the last referrer's erase-on date (``referenced``); a row whose fields are rewritten is
    anonymised (its personal fields masked, the row kept for the references), and deleted later by the
    erase-due run once nothing kept refers to it."""
    result = [Outcome(d.action, d.rule_id, d.basis, d.article, d.erase_on, d.until, d.breach)
              for d in (e.decision for e in entries)]
    for i, entry in enumerate(entries):
        coll = sources[entry.ref.source].collection(entry.ref.collection)
        if coll.erase_review and result[i].action in (Action.ERASE, Action.ANONYMISE):
            # The data map gives no erase strategy for some personal field: a person decides.
            fields = ", ".join(f.name for f in coll.fields if f.erase is Erase.REVIEW)
            result[i] = Outcome(Action.REVIEW, NO_STRATEGY, outcome_basis(NO_STRATEGY, fields=fields),
                                NO_RULE_ARTICLE, None, None, result[i].breach)
        if entry.shared and result[i].action is not Action.KEEP:
            # Never erased automatically: the manager keeps it, or erases only the subject's own fields.
            reason = entry.shared_reason or "reached from another person"
            result[i] = Outcome(Action.REVIEW, SHARED, outcome_basis(SHARED, reason=reason), SHARED_ARTICLE,
                                None, None, result[i].breach)
    changed = True
    while changed:
        changed = False
        referrers: dict[tuple, list[int]] = {}
        for i, entry in enumerate(entries):
            # An item the manager still has to decide may be kept: what it refers to is held back too.
            if result[i].action in (Action.KEEP, Action.REVIEW) and entry.row is not None:
                source = sources[entry.ref.source]
                for coll, fld, value in datamap_erase.referenced_keys(
                        source, source.collection(entry.ref.collection), entry.row):
                    referrers.setdefault((entry.ref.source, coll, fld, str(value)), []).append(i)
        for i, entry in enumerate(entries):
            if result[i].action in (Action.KEEP, Action.REVIEW, Action.ANONYMISE) or entry.row is None:
                continue
            coll = sources[entry.ref.source].collection(entry.ref.collection)
            by = sorted({j for name, value in entry.row.items()
                         for j in referrers.get((entry.ref.source, coll.name, name, str(value)), [])})
            if not by:
                continue
            names = ", ".join(entries[j].ref.text for j in by[:5]) + (" …" if len(by) > 5 else "")
            if not datamap_erase.strategy(coll)[0]:
                result[i] = Outcome(Action.ANONYMISE, result[i].rule_id, result[i].basis, result[i].article,
                                    None, f"kept records refer to it: {names}", result[i].breach)
            else:
                dates = [result[j].erase_on for j in by]
                result[i] = Outcome(
                    Action.KEEP, REFERENCED, outcome_basis(REFERENCED, names=names),
                    result[i].article, None if None in dates else max(dates), f"while {names} is kept",
                    result[i].breach)
                changed = True
    return result
