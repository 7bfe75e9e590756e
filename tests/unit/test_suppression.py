"""The suppression list's arithmetic (GDPR Art. 21(3)): normalisation, the keyed hash, and the salt's config.

No database: :mod:`dsr.suppression.identifiers` is pure, and ``config.from_environment`` is a function of its
environment. What is stored is tested in tests/integration/test_objection.py.
"""

from __future__ import annotations

import hashlib
import hmac
import stat

import pytest

from config import ConfigError, from_environment
from dsr.suppression.commands import guess_kind
from dsr.suppression.identifiers import (
    BadIdentifier,
    Identifier,
    IdentifierKind,
    digest,
    identifiers,
    key_id,
    normalise,
    normalise_customer_number,
    normalise_email,
    normalise_phone,
)

SALT = "a-test-salt-of-enough-length"
EMAIL, PHONE, CUSTOMER = IdentifierKind.EMAIL, IdentifierKind.PHONE, IdentifierKind.CUSTOMER_NUMBER


# -- normalisation ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("given", ["zoe@example.nl", "ZOE@EXAMPLE.NL", "  Zoe@Example.nl\t", "zoe@example.nl\n",
                                   " z o e@example.nl "])
def test_an_email_is_lower_cased_and_stripped(given):
    assert normalise_email(given) == "zoe@example.nl"


@pytest.mark.parametrize("given", ["", "   ", "zoe", "zoe@", "@example.nl", "x" * 400 + "@example.nl"])
def test_what_is_not_an_email_is_refused(given):
    with pytest.raises(BadIdentifier):
        normalise(EMAIL, given)


@pytest.mark.parametrize(("given", "e164"), [
    ("010 123 4567", "+31101234567"),
    ("+31 10 123 4567", "+31101234567"),
    ("0031101234567", "+31101234567"),
    ("(010) 123-4567", "+31101234567"),
    ("+32 470 12 34 56", "+32470123456"),
    ("+44 20 7946 0958", "+442079460958"),
])
def test_a_phone_number_becomes_e164_read_as_dutch_without_a_country_code(given, e164):
    assert normalise_phone(given) == e164


@pytest.mark.parametrize("given", ["not a number", "12", "+31 1"])
def test_what_is_not_a_phone_number_is_refused(given):
    with pytest.raises(BadIdentifier):
        normalise(PHONE, given)


@pytest.mark.parametrize("given", ["HC1234567", " hc1234567 ", "HC 123 4567", "hc1234567\n"])
def test_a_customer_number_is_stripped_and_upper_cased(given):
    assert normalise_customer_number(given) == "HC1234567"


# -- the keyed hash ---------------------------------------------------------------------------------------

def test_the_digest_is_hmac_sha256_of_kind_and_normalised_value_with_the_salt():
    expected = hmac.new(SALT.encode(), b"email:zoe@example.nl", hashlib.sha256).hexdigest()
    assert digest(EMAIL, " ZOE@example.NL ", SALT) == expected
    assert len(expected) == 64


def test_every_spelling_of_one_identifier_gives_one_digest():
    assert len({digest(EMAIL, v, SALT) for v in ("zoe@example.nl", "ZOE@EXAMPLE.NL", " Zoe@Example.nl ")}) == 1
    assert digest(PHONE, "010 123 4567", SALT) == digest(PHONE, "+31101234567", SALT)


def test_different_salts_give_different_digests_and_key_ids():
    other = "another-salt-of-enough-length"
    assert digest(EMAIL, "zoe@example.nl", SALT) != digest(EMAIL, "zoe@example.nl", other)
    assert key_id(SALT) != key_id(other) and len(key_id(SALT)) == 16
    assert key_id(SALT) == key_id(SALT.encode())


def test_the_digest_is_not_a_plain_hash_and_reveals_nothing_of_the_value():
    value = "zoe@example.nl"
    d = digest(EMAIL, value, SALT)
    assert d not in (hashlib.sha256(value.encode()).hexdigest(), hashlib.sha256(b"email:" + value.encode()).hexdigest())
    assert "zoe" not in d and SALT not in d and SALT[:8] not in key_id(SALT)


def test_the_kind_is_part_of_the_digest():
    assert digest(EMAIL, "a1@b.nl", SALT) != digest(CUSTOMER, "a1@b.nl", SALT)


def test_an_empty_salt_is_refused():
    with pytest.raises(ValueError, match="SUPPRESSION_SALT"):
        digest(EMAIL, "zoe@example.nl", "")


def test_identifiers_are_normalised_deduplicated_and_unusable_ones_left_out():
    found = identifiers([(EMAIL, "Zoe@Example.nl"), ("email", " zoe@example.nl"), (PHONE, "010 123 4567"),
                         (PHONE, "not a number"), (CUSTOMER, None), (CUSTOMER, ""), ("customer_number", "hc1")])
    assert found == [Identifier(CUSTOMER, "HC1"), Identifier(EMAIL, "zoe@example.nl"),
                     Identifier(PHONE, "+31101234567")]


@pytest.mark.parametrize(("column", "kind"), [
    ("email", EMAIL), ("E-mail", EMAIL), ("Email address", EMAIL), ("mailadres", EMAIL),
    ("phone", PHONE), ("Telefoonnummer", PHONE), ("customer_number", CUSTOMER), ("Klantnummer", CUSTOMER),
    ("mailing_topic", None), ("name", None), ("consent", None),
])
def test_the_import_check_guesses_a_column_only_from_a_name_that_says_what_it_holds(column, kind):
    assert guess_kind(column) is kind


# -- the salt in the configuration (as SECRET_KEY: tests/integration/test_config.py) ----------------------

def test_without_a_salt_one_is_generated_once_kept_0600_and_reused(tmp_path):
    first = from_environment(tmp_path, env={"SECRET_KEY": "k"})["SUPPRESSION_SALT"]
    path = tmp_path / "suppression_salt"
    assert path.read_text().strip() == first and len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert from_environment(tmp_path, env={"SECRET_KEY": "k"})["SUPPRESSION_SALT"] == first
    assert first != from_environment(tmp_path, env={})["SECRET_KEY"]  # its own secret, not the session key


def test_an_explicit_salt_is_used_and_nothing_is_written(tmp_path):
    cfg = from_environment(tmp_path, env={"SECRET_KEY": "k", "SUPPRESSION_SALT": "from-the-environment-1"})
    assert cfg["SUPPRESSION_SALT"] == "from-the-environment-1"
    assert not (tmp_path / "suppression_salt").exists()


def test_production_requires_a_salt(tmp_path):
    with pytest.raises(ConfigError, match="SUPPRESSION_SALT"):
        from_environment(tmp_path, env={"DSR_ENV": "production", "SECRET_KEY": "s3cret"})
    assert not (tmp_path / "suppression_salt").exists()
    cfg = from_environment(tmp_path, env={"DSR_ENV": "production", "SECRET_KEY": "s3cret",
                                          "SUPPRESSION_SALT": "a-long-random-production-salt"})
    assert cfg["SUPPRESSION_SALT"] == "a-long-random-production-salt"


def test_a_short_salt_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="16 characters"):
        from_environment(tmp_path, env={"SECRET_KEY": "k", "SUPPRESSION_SALT": "short"})


@pytest.mark.parametrize("spelling", [
    "zoe\u0308@example.nl",            # e + combining diaeresis (NFD)
    "ZOË@EXAMPLE.NL",
    " zoë@example.nl ",
])
def test_one_address_in_other_unicode_spellings_is_the_same_identifier(spelling):
    from dsr.suppression.identifiers import normalise_email

    assert normalise_email(spelling) == normalise_email("zo\u00eb@example.nl")


def test_an_internationalised_domain_matches_its_ascii_form():
    from dsr.suppression.identifiers import normalise_email

    assert normalise_email("a@bücher.nl") == normalise_email("A@xn--bcher-kva.NL") == "a@xn--bcher-kva.nl"
