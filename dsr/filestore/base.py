"""What every storage backend of dsr's own files offers: keys in, bytes out, complete or absent.

Scans, issued letters, exports and ID copies are named by a key (``letters/2026/CASE-…-v1-en-….pdf``), never
by a path: the backend behind the key is a folder (:class:`dsr.filestore.local.LocalStorage`) or a bucket of an
S3-compatible store (:class:`dsr.filestore.s3.S3Storage`). Letters and exports are legal records, so a write
either stores the whole file under its key or leaves nothing there; a failure is :class:`StorageFailed`, which
the app answers with 507 after rolling the request back. No caller reads a stored file by a path: the tools
that need one (pdftoppm for a scan) are given the bytes and make their own temporary file
(dsr/reading/engine.py), and WeasyPrint's PDF comes back as bytes.
"""

from __future__ import annotations

import errno
import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import BinaryIO

Source = bytes | bytearray | memoryview | Iterable[bytes] | BinaryIO
BLOCK = 1024 * 1024
DIGEST_BLOCK = 64 * 1024  # read back into one buffer of this size (Written.digest)


class StorageFailed(RuntimeError):
    """A file could not be written completely (a full disk, a quota, a read-only mount, an object store that
    refused or could not be reached) or could not be read back. Nothing of a failed write is left behind;
    the request's transaction is rolled back, so no row points at it either."""

    def __init__(self, exc: OSError | None = None, *, reason: str | None = None, reading: bool = False):
        self.errno = exc.errno if exc is not None else None
        if exc is not None and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            message = "The file could not be stored: the storage is full. Nothing was saved; tell the administrator."
        elif reading:
            message = f"The stored file could not be read ({reason}); tell the administrator."
        else:
            why = reason or errno.errorcode.get(exc.errno or 0 if exc is not None else 0, "error")
            message = f"The file could not be stored ({why}). Nothing was saved; tell the administrator."
        super().__init__(message)


@dataclass(frozen=True)
class StoredObject:
    """A stored file as a listing sees it; ``modified`` is timezone-aware UTC."""

    key: str
    size: int
    modified: datetime


@dataclass
class Written:
    """The file being written by :meth:`Storage.writer`: write to ``file``; ``size`` is set once it is stored."""

    key: str
    file: BinaryIO
    size: int = 0

    def digest(self) -> tuple[str, int]:
        """SHA-256 and size of what was written so far, read back from the start of the file into one buffer
        (a new megabyte of bytes per read raised an export's peak by 1.4 MB: issue 15, item 4)."""
        self.file.flush()
        self.file.seek(0)
        sha, size = hashlib.sha256(), 0
        buffer = bytearray(DIGEST_BLOCK)
        view = memoryview(buffer)
        while read := self.file.readinto(buffer):
            sha.update(view[:read])
            size += read
        return sha.hexdigest(), size


def check_key(key: str) -> str:
    """A key is a relative POSIX path without ``..``: it can never name a file outside the store."""
    parts = PurePosixPath(key).parts
    if not key or key.startswith("/") or "\\" in key or ".." in parts or "." in parts:
        raise ValueError(f"not a storage key: {key!r}")
    return key


def chunks_of(data: Source) -> Iterator[bytes]:
    if isinstance(data, bytes | bytearray | memoryview):
        yield bytes(data)
    elif hasattr(data, "read"):
        while block := data.read(BLOCK):
            yield block
    else:
        yield from data


class Storage(ABC):
    """The storage interface. Keys are relative (``exports/2026/<random>.zip``); an absent key is
    ``FileNotFoundError`` on reading and nothing on deleting."""

    @abstractmethod
    def writer(self, key: str, *, read_only: bool = False) -> AbstractContextManager[Written]:
        """Write a file under ``key`` inside a ``with`` block: stored completely when the block ends, not
        at all when it raises (an ``OSError`` becomes :class:`StorageFailed`). ``read_only``: the stored file
        may not be changed in place (a letter)."""

    def put(self, key: str, data: Source, *, read_only: bool = False) -> int:
        """Store ``data`` (bytes, an iterable of byte chunks, or a binary file) completely or not at all;
        returns the number of bytes stored."""
        with self.writer(key, read_only=read_only) as out:
            for chunk in chunks_of(data):
                out.file.write(chunk)
        return out.size

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """A binary stream of the stored file, read as it is sent (a large export is never whole in memory).
        The caller closes it."""

    def read(self, key: str) -> bytes:
        """The whole file: for small files only (a letter, a scan)."""
        with closing(self.open(key)) as fh:
            return fh.read()

    @abstractmethod
    def stat(self, key: str) -> StoredObject:
        """Size and time of the stored file."""

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except FileNotFoundError:
            return False
        return True

    def size(self, key: str) -> int:
        return self.stat(key).size

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the file for good (an erasure, an expiry, a case file's reduction); absent is fine."""

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        """Every stored file whose key starts with ``prefix``, sorted by key (for ``dsr storage-sweep``)."""
