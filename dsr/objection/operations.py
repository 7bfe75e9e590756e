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
hold keeps the record, it does not allow mailing. The list itself, and the erasure path that adds to it
(:func:`dsr.suppression.operations.suppress_for_erasure`), are :mod:`dsr.suppression`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dsr.audit.operations import record as audit_record
from dsr.auth.models import User
from dsr.cases.errors import NotAllowed, RuleViolation
from dsr.cases.guards import WRITERS, require_open, require_role
from dsr.cases.models import Case
from dsr.datamap import erase as datamap_erase
from dsr.datamap.sources import DataMapError, Source, SourceKind, load_sources
from dsr.domain.enums import LookupMatch, Right
from dsr.extensions import db
from dsr.fulfilment.holds import RecordRef, active_holds_for
from dsr.fulfilment.lookup_ops import latest_lookup
from dsr.fulfilment.models import FoundRecord, Lookup
from dsr.objection.models import MarketingStop
from dsr.settings import settings
from dsr.suppression.identifiers import IdentifierKind, identifiers
from dsr.suppression.models import SuppressionReason
from dsr.suppression.operations import listed, row_identifiers, subject_identifiers, suppress

MARKETING_TAG = "marketing_subscription"
CUSTOMER_TAG = "customer"


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
                    pairs += row_identifiers(coll, row)
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
    config = settings(config)
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
