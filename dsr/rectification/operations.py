"""Rectification (GDPR Art. 16; issue 4, item 7): each requested correction is applied or refused with a reason.

A correction is **proposed** per field of a record the case's confirmed lookup found: the value the source
holds now is read through a read-only connection and kept as "before", the value the subject asked for is
typed by staff, checked by what the field holds (:mod:`dsr.rectification.values`) and kept as "after".
It is then **applied**, written to the source in one transaction per source, or **refused** with a reason.
Manual sources (the paper archive, Focus Feedback) cannot be written by dsr: their correction becomes a task
for a person, who marks it applied with a note saying what was done.

Who may do what, and why:

* Staff and the privacy manager propose, apply and mark applied. Applying carries out the subject's right,
  which Art. 16 wants "without undue delay"; the subject asked for it, and the stale-value check below
  keeps the write honest, so it needs no second signature (unlike an erasure plan, which decides what is
  kept under Art. 17(3)).
* Only the privacy manager refuses. A refusal is a decision the subject can complain about to the
  Autoriteit Persoonsgegevens (Art. 12(4)); someone who answers for it must take it and write its reason.
* Staff may cancel a pending proposal (a typing error): it was never a decision. Cancelling is audited.

Applying writes ``field = after`` only where the field still holds "before": someone may have changed the
record since the proposal, and that change must not be overwritten unseen. Such a correction is refused
with the value found; it is cancelled and proposed again from the current value. A record that already
holds "after" (a retry after a failed commit here) counts as applied: retrying does not write twice.

Identities of the case's own subject are corrected too where dsr held the old value
(:mod:`dsr.rectification.subject`); writing to a source is :mod:`dsr.rectification.writing`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from dsr.audit.operations import record as audit_record
from dsr.auth.models import User
from dsr.cases.errors import InvalidInput, NotAllowed, RuleViolation
from dsr.cases.guards import WRITERS, check_version, require_open, require_role
from dsr.cases.models import Case
from dsr.cases.obligations import Obligation
from dsr.cases.obligations import register as register_obligations
from dsr.cases.operations import touch_case
from dsr.datamap import catalogue
from dsr.datamap import erase as datamap_erase
from dsr.datamap import lookup as datamap_lookup
from dsr.datamap.sources import Collection, DataMapError, Field, Source, SourceKind, load_sources
from dsr.domain.enums import LookupMatch, LookupStatus, Right, Role
from dsr.extensions import db
from dsr.fulfilment.lookup_ops import latest_lookup
from dsr.fulfilment.models import FoundRecord
from dsr.notices.changes import register_change
from dsr.rectification import values, writing
from dsr.rectification.models import Correction, CorrectionStatus
from dsr.rectification.subject import correct_subject
from dsr.settings import settings
from dsr.tasks import titles
from dsr.tasks.models import CaseTask
from dsr.tasks.operations import add_automatic_task, complete_task

REASON_MAX = 2000


def _first_line(exc: Exception) -> str:
    cause = getattr(exc, "orig", None) or exc
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]


def _text(value: str | None, field_name: str, missing: str) -> str:
    if not (value or "").strip():
        raise InvalidInput(missing, field_name)
    if len(value) > REASON_MAX:
        raise InvalidInput(_("A text has at most %(n)d characters.", n=REASON_MAX), field_name)
    return value


def _require_rectification(case: Case, expected_version: int | None, what) -> None:
    require_open(case, what)
    check_version(case, expected_version)
    if Right.RECTIFICATION not in case.right_values:
        raise RuleViolation(_("This case does not request rectification."))


CORRECTION_TASK = "manual_correction"


def _correction_task_title(params, language: str) -> str:
    """"Correct Last name in the paper archive (Letters and forms) ...", named as the data map names the
    field, the source and the collection in ``language`` (their keys when the data map no longer has them)."""
    source_name, collection_name, field_name = params["source"], params["collection"], params["field"]
    try:
        source = catalogue.sources().get(params["source"])
    except DataMapError:
        source = None
    if source is not None:
        source_name = source.display_name(language)
        try:
            coll = source.collection(params["collection"])
            collection_name = coll.display_name(language)
            field_name = coll.field(params["field"]).label(language)
        except KeyError:
            pass
    return _("Correct %(field)s in %(source)s (%(collection)s) as listed under Rectification, then mark it "
             "applied there", field=field_name, source=source_name, collection=collection_name)


titles.register(CORRECTION_TASK, _correction_task_title)


def _field(source: Source, collection: str, name: str) -> tuple[Collection, Field]:
    try:
        coll = source.collection(collection)
        fld = coll.field(name)
    except KeyError:
        raise InvalidInput(_("%(source)s has no field %(field)s in %(collection)s.", source=source.name,
                             field=name, collection=collection), "field") from None
    if not values.correctable(coll, fld):
        raise InvalidInput(_("%(field)s is a key or not personal data: it is not corrected.", field=name), "field")
    return coll, fld


def _pending_twin(case: Case, source: str, collection: str, primary_key, name: str) -> Correction | None:
    return next((c for c in corrections_of(case) if c.is_pending and (c.source, c.collection, c.field) ==
                 (source, collection, name) and (c.primary_key or None) == (primary_key or None)), None)


def corrections_of(case: Case) -> list[Correction]:
    return list(db.session.execute(
        sa.select(Correction).where(Correction.case_id == case.id).order_by(Correction.id)).scalars())


# -- proposing --------------------------------------------------------------------------------------------

def propose_correction(case: Case, found: FoundRecord, field_name: str, after: str, *, note: str = "",
                       actor: User | None, now: datetime, today: date, expected_version: int | None = None,
                       config: Mapping[str, Any] | None = None) -> Correction:
    """Propose correcting one field of a record the case's confirmed lookup found (Art. 16).

    "Before" is read now from the source, read-only; ``after`` is checked by what the field holds. Refused:
    a record of an older or unconfirmed lookup (a wrong match would change someone else's data, Art.
    5(1)(d)), a key or non-personal field, a value equal to the current one, a second pending correction of
    the same field. Audited as ``rectification.proposed`` with before and after.
    """
    require_role(actor, *WRITERS, what=_l("propose a correction"))
    _require_rectification(case, expected_version, _l("propose a correction"))
    lookup = found.lookup
    if lookup.case_id != case.id:
        raise InvalidInput(_("Unknown record."), "found_record_id")
    latest = latest_lookup(case)
    if latest is None or latest.id != lookup.id:
        raise RuleViolation(_("A newer search was run on this case since; correct the records it found."))
    if lookup.match != LookupMatch.CONFIRMED:
        raise RuleViolation(_("Confirm that the records found are this person's before correcting them."))
    config = settings(config)
    sources = load_sources(config)
    source = sources.get(found.source)
    if source is None or source.kind is not SourceKind.SQL:
        raise RuleViolation(_("%(source)s is no longer in the data map.", source=found.source))
    coll, fld = _field(source, found.collection, field_name)
    if _pending_twin(case, source.key, coll.name, found.primary_key, fld.name) is not None:
        raise RuleViolation(_("A correction of %(field)s in this record is already waiting; apply, refuse or "
                              "cancel it first.", field=fld.name))
    row, column = _read_current(source, coll, fld, found.primary_key, config)
    if row is None:
        raise RuleViolation(_("The record %(record)s is no longer in %(source)s.", record=found.key_text,
                              source=source.name))
    country = row.get("country") if "country" in row else None
    try:
        after_value = values.parse(after, values.kind_of(fld, column), fld=fld, country=country, today=today,
                                   max_length=getattr(column.type, "length", None))
    except values.BadValue as exc:
        raise InvalidInput(str(exc), "after") from None
    before_value = values.to_json(row[fld.name])
    if after_value == before_value:
        raise InvalidInput(_("%(source)s already holds this value.", source=source.name), "after")
    return _add(case, source, coll, fld, found=found, before=before_value, after=after_value, note=note,
                actor=actor, now=now)


def _read_current(source: Source, coll: Collection, fld: Field, primary_key, config) -> tuple[dict | None, sa.Column]:
    """The record's row and the field's column, through a read-only connection (lookup.py's engines)."""
    engine = None
    try:
        engine = datamap_lookup.readonly_engines([source], config)[source.key]
        with engine.connect() as conn:
            table = sa.Table(coll.name, sa.MetaData(), autoload_with=conn)
            row = datamap_erase.read_row(conn, table, primary_key)
            conn.rollback()
        return row, table.c[fld.name]
    except (DataMapError, sa.exc.SQLAlchemyError) as exc:
        raise RuleViolation(_("%(source)s could not be read: %(error)s", source=source.name,
                              error=_first_line(exc))) from exc
    finally:
        if engine is not None:
            engine.dispose()


def propose_manual_correction(case: Case, source_key: str, collection: str, field_name: str, after: str, *,
                              before: str = "", note: str = "", actor: User | None, now: datetime, today: date,
                              expected_version: int | None = None,
                              config: Mapping[str, Any] | None = None) -> Correction:
    """Propose a correction in a manual source (paper archive, Focus Feedback): a task for a person.

    dsr cannot read these, so "before" is what the subject reports, if anything. The task asks the person
    to make the correction and mark it applied here with a note. Audited as ``rectification.proposed``.
    """
    require_role(actor, *WRITERS, what=_l("propose a correction"))
    _require_rectification(case, expected_version, _l("propose a correction"))
    source = load_sources(settings(config)).get(source_key)
    if source is None or source.kind is not SourceKind.MANUAL:
        raise InvalidInput(_("Choose a system that a person searches."), "source")
    coll, fld = _field(source, collection, field_name)
    if _pending_twin(case, source.key, coll.name, None, fld.name) is not None:
        raise RuleViolation(_("A correction of %(field)s in %(source)s is already waiting; mark it applied, "
                              "refuse or cancel it first.", field=fld.name, source=source.name))
    try:
        after_value = values.parse(after, values.kind_of(fld), fld=fld, today=today)
    except values.BadValue as exc:
        raise InvalidInput(str(exc), "after") from None
    before = (before or "").strip()
    if len(before) > values.VALUE_MAX or any(ord(c) < 32 for c in before):
        raise InvalidInput(_("The value as the subject reports it has at most %(n)d characters and no control "
                             "characters.", n=values.VALUE_MAX), "before")
    assignee = case.assignee if case.assignee is not None and case.assignee.active else None
    task = add_automatic_task(case, CORRECTION_TASK, {"source": source.key, "collection": coll.name,
                                                      "field": fld.name},
                              assignee=assignee, actor=actor, now=now, today=today)
    return _add(case, source, coll, fld, found=None, before=before or None, after=after_value, note=note,
                actor=actor, now=now, task=task)


def _add(case: Case, source: Source, coll: Collection, fld: Field, *, found: FoundRecord | None, before, after,
         note: str, actor, now: datetime, task: CaseTask | None = None) -> Correction:
    note = (note or "").strip()
    if len(note) > REASON_MAX:
        raise InvalidInput(_("A text has at most %(n)d characters.", n=REASON_MAX), "note")
    correction = Correction(
        case_id=case.id, source_kind=source.kind, found_record_id=found.id if found else None, source=source.key,
        collection=coll.name, primary_key=dict(found.primary_key) if found else None, field=fld.name,
        before_value=before, after_value=after, note=note or None, status=CorrectionStatus.PENDING,
        proposed_at=now, proposed_by_id=actor.id if actor else None, task_id=task.id if task else None)
    db.session.add(correction)
    db.session.flush()
    touch_case(case, now)
    audit_record("rectification.proposed", actor=actor, now=now, case=case, after={
        "correction_id": correction.id, "record": record_text(correction), "field": fld.name,
        "before": before, "after": after, "task_id": task.id if task else None})
    return correction


def record_text(correction: Correction) -> str:
    key = correction.key_text
    return f"{correction.source}/{correction.collection}" + (f"/{key}" if key else "")


# -- applying ---------------------------------------------------------------------------------------------

@dataclass
class Applied:
    """What :func:`apply_corrections` did: the corrections applied and, per source that failed, why."""

    applied: list[Correction] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def apply_corrections(case: Case, corrections: Sequence[Correction], *, actor: User | None, now: datetime,
                      expected_version: int | None = None, config: Mapping[str, Any] | None = None) -> Applied:
    """Write pending corrections of SQL sources to their sources, one transaction per source (Art. 16).

    Each write is ``UPDATE ... SET field = after WHERE key AND field = before``: where the field no longer
    holds "before", someone changed it since, and that source's transaction is rolled back and reported
    (nothing of it is written). Staff or the privacy manager. Audited as ``rectification.applied``.
    """
    require_role(actor, *WRITERS, what=_l("apply a correction"))
    _require_rectification(case, expected_version, _l("apply a correction"))
    todo = list(corrections)
    for correction in todo:
        if correction.case_id != case.id:
            raise InvalidInput(_("Unknown correction."), "correction_id")
        if not correction.is_pending:
            raise RuleViolation(_("This correction was already decided."))
        if correction.source_kind is not SourceKind.SQL:
            raise RuleViolation(_("A correction in %(source)s is made by a person: mark it applied with a note.",
                                  source=correction.source))
    config = settings(config)
    sources = load_sources(config)
    outcome = Applied()
    by_source: dict[str, list[Correction]] = {}
    for correction in todo:
        by_source.setdefault(correction.source, []).append(correction)
    for key, group in sorted(by_source.items()):
        source = sources.get(key)
        if source is None:
            outcome.failed[key] = _("%(source)s is no longer in the data map.", source=key)
            continue
        try:
            results = writing.write_corrections(source, group, config)
        except writing.StaleValue as exc:
            outcome.failed[key] = str(exc)
            continue
        except (DataMapError, sa.exc.SQLAlchemyError) as exc:
            outcome.failed[key] = _("%(source)s could not be written: %(error)s", source=source.name,
                                    error=_first_line(exc))
            continue
        for correction in group:
            correction.status, correction.decided_at = CorrectionStatus.APPLIED, now
            correction.decided_by_id = actor.id if actor else None
            correction.result = results[correction.id]
            outcome.applied.append(correction)
    if outcome.applied:
        touch_case(case, now)
        audit_record("rectification.applied", actor=actor, now=now, case=case, after={
            "corrections": [{"correction_id": c.id, "record": record_text(c), "field": c.field,
                             "before": c.before_value, "after": c.after_value, "result": c.result}
                            for c in outcome.applied], "failed": outcome.failed})
        for correction in outcome.applied:
            correct_subject(case, correction, actor=actor, now=now)
    return outcome


def apply_correction(correction: Correction, *, actor: User | None, now: datetime,
                     expected_version: int | None = None, config: Mapping[str, Any] | None = None) -> None:
    """Apply one correction; a failure (a changed value, a source that cannot be written) is refused."""
    outcome = apply_corrections(correction.case, [correction], actor=actor, now=now,
                                expected_version=expected_version, config=config)
    if outcome.failed:
        raise RuleViolation(next(iter(outcome.failed.values())))


def mark_applied(correction: Correction, *, note: str, actor: User | None, now: datetime,
                 expected_version: int | None = None) -> None:
    """A person made the correction in a manual source and says what they did; their task is done."""
    require_role(actor, *WRITERS, what=_l("mark a correction applied"))
    case = correction.case
    _require_rectification(case, expected_version, _l("mark a correction applied"))
    if correction.source_kind is not SourceKind.MANUAL:
        raise RuleViolation(_("dsr writes this correction to its source: apply it."))
    if not correction.is_pending:
        raise RuleViolation(_("This correction was already decided."))
    note = _text(note, "note", _("Say what was corrected, where, and by whom."))
    correction.status, correction.decided_at = CorrectionStatus.APPLIED, now
    correction.decided_by_id, correction.result = (actor.id if actor else None), note
    if correction.task is not None and correction.task.is_open:
        complete_task(correction.task, actor=actor, now=now)
    touch_case(case, now)
    audit_record("rectification.applied", actor=actor, now=now, case=case, after={"corrections": [{
        "correction_id": correction.id, "record": record_text(correction), "field": correction.field,
        "before": correction.before_value, "after": correction.after_value, "result": note}], "manual": True})
    correct_subject(case, correction, actor=actor, now=now)


def _refuse_if_already_written(correction: Correction, config: Mapping[str, Any] | None = None) -> None:
    """A correction still "waiting" whose source already holds the corrected value was written by an apply
    whose dsr transaction then failed (the source does not roll back with dsr). Refusing or cancelling it
    would make the case file contradict Harmony's system: apply it again instead, which records it."""
    if correction.source_kind is not SourceKind.SQL:
        return
    try:
        source = load_sources(settings(config))[correction.source]
        coll = source.collection(correction.collection)
        row, _column = _read_current(source, coll, coll.field(correction.field), correction.primary_key,
                                     settings(config))
    except (DataMapError, KeyError, RuleViolation):
        return  # the source is gone from the data map or cannot be read now: nothing to compare with
    if row is not None and values.to_json(row[correction.field]) == correction.after_value:
        raise RuleViolation(_("%(source)s already holds the corrected value of %(field)s: the correction was "
                              "written there. Apply it again to record it; it cannot be refused or cancelled.",
                              source=source.name, field=correction.field))


def refuse_correction(correction: Correction, *, reason: str, actor: User | None, now: datetime,
                      expected_version: int | None = None) -> None:
    """The privacy manager refuses a correction, with the reason the subject is told (Art. 12(4)):
    the data is accurate, the proof asked for was not given, the record is an opinion, not a fact."""
    if actor is None:
        raise NotAllowed(_("Only a privacy manager may refuse a correction."))
    require_role(actor, Role.PRIVACY_MANAGER, what=_l("refuse a correction"))
    case = correction.case
    _require_rectification(case, expected_version, _l("refuse a correction"))
    if not correction.is_pending:
        raise RuleViolation(_("This correction was already decided."))
    reason = _text(reason, "reason", _("Give the reason the subject will be told."))
    _refuse_if_already_written(correction)
    correction.status, correction.decided_at, correction.decided_by_id = CorrectionStatus.REFUSED, now, actor.id
    correction.reason = reason
    touch_case(case, now)
    audit_record("rectification.refused", actor=actor, now=now, case=case, after={
        "correction_id": correction.id, "record": record_text(correction), "field": correction.field,
        "before": correction.before_value, "after": correction.after_value, "reason": reason})


def cancel_correction(correction: Correction, *, actor: User | None, now: datetime,
                      expected_version: int | None = None) -> None:
    """Withdraw a pending proposal (typed wrongly, or proposed from a value changed since). Its task, if
    any, is closed: there is nothing left for the person to do. Audited as ``rectification.cancelled``."""
    require_role(actor, *WRITERS, what=_l("cancel a correction"))
    case = correction.case
    _require_rectification(case, expected_version, _l("cancel a correction"))
    if not correction.is_pending:
        raise RuleViolation(_("Only a correction still waiting can be cancelled."))
    _refuse_if_already_written(correction)
    if correction.task is not None and correction.task.is_open:
        complete_task(correction.task, actor=actor, now=now)
    audit_record("rectification.cancelled", actor=actor, now=now, case=case, before={
        "correction_id": correction.id, "record": record_text(correction), "field": correction.field,
        "before": correction.before_value, "after": correction.after_value})
    db.session.delete(correction)
    touch_case(case, now)


# -- what rectification registers: the data it changed (Art. 19) and what must be settled (Art. 16) ----------

def corrected_places(case: Case) -> set[tuple[str, str]]:
    """``(source, collection)`` of the corrections applied on this case."""
    return {(source, collection) for source, collection in db.session.execute(sa.select(Correction.source, Correction.collection).where(
        Correction.case_id == case.id, Correction.status == CorrectionStatus.APPLIED)).all()}


def open_obligations(case: Case, today: date | None = None) -> list[Obligation]:
    """Corrections still waiting before the case can be completed (Art. 16): each one neither applied nor
    refused, or none recorded at all while the search found the subject's records."""
    if Right.RECTIFICATION not in case.right_values:
        return []
    problems: list[Obligation] = []
    corrections = list(db.session.execute(sa.select(Correction).where(Correction.case_id == case.id)).scalars())
    pending = sum(1 for c in corrections if c.is_pending)
    if pending:
        problems.append(Obligation("rectification.corrections_pending", ngettext(
            "%(num)d correction is neither applied nor refused (Art. 16).",
            "%(num)d corrections are neither applied nor refused (Art. 16).", pending)))
    lookup = latest_lookup(case)
    if not corrections and not (lookup is not None and lookup.status is LookupStatus.NOTHING_FOUND):
        problems.append(Obligation("rectification.no_correction", _(
            "No correction is recorded: record each correction the subject asked for, to be applied or "
            "refused (Art. 16).")))
    return problems


register_change("rectified", right=Right.RECTIFICATION, places=corrected_places,
                heading=_l("Recipients to notify of the rectification (Art. 19)"))
register_obligations("rectification", open_obligations, order=10)
