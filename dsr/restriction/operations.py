"""Restriction of processing (GDPR Art. 18; issue 18, item 1): grounds, restricting, lifting after telling.

A restriction case goes through these steps; each is an operation that writes an audit event.

1. **Grounds** (:func:`record_ground`): which of Art. 18(1)(a)-(d) the subject invokes, in their words. (a)
   "accuracy contested" names the case whose rectification is the period to verify the accuracy, (d)
   "objection pending" the case whose objection is being balanced (either may be this case itself).
2. **Restricting** (:func:`apply_restriction`): every record the case's *confirmed* search found is
   restricted. Where the data map gives the collection a restriction marker field (``restricted_since``,
   ``restricted``) dsr sets it, one transaction per source, and records per record what it did; where it
   gives none, and in the sources a person searches (paper archive, processors), a task asks a person to
   restrict the records and say what they did (:func:`mark_restricted`). Restricting registers the change
   "restricted" with :mod:`dsr.notices`, so the recipients of those records are listed and ticked (Art. 19)
   and the case does not complete before.
3. **Lifting** (18(3)): the privacy manager decides to lift, with the reason (:func:`decide_lift`); the
   subject is told *beforehand* by the letter ``restriction_lifting_notice``; only once that letter is
   issued may the restriction be lifted (:func:`lift_restriction`): markers cleared, tasks for a person
   where there is none (:func:`mark_lifted`). A restriction under (a) or (d) cannot be lifted while its
   rectification or objection is undecided (:mod:`dsr.domain.restriction`).

Staff and the privacy manager record grounds and restrict: the subject asked, and restricting only stops
use (Art. 18(2)). Lifting ends a protection the subject obtained, so it is the privacy manager's.

Records of a case restricted for another case too keep their marker when one case lifts: the marker is
cleared only when no other case still restricts the record.
"""

from __future__ import annotations

from collections.abc import Mapping
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
from dsr.cases.guards import MANAGERS, WRITERS, check_version, require_open, require_role
from dsr.cases.models import Case
from dsr.cases.obligations import Obligation
from dsr.cases.obligations import register as register_obligations
from dsr.cases.operations import touch_case
from dsr.cases.queries import case_by_reference
from dsr.datamap import erase as datamap_erase
from dsr.datamap.sources import DataMapError, Source, SourceKind, load_sources
from dsr.domain import restriction as rules
from dsr.domain.enums import CaseState, LookupMatch, LookupStatus, Right
from dsr.domain.restriction import RestrictionGround
from dsr.extensions import db
from dsr.fulfilment.lookup_ops import latest_lookup
from dsr.fulfilment.models import FoundRecord
from dsr.notices.changes import register_change
from dsr.restriction.models import (
    RestrictedRecord,
    RestrictedStatus,
    RestrictionGroundRecord,
    RestrictionLift,
    RestrictMethod,
    lift_of,
)
from dsr.settings import settings
from dsr.tasks import titles
from dsr.tasks.operations import TITLE_MAX, add_automatic_task, complete_task
from dsr.texts.models import TextPurpose
from dsr.texts.operations import save_texts

TEXT_MAX = 2000
LIFTING_NOTICE = "restriction_lifting_notice"  # the letter kind that tells the subject beforehand (18(3))
# A restriction is lifted on a case still open or answered: the period (a rectification, an objection) often
# ends after the completion letter said the data is restricted.
_LIFTABLE_STATES = frozenset({CaseState.RECEIVED, CaseState.IDENTITY_CHECK, CaseState.IN_PROGRESS,
                              CaseState.AWAITING_APPROVAL, CaseState.COMPLETED})


def _first_line(exc: Exception) -> str:
    cause = getattr(exc, "orig", None) or exc
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]


def _text(value: str | None, field_name: str, missing: str | None) -> str:
    value = (value or "").strip()
    if not value and missing is not None:
        raise InvalidInput(missing, field_name)
    if len(value) > TEXT_MAX:
        raise InvalidInput(_("A text has at most %(n)d characters.", n=TEXT_MAX), field_name)
    return value


def _require_restriction(case: Case) -> None:
    if Right.RESTRICTION not in case.right_values:
        raise RuleViolation(_("This case does not request restriction of processing (Art. 18)."))


def grounds_of(case: Case) -> list[RestrictionGroundRecord]:
    return list(db.session.execute(sa.select(RestrictionGroundRecord).where(
        RestrictionGroundRecord.case_id == case.id).order_by(RestrictionGroundRecord.ground)).scalars())


def records_of(case: Case) -> list[RestrictedRecord]:
    return list(db.session.execute(sa.select(RestrictedRecord).where(
        RestrictedRecord.case_id == case.id).order_by(RestrictedRecord.id)).scalars())


# -- grounds ----------------------------------------------------------------------------------------------

def record_ground(case: Case, ground: RestrictionGround | str, *, linked_reference: str = "",
                  explanation: str = "", actor: User | None, now: datetime,
                  expected_version: int | None = None) -> RestrictionGroundRecord:
    """Record a ground of Art. 18(1) the subject invokes. (a) names the case of the rectification whose
    verification is the restriction's period, (d) the case of the objection being balanced: a reference,
    this case's own when it asks for that right too. Audited as ``restriction.ground_recorded``."""
    require_role(actor, *WRITERS, what=_l("record a ground for restriction"))
    require_open(case, _l("record a ground for restriction"))
    check_version(case, expected_version)
    _require_restriction(case)
    try:
        ground = RestrictionGround(ground)
    except ValueError:
        raise InvalidInput(_("Unknown ground for restriction."), "ground") from None
    reference = (linked_reference or "").strip().upper()
    linked = None
    if reference:
        linked = case if reference == case.reference else case_by_reference(reference)
        if linked is None:
            raise InvalidInput(_("There is no case %(ref)s.", ref=reference), "linked_reference")
    problem = rules.check_link(ground, None if linked is None else linked.right_values)
    if problem == "link_required":
        raise InvalidInput(_("Name the case that asks for %(right)s: the restriction lasts while it is decided "
                             "(Art. 18(1)(%(letter)s)).", right=_right_word(ground.linked_right),
                             letter=ground.letter), "linked_reference")
    if problem == "link_wrong_right":
        raise InvalidInput(_("%(ref)s does not ask for %(right)s.", ref=linked.reference,
                             right=_right_word(ground.linked_right)), "linked_reference")
    if problem == "no_link_expected":
        raise InvalidInput(_("Only grounds (a) and (d) are linked to another case."), "linked_reference")
    if any(g.ground is ground for g in grounds_of(case)):
        raise RuleViolation(_("This ground is already recorded."))
    explanation = _text(explanation, "explanation", None)
    row = RestrictionGroundRecord(case_id=case.id, ground=ground, linked_case_id=linked.id if linked else None,
                                  explanation=explanation or None, recorded_at=now,
                                  recorded_by_id=actor.id if actor else None)
    db.session.add(row)
    db.session.flush()
    touch_case(case, now)
    audit_record("restriction.ground_recorded", actor=actor, now=now, case=case, after={
        "ground": ground.value, "article": f"18(1)({ground.letter})",
        "linked_case": linked.reference if linked else None, "explanation": explanation or None})
    return row


def _right_word(right: Right | None) -> str:
    from dsr.cases.labels import RIGHT_LABELS

    return str(RIGHT_LABELS[right]) if right else ""


def ground_states(case: Case) -> list[rules.GroundState]:
    """The recorded grounds with, for (a) and (d), whether the linked rectification or objection is still
    undecided: a correction neither applied nor refused, an objection not balanced, or none recorded yet."""
    return [rules.GroundState(g.ground, _linked_pending(g)) for g in grounds_of(case)]


def _linked_pending(ground: RestrictionGroundRecord) -> bool:
    linked = ground.linked_case
    if ground.ground.linked_right is None:
        return False
    if linked is None:
        return True  # the linked case is gone: nobody can show the verification ended
    if ground.ground is RestrictionGround.ACCURACY_CONTESTED:
        from dsr.rectification.models import Correction, CorrectionStatus

        statuses = list(db.session.execute(sa.select(Correction.status).where(
            Correction.case_id == linked.id)).scalars())
        if statuses:
            return any(s is CorrectionStatus.PENDING for s in statuses)
        return linked.state.is_open  # no correction recorded: verified once that case is answered
    from dsr.objection.models import ObjectionDecision, ObjectionStatus

    statuses = list(db.session.execute(sa.select(ObjectionDecision.status).where(
        ObjectionDecision.case_id == linked.id)).scalars())
    if statuses:
        return any(s is ObjectionStatus.PENDING for s in statuses)
    return linked.state.is_open


# -- restricting ------------------------------------------------------------------------------------------

@dataclass
class Outcome:
    """What an apply or a lift did: per record the outcome (source/collection/key: what), and per source
    that failed why (nothing of that source was changed)."""

    done: list[RestrictedRecord] = field(default_factory=list)
    tasks: list[RestrictedRecord] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def _confirmed_lookup(case: Case):
    lookup = latest_lookup(case)
    if lookup is None or lookup.status is LookupStatus.FAILED:
        raise RuleViolation(_("Search Harmony's systems for this person's data first: the records to restrict "
                              "are the ones found."))
    if lookup.status is not LookupStatus.NOTHING_FOUND and lookup.match != LookupMatch.CONFIRMED:
        raise RuleViolation(_("Confirm that the records found are this person's first: restricting someone "
                              "else's records would stop their use."))
    return lookup


def _marker_value(column: sa.Column, *, now: datetime, today: date, restrict: bool) -> Any:
    """What the marker column is set to: true/false for a boolean; the moment or the day the restriction
    began, or empty when lifted, for a timestamp or a date."""
    python_type = None
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        pass
    if python_type is bool:
        return restrict
    if python_type is datetime:
        return now if restrict else None
    if python_type is date:
        return today if restrict else None
    raise DataMapError(f"the restriction marker {column.table.name}.{column.name} is neither a boolean nor a "
                       f"date or timestamp")


def _is_set(value: Any) -> bool:
    return value is not None and value is not False and value != 0


def apply_restriction(case: Case, *, actor: User | None, now: datetime, today: date,
                      expected_version: int | None = None, config: Mapping[str, Any] | None = None) -> Outcome:
    """Restrict every record of the case's confirmed search not yet restricted for it (Art. 18(1)-(2)).

    Collections with a restriction marker: dsr sets it, one transaction per source (a source that fails is
    rolled back and named; applying again finishes it). Collections without one, and each collection of a
    source a person searches: a task for a person. Needs at least one ground. Staff or privacy manager.
    Audited as ``restriction.applied`` with the outcome per record (references, never values).
    """
    require_role(actor, *WRITERS, what=_l("restrict the processing"))
    require_open(case, _l("restrict the processing"))
    check_version(case, expected_version)
    _require_restriction(case)
    if not grounds_of(case):
        raise RuleViolation(_("Record the ground the subject invokes (Art. 18(1)(a)-(d)) before restricting."))
    lookup = _confirmed_lookup(case)
    config = settings(config)
    try:
        sources = load_sources(config)
    except DataMapError as exc:
        raise RuleViolation(_("The data map cannot be read: %(error)s", error=str(exc))) from exc
    existing = records_of(case)
    done_keys = {(r.source, r.collection, record_key(r.primary_key)) for r in existing}
    outcome = Outcome()
    by_source: dict[str, list[FoundRecord]] = {}
    person: list[tuple[Source, str, FoundRecord | None]] = []
    for found in sorted(lookup.records, key=lambda f: f.id):
        if (found.source, found.collection, record_key(found.primary_key)) in done_keys:
            continue
        source = sources.get(found.source)
        if source is None:
            outcome.failed[found.source] = _("%(source)s is no longer in the data map.", source=found.source)
            continue
        try:
            coll = source.collection(found.collection)
        except KeyError:
            outcome.failed[found.source] = _("%(source)s has no collection %(collection)s any more.",
                                             source=source.name, collection=found.collection)
            continue
        if coll.restriction_marker and source.kind is SourceKind.SQL:
            by_source.setdefault(source.key, []).append(found)
        else:
            person.append((source, coll.name, found))
    for key in sorted(lookup.manual_tasks or {}):
        source = sources.get(key)
        if source is None:
            continue
        for coll in source.collections:
            if (key, coll.name, record_key(None)) not in done_keys:
                person.append((source, coll.name, None))
    for key, group in sorted(by_source.items()):
        _restrict_source(case, sources[key], group, outcome, actor=actor, now=now, today=today, config=config)
    groups: dict[tuple[str, str], list[FoundRecord | None]] = {}
    for source, collection, found in person:
        groups.setdefault((source.key, collection), []).append(found)
    for (key, collection), founds in groups.items():
        outcome.tasks += _person_records(case, sources[key], collection, founds, actor=actor, now=now, today=today)
    if not (outcome.done or outcome.tasks or outcome.gone or outcome.failed):
        raise RuleViolation(_("Every record found is already restricted for this case."))
    db.session.flush()
    touch_case(case, now)
    audit_record("restriction.applied", actor=actor, now=now, case=case, after={
        "lookup_id": lookup.id,
        "records": [f"{r.place_text}: {r.result}" for r in outcome.done],
        "tasks": [f"{r.place_text}: task {r.task_id}" for r in outcome.tasks],
        "gone": outcome.gone, "failed": outcome.failed})
    return outcome


def record_key(primary_key: Mapping[str, Any] | None) -> tuple:
    return tuple(sorted((k, str(v)) for k, v in (primary_key or {}).items()))


def _restrict_source(case: Case, source: Source, group: list[FoundRecord], outcome: Outcome, *,
                     actor: User | None, now: datetime, today: date, config: Mapping[str, Any]) -> None:
    engine = None
    rows: list[RestrictedRecord] = []
    gone: list[str] = []
    try:
        engine = datamap_erase.writable_engine(source.connection_url(config))
        with engine.begin() as conn:
            tables = datamap_erase.reflect(conn, source)
            for found in group:
                coll = source.collection(found.collection)
                table = tables[coll.name]
                column = table.c[coll.restriction_marker]
                where = datamap_erase.key_clause(table, found.primary_key)
                row = datamap_erase.read_row(conn, table, found.primary_key)
                place = f"{source.key}/{coll.name}/{found.key_text}"
                if row is None:
                    gone.append(f"{place}: not found: no longer in {source.name}")
                    continue
                if _is_set(row[column.name]):
                    result = f"{column.name} already set in {source.name}"
                else:
                    conn.execute(sa.update(table).where(where).values(
                        {column.name: _marker_value(column, now=now, today=today, restrict=True)}))
                    result = f"{column.name} set in {source.name}"
                named: dict[str, list[str]] = {}
                for fld in coll.fields:
                    name = fld.recipient_name(row.get(fld.name)) if fld.recipient else None
                    if name:
                        named.setdefault(fld.recipient, []).append(name)
                rows.append(RestrictedRecord(
                    case_id=case.id, method=RestrictMethod.MARKER, found_record_id=found.id, source=source.key,
                    collection=coll.name, primary_key=dict(found.primary_key), marker_field=column.name,
                    status=RestrictedStatus.RESTRICTED, created_at=now, restricted_at=now,
                    restricted_by_id=actor.id if actor else None, result=result, recipients=named or None))
    except (DataMapError, KeyError, sa.exc.SQLAlchemyError) as exc:
        outcome.failed[source.key] = _("%(source)s could not be written: %(error)s", source=source.name,
                                       error=_first_line(exc))
        return
    finally:
        if engine is not None:
            engine.dispose()
    for row in rows:
        db.session.add(row)
    outcome.done += rows
    outcome.gone += gone


RESTRICT_TASK = "restrict_records"
LIFT_TASK = "lift_restriction"


def place_names(source_key: str, collection: str, language: str) -> tuple[str, str]:
    """A system and a collection as the data map names them in ``language`` (their keys when it no longer has
    them)."""
    try:
        source = load_sources().get(source_key)
    except DataMapError:
        source = None
    if source is None:
        return source_key, collection
    try:
        return source.display_name(language), source.collection(collection).display_name(language)
    except KeyError:
        return source.display_name(language), collection


def _where(params, language: str) -> str:
    source, collection = place_names(params["source"], params["collection"], language)
    keys = list(params.get("keys") or [])
    return f"{source} · {collection}" + (f" ({len(keys)}: {'; '.join(keys)})" if keys else "")


def _shortened(title: str) -> str:
    return title if len(title) <= TITLE_MAX else title[:TITLE_MAX - 1] + "…"


def _restrict_task_title(params, language: str) -> str:
    return _shortened(_("Restrict (Art. 18): %(where)s — keep, do not use; then say here what was done",
                        where=_where(params, language)))


def _lift_task_title(params, language: str) -> str:
    return _shortened(_("Lift the restriction (Art. 18(3)): %(where)s — it may be used again; then say here what "
                        "was done", where=_where(params, language)))


titles.register(RESTRICT_TASK, _restrict_task_title)
titles.register(LIFT_TASK, _lift_task_title)


def _person_records(case: Case, source: Source, collection: str, founds: list[FoundRecord | None], *,
                    actor: User | None, now: datetime, today: date) -> list[RestrictedRecord]:
    """One task for a person per collection (its records named by key), and a row per record sharing it."""
    keys = [f.key_text for f in founds if f is not None]
    task = add_automatic_task(case, RESTRICT_TASK, {"source": source.key, "collection": collection, "keys": keys},
                              assignee=case.assignee, actor=actor, now=now, today=today)
    rows = [RestrictedRecord(case_id=case.id, method=RestrictMethod.PERSON,
                             found_record_id=found.id if found is not None else None, source=source.key,
                             collection=collection, primary_key=dict(found.primary_key) if found is not None else None,
                             status=RestrictedStatus.PENDING, created_at=now, task_id=task.id) for found in founds]
    db.session.add_all(rows)
    return rows


def mark_restricted(record: RestrictedRecord, *, note: str, actor: User | None, now: datetime,
                    expected_version: int | None = None) -> None:
    """A person restricted a record that dsr cannot mark and says what they did; their task is done.
    Audited as ``restriction.applied`` (manual)."""
    require_role(actor, *WRITERS, what=_l("mark a record restricted"))
    case = record.case
    require_open(case, _l("mark a record restricted"))
    check_version(case, expected_version)
    _require_restriction(case)
    if record.status is not RestrictedStatus.PENDING:
        raise RuleViolation(_("This record is not waiting to be restricted."))
    note = _text(note, "note", _("Say what was done to restrict it, where, and by whom."))
    # The person's task covers the collection: every record of it waiting on that task is done at once.
    done = [r for r in records_of(case) if r.task_id == record.task_id and r.status is RestrictedStatus.PENDING]
    for row in done:
        row.status, row.restricted_at = RestrictedStatus.RESTRICTED, now
        row.restricted_by_id, row.result = (actor.id if actor else None), note
    if record.task is not None and record.task.is_open:
        complete_task(record.task, actor=actor, now=now)
    touch_case(case, now)
    audit_record("restriction.applied", actor=actor, now=now, case=case, after={
        "records": [f"{r.place_text}: {note}" for r in done], "manual": True})


# -- lifting (Art. 18(3)) ---------------------------------------------------------------------------------

def _require_liftable(case: Case, what) -> None:
    if case.state not in _LIFTABLE_STATES:
        raise RuleViolation(_("Cannot %(what)s: %(ref)s is %(state)s.", what=what, ref=case.reference,
                              state=case.state.value))
    _require_restriction(case)


def decide_lift(case: Case, *, reason: str, actor: User | None, now: datetime,
                expected_version: int | None = None, subject_texts: Mapping[str, str] | None = None
                ) -> RestrictionLift:
    """The privacy manager decides to lift the restriction (Art. 18(3)). ``reason`` is the case file's record;
    the notice that tells the subject beforehand quotes the text for the subject in its language
    (``subject_texts``: ``{language: text}``, or written later on the case's texts page). Refused while a
    ground (a) or (d) still holds (the rectification or objection is undecided) and when nothing is
    restricted. Audited as ``restriction.lift_decided``."""
    if actor is None:
        raise NotAllowed(_("Only a privacy manager may decide to lift a restriction."))
    require_role(actor, *MANAGERS, what=_l("decide to lift a restriction"))
    _require_liftable(case, _l("decide to lift a restriction"))
    check_version(case, expected_version)
    if lift_of(case) is not None:
        raise RuleViolation(_("Lifting this restriction was already decided."))
    if not any(r.in_force for r in records_of(case)):
        raise RuleViolation(_("Nothing is restricted for this case."))
    holding = rules.lift_blocked_by(ground_states(case))
    if holding:
        raise RuleViolation(_blocked_message(holding))
    reason = _text(reason, "reason", _("Give the reason the restriction is lifted: the subject is told it."))
    lift = RestrictionLift(case_id=case.id, reason=reason, decided_at=now, decided_by_id=actor.id)
    db.session.add(lift)
    db.session.flush()
    touch_case(case, now)
    audit_record("restriction.lift_decided", actor=actor, now=now, case=case, after={"reason": reason})
    save_texts(case, TextPurpose.RESTRICTION_LIFT, 0, subject_texts, actor=actor, now=now)
    return lift


def _blocked_message(holding: list[RestrictionGround]) -> str:
    if RestrictionGround.ACCURACY_CONTESTED in holding:
        return _("The accuracy of the data is still being verified (Art. 18(1)(a)): decide every correction of "
                 "the linked rectification first.")
    return _("The objection is still being balanced (Art. 18(1)(d)): decide it first.")


def lifting_notice_issued(case: Case, lift: RestrictionLift | None) -> bool:
    """Whether the letter telling the subject the restriction will be lifted was issued after the decision."""
    if lift is None:
        return False
    from dsr.letters.kinds import LetterKind, issued_since

    return issued_since(case, LetterKind(LIFTING_NOTICE), lift.decided_at)


def lift_restriction(case: Case, *, actor: User | None, now: datetime, today: date,
                     expected_version: int | None = None, config: Mapping[str, Any] | None = None) -> Outcome:
    """Lift the restriction (Art. 18(3)) once the subject was told by the lifting notice: clear each marker
    dsr set (not where another case still restricts the record), and give a person a task for each record
    a person restricted. A source that fails is rolled back and named; lifting again finishes it. Privacy
    manager only. Audited as ``restriction.lifted`` with the outcome per record."""
    if actor is None:
        raise NotAllowed(_("Only a privacy manager may lift a restriction."))
    require_role(actor, *MANAGERS, what=_l("lift a restriction"))
    _require_liftable(case, _l("lift a restriction"))
    check_version(case, expected_version)
    lift = lift_of(case)
    if lift is None:
        raise RuleViolation(_("Decide to lift the restriction first, with the reason the subject is told."))
    allowed, why = rules.may_lift(grounds=ground_states(case), notice_issued=lifting_notice_issued(case, lift))
    if not allowed:
        if why == "not_told":
            raise RuleViolation(_("Tell the subject before the restriction is lifted (Art. 18(3)): issue the "
                                  "letter announcing the lifting first."))
        if why == "ground_holds":
            raise RuleViolation(_blocked_message(rules.lift_blocked_by(ground_states(case))))
        raise RuleViolation(_("Record the ground the subject invoked first."))
    todo = [r for r in records_of(case) if r.status in (RestrictedStatus.RESTRICTED, RestrictedStatus.PENDING)]
    if not todo:
        raise RuleViolation(_("The restriction is already lifted."))
    config = settings(config)
    outcome = Outcome()
    markers: dict[str, list[RestrictedRecord]] = {}
    by_person: dict[tuple[str, str], list[RestrictedRecord]] = {}
    for record in todo:
        if record.method is RestrictMethod.MARKER:
            markers.setdefault(record.source, []).append(record)
        else:
            by_person.setdefault((record.source, record.collection), []).append(record)
    for group in by_person.values():
        _lift_by_person(case, group, outcome, actor=actor, now=now, today=today)
    if markers:
        try:
            sources = load_sources(config)
        except DataMapError as exc:
            raise RuleViolation(_("The data map cannot be read: %(error)s", error=str(exc))) from exc
        for key, group in sorted(markers.items()):
            if key not in sources:
                outcome.failed[key] = _("%(source)s is no longer in the data map.", source=key)
                continue
            _clear_source(case, sources[key], group, outcome, actor=actor, now=now, today=today, config=config)
    if not outcome.failed and lift.lifted_at is None:
        lift.lifted_at, lift.lifted_by_id = now, actor.id
    touch_case(case, now)
    audit_record("restriction.lifted", actor=actor, now=now, case=case, after={
        "reason": lift.reason, "records": [f"{r.place_text}: {r.lift_result}" for r in outcome.done],
        "tasks": [f"{r.place_text}: task {r.lift_task_id}" for r in outcome.tasks], "failed": outcome.failed})
    return outcome


def _lift_by_person(case: Case, group: list[RestrictedRecord], outcome: Outcome, *, actor, now, today) -> None:
    """Records a person restricted get one task per collection to lift it; records never restricted (their
    task still open) need nothing lifted, and the task to restrict them is no longer wanted."""
    restricted = []
    for record in group:
        if record.status is RestrictedStatus.PENDING:
            if record.task is not None and record.task.is_open:
                complete_task(record.task, actor=actor, now=now)
            record.status, record.restricted_at = RestrictedStatus.LIFTED, now
            record.result = "not restricted: the restriction was lifted first"
            record.lifted_at, record.lifted_by_id = now, actor.id if actor else None
            record.lift_result = "nothing to lift"
            outcome.done.append(record)
        else:
            restricted.append(record)
    if not restricted:
        return
    first = restricted[0]
    keys = [r.key_text for r in restricted if r.key_text]
    task = add_automatic_task(case, LIFT_TASK, {"source": first.source, "collection": first.collection, "keys": keys},
                              assignee=case.assignee, actor=actor, now=now, today=today)
    for record in restricted:
        record.status, record.lift_task_id = RestrictedStatus.LIFT_PENDING, task.id
        outcome.tasks.append(record)


def _still_restricted_elsewhere(record: RestrictedRecord) -> str | None:
    """The reference of another case that still restricts the same record, if any."""
    others = db.session.execute(sa.select(RestrictedRecord).where(
        RestrictedRecord.case_id != record.case_id, RestrictedRecord.source == record.source,
        RestrictedRecord.collection == record.collection,
        RestrictedRecord.status.in_([RestrictedStatus.RESTRICTED, RestrictedStatus.PENDING]))).scalars()
    for other in others:
        if record_key(other.primary_key) == record_key(record.primary_key):
            return other.case.reference
    return None


def _clear_source(case: Case, source: Source, group: list[RestrictedRecord], outcome: Outcome, *,
                  actor: User | None, now: datetime, today: date, config: Mapping[str, Any]) -> None:
    results: dict[int, str] = {}
    engine = None
    try:
        engine = datamap_erase.writable_engine(source.connection_url(config))
        with engine.begin() as conn:
            tables = datamap_erase.reflect(conn, source)
            for record in group:
                other = _still_restricted_elsewhere(record)
                if other is not None:
                    results[record.id] = f"{record.marker_field} kept: still restricted for {other}"
                    continue
                table = tables[record.collection]
                column = table.c[record.marker_field]
                written = conn.execute(sa.update(table).where(datamap_erase.key_clause(
                    table, record.primary_key)).values(
                    {column.name: _marker_value(column, now=now, today=today, restrict=False)})).rowcount
                results[record.id] = (f"{column.name} cleared in {source.name}" if written
                                      else f"not found: no longer in {source.name}")
    except (DataMapError, KeyError, sa.exc.SQLAlchemyError) as exc:
        outcome.failed[source.key] = _("%(source)s could not be written: %(error)s", source=source.name,
                                       error=_first_line(exc))
        return
    finally:
        if engine is not None:
            engine.dispose()
    for record in group:
        record.status, record.lifted_at = RestrictedStatus.LIFTED, now
        record.lifted_by_id, record.lift_result = (actor.id if actor else None), results[record.id]
        outcome.done.append(record)


def mark_lifted(record: RestrictedRecord, *, note: str, actor: User | None, now: datetime,
                expected_version: int | None = None) -> None:
    """A person lifted the restriction of a record dsr cannot mark and says what they did."""
    require_role(actor, *WRITERS, what=_l("mark a restriction lifted"))
    case = record.case
    _require_liftable(case, _l("mark a restriction lifted"))
    check_version(case, expected_version)
    if record.status is not RestrictedStatus.LIFT_PENDING:
        raise RuleViolation(_("This record is not waiting for its restriction to be lifted."))
    note = _text(note, "note", _("Say what was done to lift the restriction, where, and by whom."))
    done = [r for r in records_of(case)
            if r.lift_task_id == record.lift_task_id and r.status is RestrictedStatus.LIFT_PENDING]
    for row in done:
        row.status, row.lifted_at = RestrictedStatus.LIFTED, now
        row.lifted_by_id, row.lift_result = (actor.id if actor else None), note
    if record.lift_task is not None and record.lift_task.is_open:
        complete_task(record.lift_task, actor=actor, now=now)
    touch_case(case, now)
    audit_record("restriction.lifted", actor=actor, now=now, case=case, after={
        "records": [f"{r.place_text}: {note}" for r in done], "manual": True})


# -- what restriction registers: the data it changed (Art. 19) and what must be settled (Art. 18) ------------

def restricted_places(case: Case) -> set[tuple[str, str]]:
    """``(source, collection)`` of the records restricted on this case (Art. 19 applies to them)."""
    return {(s, c) for s, c in db.session.execute(sa.select(RestrictedRecord.source, RestrictedRecord.collection)
                                                  .where(RestrictedRecord.case_id == case.id,
                                                         RestrictedRecord.restricted_at.is_not(None))).all()}


def named_recipients(case: Case) -> dict[str, list[str]]:
    """``{statement recipient id: [names]}`` named by the records dsr restricted on this case (Art. 19 lists
    the risk bearer by the name the policy gives it)."""
    found: dict[str, set[str]] = {}
    for recipients in db.session.execute(sa.select(RestrictedRecord.recipients).where(
            RestrictedRecord.case_id == case.id, RestrictedRecord.restricted_at.is_not(None),
            RestrictedRecord.recipients.is_not(None))).scalars():
        for rid, names in (recipients or {}).items():
            found.setdefault(rid, set()).update(n for n in names if n)
    return {rid: sorted(names) for rid, names in sorted(found.items())}


def open_obligations(case: Case, today: date | None = None) -> list[Obligation]:
    """What Art. 18 still asks before the case completes: a ground recorded, the records found restricted
    (by dsr or by a person), and nothing a person still has to restrict."""
    if Right.RESTRICTION not in case.right_values:
        return []
    problems: list[Obligation] = []
    if not grounds_of(case):
        problems.append(Obligation("restriction.no_ground", _(
            "No ground for the restriction is recorded (Art. 18(1)(a)-(d)).")))
    records = records_of(case)
    lookup = latest_lookup(case)
    nothing_found = lookup is not None and lookup.status is LookupStatus.NOTHING_FOUND
    if not records and not nothing_found:
        problems.append(Obligation("restriction.not_applied", _(
            "The records found are not restricted yet (Art. 18).")))
    waiting = sum(1 for r in records if r.status is RestrictedStatus.PENDING)
    if waiting:
        problems.append(Obligation("restriction.person_pending", ngettext(
            "%(num)d record is still to be restricted by a person (Art. 18).",
            "%(num)d records are still to be restricted by a person (Art. 18).", waiting)))
    return problems


register_change("restricted", right=Right.RESTRICTION, places=restricted_places, named=named_recipients,
                heading=_l("Recipients to notify of the restriction (Art. 19)"))
register_obligations("restriction", open_obligations, order=35)
