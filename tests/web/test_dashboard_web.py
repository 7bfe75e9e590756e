"""The dashboard, the escalation report page and the warnings in the queue and on the case (issue 6, items
1, 2, 4 and 5), through the Flask client with the clock frozen on Thursday 26 November 2026.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlsplit

import pytest

from dsr.cases import lifecycle
from dsr.domain.enums import Right, Role
from dsr.extensions import db
from dsr.tasks.operations import add_task
from tests.conftest import NOW
from tests.factories import make_case
from tests.web.support import (
    dashboard_overdue,
    frozen_clock,
    make_users_of_every_role,
    queue_rows,
    signed_in,
    text_of,
)


@pytest.fixture
def app(backend_app):
    return backend_app


@pytest.fixture(autouse=True)
def _frozen_clock():
    yield from frozen_clock()


def _case(staff, n, received_on, rights=(Right.ACCESS,)):
    return make_case(actor=staff, received_on=received_on, rights=rights, name=f"Person {n}",
                     email=f"p{n}@example.nl", customer_number=f"HC{7100000 + n}", policy_number=None)


@pytest.fixture
def refs(app):
    with app.app_context():
        users = make_users_of_every_role()
        manager, staff = users[Role.PRIVACY_MANAGER], users[Role.STAFF]
        overdue = _case(staff, 1, date(2026, 10, 1), rights=(Right.ERASURE,))
        lifecycle.assign(overdue, staff, actor=manager, now=NOW)
        overdue2 = _case(staff, 2, date(2026, 10, 20))
        lifecycle.assign(overdue2, manager, actor=manager, now=NOW)
        due_soon = _case(staff, 3, date(2026, 11, 2))  # unassigned, due 2 December
        promise = _case(staff, 4, date(2026, 10, 27))  # due 27 November, promise 24 November missed
        lifecycle.assign(promise, staff, actor=manager, now=NOW)
        tasked = _case(staff, 5, date(2026, 11, 20))
        lifecycle.assign(tasked, staff, actor=manager, now=NOW)
        add_task(tasked, "Call the repairer", assignee=staff, due_on=date(2026, 11, 25), actor=manager, now=NOW,
                 today=date(2026, 11, 20))
        db.session.commit()
        return {"overdue": overdue.reference, "overdue2": overdue2.reference, "due_soon": due_soon.reference,
                "promise": promise.reference, "tasked": tasked.reference}


@pytest.mark.parametrize("path", ["/dashboard", "/reports/escalations", "/reports/escalations?format=csv",
                                  "/dashboard/charts/deadlines.svg"])
def test_managers_and_auditors_read_reports_staff_and_strangers_do_not(app, refs, path):
    assert app.test_client().get(path).status_code == 302  # to the login page
    assert signed_in(app, Role.STAFF).get(path).status_code == 403
    assert signed_in(app, Role.PRIVACY_MANAGER).get(path).status_code == 200
    assert signed_in(app, Role.AUDITOR).get(path).status_code == 200


def test_each_dashboard_count_links_to_the_queue_showing_exactly_those_cases(app, refs):
    client = signed_in(app, Role.PRIVACY_MANAGER)
    html = client.get("/dashboard").get_data(as_text=True)
    tiles = re.findall(r'id="tile-(\w+)" href="([^"]+)">\s*<div class="card-body p-2">\s*'
                       r'<div class="display-6 fw-semibold">(\d+)</div>', html)
    found = {key: (href.replace("&amp;", "&"), int(n)) for key, href, n in tiles}
    assert set(found) == {"overdue", "due_soon", "extension_notice", "unassigned", "late_pause", "open"}
    assert found["overdue"][1] == 2 and found["due_soon"][1] == 2 and found["unassigned"][1] == 1
    assert found["open"][1] == 5
    for key, (href, count) in found.items():
        assert urlsplit(href).path == "/cases"
        rows = queue_rows(client.get(href).get_data(as_text=True))
        assert len(rows) == count, key
    overdue_refs = {r["reference"] for r in queue_rows(client.get(found["overdue"][0]).get_data(as_text=True))}
    assert overdue_refs == {refs["overdue"], refs["overdue2"]}


def test_the_banner_and_the_tile_count_the_same_cases_past_the_legal_deadline_in_the_same_words(app, refs):
    """The banner used to say "N more items are overdue" (late tasks and promises too) beside a tile of
    cases: two numbers that seemed to contradict. Both now count open cases past the legal deadline and
    say so in the same words; the banner's other kinds have their own names."""
    client = signed_in(app, Role.PRIVACY_MANAGER)
    counts = dashboard_overdue(client)
    assert counts["tile"] == counts["banner"] == ("Past the legal deadline", 2)
    html = client.get("/dashboard").get_data(as_text=True)
    banner = text_of(html.split("overdue-counts", 1)[1].split("</div>", 1)[0])
    assert "more items are overdue" not in html
    assert "Task overdue: 1" in banner


def test_the_dashboard_names_the_first_thing_to_do_and_draws_charts_as_images(app, refs):
    client = signed_in(app, Role.PRIVACY_MANAGER)
    response = client.get("/dashboard")
    html = response.get_data(as_text=True)
    do_first = text_of(html.split('do-first', 1)[1].split("</div>\n</div>", 1)[0])
    assert refs["overdue"] in do_first and "Past the legal deadline" in do_first
    # The page keeps the strict CSP: no inline style or script; charts come as separate SVG images.
    assert "<style" not in html and 'style="' not in html and "<script>" not in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    charts = re.findall(r'<img class="img-fluid w-100" src="([^"]+\.svg)"', html)
    assert len(charts) == 3
    for src in charts:
        svg = client.get(src)
        assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
        body = svg.get_data(as_text=True)
        assert body.startswith("<svg") and "<script" not in body
        assert svg.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert client.get("/dashboard/charts/nope.svg").status_code == 404


def test_report_page_groups_sorts_and_exports(app, refs):
    client = signed_in(app, Role.PRIVACY_MANAGER)
    html = client.get("/reports/escalations").get_data(as_text=True)
    assert 'id="legal_overdue"' in html and 'id="promise_missed"' in html and 'id="task_overdue"' in html
    section = html.split('id="legal_overdue"', 1)[1].split("</section>", 1)[0]
    assert section.index(refs["overdue"]) < section.index(refs["overdue2"])  # longest overdue first
    by_days = client.get("/reports/escalations?sort=days&desc=1&group=assignee").get_data(as_text=True)
    assert "Unassigned" in by_days and ">Staff <" in by_days
    by_right = client.get("/reports/escalations?group=right").get_data(as_text=True)
    assert "Erasure (Art. 17)" in by_right
    assert client.get("/reports/escalations?sort=subject").status_code == 400
    assert client.get("/reports/escalations?due_within=x").status_code == 400
    csv_response = client.get("/reports/escalations?format=csv")
    assert csv_response.mimetype == "text/csv" and "escalations-2026-11-26.csv" in csv_response.headers[
        "Content-Disposition"]
    pdf = client.get("/reports/escalations?format=pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


def test_queue_and_case_page_show_the_warnings(app, refs):
    client = signed_in(app, Role.STAFF)
    rows = {r["reference"]: text_of(r["html"]) for r in queue_rows(client.get("/cases").get_data(as_text=True))}
    assert "task overdue" in rows[refs["tasked"]]
    assert "unassigned too long" in rows[refs["due_soon"]]
    assert "past 4-week promise" in rows[refs["promise"]]
    assert "past 4-week promise" not in rows[refs["overdue"]]  # the legal breach says it all
    page = client.get(f"/cases/{refs['tasked']}").get_data(as_text=True)
    strip = text_of(page.split('id="warnings"', 1)[1].split("</div>", 1)[0])
    assert "Task overdue" in strip and "Call the repairer" in strip and "1 day overdue" in strip
    quiet = client.get(f"/cases/{refs['overdue2']}").get_data(as_text=True)
    assert "Past the legal deadline" in text_of(quiet.split('id="warnings"', 1)[1].split("</div>", 1)[0])
