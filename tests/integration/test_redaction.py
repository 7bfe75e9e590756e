"""Other people's data in an access copy (Art. 15(4); issue 18, item 4), on SQLite and PostgreSQL.

A value of a field the data map marks ``third_parties`` is decided by a person before the copy is released:
released as it is, passages replaced by "[withheld]", or withheld, with a ground the copy states in the
subject's language. Staff prepare; the privacy manager decides. The export and the completion letter are
refused while a value is undecided, and the export says "checked by a person" only of decided values. What
the demo systems hold is read with plain SQL (tests/harmony_support.py)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import timedelta
from html import unescape

import pytest
import sqlalchemy as sa
import time_machine
from pypdf import PdfReader

from dsr.audit.models import AuditEvent
from dsr.cases.errors import InvalidInput, NotAllowed, RuleViolation
from dsr.domain.enums import JobStatus, RedactionChoice, RedactionGround, Right, Role
from dsr.exports.models import Export, ExportKind
from dsr.exports.operations import request_export
from dsr.extensions import db
from dsr.fulfilment.access import compile_access
from dsr.fulfilment.models import RedactionDecision
from dsr.fulfilment.redaction import MARK, decided_values, decisions
from dsr.fulfilment.redaction_ops import count_pending, decide, flagged_values, pending, spans_of
from dsr.jobs import runner
from dsr.jobs.models import Job
from dsr.letters import operations as letters
from dsr.letters.facts import FactsUnavailable
from dsr.letters.kinds import LetterKind, LetterLanguage
from tests.conftest import NOW, TODAY
from tests.factories import make_user
from tests.harmony_support import (
    customer_with_everything,
    execute,
    looked_up_case,
    private_copy,
    review_third_parties,
    rows,
)
from tests.integration.test_letters import keep_for_review
from tests.storage_support import path_for


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def systems(ctx, harmony, tmp_path, monkeypatch) -> str:
    monkeypatch.setitem(ctx.config, "DEMO_SYSTEMS_URL", url := private_copy(harmony, tmp_path))
    return url


@pytest.fixture
def staff(ctx):
    return make_user(Role.STAFF)


@pytest.fixture
def manager(ctx):
    return make_user(Role.PRIVACY_MANAGER)


def _incident(systems: str, customer: dict) -> dict:
    """The customer's first incident, its description set to name a neighbour twice."""
    incident = rows(systems, "SELECT id FROM incidents WHERE customer_id = :c ORDER BY id LIMIT 1",
                    c=customer["id"])[0]
    execute(systems, "UPDATE incidents SET description = :d WHERE id = :i", i=incident["id"],
            d="Melding van buurman Jan Pietersen: schade aan de auto. Jan Pietersen belde later terug.")
    return incident


def _decide_all_but(case, lookup, manager, skip) -> None:
    for value in pending(lookup):
        if (value.collection, value.field, value.key) != skip:
            decide(case, lookup, source=value.source, collection=value.collection, key=value.key, field=value.field,
                   choice=RedactionChoice.RELEASE, ground=None, actor=manager, now=NOW)


def test_staff_prepare_the_manager_decides_and_the_copy_shows_the_decision(systems, staff, manager):
    customer = customer_with_everything(systems)
    incident = _incident(systems, customer)
    case, lookup = looked_up_case(customer, staff, now=NOW)
    flagged = flagged_values(lookup)
    assert {(v.collection, v.field) for v in flagged} >= {("incidents", "description"),
                                                           ("call_recordings", "storage_uri")}
    assert all(v.value not in (None, "") for v in flagged)
    where = dict(source="harmony_policy_admin", collection="incidents", key={"id": incident["id"]},
                 field="description")

    # Staff prepare: a proposal, audited, not yet a decision.
    proposal = decide(case, lookup, **where, choice=RedactionChoice.REDACT, ground=RedactionGround.OTHER_PERSON,
                      passages=["Jan Pietersen", "buurman"], note="De buurman is een derde", actor=staff, now=NOW)
    assert not proposal.decided and proposal.spans == [[12, 19], [20, 33], [55, 68]]
    assert any((v.collection, v.field) == ("incidents", "description") for v in pending(lookup))
    # What the export's request checks, a chunk of records at a time, counts exactly what pending() lists.
    assert count_pending(lookup) == len(pending(lookup)) > 1

    # The privacy manager decides; what the copy holds follows.
    decided = decide(case, lookup, **where, choice=RedactionChoice.REDACT, ground=RedactionGround.OTHER_PERSON,
                     passages=["Jan Pietersen", "buurman"], actor=manager, now=NOW + timedelta(minutes=1))
    assert decided.id == proposal.id and decided.decided and decided.decided_by_id == manager.id
    db.session.commit()
    assert not any((v.collection, v.field) == ("incidents", "description") for v in pending(lookup))
    assert count_pending(lookup) == len(pending(lookup))
    content = compile_access(case, lookup, language="nl")
    incidents = next(c for c in content.collections if c.collection == "incidents")
    value = next(v for r in incidents.records if r.key == {"id": incident["id"]} for v in r.values
                 if v.field == "description")
    assert value.value == f"Melding van {MARK} {MARK}: schade aan de auto. {MARK} belde later terug."
    assert value.redaction == {"decision": "redact", "reason": "het noemt of identificeert een ander"}
    # The preview shows the reviewer the value as read, and what the copy will hold.
    preview = compile_access(case, lookup, language="en", redact=False)
    shown = next(v for c in preview.collections if c.collection == "incidents" for r in c.records
                 if r.key == {"id": incident["id"]} for v in r.values if v.field == "description")
    assert "Jan Pietersen" in shown.value and MARK in shown.released

    # dsr keeps no copy of the value: offsets and an HMAC only, and the audit trail names the value, not it.
    stored = db.session.execute(sa.select(RedactionDecision)).scalars().one()
    assert "Pietersen" not in json.dumps([stored.record_key, stored.spans, stored.value_digest, stored.field])
    events = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action.like("redaction.%"))
                                .order_by(AuditEvent.id)).scalars().all()
    assert [e.action for e in events] == ["redaction.proposed", "redaction.decided"]
    assert all("Pietersen" not in json.dumps([e.before, e.after]) for e in events)

    # A value changed in the source since is undecided again.
    execute(systems, "UPDATE incidents SET description = 'Iets anders' WHERE id = :i", i=incident["id"])
    assert any((v.collection, v.field) == ("incidents", "description") for v in pending(lookup))
    assert count_pending(lookup) == len(pending(lookup))
    _decide_all_but(case, lookup, manager, skip=None)
    assert count_pending(lookup) == len(pending(lookup)) == 0


def test_decisions_read_a_chunk_at_a_time_are_the_decisions_as_stored(systems, staff, manager):
    """What the export reads of the decisions (:func:`decided_values`: plain rows, each distinct text of
    passages decoded once, issue 15, item 4) is each decision's digest, choice, ground, passages and whether
    it is decided, as the decision itself holds them; decisions with the same passages share one list."""
    customer = customer_with_everything(systems)
    _incident(systems, customer)
    for copy in range(6):  # more recordings of the customer's: two flagged values each
        execute(systems, "INSERT INTO call_recordings (recording_ref, customer_number, caller_phone, started_at, "
                "duration_seconds, direction, agent, reason, storage_uri) SELECT :c || recording_ref, "
                "customer_number, caller_phone, started_at, duration_seconds, direction, :c || agent, reason, "
                "storage_uri FROM call_recordings WHERE customer_number = :n AND recording_ref NOT LIKE 'D%'",
                n=customer["customer_number"], c=f"D{copy} ")
    case, lookup = looked_up_case(customer, staff, now=NOW)
    choices = [RedactionChoice.REDACT, RedactionChoice.RELEASE, RedactionChoice.WITHHOLD, RedactionChoice.REDACT]
    for n, value in enumerate(pending(lookup)):
        choice = choices[n % 4]
        decide(case, lookup, source=value.source, collection=value.collection, key=value.key, field=value.field,
               choice=choice, ground=None if choice is RedactionChoice.RELEASE else RedactionGround.OTHER_VOICE,
               passages=[str(value.value)[:4 + n % 3]] if choice is RedactionChoice.REDACT else None,
               actor=staff if n % 5 == 4 else manager, now=NOW)  # every fifth only proposed
    db.session.commit()
    stored = decisions(lookup)
    assert len(stored) > 8 and {d.decided for d in stored.values()} == {True, False}
    assert len({json.dumps(d.spans) for d in stored.values()}) > 2
    keys: dict[tuple[str, str], list[str]] = {}
    for source, collection, key, _field in stored:
        keys.setdefault((source, collection), []).append(key)
    for (source, collection), chunk in keys.items():
        read = decided_values(lookup, source, collection, chunk)
        assert read.keys() == {k for k in stored if k[:2] == (source, collection)}
        for k, got in read.items():
            d = stored[k]
            assert got == (d.value_digest, d.choice, d.ground, d.spans, d.decided)
            assert type(got.choice) is RedactionChoice and type(got.decided) is bool
        by_text: dict[str, list] = {}
        for got in read.values():
            assert by_text.setdefault(json.dumps(got.spans), got.spans) is got.spans
    # A change not yet flushed is read as the session holds it.
    key, changed = next((k, d) for k, d in stored.items() if d.choice is RedactionChoice.RELEASE)
    changed.choice, changed.ground = RedactionChoice.WITHHOLD, RedactionGround.OTHER_PERSON
    assert decided_values(lookup, key[0], key[1], [key[2]])[key].choice is RedactionChoice.WITHHOLD


def test_a_chunks_decisions_are_each_looked_up_in_the_index_on_postgresql(systems, staff, manager):
    """On PostgreSQL each record key of a chunk is looked up on its own in the decisions' unique index, a
    ``LATERAL`` sub-query per key: with ``record_key IN (...)`` a lookup newer than the table's statistics was
    planned as one row and every decision of the lookup compared with the chunk's keys (0.8 s a chunk at
    40,000 decisions; issue 15, item 4)."""
    from dsr.fulfilment.redaction import _decided_statement

    bind = db.session.get_bind()
    if bind.dialect.name != "postgresql":
        pytest.skip("the plan is PostgreSQL's; SQLite plans the IN with the index by itself")
    customer = customer_with_everything(systems)
    _incident(systems, customer)
    case, lookup = looked_up_case(customer, staff, now=NOW)
    _decide_all_but(case, lookup, manager, skip=None)
    db.session.commit()
    stored = decisions(lookup)
    source, collection, key, _field = next(iter(stored))
    compiled = _decided_statement("postgresql").compile(dialect=bind.dialect)
    params = compiled.construct_params({"lookup_id": lookup.id, "source": source, "collection": collection,
                                        "keys": [key, "no such key"]})
    plan = "\n".join(row[0] for row in db.session.connection().exec_driver_sql(f"EXPLAIN {compiled}", params))
    assert "Function Scan on unnest k" in plan and "Nested Loop" in plan
    assert "Index Cond:" in plan and "(record_key)::text = (k.key)::text" in plan.split("Index Cond:")[1]
    found = decided_values(lookup, source, collection, [key, "no such key"])
    assert found.keys() == {k for k in stored if k[:3] == (source, collection, key)}


def test_withholding_needs_a_ground_passages_must_occur_and_only_writers_review(systems, staff, manager):
    customer = customer_with_everything(systems)
    incident = _incident(systems, customer)
    case, lookup = looked_up_case(customer, staff, now=NOW)
    where = dict(source="harmony_policy_admin", collection="incidents", key={"id": incident["id"]},
                 field="description")
    with pytest.raises(InvalidInput, match="choose a ground"):
        decide(case, lookup, **where, choice=RedactionChoice.WITHHOLD, ground=None, actor=manager, now=NOW)
    with pytest.raises(InvalidInput, match="does not occur"):
        decide(case, lookup, **where, choice=RedactionChoice.REDACT, ground=RedactionGround.OTHER_PERSON,
               passages=["Piet Jansen"], actor=manager, now=NOW)
    with pytest.raises(InvalidInput, match="Mark the passages"):
        decide(case, lookup, **where, choice=RedactionChoice.REDACT, ground=RedactionGround.OTHER_PERSON,
               passages=["  "], actor=manager, now=NOW)
    with pytest.raises(NotAllowed):
        decide(case, lookup, **where, choice=RedactionChoice.RELEASE, ground=None, actor=make_user(Role.AUDITOR),
               now=NOW)
    with pytest.raises(InvalidInput, match="not one to review"):  # a field the data map does not mark
        decide(case, lookup, **{**where, "field": "kind"}, choice=RedactionChoice.RELEASE, ground=None,
               actor=manager, now=NOW)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RedactionDecision)) == 0
    assert spans_of("aXa aXa", ["aXa", "X"]) == [[0, 3], [4, 7]]


def _export(case, staff, language=None) -> Job:
    job = request_export(case, ExportKind.ACCESS, actor=staff, now=NOW, language=language)
    db.session.commit()
    runner.dispatch(job)
    db.session.expire_all()
    return db.session.get(Job, job.id)


OVERVIEW = {
    "nl": ["Wat wij ter bescherming van anderen hebben weggelaten, en waarom", "het bevat de stem of woorden van een ander",
           "gedeeltelijk weggelaten", "door een medewerker gecontroleerd en verstrekt"],
    "en": ["What was withheld to protect others, and why", "it holds another person's voice or words",
           "partly withheld", "checked by a person and released"],
    "fr": ["Ce qui a été retiré pour protéger des tiers, et pourquoi",
           "il contient la voix ou les propos d'une autre personne", "retiré en partie",
           "vérifié par une personne et communiqué"],
}


@pytest.mark.parametrize("lang", ["nl", "en", "fr"])
def test_the_export_is_released_only_when_reviewed_and_says_what_was_withheld_and_why(systems, staff, manager, lang):
    customer = customer_with_everything(systems)
    incident = _incident(systems, customer)
    case, lookup = looked_up_case(customer, staff, now=NOW)
    skip = ("incidents", "description", {"id": incident["id"]})
    _decide_all_but(case, lookup, manager, skip)
    db.session.commit()
    with pytest.raises(RuleViolation, match="1 value"):
        request_export(case, ExportKind.ACCESS, actor=staff, now=NOW)
    recording = next(v for v in flagged_values(lookup) if v.field == "storage_uri")
    decide(case, lookup, source=recording.source, collection=recording.collection, key=recording.key,
           field=recording.field, choice=RedactionChoice.WITHHOLD, ground=RedactionGround.OTHER_VOICE,
           actor=manager, now=NOW)
    decide(case, lookup, source="harmony_policy_admin", collection="incidents", key={"id": incident["id"]},
           field="description", choice=RedactionChoice.REDACT, ground=RedactionGround.OTHER_PERSON,
           passages=["Jan Pietersen"], actor=manager, now=NOW)
    db.session.commit()

    job = _export(case, staff, lang)
    assert job.status is JobStatus.SUCCEEDED, job.error
    export = db.session.execute(sa.select(Export).where(Export.job_id == job.id)).scalar_one()
    with zipfile.ZipFile(path_for(export)) as zf:
        files = {name: zf.read(name) for name in zf.namelist()}
    raw = files["data.json"].decode()
    assert "Pietersen" not in raw and recording.value not in raw
    assert not any("Pietersen" in data.decode() or recording.value in data.decode()
                   for name, data in files.items() if name.startswith("csv/"))
    data = json.loads(raw)
    fields = {(c["collection"], f["name"], json.dumps(r["key"])): f for c in data["collections"]
              for r in c["records"] for f in r["fields"]}
    note = fields[("incidents", "description", json.dumps({"id": incident["id"]}))]
    assert note["value"].count(MARK) == 2 and note["redaction"]["decision"] == "redact"
    audio = fields[("call_recordings", "storage_uri", json.dumps(recording.key))]
    assert audio["value"] is None and audio["redaction"]["decision"] == "withhold"
    assert data["access"]["redaction_checked"] is True
    assert all(flag["decision"] for flag in data["access"]["redaction_review"])
    csv_values = [row["value"] for name, blob in files.items() if name.startswith("csv/")
                  for row in csv.DictReader(io.StringIO(blob.decode("utf-8-sig"), newline=""))]
    assert any(MARK in v for v in csv_values)

    overview = " ".join(" ".join(PdfReader(io.BytesIO(files["overview.pdf"])).pages[i].extract_text().split())
                        for i in range(len(PdfReader(io.BytesIO(files["overview.pdf"])).pages)))
    keep_for_review(files["overview.pdf"], f"overview-withheld-{lang}")
    html = " ".join(unescape(files["overview.html"].decode()).split())
    for words in OVERVIEW[lang]:  # "checked ... and released" only of values a person released
        assert words in html, words
    assert case.reference in overview


def test_a_value_changed_after_the_review_stops_the_export(systems, staff, manager):
    customer = customer_with_everything(systems)
    incident = _incident(systems, customer)
    case, lookup = looked_up_case(customer, staff, now=NOW)
    review_third_parties(case, manager, now=NOW)
    db.session.commit()
    job = request_export(case, ExportKind.ACCESS, actor=staff, now=NOW)
    db.session.commit()
    execute(systems, "UPDATE incidents SET description = 'Nieuwe tekst over Karin de Vries' WHERE id = :i",
            i=incident["id"])
    runner.dispatch(job)
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.status is JobStatus.FAILED and "not decided by the privacy manager" in job.error
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Export)) == 0


@pytest.mark.parametrize("lang", ["nl", "en", "fr"])
def test_the_access_letter_waits_for_the_review_then_says_what_was_withheld(systems, staff, manager, lang):
    from dsr.cases import lifecycle
    from dsr.tasks.models import CaseTask
    from dsr.tasks.operations import complete_task
    from tests.integration.test_letters import pdf_text

    customer = customer_with_everything(systems)
    incident = _incident(systems, customer)
    case, lookup = looked_up_case(customer, staff, now=NOW)
    lifecycle.start_work(case, actor=staff, now=NOW)
    for task in db.session.execute(sa.select(CaseTask).where(CaseTask.case_id == case.id)).scalars():
        complete_task(task, actor=staff, now=NOW)
    db.session.commit()
    assert Right.ACCESS in case.right_values
    with pytest.raises(FactsUnavailable, match="not decided yet"):
        letters.render_letter(case, LetterKind.COMPLETION_ACCESS, LetterLanguage(lang), today=TODAY)

    decide(case, lookup, source="harmony_policy_admin", collection="incidents", key={"id": incident["id"]},
           field="description", choice=RedactionChoice.REDACT, ground=RedactionGround.OTHER_PERSON,
           passages=["Jan Pietersen"], actor=manager, now=NOW)
    review_third_parties(case, manager, now=NOW, choice=RedactionChoice.WITHHOLD, ground=RedactionGround.OTHER_VOICE)
    db.session.commit()
    made = letters.render_letter(case, LetterKind.COMPLETION_ACCESS, LetterLanguage(lang), today=TODAY)
    keep_for_review(made.pdf, f"completion_access-withheld-{lang}")
    text = " ".join(pdf_text(made.pdf).replace("\u2010 ", "").split())
    expected = {
        "nl": ["Gegevens die ook over anderen gaan", "Incidentenregister, Omschrijving: gedeeltelijk weggelaten",
               "reden: het noemt of identificeert een ander", "artikel 15"],
        "en": ["Data that also concerns others", "Incident register, Description: partly withheld",
               "reason: it names or identifies another person", "Article 15(4)"],
        "fr": ["Données qui concernent aussi d'autres personnes", "Registre des incidents, Description",
               "retiré en partie", "il nomme ou identifie une autre personne"],
    }[lang]
    for words in expected:
        assert words in text, words
    assert "Pietersen" not in text


def test_flagged_values_written_from_their_rows_are_what_each_record_reviewed_writes(systems, staff, manager,
                                                                                      ctx, monkeypatch):
    """The access export writes call recordings and incidents (values flagged for review) from their rows,
    their decisions read and checked a chunk at a time (issue 15, item 4): byte for byte what reading each
    row as a record and reviewing its values writes, for values released, redacted and withheld, texts with
    quotes, commas and formulas, and fields without a value."""
    from dsr.exports import content
    from dsr.exports.build import ExportWriter
    from dsr.exports.content import write_export
    from dsr.exports.schema import ExportSchema
    from tests.integration.test_exports import as_dicts, read_and_reviewed

    customer = customer_with_everything(systems)
    agents = ["agent 7", 'Karin "KdV" de Vries', "=HYPERLINK(x)", "Ève, Zoë", "", "+31 6 1234"]
    engine = sa.create_engine(systems)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO call_recordings (recording_ref, customer_number, caller_phone, started_at, "
            "duration_seconds, direction, agent, reason, storage_uri) VALUES (:r, :n, '+31612345678', "
            ":s, :d, 'inbound', :a, 'question', :u)"),
            [{"r": f"T{i:06d}", "n": customer["customer_number"], "s": f"2026-06-01T09:{i % 60:02d}:00+00:00",
              "d": 60 + i, "a": agents[i % len(agents)], "u": "" if i % 11 == 3 else f"s3://rec/t{i}.wav"}
             for i in range(150)])
    engine.dispose()
    _incident(systems, customer)
    case, lookup = looked_up_case(customer, staff, now=NOW)
    grounds = [RedactionGround.OTHER_VOICE, RedactionGround.OTHER_PERSON]
    for n, value in enumerate(pending(lookup)):
        choice = [RedactionChoice.RELEASE, RedactionChoice.REDACT, RedactionChoice.WITHHOLD][n % 3 if n % 5 else 0]
        decide(case, lookup, source=value.source, collection=value.collection, key=value.key, field=value.field,
               choice=choice, ground=None if choice is RedactionChoice.RELEASE else grounds[n % 2],
               passages=[str(value.value)[:3]] if choice is RedactionChoice.REDACT else None, actor=manager, now=NOW)
    db.session.commit()
    made = {}
    for how in ("from rows", "each record"):
        if how == "each record":
            monkeypatch.setattr(ExportWriter, "collection", as_dicts(ExportWriter.collection))
            monkeypatch.setattr(content, "_access_reader", read_and_reviewed)
        target = io.BytesIO()
        write_export(target, case=case, lookup=lookup, kind=ExportKind.ACCESS, language="fr", now=NOW,
                     config=ctx.config, schema=ExportSchema())
        with zipfile.ZipFile(target) as zf:
            made[how] = {n: zf.read(n) for n in zf.namelist() if n.endswith((".json", ".csv", ".html"))}
    assert made["from rows"] == made["each record"]
    data = json.loads(made["from rows"]["data.json"])
    calls = next(c for c in data["collections"] if c["collection"] == "call_recordings")
    assert calls["record_count"] > 150
    decided = {f["redaction"]["decision"] for r in calls["records"] for f in r["fields"] if "redaction" in f}
    assert decided == {"release", "redact", "withhold"}
    assert MARK in made["from rows"]["data.json"].decode() and data["access"]["redaction_checked"] is True
