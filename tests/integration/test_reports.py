"""The escalation report against a real database (SQLite and PostgreSQL): CSV columns, PDF text, the CLI's
exit status, the daily e-mail through a local SMTP server (aiosmtpd), and the schedule.
"""

from __future__ import annotations

import csv
import email
import io
import socket
from datetime import date
from email import policy

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from dsr.audit.models import AuditEvent
from dsr.auth.operations import create_user
from dsr.cases import lifecycle, timing
from dsr.domain.enums import JobStatus, Right, Role
from dsr.extensions import db
from dsr.jobs.models import Job
from dsr.jobs.runner import perform
from dsr.reports.commands import build_scheduler, schedule_entries
from dsr.reports.dashboard import tile_counts
from dsr.reports.data import build_report, warnings_for
from dsr.reports.escalations import Kind
from dsr.reports.models import ReportRun, RunOutcome
from dsr.reports.render import CSV_COLUMNS, report_csv, report_pdf
from dsr.tasks.operations import add_task
from tests.conftest import NOW, TODAY
from tests.dashboard_support import answered_cases, monthly
from tests.factories import make_case, make_user

# Thursday 26 November 2026 (TODAY): a working day. Saturday 28 November and Christmas Day are not.
SATURDAY = date(2026, 11, 28)
CHRISTMAS = date(2026, 12, 25)


def _case(staff, n: int, received_on: date, rights=(Right.ACCESS,)):
    return make_case(actor=staff, received_on=received_on, rights=rights, name=f"Person {n}",
                     email=f"p{n}@example.nl", customer_number=f"HC{7000000 + n}", policy_number=None)


@pytest.fixture
def people(ctx):
    manager = make_user(Role.PRIVACY_MANAGER)
    staff = create_user("staff@harmony.test", name="=HYPERLINK(\"x\")", role=Role.STAFF,
                        password="staff-password-123", actor=None, now=NOW)
    db.session.commit()
    return manager, staff


@pytest.fixture
def cases(people):
    """An overdue erasure (assigned to a name that looks like a formula), a due-soon access request nobody
    took, an extended case whose notice is owed, a case with an overdue task, and one on track."""
    manager, staff = people
    overdue = _case(staff, 1, date(2026, 10, 1), rights=(Right.ERASURE,))  # legal deadline 2 November
    lifecycle.assign(overdue, staff, actor=manager, now=NOW)
    due_soon = _case(staff, 2, date(2026, 11, 2))  # due 2 December
    extended = _case(staff, 3, date(2026, 11, 10), rights=(Right.ACCESS, Right.PORTABILITY))
    lifecycle.assign(extended, manager, actor=manager, now=NOW)
    timing.extend(extended, reason="Many systems to search", actor=manager, now=NOW, today=TODAY)
    tasked = _case(staff, 4, date(2026, 11, 20))
    lifecycle.assign(tasked, staff, actor=manager, now=NOW)
    add_task(tasked, "Ask Focus Feedback", assignee=staff, due_on=date(2026, 11, 24), actor=manager, now=NOW,
             today=date(2026, 11, 20))
    quiet = _case(staff, 5, date(2026, 11, 25))
    lifecycle.assign(quiet, staff, actor=manager, now=NOW)
    db.session.commit()
    return {"overdue": overdue, "due_soon": due_soon, "extended": extended, "tasked": tasked, "quiet": quiet}


def test_the_report_reads_the_stored_cases(cases):
    report = build_report(TODAY)
    found = {(i.kind, i.case.reference) for i in report.items}
    assert (Kind.LEGAL_OVERDUE, cases["overdue"].reference) in found
    assert (Kind.DUE_SOON, cases["due_soon"].reference) in found
    assert (Kind.UNASSIGNED, cases["due_soon"].reference) in found
    assert (Kind.NOTICE_OWED, cases["extended"].reference) in found
    assert (Kind.TASK_OVERDUE, cases["tasked"].reference) in found
    assert not any(ref == cases["quiet"].reference for _k, ref in found)
    assert report.first.case.reference == cases["overdue"].reference
    # The case page and the queue get exactly the report's items for their cases.
    warnings = warnings_for([cases["tasked"], cases["quiet"]], TODAY)
    assert [i.kind for i in warnings[cases["tasked"].id]] == [Kind.TASK_OVERDUE]
    assert warnings[cases["quiet"].id] == []


def test_an_unassigned_case_counts_from_its_unassignment(people):
    manager, staff = people
    case = _case(staff, 9, date(2026, 11, 2))
    lifecycle.assign(case, staff, actor=manager, now=NOW)
    lifecycle.assign(case, None, actor=manager, now=NOW)  # unassigned today: not yet "too long"
    db.session.commit()
    assert Kind.UNASSIGNED not in {i.kind for i in build_report(TODAY).items}
    assert Kind.UNASSIGNED in {i.kind for i in build_report(date(2026, 12, 1)).items}


def test_csv_has_its_columns_and_neutralises_formulas(cases):
    rows = list(csv.reader(io.StringIO(report_csv(build_report(TODAY)))))
    assert rows[0] == CSV_COLUMNS == ["kind", "reference", "subject", "rights", "state", "assignee", "received_on",
                                      "due_on", "days_overdue", "days_left", "overdue", "task", "detail"]
    by_ref = {(r[0], r[1]): dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    overdue = by_ref[("legal_overdue", cases["overdue"].reference)]
    assert overdue["due_on"] == "2026-11-02" and overdue["days_overdue"] == "24" and overdue["overdue"] == "yes"
    assert overdue["rights"] == "erasure"
    assert overdue["assignee"] == "'=HYPERLINK(\"x\")"  # not a formula in a spreadsheet
    task = by_ref[("task_overdue", cases["tasked"].reference)]
    assert task["task"] == "Ask Focus Feedback" and task["days_overdue"] == "2"
    due_soon = by_ref[("due_soon", cases["due_soon"].reference)]
    # A due-soon row is not "-6 days overdue": it has 6 days left.
    assert (due_soon["days_overdue"], due_soon["days_left"], due_soon["overdue"]) == ("", "6", "no")
    assert overdue["days_left"] == ""
    # Each row names its subject (issue 16, item 12).
    assert overdue["subject"] == cases["overdue"].subject.name
    assert all(row["subject"] for row in by_ref.values())


def test_pdf_text_names_the_first_thing_to_do_and_each_section(cases):
    pdf = report_pdf(build_report(TODAY))
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    text = " ".join(text.split())
    assert "Escalation report" in text and "HARMONY" in text
    assert "DO FIRST" in text and cases["overdue"].reference in text
    for heading in ("Past the legal deadline", "Extension notice owed", "Due soon", "Task overdue"):
        assert heading in text
    assert "24 days overdue" in text


def test_cli_exit_status_is_3_when_something_is_overdue_and_0_when_nothing_is(ctx, cases, tmp_path):
    runner = ctx.test_cli_runner()
    result = runner.invoke(args=["dsr", "escalations", "--date", TODAY.isoformat()])
    assert result.exit_code == 3, result.output
    assert f"DO FIRST: {cases['overdue'].reference}" in result.output

    target = tmp_path / "report.csv"
    result = runner.invoke(args=["dsr", "escalations", "--format", "csv", "--date", TODAY.isoformat(), "-o",
                                 str(target)])
    assert result.exit_code == 3
    assert target.read_text(encoding="utf-8").splitlines()[0] == ",".join(CSV_COLUMNS)

    pdf = tmp_path / "report.pdf"
    result = runner.invoke(args=["dsr", "escalations", "--format", "pdf", "--date", TODAY.isoformat(), "-o", str(pdf)])
    assert result.exit_code == 3 and pdf.read_bytes().startswith(b"%PDF")
    assert "Escalation report" in PdfReader(str(pdf)).pages[0].extract_text()


def test_cli_exit_status_0_on_a_quiet_day(ctx, people):
    manager, staff = people
    case = _case(staff, 6, date(2026, 11, 25))
    lifecycle.assign(case, staff, actor=manager, now=NOW)
    db.session.commit()
    result = ctx.test_cli_runner().invoke(args=["dsr", "escalations", "--date", TODAY.isoformat(), "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == ",".join(CSV_COLUMNS)


# -- the daily e-mail ----------------------------------------------------------------------------------------

class _Inbox:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp(ctx, monkeypatch):
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    for key, value in {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_USE_TLS": False,
                       "MAIL_FROM": "dsr@harmony.test"}.items():
        monkeypatch.setitem(ctx.config, key, value)
    yield inbox
    controller.stop()


def test_the_report_is_mailed_to_every_privacy_manager_with_the_pdf(ctx, cases, smtp):
    make_user(Role.PRIVACY_MANAGER, "second.manager@harmony.test")
    result = ctx.test_cli_runner().invoke(args=["dsr", "send-escalations", "--scheduled", "--date",
                                                TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    [envelope] = smtp.envelopes
    assert sorted(envelope.rcpt_tos) == ["privacy_manager@harmony.test", "second.manager@harmony.test"]
    message = email.message_from_bytes(envelope.content, policy=policy.default)
    assert message["Subject"] == "dsr escalation report 2026-11-26: 3 overdue, 5 item(s)"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert f"Do first: {cases['overdue'].reference}" in body and "Past the legal deadline: 1" in body
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "escalations-2026-11-26.pdf"
    pdf = attachment.get_content()
    assert cases["overdue"].reference in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()

    run = db.session.execute(sa.select(ReportRun)).scalar_one()
    assert run.outcome is RunOutcome.SENT and run.schedule_day == TODAY and len(run.recipients) == 2
    import hashlib

    assert run.pdf_sha256 == hashlib.sha256(pdf).hexdigest()
    assert db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "report.escalations_sent")).scalar()

    # A second scheduled run the same day (two schedulers by mistake) sends nothing more.
    result = ctx.test_cli_runner().invoke(args=["dsr", "send-escalations", "--scheduled", "--date",
                                                TODAY.isoformat()])
    assert result.exit_code == 0 and "Not sent" in result.output
    assert len(smtp.envelopes) == 1


def test_a_retried_job_does_not_send_twice(ctx, cases, smtp):
    from dsr.reports.jobs import ESCALATION_REPORT, start

    job = start(ESCALATION_REPORT, now=NOW, day=TODAY)
    db.session.commit()
    assert perform(job.id) == "succeeded"
    # As if the worker died after sending: the same row queued again.
    db.session.execute(sa.update(Job).where(Job.id == job.id).values(status=JobStatus.QUEUED, finished_at=None))
    db.session.commit()
    assert perform(job.id) == "succeeded"
    assert len(smtp.envelopes) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportRun)) == 1


@pytest.mark.parametrize("day, reason", [(SATURDAY, "Saturday"), (CHRISTMAS, "Christmas Day")])
def test_weekends_and_holidays_send_nothing(ctx, cases, smtp, day, reason):
    result = ctx.test_cli_runner().invoke(args=["dsr", "send-escalations", "--scheduled", "--date", day.isoformat()])
    assert result.exit_code == 0, result.output
    assert smtp.envelopes == []
    run = db.session.execute(sa.select(ReportRun)).scalar_one()
    assert run.outcome is RunOutcome.SKIPPED and reason in run.note


def test_without_a_mail_server_the_command_says_so(ctx, cases, monkeypatch):
    monkeypatch.setitem(ctx.config, "MAIL_SERVER", None)
    result = ctx.test_cli_runner().invoke(args=["dsr", "send-escalations", "--date", TODAY.isoformat()])
    assert result.exit_code == 1
    assert "No mail server is configured: set MAIL_SERVER" in result.output
    job = db.session.execute(sa.select(Job).where(Job.kind == "escalation_report")).scalar_one()
    assert job.status is JobStatus.FAILED  # visible, and retryable once the server is configured
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportRun)) == 0


# -- the schedule and the other daily run -------------------------------------------------------------------

def test_the_schedule_is_working_days_at_report_time_and_erase_due_daily(ctx, monkeypatch):
    from redis import Redis

    monkeypatch.setitem(ctx.config, "REPORT_TIME", "07:30")
    entries = {e["kind"]: e["cron"] for e in schedule_entries(ctx.config)}
    assert entries == {"escalation_report": "30 7 * * 1-5", "erase_due": "0 6 * * *",
                       "expire_exports": "0 6 * * *", "reduce_case_files": "0 6 * * *", "destroy_id_copies": "0 6 * * *",
                       "storage_sweep": "0 6 * * *", "forget_unused_scans": "0 6 * * *"}
    scheduler = build_scheduler(Redis.from_url("redis://127.0.0.1:1/0"), ctx.config)  # registering connects to nothing
    assert sorted((j.name, j.cron, j.args) for j in scheduler.get_jobs()) == [
        ("dsr-destroy_id_copies", "0 6 * * *", ("destroy_id_copies",)),
        ("dsr-erase_due", "0 6 * * *", ("erase_due",)),
        ("dsr-escalation_report", "30 7 * * 1-5", ("escalation_report",)),
        ("dsr-expire_exports", "0 6 * * *", ("expire_exports",)),
        ("dsr-forget_unused_scans", "0 6 * * *", ("forget_unused_scans",)),
        ("dsr-reduce_case_files", "0 6 * * *", ("reduce_case_files",)),
        ("dsr-storage_sweep", "0 6 * * *", ("storage_sweep",))]
    result = ctx.test_cli_runner().invoke(args=["dsr", "scheduler", "--print"])
    assert result.exit_code == 0 and "escalation_report: cron '30 7 * * 1-5'" in result.output


def test_run_scheduled_erase_due_is_a_job(ctx, people):
    from dsr.reports.jobs import ERASE_DUE, run_scheduled

    assert run_scheduled(ERASE_DUE) == "succeeded"
    job = db.session.execute(sa.select(Job).where(Job.kind == ERASE_DUE)).scalar_one()
    assert job.result == {"cases": 0, "erased": 0}
    # A second scheduler by mistake: the day is taken, nothing runs twice.
    assert run_scheduled(ERASE_DUE) == "skipped"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Job).where(Job.kind == ERASE_DUE)) == 1
    run = db.session.execute(sa.select(ReportRun).where(ReportRun.kind == ERASE_DUE)).scalar_one()
    assert run.outcome is RunOutcome.DONE


# -- the dashboard's numbers ------------------------------------------------------------------------------

def test_monthly_figures_from_answered_cases(ctx, people):
    manager, staff = people
    case = _case(staff, 7, date(2026, 10, 1))
    from dsr.domain.enums import RefusalGround

    lifecycle.refuse(case, ground=RefusalGround.MANIFESTLY_UNFOUNDED, justification="Same request as last week.",
                     actor=manager, now=NOW)
    db.session.commit()
    [answered] = answered_cases(TODAY)
    assert answered.answered_on == TODAY and answered.handling_days == 56
    november = monthly([answered], TODAY)[-1]
    assert (november.answered, november.within_promise, november.within_legal) == (1, 0, 0)
    counts = {key: n for key, _args, n in tile_counts(TODAY, 7)}
    assert counts["open"] == 0 and counts["overdue"] == 0



def test_a_case_received_long_before_the_twelve_months_counts_in_the_month_it_was_answered(ctx, people):
    """A case paused for months (the subject never sent the proof asked for) and answered in the window counts
    where it was answered, with its long handling: a filter on the day of receipt (three months before the
    window) left such cases out, and with them the latest answers the figures should show."""
    from dsr.domain.enums import RefusalGround

    manager, staff = people
    old = _case(staff, 31, date(2025, 6, 2))
    timing.request_information(old, reason="Proof of identity, please.", requested_on=date(2025, 6, 3), actor=staff,
                               now=NOW, today=date(2025, 6, 3))
    lifecycle.refuse(old, ground=RefusalGround.MANIFESTLY_UNFOUNDED, justification="No proof came.",
                     actor=manager, now=NOW)
    db.session.commit()
    [answered] = answered_cases(TODAY)
    assert (answered.received_on, answered.answered_on) == (date(2025, 6, 2), TODAY)
    assert answered.handling_days == 542 and answered.due_on > date(2026, 11, 1)  # the open pause counted
    november = monthly([answered], TODAY)[-1]
    assert november.answered == 1 and november.median_days == 542.0


def test_a_month_is_the_organisations_month_not_utcs(ctx, people):
    """Closed at 23:30 UTC on 31 October is 00:30 on 1 November in Amsterdam: November's answer."""
    from datetime import UTC, datetime

    from dsr.domain.enums import RefusalGround
    from dsr.reports.dashboard import month_bounds

    bounds = month_bounds([date(2026, 10, 1), date(2026, 11, 1)])
    assert bounds == [datetime(2026, 9, 30, 22, 0, tzinfo=UTC), datetime(2026, 10, 31, 23, 0, tzinfo=UTC),
                      datetime(2026, 11, 30, 23, 0, tzinfo=UTC)]  # summer time until 25 October
    manager, staff = people
    case = _case(staff, 32, date(2026, 10, 5))
    lifecycle.refuse(case, ground=RefusalGround.MANIFESTLY_UNFOUNDED, justification="Repeated request.",
                     actor=manager, now=datetime(2026, 10, 31, 23, 30, tzinfo=UTC))
    db.session.commit()
    [answered] = answered_cases(TODAY)
    assert answered.answered_on == date(2026, 11, 1)
    october, november = monthly([answered], TODAY)[-2:]
    assert (october.answered, november.answered) == (0, 1)


def test_each_month_is_kept_by_its_own_answers_and_an_answer_today_computes_only_this_month(ctx, people):
    """The twelve months are kept each by its own fingerprint (issue 15, item 3): an answer today makes the
    current month's figures again and leaves the eleven before it as they were (the same objects); a change
    to a case answered in September (its row's version moves) makes September's again."""
    from datetime import UTC, datetime

    from dsr.domain.enums import RefusalGround
    from dsr.reports.dashboard import monthly_stats

    manager, staff = people
    september = _case(staff, 41, date(2026, 8, 20))
    lifecycle.refuse(september, ground=RefusalGround.MANIFESTLY_UNFOUNDED, justification="Repeated request.",
                     actor=manager, now=datetime(2026, 9, 10, 9, 0, tzinfo=UTC))
    db.session.commit()
    before = monthly_stats(TODAY)
    assert before[-3].month == date(2026, 9, 1) and before[-3].answered == 1
    today_s = _case(staff, 42, date(2026, 11, 2))
    lifecycle.refuse(today_s, ground=RefusalGround.MANIFESTLY_UNFOUNDED, justification="Repeated request.",
                     actor=manager, now=NOW)
    db.session.commit()
    after = monthly_stats(TODAY)
    assert after[-1].answered == before[-1].answered + 1
    assert all(a is b for a, b in zip(after[:-1], before[:-1], strict=True))  # kept, not computed again
    # September's case changed afterwards (through the ORM, with an event, as every change is made).
    september.notes = "Filed with the complaint of 12 September."
    from dsr.audit.operations import record

    record("case.updated", actor=manager, now=NOW, case=september, after={"notes": september.notes})
    db.session.commit()
    again = monthly_stats(TODAY)
    assert again[-3] is not after[-3] and again[-3] == after[-3]  # computed again, the same figures
    assert all(a is b for i, (a, b) in enumerate(zip(again, after, strict=True)) if i != 9)


def test_the_earlier_months_fingerprints_are_read_again_only_after_an_event_on_a_case_answered_in_them(
        ctx, people, monkeypatch):
    """The eleven months before this one are fingerprinted again only when an event since names a case answered
    in them, or may change cases without naming one; this month's always (issue 15, item 3)."""
    from datetime import UTC, datetime

    from dsr.audit.operations import record
    from dsr.domain.enums import RefusalGround
    from dsr.reports import dashboard
    from dsr.reports.versions import forget

    forget()
    manager, staff = people
    september = _case(staff, 51, date(2026, 8, 20))
    lifecycle.refuse(september, ground=RefusalGround.MANIFESTLY_UNFOUNDED, justification="Repeated request.",
                     actor=manager, now=datetime(2026, 9, 10, 9, 0, tzinfo=UTC))
    waiting = _case(staff, 52, date(2026, 11, 2))
    db.session.commit()
    read = []
    fingerprints = dashboard._fingerprints
    monkeypatch.setattr(dashboard, "_fingerprints", lambda bounds: read.append(len(bounds) - 1) or fingerprints(bounds))
    first = dashboard.monthly_stats(TODAY)
    lifecycle.assign(waiting, staff, actor=manager, now=NOW)  # an open case: no month changes
    db.session.commit()
    assert dashboard.monthly_stats(TODAY) == first
    record("user.logged_in", actor=staff, now=NOW)  # no case's facts change: nothing read
    db.session.commit()
    assert dashboard.monthly_stats(TODAY) == first
    answered = _case(staff, 53, date(2026, 11, 2))  # answered today: this month only
    lifecycle.refuse(answered, ground=RefusalGround.MANIFESTLY_UNFOUNDED, justification="Repeated request.",
                     actor=manager, now=NOW)
    db.session.commit()
    assert dashboard.monthly_stats(TODAY)[-1].answered == first[-1].answered + 1
    record("note.added", actor=staff, now=NOW, case=september, after={"note": 1})  # a case answered in September
    db.session.commit()
    dashboard.monthly_stats(TODAY)
    record("calendar.deadlines_recomputed", actor=manager, now=NOW, after={"cases_moved": []})  # names no case
    db.session.commit()
    dashboard.monthly_stats(TODAY)
    assert read == [12, 1, 1, 12, 12]
    from dsr.reports.dashboard import month_bounds, month_starts

    bounds = month_bounds(month_starts(TODAY))
    assert dashboard.kept_fingerprints(bounds) == fingerprints(bounds)  # what they are read afresh


# -- the mail goes over TLS ---------------------------------------------------------------------------------

@pytest.fixture
def tls_smtp(ctx, monkeypatch, tmp_path):
    """An SMTP server that requires STARTTLS and a login, with a certificate made for this test; dsr trusts
    it through MAIL_CA_FILE, as it would a company relay's own CA."""
    import ssl
    import subprocess

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
                    "-out", str(cert)], check=True, capture_output=True)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    logins = []

    def authenticate(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, session.ssl is not None))
        return AuthResult(success=auth_data.login == b"dsr" and auth_data.password == b"s3cret")

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=server_tls, require_starttls=True,
                            authenticator=authenticate, auth_require_tls=True)
    controller.start()
    for name, value in {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_USE_TLS": True,
                        "MAIL_CA_FILE": str(cert), "MAIL_USERNAME": "dsr", "MAIL_PASSWORD": "s3cret",
                        "MAIL_FROM": "dsr@harmony.test"}.items():
        monkeypatch.setitem(ctx.config, name, value)
    inbox.logins = logins
    yield inbox
    controller.stop()


def test_the_report_goes_over_starttls_with_a_login(ctx, cases, tls_smtp):
    result = ctx.test_cli_runner().invoke(args=["dsr", "send-escalations", "--date", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert len(tls_smtp.envelopes) == 1
    assert tls_smtp.logins == [(b"dsr", True)]  # the password went over the encrypted connection


def test_a_password_is_never_sent_without_tls(ctx, cases, tls_smtp, monkeypatch):
    from dsr.reports import mail

    monkeypatch.setitem(ctx.config, "MAIL_USE_TLS", False)
    message = mail.build_message(sender="dsr@harmony.test", recipients=["m@harmony.test"], subject="s", body="b")
    with pytest.raises(mail.MailNotConfigured, match="unencrypted"):
        mail.send(message, ctx.config)
    assert tls_smtp.logins == [] and tls_smtp.envelopes == []


def test_answered_cases_agree_with_each_case_clock_and_the_cache_follows_new_answers(ctx, people):
    """The dashboard reads plain columns (issue 15): its promise and deadline per answered case are the ones
    case_clock gives on the answer day, for a plain case, one paused (ended and still open when refused)
    and one extended; a case answered later changes the cached monthly figures."""
    from dsr.cases import timing
    from dsr.cases.deadlines import case_clock, working_calendar
    from dsr.domain.enums import RefusalGround
    from dsr.reports.dashboard import monthly_stats

    manager, staff = people
    plain = _case(staff, 11, date(2026, 10, 1))
    ended = _case(staff, 12, date(2026, 10, 5))
    timing.request_information(ended, reason="Which policy?", requested_on=date(2026, 10, 6), actor=staff,
                               now=NOW, today=date(2026, 10, 6))
    timing.information_received(ended, received_on=date(2026, 10, 16), actor=staff, now=NOW, today=date(2026, 10, 16))
    still_paused = _case(staff, 13, date(2026, 10, 20))
    timing.request_information(still_paused, reason="Which phone?", requested_on=date(2026, 10, 21), actor=staff,
                               now=NOW, today=date(2026, 10, 21))
    extended = _case(staff, 14, date(2026, 10, 2))
    timing.extend(extended, reason="Many systems.", actor=manager, now=NOW, today=date(2026, 10, 20))
    db.session.commit()
    before = monthly_stats(TODAY)
    for case in (plain, ended, still_paused, extended):
        lifecycle.refuse(case, ground=RefusalGround.MANIFESTLY_UNFOUNDED, justification="Repeated request.",
                         actor=manager, now=NOW)
    db.session.commit()
    answered = {a.received_on: a for a in answered_cases(TODAY)}
    calendar = working_calendar()
    for case in (plain, ended, still_paused, extended):
        clock = case_clock(case, calendar, TODAY)
        a = answered[case.received_on]
        assert (a.promise_answer_by, a.due_on, a.extended) == (clock.promise_answer_by, clock.due_on,
                                                               case.extended_due_on is not None)
    assert answered[date(2026, 10, 20)].due_on > answered[date(2026, 10, 1)].due_on  # the open pause counted
    after = monthly_stats(TODAY)
    assert after[-1].answered == before[-1].answered + 4
    assert monthly_stats(TODAY) is after  # cached until something else is answered


@pytest.mark.parametrize(("locale", "expected"), [
    ("en", ["Oct 2025", "Nov", "Dec", "Jan 2026", "Feb"]),
    ("nl", ["okt 2025", "nov", "dec", "jan 2026", "feb"]),
])
def test_the_month_labels_under_a_chart_name_the_year_only_where_it_starts(ctx, locale, expected):
    # Twelve "Sept 2026"-long labels overlapped under a half-width chart.
    from flask_babel import force_locale

    from dsr.reports.dashboard import chart_labels

    months = [date(2025, 10, 1), date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]
    with ctx.test_request_context(), force_locale(locale):
        assert [label.rstrip(".") for label in chart_labels(months)["months"]] == expected
