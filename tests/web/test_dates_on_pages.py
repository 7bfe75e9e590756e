"""One date format per kind on every page (issue 16, item 9): dates as "6 Dec 2026" ("6 dec 2026",
"6 déc. 2026"), moments with their time, never an ambiguous numeric date such as "05/01/2027" nor a raw ISO
date in the visible text (a date input's value is not visible text).

The pages of the demo data (every state, pauses, extensions, tasks, searches, completions), read as the
privacy manager, staff and the auditor in English, Dutch and French.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
import time_machine
from flask import render_template_string
from flask_babel import force_locale

from dsr.auth.models import User
from dsr.cases.models import Case
from dsr.demo.loader import DEMO_USERS, load_demo
from dsr.extensions import db
from dsr.timeutil import format_day, format_moment, moment_formatter
from tests.conftest import NOW, TODAY
from tests.web.support import text_of

NUMERIC = re.compile(r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b")
ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?")
LOGINS = {"manager@harmony.example": "manager", "staff@harmony.example": "staff",
          "auditor@harmony.example": "auditor"}
PAGES = ["/cases", "/cases?state=closed", "/dashboard", "/reports/escalations", "/triage", "/declared-days/",
         "/users/", "/users/logins", "/preferences", "/account/tokens", "/cases/new"]


@pytest.fixture(scope="module")
def demo(_apps):
    app = _apps("sqlite")
    with time_machine.travel(NOW, tick=False), app.app_context():
        load_demo(now=NOW, today=TODAY)
        cases = db.session.execute(sa.select(Case)).scalars().all()
        chosen: dict[str, str] = {}
        for case in cases:  # one case of every state, and one with each of the things that carry dates
            chosen.setdefault(case.state.value, case.reference)
            if case.paused_since is not None or case.pauses:
                chosen.setdefault("paused", case.reference)
            if case.extended_at is not None:
                chosen.setdefault("extended", case.reference)
    yield app, sorted(set(chosen.values()))
    from tests.conftest import _wipe

    _wipe(app)


def _visible(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return text_of(html)


def _pages(references: list[str]) -> list[str]:
    return PAGES + [p for ref in references for p in (f"/cases/{ref}", f"/cases/{ref}/audit")]


@pytest.mark.parametrize("locale", ["en", "nl", "fr"])
@pytest.mark.parametrize("email", list(LOGINS))
def test_no_ambiguous_or_raw_dates_on_any_page(demo, locale, email):
    app, references = demo
    with time_machine.travel(NOW, tick=False):
        with app.app_context():
            db.session.execute(sa.update(User).where(User.email == email).values(locale=locale))
            db.session.commit()
        client = app.test_client()
        password = {e: p for e, _n, _r, p in DEMO_USERS}[email]
        response = client.post("/login", data={"email": email, "password": password})
        assert response.status_code == 302, "the demo login failed"
        found: dict[str, list[str]] = {}
        read = 0
        for path in _pages(references):
            response = client.get(path)
            if response.status_code in (302, 403):
                continue  # not this role's page
            assert response.status_code == 200, path
            read += 1
            text = _visible(response.get_data(as_text=True))
            # The audit trail keeps each event's raw before/after (issue 16, item 8): its dates stay ISO there.
            bad = NUMERIC.findall(text) + ([] if path.endswith("/audit") else ISO.findall(text))
            if bad:
                found[path] = sorted(set(bad))[:5]
        assert read >= 10
        assert found == {}, "\n".join(f"{p}: {v}" for p, v in found.items())


def test_the_formats_per_kind(app):
    moment = datetime(2027, 1, 5, 12, 40, tzinfo=UTC)  # 13:40 in Amsterdam
    expected = {"en_GB": ("5 Jan 2027", "5 Jan 2027, 13:40", "Tuesday, 5 January 2027"),
                "nl": ("5 jan 2027", "5 jan 2027, 13:40", "dinsdag 5 januari 2027"),
                "fr": ("5 janv. 2027", "5 janv. 2027, 13:40", "mardi 5 janvier 2027")}
    with app.test_request_context():
        for locale, (day, when, weekday) in expected.items():
            with force_locale(locale):
                assert format_day(date(2027, 1, 5)) == day
                assert format_moment(moment) == when
                # Bound once for a page's many moments, in the locale in force when bound.
                assert moment_formatter()(moment) == when
                assert moment_formatter()(moment.replace(tzinfo=None)) == when  # naive: UTC, as format_moment
                assert moment_formatter()(None) == ""
                assert format_day(date(2027, 1, 5), "weekday") == weekday
                assert format_day(moment) == day  # a moment's local calendar date
                # A numeric pattern is not a kind: the date is shown as every date is; Flask-Babel's own
                # filters, which a template might still use, give the same.
                assert format_day(date(2027, 1, 5), "dd/MM/y") == day
                page = render_template_string("{{ d|day('short') }}|{{ m|datetimeformat('short') }}|"
                                              "{{ d|dateformat('short') }}|{{ m|moment }}", d=date(2027, 1, 5), m=moment)
                assert page == f"{day}|{when}|{day}|{when}"
