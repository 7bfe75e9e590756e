"""The queue's rows printed in Python are the rows the template's loop printed cell by cell (issue 15, item 3).

``dsr.cases.queue_page.rows_html`` prints each row as one piece of HTML, where the template printed some 40
pieces a row; the page must stay the same byte for byte. The loop below is the template's as it was: every
combination of what a row may show (open or closed, paused, promise missed, extended, information asked late,
notice owed, open tasks, high priority, warnings, a customer number, text to escape), for a privacy manager and
for staff, in the three languages, must print the same.
"""

from __future__ import annotations

import itertools

import pytest
from flask import render_template_string
from markupsafe import Markup

from dsr.cases.queue_page import QueueRow, rows_html

TEMPLATE_LOOP = """{% set is_manager, extended_label, paused_label, late_title, late_label, notice_label, high_label, closed_label = is_manager, _('extended'), _('paused'), _('Information was asked for too late to pause the clock'), _('information asked late'), _('extension notice owed'), _('high'), _('closed') %}
  {% for row in shown %}
    <tr>
      {% if is_manager %}<td>{% if row.open %}<input class="form-check-input" type="checkbox" form="bulk" name="case" value="{{ row.reference }}:{{ row.version }}" aria-label="{{ _('Tick %(ref)s', ref=row.reference) }}">{% endif %}</td>{% endif %}
      <td class="ref"><a href="{{ row.url }}">{{ row.reference }}</a></td>
      <td>{{ row.subject }}{% if row.customer_number %} <span class="text-muted small">{{ row.customer_number }}</span>{% endif %}</td>
      <td class="rights-list col-wide">{{ row.rights }}</td>
      <td class="col-wide">{{ row.state }}</td>
      <td class="col-wide">{{ row.assignee }}</td>
      <td class="text-nowrap col-wide col-xxl">{{ row.received }}</td>
      <td class="col-wide text-nowrap{% if row.open and row.past_promise %} text-danger{% endif %}">{{ row.promise_by }}</td>
      <td class="text-nowrap col-wide">{{ row.due_on }}{% if row.extended %} <span class="badge text-bg-light border" title="{{ extended_label }}">+2m</span>{% endif %}</td>
      <td class="text-nowrap col-wide">{% if row.open and row.paused %}{{ paused_label }}{% elif row.open %}{{ row.left }}{% else %}—{% endif %}</td>
      <td>{% if row.open and not row.paused %}<div class="d-md-none small text-nowrap">{{ row.left }}</div>{% endif %}{% if row.open %}{{ row.status }}
            {% if row.paused %}<span class="badge text-bg-info">{{ paused_label }}</span>{% endif %}
            {% if row.late_pause %}<span class="badge text-bg-warning" title="{{ late_title }}">{{ late_label }}</span>{% endif %}
            {% if row.notice_owed %}<span class="badge text-bg-danger">{{ notice_label }}</span>{% endif %}
            {% if row.open_tasks %}<span class="badge text-bg-light border">{{ ngettext('%(num)d open task', '%(num)d open tasks', row.open_tasks) }}</span>{% endif %}
            {% if row.high %}<span class="badge text-bg-danger">{{ high_label }}</span>{% endif %}
            {{ row.badges }}
          {% else %}<span class="text-muted small">{{ closed_label }}</span>{% endif %}</td>
    </tr>
  {% else %}EMPTY{% endfor %}"""

PYTHON_LOOP = """{% set is_manager, extended_label, paused_label, late_title, late_label, notice_label, high_label, closed_label = is_manager, _('extended'), _('paused'), _('Information was asked for too late to pause the clock'), _('information asked late'), _('extension notice owed'), _('high'), _('closed') %}
  {% for row in rows_html(shown, is_manager=is_manager, extended=extended_label, paused=paused_label, late_title=late_title, late=late_label, notice=notice_label, high=high_label, closed=closed_label) %}{{ row }}{% else %}EMPTY{% endfor %}"""


def _rows() -> list[QueueRow]:
    rows = []
    flags = itertools.product([True, False], repeat=8)
    for n, (is_open, paused, past_promise, extended, late_pause, notice_owed, high, customer) in enumerate(flags):
        rows.append(QueueRow(
            id=n, reference=f"DSR-2026-{n:05d}<&>", version=n % 3 + 1, url=f"/cases/DSR-2026-{n:05d}%3C&%3E",
            subject='<b>Zoë</b> & "Q" \'s' if n % 2 else "Jan de Vries",
            customer_number="<i>C&1</i>" if customer else "",
            rights=Markup('<span class="badge">access</span> '), state=Markup("in progress"),
            assignee="—" if n % 3 else 'Staff <b>&</b> "One"', received="4 december 2026", open=is_open,
            paused=paused, promise_by="8 januari 2027", past_promise=past_promise, due_on="4 januari 2027",
            extended=extended, left=Markup("3 dagen over") if is_open and not paused else "",
            status=Markup('<span class="badge badge-on_track">op schema</span>') if is_open and not paused else "",
            late_pause=late_pause, notice_owed=notice_owed, open_tasks=n % 3, high=high,
            badges=Markup('\n<span class="badge text-bg-warning">x</span>\n') if n % 4 == 0 else Markup(""),
        ))
    return rows


@pytest.mark.parametrize("language", ["nl", "en", "fr"])
@pytest.mark.parametrize("is_manager", [True, False])
def test_the_rows_printed_in_python_are_the_template_loops(app, language, is_manager):
    rows = _rows()
    assert len(rows) == 256
    with app.test_request_context(headers={"Accept-Language": language}):
        template = render_template_string(TEMPLATE_LOOP, shown=rows, is_manager=is_manager)
        python = render_template_string(PYTHON_LOOP, shown=rows, is_manager=is_manager, rows_html=rows_html)
        assert python == template
        assert "&lt;b&gt;Zoë" in python and "&lt;i&gt;C&amp;1&lt;/i&gt;" in python  # typed text escaped
        empty = render_template_string(PYTHON_LOOP, shown=[], is_manager=is_manager, rows_html=rows_html)
        assert empty == render_template_string(TEMPLATE_LOOP, shown=[], is_manager=is_manager)
