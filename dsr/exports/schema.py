"""The JSON Schema of an export's data.json, kept in the top-level ``exports/schema/`` (DESIGN.md, "Letters
and exports"), loaded and applied here.

An export is written as a stream, so it is never all in memory at once to be validated in one go.
:class:`ExportSchema` validates it in the pieces it is written in: the records against ``#/$defs/record``
as they are written, and at the end the document with every collection's ``records`` left empty against the
whole schema. Since the schema constrains ``records`` only through its items, the pieces valid means the
file valid (the tests check the whole file as well). The manifest has its own ``#/$defs/manifest``.

A record is validated once per **shape** (:func:`record_shape`): everything of it the schema can look at,
which is all of it except the field values (``value`` may be any JSON, the schema says nothing more of it)
and the key's values (the key is any object with at least one member); of those only the JSON type counts.
Two records of one shape are valid or invalid together, so the second need not be checked: a collection of
200,000 premium payments is validated a handful of times (a payment with an empty field has another shape),
not 200,000 times, which took most of an export's time (issue 15, item 4). A record that is not plainly a
dict of lists and dicts has no shape and is always validated.

Pure: jsonschema and the standard library.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

SCHEMA_DIR = Path(__file__).resolve().parent.parent.parent / "exports" / "schema"
# The version new exports are written in. A breaking change is a new major version in a new file; the
# files of earlier versions stay, so an export made under them can still be checked.
CURRENT_VERSION = "1.1"
FORMAT = "dsr-export"


class ExportInvalid(ValueError):
    """The export does not follow its schema: a bug in dsr or in the data map, never the subject's fault."""


def schema_path(version: str = CURRENT_VERSION) -> Path:
    return SCHEMA_DIR / f"dsr-export-{version}.schema.json"


@cache
def load_schema(version: str = CURRENT_VERSION) -> dict[str, Any]:
    """The schema of ``version``, read once per process. It is not checked against the draft's metaschema
    here: the files are ours, never edited after release, and the tests check every one of them
    (``tests/unit/test_export_schema_files.py``); that check took about 0.04 s of the first export of every
    worker process (issue 15, item 4)."""
    return json.loads(schema_path(version).read_text(encoding="utf-8"))


def _part(schema: dict[str, Any], name: str) -> dict[str, Any]:
    """A schema for one ``$defs`` entry that still resolves the other ``$defs`` it refers to."""
    return {"$schema": schema["$schema"], "$ref": f"#/$defs/{name}", "$defs": schema["$defs"]}


MAX_SHAPES = 10_000  # shapes remembered per export; past that a record of a new shape is checked every time


def _frozen(value: Any) -> Any:
    """``value`` as a hashable that tells apart everything a JSON Schema can (1, 1.0 and True differ)."""
    kind = type(value)
    if kind is list:
        return (kind, tuple(_frozen(v) for v in value))
    if kind is dict:
        return (kind, tuple((k, _frozen(v)) for k, v in value.items()))
    return (kind, value)


def record_shape(record: Any) -> tuple | None:
    """What the schema of a record can see of ``record``: its own keys, the key's member names and types,
    and each field entry whole except its ``value``, of which only the type. None for anything that is not
    a dict with a dict ``key`` and a list of dict ``fields``: such a record is always validated. (Members in
    another order make another shape: that costs one more validation, never a missed one.)"""
    if type(record) is not dict or type(record.get("key")) is not dict or type(record.get("fields")) is not list:
        return None
    fields = []
    for entry in record["fields"]:
        if type(entry) is not dict:
            return None
        items = []
        for name, value in entry.items():
            kind = type(value)
            if name == "value":
                items.append((name, kind))
            elif kind is list:  # the categories: a list of strings
                items.append((name, kind, tuple(value), tuple(map(type, value))))
            elif kind is str or kind is bool or value is None:
                items.append((name, kind, value))
            else:
                items.append((name, _frozen(value)))
        fields.append(tuple(items))
    return (tuple(record), tuple((k, type(v)) for k, v in record["key"].items()), tuple(fields))


class ExportSchema:
    """Validators for one schema version: the whole document, a record, a manifest.

    One instance per export: it remembers the record shapes it has validated (:func:`record_shape`).
    """

    def __init__(self, version: str = CURRENT_VERSION) -> None:
        self.version = version
        self.shapes: set[tuple] = set()
        self.records_validated = 0
        self.schema = load_schema(version)
        self.id = self.schema["$id"]
        checker = Draft202012Validator.FORMAT_CHECKER
        self._document = Draft202012Validator(self.schema, format_checker=checker)
        self._record = Draft202012Validator(_part(self.schema, "record"), format_checker=checker)
        self._manifest = Draft202012Validator(_part(self.schema, "manifest"), format_checker=checker)

    @property
    def file_name(self) -> str:
        return schema_path(self.version).name

    def check_document(self, document: dict[str, Any]) -> None:
        _check(self._document, document, "data.json")

    def check_record(self, record: dict[str, Any], where: str) -> None:
        """Validate ``record`` unless one of the same shape was (:func:`record_shape`)."""
        shape = record_shape(record)
        try:
            if shape is not None and shape in self.shapes:
                return
        except TypeError:  # something unhashable where the schema expects JSON: let the validator say what
            shape = None
        _check(self._record, record, where)
        self.records_validated += 1
        if shape is not None and len(self.shapes) < MAX_SHAPES:
            self.shapes.add(shape)

    def check_formed(self, shape: tuple, build, where: str) -> None:
        """Validate the record ``build()`` makes, for the first record of a combination of forms and value
        types (:class:`dsr.exports.build.FormedRecord`): every record of it has one :func:`record_shape`,
        so the writer asks only once per combination."""
        self.check_record(build(), where)

    def check_manifest(self, manifest: dict[str, Any]) -> None:
        _check(self._manifest, manifest, "manifest.json")


def _check(validator: Draft202012Validator, instance: Any, where: str) -> None:
    error: ValidationError | None = next(iter(validator.iter_errors(instance)), None)
    if error is not None:
        # Not error.message: it quotes the value, which may be personal data, into a job's error text.
        path = "/".join(str(p) for p in error.absolute_path)
        raise ExportInvalid(f"{where}: the value at /{path} fails the schema's {error.validator!r} rule "
                            f"({'/'.join(str(p) for p in error.absolute_schema_path)})")
