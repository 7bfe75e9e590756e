"""Exports for access and portability (issue 5, item 4) made from Harmony's demo systems, with dsr's own
database on SQLite and PostgreSQL: the ZIP's data.json validates against the schema in exports/schema/,
every manifest checksum matches its file, the CSVs parse back, the overview PDF names the case; a subject
with thousands of records exports in bounded memory; a retried job makes no second export; files expire.

Each test gets its own copy of the demo systems (some add rows to it). Expectations come from plain SQL
(tests/harmony_support.py), not from the code under test. The clock is frozen on 26 November 2026.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import os
import random
import re
import tracemalloc
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import time_machine
from jsonschema import Draft202012Validator
from pypdf import PdfReader

from dsr.audit.models import AuditEvent
from dsr.auth.models import User
from dsr.cases.errors import InvalidInput, NotAllowed, RuleViolation
from dsr.domain.enums import JobStatus, Right, Role
from dsr.exports import content
from dsr.exports.build import CSV_COLUMNS, ExportWriter, FieldForm, FormedRecord
from dsr.exports.content import write_export
from dsr.exports.models import Export, ExportKind
from dsr.exports.operations import (
    DIGIT_GROUPS,
    EXPIRE_JOB_KIND,
    ExportGone,
    count_text,
    expire_exports,
    open_download,
    percent_reporter,
    request_export,
)
from dsr.exports.schema import CURRENT_VERSION, SCHEMA_DIR, ExportInvalid, ExportSchema, record_shape
from dsr.extensions import db
from dsr.fulfilment.access import record_reader
from dsr.fulfilment.lookup_ops import confirm_match, run_lookup
from dsr.jobs import runner
from dsr.jobs.models import Job
from tests.conftest import NOW
from tests.factories import make_case, make_user
from tests.harmony_support import looked_up_case, private_copy, review_third_parties, rows, subject_of
from tests.storage_support import path_for

SCHEMA = json.loads((SCHEMA_DIR / f"dsr-export-{CURRENT_VERSION}.schema.json").read_text())
PAYMENTS = 5000


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def systems(ctx, harmony, tmp_path, monkeypatch) -> str:
    """A copy of the demo systems per test: the streaming and CSV tests add rows to it."""
    monkeypatch.setitem(ctx.config, "DEMO_SYSTEMS_URL", url := private_copy(harmony, tmp_path))
    return url


@pytest.fixture
def staff(ctx) -> User:
    return make_user(Role.STAFF)


def case_for(customer, staff, rights=(Right.ACCESS, Right.PORTABILITY), *, review: bool = True):
    """A case asking for ``rights`` for ``customer``, searched and the match confirmed, committed."""
    case = make_case(actor=staff, rights=rights, **subject_of(customer))
    lookup = run_lookup(case, actor=staff, now=NOW)
    confirm_match(lookup, actor=staff, now=NOW + timedelta(minutes=1))
    if review:  # Art. 15(4): the privacy manager decides what may concern others before a copy is released
        review_third_parties(case, now=NOW + timedelta(minutes=2))
    db.session.commit()
    return case, lookup


def run(job: Job) -> Job:
    db.session.commit()
    runner.dispatch(job)
    db.session.expire_all()
    return db.session.get(Job, job.id)


def make(case, kind, staff, language=None) -> Export:
    job = run(request_export(case, kind, actor=staff, now=NOW, language=language))
    assert job.status is JobStatus.SUCCEEDED, job.error
    return db.session.execute(sa.select(Export).where(Export.job_id == job.id)).scalar_one()


def unzip(export: Export) -> dict[str, bytes]:
    with zipfile.ZipFile(path_for(export)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def check_manifest(files: dict[str, bytes], export: Export) -> dict:
    manifest = json.loads(files["manifest.json"])
    Draft202012Validator({"$ref": "#/$defs/manifest", "$defs": SCHEMA["$defs"]}).validate(manifest)
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == set(files) - {"manifest.json"}
    for name, entry in listed.items():
        assert hashlib.sha256(files[name]).hexdigest() == entry["sha256"], name
        assert len(files[name]) == entry["size"], name
    assert manifest["schema_version"] == CURRENT_VERSION and manifest["schema"] == SCHEMA["$id"]
    assert manifest["case_reference"] == export.case.reference
    assert manifest["generated_at"] == "2026-11-26T10:00:00Z"
    # And the row's checksum is the stored file's.
    assert hashlib.sha256(path_for(export).read_bytes()).hexdigest() == export.sha256
    assert path_for(export).stat().st_size == export.size
    return manifest


def csv_rows(files: dict[str, bytes]) -> dict[str, list[dict]]:
    parsed = {}
    for name, data in files.items():
        if name.startswith("csv/"):
            reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""))
            assert tuple(reader.fieldnames) == CSV_COLUMNS
            parsed[name[4:-4]] = list(reader)
    return parsed


def count(sql_url: str, sql: str, **params) -> int:
    return rows(sql_url, sql, **params)[0]["n"]


# -- access ---------------------------------------------------------------------------------------------

def test_an_access_export_validates_and_every_checksum_matches(systems, customer, staff):
    from dsr import pdf

    case, _lookup = case_for(customer, staff)
    pdf.render_pdf('<link rel="stylesheet" href="letter.css"><p>a letter before the export</p>')
    assert pdf._kept.sheets, "the letters' stylesheet is kept"
    export = make(case, ExportKind.ACCESS, staff)
    assert not pdf._kept.sheets and pdf._kept.font_config is None, "an export does not hold the letters' fonts"
    assert export.kind is ExportKind.ACCESS and export.schema_version == CURRENT_VERSION and export.language.value == "nl"
    assert export.storage_key.startswith("exports/2026/") and export.deleted_at is None
    assert export.expires_at == NOW + timedelta(days=30)

    files = unzip(export)
    assert {"data.json", "manifest.json", "overview.html", "overview.pdf"} <= set(files)
    manifest = check_manifest(files, export)
    data = json.loads(files["data.json"])
    Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(data)
    assert data["kind"] == "access" and data["case_reference"] == case.reference and data["language"] == "nl"

    # The subject's data, read afresh: every record the lookup found, typed as JSON.
    by_coll = {c["collection"]: c for c in data["collections"]}
    calls = count(systems, "SELECT count(*) AS n FROM call_recordings WHERE customer_number = :n",
                  n=customer["customer_number"])
    assert by_coll["call_recordings"]["record_count"] == calls == len(by_coll["call_recordings"]["records"])
    assert manifest["record_count"] == export.record_count == sum(c["record_count"] for c in data["collections"])
    person = by_coll["customers"]["records"][0]
    values = {f["name"]: f["value"] for f in person["fields"]}
    assert values["email"] == customer["email"] and values["street"] == customer["street"]
    assert isinstance(person["key"]["id"], int)
    # The password hash is withheld, never exported.
    hashes = rows(systems, "SELECT password_hash FROM portal_accounts WHERE customer_id = :c", c=customer["id"])
    assert hashes and all(h["password_hash"] not in files["data.json"].decode() for h in hashes)
    # The subject as the case holds them, nothing more.
    assert data["subject"]["customer_number"] == customer["customer_number"]
    assert set(data["subject"]) <= {"name", "email", "customer_number", "policy_number", "date_of_birth",
                                    "postcode"}

    # What Art. 15(1) adds: purposes, categories, recipients, retention, the complaint route.
    access = data["access"]
    assert {p["number"] for p in access["purposes"]} >= {1, 2, 6}
    assert {"contact", "financial", "interactions"} <= {c["id"] for c in access["categories"]}
    assert access["recipients"] and "Autoriteit Persoonsgegevens" in access["complaint"]["authority_name"]
    assert by_coll["call_recordings"]["retention"][0]["period"] == "P180D"
    assert any(r["field"] == "storage_uri" for r in access["redaction_review"])

    # Recipients by name as the records name them (CJEU C-154/21), the status fields in the copy, the keys
    # left out with the data map's reason (issue 14, items 4 and 5).
    bearers = sorted({r["risk_bearer"] for r in rows(systems, "SELECT risk_bearer FROM policies "
                                                              "WHERE customer_id = :c", c=customer["id"])})
    assert next(r for r in access["recipients"] if r["id"] == "risk_bearer")["named"] == bearers
    policy_fields = {f["name"]: f for r in by_coll["policies"]["records"] for f in r["fields"]}
    assert policy_fields["risk_bearer"]["recipient"] == {"id": "risk_bearer", "name": policy_fields["risk_bearer"]["value"]}
    assert policy_fields["status"]["value"] in ("active", "ended")
    assert {"id", "customer_id"} <= {x["field"] for x in by_coll["policies"]["left_out"]}
    assert "id" not in policy_fields and "customer_id" not in policy_fields
    overview = files["overview.html"].decode()
    assert all(bearer in overview for bearer in bearers)


def test_the_csv_files_hold_every_value_once_per_category_and_defuse_formulas(systems, customer, staff):
    engine = sa.create_engine(systems)
    with engine.begin() as conn:  # a street a spreadsheet would run as a formula
        conn.execute(sa.text("UPDATE customers SET street = :s WHERE id = :c"),
                     {"s": '=HYPERLINK("http://evil.example","x")', "c": customer["id"]})
    engine.dispose()
    case, _lookup = case_for(customer, staff)
    files = unzip(make(case, ExportKind.ACCESS, staff))
    data = json.loads(files["data.json"])
    parsed = csv_rows(files)

    assert {"personal", "contact", "financial"} <= set(parsed)
    fields = [(c["collection"], f["name"]) for c in data["collections"] for r in c["records"] for f in r["fields"]]
    assert sum(len(v) for v in parsed.values()) == len(fields)
    contact = parsed["contact"]
    assert any(r["field"] == "email" and r["value"] == customer["email"] for r in contact)
    street = next(r for r in contact if r["collection"] == "customers" and r["field"] == "street")
    assert street["value"] == "'" + '=HYPERLINK("http://evil.example","x")'
    assert street["record"] == f"id={customer['id']}"
    # In data.json the value is as it is: defusing is for spreadsheets only.
    assert '=HYPERLINK(\\"http://evil.example\\",\\"x\\")' in files["data.json"].decode()


def test_the_overview_is_readable_in_the_case_language_and_names_the_case(systems, customer, staff):
    case, _lookup = case_for(customer, staff)
    files = unzip(make(case, ExportKind.ACCESS, staff, language="en"))
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(files["overview.pdf"])).pages)
    assert case.reference in text
    assert "Your personal data at Harmony" in text and "Questions or complaints" in text
    html = files["overview.html"].decode()
    assert case.reference in html and "Autoriteit Persoonsgegevens" in html
    assert "<script" not in html
    dutch = unzip(make(case, ExportKind.ACCESS, staff, language="nl"))
    assert "Uw persoonsgegevens bij Harmony" in dutch["overview.html"].decode()
    # Issue 14.11: the category table's header is the word, not a dict method; the field names are the data
    # map's labels in the overview's language; no database key names a record.
    for files_ in (files, dutch):
        overview = files_["overview.html"].decode()
        assert "built-in method" not in overview
        assert "amount cents" not in overview and "storage uri" not in overview
        assert re.search(r'<td class="num">1</td>', overview)
        assert not re.search(r"<td>id \d+", overview)
    assert "<th class=\"num\">Waarden</th>" in dutch["overview.html"].decode()
    assert "Achternaam:" in dutch["overview.html"].decode() and "last name:" not in dutch["overview.html"].decode()
    Path(os.environ.get("DSR_LETTERS_PDF_DIR", "/nonexistent")).is_dir() and (
        Path(os.environ["DSR_LETTERS_PDF_DIR"]) / "overview-access-nl.pdf").write_bytes(dutch["overview.pdf"])


# -- portability ----------------------------------------------------------------------------------------

def test_a_portability_export_holds_only_provided_data_and_says_what_was_left_out(systems, customer, staff):
    case, _lookup = case_for(customer, staff)
    export = make(case, ExportKind.PORTABILITY, staff)
    files = unzip(export)
    check_manifest(files, export)
    data = json.loads(files["data.json"])
    Draft202012Validator(SCHEMA).validate(data)
    assert data["kind"] == "portability" and "access" not in data

    collections = {c["collection"] for c in data["collections"]}
    assert "customers" in collections and "call_recordings" not in collections
    # Provided by them, or observed from their use of the service (WP242): the last login, consent's source.
    fields = [f for c in data["collections"] for r in c["records"] for f in r["fields"]]
    assert all(f["provided"] != f["observed"] for f in fields)
    observed = {f["name"] for f in fields if f["observed"]}
    assert {"last_login_at", "consent_at", "consent_source"} <= observed
    excluded = data["portability"]["excluded"]
    assert any(e["collection"] == "call_recordings" and e["reason"] == "other_legal_basis" for e in excluded)
    assert all(e["reason"] in ("not_provided", "other_legal_basis") for e in excluded)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(files["overview.pdf"])).pages)
    assert case.reference in text
    assert csv_rows(files)


# -- streaming --------------------------------------------------------------------------------------------

def traced_export(case, staff) -> tuple[int, Export]:
    """Make an access export, returning the peak of memory allocated while it was made, and the export."""
    job = request_export(case, ExportKind.ACCESS, actor=staff, now=NOW)
    db.session.commit()
    db.session.expire_all()
    tracemalloc.start()
    try:
        runner.dispatch(job)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.status is JobStatus.SUCCEEDED, job.error
    return peak, db.session.execute(sa.select(Export).where(Export.job_id == job.id)).scalar_one()


def add_payments(systems: str, customer: dict, count: int, first: int = 0) -> None:
    """``count`` more premium payments for the customer, straight into the demo systems."""
    invoice = rows(systems, "SELECT id, policy_id FROM invoices WHERE customer_id = :c ORDER BY id LIMIT 1",
                   c=customer["id"])[0]
    engine = sa.create_engine(systems)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO premium_payments (invoice_id, policy_id, paid_on, amount_cents, method, iban, "
            "account_holder, status) VALUES (:i, :p, :d, :a, 'direct_debit', 'NL91ABNA0417164300', :h, 'collected')"),
            [{"i": invoice["id"], "p": invoice["policy_id"], "d": date(1990, 1, 1) + timedelta(days=i),
              "a": 1000 + i, "h": f"{customer['first_name']} {customer['last_name']}"}
             for i in range(first, first + count)])
    engine.dispose()


def test_a_subject_with_thousands_of_records_is_exported_in_bounded_memory(systems, customer, staff):
    # The baseline already fills the overview's sample of each collection, so both exports render the same
    # amount of PDF; what differs is only how many records stream through.
    add_payments(systems, customer, 100)
    case, _lookup = case_for(customer, staff, rights=(Right.ACCESS,))
    make(case, ExportKind.ACCESS, staff)  # the one-off costs: WeasyPrint, locale data, the schema
    small_peak, small = traced_export(case, staff)
    small_size = len(unzip(small)["data.json"])

    add_payments(systems, customer, PAYMENTS, first=100)
    lookup = run_lookup(case, actor=staff, now=NOW + timedelta(minutes=5))
    confirm_match(lookup, actor=staff, now=NOW + timedelta(minutes=6))
    review_third_parties(case, now=NOW + timedelta(minutes=7))  # decisions belong to a search: the new one's
    db.session.commit()
    assert lookup.record_count > PAYMENTS

    big_peak, big = traced_export(case, staff)
    files = unzip(big)
    check_manifest(files, big)
    big_size = len(files["data.json"])
    payments = next(c for c in json.loads(files["data.json"])["collections"] if c["collection"] == "premium_payments")
    assert payments["record_count"] > PAYMENTS and big.record_count > PAYMENTS
    # Millions of bytes more data, and the peak barely moves: the records pass through, none are kept.
    # (Held as Python objects, the records alone would take several times data.json.)
    assert big_size - small_size > 3_000_000
    assert big_peak - small_peak < (big_size - small_size) / 10, (
        f"peak {small_peak:,} -> {big_peak:,} bytes while data.json grew {small_size:,} -> {big_size:,}")
    # The overview shows the first records of each collection and says where the rest is.
    pdf = PdfReader(io.BytesIO(files["overview.pdf"]))
    assert len(pdf.pages) < 40 and "data.json" in " ".join(page.extract_text() for page in pdf.pages)


class EveryRecordChecked(ExportSchema):
    """The path before issue 15: every record validated against the schema as it is written."""

    def check_record(self, record, where):
        self.shapes.clear()
        super().check_record(record, where)


def as_dicts(collection):
    """The writer as before issue 15, item 4: every record built as a dict and written by ``json.dumps``."""
    def every_record_a_dict(self, header, records, **kw):
        return collection(self, header, (r.as_dict() if isinstance(r, FormedRecord) else r for r in records), **kw)

    return every_record_a_dict


def read_and_reviewed(source, coll, statement, language, known):
    """The reader as before issue 15, item 4: every row read as a record and its flagged values reviewed."""
    read = record_reader(source, coll, statement, language)
    return lambda row: content._access_record(content._reviewed(source, coll, read(row), known, language))


def test_5000_records_validated_once_per_shape_export_exactly_what_validating_each_did(systems, customer, staff,
                                                                                         ctx, monkeypatch):
    add_payments(systems, customer, PAYMENTS)
    case, lookup = case_for(customer, staff, rights=(Right.ACCESS,))
    made = {}
    for name, schema in (("per shape", ExportSchema()), ("every record", EveryRecordChecked())):
        if name == "every record":
            monkeypatch.setattr(ExportWriter, "collection", as_dicts(ExportWriter.collection))
            monkeypatch.setattr(content, "_access_reader", read_and_reviewed)
        target = io.BytesIO()
        built = write_export(target, case=case, lookup=lookup, kind=ExportKind.ACCESS, language="nl", now=NOW,
                             config=ctx.config, schema=schema)
        with zipfile.ZipFile(target) as zf:
            made[name] = (built, schema, {n: zf.read(n) for n in zf.namelist()
                                          if n.endswith((".json", ".csv", ".html"))})
    built, schema, files = made["per shape"]
    old_built, old_schema, old_files = made["every record"]
    assert built.record_count > PAYMENTS and old_schema.records_validated == built.record_count
    # A handful of shapes (a record with an empty field is another), not thousands of validations.
    assert schema.records_validated < 100
    assert {n: v for n, v in files.items() if n != "manifest.json"} == {
        n: v for n, v in old_files.items() if n != "manifest.json"}
    data = json.loads(files["data.json"])
    Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(data)
    # And what is written is each record as the system holds it.
    payments = next(c for c in data["collections"] if c["collection"] == "premium_payments")
    expected = rows(systems, "SELECT p.* FROM premium_payments p JOIN policies o ON o.id = p.policy_id "
                    "WHERE o.customer_id = :c ORDER BY p.id", c=customer["id"])
    assert payments["record_count"] == len(expected) > PAYMENTS
    for record, row in zip(payments["records"], expected, strict=True):
        assert record["key"] == {"id": row["id"]}
        values = {f["name"]: f["value"] for f in record["fields"]}
        assert values == {k: v for k, v in row.items() if k in values}
        assert values["amount_cents"] == row["amount_cents"] and values["paid_on"] == row["paid_on"]


def _record(value="x", **changes):
    field = {"name": "amount_cents", "categories": ["user.financial"], "value": value, "category": "financial",
             "provided": False, "withheld": False, "review_third_parties": False, **changes}
    return {"key": {"id": 1}, "fields": [field]}


@pytest.mark.parametrize("bad, where", [
    (_record(categories="user.financial"), "/fields/0/categories"),  # a string, not a list
    (_record(provided="no"), "/fields/0/provided"),
    (_record(name=""), "/fields/0/name"),
    ({"key": {}, "fields": []}, "/key"),
    ({"key": {"id": 1}, "fields": [], "extra": 1}, "/"),
    (_record(categories=["user.financial", 3]), "/fields/0/categories/1"),
])
def test_validation_still_catches_a_record_of_a_bad_shape_after_thousands_of_good_ones(bad, where):
    """Validating once per shape never lets a bad record through: a record the schema would tell apart from
    the ones already validated has a shape of its own and is validated."""
    schema = ExportSchema()
    writer = ExportWriter(io.BytesIO(), head={"case_reference": "DSR-2026-00001", "kind": "access"}, schema=schema)
    header = {"source": "s", "collection": "c"}
    good = (_record(value=n) for n in range(3000))
    with pytest.raises(ExportInvalid, match=r"data.json s.c record 3001: the value at " + re.escape(where)):
        writer.collection(header, itertools.chain(good, [bad]), found=3001)
    writer.abort()
    assert schema.records_validated == 1  # the 3,000 good ones are one shape


TRICKY = ["plain", "", 'say "hi" \\ back', "café ë €", "\u2028 line\nbreak\t", "=1+2", "+31 6 1234", "-12.50", 0, -7,
          2**70, 1.5, -0.0, 1e300, True, False, None, {"b": [1, "x"], "a": None}, [1.25, "y"]]


def test_a_formed_record_writes_exactly_what_its_dict_does():
    """The fast path of issue 15, item 4 (each field's entry worked out once per collection) writes data.json,
    the CSVs and the summary byte for byte as ``json.dumps`` of the record as a dict does."""
    forms = [FieldForm({"name": "note", "categories": ["user.content"], "value": None, "category": "contact",
                        "provided": True, "withheld": False, "review_third_parties": False}),
             FieldForm({"name": "amount", "categories": ["user.financial", "user.x"], "value": None,
                        "category": None, "provided": False, "observed": True}),
             FieldForm({"value": None, "name": "first", "categories": []})]
    records = [FormedRecord({"id": n, "sub": f"k{n}"}, [(forms[n % 3], v), (forms[(n + 1) % 3], TRICKY[-n])])
               for n, v in enumerate(TRICKY, 1)]
    for record in records:
        assert record.json() == json.dumps(record.as_dict(), ensure_ascii=False)
    written, validated = {}, {}
    for name, given in (("formed", records), ("dicts", [r.as_dict() for r in records])):
        target, schema = io.BytesIO(), ExportSchema()
        writer = ExportWriter(target, head={"case_reference": "DSR-2026-00001", "kind": "access"}, schema=schema)
        summary = writer.collection({"source": "s", "collection": "c"}, iter(given * 3), found=3 * len(given))
        for category, handle in writer._csv.items():
            written[name, category] = b"".join(handle.blocks()).decode("utf-8")
        writer._text.flush()
        writer._entry.close()
        writer.abort()
        with zipfile.ZipFile(target) as zf:
            data = zf.read("data.json")
        written[name] = (data, summary.record_count, summary.fields_seen, summary.categories,
                         summary.category_counts, summary.sample)
        validated[name] = schema.records_validated
    assert written["formed"] == written["dicts"]
    assert validated["formed"] == validated["dicts"] < 3 * len(TRICKY)  # once per shape on both paths
    for key, text in written.items():
        if isinstance(key, tuple):  # each CSV is what csv.writer writes of its cells (none writes them now)
            again = io.StringIO()
            csv.writer(again).writerows(csv.reader(io.StringIO(text, newline="")))
            assert again.getvalue() == text and text.startswith(",".join(CSV_COLUMNS) + "\r\n")
    for key in [k for k in written if isinstance(k, tuple) and k[0] == "formed"]:
        assert written[key] == written["dicts", key[1]]
    assert {k[1] for k in written if isinstance(k, tuple)} == {"contact", "other"}


def test_the_review_flags_are_written_as_their_list_and_checked_once_per_shape():
    """The values flagged for review (Art. 15(4)) are kept as text while the records are written (issue 15,
    item 4): data.json holds exactly what ``json.dumps`` of their list wrote, the document is checked with
    one flag of each shape (the schema constrains only the list's items), and a flag of a new shape is
    among those checked however many came before it."""
    decisions = [{"decision": "release", "reason": ""}, {"decision": "redact", "reason": 'hij zei "nee" \u2028'},
                 {"decision": "withhold", "reason": "een ander"}, None]
    records = [{"key": {"id": n, "ref": TRICKY[n % len(TRICKY)]}, "fields": [
        {**_record(value=f"gesprek {n}")["fields"][0], "name": "notes", "review_third_parties": True,
         **({"redaction": decisions[n % 4]} if decisions[n % 4] else {})}]} for n in range(400)]
    checked = []

    class Skeletons(ExportSchema):
        def check_document(self, document):
            checked.append(document)

    target = io.BytesIO()
    writer = ExportWriter(target, head={"case_reference": "DSR-2026-00001", "kind": "access"}, schema=Skeletons())
    writer.collection({"source": "s", "collection": "c"}, iter(records), found=400)
    writer.review.add({"source": "s", "collection": "c", "key": {"id": 0}, "field": "notes", "decision": "maybe",
                       "reason": None})
    rest = {"access": {"statement_date": "2026-01-01", "redaction_review": writer.review,
                       "redaction_checked": writer.review.checked}, "after": [1]}
    writer.close_data(rest)
    writer.zip.close()
    flags = [{"source": "s", "collection": "c", "key": r["key"], "field": "notes",
              "decision": (decisions[n % 4] or {}).get("decision"), "reason": (decisions[n % 4] or {}).get("reason")}
             for n, r in enumerate(records)]
    flags.append({"source": "s", "collection": "c", "key": {"id": 0}, "field": "notes", "decision": "maybe",
                  "reason": None})
    expected = {"access": {"statement_date": "2026-01-01", "redaction_review": flags, "redaction_checked": False},
                "after": [1]}
    with zipfile.ZipFile(target) as zf:
        data = zf.read("data.json").decode("utf-8")
    assert data.endswith("], " + json.dumps(expected, ensure_ascii=False)[1:])
    assert json.loads(data)["access"] == expected["access"]
    shown = checked[0]["access"]["redaction_review"]
    assert len(shown) == 5 and {f["decision"] for f in shown} == {"release", "redact", "withhold", None, "maybe"}
    assert writer.review.count == 401 and writer.review.undecided == 100
    assert list(writer.review.withheld.values()) == [100, 100]


def test_record_shapes_tell_apart_what_the_schema_can():
    same = [_record(value=1), _record(value=2), _record(value=-5)]
    assert len({record_shape(r) for r in same}) == 1
    different = [_record(value=1), _record(value="1"), _record(value=None), _record(value=True),
                 _record(categories=["user.contact"]), _record(categories=[1]), _record(categories=[True]),
                 _record(provided=True), _record(provided=1), _record(category=None), _record(name="other"),
                 {"key": {"id": "1"}, "fields": _record()["fields"]}]
    assert len({record_shape(r) for r in different}) == len(different)
    assert record_shape([]) is None and record_shape({"key": {}, "fields": [1]}) is None


# -- retries and refusals ---------------------------------------------------------------------------------

def test_a_failed_export_leaves_nothing_and_its_retry_makes_exactly_one(systems, customer, staff, ctx, tmp_path):
    case, _lookup = case_for(customer, staff)
    ctx.config["DEMO_SYSTEMS_URL"] = f"sqlite:///{tmp_path / 'gone.sqlite3'}"  # the system is unreachable
    job = run(request_export(case, ExportKind.ACCESS, actor=staff, now=NOW))
    assert job.status is JobStatus.FAILED and job.error
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Export)) == 0
    storage = Path(ctx.config["STORAGE_DIR"]) / "exports"
    assert not [p for p in storage.rglob("*") if p.is_file()]

    ctx.config["DEMO_SYSTEMS_URL"] = systems
    runner.retry(job, actor=staff, now=NOW)
    job = run(job)
    assert job.status is JobStatus.SUCCEEDED, job.error
    exports = db.session.execute(sa.select(Export)).scalars().all()
    assert len(exports) == 1 and job.result["export_id"] == exports[0].id

    # A worker that died after its export was stored: the job shows failed, and its retry finds the export.
    db.session.execute(sa.update(Job).where(Job.id == job.id).values(
        status=JobStatus.FAILED, error="worker lost", finished_at=NOW))
    db.session.commit()
    runner.retry(db.session.get(Job, job.id), actor=staff, now=NOW)
    job = run(job)
    assert job.status is JobStatus.SUCCEEDED and job.result["export_id"] == exports[0].id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Export)) == 1
    assert len([p for p in storage.rglob("*") if p.is_file()]) == 1


def test_an_export_whose_pdf_renderer_dies_fails_saying_so_and_leaves_nothing(systems, customer, staff, ctx,
                                                                                tmp_path, monkeypatch):
    """The overview's PDF is laid out in a child process (issue 15, item 4): when it is killed (out of memory),
    the job fails with a clear error, no export row or file stays and no child process is left."""
    import multiprocessing
    import signal

    from dsr import pdf

    def killed(html, **kw):
        (tmp_path / "pid").write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)

    case, _lookup = case_for(customer, staff)
    renderer = pdf.render_pdf
    monkeypatch.setattr(pdf, "render_pdf", killed)
    job = run(request_export(case, ExportKind.ACCESS, actor=staff, now=NOW))
    assert job.status is JobStatus.FAILED
    assert job.error == "the PDF renderer stopped without a result (exit code -9)"
    assert int((tmp_path / "pid").read_text()) != os.getpid() and multiprocessing.active_children() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Export)) == 0
    assert not [p for p in (Path(ctx.config["STORAGE_DIR"]) / "exports").rglob("*") if p.is_file()]

    monkeypatch.setattr(pdf, "render_pdf", renderer)
    runner.retry(job, actor=staff, now=NOW)
    assert run(job).status is JobStatus.SUCCEEDED


def test_an_export_is_written_with_what_the_process_held_before_left_out_of_garbage_collection(
        systems, customer, staff, monkeypatch):
    """While an export is written, the objects the process held before it are frozen out of the cyclic
    garbage collector (issue 15, item 4) and handed back after; a process that froze its own keeps them so."""
    import gc

    from dsr.exports import operations

    frozen_while_writing = []

    def writing(*args, **kw):
        frozen_while_writing.append(gc.get_freeze_count())
        return write_export(*args, **kw)

    monkeypatch.setattr(operations, "write_export", writing)
    case, _lookup = case_for(customer, staff)
    assert gc.get_freeze_count() == 0
    make(case, ExportKind.ACCESS, staff)
    assert frozen_while_writing[0] > 10_000 and gc.get_freeze_count() == 0
    gc.freeze()
    try:
        ours = gc.get_freeze_count()  # (frozen objects freed since leave the count)
        make(case, ExportKind.PORTABILITY, staff)
        assert ours * 0.9 < frozen_while_writing[1] <= ours and ours * 0.9 < gc.get_freeze_count() <= ours
    finally:
        gc.unfreeze()


def test_an_export_is_refused_without_a_confirmed_match_a_matching_right_or_a_writer(systems, customer, staff):
    unconfirmed, _lookup = looked_up_case(customer, staff, now=NOW, confirm=False)
    with pytest.raises(RuleViolation):
        request_export(unconfirmed, ExportKind.ACCESS, actor=staff, now=NOW)
    access_only, _lookup = looked_up_case(customer, staff, now=NOW)
    with pytest.raises(InvalidInput):
        request_export(access_only, ExportKind.PORTABILITY, actor=staff, now=NOW)
    with pytest.raises(InvalidInput):
        request_export(access_only, "everything", actor=staff, now=NOW)
    with pytest.raises(NotAllowed):
        request_export(access_only, ExportKind.ACCESS, actor=make_user(Role.AUDITOR), now=NOW)
    # Art. 15(4): not while a value that may hold other people's data is undecided by the privacy manager.
    with pytest.raises(RuleViolation, match="not yet decided by the privacy manager"):
        request_export(access_only, ExportKind.ACCESS, actor=staff, now=NOW)
    assert review_third_parties(access_only, now=NOW) > 0
    request_export(access_only, ExportKind.ACCESS, actor=staff, now=NOW)  # queued, not yet run
    with pytest.raises(RuleViolation):
        request_export(access_only, ExportKind.ACCESS, actor=staff, now=NOW)


# -- expiry --------------------------------------------------------------------------------------------------

def test_an_export_expires_after_30_days_its_file_deleted_its_row_kept_and_noted(systems, customer, staff):
    case, _lookup = case_for(customer, staff)
    export = make(case, ExportKind.ACCESS, staff)
    path = path_for(export)
    assert open_download(export, actor=staff, now=NOW + timedelta(days=29)) == export.storage_key

    assert expire_exports(now=NOW + timedelta(days=30) - timedelta(seconds=1)) == []
    expired = expire_exports(now=NOW + timedelta(days=30))
    assert expired == [export] and path.exists()  # deleted when the transaction commits
    db.session.commit()
    assert not path.exists()
    db.session.expire_all()
    export = db.session.get(Export, export.id)
    assert export.deleted_at == NOW + timedelta(days=30) and export.sha256 and export.size
    event = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "export.expired")).scalar_one()
    assert event.case_id == case.id and event.after["export_id"] == export.id
    with pytest.raises(ExportGone):
        open_download(export, actor=staff, now=NOW + timedelta(days=31))
    assert expire_exports(now=NOW + timedelta(days=60)) == []  # once only


def test_the_expiry_job_and_a_shorter_configured_retention(systems, customer, staff, ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "EXPORT_RETENTION_DAYS", 7)
    case, _lookup = case_for(customer, staff)
    export = make(case, ExportKind.ACCESS, staff)
    assert export.expires_at == NOW + timedelta(days=7)
    with time_machine.travel(NOW + timedelta(days=8), tick=False):
        job = run(runner.create(EXPIRE_JOB_KIND, now=NOW + timedelta(days=8)))
    assert job.status is JobStatus.SUCCEEDED and job.result == {"expired": [export.id]}
    assert db.session.get(Export, export.id).deleted_at is not None and not path_for(export).exists()


def test_an_auditor_cannot_download_and_a_download_is_audited(systems, customer, staff):
    case, _lookup = case_for(customer, staff)
    export = make(case, ExportKind.ACCESS, staff)
    with pytest.raises(NotAllowed):
        open_download(export, actor=make_user(Role.AUDITOR), now=NOW)
    manager = make_user(Role.PRIVACY_MANAGER)
    open_download(export, actor=manager, now=NOW)
    db.session.commit()
    event = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "export.downloaded")).scalar_one()
    assert event.actor_id == manager.id and event.after["sha256"] == export.sha256


def test_the_expire_exports_command_for_cron(systems, customer, staff, ctx):
    case, _lookup = case_for(customer, staff)
    export = make(case, ExportKind.ACCESS, staff)
    runner_cli = ctx.test_cli_runner()
    assert "0 export(s) expired." in runner_cli.invoke(args=["dsr", "expire-exports"]).output
    with time_machine.travel(NOW + timedelta(days=31), tick=False):
        result = runner_cli.invoke(args=["dsr", "expire-exports"])
    assert result.exit_code == 0, result.output
    assert f"{case.reference}: export {export.id} (access) deleted" in result.output
    db.session.expire_all()
    assert db.session.get(Export, export.id).deleted_at is not None and not path_for(export).exists()


@pytest.mark.parametrize(("value", "cell"), [
    (-12.5, "-12.5"), (1250, "1250"), ("-12.50", "-12.50"), ("+3", "+3"), ("0,5", "0,5"),
    ("+31 6 12345678", "'+31 6 12345678"), ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("@SUM(A1)", "'@SUM(A1)"),
    ("-1+2", "'-1+2"), ("plain", "plain"), (None, ""), (True, "true"),
])
def test_csv_cells_keep_numbers_and_defuse_formulas(value, cell):
    from dsr.exports.build import csv_cell

    assert csv_cell(value) == cell


def test_csv_rows_written_as_text_are_what_the_csv_module_writes():
    """A formed record's CSV rows are put together as text (issue 15, item 4): quoted exactly where
    :func:`csv.writer` quotes."""
    from dsr.exports.build import csv_line

    pieces = ["a", ",", '"', "\r", "\n", " ", "\t", "\u2028", "'", "=", "é", ";", "\x85", "\x0b", ""]
    chosen = random.Random(15)
    for _ in range(5000):
        cells = ["".join(chosen.choice(pieces) for _ in range(chosen.randint(0, 5)))
                 for _ in range(chosen.randint(1, 8))]
        out = io.StringIO()
        csv.writer(out).writerow(cells)
        assert csv_line(cells) == out.getvalue(), cells


def _counts() -> list[int]:
    """Counts of every length a progress note may name: all up to 10,000, each side of every power of ten,
    and random ones up to a trillion."""
    chosen = random.Random(4)
    return (list(range(10_001)) + [10**k + d for k in range(4, 16) for d in (-1, 0, 1)]
            + [chosen.randrange(10**chosen.randint(4, 12)) for _ in range(20_000)])


@pytest.mark.parametrize("locale", sorted(set(DIGIT_GROUPS) | {"en_GB", "nl", "fr"}))
def test_a_count_is_written_as_babel_writes_it_in_each_language_without_its_locale_data(ctx, locale):
    """The export's progress names its counts as :func:`flask_babel.format_number` does in the job's locale
    (English, Dutch, French), without loading Babel's locale data for it (issue 15, item 4); anything else
    (a negative or broken number, another locale) goes to Babel itself."""
    from babel.numbers import format_decimal
    from flask_babel import force_locale

    from dsr.timeutil import UI_LOCALES

    assert set(UI_LOCALES.values()) <= set(DIGIT_GROUPS)  # every locale a job's messages may be in
    with force_locale(locale):
        for count in _counts():
            assert count_text(count) == format_decimal(count, locale=locale), count
        for other in (-1, -12_345, 2.5, 1234.5):
            assert count_text(other) == format_decimal(other, locale=locale)
    with force_locale("de"):
        assert count_text(1_234_567) == "1.234.567" == format_decimal(1_234_567, locale="de")


@pytest.mark.parametrize("locale", ["en_GB", "nl", "fr"])
def test_the_progress_notes_are_worded_as_before_in_each_language(ctx, locale):
    """Every note of an export of 200,018 records, word for word as with Babel's ``format_number``."""
    from flask_babel import force_locale, format_number
    from flask_babel import gettext as _

    total, notes, counts = 200_018, [], []
    with force_locale(locale):
        report = percent_reporter(lambda percent, note: notes.append(note))
        done = 1
        while done <= total:
            worded = len(notes)
            after = report(done, total)
            if len(notes) > worded:
                counts.append(done)
            done = after
        assert notes == [_("%(done)s of %(total)s records", done=format_number(n), total=format_number(total))
                         for n in counts]
    assert len(notes) == 91
    assert {"en_GB": "200,018", "nl": "200.018", "fr": "200\u202f018"}[locale] in notes[-1]


@pytest.mark.parametrize("total", [1, 89, 90, 91, 1000, 200_018])
def test_the_jobs_progress_is_worded_as_when_it_was_told_every_record(ctx, total):
    """The export's progress, called only at the counts it asks for (issue 15, item 4), words the same
    percentages with the same counts as it did called after every record."""
    every, asked = [], []
    report = percent_reporter(lambda percent, note: every.append((percent, note)))
    for done in range(1, total + 1):
        report(done, total)
    report = percent_reporter(lambda percent, note: asked.append((percent, note)))
    done = 1
    while done <= total:
        after = report(done, total)
        assert after > done
        done = after
    assert asked == every and len(every) == min(total, 91)
