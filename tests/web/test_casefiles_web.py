"""dsr's own retention in the browser (issue 18, item 8): the card on a closed case, holds placed and
released by the privacy manager only, the reduced case's page and the dashboard's list of what is due."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
import time_machine

from dsr.casefiles import operations as ops
from dsr.casefiles.models import CaseFileHold
from dsr.cases import lifecycle
from dsr.cases.models import Case
from dsr.domain.enums import Role
from dsr.extensions import db
from tests.factories import login, make_case, make_user
from tests.web.support import text_of

CLOSED = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
LATER = datetime(2028, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def closed(app):
    with time_machine.travel(CLOSED, tick=False), app.app_context():
        make_user(Role.PRIVACY_MANAGER)
        staff = make_user(Role.STAFF)
        make_user(Role.AUDITOR)
        case = make_case(actor=staff, notes="<b>Mevrouw</b> belde")
        lifecycle.withdraw(case, how="Per e-mail ingetrokken", actor=staff, now=CLOSED)
        db.session.commit()
        return case.reference


def client_as(app, role):
    client = app.test_client()
    login(client, role)
    return client


def test_the_card_says_when_the_file_is_reduced(app, closed):
    with time_machine.travel(CLOSED, tick=False):
        page = text_of(client_as(app, Role.STAFF).get(f"/cases/{closed}").get_data(as_text=True))
    assert "Case file retention" in page
    assert "reduced 2 years after closure, on 26 November 2028" in page
    assert "Keep this case file" not in page  # staff may not place holds


def test_the_privacy_manager_keeps_a_file_for_a_complaint_and_releases_it(app, closed):
    with time_machine.travel(LATER, tick=False):
        manager = client_as(app, Role.PRIVACY_MANAGER)
        response = manager.post(f"/cases/{closed}/file-holds", data={
            "filehold-kind": "complaint", "filehold-reason": "Klacht <script>x</script> bij de AP"})
        assert response.status_code == 302
        page = manager.get(f"/cases/{closed}").get_data(as_text=True)
        assert "Klacht &lt;script&gt;x&lt;/script&gt; bij de AP" in page
        assert "Kept by:" in text_of(page) and "an open complaint" in text_of(page)
        dashboard = text_of(manager.get("/dashboard").get_data(as_text=True))
        assert closed in dashboard and "kept by an open complaint" in dashboard
        with app.app_context():
            hold_id = db.session.scalars(sa.select(CaseFileHold.id)).one()
        refused = manager.post(f"/cases/{closed}/file-holds/release", data={"filerelease-hold_id": hold_id,
                                                                          "filerelease-reason": ""})
        assert refused.status_code == 400
        response = manager.post(f"/cases/{closed}/file-holds/release", data={
            "filerelease-hold_id": hold_id, "filerelease-reason": "Afgehandeld"})
        assert response.status_code == 302
        dashboard = text_of(manager.get("/dashboard").get_data(as_text=True))
        assert "1 case file due for reduction by the next daily run" in dashboard


@pytest.mark.parametrize("role", [Role.STAFF, Role.AUDITOR])
def test_only_the_privacy_manager_places_holds(app, closed, role):
    response = client_as(app, role).post(f"/cases/{closed}/file-holds", data={
        "filehold-kind": "complaint", "filehold-reason": "x"})
    assert response.status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseFileHold)) == 0


def test_a_reduced_case_shows_only_what_remains(app, closed):
    with time_machine.travel(LATER, tick=False), app.app_context():
        ops.reduce_due_case_files(now=LATER, today=date(2028, 12, 1))
        db.session.commit()
        client = client_as(app, Role.AUDITOR)
        page = text_of(client.get(f"/cases/{closed}").get_data(as_text=True))
        assert "This case file was reduced on" in page and closed in page
        assert "Mevrouw" not in page and "Zoë" not in page and "ingetrokken" not in page
        assert "details removed" in page
        trail = text_of(client.get(f"/cases/{closed}/audit").get_data(as_text=True))
        assert "details removed by retention" in trail and "Zoë" not in trail
        queue = client.get("/cases?state=withdrawn").get_data(as_text=True)
        assert closed in queue
        with app.app_context():
            assert db.session.scalars(sa.select(Case).where(Case.reference == closed)).one().subject_id is None
            from dsr.auth.models import User
            from dsr.auth.operations import issue_api_token

            auditor = db.session.scalars(sa.select(User).where(User.role == Role.AUDITOR)).one()
            token = issue_api_token(auditor, actor=None, now=LATER)
            db.session.commit()
        api = app.test_client().get(f"/api/v1/cases/{closed}", headers={"Authorization": f"Bearer {token}"})
        assert api.status_code == 200 and api.get_json()["subject"] is None
