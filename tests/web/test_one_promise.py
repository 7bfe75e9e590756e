"""One promise (issue 16.6, 14.7): Harmony's 4-week promise is one date everywhere, the last working day on or
before receipt + 28 days (+ paused days): case page, queue, API, letters, escalation report; a paused case's
header says paused; the declared days page and the dashboard's warning.

Worked by hand. A request received on Saturday 31 October 2026: + 28 days is Saturday 28 November 2026, so
the answer goes out by Friday 27 November. On Saturday 28 November (the frozen day below) it is past the
promise although the 28th day itself has not passed; the legal deadline is Monday 30 November.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from pypdf import PdfReader

from dsr.auth.models import User
from dsr.cases import timing
from dsr.cases.models import Case
from dsr.domain.enums import Role
from dsr.extensions import db
from dsr.letters.kinds import LetterKind, LetterLanguage
from dsr.letters.operations import render_letter
from tests.factories import make_case
from tests.web.support import make_users_of_every_role, signed_in, text_of

SATURDAY = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
RECEIVED = date(2026, 10, 31)


@pytest.fixture
def app(backend_app):
    return backend_app


@pytest.fixture
def reference(app) -> str:
    with app.app_context():
        users = make_users_of_every_role()
        return make_case(actor=users[Role.STAFF], received_on=RECEIVED, name="Bram Promise",
                         now=datetime(2026, 11, 2, 9, tzinfo=UTC), today=date(2026, 11, 2)).reference


def _promise_text(html: str) -> str:
    text = text_of(html)
    return text[text.index("Harmony's promise"):text.index("Legal deadline")]


def test_every_page_states_the_promise_as_the_working_day_before_it(app, reference):
    with time_machine.travel(SATURDAY, tick=False):
        manager = signed_in(app, Role.PRIVACY_MANAGER)
        promise = _promise_text(manager.get(f"/cases/{reference}").get_data(as_text=True))
        assert promise.startswith("Harmony's promise: Friday, 27 November 2026 (past)"), promise
        assert "= 28 November 2026" in promise and "Saturday" in promise

        queue = text_of(manager.get("/cases?q=Bram").get_data(as_text=True))
        row = queue[queue.index(reference):]
        assert re.match(rf"{reference} Bram Promise .*? 31 Oct 2026 27 Nov 2026 30 Nov 2026", row), row[:200]

        report = manager.get("/reports/escalations?format=csv").get_data(as_text=True)
        rows = [r for r in csv.DictReader(io.StringIO(report.lstrip("\ufeff"))) if reference in r.values()]
        # The row's kind, not the subject's name ("Bram Promise") that the report now carries.
        missed = [r for r in rows if r["kind"] == "promise_missed"]
        assert missed and "2026-11-27" in " ".join(missed[0].values()), rows
        dashboard = text_of(manager.get("/dashboard").get_data(as_text=True))
        assert "1 case past Harmony’s 4-week promise" in dashboard

    with time_machine.travel(datetime(2026, 11, 27, 10, tzinfo=UTC), tick=False):
        # On the Friday itself it is not past yet: the case page and the report agree.
        manager = signed_in(app, Role.PRIVACY_MANAGER)
        promise = _promise_text(manager.get(f"/cases/{reference}").get_data(as_text=True))
        assert "(past)" not in promise
        report = manager.get("/reports/escalations?format=csv").get_data(as_text=True)
        assert not [r for r in csv.DictReader(io.StringIO(report.lstrip("\ufeff")))
                    if reference in r.values() and r["kind"] == "promise_missed"]


def test_the_api_keeps_promised_on_and_adds_promise_answer_by(app, reference):
    with app.app_context():
        from dsr.auth.operations import issue_api_token

        staff = db.session.execute(db.select(User).where(User.role == Role.STAFF)).scalars().first()
        token = issue_api_token(staff, actor=None, now=SATURDAY)
        db.session.commit()
    with time_machine.travel(SATURDAY, tick=False):
        body = app.test_client().get(f"/api/v1/cases/{reference}",
                                     headers={"Authorization": f"Bearer {token}"}).get_json()
    assert (body["promised_on"], body["promise_answer_by"]) == ("2026-11-28", "2026-11-27")


def test_the_acknowledgement_never_promises_a_weekend(app, reference):
    with app.app_context(), time_machine.travel(datetime(2026, 11, 2, 9, tzinfo=UTC), tick=False):
        case = db.session.execute(db.select(Case).where(Case.reference == reference)).scalar_one()
        texts = {}
        for lang in ("nl", "en", "fr"):
            made = render_letter(case, LetterKind.ACKNOWLEDGEMENT, LetterLanguage(lang), today=date(2026, 11, 2))
            texts[lang] = " ".join(" ".join((p.extract_text() or "").split())
                                   for p in PdfReader(io.BytesIO(made.pdf)).pages)
    assert "uiterlijk op 27 november 2026" in texts["nl"] and "28 november" not in texts["nl"]
    assert "no later than 27 November 2026" in texts["en"] and "28 November" not in texts["en"]
    assert "au plus tard le 27 novembre 2026" in texts["fr"] and "28 novembre" not in texts["fr"]
    # The Dutch text says "uiterlijk op" for the extension notice too, as the law means (no "vóór").
    assert "vóór" not in texts["nl"]


def test_a_paused_case_says_paused_in_its_header_and_the_queue(app, reference):
    with app.app_context():
        case = db.session.execute(db.select(Case).where(Case.reference == reference)).scalar_one()
        staff = db.session.execute(db.select(User).where(User.role == Role.STAFF)).scalars().first()
        timing.request_information(case, reason="Which policy?", requested_on=date(2026, 11, 3), actor=staff,
                                   now=datetime(2026, 11, 3, 9, tzinfo=UTC), today=date(2026, 11, 3))
        db.session.commit()
    with time_machine.travel(datetime(2026, 11, 5, 10, tzinfo=UTC), tick=False):
        client = signed_in(app, Role.STAFF)
        html = client.get(f"/cases/{reference}").get_data(as_text=True)
        header = text_of(html[:html.index("Audit trail")])
        assert "clock paused since 3 Nov 2026" in header, header
        assert "on track" not in header and "left" not in header
        queue = text_of(client.get("/cases?q=Bram").get_data(as_text=True))
        row = queue[queue.index(reference):]
        assert "paused" in row and "on track" not in row and "days left" not in row


def test_managers_keep_the_declared_days_others_only_read_them(app):
    with app.app_context():
        make_users_of_every_role()
    manager = signed_in(app, Role.PRIVACY_MANAGER)
    page = text_of(manager.get("/declared-days/").get_data(as_text=True))
    assert "Friday, 7 May 2027 Friday after Ascension Day" in page
    assert "No declared day is recorded" not in page

    added = manager.post("/declared-days/", data={"day": "2029-05-11", "name": "Friday after Ascension Day",
                                                  "source": "Stcrt. 2028, 1"}, follow_redirects=True)
    assert added.status_code == 200
    assert "2029-05-11 added as a day declared equal to a public holiday." in text_of(added.get_data(as_text=True))
    bad = manager.post("/declared-days/", data={"day": "2029-05-12", "name": "A Saturday"})
    assert bad.status_code == 400
    assert "Saturday or Sunday" in text_of(bad.get_data(as_text=True))

    for role in (Role.STAFF, Role.AUDITOR):
        other = signed_in(app, role)
        page = other.get("/declared-days/")
        assert page.status_code == 200 and "Add a declared day" not in page.get_data(as_text=True)
        assert other.post("/declared-days/", data={"day": "2029-05-18", "name": "x"}).status_code == 403
        assert other.post("/declared-days/2029-05-11/remove").status_code == 403

    removed = manager.post("/declared-days/2029-05-11/remove", follow_redirects=True)
    assert "2029-05-11 (Friday after Ascension Day) removed." in text_of(removed.get_data(as_text=True))


def test_the_dashboard_warns_when_no_decree_covers_next_year(app):
    with app.app_context():
        make_users_of_every_role()
    with time_machine.travel(datetime(2026, 12, 7, 10, tzinfo=UTC), tick=False):
        page = text_of(signed_in(app, Role.PRIVACY_MANAGER).get("/dashboard").get_data(as_text=True))
        assert "No decree covers" not in page
    with time_machine.travel(datetime(2028, 9, 4, 10, tzinfo=UTC), tick=False):
        page = text_of(signed_in(app, Role.PRIVACY_MANAGER).get("/dashboard").get_data(as_text=True))
        assert "No decree covers 2029" in page


def test_the_title_for_the_salutation_is_taken_at_intake_and_through_the_api(app):
    from dsr.subjects.models import DataSubject
    from tests.web.support import intake_data

    with app.app_context():
        make_users_of_every_role()
    staff = signed_in(app, Role.STAFF)
    assert 'name="title"' in staff.get("/cases/new").get_data(as_text=True)
    response = staff.post("/cases/new", data=intake_data(title="ms", name="Anna de Wit", email="anna@example.nl",
                                                         customer_number="HC7654321"))
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    bad = staff.post("/cases/new", data=intake_data(title="dr", name="Bert Bad", email="bert@example.nl",
                                                    customer_number="HC7654322"))
    assert bad.status_code == 400
    with app.app_context():
        from dsr.domain.enums import SubjectTitle

        anna = db.session.execute(db.select(DataSubject).where(DataSubject.name == "Anna de Wit")).scalar_one()
        assert anna.title is SubjectTitle.MS
        assert db.session.execute(db.select(DataSubject).where(DataSubject.name == "Bert Bad")).first() is None
