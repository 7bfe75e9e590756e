"""dsr on an S3-compatible store (issue 15, item 5): the app configured with ``DSR_STORAGE=s3`` against a real
S3 server on a loopback port. A scan uploaded at intake, an issued letter and an export are objects in the
bucket, downloaded from there (streamed, with their length); nothing is written under STORAGE_DIR; a bucket
that refuses the upload is a 507 that saves nothing; the storage sweep lists an object no row names.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import time_machine

from dsr.attachments.models import Attachment
from dsr.domain.enums import Role
from dsr.exports.models import Export
from dsr.extensions import db
from dsr.letters.models import IssuedLetter
from tests.conftest import NOW, TODAY
from tests.harmony_support import customer_with_everything, demo_systems, looked_up_case, review_third_parties
from tests.s3_support import keys_in, s3_client, s3_config
from tests.web.support import (
    frozen_clock,
    intake_data,
    make_users_of_every_role,
    new_case,
    pdf_bytes,
    signed_in,
    stored_counts,
    user_ids,
    with_file,
)


@pytest.fixture
def app(app, s3_endpoint, s3_bucket, monkeypatch):
    """The SQLite app with its files in a bucket of its own."""
    for name, value in s3_config(s3_endpoint, s3_bucket, S3_PREFIX="dsr", S3_ENCRYPTION="AES256").items():
        monkeypatch.setitem(app.config, name, value)
    return app


@pytest.fixture(autouse=True)
def _frozen_clock():
    yield from frozen_clock()


def objects(app) -> list[str]:
    return keys_in(app.config["S3_ENDPOINT_URL"], app.config["S3_BUCKET"])


def local_files(app) -> list[Path]:
    return [p for p in Path(app.config["STORAGE_DIR"]).rglob("*") if p.is_file()]


def test_a_scan_uploaded_at_intake_is_an_object_downloaded_and_viewed_from_the_bucket(app):
    user_ids(app)
    client = signed_in(app, Role.STAFF)
    scan = pdf_bytes("Verzoek inzage, brief van 20 november")
    response = client.post("/cases/new", data=with_file(intake_data(), scan, "brief.pdf"),
                           content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        attachment = db.session.execute(sa.select(Attachment)).scalar_one()
        attachment_id, key = attachment.id, attachment.storage_key
    assert objects(app) == [f"dsr/{key}"] and local_files(app) == []
    head = s3_client(app.config["S3_ENDPOINT_URL"]).head_object(Bucket=app.config["S3_BUCKET"], Key=f"dsr/{key}")
    assert head["ServerSideEncryption"] == "AES256"

    download = client.get(f"/attachments/{attachment_id}/download")
    assert download.status_code == 200 and download.data == scan
    assert download.content_length == len(scan) and download.headers["Cache-Control"] == "no-store"
    assert "brief.pdf" in download.headers["Content-Disposition"]
    inline = client.get(f"/attachments/{attachment_id}/inline")
    assert inline.status_code == 200 and inline.mimetype == "application/pdf" and inline.data == scan


def test_a_bucket_that_refuses_the_scan_is_a_507_and_nothing_is_saved(app, monkeypatch):
    user_ids(app)
    client = signed_in(app, Role.STAFF)
    before = stored_counts(app)
    monkeypatch.setitem(app.config, "S3_BUCKET", "dsr-bucket-that-is-not-there")
    response = client.post("/cases/new", data=with_file(intake_data(), pdf_bytes(), "brief.pdf"),
                           content_type="multipart/form-data")
    assert response.status_code == 507
    assert ("The file could not be stored (the object store answered NoSuchBucket). Nothing was saved; tell the "
            "administrator.") in response.get_data(as_text=True)
    assert stored_counts(app) == before


def test_an_issued_letter_is_an_object_and_downloads_intact(app):
    reference = new_case(app)
    client = signed_in(app, Role.STAFF)
    response = client.post(f"/cases/{reference}/letters", data={"kind": "acknowledgement", "language": "en"})
    assert response.status_code == 303
    with app.app_context():
        letter = db.session.execute(sa.select(IssuedLetter)).scalar_one()
        letter_id, key, sha256 = letter.id, letter.storage_key, letter.sha256
    assert objects(app) == [f"dsr/{key}"] and local_files(app) == []
    download = client.get(f"/cases/{reference}/letters/{letter_id}.pdf")
    assert download.status_code == 200 and hashlib.sha256(download.data).hexdigest() == sha256


@pytest.fixture(scope="module")
def harmony(tmp_path_factory) -> str:
    return demo_systems(tmp_path_factory, TODAY)


def test_an_export_is_uploaded_whole_streamed_back_and_deleted_when_it_expires(app, harmony, monkeypatch):
    monkeypatch.setitem(app.config, "DEMO_SYSTEMS_URL", harmony)  # read only: the export changes nothing
    with app.app_context():
        staff = make_users_of_every_role()[Role.STAFF]
        case, _lookup = looked_up_case(customer_with_everything(harmony), staff, now=NOW)
        review_third_parties(case, now=NOW)
        db.session.commit()
        reference = case.reference
    client = signed_in(app, Role.STAFF)
    assert client.post(f"/cases/{reference}/exports", data={"kind": "access"}).status_code == 303
    with app.app_context():
        export = db.session.execute(sa.select(Export)).scalar_one()
        export_id, key, sha256, size = export.id, export.storage_key, export.sha256, export.size
    assert objects(app) == [f"dsr/{key}"] and local_files(app) == []

    download = client.get(f"/cases/{reference}/exports/{export_id}/download")
    assert download.status_code == 200 and download.content_length == size
    assert hashlib.sha256(download.data).hexdigest() == sha256
    with zipfile.ZipFile(io.BytesIO(download.data)) as zf:
        assert "manifest.json" in zf.namelist()

    from dsr.exports.operations import expire_exports

    with app.app_context():
        expire_exports(now=NOW + timedelta(days=31))
        db.session.commit()
    assert objects(app) == []
    assert client.get(f"/cases/{reference}/exports/{export_id}/download").status_code == 410


def test_the_storage_sweep_lists_an_object_that_no_row_names(app):
    client = s3_client(app.config["S3_ENDPOINT_URL"])
    client.put_object(Bucket=app.config["S3_BUCKET"], Key="dsr/attachments/2026/lost.pdf", Body=b"%PDF lost")
    client.put_object(Bucket=app.config["S3_BUCKET"], Key="elsewhere/not-dsrs.pdf", Body=b"%PDF")  # beside the prefix
    # The object's time is the server's real clock: the sweep looks two hours later, past its grace period.
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=2)):
        result = app.test_cli_runner().invoke(args=["dsr", "storage-sweep"])
    assert result.exit_code == 1, result.output
    assert "attachments/2026/lost.pdf\t9 bytes" in result.output and "not-dsrs" not in result.output
    assert "1 file(s) in storage that no row refers to" in result.output
