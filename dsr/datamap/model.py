"""The data map's types: sources, collections, fields, references, and the vocabulary they use.

Plain frozen dataclasses with no I/O; :mod:`dsr.datamap.parse` builds them from Fides dataset YAML and
:mod:`dsr.datamap.sources` loads every file. See :mod:`dsr.datamap.sources` for what a source is.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

# The identities a case can carry. A single one suffices to look a record up; name, date of birth and
# postcode only together (DESIGN.md, "identity fields").
SINGLE_IDENTITIES = ("customer_number", "policy_number", "email")
COMPOSITE_IDENTITY = ("name", "date_of_birth", "postcode")
IDENTITY_TYPES = SINGLE_IDENTITIES + COMPOSITE_IDENTITY
# The languages a case, a letter and an export are written in: every display name has all three.
LANGUAGES = ("nl", "en", "fr")


class DataMapError(ValueError):
    """A dataset file that dsr cannot use, with the file and the place in it."""


class SourceKind(StrEnum):
    SQL = "sql"
    MANUAL = "manual"


class Erase(StrEnum):
    """How a field is erased when its record is erased (Art. 17(1)) and not kept under 17(3)."""

    DELETE_ROW = "delete_row"
    NULL = "null"
    MASK = "mask"
    NONE = "none"
    # Personal data the data map gives no strategy for (a plain Fides dataset): a person decides, dsr never
    # erases it on its own.
    REVIEW = "review"


class LegalBasis(StrEnum):
    """Art. 6(1) GDPR. Portability applies only to (a) consent and (b) contract, Art. 20(1)(a)."""

    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal_obligation"
    VITAL_INTERESTS = "vital_interests"
    PUBLIC_TASK = "public_task"
    LEGITIMATE_INTERESTS = "legitimate_interests"


@dataclass(frozen=True)
class Reference:
    """A Fides reference: values flow from ``dataset.collection.field`` into this field (``from``), the
    other way (``to``), or both (no direction)."""

    dataset: str
    collection: str
    field: str
    direction: str | None = None


@dataclass(frozen=True)
class Edge:
    """Values of ``source_collection.source_field`` find rows by ``target_collection.target_field``."""

    source_collection: str
    source_field: str
    target_collection: str
    target_field: str


@dataclass(frozen=True)
class Field:
    name: str
    categories: tuple[str, ...]
    erase: Erase
    provided: bool = False
    identity: str | None = None
    primary_key: bool = False
    mask_value: str | None = None
    references: tuple[Reference, ...] = ()
    description: str | None = None
    labels: tuple[tuple[str, str], ...] = ()  # (language, label): hashable, as the dataclass is frozen
    # The value is the address of an object in an object store (a call's audio): erasing the record
    # deletes the object too (dsr.datamap.objects).
    stored_object: bool = False
    # The value names a recipient of the record (the risk bearer, the repairer, the sales partner): the
    # privacy statement's recipient of that id. Art. 19 lists that recipient by the name the record gives.
    recipient: str | None = None
    recipient_match: str | None = None  # a regex whose first group is the name; no match: no recipient
    # Left out of the access copy, and why (issue 14, item 5): a technical key (a row id, a foreign key, an
    # internal file reference) is not information about the person. Every other field with a value is part
    # of the copy, status and outcome fields included (Art. 15(3), CJEU C-487/21). None: part of the copy.
    technical: str | None = None
    # Observed from the subject's use of the service (last login, how and when consent was given): part of a
    # portability export with what they provided (Art. 20(1), WP242 rev.01 section III.1).
    observed: bool = False
    # May hold other people's data (a free-text note, a claim description, a call recording): reviewed by a
    # person before an access copy or export is released (Art. 15(4); issue 18, item 4).
    third_parties: bool = False

    def recipient_name(self, value: Any) -> str | None:
        """The recipient this field's ``value`` names, or None (empty, or not a recipient: a direct sale)."""
        if self.recipient is None or value is None or not str(value).strip():
            return None
        if self.recipient_match is None:
            return str(value).strip()
        found = re.fullmatch(self.recipient_match, str(value).strip())
        return found.group(1).strip() if found else None

    def label(self, language: str) -> str:
        """What the subject reads for this field ("Achternaam", "Last name", "Nom"): the data map's label in
        ``language``, else the column name in words. The column name itself stays :attr:`name`."""
        return dict(self.labels).get(language) or self.name.replace("_", " ")


@dataclass(frozen=True)
class Lifecycle:
    """How the rows of a contract collection (a policy) or a claim collection say whether they still run.

    ``status`` is the field holding the state, ``running`` the values meaning the contract is active or the
    claim open, ``ended_by`` the field with the day it ended (policy end date, claim settlement date).
    The retention rules read them as ``policy_active``/``claim_open`` and count periods from the end.
    """

    status: str
    running: tuple[str, ...]
    ended_by: str | None = None


@dataclass(frozen=True)
class Collection:
    name: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    legal_basis: LegalBasis | None = None
    purposes: tuple[int, ...] = ()
    data_uses: tuple[str, ...] = ()
    erase_after: tuple[str, ...] = ()
    description: str | None = None
    tags: tuple[str, ...] = ()
    dated_by: str | None = None
    retention_until: str | None = None
    names: tuple[tuple[str, str], ...] = ()  # (language, name)
    contract: Lifecycle | None = None  # this collection holds contracts (a policy administration's policies)
    claim: Lifecycle | None = None  # this collection holds claims on those contracts
    # The field(s) by which the subject knows a record (an invoice number, a policy number): what a letter
    # names it by, never the database key (issue 14.3). Empty: the record is named by its date only.
    known_by: tuple[str, ...] = ()
    # The field dsr sets to restrict a record (Art. 18): a boolean set true, or a date or timestamp set to
    # the day or moment of the restriction ("restricted_since"); cleared when the restriction is lifted.
    # None: a person restricts the collection's records (a task), as in a manual source.
    restriction_marker: str | None = None

    def display_name(self, language: str) -> str:
        """The collection as a letter or page in ``language`` names it ("Polissen", "Policies", "Polices")."""
        return dict(self.names).get(language) or self.name.replace("_", " ")

    def field(self, name: str) -> Field:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(f"{self.name} has no field {name!r}")

    @property
    def identity_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.identity)

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(sorted({c for f in self.fields for c in f.categories}))

    @property
    def object_fields(self) -> tuple[Field, ...]:
        """The fields holding the address of a stored object that goes with the record."""
        return tuple(f for f in self.fields if f.stored_object)

    @property
    def erase_review(self) -> bool:
        """The data map says nothing about how to erase (part of) this collection: a person decides, the
        plan never erases it automatically (issue 13, item 4: erase strategy ``review``)."""
        return any(f.erase is Erase.REVIEW for f in self.fields)

    @property
    def portable(self) -> bool:
        """Art. 20(1)(a): only data processed on consent or contract is subject to portability."""
        return self.legal_basis in (LegalBasis.CONSENT, LegalBasis.CONTRACT)


@dataclass(frozen=True)
class Source:
    key: str
    name: str
    kind: SourceKind
    collections: tuple[Collection, ...]
    connection_env: str | None = None
    url: str | None = None
    description: str | None = None
    instructions: str | None = None  # what a person does to search a manual source, in English
    instructions_in: tuple[tuple[str, str], ...] = ()  # (language, instructions), when given per language
    contact: str | None = None  # who a person asks, in English
    contact_in: tuple[tuple[str, str], ...] = ()  # (language, contact), when given per language
    path: Path | None = None
    names: tuple[tuple[str, str], ...] = ()  # (language, name)
    processor: bool = False  # a manual source that is a processor (Art. 28): erasure instructs it

    def display_name(self, language: str) -> str:
        """The system as a letter or page in ``language`` names it ("Polisadministratie"); :attr:`name`
        stays the Fides name, in English, as the case file and the audit trail record it."""
        return dict(self.names).get(language) or self.name

    def instructions_for(self, language: str) -> str:
        """A manual source's instructions in ``language`` (the English ones when not given per language)."""
        return " ".join((dict(self.instructions_in).get(language) or self.instructions or "").split())

    def contact_for(self, language: str) -> str:
        """Whom a person asks for a manual source, in ``language`` (the English when not given per language)."""
        return " ".join((dict(self.contact_in).get(language) or self.contact or "").split())

    def collection(self, name: str) -> Collection:
        for candidate in self.collections:
            if candidate.name == name:
                return candidate
        raise KeyError(f"source {self.key} has no collection {name!r}")

    def edges(self) -> tuple[Edge, ...]:
        """The traversal edges between this source's own collections, in Fides' sense: a reference with
        ``direction: from`` flows into the declaring field, ``to`` out of it, none both ways."""
        edges: list[Edge] = []
        for coll in self.collections:
            for fld in coll.fields:
                for ref in fld.references:
                    if ref.dataset != self.key:
                        continue
                    if ref.direction in (None, "from"):
                        edges.append(Edge(ref.collection, ref.field, coll.name, fld.name))
                    if ref.direction in (None, "to"):
                        edges.append(Edge(coll.name, fld.name, ref.collection, ref.field))
        return tuple(edges)

    def connection_url(self, config: Mapping[str, Any] | None = None) -> str:
        """The SQLAlchemy URL: a literal ``url`` from the YAML, else the config key or environment
        variable named by ``connection_env`` (config first, so the app's defaults apply)."""
        if self.kind is not SourceKind.SQL:
            raise DataMapError(f"source {self.key} is manual: it has no connection")
        if self.url:
            return self.url
        value = (config or {}).get(self.connection_env) or os.environ.get(self.connection_env or "")
        if not value:
            raise DataMapError(f"source {self.key}: set {self.connection_env} to its database URL")
        return str(value)
