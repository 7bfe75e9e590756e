"""Direct marketing stops at once (GDPR Art. 21(2)-(3)), and its subject goes on the suppression list.

"Where the data subject objects to processing for direct marketing purposes, the personal data shall no
longer be processed for such purposes" (Art. 21(3)): no balancing, no refusal, no approval step. So staff
may do it the moment the objection is read: :func:`stop_direct_marketing` deletes the subject's marketing
subscriptions in Harmony's systems (the records a *confirmed* search found in collections tagged
``marketing_subscription``, by the data map's erase strategy, one transaction per source) and adds every
identifier of theirs to the suppression list (:func:`suppress`), so a later marketing import is refused.

Without a confirmed search (none yet, nothing found, not yet judged, or a prospect who only ever gave an
e-mail address) the identifiers still go on the list at once: suppressing an address costs nobody anything,
while deleting records on an unconfirmed match could delete someone else's. The subscriptions are then
removed by stopping again once a search is confirmed; the card says so.

A subscription under a legal hold is not deleted (Art. 17(3)(e)) but its subject is still suppressed: a
hold keeps the record, it does not allow mailing. The erasure path calls :func:`suppress_for_erasure` for
records whose retention rule says ``suppress: true`` (the ``marketing`` rule).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dsr.audit.operations import record as audit_record
from dsr.auth.models import User
from dsr.cases.errors import NotAllowed, RuleViolation
from dsr.cases.guards import WRITERS, require_open, require_role
from dsr.cases.models import Case
from dsr.datamap import erase as datamap_erase
from dsr.datamap import lookup as datamap_lookup
from dsr.datamap.sources import Collection, DataMapError, Source, SourceKind, load_sources
from dsr.domain.enums import LookupMatch, Right
from dsr.domain.retention_rules import load_rules
from dsr.extensions import db
from dsr.fulfilment.holds import RecordRef, active_holds_for
from dsr.fulfilment.lookup_ops import latest_lookup
from dsr.fulfilment.models import FoundRecord, Lookup
from dsr.objection.models import MarketingStop, SuppressionEntry, SuppressionReason
from dsr.objection.suppression import Identifier, IdentifierKind, digest, identifiers, key_id

MARKETING_TAG = "marketing_subscription"
_KINDS = frozenset(k.value for k in IdentifierKind)
CUSTOMER_TAG = "customer"


class SaltChanged(RuntimeError):
    """Entries on the list were hashed with another ``SUPPRESSION_SALT``: a check would miss them."""

    def __init__(self, count: int):
        self.count = count
        super().__init__(f"{count} suppression entries were made with another SUPPRESSION_SALT and cannot be "
                         "matched; restore the salt they were made with before checking anything against the list.")


def _config(config: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return current_app.config if config is None else config


def salt(config: Mapping[str, Any] | None = None) -> str:
    value = _config(config).get("SUPPRESSION_SALT")
    if not value:
        raise RuntimeError("SUPPRESSION_SALT is not configured (config.from_environment sets it)")
    return str(value)


# -- the list ---------------------------------------------------------------------------------------------

def suppress(found: Iterable[Identifier], *, reason: SuppressionReason, case: Case | None, actor: User | None,
             now: datetime, config: Mapping[str, Any] | None = None) -> tuple[int, int]:
    """Put identifiers on the list; ``(newly added, total given)``. Idempotent, also under concurrency:
    ``INSERT ... ON CONFLICT DO NOTHING`` on the unique ``(kind, digest)``. The caller audits."""
    secret = salt(config)
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    given = list(found)
    added = 0
    for identifier in given:
        statement = insert(SuppressionEntry).values(
            kind=identifier.kind, digest=identifier.digest(secret), key_id=key_id(secret), reason=reason,
            added_at=now, added_by_id=actor.id if actor else None, case_id=case.id if case else None,
        ).on_conflict_do_nothing(index_elements=["kind", "digest"]).returning(SuppressionEntry.id)
        # RETURNING gives a row only when one was inserted (rowcount is not reliable for this on every driver).
        added += db.session.execute(statement).first() is not None
    return added, len(given)


def other_salt_entries(config: Mapping[str, Any] | None = None) -> int:
    """How many entries a different salt made (0 normally): any such entry makes a check unreliable."""
    return db.session.execute(sa.select(sa.func.count()).select_from(SuppressionEntry).where(
        SuppressionEntry.key_id != key_id(salt(config)))).scalar_one()


def suppressed_digests(pairs: Iterable[tuple[IdentifierKind, str]]) -> set[tuple[IdentifierKind, str]]:
    """Which of the ``(kind, digest)`` pairs are on the list (one query per kind and 500 digests)."""
    by_kind: dict[IdentifierKind, set[str]] = {}
    for kind, value in pairs:
        by_kind.setdefault(IdentifierKind(kind), set()).add(value)
    found: set[tuple[IdentifierKind, str]] = set()
    for kind, digests in by_kind.items():
        ordered = sorted(digests)
        for start in range(0, len(ordered), 500):
            found.update((kind, d) for d in db.session.execute(sa.select(SuppressionEntry.digest).where(
                SuppressionEntry.kind == kind, SuppressionEntry.digest.in_(ordered[start:start + 500]))).scalars())
    return found


def all_digests(config: Mapping[str, Any] | None = None) -> set[tuple[IdentifierKind, str]]:
    """The whole list, for checking a large import file in one pass. Refuses when the salt changed."""
    others = other_salt_entries(config)
    if others:
        raise SaltChanged(others)
    return {(kind, d) for kind, d in db.session.execute(sa.select(SuppressionEntry.kind, SuppressionEntry.digest))}


def subject_identifiers(case: Case, lookup: Lookup | None = None) -> list[Identifier]:
    """Every identifier the case has for its subject: the subject's e-mail, phone and customer number, and
    those a search was run with (they may have been corrected on the subject since)."""
    subject = case.subject
    pairs: list[tuple[IdentifierKind, object]] = [
        (IdentifierKind.EMAIL, subject.email), (IdentifierKind.PHONE, subject.phone),
        (IdentifierKind.CUSTOMER_NUMBER, subject.customer_number)]
    if lookup is not None:
        pairs += [(IdentifierKind(k), v) for k, v in (lookup.identities or {}).items()
                  if k in _KINDS]
    return identifiers(pairs)


def listed(found: Sequence[Identifier], config: Mapping[str, Any] | None = None) -> dict[IdentifierKind, bool]:
    """Per kind of the subject's identifiers: are all of that kind on the list? For the case card."""
    secret = salt(config)
    hits = suppressed_digests((i.kind, i.digest(secret)) for i in found)
    result: dict[IdentifierKind, bool] = {}
    for identifier in found:
        on = (identifier.kind, identifier.digest(secret)) in hits
        result[identifier.kind] = result.get(identifier.kind, True) and on
    return result


# -- reading identifiers from Harmony's records -----------------------------------------------------------

def _row_identifiers(coll: Collection, row: Mapping[str, Any] | None) -> list[tuple[IdentifierKind, object]]:
    """The e-mail addresses, telephone numbers and customer numbers a record holds, by the data map."""
    pairs: list[tuple[IdentifierKind, object]] = []
    for fld in coll.fields if row else ():
        value = row.get(fld.name)
        if value in (None, ""):
            continue
        if fld.identity == "email" or "user.contact.email" in fld.categories:
            pairs.append((IdentifierKind.EMAIL, value))
        elif fld.identity == "customer_number":
            pairs.append((IdentifierKind.CUSTOMER_NUMBER, value))
        elif any(c == "user.contact.phone_number" or c.startswith("user.contact.phone_number.")
                 for c in fld.categories):
            pairs.append((IdentifierKind.PHONE, value))
    return pairs


def _suppressing(sources: Mapping[str, Source], source_key: str, collection: str) -> bool:
    """Whether a retention rule with ``suppress: true`` covers records of this collection."""
    source = sources.get(source_key)
    if source is None or source.kind is not SourceKind.SQL:
        return False
    try:
        coll = source.collection(collection)
    except KeyError:
        return False
    return any(r.suppress and r.applies_to.matches(coll.tags, coll.categories) for r in load_rules().rules)


def _result_text(done: Mapping[str, Any]) -> str:
    # Stored on the stop as the case file's record: what was done, never a value. English, as erasure's.
    if "deleted" in done:
        return "row deleted" if done["deleted"] else "not found: already gone"
    if not done["rows"]:
        return "not found: already gone"
    return "; ".join(p for p in (f"set empty: {', '.join(done['nulled'])}" if done["nulled"] else "",
                                 f"masked: {', '.join(done['masked'])}" if done["masked"] else "") if p)


# -- stopping direct marketing ----------------------------------------------------------------------------

def _marketing_records(lookup: Lookup, sources: Mapping[str, Source]) -> tuple[list[FoundRecord], list[FoundRecord]]:
    """(subscriptions, customer records) among a lookup's records, by the collections' tags."""
    subscriptions, customers = [], []
    for found in lookup.records:
        source = sources.get(found.source)
        if source is None or source.kind is not SourceKind.SQL:
            continue
        try:
            tags = source.collection(found.collection).tags
        except KeyError:
            continue
        if MARKETING_TAG in tags:
            subscriptions.append(found)
        elif CUSTOMER_TAG in tags:
            customers.append(found)
    return subscriptions, customers


def _remove(subscriptions: list[FoundRecord], customers: list[FoundRecord], subject_id: int | None,
            sources: Mapping[str, Source], config: Mapping[str, Any]):
    """Delete the subscriptions not under a legal hold, one transaction per source, reading the identifiers
    of the subscription and customer records on the way; ``(removed, failed, pairs)``."""
    holds = active_holds_for([RecordRef.of(f) for f in subscriptions], subject_id)
    held = {f.id: h for f, h in zip(subscriptions, holds, strict=True) if h is not None}
    removed: list[dict[str, Any]] = []
    failed: dict[str, str] = {}
    pairs: list[tuple[IdentifierKind, object]] = []
    by_source: dict[str, list[FoundRecord]] = {}
    for found in [*subscriptions, *customers]:
        by_source.setdefault(found.source, []).append(found)
    for key, group in sorted(by_source.items()):
        source, engine, results = sources[key], None, []
        try:
            engine = datamap_erase.writable_engine(source.connection_url(config))
            with engine.begin() as conn:
                tables = datamap_erase.reflect(conn, source)
                for found in group:
                    coll = source.collection(found.collection)
                    row = datamap_erase.read_row(conn, tables[coll.name], found.primary_key)
                    pairs += _row_identifiers(coll, row)
                    if MARKETING_TAG not in coll.tags:
                        continue
                    if found.id in held:
                        result = f"kept: legal hold ({held[found.id].reason})"
                    else:
                        result = _result_text(datamap_erase.erase_record(conn, tables[coll.name], coll,
                                                                         found.primary_key))
                    results.append({"source": key, "collection": found.collection, "key": found.key_text,
                                    "result": result})
        except (DataMapError, KeyError, sa.exc.SQLAlchemyError) as exc:
            failed[key] = (str(getattr(exc, "orig", None) or exc).splitlines() or [type(exc).__name__])[0]
            continue
        finally:
            if engine is not None:
                engine.dispose()
        removed += results
    return removed, failed, pairs


def stop_direct_marketing(case: Case, *, actor: User | None, now: datetime,
                          config: Mapping[str, Any] | None = None) -> MarketingStop:
    """Stop direct marketing to the case's subject at once (Art. 21(2)-(3)); no balancing, no approval.

    Staff or privacy manager, open cases that invoke the right to object. With the newest search of the
    case confirmed, its marketing subscriptions are deleted from Harmony's systems (held ones kept); with
    or without, every identifier of the subject goes on the suppression list. A source that fails is rolled
    back and named; stopping again finishes it. Repeating a complete stop that would change nothing is
    refused. Audited as ``objection.marketing_stopped`` with references and counts, never values.
    """
    if actor is None:
        raise NotAllowed(_("Direct marketing is stopped by a person, who answers for it."))
    require_role(actor, *WRITERS, what=_l("stop direct marketing"))
    require_open(case, _l("stop direct marketing"))
    if Right.OBJECTION not in case.right_values:
        raise RuleViolation(_("This case does not invoke the right to object."))
    config = _config(config)
    lookup = latest_lookup(case)
    confirmed = lookup if lookup is not None and lookup.match == LookupMatch.CONFIRMED else None
    own = subject_identifiers(case, lookup)
    if not own and confirmed is None:
        raise RuleViolation(_("Record this person's e-mail address, telephone number or customer number first: "
                              "there is nothing to put on the suppression list."))
    # Checked before anything is deleted: Harmony's systems are not rolled back with dsr's transaction.
    previous = db.session.execute(sa.select(MarketingStop).where(MarketingStop.case_id == case.id).order_by(
        MarketingStop.id.desc()).limit(1)).scalar_one_or_none()
    if previous is not None and previous.complete and previous.lookup_id == (confirmed.id if confirmed else None) \
            and all(listed(own, config).values()):
        raise RuleViolation(_("Direct marketing was already stopped from this search and everything is on the "
                              "suppression list. Search again to find subscriptions made since."))
    removed, failed, pairs = [], {}, []
    # The subject's own identifiers go on the list (and reach the database) before anything is deleted in
    # Harmony's systems, which do not roll back with dsr: whatever fails later, they are not re-subscribed.
    added_first, _total = suppress(identifiers([(i.kind, i.value) for i in own]),
                                   reason=SuppressionReason.OBJECTION, case=case, actor=actor, now=now,
                                   config=config) if own else (0, 0)
    db.session.flush()
    if confirmed is not None:
        try:
            sources = load_sources(config)
        except DataMapError as exc:
            raise RuleViolation(_("The data map cannot be read: %(error)s", error=str(exc))) from exc
        subscriptions, customers = _marketing_records(confirmed, sources)
        removed, failed, pairs = _remove(subscriptions, customers, case.subject_id, sources, config)
    found = identifiers([(i.kind, i.value) for i in own] + pairs)
    # Then the addresses read from the deleted subscriptions (an old e-mail address, say).
    added, total = suppress(found, reason=SuppressionReason.OBJECTION, case=case, actor=actor, now=now,
                            config=config)
    added += added_first
    stop = MarketingStop(case_id=case.id, lookup_id=confirmed.id if confirmed else None, stopped_at=now,
                         stopped_by_id=actor.id, removed=removed, failed=failed,
                         identifiers_added=added, identifiers_listed=total,
                         kinds=sorted({i.kind.value for i in found}))
    db.session.add(stop)
    db.session.flush()
    audit_record("objection.marketing_stopped", actor=actor, now=now, case=case, after={
        "stop_id": stop.id, "lookup_id": stop.lookup_id, "removed": stop.removed_count,
        "kept_under_hold": len(stop.kept), "records": [f"{r['source']}/{r['collection']}/{r['key']}: {r['result']}"
                                                       for r in removed],
        "failed": failed, "suppressed": {"added": added, "listed": total, "kinds": stop.kinds}})
    return stop


# -- the erasure path -------------------------------------------------------------------------------------

def suppress_for_erasure(case: Case, items: Sequence[Any], *, actor: User | None, now: datetime,
                         config: Mapping[str, Any] | None = None) -> int:
    """Erasure's hook (dsr.fulfilment.erasure): when any of ``items`` (erasure plan items: ``source``,
    ``collection``, ``primary_key``, ``plan_id``) is a record a ``suppress: true`` rule covers, put the
    subject on the suppression list, "whatever happens to the record itself" (a held subscription too).

    Called before the records are erased, so the e-mail addresses on the subscriptions themselves are read
    (read-only) and listed as well; a source that cannot be read leaves the case's own identifiers. Returns
    how many identifiers were new; audited as ``suppression.added`` when there were any.
    """
    config = _config(config)
    try:
        sources = load_sources(config)
    except DataMapError:
        sources = {}
    covered = [i for i in items if _suppressing(sources, i.source, i.collection)]
    if not covered:
        return 0
    pairs: list[tuple[IdentifierKind, object]] = []
    for key in sorted({i.source for i in covered}):
        source = sources[key]
        engine = None
        try:
            engine = datamap_lookup.readonly_engines([source], config)[key]
            with engine.connect() as conn:
                tables = datamap_erase.reflect(conn, source)
                for item in (i for i in covered if i.source == key):
                    coll = source.collection(item.collection)
                    pairs += _row_identifiers(coll, datamap_erase.read_row(conn, tables[coll.name], item.primary_key))
                conn.rollback()
        except (DataMapError, KeyError, sa.exc.SQLAlchemyError):
            continue  # the case's own identifiers still go on the list
        finally:
            if engine is not None:
                engine.dispose()
    found = identifiers([(i.kind, i.value) for i in subject_identifiers(case)] + pairs)
    added, total = suppress(found, reason=SuppressionReason.ERASURE, case=case, actor=actor, now=now, config=config)
    if added:
        audit_record("suppression.added", actor=actor, now=now, case=case, after={
            "via": "erasure", "plan_id": covered[0].plan_id, "added": added, "listed": total,
            "kinds": sorted({i.kind.value for i in found}),
            "records": [f"{i.source}/{i.collection}/{i.key_text}" for i in covered]})
    return added


def check_values(values: Mapping[IdentifierKind, Sequence[str]],
                 config: Mapping[str, Any] | None = None) -> tuple[dict, dict]:
    """For the API: ``({kind: [given values on the list]}, {kind: [given values that are no identifier]})``,
    in the order given. Refuses (:class:`SaltChanged`) when the list was made with another salt."""
    others = other_salt_entries(config)
    if others:
        raise SaltChanged(others)
    secret = salt(config)
    hashed: dict[tuple[IdentifierKind, int], str] = {}
    invalid: dict[IdentifierKind, list[str]] = {}
    for kind, given in values.items():
        for n, value in enumerate(given):
            try:
                hashed[(kind, n)] = digest(kind, value, secret)
            except ValueError:
                invalid.setdefault(kind, []).append(value)
    hits = suppressed_digests((kind, d) for (kind, _n), d in hashed.items())
    suppressed = {kind: [given[n] for n in range(len(given)) if (kind, hashed.get((kind, n))) in hits]
                  for kind, given in values.items()}
    return suppressed, invalid
