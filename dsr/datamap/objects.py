"""Stored objects a record points to (the audio of a recorded call at ``storage_uri``), and where they live.

A row is not all there is to erase: a field the data map marks ``dsr: {stored_object: true}`` holds the
address of an object in an object store, and erasing the row must delete that object too (issue 13, item 5;
Art. 17(1): the recording is the personal data, the row only its index). dsr reaches the store through the
small :class:`ObjectStore` protocol (put, get, delete, exists), so a store speaking the S3 protocol can
take the place of :class:`LocalObjectStore`, the directory that plays it in the embedded demo and in tests.

Addresses are ``s3://bucket/key``, as Harmony's contact centre writes them; the local store keeps the
object at ``<root>/bucket/key`` and refuses any address that would lead outside its root.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any, Protocol
from urllib.parse import urlsplit

from dsr.datamap.model import DataMapError

OBJECT_STORE_KEY = "OBJECT_STORE"  # which kind of store: "local" (the only one built in)
OBJECT_STORE_DIR_KEY = "OBJECT_STORE_DIR"  # the local store's root directory
SCHEMES = ("s3",)


class ObjectStoreError(RuntimeError):
    """An object could not be read, written or deleted; the message says which and why."""


class ObjectStore(Protocol):
    """What dsr needs of an object store. ``delete`` of an object that is not there is not an error (a
    retry after a crash finds it gone); :func:`delete_verified` checks with ``exists`` that it is gone."""

    def put(self, uri: str, data: bytes) -> None: ...

    def get(self, uri: str) -> bytes: ...

    def delete(self, uri: str) -> None: ...

    def exists(self, uri: str) -> bool: ...


def split_uri(uri: str) -> tuple[str, str]:
    """``(bucket, key)`` of ``s3://bucket/key``; :class:`ObjectStoreError` for anything else."""
    parts = urlsplit(str(uri))
    segments = parts.path.lstrip("/").split("/")
    if parts.scheme not in SCHEMES or not parts.netloc or segments == [""] or parts.query or parts.fragment:
        raise ObjectStoreError(f"not an object address (s3://bucket/key): {uri!r}")
    if any(s in ("..", ".", "") for s in segments) or parts.netloc in ("..", ".") or "\\" in parts.path:
        raise ObjectStoreError(f"an object address may not climb out of its bucket: {uri!r}")
    return parts.netloc, str(PurePosixPath(*segments))


class LocalObjectStore:
    """Objects as files under ``root``: ``s3://bucket/a/b.wav`` is ``root/bucket/a/b.wav``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()

    def path(self, uri: str) -> Path:
        bucket, key = split_uri(uri)
        path = (self.root / bucket / key).resolve()
        if not path.is_relative_to(self.root):
            raise ObjectStoreError(f"an object address may not lead outside the store: {uri!r}")
        return path

    def put(self, uri: str, data: bytes) -> None:
        path = self.path(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".put-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, uri: str) -> bytes:
        try:
            return self.path(uri).read_bytes()
        except FileNotFoundError:
            raise ObjectStoreError(f"no such object: {uri}") from None

    def delete(self, uri: str) -> None:
        try:
            self.path(uri).unlink(missing_ok=True)
        except OSError as exc:
            raise ObjectStoreError(f"{uri} could not be deleted: {exc.strerror or exc}") from None

    def exists(self, uri: str) -> bool:
        return self.path(uri).exists()


def delete_verified(store: ObjectStore, uri: str) -> None:
    """Delete the object at ``uri`` and check that it is gone; :class:`ObjectStoreError` otherwise."""
    store.delete(uri)
    if store.exists(uri):
        raise ObjectStoreError(f"{uri} is still there after it was deleted")


def object_store(config: Mapping[str, Any]) -> ObjectStore:
    """The object store the configuration names (``OBJECT_STORE``, default ``local`` at
    ``OBJECT_STORE_DIR``)."""
    kind = str(config.get(OBJECT_STORE_KEY) or "local")
    if kind != "local":
        raise DataMapError(f"{OBJECT_STORE_KEY}: unknown object store {kind!r}; dsr has 'local'")
    root = config.get(OBJECT_STORE_DIR_KEY)
    if not root:
        raise DataMapError(f"{OBJECT_STORE_DIR_KEY}: set the directory of the local object store")
    return LocalObjectStore(root)
