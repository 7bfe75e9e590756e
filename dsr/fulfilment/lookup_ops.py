"""Finding a case's subject in Harmony's systems (issue 4, item 3): read-only, audited, confirmed by staff.

Art. 15(1) asks for *all* personal data concerning the subject, so :func:`run_lookup` searches every SQL
source of the data map with every identity the case holds (:mod:`dsr.datamap.lookup`), and turns every
manual source (the paper archive, Focus Feedback) into a task for a person. What it stores is a reference
to each record and the categories of data it holds, never the values (dsr must not become another copy of
the customer's data). A lookup finds *candidates*: staff confirm the match (:func:`confirm_match`) or
reject it as someone else's (:func:`reject_match`) before anything is done with the records.

All sources are searched before anything is written, so a source that cannot be reached leaves a failed
lookup with its reason and nothing else: no records, no tasks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import g, has_request_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dsr.audit.operations import jsonable, record
from dsr.auth.models import User
from dsr.cases.census import known_empty
from dsr.cases.errors import InvalidInput, NotAllowed, RuleViolation
from dsr.cases.guards import WRITERS, require_open, require_role
from dsr.cases.models import Case
from dsr.datamap import catalogue
from dsr.datamap import lookup as datamap_lookup
from dsr.datamap.found import FoundStore
from dsr.datamap.sources import DataMapError, Source, SourceKind, load_sources
from dsr.domain.enums import LookupMatch, LookupStatus
from dsr.extensions import db, insert_rows
from dsr.fulfilment.models import FoundRecord, Lookup
from dsr.settings import settings
from dsr.tasks import titles
from dsr.tasks.models import CaseTask
from dsr.tasks.operations import add_automatic_task

REASON_MAX = 2000
INSERT_BATCH = 2000  # found_records rows per INSERT on SQLite: a subject with 200,000 records is 100 statements


class SourceUnavailable(Exception):
    """A source could not be searched; the message is written for the person who ran the lookup."""


def subject_identities(case: Case) -> dict[str, Any]:
    """The identities of the case's subject a source can be searched by (DESIGN.md, "identity fields"):
    customer number, policy number, e-mail, and name + date of birth + postcode only all three together."""
    subject = case.subject
    values: dict[str, Any] = {"customer_number": subject.customer_number, "policy_number": subject.policy_number,
                              "email": subject.email}
    composite = {"name": subject.name, "date_of_birth": subject.date_of_birth, "postcode": subject.postcode}
    if all(composite.values()):
        values.update(composite)
    return datamap_lookup.normalise_identities(values)


def shown_lookups(case: Case) -> list[Lookup]:
    """The case's lookups, newest first, as the case page and its cards show them: read once per request
    (the page's next step, the data card and the exports card each ask). Not for code that runs a lookup:
    :func:`latest_lookup` reads the database each time."""
    cache = g.setdefault("dsr_shown_lookups", {}) if has_request_context() else {}
    if case.id not in cache:
        cache[case.id] = [] if known_empty(case, "lookups") else list(db.session.execute(
            sa.select(Lookup).where(Lookup.case_id == case.id).order_by(Lookup.id.desc())).scalars())
    return cache[case.id]


def latest_lookup(case: Case) -> Lookup | None:
    return db.session.execute(
        sa.select(Lookup).where(Lookup.case_id == case.id).order_by(Lookup.id.desc()).limit(1)).scalar_one_or_none()


def run_lookup(case: Case, *, actor: User | None, now: datetime, config: Mapping[str, Any] | None = None) -> Lookup:
    """Search every source for the case's subject and store what was found, as references (Art. 15(1)).

    Returns the new :class:`Lookup`: ``found``, ``nothing_found``, or ``failed`` with a readable error when
    a source could not be searched (then nothing else is stored). Audited as ``lookup.run`` with counts,
    not data. Manual sources become a task "Check <source>: <instructions>", once per case.
    """
    require_role(actor, *WRITERS, what=_l("search for the subject's data"))
    require_open(case, _l("search for the subject's data"))
    identities = subject_identities(case)
    if not identities:
        raise InvalidInput(_("Record a customer number, policy number, e-mail address, or name with date of "
                             "birth and postcode for this person first: there is nothing to search with."))
    config = settings(config)
    try:
        sources = load_sources(config)
    except DataMapError as exc:
        return _store_failed(case, identities, _("The data map cannot be read: %(error)s", error=str(exc)),
                             actor=actor, now=now)
    # What the search finds is kept on disk while it runs, not in memory (issue 15, item 4).
    with FoundStore() as found:
        try:
            _search(found, sources, identities, config)
        except SourceUnavailable as exc:
            return _store_failed(case, identities, str(exc), actor=actor, now=now)

        # Several people may run a lookup on the same case at once: serialise them on the case row, so the
        # manual sources' tasks are created once (SQLite serialises writers by itself).
        db.session.execute(sa.select(Case.id).where(Case.id == case.id).with_for_update())
        summary = _summary(found)
        count = sum(c["count"] for colls in summary.values() for c in colls.values())
        lookup = Lookup(case_id=case.id, run_at=now, run_by_id=actor.id if actor else None,
                        identities=jsonable(identities), summary=summary, manual_tasks={},
                        status=LookupStatus.FOUND if count else LookupStatus.NOTHING_FOUND)
        db.session.add(lookup)
        db.session.flush()
        insert_rows(FoundRecord.__table__, _references(sources, found, lookup.id), batch=INSERT_BATCH)
    lookup.manual_tasks = _manual_tasks(case, [s for s in sources.values() if s.kind is SourceKind.MANUAL],
                                        actor=actor, now=now)
    record("lookup.run", actor=actor, now=now, case=case, after={
        "lookup_id": lookup.id, "status": lookup.status, "identities": sorted(identities),
        "records": count, "sources": {key: sum(c["count"] for c in colls.values())
                                             for key, colls in summary.items()},
        "manual_tasks": sorted(lookup.manual_tasks)})
    return lookup


def _search(found: FoundStore, sources: Mapping[str, Source], identities: Mapping[str, Any],
            config: Mapping[str, Any]) -> None:
    """Every SQL source searched through a read-only connection into ``found``; any failure names the
    source."""
    sql = {key: s for key, s in sources.items() if s.kind is SourceKind.SQL}
    engines: dict[str, sa.Engine] = {}
    try:
        for source in sql.values():
            try:
                engines.update(datamap_lookup.readonly_engines([source], config))
                with engines[source.key].connect() as conn:
                    conn.exec_driver_sql("SELECT 1")
            except (DataMapError, sa.exc.SQLAlchemyError) as exc:
                raise SourceUnavailable(_("%(source)s could not be searched: %(error)s",
                                          source=source.name, error=_reason(exc))) from exc
        try:
            datamap_lookup.search_everywhere(found, sql, identities, engines, slim=True)
        except (DataMapError, sa.exc.SQLAlchemyError) as exc:
            raise SourceUnavailable(_("The search failed: %(error)s", error=_reason(exc))) from exc
    finally:
        for engine in set(engines.values()):
            engine.dispose()


def _reason(exc: Exception) -> str:
    """The first line of the driver's message, without SQLAlchemy's statement dump and links."""
    cause = getattr(exc, "orig", None) or exc
    text = str(cause).strip().splitlines()
    return text[0] if text else type(cause).__name__


def _store_failed(case: Case, identities, error: str, *, actor, now) -> Lookup:
    lookup = Lookup(case_id=case.id, run_at=now, run_by_id=actor.id if actor else None,
                    identities=jsonable(identities), status=LookupStatus.FAILED, error=error, summary={},
                    manual_tasks={})
    db.session.add(lookup)
    db.session.flush()
    record("lookup.run", actor=actor, now=now, case=case, after={
        "lookup_id": lookup.id, "status": lookup.status, "identities": sorted(identities), "error": error})
    return lookup


def _categories(categories: dict[str, tuple[str, ...]], held: tuple[str, ...]) -> list[str]:
    """The fideslang categories of the fields that held a value (``held``) in a record of a collection whose
    fields have ``categories``."""
    return sorted({c for name in held for c in categories.get(name, ())})


def _summary(found: FoundStore) -> dict:
    """Per source and collection: how many records were found, and the categories they hold (counted by the
    store: no record is read back for it)."""
    return {key: {collection: {"count": count,
                               "categories": sorted({c for held in helds for c in _categories(categories, held)})}
                  for collection, count, categories, helds in found.census(key)}
            for key in found.sources}


def _references(sources: Mapping[str, Source], found: FoundStore, lookup_id: int) -> Iterator[dict]:
    """A found_records row per record (where it is, its categories, how it was reached), one at a time for
    a bulk insert. Field values stay in Harmony's systems; only the record's date is kept, where the data
    map says a retention period runs from it (``dated_by``)."""
    categories: dict[tuple[str, str, tuple[str, ...]], list[str]] = {}
    dated: dict[str, str | None] = {}
    for key in found.sources:
        dated.clear()
        for rec in found.records(key):
            if rec.collection not in dated:
                dated[rec.collection] = sources[key].collection(rec.collection).dated_by
            dated_by = dated[rec.collection]
            held = (key, rec.collection, rec.held)
            if held not in categories:
                categories[held] = _categories(rec.categories, rec.held)
            primary_key = rec.primary_key  # whole numbers and texts (nearly every key) are kept as they are
            if not all([type(v) is int or type(v) is str for v in primary_key.values()]):
                primary_key = jsonable(primary_key)
            yield {"lookup_id": lookup_id, "source": key, "collection": rec.collection,
                   "primary_key": primary_key, "categories": categories[held],
                   "matched_by": rec.matched_by[:300],
                   "record_date": _as_date(rec.fields.get(dated_by)) if dated_by else None,
                   "shared": rec.shared, "shared_reason": rec.shared_reason,
                   "shared_with": [s.as_json() for s in rec.shared_with] or None}


def _as_date(value: Any) -> date | None:
    # The calendar date as the source stores it (the demo keeps timestamps in UTC).
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


MANUAL_SOURCE_TASK = "manual_source"


def _manual_task_title(params, language: str) -> str:
    """"Check Paper archive: Look up the customer's file ...", the source and its instructions as the data
    map gives them in ``language`` (a source no longer in the data map: as they were, in English)."""
    try:
        source = catalogue.sources().get(params["source"])
    except DataMapError:
        source = None
    if source is None:
        return _("Check %(source)s: %(instructions)s", source=params["name"], instructions=params["instructions"])
    return _("Check %(source)s: %(instructions)s", source=source.display_name(language),
             instructions=source.instructions_for(language))


titles.register(MANUAL_SOURCE_TASK, _manual_task_title)


def _manual_tasks(case: Case, manual: list[Source], *, actor, now: datetime) -> dict[str, int]:
    """The task for each manual source: the one an earlier lookup of this case created, else a new one."""
    earlier: dict[str, int] = {}
    for tasks in db.session.execute(sa.select(Lookup.manual_tasks).where(Lookup.case_id == case.id)).scalars():
        earlier.update({k: v for k, v in (tasks or {}).items() if k not in earlier})
    existing = set(db.session.execute(sa.select(CaseTask.id).where(
        CaseTask.case_id == case.id, CaseTask.id.in_(list(earlier.values())))).scalars()) if earlier else set()
    assignee = case.assignee if case.assignee is not None and case.assignee.active else None
    result = {}
    for source in sorted(manual, key=lambda s: s.key):
        if earlier.get(source.key) in existing:
            result[source.key] = earlier[source.key]
            continue
        params = {"source": source.key, "name": source.name, "instructions": source.instructions_for("en")}
        task = add_automatic_task(case, MANUAL_SOURCE_TASK, params, assignee=assignee, actor=actor, now=now,
                                  today=now.date())
        result[source.key] = task.id
    return result


def _lookup_decision(lookup: Lookup, actor: User | None, what) -> Case:
    """What confirming and rejecting both require: a person with write access, an open case, the newest
    lookup of the case, one that found records, not yet judged."""
    if actor is None:
        raise NotAllowed(_("Only a person can judge whether the records found are this person's."))
    require_role(actor, *WRITERS, what=what)
    case = lookup.case
    require_open(case, what)
    latest = latest_lookup(case)
    if latest is not None and latest.id != lookup.id:
        raise RuleViolation(_("A newer search was run on this case since; judge that one instead."))
    if lookup.status is not LookupStatus.FOUND:
        raise RuleViolation(_("This search found no records, so there is no match to judge."))
    if lookup.match != LookupMatch.PENDING:
        raise RuleViolation(_("The match of this search was already judged; run a new search to judge again."))
    return case


def confirm_match(lookup: Lookup, *, actor: User | None, now: datetime) -> None:
    """Staff confirm the records found are this subject's; only then is anything done with them (issue 4,
    item 3: a wrong match would disclose or erase another person's data, Art. 5(1)(d) and (f))."""
    case = _lookup_decision(lookup, actor, _l("confirm the records found"))
    lookup.confirmed_at = now
    lookup.confirmed_by_id = actor.id
    record("lookup.confirmed", actor=actor, now=now, case=case,
           after={"lookup_id": lookup.id, "records": lookup.record_count})


def reject_match(lookup: Lookup, *, reason: str, actor: User | None, now: datetime) -> None:
    """Staff record that the records found belong to someone else ("not this person"), saying why."""
    case = _lookup_decision(lookup, actor, _l("reject the records found"))
    if not (reason or "").strip():
        raise InvalidInput(_("Say why these records are not this person's."), "reason")
    if len(reason) > REASON_MAX:
        raise InvalidInput(_("A reason has at most %(n)d characters.", n=REASON_MAX), "reason")
    lookup.rejected_at = now
    lookup.rejected_by_id = actor.id
    lookup.rejection_reason = reason
    record("lookup.rejected", actor=actor, now=now, case=case,
           after={"lookup_id": lookup.id, "records": lookup.record_count, "reason": reason})
