"""The JSON Schema of an export's data.json, kept in the top-level ``exports/schema/`` (DESIGN.md, "Letters
and exports"), loaded and applied here.

An export is written as a stream, so it is never all in memory at once to be validated in one go.
:class:`ExportSchema` validates it in the pieces it is written in: each record against ``#/$defs/record``
as it is written, and at the end the document with every collection's ``records`` left empty against the
whole schema. Since the schema constrains ``records`` only through its items, the pieces valid means the
file valid (the tests check the whole file as well). The manifest has its own ``#/$defs/manifest``.

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
    schema = json.loads(schema_path(version).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return schema


def _part(schema: dict[str, Any], name: str) -> dict[str, Any]:
    """A schema for one ``$defs`` entry that still resolves the other ``$defs`` it refers to."""
    return {"$schema": schema["$schema"], "$ref": f"#/$defs/{name}", "$defs": schema["$defs"]}


class ExportSchema:
    """Validators for one schema version: the whole document, a record, a manifest."""

    def __init__(self, version: str = CURRENT_VERSION) -> None:
        self.version = version
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
        _check(self._record, record, where)

    def check_manifest(self, manifest: dict[str, Any]) -> None:
        _check(self._manifest, manifest, "manifest.json")


def _check(validator: Draft202012Validator, instance: Any, where: str) -> None:
    error: ValidationError | None = next(iter(validator.iter_errors(instance)), None)
    if error is not None:
        # Not error.message: it quotes the value, which may be personal data, into a job's error text.
        path = "/".join(str(p) for p in error.absolute_path)
        raise ExportInvalid(f"{where}: the value at /{path} fails the schema's {error.validator!r} rule "
                            f"({'/'.join(str(p) for p in error.absolute_schema_path)})")
