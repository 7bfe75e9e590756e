"""The queue's search finds a case by any identifier, normalised, through indexed keys (issue 15 item 3,
issue 16 item 5), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from dsr.cases.queries import QueueFilters, queue_query
from dsr.domain.enums import Role, SearchKind
from dsr.extensions import db
from dsr.subjects.keys import name_keys, phone_key, query_keys, reference_candidates
from dsr.subjects.models import SubjectSearchKey
from dsr.subjects.search import rebuild_search_keys
from tests.conftest import TODAY
from tests.factories import make_case, make_user


def _found(q: str) -> list[str]:
    stmt = queue_query(QueueFilters.from_args({"state": "all", "q": q}), TODAY)
    return [c.reference for c in db.session.execute(stmt).scalars()]


@pytest.fixture
def two_cases(ctx):
    staff = make_user(Role.STAFF)
    zoe = make_case(actor=staff, name="Zoë Van den Broeck", email="Zoe.Broeck@Example.nl", phone="06-1234 5678",
                    customer_number="HC 123-4567", policy_number="HP-555123", device_id="35-209900-176148-1",
                    postcode="3011 AD")
    other = make_case(actor=staff, name="Jean-Luc Dupont", email="jl@example.be", phone="+32 470 12 34 56",
                      customer_number="HC7654321", policy_number="HP-999", device_id="SN-ABC.123",
                      postcode="1000", date_of_birth=None)
    return zoe.reference, other.reference


@pytest.mark.parametrize("q", [
    "Zoë Van den Broeck", "zoe van den broeck", "ZOEVANDENBROECK", "van den broeck", "Broeck", "broe", "zoë",
    "hc1234567", "HC 123 4567", "hc.123.4567",  # customer number
    "hp555123", "HP-555123",  # policy number
    "zoe.broeck@example.nl", " ZOE.BROECK@EXAMPLE.NL ",  # e-mail
    "0612345678", "+31 6 12345678", "06 1234 5678", "0031612345678",  # phone
    "352099001761481", "35 209900 176148 1",  # IMEI
    "3011AD", "3011 ad", "3011.AD",  # postcode
])
def test_every_identifier_finds_the_case_in_any_spelling(two_cases, q):
    zoe, other = two_cases
    found = _found(q)
    assert zoe in found
    assert other not in found


def test_reference_in_any_spelling_and_by_number(two_cases):
    zoe, other = two_cases
    number = int(zoe.rsplit("-", 1)[1])
    assert _found(zoe.lower()) == [zoe]
    assert _found(zoe.replace("-", " ")) == [zoe]
    assert _found(str(number)) == [zoe]
    assert _found(f"{number:05d}") == [zoe]


def test_other_identifiers_of_the_other_case(two_cases):
    zoe, other = two_cases
    for q in ("Jean-Luc", "jeanluc", "luc dupont", "dupont", "+32 470 123456", "sn abc 123", "SNABC123", "hc7654321"):
        assert _found(q) == [other], q


def test_no_match_and_no_partial_identifier_match(two_cases):
    assert _found("Nobody Atall") == []
    assert _found("HC12345") == []  # an identifier matches whole, not as a prefix
    assert _found("roeck") == []  # names match from the start of a word


def test_keys_follow_changes_to_the_subject(two_cases):
    zoe, _other = two_cases
    from dsr.cases.models import Case

    case = db.session.execute(sa.select(Case).where(Case.reference == zoe)).scalar_one()
    case.subject.email = "new@example.org"
    case.subject.name = "Zoë Janssens"
    db.session.commit()
    assert _found("new@example.org") == [zoe]
    assert _found("janssens") == [zoe]
    assert _found("zoe.broeck@example.nl") == []
    assert _found("van den broeck") == []
    assert _found("HC1234567") == [zoe]  # unchanged identifiers stay findable


def test_rebuilding_the_keys_gives_what_the_operations_wrote(two_cases):
    def keys():
        return sorted(db.session.execute(
            sa.select(SubjectSearchKey.subject_id, SubjectSearchKey.kind, SubjectSearchKey.key)).all())

    written = keys()
    assert written
    rebuild_search_keys(db.session.connection())
    assert keys() == written


def test_key_functions():
    assert name_keys("Zoë  Van den Broeck") == ["zoevandenbroeck", "vandenbroeck", "denbroeck", "broeck"]
    assert name_keys("O'Brien-Smith") == ["obriensmith", "briensmith", "smith"]
    assert phone_key("06-1234 5678") == phone_key("+31612345678") == "+31612345678"
    assert phone_key("not a phone") is None
    exact, prefix = query_keys("3011 ad")
    assert (SearchKind.POSTCODE, "3011AD") in exact
    assert prefix == "3011ad"
    assert reference_candidates("dsr 2026 42", range(2025, 2027)) == ["DSR-2026-00042"]
    assert reference_candidates("42", range(2025, 2027)) == ["DSR-2025-00042", "DSR-2026-00042"]
    assert reference_candidates("broeck", range(2025, 2027)) == []
