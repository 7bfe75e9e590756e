"""The page frame's kept fragments (dsr.web.fragment_keeper, issue 15, item 3): a page made with them is the page
made afresh, for every role and language, with the request's CSRF token, path and query string in their places.
The cases and the frozen clock are those of tests/web/test_queue_and_case.py.
"""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
import time_machine

from dsr.auth.models import User, UserSession
from dsr.cases.saved_views import SavedView
from dsr.domain.enums import Role
from dsr.extensions import db
from dsr.web import _FRAGMENTS
from tests.conftest import NOW
from tests.factories import PASSWORDS, login, make_user
from tests.web import test_queue_and_case as base

app = base.app
queue = base.queue
_frozen_clock = base._frozen_clock

ODD = 'Jan <b>de</b> & "Vries\''
URLS = ["/cases", "/cases?state=all", "/cases?page=2", "/cases?page=3", "/cases?state=all&page=2",
        "/cases?sort=received&dir=desc", "/cases?sort=received&dir=desc&page=2", "/cases?assignee=me&state=open",
        "/cases?right=access", "/cases?q=%3Cb%3E%26%22", "/cases?overdue=true", "/cases?flag=paused",
        "/cases?due_within=7&channel=post", "/cases?assignee=none&sort=state", "/cases?state=bogus",
        "/cases/new", "/triage", "/preferences"]


def _pages(client) -> list[str]:
    return [re.sub(r'value="[^"]{40,}"', 'value="TOKEN"', client.get(url, follow_redirects=True).get_data(as_text=True))
            for url in URLS]


def test_pages_with_kept_fragments_are_the_pages_made_afresh(app, queue, monkeypatch):
    monkeypatch.setitem(app.config, "QUEUE_PAGE_SIZE", 2)
    with app.app_context():
        make_user(Role.PRIVACY_MANAGER)
        other = db.session.get(User, queue["ids"]["other"])
        other.name = ODD
        for user in db.session.execute(sa.select(User)).scalars():
            db.session.add(SavedView(user_id=user.id, name=f"<i>{user.id}</i> & co", query="state=all", created_at=NOW))
        db.session.commit()
    for language in ("en", "nl", "fr"):
        for role, email in ((Role.PRIVACY_MANAGER, None), (Role.STAFF, None), (Role.STAFF, "other@harmony.test"),
                            (Role.AUDITOR, None)):  # two of one role: what one person sees is not another's
            with app.app_context():
                db.session.execute(sa.update(User).values(locale=language))
                db.session.commit()
            client = app.test_client()
            login(client, role, email)
            monkeypatch.setitem(app.config, "KEEP_FRAGMENTS", False)
            afresh = _pages(client)
            monkeypatch.setitem(app.config, "KEEP_FRAGMENTS", True)
            assert _pages(client) == afresh  # the fragments made (or found, from another user's pages)
            assert _pages(client) == afresh  # and found
    names = {key[0] for key in _FRAGMENTS}
    assert {"base-head", "base-nav", "queue-top", "queue-pages"} <= names


def test_a_kept_page_carries_its_own_requests_csrf_token(app, queue, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    first, second = app.test_client(), app.test_client()
    for client in (first, second):
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]* value="([^"]+)"', page).group(1)
        response = client.post("/login", data={"email": "staff@harmony.test", "password": PASSWORDS[Role.STAFF],
                                               "csrf_token": token})
        assert response.status_code == 302
    tokens = []
    for client in (first, second):  # the second's frame and queue are those the first's request kept
        html = client.get("/cases?state=all").get_data(as_text=True)
        found = set(re.findall(r'name="csrf_token" value="([^"]+)"', html))
        assert len(found) == 1
        tokens.append(found.pop())
        assert 'name="next" value="/cases?state=all"' in html
        response = client.post("/cases/views", data={"name": "Mine", "query": "state=all", "csrf_token": tokens[-1]})
        assert response.status_code == 302
    assert tokens[0] != tokens[1]


def test_the_kept_fragments_are_bounded(app, client, queue, monkeypatch):
    monkeypatch.setattr("dsr.web.FRAGMENTS_KEPT", 3)
    for term in ("a", "b", "c", "d", "e"):  # a search term is part of the key of the part above the rows
        html = client.get("/cases", query_string={"q": term}).get_data(as_text=True)
        assert f'name="q" value="{term}"' in html
        assert len(_FRAGMENTS) <= 3


def test_the_queue_reads_without_a_transaction_and_the_case_page_within_one(app, client, queue, monkeypatch):
    """The queue and the case page only read (dsr.auth.access.reads_only): their statements, the login's
    included, run without BEGIN and ROLLBACK; a page that may write (the preferences) keeps its transaction. The
    session's last request time is still kept."""
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, conn.get_execution_options().get("isolation_level")))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get("/cases?state=all").status_code == 200
        queue_levels = {level for _, level in seen}
        seen.clear()
        assert client.get(f"/cases/{queue['refs']['A']}").status_code == 200
        case_levels = {level for _, level in seen}
        seen.clear()
        assert client.get("/preferences").status_code == 200
        other_levels = {level for _, level in seen}
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert queue_levels == case_levels == {"AUTOCOMMIT"}
    assert "AUTOCOMMIT" not in other_levels
    later = NOW + timedelta(minutes=2)
    with time_machine.travel(later, tick=False):
        assert client.get("/cases").status_code == 200
    with app.app_context():
        seen_at = db.session.execute(sa.select(UserSession.last_seen_at).order_by(UserSession.id.desc())).scalar()
    assert seen_at == later
