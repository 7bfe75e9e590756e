"""The suppression list's arithmetic: normalise an identifier, then hash it with the installation's key.

Art. 21(3): once a subject objects to direct marketing, their data "shall no longer be processed for such
purposes". Deleting the subscription is not enough: Harmony's marketing imports (a partner's list, a web
form export) would subscribe them again. So the subject goes on a *suppression list* that imports are
checked against. The list must not itself become a marketing-usable copy of the addresses, so it keeps only
a keyed hash: HMAC-SHA256 with an installation secret (``SUPPRESSION_SALT``, see ``config.py``). A plain
SHA-256 of an e-mail address is reversible by anyone with a list of addresses; an HMAC is not without the
key, which lives outside the database.

The same value must always give the same digest, so identifiers are normalised first:

* e-mail: whitespace removed, lower-cased (``" Zoe@Example.NL "`` and ``"zoe@example.nl"`` are one);
* phone: E.164 (``"010 123 4567"`` with the default region NL is ``"+31101234567"``), via ``phonenumbers``;
* customer number: whitespace removed, upper-cased (``"hc 1234567"`` is ``"HC1234567"``).

The kind is part of what is hashed, so an e-mail and a customer number never share a digest. Changing the
salt makes every stored digest unmatchable; :func:`key_id` is a short fingerprint of the salt stored with
each entry, so the check can notice and refuse instead of silently letting everyone through.

Pure: ``hmac``, ``hashlib`` and ``phonenumbers``; no Flask, no SQLAlchemy.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers

DEFAULT_REGION = "NL"
KEY_ID_LENGTH = 16
MAX_IDENTIFIER_LENGTH = 320  # the longest e-mail address RFC 5321 allows, with room for its quirks


class IdentifierKind(enum.StrEnum):
    """The identifiers a marketing import can carry and the suppression list can hold."""

    EMAIL = "email"
    PHONE = "phone"
    CUSTOMER_NUMBER = "customer_number"


class BadIdentifier(ValueError):
    """A value that cannot be normalised as the kind it was given as (it can then match nothing)."""


def normalise_email(value: str) -> str:
    """Whitespace removed, Unicode-normalised and case-folded. The local part is case-sensitive in theory
    (RFC 5321), but no mail system Harmony uses treats it so, and an import that changed the case must still
    be caught."""
    # One spelling per address, whatever system typed it: Unicode NFC ("ë" as one character or as "e" plus
    # a diaeresis), case-folded, and an internationalised domain in its ASCII (IDNA) form, so that
    # a@bücher.nl and a@xn--bcher-kva.nl are the same address.
    text = unicodedata.normalize("NFC", "".join(str(value).split())).casefold()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain or len(text) > MAX_IDENTIFIER_LENGTH:
        raise BadIdentifier(f"not an e-mail address: {len(text)} characters without a local part and a domain")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise BadIdentifier("not an e-mail address: the domain is not a valid internationalised name") from exc
    return f"{local}@{domain}"


def normalise_phone(value: str, region: str = DEFAULT_REGION) -> str:
    """E.164; a number without a country code is read as Dutch (Harmony's customers are mostly Dutch)."""
    try:
        number = phonenumbers.parse(str(value), region)
    except phonenumbers.NumberParseException as exc:
        raise BadIdentifier("not a telephone number") from exc
    if not phonenumbers.is_possible_number(number):
        raise BadIdentifier("not a possible telephone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_customer_number(value: str) -> str:
    text = "".join(str(value).split()).upper()
    if not text or len(text) > MAX_IDENTIFIER_LENGTH:
        raise BadIdentifier("not a customer number")
    return text


_NORMALISERS = {
    IdentifierKind.EMAIL: normalise_email,
    IdentifierKind.PHONE: normalise_phone,
    IdentifierKind.CUSTOMER_NUMBER: normalise_customer_number,
}


def normalise(kind: IdentifierKind, value: str) -> str:
    """The canonical form of ``value`` as an identifier of ``kind``; :class:`BadIdentifier` if it is none."""
    if value is None or not str(value).strip():
        raise BadIdentifier("empty")
    return _NORMALISERS[IdentifierKind(kind)](value)


def _key(salt: str | bytes) -> bytes:
    key = salt.encode() if isinstance(salt, str) else bytes(salt)
    if not key:
        raise ValueError("the suppression list needs a non-empty SUPPRESSION_SALT")
    return key


def digest(kind: IdentifierKind, value: str, salt: str | bytes) -> str:
    """HMAC-SHA256 (hex) of the normalised identifier, keyed with the installation's salt."""
    message = f"{IdentifierKind(kind).value}:{normalise(kind, value)}".encode()
    return hmac.new(_key(salt), message, hashlib.sha256).hexdigest()


def key_id(salt: str | bytes) -> str:
    """A short fingerprint of the salt, stored with each entry: it tells which salt an entry was made with
    without revealing the salt (an HMAC of a fixed text)."""
    return hmac.new(_key(salt), b"dsr suppression list key id", hashlib.sha256).hexdigest()[:KEY_ID_LENGTH]


@dataclass(frozen=True)
class Identifier:
    """One identifier of a subject, already normalised; ``value`` never leaves the process."""

    kind: IdentifierKind
    value: str

    def digest(self, salt: str | bytes) -> str:
        return digest(self.kind, self.value, salt)


def identifiers(pairs: Iterable[tuple[IdentifierKind | str, object]]) -> list[Identifier]:
    """``(kind, raw value)`` pairs as normalised, de-duplicated identifiers; empty and unusable values are
    left out (a malformed phone number on a record cannot be matched by anything anyway)."""
    seen: dict[tuple[IdentifierKind, str], Identifier] = {}
    for kind, raw in pairs:
        if raw is None:
            continue
        try:
            kind = IdentifierKind(kind)
            value = normalise(kind, str(raw))
        except (BadIdentifier, ValueError):
            continue
        seen.setdefault((kind, value), Identifier(kind, value))
    return sorted(seen.values(), key=lambda i: (i.kind.value, i.value))
