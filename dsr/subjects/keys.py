"""The normalised search keys of a subject's identifiers: pure functions, shared by the search, the hook that
keeps the keys in step and the data migration that made them for existing subjects.

Every identifier is compared without case, spaces, dots, dashes or slashes ("1234 ab" = "1234AB" = "1234.AB");
e-mail addresses in lower case; phone numbers in international form (+31612345678 for "06-1234 5678");
names without accents and case, as every word-suffix run together ("Zoë van den Broeck" gives
"zoevandenbroeck", "vandenbroeck", "denbroeck", "broeck"), so a prefix finds a first name, a surname or a
full name typed with or without spaces.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from dsr.domain.enums import SearchKind

KEY_LENGTH = 254
# The subject's attribute for each kind of identifier key (names are handled apart).
IDENTIFIER_FIELDS = {
    SearchKind.CUSTOMER_NUMBER: "customer_number",
    SearchKind.POLICY_NUMBER: "policy_number",
    SearchKind.DEVICE: "device_id",
    SearchKind.POSTCODE: "postcode",
}
SEARCHED_FIELDS = ("name", "email", "phone", *IDENTIFIER_FIELDS.values())
_WORD = re.compile(r"[^\W_]+")
_PHONE_CHARS = re.compile(r"^\+?[\d\s().\-/]{6,}$")


def identifier_key(value: str | None) -> str | None:
    """Upper case, letters and digits only ("hc 123-45" -> "HC12345"); ``None`` when nothing is left."""
    if not value:
        return None
    return "".join(ch for ch in value.upper() if ch.isalnum())[:KEY_LENGTH] or None


def name_words(value: str) -> list[str]:
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _WORD.findall(stripped.casefold())


def name_keys(name: str | None) -> list[str]:
    """Every word-suffix of the name, run together: what a name search matches by prefix."""
    words = name_words(name or "")
    return list(dict.fromkeys("".join(words[i:])[:KEY_LENGTH] for i in range(len(words))))


def email_key(value: str | None) -> str | None:
    value = (value or "").strip().lower()
    return value[:KEY_LENGTH] if "@" in value else None


def phone_key(value: str | None, region: str = "NL") -> str | None:
    """The number in E.164 form when it parses (a Dutch one without country code too), else its digits."""
    if not value or not _PHONE_CHARS.match(value.strip()):
        return None
    import phonenumbers

    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_possible_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    digits = "".join(ch for ch in value if ch.isdigit())
    return digits or None


def subject_keys(fields: Mapping[str, str | None]) -> set[tuple[SearchKind, str]]:
    """The (kind, key) pairs of one subject, from its attributes by name."""
    keys = {(SearchKind.NAME, k) for k in name_keys(fields.get("name"))}
    for kind, attribute in IDENTIFIER_FIELDS.items():
        key = identifier_key(fields.get(attribute))
        if key:
            keys.add((kind, key))
    email = email_key(fields.get("email"))
    if email:
        keys.add((SearchKind.EMAIL, email))
    phone = phone_key(fields.get("phone"))
    if phone:
        keys.add((SearchKind.PHONE, phone))
    return keys


def query_keys(q: str) -> tuple[set[tuple[SearchKind, str]], str | None]:
    """What a search box entry may be: exact (kind, key) pairs, and the name prefix to look for (if any)."""
    exact: set[tuple[SearchKind, str]] = set()
    ident = identifier_key(q)
    if ident:
        exact.update((kind, ident) for kind in IDENTIFIER_FIELDS)
    email = email_key(q)
    if email:
        exact.add((SearchKind.EMAIL, email))
    phone = phone_key(q)
    if phone:
        exact.add((SearchKind.PHONE, phone))
    prefix = "".join(name_words(q))[:KEY_LENGTH] or None
    return exact, prefix


def prefix_bounds(prefix: str) -> tuple[str, str]:
    """[low, high) holding exactly the strings that start with ``prefix`` (a range an index can scan)."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def reference_candidates(q: str, years: Iterable[int]) -> list[str]:
    """The case references a search may mean: "DSR-2026-00042" in any spacing or case, "dsr 2026 42",
    or a bare number (42 or 00042), which may be that number in any year."""
    text = q.strip().upper()
    m = re.fullmatch(r"DSR[\s\-./]*(\d{4})[\s\-./]*(\d{1,5})", text)
    if m:
        return [f"DSR-{m.group(1)}-{int(m.group(2)):05d}"]
    if text.isdigit() and len(text) <= 5 and int(text) > 0:
        return [f"DSR-{year}-{int(text):05d}" for year in years]
    return []
