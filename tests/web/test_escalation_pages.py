"""The escalation report at size and what its rows say (issue 15 item 3, issue 16 item 12): the page is
paginated while the CSV and the PDF hold every row; each row names its subject; a due-soon row is not
shown as days overdue. The clock is frozen on Thursday 26 November 2026."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from dsr.domain.enums import Role
from dsr.extensions import db
from tests.factories import make_case
from tests.web.support import frozen_clock, make_users_of_every_role, signed_in, text_of


@pytest.fixture(autouse=True)
def _frozen_clock():
    yield from frozen_clock()


@pytest.fixture
def report_app(app):
    """Twelve cases past the legal deadline and one due soon, of people with distinct names."""
    with app.app_context():
        staff = make_users_of_every_role()[Role.STAFF]
        for n in range(12):
            make_case(actor=staff, received_on=date(2026, 9, 1) + timedelta(days=n), name=f"Ilse Overdue{n:02d}",
                      email=f"o{n}@example.nl", customer_number=f"HC{7200000 + n}", policy_number=None)
        make_case(actor=staff, received_on=date(2026, 11, 2), name="Sam Duesoon", email="s@example.nl",
                  customer_number="HC7299999", policy_number=None)
        db.session.commit()
    app.config["REPORT_PAGE_SIZE"] = 10
    yield app
    app.config.pop("REPORT_PAGE_SIZE")


def test_the_page_is_paginated_and_every_row_names_its_subject(report_app):
    client = signed_in(report_app, Role.PRIVACY_MANAGER)
    first = text_of(client.get("/reports/escalations").get_data(as_text=True))
    rows = re.findall(r"Ilse Overdue\d\d|Sam Duesoon", first)
    assert "Rows 1–10 of" in first
    total = int(re.search(r"Rows 1–10 of (\d+)", first).group(1))
    seen = set(rows)
    for page in range(2, -(-total // 10) + 1):
        text = text_of(client.get(f"/reports/escalations?page={page}").get_data(as_text=True))
        seen |= set(re.findall(r"Ilse Overdue\d\d|Sam Duesoon", text))
    assert seen == {f"Ilse Overdue{n:02d}" for n in range(12)} | {"Sam Duesoon"}
    # The section's heading counts all its rows, not the page's.
    assert re.search(r"Past the legal deadline 12\b", first)
    assert "Late by / time left" in first and "Days overdue" not in first
    # Past the last page: the last page.
    last = client.get("/reports/escalations?page=999")
    assert last.status_code == 200


def test_csv_and_pdf_hold_every_row_with_the_subjects_name(report_app):
    client = signed_in(report_app, Role.PRIVACY_MANAGER)
    rows = list(csv.DictReader(io.StringIO(client.get("/reports/escalations?format=csv").get_data(as_text=True))))
    overdue = [r for r in rows if r["kind"] == "legal_overdue"]
    assert sorted(r["subject"] for r in overdue) == [f"Ilse Overdue{n:02d}" for n in range(12)]
    soon = next(r for r in rows if r["kind"] == "due_soon")
    assert soon["subject"] == "Sam Duesoon" and soon["days_overdue"] == "" and int(soon["days_left"]) > 0
    pdf = client.get("/reports/escalations?format=pdf").data
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for n in range(12):
        assert f"Ilse Overdue{n:02d}" in text
    assert "Sam Duesoon" in text
