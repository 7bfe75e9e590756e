"""Every export schema file is a valid JSON Schema (draft 2020-12) with the ``$id`` of its version: checked
here, not each time a worker loads one (dsr.exports.schema.load_schema)."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from dsr.exports.schema import CURRENT_VERSION, SCHEMA_DIR, load_schema, schema_path

FILES = sorted(SCHEMA_DIR.glob("dsr-export-*.schema.json"))


def test_the_current_version_has_its_file():
    assert schema_path(CURRENT_VERSION) in FILES and len(FILES) >= 2


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_a_schema_file_is_a_valid_draft_2020_12_schema_of_its_version(path):
    version = path.name.removeprefix("dsr-export-").removesuffix(".schema.json")
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"urn:dsr:schema:export:{version}"
    assert load_schema(version) == schema
