"""The dashboard's figures kept per process by data version (issue 15, item 3), on SQLite and PostgreSQL.

Kept figures must be the figures computed afresh: on the demo's varied cases (every state, answered months,
pauses, tasks) the page and its charts are the same whether computed or kept, and each figure is
what the functions the dashboard used before give (the escalation report over every open case, the count per
state and right, the queue's own query counted per tile, the monthly figures over the answered cases). A
change committed through an operation, which clears no cache, as another process's would not, shows on the
next view: the audit chain's head it moved is what the kept figures are filed under.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from dsr.cases import lifecycle
from dsr.domain.enums import RefusalGround, Right, Role
from dsr.extensions import db
from dsr.reports import dashboard as dash
from dsr.reports.versions import forget
from tests.conftest import NOW, TODAY
from tests.dashboard_support import answered_cases, monthly
from tests.factories import make_case
from tests.web.support import frozen_clock, make_users_of_every_role, signed_in

PATHS = ("/dashboard", "/dashboard/charts/deadlines.svg", "/dashboard/charts/handling.svg",
         "/dashboard/charts/open.svg")


@pytest.fixture(autouse=True)
def _frozen():
    yield from frozen_clock()


def _page(client) -> dict[str, str]:
    """The page and its charts, without what differs between two responses of the same figures: the form
    token and the id pygal draws at random for each chart."""
    result = {}
    for path in PATHS:
        response = client.get(path)
        assert response.status_code == 200, path
        text = re.sub(r'name="csrf_token" type="hidden" value="[^"]*"', "csrf", response.get_data(as_text=True))
        result[path] = re.sub(r"chart-[0-9a-f-]{36}", "chart-id", text)
    return result


def _tiles_counted_one_by_one(due_within: int) -> list[int]:
    """What the tiles counted before: the queue's query of each tile, counted in a statement of its own."""
    from dsr.cases.queries import QueueFilters, queue_query

    counts = []
    for _key, args in dash.TILES:
        filters = QueueFilters.from_args({k: v.format(due_within=due_within) for k, v in args.items()})
        counts.append(db.session.scalar(sa.select(sa.func.count()).select_from(
            queue_query(filters, TODAY).subquery())))
    return counts


def _open_by_state() -> dict:
    from dsr.cases.models import Case
    from dsr.cases.queries import OPEN_STATES

    counts = {state: 0 for state in OPEN_STATES}
    counts.update(db.session.execute(sa.select(Case.state, sa.func.count()).where(Case.state.in_(OPEN_STATES))
                                     .group_by(Case.state)).all())
    return counts


def _figures_computed_the_old_way(app) -> dict:
    from dsr.casefiles.operations import count_past_period, past_period
    from dsr.reports.data import build_report

    due_within = app.config["DUE_SOON_DAYS"]
    return {"report": build_report(TODAY, due_within=due_within), "matrix": dash.open_matrix(),
            "by_state": _open_by_state(), "tiles": _tiles_counted_one_by_one(due_within),
            "stats": monthly(answered_cases(TODAY), TODAY), "casefiles_total": count_past_period(TODAY),
            "casefiles": [(s.case.reference, s.closed_on, s.decision) for s in past_period(TODAY, limit=10)]}


def _kept(app) -> dict:
    due_within = app.config["DUE_SOON_DAYS"]
    figures = dash.figures(TODAY, due_within, 10)
    return {"report": figures.report, "matrix": figures.matrix, "by_state": figures.by_state,
            "tiles": [count for _key, _args, count in figures.tiles], "stats": figures.stats,
            "casefiles_total": figures.casefiles_total,
            "casefiles": [(row.reference, row.closed_on, row.decision) for row in figures.casefiles]}


@pytest.fixture
def demo(backend_app):
    from dsr.demo.loader import load_demo

    with backend_app.app_context():
        load_demo(now=NOW, today=TODAY)
        make_users_of_every_role()
        db.session.remove()
    return backend_app


def test_kept_figures_are_the_figures_computed_afresh_on_the_demo(demo):
    client = signed_in(demo, Role.PRIVACY_MANAGER)
    forget()
    computed = _page(client)
    kept = _page(client)
    assert kept == computed
    with demo.test_request_context():
        old = _figures_computed_the_old_way(demo)
        new = _kept(demo)
    assert new == old
    # The demo is varied enough for the comparison to mean something.
    assert old["report"].items and sum(old["by_state"].values()) > 5 and all(old["tiles"][-1:])
    assert sum(s.answered for s in old["stats"]) > 5 and len([s for s in old["stats"] if s.answered]) > 1
    assert len({right for row in old["matrix"].values() for right, n in row.items() if n}) > 2


REPORT_PATHS = ("/reports/escalations", "/reports/escalations?group=assignee&sort=days&desc=1&page=2",
                "/reports/escalations?group=right&sort=due", "/reports/escalations?format=csv",
                "/reports/escalations?due_within=30&format=csv", "/reports/escalations?due_within=0&sort=kind")


def _report_pages(client, *, afresh: bool) -> dict[str, str]:
    result = {}
    for path in REPORT_PATHS:
        if afresh:
            forget()
        response = client.get(path)
        assert response.status_code == 200, path
        result[path] = re.sub(r'name="csrf_token" type="hidden" value="[^"]*"', "csrf", response.get_data(as_text=True))
    return result


def test_the_kept_escalation_report_is_the_report_computed_afresh_on_the_demo(demo, monkeypatch):
    from dsr.reports.data import build_report, kept_report, open_facts
    from dsr.reports.render import report_csv

    # Several pages from the demo's few items; set for this test only (the app is shared by the session's tests).
    monkeypatch.setitem(demo.config, "REPORT_PAGE_SIZE", 3)
    client = signed_in(demo, Role.PRIVACY_MANAGER)
    computed = _report_pages(client, afresh=True)
    kept = _report_pages(client, afresh=False)
    assert kept == computed
    assert _report_pages(client, afresh=False) == computed  # and again, from what the report worked out once
    assert "page=3" in computed["/reports/escalations"]
    with demo.test_request_context():
        for due_within in (demo.config["DUE_SOON_DAYS"], 30):
            report, facts = kept_report(TODAY, due_within=due_within)
            assert report == build_report(TODAY, due_within=due_within) and list(facts) == open_facts()
            assert kept_report(TODAY, due_within=due_within)[0] is report
        assert computed["/reports/escalations?due_within=30&format=csv"] == report_csv(report)
        assert len(report.items) > 5


def _case(staff, n: int, received_on: date, rights=(Right.ACCESS,)):
    return make_case(actor=staff, received_on=received_on, rights=rights, name=f"Person {n}",
                     email=f"p{n}@example.nl", customer_number=f"HC{7200000 + n}", policy_number=None)


def _tile(html: str, key: str) -> int:
    found = re.search(rf'id="tile-{key}" href="[^"]+">\s*<div class="card-body p-2">\s*'
                      r'<div class="display-6 fw-semibold">(\d+)</div>', html)
    assert found, key
    return int(found.group(1))


def test_a_change_committed_by_any_process_shows_on_the_next_view(backend_app):
    with backend_app.app_context():
        users = make_users_of_every_role()
        manager, staff = users[Role.PRIVACY_MANAGER], users[Role.STAFF]
        late = _case(staff, 1, date(2026, 10, 1), rights=(Right.ERASURE,))
        _case(staff, 2, date(2026, 11, 20))
        late_id, late_reference = late.id, late.reference
    client = signed_in(backend_app, Role.PRIVACY_MANAGER)
    before = _page(client)
    assert (_tile(before["/dashboard"], "overdue"), _tile(before["/dashboard"], "unassigned"),
            _tile(before["/dashboard"], "open")) == (1, 2, 2)
    assert _page(client) == before  # kept: nothing changed
    report_before = client.get("/reports/escalations?format=csv").get_data(as_text=True)
    assert f"legal_overdue,{late_reference}," in report_before

    # An operation, as another worker would run it: it clears nothing here, it only moves the chain's head.
    with backend_app.app_context():
        from dsr.cases.models import Case

        late = db.session.get(Case, late_id)
        lifecycle.refuse(late, ground=RefusalGround.MANIFESTLY_UNFOUNDED, justification="Repeated request.",
                         actor=db.session.merge(manager), now=NOW)
        db.session.commit()
    after = _page(client)
    assert (_tile(after["/dashboard"], "overdue"), _tile(after["/dashboard"], "unassigned"),
            _tile(after["/dashboard"], "open")) == (0, 1, 1)
    assert after["/dashboard/charts/deadlines.svg"] != before["/dashboard/charts/deadlines.svg"]
    assert after["/dashboard/charts/open.svg"] != before["/dashboard/charts/open.svg"]
    report_after = client.get("/reports/escalations?format=csv").get_data(as_text=True)
    assert late_reference not in report_after and report_after != report_before
    forget()
    assert _page(client) == after  # what a process that kept nothing computes
    assert client.get("/reports/escalations?format=csv").get_data(as_text=True) == report_after
    with backend_app.test_request_context():
        assert _kept(backend_app) == _figures_computed_the_old_way(backend_app)


def test_the_figures_are_kept_per_day_and_language(backend_app):
    with backend_app.app_context():
        users = make_users_of_every_role()
        _case(users[Role.STAFF], 1, date(2026, 10, 20))
    with backend_app.test_request_context():
        from flask_babel import force_locale

        first = dash.figures(TODAY, 7, 10)
        assert dash.figures(TODAY, 7, 10) is first
        assert dash.figures(date(2026, 11, 27), 7, 10) is not first  # another day: computed again
        assert dash.figures(TODAY, 3, 10) is not first  # other thresholds
        with force_locale("nl"):
            assert dash.figures(TODAY, 7, 10) is not first  # task titles are in the reader's language
