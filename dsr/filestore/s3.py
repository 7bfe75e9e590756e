"""dsr's files in a bucket of an S3-compatible store (AWS S3, MinIO, Ceph, Scaleway, …), through boto3.

An S3 object appears whole or not at all: a single PUT, or a multipart upload that is completed only after
its last part (boto3's ``upload_fileobj`` splits files above ``multipart_threshold`` and aborts the upload
when a part fails). A file written piece by piece (an export's ZIP, which seeks back to write its headers)
is spooled to a temporary file first and uploaded when complete. Credentials come from boto3's own chain
(``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, a profile, an instance or pod role); nothing of them is kept
in dsr's configuration.
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import BinaryIO

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from dsr.filestore.base import Source, Storage, StorageFailed, StoredObject, Written, check_key, chunks_of

MISSING = {"NoSuchKey", "404", "NotFound"}


def _code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "error")
    if isinstance(exc.__context__, ClientError):
        return _code(exc.__context__)
    found = re.search(r"\((\w+)\)", str(exc))
    return found.group(1) if found else type(exc).__name__


def _reason(exc: Exception) -> str:
    if isinstance(exc, BotoCoreError):
        return f"the object store could not be reached: {type(exc).__name__}"
    return f"the object store answered {_code(exc)}"


@contextmanager
def _failures(*, reading: bool = False) -> Iterator[None]:
    """boto3's errors as :class:`StorageFailed` (507), naming the store's answer (``AccessDenied``,
    ``NoSuchBucket``, an unreachable endpoint), never a credential."""
    try:
        yield
    except (ClientError, S3UploadFailedError, BotoCoreError) as exc:
        raise StorageFailed(reason=_reason(exc), reading=reading) from exc


class S3Storage(Storage):
    def __init__(self, *, bucket: str, prefix: str = "", endpoint_url: str | None = None,
                 region: str | None = None, addressing_style: str = "auto", encryption: str | None = None,
                 kms_key_id: str | None = None, delete_versions: bool = False,
                 multipart_threshold: int = 64 * 1024 * 1024):
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url or None, region_name=region or None,
            config=Config(s3={"addressing_style": addressing_style}, retries={"mode": "standard", "max_attempts": 4},
                          connect_timeout=10, read_timeout=60))
        self.extra: dict[str, str] = {}
        if encryption:
            self.extra["ServerSideEncryption"] = encryption
            if kms_key_id:
                self.extra["SSEKMSKeyId"] = kms_key_id
        self.delete_versions = delete_versions
        self.transfer = TransferConfig(multipart_threshold=multipart_threshold,
                                       multipart_chunksize=multipart_threshold)

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _upload(self, key: str, fh: BinaryIO) -> None:
        with _failures():
            self.client.upload_fileobj(fh, self.bucket, self._name(key), ExtraArgs=dict(self.extra),
                                       Config=self.transfer)

    @contextmanager
    def writer(self, key: str, *, read_only: bool = False) -> Iterator[Written]:
        """Spooled to a temporary file (``TMPDIR``), uploaded once the block ends without an error."""
        check_key(key)
        try:
            with tempfile.TemporaryFile(prefix="dsr-upload-") as fh:
                out = Written(key=key, file=fh)
                yield out
                fh.flush()
                out.size = fh.seek(0, io.SEEK_END)
                fh.seek(0)
                self._upload(key, fh)
        except OSError as exc:  # the spool's disk is full
            raise StorageFailed(exc) from exc

    def put(self, key: str, data: Source, *, read_only: bool = False) -> int:
        if isinstance(data, bytes | bytearray | memoryview):
            self._upload(key, io.BytesIO(data))
            return len(data)
        if hasattr(data, "read") and hasattr(data, "seek"):
            start = data.tell()
            end = data.seek(0, io.SEEK_END)
            data.seek(start)
            self._upload(key, data)
            return end - start
        with self.writer(key) as out:
            for chunk in chunks_of(data):
                out.file.write(chunk)
        return out.size

    def open(self, key: str) -> BinaryIO:
        try:
            with _failures(reading=True):
                return self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"]
        except StorageFailed as exc:
            if _code(exc.__cause__) in MISSING:
                raise FileNotFoundError(key) from None
            raise

    def stat(self, key: str) -> StoredObject:
        try:
            with _failures(reading=True):
                head = self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except StorageFailed as exc:
            if _code(exc.__cause__) in MISSING:
                raise FileNotFoundError(key) from None
            raise
        return StoredObject(key=key, size=head["ContentLength"], modified=head["LastModified"].astimezone(UTC))

    def delete(self, key: str) -> None:
        """Delete the object; with ``delete_versions`` every version of it too (a versioned bucket keeps a
        deleted object's data as a noncurrent version, which an erasure must not leave behind)."""
        name = self._name(key)
        with _failures():
            self.client.delete_object(Bucket=self.bucket, Key=name)
            if not self.delete_versions:
                return
            pages = self.client.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=name)
            for page in pages:
                for version in page.get("Versions", []) + page.get("DeleteMarkers", []):
                    if version["Key"] == name:
                        self.client.delete_object(Bucket=self.bucket, Key=name, VersionId=version["VersionId"])

    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        with _failures(reading=True):
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                         Prefix=self.prefix + prefix)
            for page in pages:
                for item in page.get("Contents", []):
                    yield StoredObject(key=item["Key"][len(self.prefix):], size=item["Size"],
                                       modified=item["LastModified"].astimezone(UTC))
