"""The stored files of the local backend as paths, for tests that look at the folder itself (a ``.part`` left,
a read-only letter, a file gone after an erasure). dsr's code names files by key (dsr/filestore)."""

from __future__ import annotations

from pathlib import Path

from flask import current_app


def storage_root() -> Path:
    return Path(current_app.config["STORAGE_DIR"])


def path_for(row) -> Path:
    """The file of a row with a ``storage_key`` (an attachment, an issued letter, an export)."""
    return storage_root() / row.storage_key
