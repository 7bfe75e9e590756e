"""The storage interface's contract (issue 15, item 5), held by both backends: a folder (``DSR_STORAGE=local``)
and a bucket of a real S3 server on a loopback port (``DSR_STORAGE=s3``).

A file is stored whole or not at all, read back as a stream, listed under a prefix and deleted for good; a
file written in a transaction that rolls back is deleted, one whose row goes is deleted once the transaction
commits; a store that refuses a write is StorageFailed, with nothing left behind.
"""

from __future__ import annotations

import hashlib
import io
import os

import pytest
import sqlalchemy as sa

from dsr.extensions import db
from dsr.filestore import StorageFailed, delete_file_after_commit, storage, track_new_file
from dsr.filestore.local import LocalStorage
from dsr.filestore.s3 import S3Storage
from tests.s3_support import REGION, keys_in, s3_client, s3_config

MiB = 1024 * 1024


@pytest.fixture(params=["local", "s3"])
def kind(request, app, monkeypatch) -> str:
    """The app configured for each backend in turn, inside an application context."""
    if request.param == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        for name, value in s3_config(endpoint, request.getfixturevalue("s3_bucket")).items():
            monkeypatch.setitem(app.config, name, value)
    with app.app_context():
        yield request.param
        db.session.rollback()


def visible(kind: str, app) -> list[str]:
    """What is really stored, read past dsr: the folder's files (``.part`` too) or the bucket's objects."""
    if kind == "local":
        root = app.config["STORAGE_DIR"]
        return sorted(os.path.relpath(os.path.join(d, f), root) for d, _s, fs in os.walk(root) for f in fs)
    return keys_in(app.config["S3_ENDPOINT_URL"], app.config["S3_BUCKET"])


def test_the_app_picks_its_backend_once_from_the_settings(kind, app):
    backend = storage()
    assert isinstance(backend, LocalStorage if kind == "local" else S3Storage)
    assert storage() is backend  # one per app: an S3 client is made once, not per request


def test_a_file_is_put_read_streamed_listed_and_deleted(kind, app):
    backend = storage()
    assert backend.put("letters/2026/a.pdf", b"%PDF-1.7 first") == 14
    assert backend.put("letters/2026/b.pdf", iter([b"%PDF", b"-1.7 ", b"second"])) == 15
    assert backend.put("exports/2026/c.zip", io.BytesIO(b"PK" + b"z" * 100)) == 102
    assert backend.read("letters/2026/a.pdf") == b"%PDF-1.7 first"
    with backend.open("exports/2026/c.zip") as stream:
        assert stream.read(2) == b"PK" and stream.read() == b"z" * 100
    assert backend.exists("letters/2026/b.pdf") and not backend.exists("letters/2026/z.pdf")
    assert backend.size("exports/2026/c.zip") == 102
    assert [o.key for o in backend.list("letters/")] == ["letters/2026/a.pdf", "letters/2026/b.pdf"]
    assert [(o.key, o.size) for o in backend.list()] == [
        ("exports/2026/c.zip", 102), ("letters/2026/a.pdf", 14), ("letters/2026/b.pdf", 15)]
    assert all(o.modified.utcoffset() is not None for o in backend.list())

    backend.delete("letters/2026/a.pdf")
    backend.delete("letters/2026/a.pdf")  # absent: nothing to do
    assert not backend.exists("letters/2026/a.pdf")
    with pytest.raises(FileNotFoundError):
        backend.open("letters/2026/a.pdf")
    with pytest.raises(FileNotFoundError):
        backend.stat("letters/2026/a.pdf")
    assert visible(kind, app) == ["exports/2026/c.zip", "letters/2026/b.pdf"]


def test_a_writer_stores_the_file_only_when_it_is_complete(kind, app):
    backend = storage()
    with pytest.raises(RuntimeError, match="the source stopped"), backend.writer("exports/2026/half.zip") as out:
        out.file.write(b"x" * MiB)
        raise RuntimeError("the source stopped")
    assert visible(kind, app) == []  # no object, no .part
    whole = bytes(range(256)) * 4096 + b"not a whole block"  # read back a block at a time into one buffer
    with backend.writer("exports/2026/whole.zip") as out:
        out.file.write(whole)
        digest = out.digest()
    assert digest == (hashlib.sha256(whole).hexdigest(), len(whole)) and out.size == len(whole)
    assert backend.read("exports/2026/whole.zip") == whole
    assert visible(kind, app) == ["exports/2026/whole.zip"]


@pytest.mark.parametrize("key", ["../outside", "/etc/passwd", "a/../../b", "", "a\\b"])
def test_a_key_never_names_a_file_outside_the_store(kind, app, key):
    with pytest.raises(ValueError, match="not a storage key"):
        storage().put(key, b"x")


def test_a_file_written_in_a_transaction_that_rolls_back_is_deleted(kind, app):
    storage().put("attachments/2026/kept.pdf", b"kept")
    track_new_file("attachments/2026/kept.pdf")
    db.session.commit()
    db.session.execute(sa.select(1))  # the transaction the file's row would be added in
    storage().put("attachments/2026/undone.pdf", b"undone")
    track_new_file("attachments/2026/undone.pdf")
    db.session.rollback()
    assert visible(kind, app) == ["attachments/2026/kept.pdf"]


def test_a_deletion_waits_for_the_commit_and_a_rollback_keeps_the_file(kind, app):
    storage().put("exports/2026/e.zip", b"PK")
    delete_file_after_commit("exports/2026/e.zip")
    db.session.rollback()
    assert storage().exists("exports/2026/e.zip")
    delete_file_after_commit("exports/2026/e.zip")
    assert storage().exists("exports/2026/e.zip")  # until the commit
    db.session.commit()
    assert visible(kind, app) == []


def test_a_store_that_refuses_the_write_is_storage_failed_and_keeps_nothing(kind, app, monkeypatch, tmp_path):
    if kind == "local":
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("a file where the storage folder should be")
        monkeypatch.setitem(app.config, "STORAGE_DIR", str(blocker))
        why = "ENOTDIR"
    else:
        monkeypatch.setitem(app.config, "S3_BUCKET", "dsr-no-such-bucket")
        why = "the object store answered NoSuchBucket"
    for write in (lambda: storage().put("letters/2026/x.pdf", b"%PDF"), lambda: _write(storage())):
        with pytest.raises(StorageFailed) as failed:
            write()
        assert str(failed.value) == f"The file could not be stored ({why}). Nothing was saved; tell the administrator."


def _write(backend) -> None:
    with backend.writer("exports/2026/x.zip") as out:
        out.file.write(b"PK")


# -- S3 only ---------------------------------------------------------------------------------------------------

@pytest.fixture
def s3(app, s3_endpoint, s3_bucket, monkeypatch):
    def configured(**more):
        for name, value in s3_config(s3_endpoint, s3_bucket, **more).items():
            monkeypatch.setitem(app.config, name, value)
        return storage()

    with app.app_context():
        yield configured


def test_a_big_export_goes_up_in_parts_and_arrives_whole(s3, s3_endpoint, s3_bucket):
    backend = s3(S3_MULTIPART_BYTES=5 * MiB)
    block = os.urandom(MiB)
    with backend.writer("exports/2026/big.zip") as out:
        for _ in range(11):
            out.file.write(block)
    head = s3_client(s3_endpoint).head_object(Bucket=s3_bucket, Key="exports/2026/big.zip")
    assert head["ContentLength"] == 11 * MiB and head["ETag"].strip('"').endswith("-3")  # three parts
    with backend.open("exports/2026/big.zip") as stream:
        assert hashlib.sha256(stream.read()).digest() == hashlib.sha256(block * 11).digest()


def test_objects_are_encrypted_and_kept_under_the_prefix(s3, s3_endpoint, s3_bucket):
    backend = s3(S3_PREFIX="dsr/prod/", S3_ENCRYPTION="AES256")
    backend.put("letters/2026/l.pdf", b"%PDF")
    assert keys_in(s3_endpoint, s3_bucket) == ["dsr/prod/letters/2026/l.pdf"]
    head = s3_client(s3_endpoint).head_object(Bucket=s3_bucket, Key="dsr/prod/letters/2026/l.pdf")
    assert head["ServerSideEncryption"] == "AES256"
    assert [o.key for o in backend.list()] == ["letters/2026/l.pdf"]


def test_in_a_versioned_bucket_an_erasure_deletes_every_version(s3, s3_endpoint, s3_bucket):
    client = s3_client(s3_endpoint)
    client.put_bucket_versioning(Bucket=s3_bucket, VersioningConfiguration={"Status": "Enabled"})

    def versions(key):
        page = client.list_object_versions(Bucket=s3_bucket, Prefix=key)
        return len(page.get("Versions", [])) + len(page.get("DeleteMarkers", []))

    kept = s3()  # without DSR_S3_DELETE_VERSIONS: the bucket keeps the data as a noncurrent version
    kept.put("attachments/2026/id.png", b"\x89PNG first")
    kept.delete("attachments/2026/id.png")
    assert not kept.exists("attachments/2026/id.png") and versions("attachments/2026/id.png") == 2

    erased = s3(S3_DELETE_VERSIONS=True)
    erased.put("attachments/2026/id2.png", b"\x89PNG one")
    erased.put("attachments/2026/id2.png", b"\x89PNG two")
    erased.delete("attachments/2026/id2.png")
    assert versions("attachments/2026/id2.png") == 0


def test_an_unreachable_store_is_storage_failed_saying_so(app, monkeypatch):
    for name, value in s3_config("http://127.0.0.1:9", "dsr-bucket").items():
        monkeypatch.setitem(app.config, name, value)
    with app.app_context(), pytest.raises(StorageFailed, match="could not be reached"):
        storage().put("letters/2026/x.pdf", b"%PDF")


def test_s3_settings_come_from_the_environment(tmp_path):
    import config

    env = {"DSR_STORAGE": "s3", "DSR_S3_BUCKET": "dsr-files", "DSR_S3_PREFIX": "/prod/",
           "DSR_S3_ENDPOINT_URL": "https://s3.fr-par.scw.cloud", "DSR_S3_REGION": REGION, "DSR_S3_SSE": "aws:kms",
           "DSR_S3_KMS_KEY_ID": "alias/dsr", "DSR_S3_DELETE_VERSIONS": "true"}
    made = config.from_environment(tmp_path, env)
    assert (made["STORAGE_BACKEND"], made["S3_BUCKET"], made["S3_PREFIX"], made["S3_ENCRYPTION"],
            made["S3_DELETE_VERSIONS"]) == ("s3", "dsr-files", "prod", "aws:kms", True)
    assert config.from_environment(tmp_path, {})["STORAGE_BACKEND"] == "local"
    for wrong in ({"DSR_STORAGE": "s3"}, {"DSR_STORAGE": "ftp"}, {"DSR_STORAGE": "s3", "DSR_S3_BUCKET": "b",
                                                                    "DSR_S3_SSE": "rot13"}):
        with pytest.raises(config.ConfigError):
            config.from_environment(tmp_path, wrong)
