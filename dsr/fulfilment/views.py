"""The "Data in Harmony's systems" card on the case page, its actions, and the records a lookup found.

The actions post to ``/cases/<ref>/data/<action>`` and follow :mod:`dsr.cases.actions`: validate the form,
call one operation, commit once; 400 for bad input, 403 for a role that may not, 409 for a rule or a stale
page, each time with the case page shown again and the reason. The card itself is drawn by
``templates/fulfilment/_data_card.html``, which asks :func:`data_card` for what it shows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from functools import partial

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from dsr.attachments.storage import UploadError, check_upload, store_attachment
from dsr.auth.access import READERS, WRITERS, reads_only, roles_required
from dsr.auth.models import User
from dsr.cases.card_actions import add_card_routes
from dsr.cases.census import known_empty
from dsr.cases.errors import InvalidInput, RuleViolation
from dsr.cases.lazy_forms import LazyForms
from dsr.cases.models import Case
from dsr.cases.queries import case_or_404
from dsr.datamap import catalogue
from dsr.datamap.categories import CategoryNames
from dsr.datamap.sources import DataMapError, Source, SourceKind
from dsr.domain.enums import (
    CLOSED_STATES,
    AttachmentKind,
    ErasurePlanStatus,
    LookupMatch,
    LookupStatus,
    Right,
    Role,
)
from dsr.extensions import db
from dsr.fulfilment import erasure, lookup_ops
from dsr.fulfilment import holds as hold_ops
from dsr.fulfilment.erasure import plan as erasure_plan
from dsr.fulfilment.erasure import tasks as erasure_tasks
from dsr.fulfilment.erasure.execute import execution_summary
from dsr.fulfilment.erasure.until import until_words
from dsr.fulfilment.forms import FORMS, prefix
from dsr.fulfilment.models import ErasurePlan, ErasurePlanItem, FoundRecord, LegalHold, Lookup
from dsr.tasks.models import CaseTask
from dsr.timeutil import format_day, interface_language, today

bp = Blueprint("fulfilment", __name__)

# The data categories in the interface's language (the badges of a search's results).
CATEGORY_NAMES = CategoryNames(interface_language)
IDENTITY_LABELS = {"customer_number": _l("customer number"), "policy_number": _l("policy number"),
                   "email": _l("e-mail"), "name": _l("name"), "date_of_birth": _l("date of birth"),
                   "postcode": _l("postcode")}
STATUS_LABELS = {LookupStatus.FOUND: _l("found"), LookupStatus.NOTHING_FOUND: _l("nothing found"),
                 LookupStatus.FAILED: _l("search failed")}


def _catalogue() -> dict[str, Source]:
    """The data map, read once per process and configuration: the card names sources with it."""
    try:
        return catalogue.sources()
    except DataMapError:
        return {}  # a broken data map is reported by the lookup itself; here, show keys


# -- the card ---------------------------------------------------------------------------------------------

@bp.app_context_processor
def _card_helpers():
    return {"data_card": data_card, "CATEGORY_NAMES": CATEGORY_NAMES, "plan_item_texts": plan_item_texts}


def plan_item_texts(item) -> dict:
    """An erasure plan item's rule title, basis and article in the interface's language (the item stores
    the English texts as the case file's record), the records it names by their names, not their keys."""
    from dsr.domain.retention_rules import load_rules, localise_article

    lang = _lang()
    rules = {r.id: r for r in load_rules().rules}
    title, basis = erasure.outcome_texts(item.rule_id, item.basis, lang, rules)
    until = item.until or ""
    if until.startswith(REFERRED_BY):
        until = _("kept records refer to it: %(records)s", records=until[len(REFERRED_BY):])
    else:  # the engine's English, in the reader's language; a further rule by its title (issue 16.9)
        from dsr.letters.facts import period_text

        until = until_words(until, lang, rules, day=format_day, period=period_text)
    return {"title": title, "basis": _readable_records(basis or "", lang) if basis else basis,
            "article": localise_article(item.article, lang), "until": _readable_records(until, lang)}


# The English of dsr.fulfilment.erasure.deciding for a record kept because kept records refer to it.
REFERRED_BY = "kept records refer to it: "
_RECORD_REF = re.compile(r"\b([a-z0-9_]+)/([a-z0-9_]+)/([a-z0-9_]+=[^,\s…)]+)")


def _readable_records(text: str, language: str) -> str:
    """``harmony_policy_admin/invoices/id=22010`` as a person reads it: "Polisadministratie · Facturen ·
    id=22010" (the data map's names in ``language``; keys the data map does not know stay as they are)."""
    sources = _catalogue()

    def name(match: re.Match) -> str:
        source = sources.get(match[1])
        if source is None:
            return match[0]
        try:
            collection = source.collection(match[2]).display_name(language)
        except KeyError:
            return match[0]
        return f"{source.display_name(language)} · {collection} · {match[3]}"
    return _RECORD_REF.sub(name, text)


def data_card(case: Case) -> dict:
    """What the card shows: the newest lookup per source and category, its match, the manual sources'
    tasks, the holds, and the forms (a refused one as it was submitted, with its errors)."""
    failed = g.get("data_failed")
    forms = LazyForms({action: partial(cls, prefix=prefix(action), formdata=None) for action, cls in FORMS.items()})
    if failed is not None:
        forms[failed[0]] = failed[1]
    lookups = lookup_ops.shown_lookups(case)
    latest = lookups[0] if lookups else None
    sources = _catalogue()
    task_ids = list((latest.manual_tasks or {}).values()) if latest else []
    tasks = {t.id: t for t in db.session.execute(
        sa.select(CaseTask).where(CaseTask.id.in_(task_ids))).scalars()} if task_ids else {}
    manual = [(s, tasks.get((latest.manual_tasks or {}).get(s.key)) if latest else None)
              for s in sorted(sources.values(), key=lambda s: s.name) if s.kind is SourceKind.MANUAL]
    plan = None if known_empty(case, "erasure_plans") else db.session.execute(
        sa.select(ErasurePlan).where(ErasurePlan.case_id == case.id).order_by(ErasurePlan.id.desc()).limit(1)
    ).scalar_one_or_none()
    return {
        "lookup": latest,
        "evidence": _evidence(case, latest, sources) if latest is not None and latest.match == LookupMatch.PENDING else [],
        "identity_labels": IDENTITY_LABELS,
        "erasure": Right.ERASURE in case.right_values,
        "plan": plan,
        "earlier": lookups[1:],
        "language": _lang(),
        "source_names": {key: s.display_name(_lang()) for key, s in sources.items()},
        "collection_names": {(key, c.name): c.display_name(_lang()) for key, s in sources.items()
                             for c in s.collections},
        "manual": manual,
        "holds": hold_ops.holds_for_case(case),
        "identities": [str(IDENTITY_LABELS.get(k, k)) for k in (latest.identities or {})] if latest else [],
        "status_labels": STATUS_LABELS,
        "forms": forms,
        # One release form per active hold; only the one that was refused keeps what was typed.
        "blank_release": FORMS["release"](prefix=prefix("release"), formdata=None),
        "failed": failed[0] if failed else None,
        "can_write": current_user.can_write,
        "is_manager": current_user.role is Role.PRIVACY_MANAGER,
        "four_eyes": bool(current_app.config.get("ERASURE_FOUR_EYES", True)),
        "user_id": current_user.id,
        "is_open": case.state not in CLOSED_STATES,
    }


def _lang() -> str:
    """The interface's language, for the data map's names (nl, en or fr)."""
    return interface_language()


def _evidence(case: Case, lookup: Lookup, sources) -> list | None:
    """The found records' identifying values beside the case's (issue 16, item 7); None if unreadable."""
    from dsr.fulfilment.access import read_wanted
    from dsr.fulfilment.evidence import match_evidence

    if case.subject is None:
        return []
    try:
        return match_evidence(case.subject, lookup.records, sources, lambda wanted: read_wanted(sources, wanted))
    except Exception:  # noqa: BLE001 - a source that cannot be read now must not break the case page
        current_app.logger.warning("match evidence for %s could not be read", case.reference, exc_info=True)
        return None


# -- actions ----------------------------------------------------------------------------------------------

def _lookup(case: Case, lookup_id: int) -> Lookup:
    lookup = db.session.get(Lookup, lookup_id)
    if lookup is None or lookup.case_id != case.id:
        raise InvalidInput(_("Unknown search."), "lookup_id")
    return lookup


def _hold(case: Case, hold_id: int) -> LegalHold:
    hold = db.session.get(LegalHold, hold_id)
    if hold is None or (hold.subject_id != case.subject_id and hold.case_id != case.id):
        raise InvalidInput(_("Unknown legal hold."), "hold_id")
    return hold


def _run(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    lookup = lookup_ops.run_lookup(case, actor=actor, now=at)
    if lookup.status is LookupStatus.FAILED:
        return "danger", _("The search failed and found nothing: %(error)s", error=lookup.error)
    if lookup.status is LookupStatus.NOTHING_FOUND:
        return "info", _("No records of this person were found in Harmony's systems.")
    return "success", ngettext("%(num)d record found. Check that it is this person's before using it.",
                               "%(num)d records found. Check that they are this person's before using them.",
                               lookup.record_count)


def _place(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    if form.found_record_id.data:
        found = db.session.get(FoundRecord, form.found_record_id.data)
        if found is None or found.lookup.case_id != case.id:
            raise InvalidInput(_("Unknown record."), "found_record_id")
        if found.lookup.match == LookupMatch.REJECTED:
            raise RuleViolation(_("These records were recorded as not this person's: hold them from the case "
                                  "of the person they belong to."))
        hold_ops.place_hold(record=hold_ops.RecordRef.of(found), reason=form.reason.data, actor=actor, now=at,
                            case=case)
    else:
        hold_ops.place_hold(subject=case.subject, reason=form.reason.data, actor=actor, now=at, case=case)
    return "success", _("Legal hold placed: nothing it covers will be erased until it is released.")


def _confirm(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    lookup_ops.confirm_match(_lookup(case, form.lookup_id.data), actor=actor, now=at)
    return "success", _("Match confirmed: these are this person's records.")


def _reject(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    lookup_ops.reject_match(_lookup(case, form.lookup_id.data), reason=form.reason.data, actor=actor, now=at)
    return "success", _("Recorded: these records are not this person's.")


def _release(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    hold_ops.release_hold(_hold(case, form.hold_id.data), reason=form.reason.data, actor=actor, now=at, case=case)
    return "success", _("Legal hold released.")


def _plan(case: Case, plan_id: int) -> ErasurePlan:
    plan = db.session.get(ErasurePlan, plan_id)
    if plan is None or plan.case_id != case.id:
        raise InvalidInput(_("Unknown erasure plan."), "plan_id")
    return plan


def _build_plan(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    plan = erasure.build_erasure_plan(case, _lookup(case, form.lookup_id.data), actor=actor, now=at,
                                      today=today())
    return "success", ngettext("Erasure plan built for %(num)d record; the privacy manager approves it.",
                               "Erasure plan built for %(num)d records; the privacy manager approves it.",
                               len(plan.items))


def _approve_plan(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    erasure.approve_plan(_plan(case, form.plan_id.data), actor=actor, now=at)
    return "success", _("Erasure plan approved. It can now be executed.")


def _execute_plan(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    plan = _plan(case, form.plan_id.data)
    failed = erasure.execute_plan(plan, actor=actor, now=at, today=today())
    if failed:
        return "danger", _("Erasure failed in %(sources)s and was undone there; execute the plan again to finish.",
                           sources=", ".join(sorted(failed)))
    if plan.status is not ErasurePlanStatus.EXECUTED:
        return "danger", _("Some records could not be erased (marked failed); execute the plan again to retry.")
    return "success", _("Erasure executed. Kept records are erased when their date comes.")


def _item(case: Case, item_id: int) -> ErasurePlanItem:
    item = db.session.get(ErasurePlanItem, item_id)
    if item is None or item.plan.case_id != case.id:
        raise InvalidInput(_("Unknown item of the erasure plan."), "item_id")
    return item


def _decide(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    item = _item(case, form.item_id.data)
    erasure_plan.decide_item(item, action=form.decision.data, reason=form.reason.data, actor=actor, now=at)
    return "success", _("Decision recorded: %(what)s.", what=_("keep") if form.decision.data == "keep" else _("erase"))


def _task_done(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    item = _item(case, form.item_id.data)
    evidence = None
    upload = form.evidence.data
    if upload and getattr(upload, "filename", ""):
        try:
            checked = check_upload(upload.filename, upload.stream,
                                   max_bytes=current_app.config["MAX_ATTACHMENT_BYTES"])
        except UploadError as exc:
            raise InvalidInput(str(exc), "evidence") from exc
        evidence = store_attachment(case, checked, actor=actor, now=at, kind=AttachmentKind.CORRESPONDENCE)
    erasure_tasks.record_task_done(item, done_on=form.done_on.data, note=form.note.data or "", evidence=evidence,
                                   actor=actor, now=at, today=today())
    return "success", _("Recorded as done.")


def _task_impossible(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    erasure_tasks.record_task_impossible(_item(case, form.item_id.data), reason=form.reason.data, actor=actor,
                                         now=at, today=today())
    return "success", _("Recorded as impossible, with the reason.")


# Each returns the flash (category, message) for the person; all of them go through one operation.
ACTIONS: dict[str, Callable[[Case, object, User, datetime], tuple[str, str]]] = {
    "lookup": _run, "confirm": _confirm, "reject": _reject, "hold": _place, "release": _release,
    "plan": _build_plan, "approve": _approve_plan, "execute": _execute_plan, "decide": _decide,
    "task_done": _task_done, "task_impossible": _task_impossible,
}


@bp.route("/cases/<reference>/erasure/confirm")
@roles_required(*WRITERS)
def confirm_execution(reference: str):
    """What executing the approved plan will do, shown before it is done: counts per system and collection,
    and what cannot be undone (issue 13, item 9). The form on this page executes it."""
    case = case_or_404(reference)
    plan = db.session.execute(sa.select(ErasurePlan).where(ErasurePlan.case_id == case.id).order_by(
        ErasurePlan.id.desc()).limit(1)).scalar_one_or_none()
    if plan is None or plan.status not in (ErasurePlanStatus.APPROVED, ErasurePlanStatus.EXECUTING):
        return redirect(url_for("cases.detail", reference=reference) + "#erasure")
    sources = _catalogue()
    names = {key: s.display_name(_lang()) for key, s in sources.items()}
    collections = {(key, c.name): c.display_name(_lang()) for key, s in sources.items() for c in s.collections}
    return render_template("fulfilment/erasure_confirm.html", case=case, plan=plan,
                           summary=execution_summary(plan), source_names=names, collection_names=collections)


add_card_routes(bp, "data", forms=FORMS, actions=ACTIONS, prefix=prefix, failed_attr="data_failed")


# -- the records a lookup found ---------------------------------------------------------------------------

@bp.route("/cases/<reference>/lookup/<int:lookup_id>")
@reads_only
@roles_required(*READERS)
def lookup_records(reference: str, lookup_id: int):
    """Where the subject's records are: references and categories only, no field values. Reading this list
    is not access to the personal data in Harmony's systems, so it is not audited (the lookup that made it
    was; opening a record's contents, when that comes, will be)."""
    case = case_or_404(reference)
    lookup = db.session.get(Lookup, lookup_id)
    if lookup is None or lookup.case_id != case.id:
        abort(404)
    card = data_card(case)
    # Records rejected as someone else's are not covered by this person's hold, nor held from this case.
    mine = lookup.match != LookupMatch.REJECTED
    holds = hold_ops.active_holds_for([hold_ops.RecordRef.of(f) for f in lookup.records],
                                      case.subject_id if mine else None)
    held = {found.id: hold for found, hold in zip(lookup.records, holds, strict=True) if hold is not None}
    return render_template("fulfilment/lookup.html", case=case, lookup=lookup, held=held,
                           source_names=card["source_names"], collection_names=card["collection_names"],
                           found_by=_found_by(card["collection_names"]), forms=card["forms"],
                           can_hold=card["is_manager"] and mine, latest=card["lookup"])


def _found_by(collection_names: dict) -> Callable[[FoundRecord], str]:
    """How a record was found, in words: by an identity ("customer number") or through a record it belongs
    to ("through Policies" for ``policies.id``), never by the column's name."""
    def found_by(record: FoundRecord) -> str:
        how = record.matched_by or ""
        if "." in how:
            collection = how.split(".", 1)[0]
            return _("through %(collection)s", collection=collection_names.get((record.source, collection),
                                                                               collection.replace("_", " ")))
        return str(IDENTITY_LABELS.get(how, how.replace("_", " ")))
    return found_by
