"""The "needs attention" panel of an unanswered information request and its close action (issue 18, item 6)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
import time_machine

from dsr.cases import timing
from dsr.cases.models import Case
from dsr.domain.enums import Role
from dsr.extensions import db
from tests.factories import login, make_case, make_user
from tests.web.support import text_of

ASKED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def reference(app):
    with time_machine.travel(ASKED, tick=False), app.app_context():
        make_user(Role.PRIVACY_MANAGER)
        staff = make_user(Role.STAFF)
        case = make_case(actor=staff, received_on=date(2026, 11, 20), now=ASKED, today=date(2026, 11, 23))
        timing.request_information(case, reason="Polisnummer", requested_on=date(2026, 11, 23), actor=staff,
                                   now=ASKED, today=date(2026, 11, 23))
        db.session.commit()
        return case.reference


def client_as(app, role):
    client = app.test_client()
    login(client, role)
    return client


def test_the_panel_appears_after_30_days_and_the_queue_flags_it(app, reference):
    with time_machine.travel(datetime(2026, 12, 22, 9, 0, tzinfo=UTC), tick=False):
        client = client_as(app, Role.STAFF)
        assert "Needs attention: no answer" not in client.get(f"/cases/{reference}").get_data(as_text=True)
        assert reference not in client.get("/cases?flag=long_pause").get_data(as_text=True)
    with time_machine.travel(LATER, tick=False):
        client = client_as(app, Role.STAFF)
        page = text_of(client.get(f"/cases/{reference}").get_data(as_text=True))
        assert "Information was asked for on 23 Nov 2026, 30 days ago, and has not come." in page
        assert "Close the case" not in page  # the privacy manager decides
        assert reference in client.get("/cases?flag=long_pause").get_data(as_text=True)


def test_the_privacy_manager_closes_it(app, reference):
    with time_machine.travel(LATER, tick=False):
        assert client_as(app, Role.STAFF).post(f"/cases/{reference}/close-unanswered", data={
            "unanswered-justification": "x"}).status_code == 403
        manager = client_as(app, Role.PRIVACY_MANAGER)
        assert manager.post(f"/cases/{reference}/close-unanswered", data={
            "unanswered-justification": ""}).status_code == 400
        response = manager.post(f"/cases/{reference}/close-unanswered", data={
            "unanswered-justification": "Zonder polisnummer niet te identificeren."})
        assert response.status_code == 302
        with app.app_context():
            case = db.session.scalars(sa.select(Case).where(Case.reference == reference)).one()
            assert case.state.value == "refused" and case.refusal_ground.value == "identity_not_established"
