"""The templates' translations (issue 15, item 3): looked up once per request and locale, not on every label,
still following ``force_locale``; and a queue row translates the labels it shows, not every label it could.

Counts, not timings: a regression shows as more lookups per row.
"""

from __future__ import annotations

from datetime import timedelta

import flask_babel
import pytest
from flask import render_template_string

from dsr import web
from dsr.cases.operations import log_request
from dsr.domain.enums import Channel, Language, Right, Role
from dsr.extensions import db
from tests.conftest import NOW, TODAY
from tests.factories import make_user, subject_details
from tests.web.support import frozen_clock, signed_in


@pytest.fixture(autouse=True)
def _frozen():
    yield from frozen_clock()


def _add_cases(count: int, staff) -> None:
    for i in range(count):
        log_request(subject=subject_details(), rights=[Right.ACCESS, Right.ERASURE][: 1 + i % 2],
                    channel=Channel.EMAIL, received_on=TODAY - timedelta(days=2 + i % 40), language=Language.NL,
                    notes="", actor=staff, now=NOW, today=TODAY)
    db.session.commit()


def _counted(monkeypatch, client, path: str) -> tuple[int, int, str]:
    """Template translations asked for, and how often Flask-Babel looked them up, in one request (the second:
    the first fills per-process caches)."""
    client.get(path)
    asked, looked_up = [], []
    cached, lookup = web.translations, flask_babel.get_translations
    monkeypatch.setattr(web, "translations", lambda: asked.append(1) or cached())
    monkeypatch.setattr(web, "get_translations", lambda: looked_up.append(1) or lookup())
    try:
        response = client.get(path)
    finally:
        monkeypatch.setattr(web, "translations", cached)
        monkeypatch.setattr(web, "get_translations", lookup)
    assert response.status_code == 200
    return len(asked), len(looked_up), response.get_data(as_text=True)


def test_a_queue_row_translates_only_the_labels_it_shows_and_the_page_looks_them_up_once(app, monkeypatch):
    with app.app_context():
        staff = make_user(Role.STAFF)
        make_user(Role.PRIVACY_MANAGER)
        _add_cases(10, staff)
    manager = signed_in(app, Role.PRIVACY_MANAGER)
    page_size = app.config["QUEUE_PAGE_SIZE"]
    try:
        app.config["QUEUE_PAGE_SIZE"] = 50
        asked_10, looked_up_10, html = _counted(monkeypatch, manager, "/cases")
        assert html.count('<td class="ref">') == 10
        with app.app_context():
            _add_cases(40, db.session.merge(staff))
        asked_50, looked_up_50, html = _counted(monkeypatch, manager, "/cases")
        assert html.count('<td class="ref">') == 50
    finally:
        app.config["QUEUE_PAGE_SIZE"] = page_size
    # A row shows its state, one or two rights, the time left and a badge: about nine labels. (Each state
    # and right label was a dict of all eight or seven translated, for every row: about 20 a row.)
    assert (asked_50 - asked_10) / 40 <= 10, (asked_10, asked_50)
    # Flask-Babel finds the translations once for the whole page, whatever the rows.
    assert looked_up_10 == looked_up_50 == 1


def test_template_translations_follow_force_locale_within_one_request(app):
    with app.test_request_context(headers={"Accept-Language": "nl"}):
        template = "{{ _('received') }}|{{ ngettext('%(num)d day', '%(num)d days', 2) }}"
        assert render_template_string(template) == "ontvangen|2 dagen"
        with flask_babel.force_locale("fr"):
            assert render_template_string(template) == "reçue|2 jours"
        assert render_template_string(template) == "ontvangen|2 dagen"
        with flask_babel.force_locale("en"):
            assert render_template_string(template) == "received|2 days"
