"""What an audit payload keeps of a value (dsr.audit.operations.jsonable)."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime

from dsr.audit.operations import jsonable
from dsr.domain.enums import Channel, Right


class Level(enum.IntEnum):
    HIGH = 3


def test_plain_values_are_kept_and_the_others_made_plain():
    assert jsonable({"a": "x", "b": 1, "c": 1.5, "d": True, "e": None}) == {"a": "x", "b": 1, "c": 1.5, "d": True,
                                                                           "e": None}
    # An enum of strings or numbers is a str or an int, and is kept by its value, as a plain str or int.
    kept = jsonable({"channel": Channel.EMAIL, "level": Level.HIGH, "rights": [Right.ACCESS, Right.ERASURE]})
    assert kept == {"channel": "email", "level": 3, "rights": ["access", "erasure"]}
    assert type(kept["channel"]) is str and type(kept["level"]) is int
    assert jsonable({1: date(2026, 1, 5), "at": datetime(2026, 1, 5, 9, 30, tzinfo=UTC)}) == {
        "1": "2026-01-05", "at": "2026-01-05T09:30:00+00:00"}
    assert jsonable({"b", "a"}) == ["a", "b"] and jsonable(("x", Channel.POST)) == ["x", "post"]
