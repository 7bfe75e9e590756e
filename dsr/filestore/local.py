"""dsr's files in a folder (``STORAGE_DIR``): a local directory, or a shared volume every process mounts.

A write goes to ``<file>.part``, is flushed to the disk, and only then renamed into place: a crash or a full
disk leaves at most a ``.part`` (removed when the failure is seen; the sweep reports one a crash left).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from dsr.filestore.base import Storage, StorageFailed, StoredObject, Written, check_key


class LocalStorage(Storage):
    def __init__(self, root: Path | str):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    @contextmanager
    def writer(self, key: str, *, read_only: bool = False) -> Iterator[Written]:
        target = self._path(key)
        tmp = target.with_name(target.name + ".part")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "w+b") as fh:
                out = Written(key=key, file=fh)
                yield out
                fh.flush()
                os.fsync(fh.fileno())
                out.size = fh.seek(0, os.SEEK_END)
            if read_only:
                os.chmod(tmp, 0o444)
            os.replace(tmp, target)
        except OSError as exc:
            raise StorageFailed(exc) from exc
        finally:
            with suppress(OSError):  # no .part stays; where none could be made, there is none to remove
                tmp.unlink(missing_ok=True)

    def open(self, key: str) -> BinaryIO:
        return open(self._path(key), "rb")

    def stat(self, key: str) -> StoredObject:
        path = self._path(key)
        if not path.is_file():
            raise FileNotFoundError(key)
        st = path.stat()
        return StoredObject(key=key, size=st.st_size, modified=datetime.fromtimestamp(st.st_mtime, tz=UTC))

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        folder = self.root / prefix.rpartition("/")[0] if prefix else self.root
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            key = path.relative_to(self.root).as_posix()
            if key.startswith(prefix):
                st = path.stat()
                yield StoredObject(key=key, size=st.st_size, modified=datetime.fromtimestamp(st.st_mtime, tz=UTC))

    def local_file(self, key: str) -> Path:
        """The file itself (no copy): the folder is local. For :func:`dsr.filestore.send` only."""
        return self._path(key)
