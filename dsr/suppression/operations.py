"""The suppression list (Art. 21(3)): who must not receive direct marketing, as keyed hashes only.

Identifiers go on the list from an objection to direct marketing (:mod:`dsr.objection.operations`) and
from an erasure whose retention rule says ``suppress: true`` (:func:`suppress_for_erasure`, called by
:mod:`dsr.fulfilment.erasure`); Harmony's marketing imports are checked against it through the API
(:mod:`dsr.suppression.api`) and the ``suppression-check`` command (:mod:`dsr.suppression.commands`).
The hashing is :mod:`dsr.suppression.identifiers`'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from dsr.audit.operations import record as audit_record
from dsr.auth.models import User
from dsr.cases.models import Case
from dsr.datamap import erase as datamap_erase
from dsr.datamap import lookup as datamap_lookup
from dsr.datamap.sources import Collection, DataMapError, Source, SourceKind, load_sources
from dsr.domain.retention_rules import load_rules
from dsr.extensions import db
from dsr.fulfilment.models import Lookup
from dsr.settings import settings
from dsr.suppression.identifiers import Identifier, IdentifierKind, digest, identifiers, key_id
from dsr.suppression.models import SuppressionEntry, SuppressionReason

_KINDS = frozenset(k.value for k in IdentifierKind)


class SaltChanged(RuntimeError):
    """Entries on the list were hashed with another ``SUPPRESSION_SALT``: a check would miss them."""

    def __init__(self, count: int):
        self.count = count
        super().__init__(f"{count} suppression entries were made with another SUPPRESSION_SALT and cannot be "
                         "matched; restore the salt they were made with before checking anything against the list.")


def salt(config: Mapping[str, Any] | None = None) -> str:
    value = settings(config).get("SUPPRESSION_SALT")
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

def row_identifiers(coll: Collection, row: Mapping[str, Any] | None) -> list[tuple[IdentifierKind, object]]:
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
    config = settings(config)
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
                    pairs += row_identifiers(coll, datamap_erase.read_row(conn, tables[coll.name], item.primary_key))
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
