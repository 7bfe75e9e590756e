"""The one settings accessor: the configuration an operation runs with.

Operations take an optional ``config`` mapping (a scheduled run, a worker or a test passes its own);
without one they read the app's. ``settings(config)`` is that rule, written once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app


def settings(config: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """``config`` when given, else the current app's configuration."""
    return current_app.config if config is None else config
