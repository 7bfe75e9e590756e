"""The facts a letter states, gathered from a case as plain JSON-ready data (dates as ISO text).

Templates get nothing but these dictionaries: no ORM object, no query, no callable. That keeps a letter
template something a translator or a lawyer can read, and the same facts could be shown, logged or tested
without rendering. :func:`gather` returns the facts every letter carries (case reference, received date,
the subject's address block, the deadlines) plus the facts of its kind, as :data:`dsr.letters.kinds.KINDS`
lists them. Where a fact the letter must state is missing (no confirmed search for an access answer, an
erasure plan not yet executed) it refuses with a ``RuleViolation`` saying what to do first, rather than
writing a letter that says less than the law requires.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import sqlalchemy as sa
from babel import Locale
from flask import current_app
from flask_babel import gettext as _

from dsr.cases.deadlines import case_clock, working_calendar
from dsr.cases.errors import RuleViolation
from dsr.cases.lifecycle import repeated_requests
from dsr.cases.models import Case
from dsr.domain.enums import CaseState, ErasurePlanStatus, LookupMatch, Right
from dsr.domain.retention_rules import localise_article
from dsr.extensions import db
from dsr.fulfilment.erasure import REFERENCED, outcome_texts
from dsr.fulfilment.erasure.texts import HELD_SINCE_APPROVAL_LETTER, held_since_approval, kept_by_decision
from dsr.letters import addressing, records, work
from dsr.letters.kinds import LetterKind, check_fits
from dsr.texts.models import TextPurpose
from dsr.texts.operations import quoted
from dsr.timeutil import local_date

BABEL_LOCALES = {"nl": "nl_NL", "en": "en_GB", "fr": "fr_FR"}


class FactsUnavailable(RuleViolation):
    """The facts this letter must state cannot be gathered yet; the message says what to do first."""


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def address_lines(subject, language: str) -> list[str]:
    """The subject's postal address block, as it goes in the envelope window (name first, country last).

    A Dutch address has no country line; any other country is written out in the letter's language,
    in capitals, as the postal services ask (UPU convention). Without a postal address the e-mail
    address stands in, so the block still says whom the letter is for.
    """
    lines = [subject.name]
    if subject.address:
        lines += [part.strip() for part in subject.address.splitlines() if part.strip()]
    town = " ".join(p for p in ((subject.postcode or "").strip(), (subject.city or "").strip().upper()) if p)
    if town:
        lines.append(town)
    if subject.country and subject.country.upper() != "NL":
        names = Locale.parse(BABEL_LOCALES[language]).territories
        lines.append(names.get(subject.country.upper(), subject.country).upper())
    if len(lines) == 1 and subject.email:
        lines.append(subject.email)
    return lines


def _country_name(country: str | None, language: str) -> str | None:
    if not country:
        return None
    return Locale.parse(BABEL_LOCALES[language]).territories.get(country.upper(), country)


def base_facts(case: Case, *, language: str, today: date, signatory: str | None) -> dict[str, Any]:
    subject = case.subject
    clock = case_clock(case, working_calendar(), today,
                       ask_working_days=current_app.config.get("PAUSE_ASK_WORKING_DAYS", 5))
    return {
        "language": language,
        "letter_date": today.isoformat(),
        "signatory": signatory,
        "case": {
            "reference": case.reference,
            "received_on": case.received_on.isoformat(),
            "rights": [r.value for r in case.right_values],
            "channel": case.channel.value,
            "state": case.state.value,
        },
        "subject": {"name": subject.name, "address_lines": address_lines(subject, language), "email": subject.email,
                    # The formal salutation (issue 14.8): "mr", "ms" or None when not known.
                    **_salutation(subject.name, subject.title.value if subject.title else None),
                    "lives_in_nl": (subject.country or "NL").upper() == "NL",
                    "country_name": _country_name(subject.country, language),
                    # Art. 77(1): a subject living in another EU/EEA country may complain to its authority.
                    "authority": addressing.own_authority(subject.country)},
        # Someone else asked for the subject: the letter goes to them, about the subject (issue 18, item 3).
        **_requester(case, language),
        # The clock as the case page shows it on the letter's date (a pause still running included).
        # Harmony's promise is stated as promise_answer_by only: never a Saturday, Sunday or holiday.
        "deadlines": {
            "promised_on": _iso(clock.promised_on),
            "promise_answer_by": _iso(clock.promise_answer_by),
            "legal_due_on": _iso(clock.legal.due_on),
            "extended_due_on": _iso(clock.extended.due_on) if clock.extended else None,
            "due_on": _iso(clock.due_on),
            "paused": clock.paused,
            # The last day on which asking the subject for information still stops the clock (LEGAL.md T5:
            # asked without undue delay); a letter says the period waits only while that can still happen.
            "pause_ask_by": _iso(clock.ask_deadline),
        },
    }


def _salutation(name: str, title: str | None) -> dict[str, Any]:
    """What the layouts' formal salutation needs (issue 14.8): the title (None: not known) and the family name,
    also with its particle capitalised as Dutch writes it after "heer"/"mevrouw"."""
    family = addressing.family_name(name)
    return {"title": title, "family_name": family, "salutation_name": addressing.capitalised_particle(family)}


def _requester(case: Case, language: str) -> dict[str, Any]:
    from dsr.requesters.operations import requester_of

    requester = requester_of(case)
    if requester is None:
        return {"addressee": None, "requester": None}
    return {"addressee": {"name": requester.name, "address_lines": address_lines(requester, language),
                          "email": requester.email, **_salutation(requester.name, None)},
            "requester": {"role": requester.role.value, "name": requester.name}}


def _fee(case: Case, language: str) -> dict[str, Any]:
    from dsr.fees.operations import fee_of

    fee = fee_of(case)
    # Waiting for the subject's answer stops the clock only through a counted pause still open (LEGAL.md T5: a
    # fee proposed later than PAUSE_ASK_WORKING_DAYS after receipt is a late ask, and the clock runs on).
    pause = next((p for p in case.pauses if p.id == fee.pause_id), None) if fee.pause_id is not None else None
    # The basis as written for the subject in the letter's language (issue 14.2), never the staff's record.
    return {"fee": {"amount_cents": fee.amount_cents, "basis": quoted(case, TextPurpose.FEE_BASIS, language), "earlier_reference": fee.earlier_reference,
                    "earlier_on": _iso(fee.earlier_on), "warned_on": _iso(fee.warned_on),
                    "suspended": pause is not None and pause.counted and pause.resumed_on is None}}


def _deceased(case: Case, language: str) -> dict[str, Any]:
    return {"deceased": {"died_on": _iso(case.subject_deceased_on)}}


# -- per kind ---------------------------------------------------------------------------------------------

def _information_request(case: Case, language: str) -> dict[str, Any]:
    from dsr.cases.timing import open_pause

    # The request still waiting for the reply, never the last one answered: the letter says the reply is awaited
    # (check_fits refuses the letter when none waits).
    pause = open_pause(case)
    if pause is None:
        raise FactsUnavailable(_("%(ref)s is not waiting for information.", ref=case.reference))
    return {"information_request": {
        "reason": quoted(case, TextPurpose.INFORMATION_REQUEST, language, pause.id),
        "requested_on": pause.requested_on.isoformat(),
        "counted": pause.counted,
        # Asked while the identity is being checked: the letter asks for proof of identity (Art. 12(6)).
        "purpose": "identity" if case.state is CaseState.IDENTITY_CHECK else "clarification",
    }}


def _extension(case: Case, language: str) -> dict[str, Any]:
    return {"extension": {
        "reason": quoted(case, TextPurpose.EXTENSION, language),
        "decided_on": local_date(case.extended_at).isoformat(),
        "original_due_on": _iso(case.extension_notice_due_on),
        "extended_due_on": _iso(case.extended_due_on),
        # The day the subject was told of the extension (by this letter or otherwise), if recorded: a notice
        # written after the first month says it comes late only when nobody told the subject in time.
        "notice_sent_on": _iso(case.extension_notice_sent_on),
    }}


def _confirmed_lookup(case: Case):
    from dsr.fulfilment.lookup_ops import latest_lookup

    lookup = latest_lookup(case)
    if lookup is None or lookup.match != LookupMatch.CONFIRMED:
        raise FactsUnavailable(_("Search Harmony's systems and confirm that the records found are this person's "
                                 "before writing this letter."))
    return lookup


def article_number(text: str | None) -> str | None:
    """``"GDPR Art. 15"`` → ``"15"``: the letters write "Article 15 GDPR", "artikel 15 AVG", "article 15 du
    RGPD" around it, each in their own order."""
    if not text:
        return text
    match = re.search(r"Art\.?\s*(\d+(?:\(\d+\))*)", text)
    return match.group(1) if match else text


PERIOD_UNITS = {
    "en": {"Y": ("year", "years"), "M": ("month", "months"), "W": ("week", "weeks"), "D": ("day", "days")},
    "nl": {"Y": ("jaar", "jaar"), "M": ("maand", "maanden"), "W": ("week", "weken"), "D": ("dag", "dagen")},
    "fr": {"Y": ("an", "ans"), "M": ("mois", "mois"), "W": ("semaine", "semaines"), "D": ("jour", "jours")},
}


def period_text(period: str | None, language: str) -> str | None:
    """An ISO 8601 period of the retention rules (``P7Y``, ``P180D``) in words: "7 years", "180 dagen"."""
    if not period:
        return period
    match = re.fullmatch(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?", period)
    if not match or not any(match.groups()):
        return period
    units = PERIOD_UNITS[language]
    parts = [f"{n} {units[u][0] if int(n) == 1 else units[u][1]}"
             for n, u in zip(match.groups(), "YMWD", strict=True) if n]
    return " ".join(parts)


def _access(case: Case, language: str) -> dict[str, Any]:
    from dsr.fulfilment.access import compile_access

    content = compile_access(case, _confirmed_lookup(case), language=language).as_dict()
    retention: dict[str, dict[str, Any]] = {}
    for coll in content["collections"]:
        for item in coll["retention"]:
            entry = {k: item[k] for k in ("title", "period", "basis", "article", "statement")}
            entry["article"] = localise_article(entry["article"], language)
            entry["period"] = period_text(item["period"], language)
            if entry["period"] and entry["period"] in (entry["title"] or ""):
                entry["period"] = None  # the rule's title already says it: "… (7 jaar)" once, not twice
            retention.setdefault(item["title"], entry)
    return {"access": {
        "record_count": sum(len(c["records"]) for c in content["collections"]),
        "categories": [{k: c[k] for k in ("name", "origin", "origin_text", "retention")}
                       for c in content["categories"]],
        "purposes": [{k: p[k] for k in ("number", "title", "text")} for p in content["purposes"]],
        # By name where the records name them (CJEU C-154/21); the statement's category only where none is known.
        "recipients": [{k: r[k] for k in ("name", "named", "receives", "why")} for r in content["recipients"]],
        "retention": list(retention.values()),
        "sources_of_data": [s["text"] for s in content["sources_of_data"]],
        "rights": [{"text": r["text"], "article": article_number(r["article"])} for r in content["rights"]],
        # The controller's declaration (a setting, dsr.automated), not a fixed sentence (issue 14.9).
        "automated_decisions": content["automated"],
        "complaint": content["complaint"],
        # Only the manual sources whose search is recorded as done, with the day (issue 14.1).
        "manual_sources": [m for m in work.manual_sources(case, language) if m["done_on"]],
        "redaction_review": len(content["redaction_review"]),
        # What a person withheld to protect others (Art. 15(4); issue 18.4), per field, decision and reason.
        "withheld": _withheld(content["redaction_review"]),
    }}


def _withheld(flags: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows: dict[tuple, dict[str, Any]] = {}
    for flag in flags:
        if flag.get("decision") in ("redact", "withhold"):
            key = (flag["collection_label"], flag["label"], flag["decision"], flag["reason"])
            rows.setdefault(key, {"collection": flag["collection_label"], "field": flag["label"],
                                  "partly": flag["decision"] == "redact", "reason": flag["reason"], "count": 0})
            rows[key]["count"] += 1
    return list(rows.values())


def _portability(case: Case, language: str) -> dict[str, Any]:
    from dsr.fulfilment.portability import select_portable
    from dsr.transmissions.operations import transmissions

    data = select_portable(case, _confirmed_lookup(case)).as_dict()
    names = _DataMapNames(_datamap(), language)
    excluded: dict[tuple[str, str], dict[str, Any]] = {}
    for e in data["excluded"]:
        entry = excluded.setdefault((e["source"], e["collection"]), {
            "source": e["source"], "collection": names.collection(e["source"], e["collection"]),
            "reason": e["reason"], "fields": []})
        if e["field"]:
            entry["fields"].append(names.field(e["source"], e["collection"], e["field"]))
    return {"portability": {
        "record_count": sum(len(c["records"]) for c in data["collections"]),
        "collections": [{"source_name": names.source(c["source"], c["source_name"]),
                         "collection": names.collection(c["source"], c["collection"]),
                         "legal_basis": c["legal_basis"], "records": len(c["records"])}
                        for c in data["collections"]],
        "excluded": list(excluded.values()),
        # Art. 20(2): sent directly to another controller, as recorded on the case (issue 18, item 7).
        "transmissions": [{"controller": t.receiving_controller, "channel": t.channel.value, "on": t.transmitted_on}
                          for t in transmissions(case)],
    }}


def _erasure_plan(case: Case, *, executed: bool):
    from dsr.fulfilment.models import ErasurePlan

    plan = db.session.execute(sa.select(ErasurePlan).where(ErasurePlan.case_id == case.id)
                              .order_by(ErasurePlan.id.desc()).limit(1)).scalar_one_or_none()
    if executed and (plan is None or plan.status is not ErasurePlanStatus.EXECUTED):
        raise FactsUnavailable(_("Execute the approved erasure plan before writing the erasure letter: it states "
                                 "what was erased and what is kept."))
    return plan


def erasure_items(plan, language: str, *, annex: bool = False) -> dict[str, Any]:
    """What the plan erased and what it keeps, grouped by system and category with a count and a date range
    (issue 14.3); each kept group with its reason, article and erase-on dates. Never a database key.

    ``erased`` and ``kept`` list the records one by one, for the annex the subject may ask for (``annex``):
    then each still existing record is also named by what the subject knows it by (``known``).
    """
    from dsr.domain.retention_rules import Action, load_rules

    sources = _datamap()
    names = _DataMapNames(sources, language)
    try:
        rules = {r.id: r for r in load_rules().rules}
    except (OSError, ValueError):
        rules = {}
    dates = records.record_dates(plan.lookup.records) if plan.lookup is not None else {}
    known = records.known_values(sources, [i for i in plan.items if i.action is Action.KEEP and i.executed_at is None]
                                 ) if annex else {}

    def what(item) -> dict[str, Any]:
        return {"system": names.source(item.source), "collection": names.collection(item.source, item.collection),
                "date": _iso(records.date_of(dates, item)), "known": records.known_of(known, item)}

    erased, kept, pending = [], [], []
    reasons: dict[tuple[str, str], dict[str, Any]] = {}
    for item in plan.items:
        if item.is_task:
            continue  # the paper file and the processors: stated from the manual sources' work
        if item.action is Action.KEEP:
            if item.executed_at is not None:
                continue  # kept at first, erased since on its erase-on date
            # The item stores the English basis as the case file's record; the letter quotes the rule (or
            # the special outcome) in its own language.
            title, basis = outcome_texts(item.rule_id, item.basis, language, rules)
            typed = None
            if kept_by_decision(item):  # why, as written for the subject in the letter's language (14.2); the
                # title already says it is the privacy manager's decision
                basis, typed = "", quoted(plan.case, TextPurpose.ERASURE_KEPT, language, item.id)
            elif held_since_approval(item):  # never the hold's reason as typed: a text for the subject, if any
                basis = HELD_SINCE_APPROVAL_LETTER.get(language, HELD_SINCE_APPROVAL_LETTER["en"])
                typed = quoted(plan.case, TextPurpose.ERASURE_KEPT, language, item.id, required=False)
            reason = None
            # "referenced" names the kept records by their internal keys: the letter words it itself.
            if item.rule_id != REFERENCED:
                reason = reasons.setdefault((item.rule_id, basis, typed), {
                    "n": len(reasons) + 1, "rule": item.rule_id, "title": title, "basis": basis, "typed": typed,
                    "article": localise_article(item.article, language)})["n"]
            kept.append({**what(item), "shared": item.shared, "rule": item.rule_id, "title": title,
                         "article": localise_article(item.article, language),
                         "erase_on": _iso(item.erase_on), "until": item.until, "reason": reason})
        elif item.executed_at is not None:
            # The outcome in the case page's words: "deleted" (the row is gone) or "anonymised".
            outcome = item.outcome.value if item.outcome is not None else "deleted"
            erased.append({**what(item), "action": outcome, "on": local_date(item.executed_at).isoformat()})
        else:
            pending.append({**what(item), "action": "failed"})
    return {"executed_on": local_date(plan.executed_at).isoformat() if plan.executed_at else None,
            "erased_groups": records.group(erased, ("system", "collection", "action")),
            "kept_groups": records.group(kept, ("system", "collection", "reason", "rule", "shared")),
            "erased": erased if annex else [], "kept": kept if annex else [], "annex": annex,
            "reasons": list(reasons.values()), "pending": pending}


def _erasure(case: Case, language: str, *, annex: bool = False) -> dict[str, Any]:
    return {"erasure": {**erasure_items(_erasure_plan(case, executed=True), language, annex=annex),
                        "manual_sources": [m for m in work.manual_sources(case, language) if m["done_on"]],
                        "notices": work.notices(case, language)}}


def _optional(module: str, function: str, what: str) -> Callable[[Case], dict[str, Any]]:
    """A facts function of another feature, imported when first needed; a clear refusal if it is absent."""
    try:
        return getattr(importlib.import_module(module), function)
    except (ImportError, AttributeError):
        raise FactsUnavailable(_("This installation cannot state the %(what)s yet (%(module)s is missing).",
                                 what=what, module=module)) from None


class _DataMapNames:
    """The data map's names of systems, collections and fields in one language; the stored key (in words)
    for one no longer in the data map."""

    def __init__(self, sources: dict[str, Any], language: str) -> None:
        self.sources, self.language = sources, language

    def _collection(self, source: str, collection: str):
        try:
            return self.sources[source].collection(collection)
        except KeyError:
            return None

    def source(self, source: str, fallback: str | None = None) -> str:
        found = self.sources.get(source)
        return found.display_name(self.language) if found else (fallback or source)

    def collection(self, source: str, collection: str) -> str:
        coll = self._collection(source, collection)
        return coll.display_name(self.language) if coll else collection.replace("_", " ")

    def field(self, source: str, collection: str, field: str) -> str:
        coll = self._collection(source, collection)
        try:
            return coll.field(field).label(self.language) if coll else field.replace("_", " ")
        except KeyError:
            return field.replace("_", " ")


def _datamap() -> dict[str, Any]:
    from dsr.datamap.sources import DataMapError, load_sources

    try:
        return load_sources(current_app.config)
    except DataMapError:
        return {}


def _rectification(case: Case, language: str) -> dict[str, Any]:
    facts = _optional("dsr.rectification.facts", "rectification_facts", "corrections made")(case)
    names = _DataMapNames(_datamap(), language)
    for c in facts["corrections"]:
        # The system and field as the data map names them in the letter's language: ``field`` becomes the
        # label the templates show ("Achternaam"), ``column`` keeps the column name (``last_name``).
        c["column"] = c["field"]
        c["source_name"] = names.source(c["source"], c["source_name"])
        c["field"] = names.field(c["source"], c["collection"], c["field"])
        if c["status"] == "refused":  # why not, as written for the subject in the letter's language (14.2)
            c["reason"] = quoted(case, TextPurpose.CORRECTION_REFUSAL, language, c["id"])
        else:
            c["reason"] = None  # an applied correction's note is the staff's record
    for r in facts["recipients"]:
        r["display_name"] = (r.get("name") or {}).get(language) or r.get("id")
    return {"rectification": {**facts, "notices": work.notices(case, language),
                              "refused": any(c["status"] == "refused" for c in facts["corrections"])}}


def _objection(case: Case, language: str) -> dict[str, Any]:
    facts = _optional("dsr.objection.facts", "objection_facts", "outcome of the objection")(case)
    # The processing as the data map and the statement name it in the letter's language; the stored
    # (English) name only for a processing no longer in the data map.
    names = _optional("dsr.objection.balancing", "processing_choices", "processing objected to")(
        current_app.config, language)
    for o in facts["other"]:
        choice = names.get(o.get("processing_key") or "")
        if choice is not None:
            o["processing"] = choice.name
        # The outcome of the balancing as written for the subject in the letter's language (issue 14.2).
        o["reasons"] = quoted(case, TextPurpose.OBJECTION_OUTCOME, language, o["id"])
    refused = facts.get("refused", any(o["outcome"] == "rejected" for o in facts["other"]))
    return {"objection": {**facts, "refused": refused}}


def _restriction(case: Case, language: str, *, lifting: bool = False) -> dict[str, Any]:
    """What was restricted where (per system and collection, in the letter's language), on which grounds,
    who was told (Art. 19) and, for the lifting notice (``lifting``), the decision to lift with its reason
    as written for the subject in the letter's language (18(3); issue 14.2)."""
    facts = _optional("dsr.restriction.facts", "restriction_facts", "restriction")(case)
    names = _DataMapNames(_datamap(), language)
    for place in facts["places"]:
        place["system"] = names.source(place["source"])
        place["collection_name"] = names.collection(place["source"], place["collection"])
    restricted = [p for p in facts["places"] if p["state"] in ("restricted", "lifting")]
    from dsr.fulfilment.lookup_ops import latest_lookup

    lookup = latest_lookup(case)
    # The search found nothing of the person's: the answer says so, and that there was nothing to restrict.
    nothing_found = not facts["places"] and lookup is not None and lookup.status.value == "nothing_found"
    if not restricted and not facts["lift"] and not nothing_found:
        raise FactsUnavailable(_("Nothing is restricted on this case yet: restrict the records found first."))
    if facts["lift"] is not None:  # the decision's reason is the staff's record; the notice quotes its own text
        facts["lift"]["reason"] = quoted(case, TextPurpose.RESTRICTION_LIFT, language) if lifting else None
    return {"restriction": {**facts, "restricted": restricted, "nothing_found": nothing_found,
                            "pending": [p for p in facts["places"] if p["state"] == "pending"],
                            "notices": work.notices(case, language)}}


def _automated(case: Case, language: str) -> dict[str, Any]:
    """The Art. 22 request, the decision as the controller declares it (if it does), and the human review."""
    from dsr.automated.declaration import load_declaration
    from dsr.automated.operations import request_of

    request = request_of(case)
    declaration = load_declaration()
    declared = declaration.get(request.decision_id)
    # The decision concerned, the subject's view and the outcome as written for the subject in the letter's
    # language (issue 14.2); what staff recorded on the request stays the case file's record.
    return {"automated": {
        "described": quoted(case, TextPurpose.AUTOMATED_DECISION, language), "decided_on": request.decided_on,
        "asks": request.asks,
        "subject_view": quoted(case, TextPurpose.AUTOMATED_VIEW, language) if request.express_view else None,
        "declared": declared.in_language(language) if declared else None,
        "declaration": declaration.in_language(language),
        "reviewer": quoted(case, TextPurpose.AUTOMATED_REVIEWER, language) if request.reviewed else None,
        "reviewed_on": request.reviewed_on, "outcome": request.outcome.value,
        "outcome_text": quoted(case, TextPurpose.AUTOMATED_OUTCOME, language), "view_considered": bool(request.view_considered),
    }}


def _refusal(case: Case, language: str) -> dict[str, Any]:
    from dsr.unanswered.operations import closed_unanswered_facts

    # A case closed because the information asked for did not come says when it was asked (issue 18, item 6).
    return {"refusal": {"ground": case.refusal_ground.value, "justification": quoted(case, TextPurpose.REFUSAL, language),
                        "unanswered": closed_unanswered_facts(case),
                        # Excessive: the earlier requests it repeats, by reference and receipt (issue 14.10).
                        "repeats": [{"reference": c.reference, "received_on": c.received_on.isoformat()}
                                    for c in repeated_requests(case)]}}


def _partial_refusal(case: Case, language: str, *, annex: bool = False) -> dict[str, Any]:
    """What was not done, with the reason for each part: records kept, corrections refused, objections
    rejected, plus the decision's written reasons. Needs at least one of them."""
    rights = case.right_values
    # The reasons as written for the subject in the letter's language; the case's decision is the staff's record.
    parts: dict[str, Any] = {"decision": quoted(case, TextPurpose.PARTIAL_REFUSAL, language, required=False), "kept": [], "kept_groups": [], "reasons": [],
                             "corrections": [], "objections": [], "annex": annex}
    if Right.ERASURE in rights:
        plan = _erasure_plan(case, executed=False)
        if plan is not None and plan.status is not ErasurePlanStatus.DRAFT:
            items = erasure_items(plan, language, annex=annex)
            parts["kept"], parts["kept_groups"], parts["reasons"] = items["kept"], items["kept_groups"], items["reasons"]
    if Right.RECTIFICATION in rights:
        corrections = _rectification(case, language)["rectification"]["corrections"]
        parts["corrections"] = [c for c in corrections if c["status"] == "refused"]
    if Right.OBJECTION in rights:
        parts["objections"] = [o for o in _objection(case, language)["objection"]["other"]
                               if o["outcome"] == "rejected"]
    if not (parts["decision"] or parts["kept_groups"] or parts["corrections"] or parts["objections"]):
        raise FactsUnavailable(_("Nothing on this case is refused yet: record the decision with its reasons, or the "
                                 "records kept, corrections refused or objections rejected, first."))
    # "We have granted part of your request" only where the case records a part granted.
    parts["granted"] = granted(case)
    return {"partial_refusal": parts}


def granted(case: Case) -> list[str]:
    """The rights of ``case`` of which the case records a part granted (values of :class:`Right`, in the case's
    order); empty when it records none, whatever the decision's free text says.

    Erasure: a record erased or anonymised as the plan decided, a paper file destroyed or a processor instructed
    (kept records erased later on their erase-on date do not count: that was the retention rule, not the
    request). Rectification: a correction applied. Objection: one upheld, or direct marketing stopped.
    Restriction: a record restricted. Automated decision: the human review recorded (Art. 22(3)). Access and
    portability: the answer letter issued (it encloses the copy or the data), or for portability the data sent
    to another controller (Art. 20(2)).
    """
    from dsr.domain.enums import ErasureOutcome
    from dsr.domain.retention_rules import Action
    from dsr.letters.models import IssuedLetter

    def answered(kind: LetterKind) -> bool:
        return db.session.scalar(sa.select(sa.func.count()).select_from(IssuedLetter).where(
            IssuedLetter.case_id == case.id, IssuedLetter.kind == kind)) > 0

    def erased() -> bool:
        plan = _erasure_plan(case, executed=False)
        if plan is None or plan.status is ErasurePlanStatus.DRAFT:
            return False
        return any(i.outcome is ErasureOutcome.DONE if i.is_task else
                   (i.action is not Action.KEEP and i.executed_at is not None
                    and i.outcome in (ErasureOutcome.DELETED, ErasureOutcome.ANONYMISED)) for i in plan.items)

    def corrected() -> bool:
        from dsr.rectification.models import CorrectionStatus
        from dsr.rectification.operations import corrections_of

        return any(c.status is CorrectionStatus.APPLIED for c in corrections_of(case))

    def objected() -> bool:
        facts = _optional("dsr.objection.facts", "objection_facts", "outcome of the objection")(case)
        return facts["direct_marketing"] is not None or any(o["outcome"] == "upheld" for o in facts["other"])

    def restricted() -> bool:
        facts = _optional("dsr.restriction.facts", "restriction_facts", "restriction")(case)
        return any(p["state"] in ("restricted", "lifting", "lifted") for p in facts["places"])

    def reviewed() -> bool:
        from dsr.automated.models import request_of

        request = request_of(case)
        return request is not None and bool(request.reviewed)

    def ported() -> bool:
        from dsr.transmissions.operations import transmissions

        return answered(LetterKind.COMPLETION_PORTABILITY) or bool(transmissions(case))

    checks: dict[Right, Callable[[], bool]] = {
        Right.ERASURE: erased, Right.RECTIFICATION: corrected, Right.OBJECTION: objected,
        Right.RESTRICTION: restricted, Right.AUTOMATED_DECISION: reviewed, Right.PORTABILITY: ported,
        Right.ACCESS: lambda: answered(LetterKind.COMPLETION_ACCESS)}
    return [r.value for r in case.right_values if r in checks and checks[r]()]


GATHERERS: dict[LetterKind, Callable[[Case, str], dict[str, Any]]] = {
    LetterKind.ACKNOWLEDGEMENT: lambda case, language: {},
    LetterKind.INFORMATION_REQUEST: _information_request,
    LetterKind.EXTENSION_NOTICE: _extension,
    LetterKind.COMPLETION_ACCESS: _access,
    LetterKind.COMPLETION_RECTIFICATION: _rectification,
    LetterKind.COMPLETION_ERASURE: _erasure,
    LetterKind.COMPLETION_OBJECTION: _objection,
    LetterKind.COMPLETION_PORTABILITY: _portability,
    LetterKind.DECEASED: _deceased,
    LetterKind.FEE_WARNING: _fee,
    LetterKind.COMPLETION_AUTOMATED: _automated,
    LetterKind.PARTIAL_REFUSAL: _partial_refusal,
    LetterKind.REFUSAL: _refusal,
    LetterKind.COMPLETION_RESTRICTION: _restriction,
    LetterKind.RESTRICTION_LIFTING_NOTICE: lambda case, language: _restriction(case, language, lifting=True),
}


# Kinds that can carry the full list of records in an annex, when the subject asked for it (issue 14.3).
ANNEX_KINDS = (LetterKind.COMPLETION_ERASURE, LetterKind.PARTIAL_REFUSAL)


def gather(case: Case, kind: LetterKind, *, language: str, today: date, signatory: str | None = None,
           annex: bool = False) -> dict:
    """Everything the ``kind`` letter to ``case``'s subject states, in ``language`` (nl, en or fr).

    ``annex``: the subject asked for the full list of records; only the kinds of :data:`ANNEX_KINDS` have one.
    """
    spec = check_fits(case, kind)
    still_open = work.open_work(case, kind)
    if still_open:
        raise FactsUnavailable(_("This letter cannot be issued yet: it reports work the case does not record as "
                                 "done. Still open: %(open)s", open=" ".join(still_open)))
    facts = base_facts(case, language=language, today=today, signatory=signatory)
    facts["kind"] = kind.value
    facts["complaint_route"] = spec.complaint_route
    facts.update(GATHERERS[kind](case, language, annex=annex) if kind in ANNEX_KINDS
                 else GATHERERS[kind](case, language))
    return facts
