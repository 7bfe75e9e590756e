"""The jobs card on the case page (issue 5, item 5): status, progress, the error, and a retry button for
staff and managers only; the auditor sees the card and cannot retry. The retry form carries its CSRF token.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from dsr.domain.enums import JobStatus, Role
from dsr.extensions import db
from dsr.jobs import runner
from dsr.jobs.health import KIND as HEALTH
from dsr.jobs.models import Job
from tests.conftest import NOW
from tests.factories import login, make_case, make_user
from tests.web.support import csrf_token, flashes, frozen_clock, make_users_of_every_role, text_of


@pytest.fixture(autouse=True)
def _frozen_clock():
    yield from frozen_clock()


@pytest.fixture
def failed_job(app) -> tuple[str, int]:
    """A case with a health-check job that failed because the queue was unreachable."""
    with app.app_context():
        make_users_of_every_role()
        case = make_case(actor=make_user(Role.STAFF, "logger@harmony.test"))
        job = runner.create(HEALTH, now=NOW, case=case)
        db.session.commit()
        app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
        try:
            runner.dispatch(job)
        finally:
            app.config["REDIS_URL"] = None
        return case.reference, job.id


def _status(app, job_id: int) -> JobStatus:
    with app.app_context():
        return db.session.get(Job, job_id).status


def test_the_case_page_shows_the_failed_job_with_its_error_and_a_retry_button(app, client, failed_job):
    reference, job_id = failed_job
    login(client, Role.STAFF)
    page = client.get(f"/cases/{reference}").get_data(as_text=True)
    card = text_of(page)
    assert "Worker health check" in card and "failed" in card
    assert "The job queue could not be reached" in card
    assert f'action="/cases/{reference}/jobs/{job_id}/retry"' in page


@pytest.mark.parametrize("role", [Role.STAFF, Role.PRIVACY_MANAGER])
def test_staff_and_managers_retry_and_the_job_runs_again(app, client, failed_job, role):
    reference, job_id = failed_job
    login(client, role)
    response = client.post(f"/cases/{reference}/jobs/{job_id}/retry")
    assert response.status_code == 303
    assert ("success", "The job was queued again.") in flashes(client.get(response.location).get_data(as_text=True))
    assert _status(app, job_id) is JobStatus.SUCCEEDED
    with app.app_context():
        assert db.session.get(Job, job_id).attempts == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 1


def test_the_auditor_sees_the_card_but_cannot_retry(app, client, failed_job):
    reference, job_id = failed_job
    login(client, Role.AUDITOR)
    page = client.get(f"/cases/{reference}").get_data(as_text=True)
    assert "The job queue could not be reached" in text_of(page)
    assert "/retry" not in page
    assert client.post(f"/cases/{reference}/jobs/{job_id}/retry").status_code == 403
    assert _status(app, job_id) is JobStatus.FAILED


def test_a_succeeded_job_cannot_be_retried(app, client, failed_job):
    reference, job_id = failed_job
    login(client, Role.STAFF)
    client.post(f"/cases/{reference}/jobs/{job_id}/retry", follow_redirects=True)
    response = client.post(f"/cases/{reference}/jobs/{job_id}/retry", follow_redirects=True)
    assert ("warning", f"Job {job_id} has already succeeded; only a failed job can be retried.") in flashes(
        response.get_data(as_text=True))


def test_a_job_of_another_case_is_not_found(app, client, failed_job):
    reference, job_id = failed_job
    with app.app_context():
        other = make_case(actor=make_user(Role.STAFF, "other@harmony.test"), name="Someone Else").reference
    login(client, Role.STAFF)
    assert client.post(f"/cases/{other}/jobs/{job_id}/retry").status_code == 404
    assert client.post(f"/cases/NOPE-1/jobs/{job_id}/retry").status_code == 404


def test_the_card_alone_polls_while_a_job_is_not_done(app, client, failed_job):
    reference, job_id = failed_job
    with app.app_context():
        job = db.session.get(Job, job_id)
        job.status, job.error, job.finished_at, job.attempts = JobStatus.RUNNING, None, None, 1
        job.started_at, job.progress, job.progress_note = NOW, 35, "700 of 2,000 records"
        db.session.commit()
    login(client, Role.AUDITOR)
    card = client.get(f"/cases/{reference}/jobs").get_data(as_text=True)
    assert 'hx-trigger="every 2s"' in card
    assert '<progress class="w-100 mt-1" max="100" value="35">' in card
    assert "700 of 2,000 records" in card


def test_the_retry_form_needs_its_csrf_token(app, failed_job):
    reference, job_id = failed_job
    client = app.test_client()
    login(client, Role.STAFF)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert client.post(f"/cases/{reference}/jobs/{job_id}/retry").status_code == 400
        assert _status(app, job_id) is JobStatus.FAILED
        token = csrf_token(client.get(f"/cases/{reference}").get_data(as_text=True))
        response = client.post(f"/cases/{reference}/jobs/{job_id}/retry", data={"csrf_token": token})
        assert response.status_code == 303
        assert _status(app, job_id) is JobStatus.SUCCEEDED
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
