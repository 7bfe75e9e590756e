"""Redaction of other people's data before an access copy is released (GDPR Art. 15(4); issue 18, item 4).

The right to a copy "shall not adversely affect the rights and freedoms of others": a claim description may
name a witness, a call recording holds the agent's voice, a note may tell of a family member's illness.
The data map marks such fields (``dsr.third_parties``); every value of them in the subject's records is
*flagged*, and before an access copy (the export, the completion letter) is released a person decides
each one:

* **release** it as it is (it concerns the subject only, or the others' interest does not weigh more);
* **redact**: the marked passages are replaced by ``[withheld]``, the rest is released;
* **withhold** it entirely.

Redacting or withholding needs a ground (:class:`~dsr.domain.enums.RedactionGround`), which the copy and
its overview state in the subject's language (:data:`GROUND_TEXTS`). Who decides: staff may *prepare* a
decision (a proposal, with an internal note); only the privacy manager *decides* (DESIGN.md: the privacy
manager signs what leaves the building). A value counts as reviewed only once decided.

Nothing of the value is stored: a decision names its value by source, collection, primary key and field,
keeps an HMAC of the value as it was read (a value changed in the source since is undecided again) and,
for a redaction, the character offsets of the passages. The passages are typed by the person as text and
turned into offsets against the value read afresh.

Release is refused while a flagged value is undecided (:func:`require_reviewed`): the export and the access
completion letter call it. Every decision is an audited operation (``redaction.proposed``,
``redaction.decided``); the audit event holds which value and what was decided, never the value.
"""

from __future__ import annotations

import functools
import hmac
import json
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects.postgresql import ARRAY

from dsr.domain.enums import RedactionChoice, RedactionGround
from dsr.extensions import db, read
from dsr.fulfilment.models import Lookup, RedactionDecision

MARK = "[withheld]"

# What the copy says about a withheld value, in the subject's language (legal text is reviewed per
# language, STYLE.md point 7, as the export overview's phrases).
GROUND_TEXTS: dict[str, dict[RedactionGround, str]] = {
    "en": {
        RedactionGround.OTHER_PERSON: "it names or identifies another person",
        RedactionGround.OTHER_VOICE: "it holds another person's voice or words",
        RedactionGround.OTHERS_PRIVATE: "it reveals another person's private circumstances",
        RedactionGround.TRADE_SECRET: "it would disclose a trade secret or a security measure",
    },
    "nl": {
        RedactionGround.OTHER_PERSON: "het noemt of identificeert een ander",
        RedactionGround.OTHER_VOICE: "het bevat de stem of woorden van een ander",
        RedactionGround.OTHERS_PRIVATE: "het onthult persoonlijke omstandigheden van een ander",
        RedactionGround.TRADE_SECRET: "het zou een bedrijfsgeheim of beveiligingsmaatregel prijsgeven",
    },
    "fr": {
        RedactionGround.OTHER_PERSON: "il nomme ou identifie une autre personne",
        RedactionGround.OTHER_VOICE: "il contient la voix ou les propos d'une autre personne",
        RedactionGround.OTHERS_PRIVATE: "il révèle la situation personnelle d'une autre personne",
        RedactionGround.TRADE_SECRET: "il révélerait un secret d'affaires ou une mesure de sécurité",
    },
}
# The interface's words for the same (the person deciding reads them in their own language).
GROUND_LABELS = {
    RedactionGround.OTHER_PERSON: _l("names or identifies another person"),
    RedactionGround.OTHER_VOICE: _l("another person's voice or words"),
    RedactionGround.OTHERS_PRIVATE: _l("another person's private circumstances"),
    RedactionGround.TRADE_SECRET: _l("trade secret or security measure"),
}
CHOICE_LABELS = {
    RedactionChoice.RELEASE: _l("release as it is"),
    RedactionChoice.REDACT: _l("withhold the marked passages"),
    RedactionChoice.WITHHOLD: _l("withhold it all"),
}


def key_text(key: Mapping[str, Any]) -> str:
    """A record's primary key as canonical JSON: how a decision names its record."""
    return _KEY_JSON.encode(dict(key))


def value_digest(value: Any) -> str:
    """An HMAC of the value (keyed with the app's secret: a digest of a short name cannot be looked up)."""
    text = _VALUE_JSON.encode(value)
    secret = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    return hmac.digest(secret, text.encode("utf-8"), "sha256").hex()


def value_digester() -> Callable[[Any], str]:
    """:func:`value_digest` with the app's secret read once: for an export that checks a chunk of values."""
    secret = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    encode, digest = _VALUE_JSON.encode, hmac.digest

    def of(value: Any) -> str:
        return digest(secret, encode(value).encode("utf-8"), "sha256").hex()

    return of


# What json.dumps with these arguments uses, made once (an export computes both for every flagged value).
_KEY_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
_VALUE_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str)


def decisions(lookup: Lookup) -> dict[tuple[str, str, str, str], RedactionDecision]:
    """The lookup's decisions by (source, collection, record key, field)."""
    rows = db.session.execute(sa.select(RedactionDecision).where(RedactionDecision.lookup_id == lookup.id))
    return {(d.source, d.collection, d.record_key, d.field): d for d in rows.scalars()}


class Decided(NamedTuple):
    """What the copy needs of a decision (:func:`is_reviewed`, :func:`released`, :func:`apply`), as plain
    columns: an export of a subject with thousands of call recordings holds one small tuple per decision,
    not an ORM object (issue 15, item 4)."""

    value_digest: str
    choice: RedactionChoice
    ground: RedactionGround | None
    spans: list[Any]
    decided: bool


def decided_values(lookup: Lookup, source: str, collection: str,
                   record_keys: list[str]) -> dict[tuple[str, str, str, str], Decided]:
    """As :func:`decisions`, for reading only, and only those on the records ``record_keys`` (as
    :func:`key_text` gives them) of one collection: an export asks a chunk of records at a time.

    Read as plain rows on the session's connection (:func:`dsr.extensions.read`: no ORM result, pending
    changes still flushed first), whether decided as a boolean from the database (not the moment, converted
    per row), and the passages as their JSON text, decoded once per distinct text (:func:`_spans_of`):
    nearly every decision has the same (``[]``, a release), and decoding each again was 40,000 decodes for
    an export of 20,000 call recordings (issue 15, item 4). Decisions with the same text share one list:
    it is read, never changed."""
    rows = read(_decided_statement(db.session.get_bind().dialect.name),
                {"lookup_id": lookup.id, "source": source, "collection": collection, "keys": list(record_keys)})
    spans_of = _spans_of()
    return {(source, collection, key, field): Decided(digest, choice, ground, spans_of(spans), bool(decided))
            for source, collection, key, field, digest, choice, ground, spans, decided in rows}


@functools.cache
def _decided_statement(dialect: str) -> sa.Select:
    """The statement of :func:`decided_values`, made once per process and database.

    On PostgreSQL each record key is looked up on its own in the unique index (lookup, source, collection,
    record key, field), a ``LATERAL`` sub-query per key of the chunk (``unnest`` of one array parameter; its
    ``OFFSET 0`` keeps the planner from turning it into a join it may reorder). With ``record_key IN (…)``
    the plan depended on the statistics: a lookup newer than the table's last ``ANALYZE`` is estimated at one
    row, and PostgreSQL then read every decision of the lookup and compared each with the chunk's 500 keys:
    0.7–0.85 s a chunk for a lookup with 40,000 decisions, 60 chunks in an export and its review check
    (45 s), where each key's own lookup takes 1–2 ms a chunk whatever the statistics (issue 15, item 4).
    SQLite plans the ``IN`` with the index by itself."""
    d = RedactionDecision.__table__
    columns = (d.c.source, d.c.collection, d.c.record_key, d.c.field, d.c.value_digest, d.c.choice, d.c.ground,
               sa.cast(d.c.spans, sa.Text).label("spans"), d.c.decided_at.is_not(None).label("decided"))
    same = (d.c.lookup_id == sa.bindparam("lookup_id"), d.c.source == sa.bindparam("source"),
            d.c.collection == sa.bindparam("collection"))
    if dialect != "postgresql":
        return sa.select(*columns).where(*same, d.c.record_key.in_(sa.bindparam("keys", expanding=True)))
    keys = sa.func.unnest(sa.bindparam("keys", type_=ARRAY(sa.String))).table_valued("key").render_derived(name="k")
    each = sa.select(*columns).where(*same, d.c.record_key == keys.c.key).offset(0).lateral("d")
    return sa.select(*each.c).select_from(keys).join(each, sa.true())


def _spans_of() -> Callable[[str | None], list[Any]]:
    """The passages of a decision from their JSON text, each distinct text decoded once (``[]`` for none)."""
    decoded: dict[str | None, list[Any]] = {}

    def spans_of(text: str | None) -> list[Any]:
        spans = decoded.get(text)
        if spans is None:
            spans = decoded[text] = (json.loads(text) if text is not None else None) or []
        return spans

    return spans_of


def is_reviewed(decision: RedactionDecision | Decided | None, value: Any) -> bool:
    """Decided by the privacy manager, on the value as it is now."""
    return decision is not None and decision.decided and decision.value_digest == value_digest(value)


def released(value: Any, decision: RedactionDecision | Decided) -> Any:
    """The value as the copy shows it under ``decision``: as it is, with the passages marked, or None."""
    if decision.choice is RedactionChoice.WITHHOLD:
        return None
    if decision.choice is RedactionChoice.REDACT:
        text, out, last = str(value), [], 0
        for start, end in decision.spans:
            out += [text[last:start], MARK]
            last = end
        return "".join(out + [text[last:]])
    return value


# -- what the copy says ------------------------------------------------------------------------------------


def apply(source: str, collection: str, key: Mapping[str, Any], field: str, value: Any,
          known: Mapping[tuple[str, str, str, str], RedactionDecision | Decided], language: str) -> tuple[Any, dict | None]:
    """The value as released and the redaction note for the copy (``{"decision", "reason"}``), for one
    flagged value; ``(value, None)`` when no decision on this value stands (the caller refuses release)."""
    decision = known.get((source, collection, key_text(key), field))
    if not is_reviewed(decision, value):
        return value, None
    return released_note(value, decision, language)


def released_note(value: Any, decision: RedactionDecision | Decided, language: str) -> tuple[Any, dict]:
    """The value as released under a decision that stands (:func:`is_reviewed`) and the copy's note."""
    reason = GROUND_TEXTS[language][decision.ground] if decision.ground else ""
    return released(value, decision), {"decision": decision.choice.value, "reason": reason}
