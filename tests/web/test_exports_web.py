"""The Exports card on the case page (issue 5, item 4): staff and managers make an export and download it
(audited); the auditor sees the list and can do neither; the form needs its CSRF token; a kind the case did
not ask for is refused with 400; an expired export answers 410 Gone. On SQLite and PostgreSQL, the clock
frozen on 26 November 2026, with a copy of the demo systems per test.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from dsr.audit.models import AuditEvent
from dsr.auth.models import User
from dsr.domain.enums import Role
from dsr.exports.models import Export
from dsr.exports.operations import expire_exports
from dsr.extensions import db
from dsr.jobs.models import Job
from tests.conftest import NOW, TODAY
from tests.harmony_support import (
    customer_with_everything,
    demo_systems,
    looked_up_case,
    private_copy,
    review_third_parties,
)
from tests.web.support import (
    card_of,
    csrf_token,
    flashes,
    frozen_clock,
    make_users_of_every_role,
    signed_in,
    text_of,
)


@pytest.fixture
def app(backend_app):
    return backend_app


@pytest.fixture(autouse=True)
def _frozen_clock():
    yield from frozen_clock()


@pytest.fixture(scope="module")
def harmony(tmp_path_factory) -> str:
    return demo_systems(tmp_path_factory, TODAY)


@pytest.fixture
def systems(app, harmony, tmp_path, monkeypatch) -> str:
    monkeypatch.setitem(app.config, "DEMO_SYSTEMS_URL", url := private_copy(harmony, tmp_path))
    return url


@pytest.fixture
def reference(app, systems) -> str:
    """An access case for a demo customer, searched and the match confirmed; every role has a user."""
    with app.app_context():
        staff = make_users_of_every_role()[Role.STAFF]
        case, _lookup = looked_up_case(customer_with_everything(systems), staff, now=NOW)
        review_third_parties(case, now=NOW)  # Art. 15(4): decided before a copy is released
        db.session.commit()
        return case.reference


def card(html: str) -> str:
    return card_of(html, "exports", "jobs")


def exports(app) -> list[tuple[int, str]]:
    with app.app_context():
        return [(e.id, e.kind.value) for e in db.session.execute(sa.select(Export).order_by(Export.id)).scalars()]


def events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        found = list(db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == action)).scalars())
        db.session.expunge_all()
        return found


def make_export(app, client, reference: str) -> int:
    response = client.post(f"/cases/{reference}/exports", data={"kind": "access"})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return exports(app)[-1][0]


def test_staff_make_an_export_from_the_case_page_and_download_it(app, reference):
    staff = signed_in(app, Role.STAFF)
    html = staff.get(f"/cases/{reference}").get_data(as_text=True)
    assert "Make an export" in card(html) and "No exports yet." in card(html)

    response = staff.post(f"/cases/{reference}/exports", data={"kind": "access", "language": "en"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/cases/{reference}#exports")
    html = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert any(cat == "success" for cat, _text in flashes(html))
    [(export_id, kind)] = exports(app)
    assert kind == "access"
    block = card(html)
    link = f"/cases/{reference}/exports/{export_id}/download"
    assert link in block and "Access copy (Art. 15)" in text_of(block)

    download = staff.get(link)
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert download.headers["Cache-Control"] == "no-store"
    assert f"{reference}-access-20261126.zip" in download.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(download.data)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        assert manifest["case_reference"] == reference and json.loads(zf.read("data.json"))["language"] == "en"
    [event] = events(app, "export.downloaded")
    assert event.after["export_id"] == export_id and event.actor_label


def test_a_manager_downloads_too_and_each_download_is_audited(app, reference):
    export_id = make_export(app, signed_in(app, Role.STAFF), reference)
    manager = signed_in(app, Role.PRIVACY_MANAGER)
    for _ in range(2):
        assert manager.get(f"/cases/{reference}/exports/{export_id}/download").status_code == 200
    with app.app_context():
        manager_id = db.session.execute(sa.select(User.id).where(User.role == Role.PRIVACY_MANAGER)).scalar_one()
    assert [e.actor_id for e in events(app, "export.downloaded")] == [manager_id, manager_id]


def test_the_auditor_sees_the_exports_but_can_neither_download_nor_make_one(app, reference):
    export_id = make_export(app, signed_in(app, Role.STAFF), reference)
    auditor = signed_in(app, Role.AUDITOR)
    block = card(auditor.get(f"/cases/{reference}").get_data(as_text=True))
    assert "Access copy (Art. 15)" in text_of(block)
    assert "/download" not in block and "Make an export" not in block
    assert auditor.get(f"/cases/{reference}/exports/{export_id}/download").status_code == 403
    assert auditor.post(f"/cases/{reference}/exports", data={"kind": "access"}).status_code == 403
    assert events(app, "export.downloaded") == [] and len(exports(app)) == 1


def test_a_bad_or_unrequested_kind_is_refused_with_400_and_nothing_is_queued(app, reference):
    staff = signed_in(app, Role.STAFF)
    for kind in ("everything", "portability", ""):  # portability: this case asked for access only
        response = staff.post(f"/cases/{reference}/exports", data={"kind": kind})
        assert response.status_code == 400
        assert "Nothing was made" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0
    assert exports(app) == []
    assert staff.get(f"/cases/{reference}/exports/999/download").status_code == 404


def test_the_export_form_needs_its_csrf_token(app, reference, monkeypatch):
    staff = signed_in(app, Role.STAFF)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert staff.post(f"/cases/{reference}/exports", data={"kind": "access"}).status_code == 400
    assert exports(app) == []
    html = staff.get(f"/cases/{reference}").get_data(as_text=True)
    token = csrf_token(card(html))
    assert re.search(r'name="csrf_token"', card(html))
    response = staff.post(f"/cases/{reference}/exports", data={"kind": "access", "csrf_token": token})
    assert response.status_code == 303 and len(exports(app)) == 1


def test_an_expired_export_is_gone(app, reference):
    staff = signed_in(app, Role.STAFF)
    export_id = make_export(app, staff, reference)
    link = f"/cases/{reference}/exports/{export_id}/download"
    # Past its expiry, before the expiry job has run: not served.
    with time_machine.travel(NOW + timedelta(days=31), tick=False):
        assert signed_in(app, Role.STAFF).get(link).status_code == 410
    # Deleted by the expiry job: the row stays, shown as deleted, and the link answers 410.
    with app.app_context():
        expire_exports(now=NOW + timedelta(days=30))
        db.session.commit()
    assert staff.get(link).status_code == 410
    block = card(staff.get(f"/cases/{reference}").get_data(as_text=True))
    assert "deleted" in text_of(block) and link not in block
    assert events(app, "export.downloaded") == []
