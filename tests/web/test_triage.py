"""The privacy manager's triage page (issue 3, item 2) through the web client.

The clock is frozen on Thursday 26 November 2026. The cases below (legal deadlines by Regulation 1182/71):

    key            received     state        assignee   legal deadline          on the triage page
    ontrack        2026-11-20   received     -          Mon 21 Dec (25 left)    yes, last
    fresh          2026-11-10   received     staff      Thu 10 Dec (14 left)    yes (new, though assigned)
    loose          2026-11-05   in progress  -          Sat 5 Dec -> Mon 7 Dec  yes (unassigned)
    soon           2026-10-28   received     -          Sat 28 -> Mon 30 Nov    yes, second (due soon)
    overdue        2026-10-20   received     -          Fri 20 Nov              yes, first (overdue)
    working        2026-10-15   in progress  staff      Sun 15 -> Mon 16 Nov    no (assigned and started)
    gone           2026-10-01   withdrawn    -          -                       no (closed)
"""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa
import time_machine

from dsr.audit.models import AuditEvent
from dsr.auth.models import User
from dsr.cases import lifecycle
from dsr.cases.models import Case
from dsr.domain.enums import CaseState, Priority, Role
from dsr.extensions import db
from tests.conftest import NOW
from tests.factories import login, make_case, make_user
from tests.web.support import flashes, queue_rows, text_of

MANAGER = "privacy_manager@harmony.test"
STAFF = "staff@harmony.test"
OTHER_STAFF = "other@harmony.test"
AUDITOR = "auditor@harmony.test"
EXPECTED_ORDER = ["overdue", "soon", "loose", "fresh", "ontrack"]


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def _user(email: str) -> User:
    return db.session.execute(sa.select(User).where(User.email == email)).scalar_one()


def _case(reference: str) -> Case:
    return db.session.execute(sa.select(Case).where(Case.reference == reference)).scalar_one()


@pytest.fixture
def cases(app) -> dict:
    """The cases of the module docstring, logged in an order unlike the expected one; users by e-mail."""
    plan = [  # key, received, steps, assignee
        ("ontrack", date(2026, 11, 20), (), None),
        ("working", date(2026, 10, 15), ("start_work",), STAFF),
        ("soon", date(2026, 10, 28), (), None),
        ("gone", date(2026, 10, 1), ("withdraw",), None),
        ("fresh", date(2026, 11, 10), (), STAFF),
        ("overdue", date(2026, 10, 20), (), None),
        # Starting work makes staff the assignee; the manager then took the case off them.
        ("loose", date(2026, 11, 5), ("start_work", "unassign"), None),
    ]
    with app.app_context():
        users = {u.email: u.id for u in (make_user(Role.PRIVACY_MANAGER), make_user(Role.STAFF),
                                         make_user(Role.STAFF, email=OTHER_STAFF), make_user(Role.AUDITOR))}
        staff, manager = _user(STAFF), _user(MANAGER)
        refs = {}
        for key, received, steps, assignee in plan:
            case = make_case(actor=staff, received_on=received, name=f"Person {key}", email=f"{key}@example.nl",
                             customer_number=f"HC-{key}", policy_number=f"HP-{key}")
            for step in steps:
                if step == "withdraw":
                    lifecycle.withdraw(case, how="letter", actor=staff, now=NOW)
                elif step == "unassign":
                    lifecycle.assign(case, None, actor=manager, now=NOW)
                else:
                    getattr(lifecycle, step)(case, actor=staff, now=NOW)
            if assignee:
                lifecycle.assign(case, _user(assignee), actor=manager, now=NOW)
            db.session.commit()
            refs[key] = case.reference
    return {"refs": refs, "users": users}


def triage_rows(html: str) -> list[tuple[str, int, str]]:
    """(reference, version, row text) of each row, top to bottom."""
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", html.split("<tbody>", 1)[1], re.S):
        box = re.search(r'name="case" value="(DSR-\d{4}-\d{5}):(\d+)"', tr)
        if box:
            rows.append((box.group(1), int(box.group(2)), text_of(tr)))
    return rows


def ticked(client, *references: str) -> list[str]:
    """The checkbox values the triage page shows for these cases (reference:version)."""
    rows = {ref: version for ref, version, _text in triage_rows(client.get("/triage").get_data(as_text=True))}
    return [f"{ref}:{rows[ref]}" for ref in references]


def state_of(app, reference: str) -> tuple:
    with app.app_context():
        case = _case(reference)
        return case.assignee.email if case.assignee else None, case.priority, case.version


def events(app, reference: str) -> list[tuple[str, str, dict | None, dict | None]]:
    with app.app_context():
        case_id = _case(reference).id
        return [(e.action, e.actor_label, e.before, e.after) for e in db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id)).scalars()]


def test_triage_lists_new_and_unassigned_cases_overdue_first_then_due_soon(client, cases):
    login(client, Role.PRIVACY_MANAGER)
    response = client.get("/triage")
    assert response.status_code == 200
    rows = triage_rows(response.get_data(as_text=True))
    refs = cases["refs"]
    assert [ref for ref, _v, _t in rows] == [refs[k] for k in EXPECTED_ORDER]
    text = {ref: row_text for ref, _v, row_text in rows}
    assert "overdue" in text[refs["overdue"]] and "6 days late" in text[refs["overdue"]]
    assert "due soon" in text[refs["soon"]] and "4 days left" in text[refs["soon"]]
    assert "on track" in text[refs["ontrack"]]
    assert "Fresh" not in text[refs["fresh"]] and "Staff" in text[refs["fresh"]]


def test_triage_offers_people_who_can_take_cases_but_not_the_auditor(client, cases):
    login(client, Role.PRIVACY_MANAGER)
    html = client.get("/triage").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="assignee".*?</select>', html, re.S).group(0)
    offered = set(re.findall(r'<option value="(\d*)"', select))
    users = cases["users"]
    assert offered == {"", str(users[MANAGER]), str(users[STAFF]), str(users[OTHER_STAFF])}


def test_bulk_assign_two_cases_with_a_priority_in_one_post(app, client, cases):
    refs = cases["refs"]
    login(client, Role.PRIVACY_MANAGER)
    response = client.post("/triage", data={"case": ticked(client, refs["overdue"], refs["soon"]),
                                            "assignee": str(cases["users"][OTHER_STAFF]), "priority": "high"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/triage")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert ("success", "2 cases assigned to Other.") in flashes(page)
    for key in ("overdue", "soon"):
        assignee, priority, _version = state_of(app, refs[key])
        assert (assignee, priority) == (OTHER_STAFF, Priority.HIGH)
        assert events(app, refs[key])[-2:] == [
            ("case.assigned", MANAGER, {"assignee": None}, {"assignee": OTHER_STAFF}),
            ("case.priority_changed", MANAGER, {"priority": "normal"}, {"priority": "high"}),
        ]
    for key in ("loose", "fresh", "ontrack"):
        assert events(app, refs[key])[-1][0] in ("case.created", "case.assigned", "case.start_work")
        assert state_of(app, refs[key])[1] is Priority.NORMAL

    # The assignee finds them under "My cases".
    other = app.test_client()
    login(other, Role.STAFF, email=OTHER_STAFF)
    mine = queue_rows(other.get("/cases?assignee=me&state=open").get_data(as_text=True))
    assert {r["reference"] for r in mine} == {refs["overdue"], refs["soon"]}


def test_reassign_and_unassign_from_triage(app, client, cases):
    fresh = cases["refs"]["fresh"]
    login(client, Role.PRIVACY_MANAGER)
    response = client.post("/triage", data={"case": ticked(client, fresh), "assignee": str(cases["users"][OTHER_STAFF])})
    assert response.status_code == 302
    assert state_of(app, fresh)[0] == OTHER_STAFF
    assert events(app, fresh)[-1] == ("case.assigned", MANAGER, {"assignee": STAFF}, {"assignee": OTHER_STAFF})

    # An empty choice is not "nobody": it is refused and nothing changes.
    version_before = state_of(app, fresh)[2]
    response = client.post("/triage", data={"case": ticked(client, fresh), "assignee": ""})
    assert response.status_code == 400
    assert "Choose who to assign the ticked cases to" in response.get_data(as_text=True)
    assert state_of(app, fresh)[0] == OTHER_STAFF
    assert state_of(app, fresh)[2] == version_before

    # Unassigning is its own button; a person chosen in the select is ignored by it.
    response = client.post("/triage", data={"case": ticked(client, fresh), "action": "unassign",
                                            "assignee": str(cases["users"][STAFF])})
    assert response.status_code == 302
    assert ("success", "1 case unassigned.") in flashes(client.get("/triage").get_data(as_text=True))
    assert state_of(app, fresh)[0] is None
    assert events(app, fresh)[-1] == ("case.assigned", MANAGER, {"assignee": OTHER_STAFF}, {"assignee": None})


def test_the_assign_to_choice_starts_empty_and_must_be_chosen(client, cases):
    login(client, Role.PRIVACY_MANAGER)
    html = client.get("/triage").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="assignee"[^>]*>', html).group(0)
    assert "required" in select
    assert '<option value="" selected disabled>' in html
    assert 'value="unassign" formnovalidate' in html


@pytest.mark.parametrize("role", [Role.STAFF, Role.AUDITOR])
def test_triage_is_for_the_privacy_manager_only(app, client, cases, role):
    refs = cases["refs"]
    login(client, role)
    assert client.get("/triage").status_code == 403
    with app.app_context():
        before = {ref: _case(ref).version for ref in refs.values()}
        count = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    me = str(cases["users"][STAFF])
    response = client.post("/triage", data={"case": [f"{refs['overdue']}:1", f"{refs['soon']}:1"], "assignee": me,
                                            "priority": "high"})
    assert response.status_code == 403
    with app.app_context():
        assert {ref: _case(ref).version for ref in refs.values()} == before
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == count
    assert state_of(app, refs["overdue"])[:2] == (None, Priority.NORMAL)


def test_the_triage_link_is_shown_to_the_manager_only(app, client, cases):
    staff = app.test_client()
    login(staff, Role.STAFF)
    assert 'href="/triage"' not in staff.get("/cases").get_data(as_text=True)
    login(client, Role.PRIVACY_MANAGER)
    assert 'href="/triage"' in client.get("/cases").get_data(as_text=True)


def test_anonymous_is_sent_to_the_login_page(client, cases):
    response = client.get("/triage")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_stale_version_in_one_checkbox_assigns_nothing(app, client, cases):
    refs = cases["refs"]
    login(client, Role.PRIVACY_MANAGER)
    boxes = ticked(client, refs["overdue"], refs["soon"])
    # Meanwhile a staff member takes the second case.
    with app.app_context():
        lifecycle.assign(_case(refs["soon"]), _user(STAFF), actor=_user(STAFF), now=NOW)
        db.session.commit()
    overdue_before, soon_before = events(app, refs["overdue"]), events(app, refs["soon"])
    versions = state_of(app, refs["overdue"])[2], state_of(app, refs["soon"])[2]

    response = client.post("/triage", data={"case": boxes, "assignee": str(cases["users"][OTHER_STAFF]),
                                            "priority": "high"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert any("changed by someone else meanwhile; nothing was assigned" in text for _c, text in flashes(html))
    assert state_of(app, refs["overdue"]) == (None, Priority.NORMAL, versions[0])
    assert state_of(app, refs["soon"]) == (STAFF, Priority.NORMAL, versions[1])
    assert events(app, refs["overdue"]) == overdue_before
    assert events(app, refs["soon"]) == soon_before
    # The refreshed list carries the new version, so ticking again works.
    fresh_boxes = {ref: v for ref, v, _t in triage_rows(html)}
    assert fresh_boxes[refs["soon"]] == versions[1]
    retry = client.post("/triage", data={"case": [f"{r}:{fresh_boxes[r]}" for r in (refs["overdue"], refs["soon"])],
                                         "assignee": str(cases["users"][OTHER_STAFF])})
    assert retry.status_code == 302
    assert state_of(app, refs["overdue"])[0] == state_of(app, refs["soon"])[0] == OTHER_STAFF


def test_an_unknown_reference_in_the_post_assigns_nothing(app, client, cases):
    refs = cases["refs"]
    login(client, Role.PRIVACY_MANAGER)
    boxes = ticked(client, refs["overdue"]) + ["DSR-2026-99999:1"]
    response = client.post("/triage", data={"case": boxes, "assignee": str(cases["users"][STAFF])})
    assert response.status_code == 400
    assert state_of(app, refs["overdue"])[0] is None
    assert [e[0] for e in events(app, refs["overdue"])] == ["case.created"]


@pytest.mark.parametrize(("field", "value"), [("assignee", "999"), ("assignee", "staff"), ("priority", "urgent")])
def test_a_bad_assignee_or_priority_is_400(app, client, cases, field, value):
    refs = cases["refs"]
    login(client, Role.PRIVACY_MANAGER)
    data = {"case": ticked(client, refs["overdue"]), "assignee": str(cases["users"][STAFF]), field: value}
    assert client.post("/triage", data=data).status_code == 400
    assert state_of(app, refs["overdue"])[:2] == (None, Priority.NORMAL)


def test_assigning_to_the_auditor_is_refused_with_a_message(app, client, cases):
    refs = cases["refs"]
    login(client, Role.PRIVACY_MANAGER)
    response = client.post("/triage", data={"case": ticked(client, refs["overdue"], refs["soon"]),
                                            "assignee": str(cases["users"][AUDITOR])}, follow_redirects=True)
    assert any("cannot be assigned cases" in text for _c, text in flashes(response.get_data(as_text=True)))
    assert state_of(app, refs["overdue"])[0] is None and state_of(app, refs["soon"])[0] is None


def test_nothing_ticked_asks_to_tick(client, cases):
    login(client, Role.PRIVACY_MANAGER)
    response = client.post("/triage", data={"assignee": ""}, follow_redirects=True)
    assert ("warning", "Tick at least one case.") in flashes(response.get_data(as_text=True))


def test_a_case_that_has_been_started_and_assigned_leaves_triage(app, client, cases):
    refs = cases["refs"]
    login(client, Role.PRIVACY_MANAGER)
    client.post("/triage", data={"case": ticked(client, refs["loose"]), "assignee": str(cases["users"][STAFF])})
    listed = [ref for ref, _v, _t in triage_rows(client.get("/triage").get_data(as_text=True))]
    assert refs["loose"] not in listed
    with app.app_context():
        assert _case(refs["loose"]).state is CaseState.IN_PROGRESS
