"""Adding and removing the days declared equal to public holidays (Algemene termijnenwet art. 3(3)).

The government declares such days by decree every few years (so far the Friday after Ascension Day every
year, and other bridge days after a Thursday holiday); they are data, shipped for 2023-2028 in a migration
and kept up to date here by the privacy managers, on a page or with ``dsr declared-days``. A declared day
moves legal deadlines (Regulation 1182/71 art. 3(4)), so every change recomputes the stored deadlines of
the open cases in the same transaction and says how many moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from dsr.audit.operations import record
from dsr.cases.deadlines import apply_deadlines, forget_calendar, working_calendar
from dsr.cases.errors import InvalidInput, RuleViolation
from dsr.cases.guards import require_role
from dsr.cases.models import Case, DeclaredHoliday
from dsr.domain.calendar_nl import WorkingDayCalendar
from dsr.domain.enums import Role
from dsr.extensions import db

NAME_MAX = 200
SOURCE_MAX = 300


@dataclass(frozen=True)
class Change:
    day: date
    name: str
    moved: tuple[str, ...]  # references of the open cases whose stored deadlines moved


def declared_days() -> list[DeclaredHoliday]:
    return list(db.session.execute(sa.select(DeclaredHoliday).order_by(DeclaredHoliday.day)).scalars())


def uncovered_year(today: date) -> int | None:
    """The next calendar year when no declared day is recorded for it, else ``None``.

    Every decree so far declared at least the Friday after Ascension Day (a Thursday) for each year it
    covers, so a year without any declared day means its decree has not been entered (or not published).
    """
    year = today.year + 1
    found = db.session.execute(sa.select(sa.func.count()).select_from(DeclaredHoliday)
                               .where(DeclaredHoliday.day >= date(year, 1, 1),
                                      DeclaredHoliday.day <= date(year, 12, 31))).scalar_one()
    return None if found else year


def recompute_open_cases() -> tuple[str, ...]:
    """Recompute the stored deadlines of every open case with the current calendar; the references that moved."""
    forget_calendar()
    calendar = working_calendar()
    moved = []
    cases = db.session.execute(sa.select(Case).options(selectinload(Case.pauses))
                               .where(Case.closed_at.is_(None)).order_by(Case.reference)).scalars()
    for case in cases:
        before = (case.promised_on, case.legal_due_on, case.extended_due_on)
        apply_deadlines(case, calendar)
        if (case.promised_on, case.legal_due_on, case.extended_due_on) != before:
            moved.append(case.reference)
    return tuple(moved)


def add_declared_day(day: date, name: str, source: str = "", *, actor, now: datetime) -> Change:
    """Record a day the government declared equal to a public holiday (Atw art. 3(3)) and move the deadlines."""
    require_role(actor, Role.PRIVACY_MANAGER, what=_("keep the declared days"))
    name, source = (name or "").strip(), (source or "").strip()
    if not name:
        raise InvalidInput(_("Give the day a name, such as “Friday after Ascension Day”."), "name")
    if len(name) > NAME_MAX:
        raise InvalidInput(_("The name may be at most %(n)s characters.", n=NAME_MAX), "name")
    if len(source) > SOURCE_MAX:
        raise InvalidInput(_("The source may be at most %(n)s characters.", n=SOURCE_MAX), "source")
    if day.weekday() >= 5:
        raise InvalidInput(_("%(day)s is a Saturday or Sunday, never a working day: a decree declares only "
                             "working days equal to public holidays.", day=day.isoformat()), "day")
    statutory = WorkingDayCalendar().holiday_name(day)
    if statutory is not None:
        raise InvalidInput(_("%(day)s is already a public holiday (%(name)s).", day=day.isoformat(),
                             name=statutory), "day")
    if db.session.get(DeclaredHoliday, day) is not None:
        raise RuleViolation(_("%(day)s is already recorded as a declared day.", day=day.isoformat()))
    db.session.add(DeclaredHoliday(day=day, name=name, source=source))
    db.session.flush()
    moved = recompute_open_cases()
    record("calendar.declared_day_added", actor=actor, now=now,
           after={"day": day, "name": name, "source": source, "cases_moved": list(moved)})
    return Change(day, name, moved)


def remove_declared_day(day: date, *, actor, now: datetime) -> Change:
    """Remove a declared day entered by mistake; the open cases' deadlines move back."""
    require_role(actor, Role.PRIVACY_MANAGER, what=_("keep the declared days"))
    row = db.session.get(DeclaredHoliday, day)
    if row is None:
        raise InvalidInput(_("%(day)s is not recorded as a declared day.", day=day.isoformat()), "day")
    before = {"day": row.day, "name": row.name, "source": row.source}
    db.session.delete(row)
    db.session.flush()
    moved = recompute_open_cases()
    record("calendar.declared_day_removed", actor=actor, now=now, before=before,
           after={"cases_moved": list(moved)})
    return Change(day, before["name"], moved)


def recompute_deadlines(*, actor, now: datetime) -> tuple[str, ...]:
    """Recompute the open cases' stored deadlines, e.g. after the extended-deadline setting changed."""
    require_role(actor, Role.PRIVACY_MANAGER, what=_("recompute deadlines"))
    moved = recompute_open_cases()
    if moved:
        record("calendar.deadlines_recomputed", actor=actor, now=now, after={"cases_moved": list(moved)})
    return moved
