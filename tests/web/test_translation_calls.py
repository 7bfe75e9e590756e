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


class _Counting:
    """Translations that count the messages asked of them."""

    def __init__(self, translations, asked: list):
        self.translations, self.asked = translations, asked

    def __getattr__(self, name):
        found = getattr(self.translations, name)
        if name not in ("ugettext", "ungettext", "upgettext", "unpgettext"):
            return found

        def counted(*args):
            self.asked.append(args)
            return found(*args)
        return counted


def _counted(monkeypatch, client, path: str) -> tuple[int, int, str]:
    """Template messages translated, and how often Flask-Babel looked the translations up, in one request (the
    second: the first fills per-process caches)."""
    client.get(path)
    asked, looked_up = [], []
    cached, lookup = web.translations, flask_babel.get_translations
    monkeypatch.setattr(web, "translations", lambda: _Counting(cached(), asked))
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
    # A row translates its tick box's label and the warnings of its own ("unassigned since 3 Nov 2026", two
    # messages a badge; here most cases are unassigned); what rows share (states, rights, time left, status,
    # the badges' labels) is translated once a page and a distinct "5 days left" once (dsr/cases/queue_page.py):
    # about four a row here. (Every label of every row was translated: about nine a row, and before that each
    # state and right label was a dict of all eight or seven translated: about 20 a row.)
    assert (asked_50 - asked_10) / 40 <= 5, (asked_10, asked_50)
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


def test_template_translations_escape_what_they_insert_and_format_as_jinja_does(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert render_template_string("{{ _('Tick %(ref)s', ref='<b>&') }}") == "Tick &lt;b&gt;&amp;"
        assert render_template_string(
            "{% autoescape false %}{{ _('Tick %(ref)s', ref='<b>&') }}{% endautoescape %}") == "Tick <b>&"
        # a message is always a format string, with or without variables
        assert render_template_string("{{ _('100%% sure') }}|{{ _('plain') }}") == "100% sure|plain"
        assert render_template_string("{{ ngettext('%(num)d day', '%(num)d days', 1) }}") == "1 day"
        assert render_template_string("{{ pgettext('case', 'received') }}") == "received"
