"""A list's count rides along with its page (issue 15, item 3): exact up to ``COUNT_LIMIT`` rows, then "more
than" that (``total_exact: false``); a page past the end, which has no rows to carry it, still says the total.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from dsr.auth.operations import issue_api_token
from dsr.cases import queries
from dsr.cases.operations import log_request
from dsr.domain.enums import Channel, Language, Right, Role
from dsr.extensions import db
from tests.conftest import NOW, TODAY
from tests.factories import make_user, subject_details
from tests.web.support import frozen_clock, signed_in


@pytest.fixture(autouse=True)
def _frozen():
    yield from frozen_clock()


@pytest.fixture
def app(backend_app):
    """On both databases: the count is a sub-query of the page's own statement."""
    return backend_app


@pytest.fixture
def api(app):
    with app.app_context():
        manager = make_user(Role.PRIVACY_MANAGER)
        token = issue_api_token(manager, actor=None, now=NOW)
        for i in range(8):
            log_request(subject=subject_details(), rights=[Right.ACCESS], channel=Channel.EMAIL,
                        received_on=TODAY - timedelta(days=1 + i), language=Language.NL, notes="",
                        actor=manager, now=NOW, today=TODAY)
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    return lambda query: client.get(f"/api/v1/cases?{query}", headers=headers).get_json()


def test_the_count_is_exact_below_the_limit_on_every_page(api):
    for page, rows in ((1, 3), (2, 3), (3, 2), (4, 0), (9, 0)):
        body = api(f"per_page=3&page={page}")
        assert len(body["cases"]) == rows, page
        assert (body["total"], body["total_exact"], body["pages"]) == (8, True, 3), page
    assert [c["reference"] for c in api("per_page=3&page=3")["cases"]] == \
        [c["reference"] for c in api("per_page=8")["cases"]][6:]


def test_past_the_limit_the_count_says_more_than(api, monkeypatch):
    monkeypatch.setattr(queries, "COUNT_LIMIT", 5)
    for page in (1, 2, 4):
        body = api(f"per_page=2&page={page}")
        assert (body["total"], body["total_exact"]) == (5, False), page
    assert len(api("per_page=2&page=4")["cases"]) == 2  # the rows past the count are still listed


def test_a_filter_that_matches_nothing_counts_nothing(api):
    body = api("state=closed")
    assert (body["cases"], body["total"], body["total_exact"], body["pages"]) == ([], 0, True, 0)


def test_the_queue_page_counts_the_same_way(app, api, monkeypatch):
    manager = signed_in(app, Role.PRIVACY_MANAGER)
    monkeypatch.setitem(app.config, "QUEUE_PAGE_SIZE", 3)
    for page, rows in ((1, 3), (3, 2), (5, 0)):
        html = manager.get(f"/cases?page={page}").get_data(as_text=True)
        assert html.count('<td class="ref">') == rows, page
        assert "8 cases" in html, page
    monkeypatch.setattr(queries, "COUNT_LIMIT", 5)
    assert "more than 5 cases" in manager.get("/cases?page=2").get_data(as_text=True)
