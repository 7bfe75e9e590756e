"""What must be settled before a case may complete: a registry the features fill, the workflow reads.

Each feature registers a check (``register("rectification", check)``) when its module is imported; a
check takes the case and today's date (or ``None``: judge no dates) and returns the :class:`Obligation`
values still open on it, none when the feature has nothing to say about the case.
:func:`dsr.cases.lifecycle.complete` refuses while an obligation that may not be overridden is open (and
while any is open, unless a privacy manager gives the reason to override), the case page's completion
checklist (:mod:`dsr.cases.checklist`) shows them and the letters wait for them, all without the workflow
importing a feature (in the spirit of indico's signals, without the library).

An obligation is structured: a stable ``key`` (``"rectification.corrections_pending"``) that pages, letters
and tests can refer to, the ``message`` written for the person (translated when it was made), and whether a
privacy manager may override it (``overridable``): complete the case with the obligation still open.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

from dsr.cases.models import Case


class Obligation(str):
    """One thing still open on a case that stands between it and its completion.

    It is its ``message`` (a ``str``), so pages, letters and error messages that show the sentence keep
    working; ``key`` and ``overridable`` say which obligation it is and whether a manager may override it.
    """

    key: str
    overridable: bool

    def __new__(cls, key: str, message: str, overridable: bool = False) -> Obligation:
        self = super().__new__(cls, message)
        self.key, self.overridable = key, overridable
        return self

    @property
    def message(self) -> str:
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"Obligation({self.key!r}, {self.message!r}, overridable={self.overridable!r})"

    def as_dict(self) -> dict:
        """For the API and the UI's checklist: ``{"key", "message", "overridable"}``."""
        return {"key": self.key, "message": self.message, "overridable": self.overridable}


Check = Callable[[Case, date | None], Iterable[Obligation]]

_CHECKS: dict[str, tuple[int, Check]] = {}


def register(feature: str, check: Check, *, order: int = 100) -> Check:
    """Declare ``check`` as ``feature``'s; registering the same feature again replaces its check (reloads).

    ``order`` places the feature's obligations in the list (lower first), whatever the import order was.
    """
    _CHECKS[feature] = (order, check)
    return check


def registered() -> tuple[str, ...]:
    return tuple(name for name, _ in sorted(_CHECKS.items(), key=lambda item: (item[1][0], item[0])))


def open_obligations(case: Case, *, today: date | None = None, features: Iterable[str] | None = None,
                     exclude: Iterable[str] = ()) -> list[Obligation]:
    """Every obligation open on the case, feature by feature in registration order; ``features`` limits
    the answer to those features (the letters ask only about what their kind reports on), ``exclude``
    leaves some out. ``today`` is for checks that depend on the date (a mandate that expired); without it
    they do not judge dates."""
    wanted = None if features is None else set(features)
    skipped = set(exclude)
    return [o for name in registered() if (wanted is None or name in wanted) and name not in skipped
            for o in _CHECKS[name][1](case, today)]

