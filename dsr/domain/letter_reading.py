"""What a posted request says: rights, language and identifiers found in the words read from a scan.

Pure: takes the words an OCR engine read (text, confidence, page, box, line) and returns suggestions, each
with its confidence and where on the page it was read. Staff confirm every suggestion before anything is
saved; nothing here decides. The date of receipt is never taken from the letter (the clock starts when the
letter reached Harmony, EDPB 01/2022 §159): the letter's own date is only shown beside it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

import phonenumbers
from stdnum import iban as stdnum_iban
from stdnum import imei as stdnum_imei

# ---------------------------------------------------------------------------------------------- input


@dataclass(frozen=True)
class Word:
    """One word as read: its text, the engine's confidence (0-100), page (from 1), box in page pixels."""

    text: str
    confidence: float
    page: int
    left: int
    top: int
    width: int
    height: int
    line: int  # a running line number over the whole letter (page, block, paragraph, line)


@dataclass(frozen=True)
class Box:
    page: int
    left: int
    top: int
    width: int
    height: int

    def as_dict(self) -> dict:
        return {"page": self.page, "left": self.left, "top": self.top, "width": self.width, "height": self.height}


def _union(words: Sequence[Word]) -> Box | None:
    if not words:
        return None
    page = words[0].page
    same = [w for w in words if w.page == page]
    left = min(w.left for w in same)
    top = min(w.top for w in same)
    right = max(w.left + w.width for w in same)
    bottom = max(w.top + w.height for w in same)
    return Box(page, left, top, right - left, bottom - top)


# --------------------------------------------------------------------------------------------- output


@dataclass(frozen=True)
class Suggestion:
    value: str
    confidence: float  # 0.0-1.0
    box: Box | None = None
    evidence: str = ""  # the words it was read from, as read

    def as_dict(self) -> dict:
        return {"value": self.value, "confidence": round(self.confidence, 2),
                "box": self.box.as_dict() if self.box else None, "evidence": self.evidence}


@dataclass
class Reading:
    language: str | None
    language_confidence: float
    rights: list[Suggestion] = field(default_factory=list)  # value = the API's right name
    fields: dict[str, Suggestion] = field(default_factory=dict)
    on_behalf: Suggestion | None = None

    def as_dict(self) -> dict:
        return {
            "language": self.language,
            "language_confidence": round(self.language_confidence, 2),
            "rights": [s.as_dict() for s in self.rights],
            "fields": {name: s.as_dict() for name, s in self.fields.items()},
            "on_behalf": self.on_behalf.as_dict() if self.on_behalf else None,
        }

    def command_line(self) -> dict:
        """The shape ``dsr read-letter`` prints: rights by name, each field's value and confidence."""
        return {
            "language": self.language,
            "rights": [s.value for s in self.rights],
            "fields": {name: {"value": s.value, "confidence": round(s.confidence, 2)}
                       for name, s in self.fields.items()},
            "on_behalf": bool(self.on_behalf),
        }


FIELD_NAMES = ("name", "address", "postcode", "city", "email", "phone", "customer_number", "policy_number",
               "imei", "iban", "letter_date")

# ------------------------------------------------------------------------------------------ the lines


@dataclass(frozen=True)
class Line:
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def confidence(self) -> float:
        return sum(w.confidence for w in self.words) / (100.0 * len(self.words)) if self.words else 0.0

    @property
    def box(self) -> Box | None:
        return _union(self.words)


def lines_of(words: Iterable[Word]) -> list[Line]:
    grouped: dict[int, list[Word]] = {}
    for w in words:
        if w.text.strip():
            grouped.setdefault(w.line, []).append(w)
    return [Line(tuple(sorted(ws, key=lambda w: w.left))) for _, ws in sorted(grouped.items())]


def _fold(text: str) -> str:
    """Lower case without accents, for keyword matching that survives a misread accent."""
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in text if not unicodedata.combining(c))


def _words_for(line: Line, start: int, end: int) -> list[Word]:
    """The words of ``line`` that overlap the character span [start, end) of ``line.text``."""
    found, pos = [], 0
    for w in line.words:
        w_start, w_end = pos, pos + len(w.text)
        if w_end > start and w_start < end:
            found.append(w)
        pos = w_end + 1
    return found


def _suggest(line: Line, start: int, end: int, value: str, *, factor: float = 1.0) -> Suggestion:
    words = _words_for(line, start, end) or list(line.words)
    conf = sum(w.confidence for w in words) / (100.0 * len(words)) if words else 0.0
    return Suggestion(value=value, confidence=max(0.0, min(1.0, conf * factor)), box=_union(words),
                      evidence=" ".join(w.text for w in words))


# ------------------------------------------------------------------------------------------- rights

# Words and phrases per language; matched on accent-free lower case. Article numbers are matched apart.
RIGHT_WORDS: dict[str, tuple[str, ...]] = {
    "access": ("inzage", "inzageverzoek", "inzien", "kopie van mijn gegevens", "kopie van de gegevens",
               "right of access", "access to my", "access request", "subject access", "copy of my personal",
               "copy of the personal", "droit d'acces", "droit d’acces", "acces a mes", "copie de mes donnees",
               "copie des donnees"),
    "rectification": ("rectificatie", "rectificeren", "correctie", "corrigeren", "verbeteren", "wijzigen van mijn",
                      "rectification", "rectify", "correct my", "correction of", "corriger", "rectifier"),
    "erasure": ("verwijdering", "verwijderen", "vergetelheid", "wissen", "erasure", "erase", "delete",
                "deletion", "to be forgotten", "effacement", "effacer", "supprimer", "suppression de mes",
                "droit a l'oubli", "droit a l’oubli"),
    "objection": ("bezwaar", "objection", "i object", "object to", "opposition", "m'opposer", "m’opposer",
                  "je m'oppose", "je m’oppose"),
    "portability": ("overdraagbaarheid", "overdragen", "dataportabiliteit", "portability", "portabilite",
                    "machine-readable", "machineleesbaar", "format structure"),
    # Art. 22(3): the subject asks a person to look at a decision a computer took, or contests it.
    "automated_decision": ("geautomatiseerd besluit", "menselijke tussenkomst", "automated decision",
                           "human intervention", "human review", "decision automatisee", "intervention humaine"),
    "restriction": ("beperking van de verwerking", "beperken van de verwerking", "restriction of processing",
                    "restrict the processing", "limitation du traitement", "limiter le traitement"),
}
ARTICLE_RIGHTS = {"15": "access", "16": "rectification", "17": "erasure", "18": "restriction",
                  "20": "portability", "21": "objection", "22": "automated_decision"}
_ARTICLE = re.compile(r"\b(?:art(?:ikel|icle|\.)?|article)\s*(1[5-8]|2[0-2])\b", re.IGNORECASE)
# A right is named in a negation or as something the writer does NOT ask: "geen bezwaar", "not delete".
_NEGATED = re.compile(r"\b(geen|niet|not|no|pas|ne)\s+(\w+\s+){0,2}$")


def find_rights(lines: Sequence[Line], known: Iterable[str]) -> list[Suggestion]:
    known = set(known)
    found: dict[str, Suggestion] = {}
    for line in lines:
        folded = _fold(line.text)
        for right, phrases in RIGHT_WORDS.items():
            if right not in known:
                continue
            for phrase in phrases:
                for m in re.finditer(r"(?<!\w)" + re.escape(phrase), folded):
                    if _NEGATED.search(folded[:m.start()]):
                        continue
                    hit = _suggest(line, m.start(), m.end(), right)
                    if right not in found or hit.confidence > found[right].confidence:
                        found[right] = hit
        for m in _ARTICLE.finditer(line.text):
            right = ARTICLE_RIGHTS[m.group(1)]
            if right in known:
                hit = _suggest(line, m.start(), m.end(), right)
                if right not in found or hit.confidence > found[right].confidence:
                    found[right] = hit
    order = list(ARTICLE_RIGHTS.values())
    return sorted(found.values(), key=lambda s: order.index(s.value))


# -------------------------------------------------------------------------------------- identifiers

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+\s?@\s?[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_POSTCODE_NL = re.compile(r"\b([1-9]\d{3})\s?([A-Z]{2})\b")
_CUSTOMER = re.compile(r"\b(1\d{7})\b")
_POLICY = re.compile(r"\b(HP\s?\d{9})\b", re.IGNORECASE)
_IMEI = re.compile(r"(?<![\d])(\d[\d \-]{13,20}\d)(?![\d])")
_IBAN = re.compile(r"\b([A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,4})?)\b")
_LABELS = {
    "customer_number": ("klantnummer", "customer number", "customer no", "numero de client", "n° de client",
                        "no de client", "numero client"),
    "policy_number": ("polisnummer", "policy number", "policy no", "numero de police", "n° de police"),
    "imei": ("imei", "serienummer", "serial number", "numero de serie"),
    "iban": ("iban", "rekeningnummer", "bank account", "compte bancaire"),
}


_JUNK = " !|:;,.'\"“”‘’„-_~*°"


def _text_value(line: Line, start: int, end: int) -> Suggestion:
    """A name, street or city as read, without the specks a scanner adds at its ends ("! Kerkstraat 12")."""
    raw = line.text[start:end]
    inner = raw.strip(_JUNK)
    offset = start + raw.find(inner) if inner else start
    return _suggest(line, offset, offset + len(inner), inner)


def _best(items: list[Suggestion]) -> Suggestion | None:
    return max(items, key=lambda s: s.confidence) if items else None


def _labelled(line: Line, name: str) -> bool:
    folded = _fold(line.text)
    return any(label in folded for label in _LABELS[name])


def find_email(lines: Sequence[Line]) -> Suggestion | None:
    hits = []
    for line in lines:
        for m in _EMAIL.finditer(line.text):
            value = m.group(0).replace(" ", "").strip(".").lower()
            if value.split("@")[1].endswith(("harmony.example", "harmony.nl")):
                continue  # Harmony's own address in the letter, not the writer's
            hits.append(_suggest(line, m.start(), m.end(), value))
    return hits[0] if hits else None


def find_phone(lines: Sequence[Line], region: str = "NL") -> Suggestion | None:
    hits = []
    for line in lines:
        for match in phonenumbers.PhoneNumberMatcher(line.text, region, leniency=phonenumbers.Leniency.VALID):
            value = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            digits = re.sub(r"\D", "", match.raw_string)
            if stdnum_imei.is_valid(digits) or _CUSTOMER.fullmatch(digits):
                continue
            hits.append(_suggest(line, match.start, match.end, value))
    return hits[0] if hits else None


def find_customer_number(lines: Sequence[Line]) -> Suggestion | None:
    hits = []
    for line in lines:
        for m in _CUSTOMER.finditer(line.text):
            hits.append(_suggest(line, m.start(1), m.end(1), m.group(1),
                                 factor=1.0 if _labelled(line, "customer_number") else 0.6))
    return _best(hits)


def find_policy_number(lines: Sequence[Line]) -> Suggestion | None:
    hits = []
    for line in lines:
        for m in _POLICY.finditer(line.text):
            hits.append(_suggest(line, m.start(1), m.end(1), m.group(1).replace(" ", "").upper()))
    return _best(hits)


def find_imei(lines: Sequence[Line]) -> Suggestion | None:
    hits = []
    for line in lines:
        for m in _IMEI.finditer(line.text):
            digits = re.sub(r"\D", "", m.group(1))
            if len(digits) in (15, 16) and stdnum_imei.is_valid(digits):
                hits.append(_suggest(line, m.start(1), m.end(1), stdnum_imei.compact(digits)))
    if hits:
        return _best(hits)
    # A serial number (letters and digits) only where the letter labels it as one.
    for line in lines:
        folded = _fold(line.text)
        if any(label in folded for label in ("serienummer", "serial number", "numero de serie")):
            m = re.search(r"[:\s]([A-Z0-9][A-Z0-9-]{5,39})\s*$", line.text)
            if m and re.search(r"\d", m.group(1)):
                return _suggest(line, m.start(1), m.end(1), m.group(1), factor=0.8)
    return None


def find_iban(lines: Sequence[Line]) -> Suggestion | None:
    for line in lines:
        for m in _IBAN.finditer(line.text.upper()):
            value = stdnum_iban.compact(m.group(1))
            if stdnum_iban.is_valid(value):
                return _suggest(line, m.start(1), m.end(1), value)
    return None


# ------------------------------------------------------------------------------------------- dates

MONTHS = {
    # nl
    "januari": 1, "februari": 2, "maart": 3, "april": 4, "mei": 5, "juni": 6, "juli": 7, "augustus": 8,
    "september": 9, "oktober": 10, "november": 11, "december": 12,
    # en
    "january": 1, "february": 2, "march": 3, "may": 5, "june": 6, "july": 7, "august": 8, "october": 10,
    # fr (accents folded)
    "janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7, "aout": 8,
    "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12,
}
_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
_DAY_MONTH_YEAR = re.compile(rf"\b(\d{{1,2}})(?:er|st|nd|rd|th)?\s+({_MONTH_NAMES})\s+(\d{{4}})\b")
_MONTH_DAY_YEAR = re.compile(rf"\b({_MONTH_NAMES})\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b")
_NUMERIC = re.compile(r"\b(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})\b")
_BIRTH = ("geboren", "geboortedatum", "date of birth", "born", "date de naissance", "ne le", "nee le")


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def find_letter_date(lines: Sequence[Line], *, today: date) -> Suggestion | None:
    """The date written on the letter: the first full date that is not a date of birth, not in the future."""
    for line in lines:
        folded = _fold(line.text)
        if any(b in folded for b in _BIRTH):
            continue
        candidates = []
        for m in _DAY_MONTH_YEAR.finditer(folded):
            candidates.append((m, _date(int(m.group(3)), MONTHS[m.group(2)], int(m.group(1)))))
        for m in _MONTH_DAY_YEAR.finditer(folded):
            candidates.append((m, _date(int(m.group(3)), MONTHS[m.group(1)], int(m.group(2)))))
        for m in _NUMERIC.finditer(folded):  # day first, as in Dutch, English (UK) and French letters
            candidates.append((m, _date(int(m.group(3)), int(m.group(2)), int(m.group(1)))))
        for m, value in sorted(candidates, key=lambda c: c[0].start()):
            if value and date(2000, 1, 1) <= value <= today:
                return _suggest(line, m.start(), m.end(), value.isoformat())
    return None


# ------------------------------------------------------------------------------- sender and signature

_CLOSINGS = ("met vriendelijke groet", "met vriendelijke groeten", "hoogachtend", "vriendelijke groet",
             "kind regards", "yours sincerely", "yours faithfully", "best regards", "sincerely",
             "cordialement", "veuillez agreer", "salutations distinguees", "bien a vous", "je vous prie d'agreer")
_ON_BEHALF = ("namens", "in naam van", "op verzoek van", "gemachtigde", "machtiging", "als wettelijk vertegenwoordiger",
              "on behalf of", "acting for", "power of attorney", "as the legal representative", "as guardian",
              "au nom de", "pour le compte de", "procuration", "mandataire", "en tant que representant")
_NAME = re.compile(r"^[A-ZÀ-ÝĀ-Ž][\w'’.-]+(?:\s+[\w'’.-]+){1,5}$")
_NOT_NAME = ("harmony", "privacy", "postbus", "straat", "weg ", "laan", "afdeling", "department", "service",
             "betreft", "subject", "objet", "geachte", "dear", "madame", "monsieur", "klantnummer", "policy")


def _looks_like_name(line: Line) -> bool:
    text = line.text.strip(_JUNK)
    if not _NAME.match(text) or any(ch.isdigit() for ch in text) or "@" in text:
        return False
    folded = _fold(text)
    return not any(word in folded for word in _NOT_NAME) and not any(c in folded for c in _CLOSINGS)


def find_sender(lines: Sequence[Line]) -> dict[str, Suggestion]:
    """Name, street, postcode and city from the sender's block at the top (the writer's own address).

    A typed letter opens with the writer's name and address; Harmony's address block follows. The first
    Dutch postcode whose block does not name Harmony is the sender's.
    """
    found: dict[str, Suggestion] = {}
    for i, line in enumerate(lines[:25]):
        m = _POSTCODE_NL.search(line.text)
        if not m or m.group(2) in ("SA", "SD", "SS"):
            continue
        block = lines[max(0, i - 3):i + 1]
        if any("harmony" in _fold(b.text) or "postbus" in _fold(b.text) for b in block):
            continue
        postcode = f"{m.group(1)} {m.group(2)}"
        found["postcode"] = _suggest(line, m.start(), m.end(), postcode)
        if line.text[m.end():].strip(_JUNK):
            found["city"] = _text_value(line, m.end(), len(line.text))
        if i >= 1 and re.search(r"\d", lines[i - 1].text):
            street = lines[i - 1]
            found["address"] = _text_value(street, 0, len(street.text))
            if i >= 2 and _looks_like_name(lines[i - 2]):
                name = lines[i - 2]
                found["name"] = _text_value(name, 0, len(name.text))
        break
    return found


def find_signature(lines: Sequence[Line]) -> Suggestion | None:
    """The name under the closing formula ("Met vriendelijke groet," / "Kind regards," / "Cordialement,")."""
    for i, line in enumerate(lines):
        folded = _fold(line.text)
        if any(c in folded for c in _CLOSINGS):
            for nxt in lines[i + 1:i + 4]:
                if _looks_like_name(nxt):
                    return _text_value(nxt, 0, len(nxt.text))
    return None


def find_on_behalf(lines: Sequence[Line]) -> Suggestion | None:
    for line in lines:
        folded = _fold(line.text)
        for phrase in _ON_BEHALF:
            pos = folded.find(phrase)
            if pos >= 0:
                return _suggest(line, pos, pos + len(phrase), phrase)
    return None


# ---------------------------------------------------------------------------------------- altogether


def read_request(words: Sequence[Word], *, language: str | None, language_confidence: float, today: date,
                 rights: Iterable[str] = tuple(ARTICLE_RIGHTS.values())) -> Reading:
    """Everything a staff member would look for in a posted request, as suggestions."""
    lines = lines_of(words)
    reading = Reading(language=language, language_confidence=language_confidence)
    reading.rights = find_rights(lines, rights)
    fields: dict[str, Suggestion | None] = dict(find_sender(lines))
    signature = find_signature(lines)
    if "name" not in fields and signature is not None:
        fields["name"] = signature
    fields["email"] = find_email(lines)
    fields["phone"] = find_phone(lines)
    fields["customer_number"] = find_customer_number(lines)
    fields["policy_number"] = find_policy_number(lines)
    fields["imei"] = find_imei(lines)
    fields["iban"] = find_iban(lines)
    fields["letter_date"] = find_letter_date(lines, today=today)
    reading.fields = {name: fields[name] for name in FIELD_NAMES if fields.get(name) is not None}
    reading.on_behalf = find_on_behalf(lines)
    if reading.on_behalf and signature is not None and "name" in reading.fields \
            and signature.value != reading.fields["name"].value:
        # Signed by someone on behalf of another: the sender block may be the representative's; keep the
        # subject's name only when the letter names it apart. Staff decide; lower the confidence.
        current = reading.fields["name"]
        reading.fields["name"] = Suggestion(current.value, current.confidence * 0.7, current.box, current.evidence)
    return reading
