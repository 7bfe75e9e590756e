"""The case-page cards of issue 18 in the browser: who asks (item 3), direct transmission (item 7) and the fee
for a further copy (item 5). Each posts its form, shows the result escaped, and refuses bad input with 400."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
import time_machine

from dsr.domain.enums import Right, Role
from dsr.extensions import db
from dsr.requesters.models import CaseRequester
from dsr.transmissions.models import DirectTransmission
from tests.conftest import NOW
from tests.factories import login, make_case, make_user
from tests.web.support import text_of


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def reference(app):
    with app.app_context():
        make_user(Role.PRIVACY_MANAGER)
        make_user(Role.AUDITOR)
        return make_case(actor=make_user(Role.STAFF), rights=(Right.ACCESS, Right.PORTABILITY)).reference


def client_as(app, role):
    client = app.test_client()
    login(client, role)
    return client


def test_staff_record_a_lawyer_and_the_page_shows_them_escaped(app, reference):
    staff = client_as(app, Role.STAFF)
    refused = staff.post(f"/cases/{reference}/requester/record", data={"req_record-role": "lawyer",
                                                                      "req_record-name": "mr. X"})
    assert refused.status_code == 400  # no address: the letters could not reach them
    response = staff.post(f"/cases/{reference}/requester/record", data={
        "req_record-role": "lawyer", "req_record-name": "mr. <i>A</i> de Wit", "req_record-address": "Weena 10",
        "req_record-postcode": "3012 CM", "req_record-city": "Rotterdam"})
    assert response.status_code == 302
    page = staff.get(f"/cases/{reference}").get_data(as_text=True)
    assert "mr. &lt;i&gt;A&lt;/i&gt; de Wit" in page and "Mandate not checked yet" in text_of(page)
    assert staff.post(f"/cases/{reference}/requester/nonsense", data={}).status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseRequester)) == 1


def test_the_auditor_records_nothing(app, reference):
    auditor = client_as(app, Role.AUDITOR)
    assert auditor.post(f"/cases/{reference}/requester/deceased", data={}).status_code == 403
    assert auditor.post(f"/cases/{reference}/transmissions", data={}).status_code == 403


def test_a_direct_transmission_is_recorded_from_the_card(app, reference):
    staff = client_as(app, Role.STAFF)
    bad = staff.post(f"/cases/{reference}/transmissions", data={
        "transmission-controller": "Noord", "transmission-channel": "sftp", "transmission-on": "2026-12-31"})
    assert bad.status_code == 400 and "cannot be in the future" in bad.get_data(as_text=True)
    response = staff.post(f"/cases/{reference}/transmissions", data={
        "transmission-controller": "Verzekeraar Noord", "transmission-channel": "sftp", "transmission-on": "2026-11-25"})
    assert response.status_code == 302
    assert "Sent to Verzekeraar Noord by SFTP on 25 Nov 2026." in text_of(
        staff.get(f"/cases/{reference}").get_data(as_text=True))
    with app.app_context():
        sent = db.session.scalars(sa.select(DirectTransmission)).one()
        assert sent.transmitted_on == date(2026, 11, 25)


def test_a_fee_on_a_first_copy_is_refused(app, reference):
    manager = client_as(app, Role.PRIVACY_MANAGER)
    response = manager.post(f"/cases/{reference}/fee/propose", data={"fee_propose-amount": "12.50",
                                                                    "fee_propose-basis": "Een uur werk"})
    assert response.status_code == 409 and "first copy is free" in response.get_data(as_text=True)
    assert client_as(app, Role.STAFF).post(f"/cases/{reference}/fee/propose", data={
        "fee_propose-amount": "12.50", "fee_propose-basis": "x"}).status_code == 403  # the privacy manager decides


# -- automated decisions (Art. 22; issue 18, item 2) ------------------------------------------------------------

@pytest.fixture
def art22_reference(app):
    from dsr.cases import lifecycle

    with app.app_context():
        make_user(Role.PRIVACY_MANAGER)
        make_user(Role.AUDITOR)
        staff = make_user(Role.STAFF)
        case = make_case(actor=staff, rights=(Right.AUTOMATED_DECISION,), commit=False)
        lifecycle.start_work(case, actor=staff, now=NOW)
        db.session.commit()
        return case.reference


def test_an_art22_request_and_its_review_are_recorded_from_the_card(app, art22_reference):
    from dsr.automated.models import AutomatedDecisionRequest, ReviewOutcome

    ref = art22_reference
    staff = client_as(app, Role.STAFF)
    page = text_of(staff.get(f"/cases/{ref}").get_data(as_text=True))
    assert "Automated decision (Art. 22)" in page and "declares no decisions based solely on automated" in page
    bad = staff.post(f"/cases/{ref}/automated-decision", data={"adm-described": "My claim was refused.",
                                                               "adm-express_view": "y"})
    assert bad.status_code == 400 and "Write down the view the subject expressed" in text_of(bad.get_data(as_text=True))
    assert staff.post(f"/cases/{ref}/automated-decision", data={
        "adm-decision_id": "", "adm-described": "My claim was <b>refused</b>.", "adm-decided_on": "2026-11-03",
        "adm-express_view": "y", "adm-contest": "y", "adm-subject_view": "It was the neighbour's pipe."}).status_code == 302
    page = staff.get(f"/cases/{ref}").get_data(as_text=True)
    assert "My claim was &lt;b&gt;refused&lt;/b&gt;." in page and "not yet reviewed" in text_of(page)
    no_view = staff.post(f"/cases/{ref}/automated-decision/review", data={
        "review-reviewer": "M. de Vries", "review-reviewed_on": "2026-11-26", "review-outcome": "changed",
        "review-outcome_text": "The claim is paid."})
    assert no_view.status_code == 409 and "must have considered it" in text_of(no_view.get_data(as_text=True))
    assert staff.post(f"/cases/{ref}/automated-decision/review", data={
        "review-reviewer": "M. de Vries", "review-reviewed_on": "2026-11-26", "review-outcome": "changed",
        "review-outcome_text": "The claim is paid.", "review-view_considered": "y"}).status_code == 302
    page = text_of(staff.get(f"/cases/{ref}").get_data(as_text=True))
    assert "Decision changed" in page and "by M. de Vries on 26 Nov 2026" in page
    with app.app_context():
        stored = db.session.scalars(sa.select(AutomatedDecisionRequest)).one()
        assert stored.outcome is ReviewOutcome.CHANGED and stored.view_considered is True
        assert (stored.human_intervention, stored.express_view, stored.contest) == (False, True, True)
    auditor = client_as(app, Role.AUDITOR)
    assert auditor.post(f"/cases/{ref}/automated-decision", data={}).status_code == 403
    assert auditor.post(f"/cases/{ref}/automated-decision/review", data={}).status_code == 403
