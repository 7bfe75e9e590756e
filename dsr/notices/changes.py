"""Which data a case changed, per kind of change: the registry the rights fill and Art. 19 reads.

A right that changes the subject's data registers a :class:`Change`: its ``key`` ("rectified", "erased",
"restricted"), the :class:`~dsr.domain.enums.Right` whose cases owe notices of it, ``places``, a function
giving the ``(source, collection)`` pairs of the records this case changed so far, and optionally ``named``,
a function giving the recipients those records named themselves (``{statement recipient id: [names]}``,
read from fields the data map marks ``dsr.recipient``: "Risk bearer: Maasstad ..." rather than only "the
risk bearer"). The recipients to notify are those of exactly that data
(:func:`dsr.notices.operations.relevant_recipients`), one notice per name where the records named some
(:func:`named_recipients`); notices are owed once any registered change has places on a case that requests
its right (:func:`notices_required`). The notices feature imports none of the rights that register here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dsr.cases.models import Case
from dsr.domain.enums import Right

Places = Callable[[Case], set[tuple[str, str]]]
Named = Callable[[Case], dict[str, list[str]]]


@dataclass(frozen=True)
class Change:
    key: str
    right: Right
    places: Places
    named: Named | None = None
    heading: str | None = None  # the notices card's title on a case of this right alone (a lazy string)


_CHANGES: dict[str, Change] = {}


def register_change(key: str, *, right: Right, places: Places, named: Named | None = None,
                    heading: str | None = None) -> Change:
    """Declare that cases requesting ``right`` change data, found by ``places(case)``; Art. 19 then applies.
    ``named(case)``: the recipients the changed records name, per statement recipient (optional);
    ``heading``: the title of the notices card on a case that requests only this right (optional)."""
    change = Change(key, right, places, named, heading)
    _CHANGES[key] = change
    return change


def changes() -> tuple[Change, ...]:
    return tuple(_CHANGES[k] for k in sorted(_CHANGES))


def notice_rights() -> tuple[Right, ...]:
    """The rights whose cases may owe Art. 19 notices (rectification, erasure, and what registers next)."""
    return tuple(dict.fromkeys(c.right for c in changes()))


def changes_of(case: Case) -> tuple[Change, ...]:
    """The registered changes whose right this case requests."""
    return tuple(c for c in changes() if c.right in case.right_values)


def owes_notices(case: Case) -> bool:
    """A case that requests a right that changes data: Art. 19 may apply to it."""
    return any(r in case.right_values for r in notice_rights())


def changed_records(case: Case) -> set[tuple[str, str]]:
    """``(source, collection)`` of everything this case changed in Harmony's systems, of every kind."""
    return {place for change in changes() for place in change.places(case)}


def notices_required(case: Case) -> bool:
    """Art. 19 is owed once something was changed under a right the case requests: an applied correction,
    an erased record, a restricted one."""
    return any(c.right in case.right_values and c.places(case) for c in changes())


def named_recipients(case: Case) -> dict[str, list[str]]:
    """``{statement recipient id: [names]}`` the records this case changed named, over every kind of change."""
    found: dict[str, set[str]] = {}
    for change in changes():
        for rid, names in (change.named(case) if change.named else {}).items():
            found.setdefault(rid, set()).update(n for n in names if n)
    return {rid: sorted(names) for rid, names in sorted(found.items())}
