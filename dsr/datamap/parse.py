"""Read one Fides dataset YAML file into a :class:`~dsr.datamap.model.Source`, refusing what dsr cannot use.

Where dsr's annotations live, and why
-------------------------------------
Every file is a plain Fides dataset (``dataset: [ ... ]``, one dataset per file, one file per source) that
``fideslang.models.Dataset`` validates. dsr needs four things fideslang's models do not all name; each is
put where Fides itself would look first, and only what Fides has no place for goes into a ``dsr`` key:

* **Erase strategy**: Fides' own ``fides_meta.masking_strategy_override``. On a collection
  ``{strategy: delete}`` deletes the whole row (fideslang's only collection-level strategy); on a field
  ``null_rewrite`` sets it null and ``string_rewrite`` (with ``configuration.rewrite_value``) or ``hash``
  masks it. ``fides_meta.read_only: true`` marks a personal field that is never rewritten (a key that holds
  kept records together). A ``user.*`` field of a collection that is not deleted row-wise and says neither
  is erased by no one but a person (``review``), so no personal field is silently left behind by an
  erasure, nor silently erased (Art. 17(1)). Using Fides'
  vocabulary keeps the file meaningful to any Fides tool rather than to dsr alone.
* **Source kind and connection**: the dataset's ``meta`` mapping, which fideslang documents as the place for
  "any extra information": ``meta.dsr = {kind: sql, connection_env: VAR}`` (or ``url:``), or
  ``{kind: manual, contact:, instructions:}``. The URL itself is configuration, never in the file.
* **Provided by the subject** (Art. 20(1)) on a field, and on a collection its **legal basis** (Art. 6(1)),
  the privacy statement's **purpose numbers**, the record **tags** the retention rules select by
  (``dsr/retention/rules.yml``), the field a retention period runs from (``dated_by``) and the field
  holding a stated retention end (``retention_until``), and which collection holds **contracts** or
  **claims** (``contract:``/``claim: {status: FIELD, running: [VALUES], ended_by: FIELD}``: the retention
  rules ask whether a record's policy is active or its claim open, and count from their end): Fides has no slot for these (its legal bases sit on systems,
  not datasets, and collections and fields have no free ``meta``). They go in a sibling key ``dsr:`` on the
  collection or field, which is removed before fideslang validates the rest, so the result stays valid for
  fideslang whether or not a future version forbids unknown keys; dsr validates that key itself.
* **Names in the subject's language**: a letter to a Dutch or French customer names the systems, collections
  and fields it speaks of in that language. Each source says ``meta.dsr.names: {nl:, en:, fr:}`` and each
  collection ``dsr: {names: {nl:, en:, fr:}}``, all three when given (a letter must not mix languages);
  without them the Fides name is used. A field with personal data may say ``dsr: {labels: {nl:, en:, fr:}}``
  (all three when given), else its column name is shown. The Fides ``name`` stays the source's name in the
  case file.
* **Restriction marker** (Art. 18): a collection says ``dsr: {restriction_marker: FIELD}`` when the system
  keeps a field that marks a record as restricted (a boolean, or the date or timestamp it was restricted
  since, such as ``restricted_since``); dsr sets it on the subject's records and clears it when the
  restriction is lifted. Records of a collection without one are restricted by a person (a task).
* **Stored objects**: a field whose value is the address of an object in an object store (a recorded
  call's audio, ``s3://bucket/key``) says ``dsr: {stored_object: true}``; erasing the record deletes the
  object too (:mod:`dsr.datamap.objects`).
* **What the copy leaves out, and why** (issue 14, item 5): every field holding a value is part of the
  access copy (Art. 15(3), CJEU C-487/21), status and outcome fields included; only a technical key is
  left out, and the field says so with its reason: ``dsr: {technical: "row id: a key within the system"}``.
  A ``system.*`` field that is a primary key or refers to another collection and says nothing is technical
  by default (:data:`DEFAULT_TECHNICAL`). ``dsr: {observed: true}`` marks data observed from the subject's use of the
  service (last login, consent source and date), which a portability export carries with what they provided
  (WP242). ``dsr: {third_parties: true}`` marks a field that may hold other people's data (a free-text
  note, a claim description, a call recording): a person reviews each value before an access copy or
  export is released (Art. 15(4)).

Every dsr annotation is optional: a plain Fides dataset loads as it is (issue 13, item 4)
---------------------------------------------------------------------------------------------
A dataset written for Fides alone, with no ``dsr`` key anywhere, is read with safe defaults:

* the source is ``kind: sql`` and its connection URL comes from the environment variable (or config key)
  ``DSR_SOURCE_<KEY>_URL``, ``KEY`` being the ``fides_key`` upper-cased with every character other than
  A-Z and 0-9 written as ``_`` (:func:`source_url_variable`);
* names in every language are the Fides ``name`` (the source's; a collection's and a field's column name in
  words), as a letter would otherwise have none;
* a personal field without an erase strategy, in a collection that does not delete whole rows, gets
  :attr:`~dsr.datamap.model.Erase.REVIEW`: nothing of that collection is erased without a person deciding;
* a collection without ``fides_meta.primary_key`` fields has its key read from the database when it is
  searched (:mod:`dsr.datamap.keys`), and a declared key is checked there to be the table's primary key or
  a unique constraint.

fideslang does not check data category keys against its taxonomy; this module does, against fideslang's
``DEFAULT_TAXONOMY``, and refuses an unknown key with the closest known ones.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import re
from pathlib import Path
from typing import Any

import yaml
from fideslang.default_taxonomy import DEFAULT_TAXONOMY
from fideslang.models import Dataset
from pydantic import ValidationError

from dsr.datamap.model import (
    COMPOSITE_IDENTITY,
    IDENTITY_TYPES,
    LANGUAGES,
    Collection,
    DataMapError,
    Erase,
    Field,
    LegalBasis,
    Lifecycle,
    Reference,
    Source,
    SourceKind,
)
from dsr.domain.yamltext import safe_load

KNOWN_CATEGORIES = frozenset(c.fides_key for c in DEFAULT_TAXONOMY.data_category)
KNOWN_USES = frozenset(u.fides_key for u in DEFAULT_TAXONOMY.data_use)
# Fides field masking strategy -> dsr erase strategy.
FIELD_STRATEGIES = {"null_rewrite": Erase.NULL, "string_rewrite": Erase.MASK, "hash": Erase.MASK}
# Why a system.* key says nothing about the person, when the data map gives no reason of its own.
DEFAULT_TECHNICAL = "key: links records within the system; not information about the person"
STATEMENT_PURPOSES = range(1, 9)  # "Waarvoor gebruiken wij uw persoonsgegevens?" 1-8
_SOURCE_KEYS = {SourceKind.SQL: {"kind", "connection_env", "url", "names"},
                SourceKind.MANUAL: {"kind", "contact", "instructions", "names", "processor"}}


def _fail(path: Path, where: str, message: str) -> DataMapError:
    return DataMapError(f"{path}: {where}: {message}" if where else f"{path}: {message}")


def _strip_dsr(raw: dict) -> tuple[dict, dict[str, dict], dict[tuple[str, str], dict]]:
    """The dataset without the ``dsr`` sibling keys, and those keys per collection and per field."""
    clean = copy.deepcopy(raw)
    collections, fields = {}, {}
    for coll in clean.get("collections") or []:
        if isinstance(coll, dict):
            collections[str(coll.get("name"))] = coll.pop("dsr", None) or {}
            for fld in coll.get("fields") or []:
                if isinstance(fld, dict):
                    fields[(str(coll.get("name")), str(fld.get("name")))] = fld.pop("dsr", None) or {}
    return clean, collections, fields


def _fides_errors(error: ValidationError) -> str:
    messages = []
    for e in error.errors():
        where = ".".join(str(p) for p in e["loc"])
        hint = " (a collection's erase strategy can only be delete)" if (
            "masking_strategy_override" in where and "fields" not in e["loc"]) else ""
        messages.append(f"{where}: {e['msg']}{hint}")
    return "; ".join(messages)


def _check_keys(path: Path, where: str, value: Any, allowed: set[str]) -> dict:
    if not isinstance(value, dict):
        raise _fail(path, where, "dsr annotations must be a mapping")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise _fail(path, where, f"unknown dsr key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    return value


def _names(path: Path, where: str, value: Any, key: str) -> tuple[tuple[str, str], ...]:
    """``{nl:, en:, fr:}``, each a non-empty text: a name in every language a letter is written in."""
    if not isinstance(value, dict):
        raise _fail(path, where, f"dsr.{key} must map each of {', '.join(LANGUAGES)} to a name, "
                                 f"e.g. {{nl: Polissen, en: Policies, fr: Polices}}")
    unknown = sorted(str(k) for k in value if k not in LANGUAGES)
    if unknown:
        raise _fail(path, where, f"dsr.{key}: unknown language(s) {', '.join(unknown)}; use {', '.join(LANGUAGES)}")
    missing = [lang for lang in LANGUAGES if not isinstance(value.get(lang), str) or not value[lang].strip()]
    if missing:
        raise _fail(path, where, f"dsr.{key}: no {', '.join(missing)} text; give all of {', '.join(LANGUAGES)}")
    return tuple((lang, value[lang].strip()) for lang in LANGUAGES)


def _category(path: Path, where: str, key: str, known: frozenset[str], what: str) -> str:
    if key not in known:
        close = difflib.get_close_matches(key, sorted(known), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise _fail(path, where, f"unknown {what} {key!r} (not in fideslang's default taxonomy){hint}")
    return key


def _erase(path: Path, where: str, meta: Any, row_delete: bool, categories: tuple[str, ...]) -> tuple[Erase, str | None]:
    override = meta.masking_strategy_override if meta else None
    if row_delete:
        if override:
            raise _fail(path, where, "has a masking_strategy_override but its collection deletes whole rows")
        return Erase.DELETE_ROW, None
    if override:
        strategy = override.strategy
        if strategy not in FIELD_STRATEGIES:
            raise _fail(path, where, f"bad erase strategy {strategy!r}; use one of "
                                     f"{', '.join(FIELD_STRATEGIES)} (or delete, on the collection)")
        mask = (override.configuration or {}).get("rewrite_value")
        if strategy == "string_rewrite" and mask is None:
            raise _fail(path, where, "string_rewrite needs configuration.rewrite_value")
        return FIELD_STRATEGIES[strategy], None if mask is None else str(mask)
    if any(c.startswith("user") for c in categories) and not (meta and meta.read_only):
        # No strategy declared (a plain Fides dataset): a person decides what happens to the field.
        return Erase.REVIEW, None
    return Erase.NONE, None


def _references(path: Path, where: str, meta: Any) -> tuple[Reference, ...]:
    refs = []
    for ref in (meta.references if meta and meta.references else []):
        collection, _, field = ref.field.partition(".")
        if not field or "." in field:
            raise _fail(path, where, f"reference field {ref.field!r} must be 'collection.field'")
        refs.append(Reference(ref.dataset, collection, field, ref.direction.value if ref.direction else None))
    return tuple(refs)


def _field(path: Path, coll: str, model: Any, notes: dict, row_delete: bool) -> Field:
    where = f"{coll}.{model.name}"
    if model.fields:
        raise _fail(path, where, "nested fields are not supported by dsr")
    notes = _check_keys(path, where + " dsr", notes, {"provided", "labels", "stored_object", "recipient",
                                                      "technical", "observed", "third_parties"})
    recipient = _recipient(path, where, notes["recipient"]) if "recipient" in notes else (None, None)
    technical = notes.get("technical")
    if technical is not None and not (isinstance(technical, str) and technical.strip()):
        raise _fail(path, where, "dsr.technical is the reason the field is left out of the access copy, e.g. "
                                 "\"row id: a key within the system\"")
    for flag in ("provided", "stored_object", "observed", "third_parties"):
        if not isinstance(notes.get(flag, False), bool):
            raise _fail(path, where, f"dsr.{flag} must be true or false")
    labels = _names(path, where, notes["labels"], "labels") if "labels" in notes else ()
    if not model.data_categories:
        raise _fail(path, where, "no data_categories: every field needs at least one")
    categories = tuple(_category(path, where, c, KNOWN_CATEGORIES, "data category") for c in model.data_categories)
    meta = model.fides_meta
    identity = meta.identity if meta else None
    if identity is not None and identity not in IDENTITY_TYPES:
        raise _fail(path, where, f"unknown identity {identity!r}; use one of {', '.join(IDENTITY_TYPES)}")
    erase, mask = _erase(path, where, meta, row_delete, categories)
    references = _references(path, where, meta)
    if technical is None and (bool(meta and meta.primary_key) or references) \
            and all(c.startswith("system.") for c in categories):
        technical = DEFAULT_TECHNICAL
    return Field(name=model.name, categories=categories, erase=erase, provided=notes.get("provided", False),
                 identity=identity, primary_key=bool(meta and meta.primary_key), mask_value=mask,
                 references=references, description=model.description, labels=labels,
                 stored_object=notes.get("stored_object", False), recipient=recipient[0],
                 recipient_match=recipient[1], technical=technical.strip() if technical else None,
                 observed=notes.get("observed", False), third_parties=notes.get("third_parties", False))


def _recipient(path: Path, where: str, value: Any) -> tuple[str, str | None]:
    """``dsr.recipient``: a recipient id of the privacy statement, or ``{id:, match:}`` where ``match`` is a
    regular expression whose first group is the recipient's name (``^partner:(.+)$``); a value it does not
    match names no recipient (a direct sale)."""
    if isinstance(value, dict):
        _check_keys(path, where + " dsr.recipient", value, {"id", "match"})
        rid, match = value.get("id"), value.get("match")
        try:
            if not isinstance(match, str) or re.compile(match).groups < 1:
                raise re.error("no group")
        except re.error:
            raise _fail(path, where, "dsr.recipient.match is a regular expression with a group for the "
                                     "recipient's name, e.g. ^partner:(.+)$") from None
    else:
        rid, match = value, None
    if not (isinstance(rid, str) and rid.strip()):
        raise _fail(path, where, "dsr.recipient is the id of a recipient of the privacy statement "
                                 "(risk_bearer, repairers, partners...): the field names who received the record")
    return rid.strip(), match


def _collection(path: Path, model: Any, notes: dict, raw_order: list[str], kind: SourceKind) -> Collection:
    notes = _check_keys(path, f"{model.name} dsr", notes,
                        {"legal_basis", "purposes", "tags", "dated_by", "retention_until", "names",
                         "contract", "claim", "known_by", "restriction_marker"})
    # Without dsr.names a letter calls the collection by its Fides name in words (Collection.display_name).
    names = _names(path, model.name, notes["names"], "names") if "names" in notes else ()
    try:
        basis = LegalBasis(notes["legal_basis"]) if "legal_basis" in notes else None
    except ValueError:
        raise _fail(path, model.name, f"bad legal_basis {notes['legal_basis']!r}; use one of "
                                      f"{', '.join(b.value for b in LegalBasis)}") from None
    purposes = tuple(notes.get("purposes") or ())
    if any(p not in STATEMENT_PURPOSES for p in purposes):
        raise _fail(path, model.name, "dsr.purposes are the privacy statement's purpose numbers 1-8")
    meta = model.fides_meta
    row_delete = bool(meta and meta.masking_strategy_override)  # fideslang allows only "delete" here
    by_name = {f.name: f for f in model.fields}
    fields = tuple(_field(path, model.name, by_name[n], field_notes, row_delete)
                   for n, field_notes in raw_order)
    uses = tuple(_category(path, model.name, u, KNOWN_USES, "data use") for u in model.data_uses or ())
    declared = {f.identity for f in fields if f.identity}
    if declared & set(COMPOSITE_IDENTITY) and not set(COMPOSITE_IDENTITY) <= declared:
        raise _fail(path, model.name, "name, date_of_birth and postcode identify only together: declare all three")
    for key in ("dated_by", "retention_until", "restriction_marker"):
        if key in notes and notes[key] not in by_name:
            raise _fail(path, model.name, f"dsr.{key} names no field of the collection: {notes[key]!r}")
    known_by = notes.get("known_by") or []
    if not isinstance(known_by, list) or any(k not in by_name for k in known_by):
        raise _fail(path, model.name, "dsr.known_by is a list of the collection's fields the subject knows a "
                                      "record by (an invoice number)")
    tags = notes.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
        raise _fail(path, model.name, "dsr.tags must be a list of record tags (see dsr/retention/rules.yml)")
    lifecycles = {key: _lifecycle(path, model.name, key, notes[key], by_name) for key in ("contract", "claim")
                  if key in notes}
    # Without fides_meta.primary_key the key is read from the database (dsr.datamap.keys); a manual
    # source has no key at all.
    primary_key = tuple(f.name for f in fields if f.primary_key)
    return Collection(name=model.name, fields=fields, primary_key=primary_key, legal_basis=basis,
                      purposes=purposes, data_uses=uses, description=model.description,
                      erase_after=tuple(meta.erase_after or ()) if meta else (), tags=tuple(tags),
                      dated_by=notes.get("dated_by"), retention_until=notes.get("retention_until"), names=names,
                      contract=lifecycles.get("contract"), claim=lifecycles.get("claim"), known_by=tuple(known_by),
                      restriction_marker=notes.get("restriction_marker"))


def _lifecycle(path: Path, coll: str, key: str, value: Any, fields: dict) -> Lifecycle:
    """``dsr.contract`` or ``dsr.claim``: ``{status: FIELD, running: [VALUES], ended_by: FIELD}``."""
    where = f"{coll} dsr.{key}"
    value = _check_keys(path, where, value, {"status", "running", "ended_by"})
    for name in ("status", "ended_by"):
        if name in value and value[name] not in fields:
            raise _fail(path, where, f"{name} names no field of the collection: {value[name]!r}")
    running = value.get("running")
    if "status" not in value or not isinstance(running, list) or not running \
            or not all(isinstance(v, str) and v for v in running):
        raise _fail(path, where, "give status (the field) and running (the values meaning active or open), "
                                 "e.g. {status: status, running: [active], ended_by: end_date}")
    return Lifecycle(status=value["status"], running=tuple(running), ended_by=value.get("ended_by"))


def source_url_variable(fides_key: str) -> str:
    """``DSR_SOURCE_<KEY>_URL``: where a source without ``meta.dsr.connection_env`` or ``url`` finds its
    database URL; ``KEY`` is the ``fides_key`` upper-cased, every character other than A-Z and 0-9 as ``_``."""
    return f"DSR_SOURCE_{re.sub(r'[^A-Z0-9]', '_', fides_key.upper())}_URL"


def _source_meta(path: Path, meta: Any, fides_key: str) -> dict:
    """The source's kind, connection and names from ``meta.dsr``; a plain Fides dataset has none and is a
    SQL source reached through :func:`source_url_variable`, named by its Fides name."""
    if meta is not None and not isinstance(meta, dict):
        raise _fail(path, "meta", "must be a mapping")
    dsr_meta = (meta or {}).get("dsr")
    if dsr_meta is None:
        dsr_meta = {}
    if not isinstance(dsr_meta, dict):
        raise _fail(path, "meta.dsr", "must be a mapping, e.g. {kind: sql, connection_env: VAR}")
    try:
        kind = SourceKind(dsr_meta.get("kind", SourceKind.SQL.value))
    except ValueError:
        raise _fail(path, "meta.dsr.kind", f"must be sql or manual, not {dsr_meta['kind']!r}") from None
    _check_keys(path, "meta.dsr", dsr_meta, _SOURCE_KEYS[kind])
    if not isinstance(dsr_meta.get("processor", False), bool):
        raise _fail(path, "meta.dsr.processor", "must be true or false (a processor, Art. 28, is instructed to erase)")
    if kind is SourceKind.SQL and dsr_meta.get("connection_env") and dsr_meta.get("url"):
        raise _fail(path, "meta.dsr", "a sql source takes one of connection_env or url, not both")
    result = {**dsr_meta, "kind": kind, "names": ()}
    if kind is SourceKind.SQL and not dsr_meta.get("url") and not dsr_meta.get("connection_env"):
        result["connection_env"] = source_url_variable(fides_key)
    if "names" in dsr_meta:
        result["names"] = _names(path, "meta.dsr", dsr_meta["names"], "names")
    # A manual source's instructions and contact: one English text, or {nl:, en:, fr:} for the task and the
    # case page in every interface language.
    for key in ("instructions", "contact"):
        result[f"{key}_in"] = ()
        if isinstance(dsr_meta.get(key), dict):
            result[f"{key}_in"] = _names(path, "meta.dsr", dsr_meta[key], key)
            result[key] = dict(result[f"{key}_in"])["en"]
        elif dsr_meta.get(key) is not None and not isinstance(dsr_meta[key], str):
            raise _fail(path, f"meta.dsr.{key}", "must be a text, or {nl:, en:, fr:} texts")
    return result


def parse_dataset(raw: Any, path: Path) -> Source:
    """Validate one dataset mapping (as found in the YAML) with fideslang and dsr's rules."""
    if not isinstance(raw, dict):
        raise _fail(path, "", "a dataset must be a mapping")
    clean, coll_notes, field_notes = _strip_dsr(raw)
    try:
        model = Dataset.model_validate(clean)
    except ValidationError as error:
        raise _fail(path, "", f"fideslang rejects the dataset: {_fides_errors(error)}") from None
    meta = _source_meta(path, model.meta, model.fides_key)
    collections = []
    for raw_coll in clean["collections"]:
        coll_model = next(c for c in model.collections if c.name == raw_coll["name"])
        order = [(f["name"], field_notes[(raw_coll["name"], f["name"])]) for f in raw_coll["fields"]]
        collections.append(_collection(path, coll_model, coll_notes[raw_coll["name"]], order, meta["kind"]))
    source = Source(key=model.fides_key, name=model.name or model.fides_key, kind=meta["kind"],
                    collections=tuple(collections), connection_env=meta.get("connection_env"),
                    url=meta.get("url"), description=model.description, instructions=meta.get("instructions"),
                    instructions_in=meta["instructions_in"], contact_in=meta["contact_in"],
                    contact=meta.get("contact"), path=path, names=meta["names"],
                    processor=meta.get("processor") is True)
    check_references(source, {source.key: source}, complete=False)
    check_reachable(source)
    return source


# Parsed files by path and content: the data map is read for every search, plan, letter and page that names a
# system, and parsing its YAML costs far more than reading it (a demo load parsed it over 200 times). A file
# whose text changed is parsed again; a file that fails is never kept.
_PARSED: dict[tuple[str, str], Source] = {}
_PARSED_MAX = 256


def parse_file(path: Path) -> Source:
    """Read ``path``: a Fides manifest holding exactly one dataset (one file per source)."""
    text = path.read_text(encoding="utf-8")
    key = (str(path), hashlib.sha256(text.encode("utf-8")).hexdigest())
    if key in _PARSED:
        return _PARSED[key]
    try:
        document = safe_load(text)
    except yaml.YAMLError as error:
        raise _fail(path, "", f"not valid YAML: {error}") from None
    datasets = document.get("dataset") if isinstance(document, dict) else None
    if not isinstance(datasets, list) or len(datasets) != 1:
        raise _fail(path, "", "expected a Fides manifest with exactly one entry under 'dataset:'")
    source = parse_dataset(datasets[0], path)
    if len(_PARSED) >= _PARSED_MAX:
        _PARSED.clear()
    _PARSED[key] = source
    return source


def check_references(source: Source, known: dict[str, Source], *, complete: bool = True) -> None:
    """Every reference names a field that exists. With ``complete=False`` (one file on its own)
    references to other sources are left for :func:`check_cross_references`."""
    for coll in source.collections:
        for fld in coll.fields:
            where = f"{coll.name}.{fld.name}"
            for ref in fld.references:
                if ref.dataset not in known:
                    if complete or ref.dataset == source.key:
                        raise _fail(source.path, where, f"reference to unknown source {ref.dataset!r}")
                    continue
                try:
                    known[ref.dataset].collection(ref.collection).field(ref.field)
                except KeyError as error:
                    raise _fail(source.path, where, f"bad reference: {error.args[0]}") from None


def check_reachable(source: Source) -> None:
    """A SQL collection must be reachable from an identity, directly, through references inside the
    source, or from another source; otherwise a lookup would silently miss it (Art. 15(1))."""
    if source.kind is not SourceKind.SQL:
        return
    reached = {c.name for c in source.collections
               if c.identity_fields or any(r.dataset != source.key for f in c.fields for r in f.references)}
    if not reached:
        raise _fail(source.path, "", "no collection declares an identity field (fides_meta.identity)")
    edges = source.edges()
    while True:
        more = {e.target_collection for e in edges if e.source_collection in reached} - reached
        if not more:
            break
        reached |= more
    missing = [c.name for c in source.collections if c.name not in reached]
    if missing:
        raise _fail(source.path, ", ".join(missing), "not reachable from any identity field or reference")


def check_cross_references(sources: dict[str, Source]) -> None:
    for source in sources.values():
        check_references(source, sources)
