"""Identifiers for the demo systems that pass the checks a real system would apply.

IMEIs carry a Luhn check digit and IBANs carry valid ISO 7064 mod 97-10 check digits, both computed with
python-stdnum rather than by hand (STYLE.md §10), so that any validation dsr applies to what a subject
writes in a letter ("my phone with IMEI ...", "the account NL..") also accepts the demo data. Belgian
IBANs additionally carry the national check digits and a known bank code, as ``stdnum.be.iban`` demands.

Customer, policy, claim and invoice numbers follow Harmony-style formats; they are derived from running
sequence numbers so they are unique without a retry loop.
"""

from __future__ import annotations

import random

from stdnum import iban, luhn

# Type Allocation Codes (first 8 digits of an IMEI) of common phone models; the rest is random.
_TACS = ("35332811", "35391110", "35925406", "35467311", "86891203", "35209610", "35730919", "35875310")
_NL_BANKS = ("ABNA", "INGB", "RABO", "SNSB", "TRIO", "ASNB", "KNAB", "BUNQ", "RBRB")
_BE_BANKS = ("001", "363", "735", "068", "310", "083", "645")
_GB_BANKS = ("NWBK", "BARC", "LOYD", "HBUK", "MIDL")


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def imei(rng: random.Random) -> str:
    """A 15-digit IMEI: TAC, 6-digit serial, Luhn check digit."""
    body = rng.choice(_TACS) + _digits(rng, 6)
    return body + luhn.calc_check_digit(body)


def _with_check_digits(country: str, bban: str) -> str:
    return country + iban.calc_check_digits(country + "00" + bban) + bban


def bank_account(rng: random.Random, country: str) -> str:
    """An IBAN for an account held in ``country`` (NL, BE or GB), compact form."""
    if country == "BE":
        bank = rng.choice(_BE_BANKS)
        national = bank + _digits(rng, 7)
        # The Belgian national check (stdnum.be.iban): the account number mod 97, where 0 counts as 97.
        bban = national + f"{int(national) % 97 or 97:02d}"
    elif country == "GB":
        bban = rng.choice(_GB_BANKS) + _digits(rng, 14)
    else:
        bban = rng.choice(_NL_BANKS) + _digits(rng, 10)
    return _with_check_digits(country, bban)


def serial_number(rng: random.Random) -> str:
    return "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(12))


def customer_number(seq: int) -> str:
    return f"{10_000_000 + seq * 7:08d}"


def policy_number(seq: int) -> str:
    return f"HP{300_000_000 + seq * 13:09d}"


def claim_number(seq: int, year: int) -> str:
    return f"SCH-{year}-{seq:06d}"


def settlement_number(seq: int, year: int) -> str:
    return f"AFH-{year}-{seq:06d}"


def invoice_number(seq: int, year: int) -> str:
    return f"F{year}{seq:08d}"


def recording_ref(seq: int, year: int) -> str:
    return f"REC-{year}-{seq:07d}"

