"""Readable names of job kinds, for the jobs card; each feature adds its own when it registers a handler."""

from __future__ import annotations

KIND_LABELS: dict[str, object] = {}
