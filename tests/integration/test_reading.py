"""A scanned letter becomes a draft case (issue 19): read offline by tesseract in a job, suggestions shown
beside the scan, nothing saved until staff log the request; the text read goes with the case.

Needs Debian's tesseract with Dutch and French data (scripts/system-deps.sh installs it). Without it these
tests are skipped, except on CI (``CI=true``), where a missing reader fails the run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import time_machine

from dsr.attachments.models import Attachment
from dsr.audit.models import AuditEvent
from dsr.cases.models import Case
from dsr.domain.enums import Role
from dsr.extensions import db
from dsr.reading.engine import unavailable_reason
from dsr.reading.models import ScanReading
from dsr.reading.operations import forget_unused
from tests.conftest import NOW
from tests.factories import login, make_user
from tests.fixtures.letters.corpus import load
from tests.fixtures.letters.degrade import degrade

LETTERS = Path(__file__).resolve().parent.parent / "fixtures" / "letters"
WHY_NOT = unavailable_reason()
if WHY_NOT and os.environ.get("CI") == "true":
    raise RuntimeError(f"CI: scans cannot be read on this machine: {WHY_NOT}")
needs_tesseract = pytest.mark.skipif(WHY_NOT is not None, reason=f"no OCR here: {WHY_NOT}")


@pytest.fixture
def app(backend_app):
    return backend_app


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def _signed_in(app, role=Role.STAFF, email=None):
    with app.app_context():
        make_user(role, email)
    client = app.test_client()
    login(client, role, email)
    return client


def _upload(client, data: bytes, name: str, media: str):
    import io

    return client.post("/cases/new/scan", data={"scan": (io.BytesIO(data), name, media)},
                       content_type="multipart/form-data")


# -- accuracy on a small subset of the evaluation set (bench/ocr.py measures the whole set) -------------

SUBSET = [(3, "clean"), (5, "moderate"), (10, "moderate"), (8, "harsh")]  # nl, fr, nl (on behalf), fr


@needs_tesseract
def test_reading_a_small_subset_gets_the_fields_and_never_a_wrong_right():
    from datetime import date

    from dsr.domain.enums import Right
    from dsr.domain.letter_reading import read_request
    from dsr.reading.engine import read_scan

    right_fields = total_fields = 0
    for number, level in SUBSET:
        truth = load(number)
        data, media = degrade(LETTERS / f"letter-{number:02d}.pdf", level, seed=number)
        scan = read_scan(data, media)
        found = read_request(scan.words, language=scan.language, language_confidence=scan.language_confidence,
                             today=date(2026, 12, 6), rights=[r.value for r in Right]).command_line()
        assert found["language"] == truth["language"], (number, level)
        assert set(found["rights"]) <= set(truth["rights"]), f"letter {number} ({level}): a wrong right"
        for name, value in truth["fields"].items():
            total_fields += 1
            right_fields += found["fields"].get(name, {}).get("value") == value
        assert found["on_behalf"] == bool(truth["representative"]), number
    assert right_fields / total_fields >= 0.9, f"{right_fields} of {total_fields} fields right"


@needs_tesseract
def test_tesserocr_reads_the_words_the_tesseract_program_reads_and_loads_each_model_once(monkeypatch):
    from dsr.reading import engine

    if engine._binding() is None:
        if os.environ.get("CI") == "true":
            raise RuntimeError("CI: tesserocr is not installed (requirements.lock installs it on Linux)")
        pytest.skip("tesserocr is not installed here: scans are read through the tesseract program")
    data, media = degrade(LETTERS / "letter-05.pdf", "moderate", seed=5)
    page = engine.clean(next(engine.page_images(data, media))).image
    by_binding = engine.read_words(page, "fra", page=1, line_offset=4)
    by_program = engine._words_by_program(page, "fra", page=1, line_offset=4)
    shape = [(w.text, w.left, w.top, w.width, w.height, w.line) for w in by_binding]
    assert len(by_binding) > 60 and shape == [(w.text, w.left, w.top, w.width, w.height, w.line)
                                               for w in by_program]
    # The same confidence measure (tesserocr carries libtesseract 5.5, Debian's program may be older).
    differences = sorted(abs(a.confidence - b.confidence) for a, b in zip(by_binding, by_program, strict=True))
    assert differences[len(differences) // 2] < 2 and all(0 <= w.confidence <= 100 for w in by_binding)
    # Each language's model is loaded once per process: a second scan reuses the readers of the first.
    engine.read_scan(data, media)
    readers = dict(engine._READERS._made)
    assert engine.read_scan(data, media).language == "fr" and engine._READERS._made == readers
    # Without tesserocr the scan is read through the program, to the same words.
    monkeypatch.setattr(engine, "_binding", lambda: None)
    assert [w.text for w in engine.read_scan(data, media).words] == [w.text for w in by_binding]


@needs_tesseract
def test_read_letter_command_prints_json_and_exits_2_on_a_file_it_cannot_read(tmp_path):
    env = {**os.environ, "DSR_INSTANCE_PATH": str(tmp_path / "instance")}
    root = Path(__file__).resolve().parent.parent.parent
    run = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "dsr", "read-letter",
                          str(LETTERS / "letter-04.pdf")], capture_output=True, text=True, env=env, cwd=root,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    printed = json.loads(run.stdout)
    truth = load(4)
    assert printed["language"] == "en"
    assert printed["rights"] == truth["rights"]
    assert printed["fields"]["letter_date"]["value"] == truth["letter_date"]
    assert 0 < printed["fields"]["name"]["confidence"] <= 1
    not_a_scan = tmp_path / "notes.txt"
    not_a_scan.write_text("not a scan")
    run = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "dsr", "read-letter", str(not_a_scan)],
                         capture_output=True, text=True, env=env, cwd=root, timeout=120)
    assert run.returncode == 2 and "not a PDF, JPEG or PNG" in run.stderr


# -- the intake journey through the web ------------------------------------------------------------------

@needs_tesseract
def test_upload_read_confirm_and_log_keeps_the_scan_and_its_text_with_the_case(app):
    staff = _signed_in(app)
    truth = load(3)
    data, media = degrade(LETTERS / "letter-03.pdf", "moderate", seed=3)
    response = _upload(staff, data, "brief.jpg", media)
    assert response.status_code == 302
    url = response.headers["Location"]
    page = staff.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    # Pre-filled, marked as suggested, the scan shown with boxes; the date of receipt is today, not the letter's.
    assert f'value="{truth["fields"]["postcode"]}"' in html
    assert 'data-suggested="' in html and "Read from the scan" in html
    assert 'class="word-suggested"' in html and "/pages/1.jpg" in html
    assert 'value="2026-11-26"' in html and "Letter dated" in html
    with app.app_context():
        reading = db.session.execute(sa.select(ScanReading)).scalar_one()
        assert reading.draft and reading.language == "nl" and truth["name"] in reading.text
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == 0  # nothing saved yet
    image = staff.get(f"/scans/{reading.id}/pages/1.jpg")
    assert image.status_code == 200 and image.mimetype == "image/jpeg" and image.data[:3] == b"\xff\xd8\xff"
    # The progress the page polls (read without a transaction: tests/conftest.py watches that it writes nothing):
    # the reading has ended, so the page is told to reload.
    polled = staff.get(f"/cases/new/scan/{reading.id}/status")
    assert polled.status_code == 200 and polled.headers.get("HX-Refresh") == "true"
    # Staff correct one field and log the request.
    form = {"name": truth["name"], "address": truth["address"], "postcode": truth["postcode"],
            "city": "Utrecht-Oost", "country": "NL", "rights": truth["rights"], "channel": "post",
            "received_on": "2026-11-26", "language": "nl", "email": truth["fields"].get("email", "")}
    logged = staff.post(url, data=form)
    assert logged.status_code == 302, logged.get_data(as_text=True)[:2000]
    with app.app_context():
        case = db.session.execute(sa.select(Case)).scalar_one()
        assert case.subject.city == "Utrecht-Oost"
        attachment = db.session.execute(sa.select(Attachment)).scalar_one()
        reading = db.session.execute(sa.select(ScanReading)).scalar_one()
        assert reading.attachment_id == attachment.id and reading.storage_key is None
        assert attachment.case_id == case.id and attachment.sha256 == reading.sha256
        assert (Path(app.config["STORAGE_DIR"]) / attachment.storage_key).read_bytes() == data
        reference = case.reference
        actions = db.session.execute(sa.select(AuditEvent.action)).scalars().all()
        assert "scan.uploaded" in actions and "attachment.added" in actions
    case_html = staff.get(f"/cases/{reference}").get_data(as_text=True)
    assert "Text read from this scan" in case_html and truth["name"] in case_html
    # The auditor reads the case, and so its scan's text; the draft link now leads to the case.
    auditor = _signed_in(app, Role.AUDITOR)
    assert "Text read from this scan" in auditor.get(f"/cases/{reference}").get_data(as_text=True)
    assert staff.get(url).status_code == 302
    # Deleted with the attachment (and so with the case).
    with app.app_context():
        db.session.delete(db.session.get(Attachment, attachment.id))
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ScanReading)) == 0


@needs_tesseract
def test_a_draft_is_seen_only_by_who_uploaded_it_and_privacy_managers(app):
    staff = _signed_in(app)
    other = _signed_in(app, Role.STAFF, "other@harmony.test")
    manager = _signed_in(app, Role.PRIVACY_MANAGER)
    auditor = _signed_in(app, Role.AUDITOR)
    data, media = degrade(LETTERS / "letter-04.pdf", "clean", seed=4)
    url = _upload(staff, data, "letter.png", media).headers["Location"]
    with app.app_context():
        reading_id = db.session.execute(sa.select(ScanReading.id)).scalar_one()
    assert other.get(url).status_code == 404
    assert other.get(f"/scans/{reading_id}/pages/1.jpg").status_code == 404
    assert manager.get(url).status_code == 200
    assert auditor.get(url).status_code == 403
    assert _upload(auditor, data, "letter.png", media).status_code == 403


def test_a_file_that_is_not_a_scan_is_refused_and_nothing_is_kept(app):
    staff = _signed_in(app)
    response = _upload(staff, b"just some text, not a scan", "letter.pdf", "application/pdf")
    assert response.status_code == 302
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "The scan was not read" in page and "not a PDF, JPEG or PNG" in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ScanReading)) == 0
    assert not any(Path(app.config["STORAGE_DIR"]).rglob("*.*"))


def test_without_tesseract_the_intake_works_and_says_why(app, monkeypatch, tmp_path):
    data = (LETTERS / "letter-04.pdf").read_bytes()
    monkeypatch.setenv("PATH", str(tmp_path))  # a server without the tesseract binary
    from dsr.reading import views

    views._WHY_NOT.clear()
    staff = _signed_in(app)
    html = staff.get("/cases/new").get_data(as_text=True)
    assert "No suggestions can appear" in html and "tesseract is not installed" in html
    url = _upload(staff, data, "letter.pdf", "application/pdf").headers["Location"]
    page = staff.get(url).get_data(as_text=True)
    assert "The scan could not be read" in page and "tesseract is not installed" in page
    views._WHY_NOT.clear()


def test_unused_drafts_are_deleted_with_their_files_after_a_day(app):
    staff = _signed_in(app)
    pdf = (LETTERS / "letter-01.pdf").read_bytes()
    _upload(staff, pdf, "old.pdf", "application/pdf")
    _upload(staff, pdf, "new.pdf", "application/pdf")
    with app.app_context():
        db.session.execute(sa.update(ScanReading).where(ScanReading.filename == "old.pdf")
                           .values(created_at=NOW - timedelta(hours=30)))
        db.session.commit()
        keys = dict(db.session.execute(sa.select(ScanReading.filename, ScanReading.storage_key)).all())
        assert forget_unused(now=NOW) == 1
        db.session.commit()
        assert db.session.execute(sa.select(ScanReading.filename)).scalars().all() == ["new.pdf"]
    storage = Path(app.config["STORAGE_DIR"])
    assert not (storage / keys["old.pdf"]).exists() and (storage / keys["new.pdf"]).exists()
