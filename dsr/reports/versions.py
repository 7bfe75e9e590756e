"""What the dashboard's figures were computed from, read in one cheap statement, and the per-process caches
keyed by it (issue 15, item 3).

Every operation that changes state appends an audit event (:func:`dsr.audit.operations.record`), and every
append moves the chain's head, the single ``audit_head`` row, under a row lock held until the transaction
commits. The head's hash and event count therefore change with every committed change, in commit order, and
every process sees them: figures computed after reading the head are at least as new as it, so figures kept
under a head that is still the newest are still right. gunicorn's workers each keep their own copy; none
assumes it is the only one. The newest case id and the declared days ride along, so cases written without
an event (a bulk load) or a declared day kept by hand refresh the figures too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

import sqlalchemy as sa

from dsr.audit.models import AuditHead
from dsr.cases.models import Case, DeclaredHoliday
from dsr.extensions import db

T = TypeVar("T")


def data_version() -> tuple:
    """The database and its state of changes: the audit chain's head (hash, events), the newest case id and
    the declared days (how many, the last), in one statement of primary-key and index look-ups."""
    head = AuditHead.__table__
    row = db.session.execute(sa.select(
        sa.select(head.c.last_hash).where(head.c.id == 1).scalar_subquery(),
        sa.select(head.c.events).where(head.c.id == 1).scalar_subquery(),
        sa.select(sa.func.max(Case.id)).scalar_subquery(),
        sa.select(sa.func.count()).select_from(DeclaredHoliday).scalar_subquery(),
        sa.select(sa.func.max(DeclaredHoliday.day)).scalar_subquery(),
    )).one()
    return (str(db.engine.url), *(str(value) for value in row))


class Cache:
    """A few values per process by key, the oldest dropped first: keys carry everything a value depends on,
    so an entry is never invalidated, only left behind when its key is no longer asked for."""

    def __init__(self, size: int):
        self.size = size
        self.values: dict[Hashable, object] = {}
        # The embedded server and a threaded worker serve requests in threads of one process: the entries
        # change under a lock (computing one does not hold it; two threads may both compute a missing one).
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self.values:
                return self.values[key]  # type: ignore[return-value]
        value = compute()
        with self._lock:
            while len(self.values) >= self.size:
                self.values.pop(next(iter(self.values)))
            self.values[key] = value
        return value

    def clear(self) -> None:
        with self._lock:
            self.values.clear()


class Newest:
    """The newest value per key, kept per process: :meth:`put` keeps a value unless one at least as new (by
    ``order``) is kept already. For what is brought up to date rather than computed again (the open cases'
    facts, event by event)."""

    def __init__(self) -> None:
        self.values: dict[Hashable, tuple[int, object]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[int, object] | None:
        """``(order, value)`` kept for ``key``, or ``None``."""
        return self.values.get(key)

    def put(self, key: Hashable, order: int, value: object) -> None:
        with self._lock:
            current = self.values.get(key)
            if current is None or current[0] < order:
                self.values[key] = (order, value)

    def clear(self) -> None:
        with self._lock:
            self.values.clear()


# The dashboard's figures hold every open case's facts (thousands at 100,000 cases): a few versions only.
FIGURES = Cache(4)
# The escalation report and the facts it was computed from, per version, thresholds and language: a few.
REPORTS = Cache(6)
# Monthly figures by version and by their own fingerprint, charts by the values they draw: small.
SMALL = Cache(64)
# One month's answered-case figures by that month's own fingerprint: twelve a dashboard, a few generations.
MONTH_FIGURES = Cache(48)
# The open cases' facts per database and language as of an audit event, brought up to date by the events since
# (dsr.reports.data.kept_open_facts), and the escalation report last made per database and language (the
# next one takes the items of the cases whose facts are the same objects from it).
OPEN_FACTS = Newest()
EARLIER_REPORTS = Newest()
# The months' fingerprints per database and window, as of an audit event (dsr.reports.dashboard.kept_fingerprints).
FINGERPRINTS = Newest()


def forget() -> None:
    """Drop every cached figure and chart (the test suite calls this when it wipes the database, which no
    event records)."""
    FIGURES.clear()
    REPORTS.clear()
    SMALL.clear()
    MONTH_FIGURES.clear()
    OPEN_FACTS.clear()
    EARLIER_REPORTS.clear()
    FINGERPRINTS.clear()
