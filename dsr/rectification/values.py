"""Which fields of the data map can be corrected, and what a typed corrected value must look like.

Art. 16 is about *inaccurate* personal data, so only fields holding data about the person are offered:
fields with a ``user.*`` category that are not keys. Keys are left out because they are not facts about
the person that can be wrong, and because changing them would cut records loose from each other: primary
keys, fields that refer to other records, identifiers Harmony assigns (``user.unique_id``: customer and
policy numbers, survey tokens) and fields the data map marks ``read_only``. Password hashes
(``user.authorization``) are not corrected either: the portal resets a password, a letter does not.

A typed value is checked by what the field holds, with the libraries the intake form uses (STYLE.md §10):
e-mail addresses with ``email-validator`` (syntax only, no DNS on the closed network), phone numbers with
``phonenumbers`` (stored as E.164), Dutch postcodes and IBANs with ``python-stdnum``; dates, numbers and
yes/no by the column's type; text no longer than the column. Values are kept as JSON (dates as ISO text).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers
import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.nl import postcode as nl_postcode

from dsr.datamap.sources import Collection, Erase, Field
from dsr.fulfilment.access import plain_value

VALUE_MAX = 2000
_NOT_CORRECTED = ("user.unique_id", "user.authorization")


class Kind(enum.StrEnum):
    TEXT = "text"
    EMAIL = "email"
    PHONE = "phone"
    POSTCODE = "postcode"
    IBAN = "iban"
    DATE = "date"
    DATETIME = "datetime"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"


class BadValue(ValueError):
    """A typed value that does not fit the field; the message is written for the person who typed it."""


def _has(fld: Field, prefix: str) -> bool:
    return any(c == prefix or c.startswith(prefix + ".") for c in fld.categories)


def correctable(coll: Collection, fld: Field) -> bool:
    """Personal data that is not a key, an assigned identifier, a read-only field or a password."""
    row_deleted = any(f.erase is Erase.DELETE_ROW for f in coll.fields)
    read_only = fld.erase is Erase.NONE and not row_deleted
    return (_has(fld, "user") and not fld.primary_key and not fld.references and not read_only
            and not any(_has(fld, c) for c in _NOT_CORRECTED))


def correctable_fields(coll: Collection) -> list[Field]:
    return [f for f in coll.fields if correctable(coll, f)]


def kind_of(fld: Field, column: sa.Column | None = None) -> Kind:
    """What the field holds: from its categories first (an e-mail is a string column too), then its type."""
    if _has(fld, "user.contact.email") or fld.identity == "email":
        return Kind.EMAIL
    if _has(fld, "user.contact.phone_number"):
        return Kind.PHONE
    if _has(fld, "user.contact.address.postal_code"):
        return Kind.POSTCODE
    if _has(fld, "user.financial.bank_account") and "iban" in fld.name.lower():
        return Kind.IBAN
    python_type = None
    if column is not None:
        try:
            python_type = column.type.python_type
        except NotImplementedError:
            python_type = None
    if python_type is None:
        return Kind.DATE if _has(fld, "user.demographic.date_of_birth") else Kind.TEXT
    for kind, types in ((Kind.DATETIME, datetime), (Kind.DATE, date), (Kind.BOOLEAN, bool),
                        (Kind.INTEGER, int), (Kind.DECIMAL, (Decimal, float))):
        if issubclass(python_type, types):
            return kind
    return Kind.TEXT


def to_json(value: Any) -> Any:
    """A source's value as the JSON column keeps it (and as it is compared later): the same plain form the
    access answer gives it (ISO dates, decimals as text, bytes as hex)."""
    return plain_value(value)


def from_json(value: Any, column: sa.Column) -> Any:
    """A kept value as the column's Python type again, to bind it in a statement."""
    if value is None:
        return None
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return value
    try:
        if issubclass(python_type, datetime):
            return datetime.fromisoformat(value)
        if issubclass(python_type, date):
            return date.fromisoformat(value)
        if issubclass(python_type, Decimal):
            return Decimal(str(value))
    except (TypeError, ValueError):
        return value
    return value


def parse(text: str, kind: Kind, *, fld: Field, max_length: int | None = None, country: str | None = None,
          today: date) -> Any:
    """The corrected value as it is stored, from what staff typed; :class:`BadValue` says what is wrong."""
    text = (text or "").strip()
    if not text:
        raise BadValue(_("Type the corrected value. Removing a value altogether is erasure (Art. 17)."))
    if any(ord(c) < 32 for c in text):
        raise BadValue(_("The value contains a control character."))
    if len(text) > VALUE_MAX:
        raise BadValue(_("A value has at most %(n)d characters.", n=VALUE_MAX))
    value: Any = text
    if kind is Kind.EMAIL:
        try:
            value = validate_email(text, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise BadValue(_("This is not a valid e-mail address: %(reason)s", reason=str(exc))) from None
    elif kind is Kind.PHONE:
        try:
            number = phonenumbers.parse(text, (country or "NL").upper())
        except phonenumbers.NumberParseException:
            raise BadValue(_("This is not a phone number.")) from None
        if not phonenumbers.is_valid_number(number):
            raise BadValue(_("This phone number is not valid for its country."))
        value = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    elif kind is Kind.POSTCODE and (country or "NL").upper() == "NL":
        try:
            value = nl_postcode.validate(text)
        except StdnumValidationError:
            raise BadValue(_("A Dutch postcode has four digits and two letters, e.g. 3001 AL.")) from None
    elif kind is Kind.IBAN:
        try:
            value = stdnum_iban.validate(text)
        except StdnumValidationError:
            raise BadValue(_("This is not a valid IBAN (the check digits do not match).")) from None
    elif kind is Kind.DATE:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise BadValue(_("Type a date as YYYY-MM-DD.")) from None
        if _has(fld, "user.demographic.date_of_birth") and (day > today or day.year < 1900):
            raise BadValue(_("A date of birth lies between 1900 and today."))
        value = day.isoformat()
    elif kind is Kind.DATETIME:
        try:
            value = datetime.fromisoformat(text).isoformat()
        except ValueError:
            raise BadValue(_("Type a date and time as YYYY-MM-DD HH:MM.")) from None
    elif kind is Kind.INTEGER:
        try:
            value = int(text)
        except ValueError:
            raise BadValue(_("Type a whole number.")) from None
    elif kind is Kind.DECIMAL:
        try:
            value = str(Decimal(text.replace(",", ".")))
        except InvalidOperation:
            raise BadValue(_("Type a number.")) from None
    elif kind is Kind.BOOLEAN:
        answers = {"yes": True, "true": True, "1": True, "ja": True, "no": False, "false": False, "0": False,
                   "nee": False}
        if text.lower() not in answers:
            raise BadValue(_("Type yes or no."))
        value = answers[text.lower()]
    if isinstance(value, str) and max_length is not None and len(value) > max_length:
        raise BadValue(_("This field holds at most %(n)d characters.", n=max_length))
    return value


def shown(value: Any) -> str:
    """A kept value as the card and the letters show it: empty for nothing, yes/no for booleans."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
