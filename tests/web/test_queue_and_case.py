"""The case queue and the case page (issue 2, acceptance 7).

The clock is frozen on Thursday 26 November 2026 (Amsterdam), so days left and the on-track / due soon /
overdue badges are exact. Legal deadlines of the cases below (Art. 12(3), Regulation 1182/71 art. 3):

    received      legal deadline            days left   status
    2026-09-01    Thu 1 October             (closed)
    2026-10-20    Fri 20 November           -6          overdue
    2026-10-26    Thu 26 November            0          due soon (due today)
    2026-10-28    Sat 28 Nov -> Mon 30 Nov   4          due soon
    2026-11-03    Thu 3 December             7          due soon (the last day of "soon")
    2026-11-04    Fri 4 December             8          on track
    2026-11-20    Sun 20 Dec -> Mon 21 Dec  25          on track
"""

from __future__ import annotations

import random
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from dsr.auth.models import User
from dsr.cases.models import Case
from dsr.domain.enums import CaseState, Channel, Right, Role
from dsr.extensions import db
from tests.conftest import NOW
from tests.factories import login, make_case, make_user
from tests.web.support import date_pattern, flashes, intake_data, png_bytes, queue_rows, text_of, with_file


@pytest.fixture
def app(backend_app):
    """The web tests of this module run on SQLite and on PostgreSQL."""
    return backend_app


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


# letter: (name, customer number, received on, rights, channel, state, assignee key)
CASES = {
    "C": ("Jan de Vries", "HC1000003", date(2026, 11, 20), (Right.PORTABILITY, Right.ACCESS), Channel.PHONE,
          CaseState.IDENTITY_CHECK, "other"),
    "A": ("Zoë Van den Broeck", "HC1000001", date(2026, 10, 20), (Right.ACCESS,), Channel.POST,
          CaseState.IN_PROGRESS, "staff"),
    "F": ("Pieter Jansen", "HC1000006", date(2026, 11, 4), (Right.RECTIFICATION,), Channel.PARTNER,
          CaseState.RECEIVED, None),
    "E": ("Closed Person", "HC1000005", date(2026, 9, 1), (Right.ACCESS,), Channel.POST, CaseState.CLOSED, None),
    "D": ("Marie Dubois", "HC1000004", date(2026, 10, 26), (Right.OBJECTION,), Channel.WEB, CaseState.RECEIVED,
          None),
    "G": ("Grace Hopper", "HC.2024/77", date(2026, 11, 3), (Right.ERASURE, Right.OBJECTION), Channel.POST,
          CaseState.RECEIVED, None),
    "B": ("Çelik", "HC1000002", date(2026, 10, 28), (Right.ERASURE,), Channel.EMAIL, CaseState.RECEIVED, None),
}
EXPECTED_ORDER = ["E", "A", "D", "B", "G", "F", "C"]
EXPECTED_CLOCK = {"A": (-6, "overdue"), "D": (0, "due_soon"), "B": (4, "due_soon"), "G": (7, "due_soon"),
                  "F": (8, "on_track"), "C": (25, "on_track"), "E": (None, None)}


def _arrange(case: Case, state: CaseState, assignee: User | None) -> None:
    """Put a case in a state and give it an assignee for the queue to filter on.

    Set directly: the queue only reads these columns, and this test is about reading them, not about the
    operations that move a case (they have their own tests).
    """
    case.assignee = assignee
    case.state = state
    if state is CaseState.CLOSED:
        case.closed_at = NOW


@pytest.fixture
def queue(app, client):
    """Seven cases (see the module docstring); the staff user is logged in."""
    with app.app_context():
        staff = make_user(Role.STAFF)
        other = make_user(Role.STAFF, email="other@harmony.test")
        make_user(Role.AUDITOR)
        refs = {}
        for letter, (name, customer, received, rights, channel, state, who) in CASES.items():
            case = make_case(actor=staff, name=name, customer_number=customer, received_on=received,
                             rights=rights, channel=channel, email=f"{letter.lower()}@example.nl",
                             policy_number=f"HP-{letter}")
            _arrange(case, state, {"staff": staff, "other": other, None: None}[who])
            db.session.commit()
            refs[letter] = case.reference
        ids = {"staff": staff.id, "other": other.id}
    login(client, Role.STAFF)
    return {"refs": refs, "ids": ids}


def _letters(queue, response) -> list[str]:
    assert response.status_code == 200
    by_ref = {ref: letter for letter, ref in queue["refs"].items()}
    return [by_ref[row["reference"]] for row in queue_rows(response.get_data(as_text=True))]


def test_queue_is_sorted_by_legal_deadline_with_days_left_and_status(client, queue):
    response = client.get("/cases", query_string={"state": "all"})
    rows = queue_rows(response.get_data(as_text=True))
    assert _letters(queue, response) == EXPECTED_ORDER
    for letter, row in zip(EXPECTED_ORDER, rows, strict=True):
        assert (row["days_left"], row["status"]) == EXPECTED_CLOCK[letter], letter
    words = {letter: text_of(row["html"]) for letter, row in zip(EXPECTED_ORDER, rows, strict=True)}
    assert "overdue" in words["A"] and "6 days late" in words["A"]
    assert "due today" in words["D"] and "overdue" not in words["D"]
    assert "due soon" in words["B"] and "4 days left" in words["B"]
    assert "on track" in words["C"] and "25 days left" in words["C"]
    assert "—" in words["E"] and "closed" in words["E"]


def test_queue_status_moves_with_the_day(client, queue):
    # On Friday 4 December: due yesterday is overdue, due today is due soon, 17 days ahead is on track.
    with time_machine.travel(datetime(2026, 12, 4, 9, 0, tzinfo=UTC), tick=False):
        rows = {r["reference"]: r for r in queue_rows(client.get("/cases").get_data(as_text=True))}
    refs = queue["refs"]
    assert (rows[refs["G"]]["days_left"], rows[refs["G"]]["status"]) == (-1, "overdue")
    assert (rows[refs["F"]]["days_left"], rows[refs["F"]]["status"]) == (0, "due_soon")
    assert (rows[refs["C"]]["days_left"], rows[refs["C"]]["status"]) == (17, "on_track")


@pytest.mark.parametrize(("query", "expected"), [
    ({"state": "all"}, "EADBGFC"),
    ({"state": "open"}, "ADBGFC"),
    ({"state": "in_progress"}, "A"),
    ({"state": "identity_check"}, "C"),
    ({"state": "received"}, "DBGF"),
    ({"state": "closed"}, "E"),
    ({"right": "erasure"}, "BG"),
    ({"right": "access", "state": "all"}, "EAC"),
    ({"right": "portability"}, "C"),
    ({"assignee": "me"}, "A"),
    ({"assignee": "none", "state": "all"}, "EDBGF"),
    ({"channel": "email"}, "B"),
    ({"channel": "partner"}, "F"),
    ({"channel": "post", "state": "all"}, "EAG"),
    ({"overdue": "true", "state": "all"}, "A"),  # the closed case is late but no longer work
    ({"due_within": "7"}, "DBG"),
    ({"due_within": "8"}, "DBGF"),
    ({"due_within": "0"}, "D"),
    ({"right": "access", "assignee": "none", "state": "all"}, "E"),
    ({"right": "erasure", "due_within": "4"}, "B"),
])
def test_queue_filters(client, queue, query, expected):
    assert _letters(queue, client.get("/cases", query_string=query)) == list(expected)


def test_queue_filter_by_a_named_assignee(client, queue):
    response = client.get("/cases", query_string={"assignee": str(queue["ids"]["other"])})
    assert _letters(queue, response) == ["C"]


def test_assignee_me_means_the_user_looking(app, queue):
    other = app.test_client()
    login(other, Role.STAFF, email="other@harmony.test")
    assert _letters(queue, other.get("/cases", query_string={"assignee": "me"})) == ["C"]


@pytest.mark.parametrize(("q", "expected"), [
    ("celik", "B"),
    ("ÇELIK", "B"),
    ("zoe", "A"),
    ("Van den Broeck", "A"),
    ("ZOË VAN", "A"),
    ("hopper", "G"),
    ("HC1000003", "C"),
    ("hc 100-0003", "C"),
    ("HC.2024/77", "G"),  # a customer number exactly as it is stored
    ("%", ""),
    ("_", ""),
    ("Nobody", ""),
])
def test_queue_search_by_name_and_customer_number(client, queue, q, expected):
    response = client.get("/cases", query_string={"q": q, "state": "all"})
    assert _letters(queue, response) == list(expected)


def test_queue_search_by_reference(client, queue):
    ref = queue["refs"]["B"]
    assert _letters(queue, client.get("/cases", query_string={"q": ref, "state": "all"})) == ["B"]
    assert _letters(queue, client.get("/cases", query_string={"q": ref.lower(), "state": "all"})) == ["B"]
    assert _letters(queue, client.get("/cases", query_string={"q": f"  {ref} ", "state": "all"})) == ["B"]


def test_queue_shows_subject_name_and_customer_number_escaped(app, client, queue):
    with app.app_context():
        make_case(actor=db.session.get(User, queue["ids"]["staff"]), name="<b>Bold</b> & Sons",
                  customer_number="HC9")
    html = client.get("/cases").get_data(as_text=True)
    assert "<b>Bold</b>" not in html
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; Sons" in html
    rows = {r["reference"]: r for r in queue_rows(html)}
    assert rows[queue["refs"]["B"]]["subject"] == "Çelik HC1000002"


@pytest.mark.parametrize("query", [
    {"state": "bogus"},
    {"right": "forgetting"},
    {"channel": "fax"},
    {"assignee": "bob"},
    {"due_within": "soon"},
    {"due_within": "-1"},
    {"due_within": "400"},
])
def test_bad_filter_values_give_a_message_not_an_error(client, queue, query):
    response = client.get("/cases", query_string=query)
    assert response.status_code in (200, 302, 303)
    page = client.get(response.headers["Location"]) if response.status_code != 200 else response
    assert page.status_code == 200
    messages = flashes(page.get_data(as_text=True))
    field = next(iter(query))
    assert any(cat == "warning" and field.replace("_", " ") in text.replace("_", " ").lower()
               for cat, text in messages), messages


@pytest.mark.parametrize("page", ["abc", "0", "-3", "99"])
def test_odd_page_numbers_do_not_break_the_queue(client, queue, page):
    assert client.get("/cases", query_string={"page": page}).status_code == 200


@pytest.fixture
def many(app, client):
    """30 open cases received on 30 different days, logged in random order."""
    with app.app_context():
        staff = make_user(Role.STAFF)
        days = [date(2026, 10, 1) + timedelta(days=i) for i in range(30)]
        random.Random(7).shuffle(days)
        for i, day in enumerate(days):
            make_case(actor=staff, received_on=day, name=f"Persoon {i:02d}", customer_number=f"HC{i:07d}")
        dues = dict(db.session.execute(db.select(Case.reference, Case.legal_due_on)).all())
    login(client, Role.STAFF)
    return dues


def test_queue_is_paginated_in_pages_of_25(client, many):
    first = queue_rows(client.get("/cases", query_string={"channel": "post"}).get_data(as_text=True))
    html = client.get("/cases", query_string={"channel": "post", "page": 2}).get_data(as_text=True)
    second = queue_rows(html)
    assert len(first) == 25
    assert len(second) == 5
    refs = [r["reference"] for r in first + second]
    assert sorted(refs) == sorted(many)  # every case once
    deadlines = [many[ref] for ref in refs]
    assert deadlines == sorted(deadlines)  # the order runs on across pages
    assert "30 cases" in text_of(html)
    # Page links keep the filters.
    link = re.search(r'href="(/cases\?[^"]*page=1[^"]*)"', html)
    assert link and "channel=post" in link.group(1).replace("&amp;", "&")


def test_a_page_past_the_end_is_empty(client, many):
    response = client.get("/cases", query_string={"page": 3})
    assert response.status_code == 200
    assert queue_rows(response.get_data(as_text=True)) == []


# -- the case page -------------------------------------------------------------------------------------

def _clock_text(html: str) -> str:
    """The text of the deadlines card."""
    match = re.search(r'<div class="card[^"]*\bclock\b.*?(?=<div class="card[ "])', html, re.S)
    assert match, "no deadlines card"
    return text_of(match.group(0))


@pytest.fixture
def staff(app, client):
    with app.app_context():
        user = make_user(Role.STAFF)
        user_id = user.id
    login(client, Role.STAFF)
    return user_id


def _case_on(app, staff_id: int, received: date, **subject) -> str:
    with app.app_context():
        return make_case(actor=db.session.get(User, staff_id), received_on=received, **subject).reference


@pytest.mark.parametrize(("received", "promise", "legal", "explained"), [
    # 5 April 2026 is Easter Sunday and 6 April Easter Monday.
    pytest.param(date(2026, 3, 5), date(2026, 4, 2), date(2026, 4, 7), [date(2026, 4, 5), "Easter Monday"],
                 id="5-march-easter-monday"),
    pytest.param(date(2026, 8, 31), date(2026, 9, 28), date(2026, 9, 30),
                 [date(2026, 9, 30), "That is a working day"], id="31-august-short-month"),
    # The promise (+ 28 days) is Saturday 28 February: the answer goes out by Friday 27 February.
    pytest.param(date(2026, 1, 31), date(2026, 2, 27), date(2026, 3, 2),
                 [date(2026, 2, 28), "Saturday", "Sunday"], id="31-january-end-of-february"),
    # 27 April 2026 is King's Day (a Monday).
    pytest.param(date(2026, 3, 27), date(2026, 4, 24), date(2026, 4, 28), ["King's Day"], id="kings-day"),
    # 5 May is a holiday under the Algemene termijnenwet every year, not only in lustrum years (DESIGN.md).
    # + 28 days is Sunday 3 May: the promise is stated as Friday 1 May.
    pytest.param(date(2026, 4, 5), date(2026, 5, 1), date(2026, 5, 6), ["Liberation Day"],
                 id="5-may-not-a-lustrum-year"),
])
def test_case_page_shows_both_deadlines_and_how_they_were_computed(app, client, staff, received, promise, legal,
                                                                   explained):
    reference = _case_on(app, staff, received)
    html = client.get(f"/cases/{reference}").get_data(as_text=True)
    clock = _clock_text(html)
    assert re.search("promise: " + date_pattern(promise, weekday=True), clock), clock
    assert re.search(r"Legal deadline \(Art\. 12\(3\) GDPR\): " + date_pattern(legal, weekday=True), clock), clock
    before_legal, legal_part = clock.split("Legal deadline", 1)
    assert "28 days" in before_legal
    for words in explained:
        if isinstance(words, date):
            assert re.search(date_pattern(words), legal_part), (words, legal_part)
        else:
            assert words in legal_part, (words, legal_part)


def test_case_page_shows_the_subject_rights_attachments_and_timeline(app, client, staff):
    data = with_file(intake_data(rights=["erasure", "access"], received_on="2026-11-20", device_id="490154203237518",
                                 notes="Kopie paspoort niet bijgevoegd."), png_bytes(), "envelop.png")
    response = client.post("/cases/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    text = text_of(html)
    for shown in ("Zoë Van den Broeck", "Coolsingel 40", "Rotterdam", "zoe@example.nl", "HC1234567", "HP-555123",
                  "490154203237518", "+31101234567", "Access (Art. 15)", "Erasure (Art. 17)", "envelop.png",
                  "Kopie paspoort niet bijgevoegd.", "25 days left", "on track"):
        assert shown in text, shown
    assert re.search("Received on " + date_pattern(date(2026, 11, 20), weekday=True), text)
    timeline = text.split("History", 1)[1]
    # The history reads as sentences: who did what, with the details that matter.
    assert "Staff logged the request (Access (Art. 15), Erasure (Art. 17)), received 20 Nov 2026." in timeline
    assert re.search(r"Staff attached \S+\.png \(\d+ bytes\)\.", timeline)


def test_case_page_of_an_overdue_case_says_so(app, client, staff):
    reference = _case_on(app, staff, date(2026, 10, 20))
    text = text_of(client.get(f"/cases/{reference}").get_data(as_text=True))
    assert "overdue" in text
    assert "6 days late" in text


def test_case_page_of_a_case_due_today(app, client, staff):
    reference = _case_on(app, staff, date(2026, 10, 26))
    text = text_of(client.get(f"/cases/{reference}").get_data(as_text=True))
    assert "due today" in text
    assert "overdue" not in text and "late" not in text


def test_unknown_case_is_404(client, staff):
    response = client.get("/cases/DSR-2026-99999")
    assert response.status_code == 404
    assert "There is nothing at this address." in text_of(response.get_data(as_text=True))


def test_case_page_lists_the_other_requests_of_the_same_person(app, client, staff):
    first = _case_on(app, staff, date(2026, 6, 1))
    with app.app_context():
        subject_id = db.session.execute(db.select(Case.subject_id).where(Case.reference == first)).scalar_one()
    response = client.post("/cases/new", data=intake_data(link_subject=str(subject_id)))
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'href="/cases/{first}"' in html
