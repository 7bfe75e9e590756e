"""The checks every operation on a case makes first: the actor's role, the case still open, its version.

Operations of every feature (lifecycle, timing, rectification, objection, erasure, letters, exports ...)
import these from here; the role sets themselves are defined once in :mod:`dsr.auth.roles` and re-exported
so an operation needs one import line.
"""

from __future__ import annotations

from flask_babel import gettext as _

from dsr.auth.models import User
from dsr.auth.roles import MANAGERS, READERS, ROLE_NAMES, WRITERS
from dsr.cases.errors import NotAllowed, RuleViolation, StaleCase
from dsr.cases.labels import STATE_LABELS
from dsr.cases.models import Case
from dsr.domain.enums import CLOSED_STATES, Role

__all__ = ["MANAGERS", "READERS", "WRITERS", "check_version", "require_open", "require_role"]


def require_role(actor: User | None, *roles: Role, what: str) -> None:
    """``None`` is the system (a job or a CLI command run by an operator) and may do anything."""
    if actor is not None and actor.role not in roles:
        names = _(" or ").join(str(ROLE_NAMES[r]) for r in roles)
        raise NotAllowed(_("Only a %(roles)s may %(what)s.", roles=names, what=what))


def check_version(case: Case, expected_version: int | None) -> None:
    """Refuse to act on a case that changed since the person's page was rendered (no lost updates)."""
    if expected_version is not None and case.version != expected_version:
        raise StaleCase(case, expected_version)


def require_open(case: Case, what: str) -> None:
    """Refuse to change a case that is decided (completed, refused, withdrawn, closed)."""
    if case.state in CLOSED_STATES:
        raise RuleViolation(_("Cannot %(what)s: %(ref)s is %(state)s.", what=what, ref=case.reference,
                              state=STATE_LABELS[case.state]))
