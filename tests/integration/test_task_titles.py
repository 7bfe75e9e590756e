"""Titles of the tasks dsr creates, in the reader's language (issue 16, item 9), on SQLite and PostgreSQL.

A manual source's task, a manual correction's task and an upheld objection's task keep their kind and
parameters; pages write their titles in the interface's language, with the data map's names and
instructions in that language. A typed task is shown as typed in every language. The migration reads the
titles stored before (in the language of whoever triggered them) back into kind and parameters.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_migrate import downgrade, upgrade

from dsr.audit.models import AuditEvent
from dsr.domain.enums import Right
from dsr.extensions import db
from dsr.fulfilment.lookup_ops import run_lookup
from dsr.tasks.models import CaseTask
from dsr.tasks.operations import add_task
from dsr.tasks.titles import task_title
from tests.factories import make_case, make_user
from tests.harmony_support import customer_with_everything, demo_systems
from tests.integration.test_lookup_and_holds import NOW, TODAY, People, case_for

BEFORE = "19bd528986ff"
LOCALES = {"en": "en_GB", "nl": "nl", "fr": "fr"}


@pytest.fixture(scope="module")
def harmony(tmp_path_factory) -> str:
    return demo_systems(tmp_path_factory, TODAY)


@pytest.fixture
def systems(ctx, harmony, monkeypatch) -> str:
    monkeypatch.setitem(ctx.config, "DEMO_SYSTEMS_URL", harmony)
    return harmony


@pytest.fixture
def people(ctx) -> People:
    return People()


def _in(app, language: str, task) -> str:
    with app.test_request_context(), force_locale(LOCALES[language]):
        return task_title(task)


def test_a_manual_sources_task_reads_in_the_readers_language(systems, people):
    case = case_for(customer_with_everything(systems), people.staff)
    run_lookup(case, actor=people.staff, now=NOW)
    db.session.commit()
    tasks = {t.params["source"]: t for t in db.session.scalars(
        sa.select(CaseTask).where(CaseTask.case_id == case.id))}
    paper = tasks["harmony_paper_archive"]
    assert paper.kind == "manual_source"
    # The row keeps the English title (the record of the audit trail, the API, the CSV).
    assert paper.title.startswith("Check Paper archive: Look up the customer's file by customer number")
    app = current_app._get_current_object()
    assert _in(app, "en", paper) == paper.title
    assert _in(app, "nl", paper).startswith("Controleer Papieren archief: Zoek het dossier van de klant op "
                                            "klantnummer")
    assert re.match(r"Vérifier Archives papier\s?: Chercher le dossier du client", _in(app, "fr", paper))
    focus = tasks["focus_feedback"]
    assert "Focus Feedback (verwerker): Stuur Focus Feedback het e-mailadres" in _in(app, "nl", focus)
    added = [e for e in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "task.added"))]
    assert {e.after["kind"] for e in added} == {"manual_source"}


def test_a_typed_task_is_shown_as_typed_in_every_language(ctx, people):
    case = make_case(actor=people.staff)
    task = add_task(case, "Bel de klant terug", assignee=None, due_on=None, actor=people.staff, now=NOW,
                    today=TODAY)
    db.session.commit()
    assert task.kind is None and task.params is None
    assert {_in(ctx, lang, task) for lang in LOCALES} == {"Bel de klant terug"}


def test_an_upheld_objections_task_names_its_effect_in_the_readers_language(ctx):
    task = SimpleNamespace(title="Objection upheld: stop this processing for this person: Contact centre",
                           kind="objection_upheld",
                           params={"effect": "stop", "processing": "no_such/processing", "name": "Contact centre"})
    assert _in(ctx, "en", task) == task.title
    nl = _in(ctx, "nl", task)
    assert nl.startswith("Bezwaar toegewezen: ") and nl.endswith(": Contact centre") and "stop this" not in nl
    # Parameters of a shape no renderer knows: the stored title.
    broken = SimpleNamespace(title="As stored", kind="objection_upheld", params={"effect": "nonsense"})
    assert _in(ctx, "fr", broken) == "As stored"


@pytest.mark.parametrize("stored, kind, english", [
    ("Check Paper archive: Look up the file.", "manual_source", "Check Paper archive: Look up the file."),
    ("Controleer Paper archive: Look up the file.", "manual_source", "Check Paper archive: Look up the file."),
    ("Vérifier Focus Feedback (processor) : Send it.", "manual_source",
     "Check Focus Feedback (processor): Send it."),
    ("Corrigeer last_name in Paper archive (correspondence) zoals vermeld onder Rectificatie en markeer het daar "
     "als doorgevoerd", "manual_correction",
     "Correct last_name in Paper archive (correspondence) as listed under Rectification, then mark it applied "
     "there"),
    ("Objection upheld: stop this processing for this person: Contact centre · Calls (purpose 7. Service)",
     "objection_upheld",
     "Objection upheld: stop this processing for this person: Contact centre · Calls (purpose 7. Service)"),
    ("Check the paper archive in Rotterdam", None, "Check the paper archive in Rotterdam"),
    ("Check Somewhere else: typed by a person", None, "Check Somewhere else: typed by a person"),
])
def test_the_migration_reads_stored_titles_back_into_kinds(fresh_app, stored, kind, english):
    with fresh_app.app_context():
        upgrade()
        staff = make_user()
        case = make_case(actor=staff, rights=(Right.ACCESS,))
        db.session.commit()
        case_id = case.id
        db.session.remove()
        downgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO case_tasks (case_id, title, created_at) VALUES (:c, :t, :at)"),
                         {"c": case_id, "t": stored, "at": NOW.replace(tzinfo=None)})
        upgrade()
        task = db.session.scalars(sa.select(CaseTask)).one()
        assert (task.kind, task.title) == (kind, english)
        if kind == "manual_source":
            assert task.params["source"] in ("harmony_paper_archive", "focus_feedback")
        if kind == "manual_correction":
            assert task.params == {"source": "harmony_paper_archive", "collection": "correspondence",
                                   "field": "last_name"}
        db.session.remove()
