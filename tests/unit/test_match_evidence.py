"""The evidence shown before "this is the person" (issue 16, item 7): same values in full, others masked."""

from __future__ import annotations

from datetime import date

from dsr.fulfilment.evidence import compare, mask


def test_a_value_that_differs_is_masked_and_one_that_matches_is_shown():
    case = {"name": "Hélène de Vries", "date_of_birth": date(1980, 5, 1), "postcode": "1011 AB",
            "email": "H.deVries@example.nl", "customer_number": "10010108", "policy_number": None}
    record = {"name": "helene  DE vries", "date_of_birth": date(1980, 1, 5), "postcode": "1011ab",
              "email": "h.devries@example.nl", "customer_number": "10010109", "policy_number": "HP300025428"}
    rows = {c.identity: c for c in compare(case, record)}
    assert rows["name"].outcome == "same" and rows["name"].found_value == "Hélène de Vries"
    assert rows["postcode"].outcome == "same"  # spaces and case do not count
    assert rows["email"].outcome == "same"
    assert (rows["date_of_birth"].outcome, rows["date_of_birth"].found_value) == ("differs", "1••••••••5")
    assert (rows["customer_number"].outcome, rows["customer_number"].found_value) == ("differs", "1••••••9")
    # The record holds a policy number the case does not: shown masked, never in full.
    assert (rows["policy_number"].outcome, rows["policy_number"].found_value) == ("not on case", "H•••••••••8")
    assert "10010109" not in repr(rows) and "HP300025428" not in repr(rows)


def test_an_identifier_the_record_does_not_hold_is_left_out():
    rows = compare({"name": "A B", "email": "a@b.nl"}, {"email": "a@b.nl"})
    assert [c.identity for c in rows] == ["email"]


def test_short_values_are_fully_masked():
    assert mask("AB") == "••"
    assert mask("ABC") == "A•C"
