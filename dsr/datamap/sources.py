"""The data map as typed objects: where a subject's data lives in Harmony's systems.

A **source** is one of Harmony's systems, declared in one Fides dataset YAML file
(``dsr/datamap/datasets/*.yml``, plus any files in the directories named by the config key
``DSR_DATAMAP_DIR``, separated by ``os.pathsep``). It is either a SQL database reached through SQLAlchemy or
a **manual** source (the paper archive, a processor such as Focus Feedback) that becomes a task for a person.
Adding a SQL system is a YAML file plus a connection URL in the environment: no code (issue 4, item 2).

Each source declares collections and fields with fideslang data categories (what the Art. 15(1)(b) answer
lists), identity fields (customer number, policy number, e-mail, name + date of birth + postcode), the
references between collections, how each field is erased (Art. 17) and whether the subject provided it
(Art. 20(1)). How those are written in the YAML is explained in :mod:`dsr.datamap.parse`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dsr.datamap.model import (
    COMPOSITE_IDENTITY,
    IDENTITY_TYPES,
    SINGLE_IDENTITIES,
    Collection,
    DataMapError,
    Edge,
    Erase,
    Field,
    LegalBasis,
    Reference,
    Source,
    SourceKind,
)
from dsr.datamap.parse import check_cross_references, parse_file

__all__ = [
    "BUILTIN_DIR", "COMPOSITE_IDENTITY", "DATAMAP_DIR_KEY", "IDENTITY_TYPES", "SINGLE_IDENTITIES",
    "Collection", "DataMapError", "Edge", "Erase", "Field", "LegalBasis", "Reference", "Source", "SourceKind",
    "datamap_dirs", "load_sources",
]

BUILTIN_DIR = Path(__file__).resolve().parent / "datasets"
DATAMAP_DIR_KEY = "DSR_DATAMAP_DIR"


def datamap_dirs(config: Mapping[str, Any] | None = None) -> list[Path]:
    """The built-in datasets plus each directory in ``DSR_DATAMAP_DIR`` (config, else environment)."""
    extra = (config or {}).get(DATAMAP_DIR_KEY) or os.environ.get(DATAMAP_DIR_KEY) or ""
    return [BUILTIN_DIR, *(Path(part) for part in str(extra).split(os.pathsep) if part.strip())]


def load_sources(config: Mapping[str, Any] | None = None) -> dict[str, Source]:
    """Load and validate every dataset file, keyed by the dataset's ``fides_key``.

    Refuses (``DataMapError``) a file fideslang rejects, an unknown data category, a bad erase strategy,
    a duplicate source key or a reference to a source or field that does not exist.
    """
    sources: dict[str, Source] = {}
    for directory in datamap_dirs(config):
        if not directory.is_dir():
            raise DataMapError(f"{DATAMAP_DIR_KEY}: {directory} is not a directory")
        for path in sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")]):
            source = parse_file(path)
            if source.key in sources:
                raise DataMapError(f"{path}: source {source.key!r} is already declared in "
                                   f"{sources[source.key].path}")
            sources[source.key] = source
    check_cross_references(sources)
    return sources
