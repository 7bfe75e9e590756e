"""Files survive a full disk (issue 17, acceptance 8): an upload that cannot be written completely leaves no
partial file and no row, and answers with a clear error (507), not a 500. The daily sweep reports files in
storage that no row refers to.

The full disk is real: a 256 KiB tmpfs mounted as STORAGE_DIR (the tests run as root, as CI does).
"""

from __future__ import annotations

import io
import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine

from dsr.attachments.storage import check_upload, store_attachment
from dsr.domain.enums import Role
from dsr.extensions import db
from tests.conftest import NOW
from tests.factories import login, make_case, make_user
from tests.web.support import intake_data, pdf_bytes, stored_counts, with_file

FULL = "The file could not be stored: the storage is full. Nothing was saved; tell the administrator."


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def small_disk(app, tmp_path, monkeypatch):
    """STORAGE_DIR on a real file system of 256 KiB."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot mount a small tmpfs for the full-disk test: {done.stderr}")
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    monkeypatch.setitem(app.config, "STORAGE_DIR", str(mount))
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _big_pdf(size: int) -> bytes:
    """A real PDF (the content check passes) padded with a comment to ``size`` bytes."""
    head = pdf_bytes()
    return head + b"\n%" + b"x" * (size - len(head) - 2)


def test_an_intake_scan_on_a_full_disk_is_refused_clearly_and_leaves_nothing(app, small_disk):
    with app.app_context():
        make_user(Role.STAFF)
    client = app.test_client()
    login(client, Role.STAFF)
    # A first scan fits; it stays, with its case.
    assert client.post("/cases/new", data=with_file(intake_data(), _big_pdf(100_000), "first.pdf"),
                       content_type="multipart/form-data").status_code == 302
    before = stored_counts(app)
    kept = _files(small_disk)
    response = client.post("/cases/new", data=with_file(intake_data(name="Anna"), _big_pdf(400_000), "b.pdf"),
                           content_type="multipart/form-data")
    assert response.status_code == 507
    assert FULL in response.get_data(as_text=True)
    assert stored_counts(app) == before  # no case, subject, attachment or audit event
    assert _files(small_disk) == kept  # and no .part
    assert not [k for k in kept if k.endswith(".part")]


def test_an_attachment_on_a_full_disk_via_the_case_page_leaves_nothing(app, small_disk):
    with app.app_context():
        staff = make_user(Role.STAFF)
        case = make_case(actor=staff)
        reference, version = case.reference, case.version
    client = app.test_client()
    login(client, Role.STAFF)
    before = stored_counts(app)
    response = client.post(f"/cases/{reference}/act/upload",
                           data={"upload-version": str(version), "upload-kind": "letter",
                                 "upload-file": (io.BytesIO(_big_pdf(400_000)), "big.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 507
    assert FULL in response.get_data(as_text=True)
    assert stored_counts(app) == before
    assert _files(small_disk) == []


def test_the_sweep_reports_files_no_row_refers_to(app, runner):
    with app.app_context():
        staff = make_user(Role.STAFF)
        case = make_case(actor=staff)
        store_attachment(case, check_upload("a.pdf", io.BytesIO(pdf_bytes()), max_bytes=10**6), actor=staff,
                         now=NOW)
        db.session.commit()
    root = Path(app.config["STORAGE_DIR"])
    stray = root / "attachments" / "2026" / "left-behind.pdf.part"
    stray.write_bytes(b"half a scan")
    old = (NOW - timedelta(days=2)).timestamp()
    os.utime(stray, (old, old))
    fresh = root / "exports" / "2026" / "being-written.zip"
    fresh.parent.mkdir(parents=True, exist_ok=True)
    fresh.write_bytes(b"in a transaction not committed yet")
    now_ts = NOW.timestamp()
    os.utime(fresh, (now_ts, now_ts))

    result = runner.invoke(args=["dsr", "storage-sweep"])
    assert result.exit_code == 1, result.output
    assert "attachments/2026/left-behind.pdf.part\t11 bytes" in result.output
    assert "being-written" not in result.output  # younger than the grace period
    assert "1 file(s) in storage that no row refers to" in result.output
    assert stray.exists()  # reported, not deleted

    # The scheduled form: a job whose result is the report.
    with app.app_context():
        from dsr.jobs import runner as jobs
        from dsr.jobs.models import Job

        job = jobs.create("storage_sweep", now=NOW)
        db.session.commit()
        jobs.perform(job.id)
        done = db.session.get(Job, job.id)
        assert done.result["count"] == 1 and done.result["orphans"][0]["key"].endswith("left-behind.pdf.part")

    stray.unlink()
    assert runner.invoke(args=["dsr", "storage-sweep"]).exit_code == 0
