"""A scanned letter viewed inline beside the case (issue 16, item 11).

The viewer page shows the scan (a PDF in a frame, an image as an image) next to the case's key facts. The
file itself is served inline only as what its own bytes are (a PDF, JPEG or PNG, sniffed at every request,
never the stored row's word for it and never HTML), may be framed by dsr's own pages only, and every view is
an audit event, as every download is.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
import time_machine

from dsr.attachments.models import Attachment
from dsr.audit.models import AuditEvent
from dsr.cases.models import Case
from dsr.domain.enums import Role
from dsr.extensions import db
from tests.conftest import NOW
from tests.factories import login, make_user
from tests.web.support import intake_data, jpeg_bytes, pdf_bytes, png_bytes, text_of, with_file


@pytest.fixture
def app(backend_app):
    return backend_app


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def staff(app, client):
    with app.app_context():
        user_id = make_user(Role.STAFF).id
    login(client, Role.STAFF)
    return user_id


def _logged_with(app, client, content: bytes, filename: str) -> tuple[str, int]:
    response = client.post("/cases/new", content_type="multipart/form-data", data=with_file(
        intake_data(customer_number="HC1234567", policy_number="HP-445566"), content, filename))
    assert response.status_code == 302
    with app.app_context():
        case = db.session.execute(sa.select(Case)).scalar_one()
        return case.reference, case.attachments[0].id


def _views(app) -> list[AuditEvent]:
    with app.app_context():
        events = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "attachment.viewed")).scalars()
        return [(e.actor_id, e.after["attachment_id"]) for e in events]


@pytest.mark.parametrize(("content", "filename", "media_type", "element"), [
    pytest.param(pdf_bytes(), "brief.pdf", "application/pdf", "iframe", id="pdf"),
    pytest.param(png_bytes(), "brief.png", "image/png", "img", id="png"),
    pytest.param(jpeg_bytes(), "brief.jpg", "image/jpeg", "img", id="jpeg"),
])
def test_a_scan_is_shown_beside_the_cases_key_facts_and_served_inline_as_what_it_is(
        app, client, staff, content, filename, media_type, element):
    reference, attachment_id = _logged_with(app, client, content, filename)
    case_page = client.get(f"/cases/{reference}").get_data(as_text=True)
    assert f'href="/attachments/{attachment_id}/view"' in case_page

    page = client.get(f"/attachments/{attachment_id}/view")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    inline = f"/attachments/{attachment_id}/inline"
    assert re.search(rf'<{element} class="scan-viewer[^"]*" src="{inline}"', html), html
    facts = text_of(html.split('id="key-facts"', 1)[1])
    assert reference in facts and "HC1234567" in facts and "HP-445566" in facts
    assert intake_data()["name"] in facts and "Legal deadline" in facts
    # The page frames only its own origin: the CSP's default-src 'self' covers frames, objects stay off.
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-src" not in csp and "object-src 'none'" in csp
    assert _views(app) == []  # the page alone shows no file

    served = client.get(inline)
    assert served.status_code == 200 and served.data == content
    assert served.mimetype == media_type
    assert served.headers["Content-Disposition"].startswith("inline")
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in served.headers["Content-Security-Policy"]
    assert "no-store" in served.headers["Cache-Control"]
    assert _views(app) == [(staff, attachment_id)]
    history = text_of(client.get(f"/cases/{reference}").get_data(as_text=True)).split("History", 1)[1]
    assert f"Staff viewed {filename}." in history

    # The download stays a download.
    assert client.get(f"/attachments/{attachment_id}/download").headers["Content-Disposition"].startswith("attachment")


def test_the_type_comes_from_the_stored_bytes_not_the_row(app, client, staff):
    reference, attachment_id = _logged_with(app, client, png_bytes(), "brief.png")
    with app.app_context():
        db.session.get(Attachment, attachment_id).media_type = "application/pdf"
        db.session.commit()
    served = client.get(f"/attachments/{attachment_id}/inline")
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert "<img" in client.get(f"/attachments/{attachment_id}/view").get_data(as_text=True)


def test_a_stored_file_that_is_html_is_never_shown_inline(app, client, staff):
    """A file changed on disk after its upload (or put there by anything but dsr) is not a PDF or an image
    by its content: no inline answer, no view recorded; the page says why and offers the download."""
    _reference, attachment_id = _logged_with(app, client, pdf_bytes(), "brief.pdf")
    with app.app_context():
        stored = Path(app.config["STORAGE_DIR"]) / db.session.get(Attachment, attachment_id).storage_key
    stored.write_bytes(b"<!doctype html><html><script>alert(document.cookie)</script></html>")
    served = client.get(f"/attachments/{attachment_id}/inline")
    assert served.status_code == 415 and b"<script>alert" not in served.data
    page = client.get(f"/attachments/{attachment_id}/view").get_data(as_text=True)
    assert "is not a PDF, JPEG or PNG by its content" in page and "/inline" not in page
    assert _views(app) == []


def test_unknown_and_vanished_files(app, client, staff):
    assert client.get("/attachments/424242/view").status_code == 404
    assert client.get("/attachments/424242/inline").status_code == 404
    _reference, attachment_id = _logged_with(app, client, png_bytes(), "brief.png")
    with app.app_context():
        (Path(app.config["STORAGE_DIR"]) / db.session.get(Attachment, attachment_id).storage_key).unlink()
    assert client.get(f"/attachments/{attachment_id}/view").status_code == 410
    assert client.get(f"/attachments/{attachment_id}/inline").status_code == 410
    assert _views(app) == []


def test_the_auditor_views_a_scan_and_the_view_is_recorded(app, client, staff):
    _reference, attachment_id = _logged_with(app, client, pdf_bytes(), "brief.pdf")
    with app.app_context():
        auditor = make_user(Role.AUDITOR).id
    reader = app.test_client()
    login(reader, Role.AUDITOR)
    assert reader.get(f"/attachments/{attachment_id}/view").status_code == 200
    assert reader.get(f"/attachments/{attachment_id}/inline").status_code == 200
    assert _views(app) == [(auditor, attachment_id)]
