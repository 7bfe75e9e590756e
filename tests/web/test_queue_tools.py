"""The queue's tools (issue 16, item 5): sorting by column, a CSV of the filtered queue, saved views per user
and bulk assignment by the privacy manager. The cases and the frozen clock are those of
tests/web/test_queue_and_case.py.
"""

from __future__ import annotations

import csv
import io
import re

import sqlalchemy as sa

from dsr.audit.models import AuditEvent
from dsr.cases.models import Case
from dsr.cases.saved_views import SavedView
from dsr.domain.enums import Role
from dsr.extensions import db
from tests.factories import login, make_case, make_user
from tests.web import test_queue_and_case as base
from tests.web.support import flashes, queue_rows
from tests.web.test_queue_and_case import EXPECTED_ORDER, _letters

# The cases, users and frozen clock of the queue tests.
app = base.app
queue = base.queue
_frozen_clock = base._frozen_clock


def test_sorting_by_a_column_and_back(client, queue):
    by_received_desc = _letters(queue, client.get("/cases", query_string={"state": "all", "sort": "received",
                                                                          "dir": "desc"}))
    assert by_received_desc == ["C", "F", "G", "B", "D", "A", "E"]
    by_reference = _letters(queue, client.get("/cases", query_string={"state": "all", "sort": "reference"}))
    assert by_reference == sorted(by_reference, key=lambda letter: queue["refs"][letter])
    html = client.get("/cases", query_string={"sort": "received", "dir": "desc"}).get_data(as_text=True)
    # The active column says how it is sorted; its link turns the order around.
    assert 'aria-sort="descending"' in html
    assert "sort=received&amp;dir=asc" in html
    assert "sorted by received, descending" in html
    # The default stays: legal deadline, most urgent first.
    assert _letters(queue, client.get("/cases", query_string={"state": "all"})) == EXPECTED_ORDER


def test_an_unknown_sort_is_a_message_not_an_error(client, queue):
    response = client.get("/cases", query_string={"sort": "salary"})
    assert response.status_code == 302
    assert ("warning", "Unknown sort: salary.") in flashes(client.get(response.headers["Location"]).get_data(
        as_text=True))


def test_the_csv_has_the_filtered_queue_in_its_order_and_is_formula_safe(app, client, queue):
    with app.app_context():
        staff = db.session.execute(sa.select(Case)).scalars().first().created_by
        make_case(actor=staff, name="=HYPERLINK(\"http://evil\")", customer_number="HC7", email="x@example.nl")
        db.session.commit()
    response = client.get("/cases.csv", query_string={"right": "access", "state": "all"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment;" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:3] == ["reference", "subject", "customer_number"]
    screen = [r["reference"] for r in queue_rows(client.get(
        "/cases", query_string={"right": "access", "state": "all"}).get_data(as_text=True))]
    assert [r[0] for r in rows[1:]] == screen
    evil = next(r for r in rows[1:] if "HYPERLINK" in r[1])
    assert evil[1].startswith("'=")


def test_saved_views_belong_to_their_user(app, client, queue):
    response = client.post("/cases/views", data={"name": "My overdue", "query": "overdue=true&assignee=me&page=3"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/cases?assignee=me&overdue=true")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "My overdue" in html and 'aria-current="true"' in html
    with app.app_context():
        view = db.session.execute(sa.select(SavedView)).scalar_one()
        view_id = view.id
        assert view.query == "assignee=me&overdue=true"
        assert db.session.execute(sa.select(AuditEvent.action).order_by(AuditEvent.id.desc())).first()[0] == \
            "queue_view.saved"
    # Another user neither sees nor deletes it.
    other = app.test_client()
    login(other, Role.AUDITOR)
    assert "My overdue" not in other.get("/cases").get_data(as_text=True)
    assert other.post(f"/cases/views/{view_id}/delete").status_code == 403
    # A bad filter is not saved.
    response = client.post("/cases/views", data={"name": "Broken", "query": "state=lost"})
    assert "The view was not saved: Unknown state: lost." in client.get(response.headers["Location"]).get_data(
        as_text=True)
    assert client.post(f"/cases/views/{view_id}/delete").status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SavedView)) == 0


def test_the_privacy_manager_assigns_from_the_queue(app, client, queue):
    with app.app_context():
        make_user(Role.PRIVACY_MANAGER)
    manager = app.test_client()
    login(manager, Role.PRIVACY_MANAGER)
    html = manager.get("/cases?right=access").get_data(as_text=True)
    assert 'form="bulk" name="case"' in html
    boxes = re.findall(r'form="bulk" name="case" value="([^"]+)"', html)
    response = manager.post("/triage", data={"case": boxes, "assignee": str(queue["ids"]["other"]),
                                             "back": "right=access"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/cases?right=access")
    page = manager.get(response.headers["Location"]).get_data(as_text=True)
    assert ("success", f"{len(boxes)} cases assigned to Other.") in flashes(page)
    with app.app_context():
        for value in boxes:
            case = db.session.execute(sa.select(Case).where(Case.reference == value.split(":")[0])).scalar_one()
            assert case.assignee.email == "other@harmony.test"
    # Staff see no tick boxes.
    assert 'form="bulk"' not in client.get("/cases").get_data(as_text=True)
