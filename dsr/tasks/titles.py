"""Titles of the tasks dsr creates, in the reader's language (issue 16, item 9).

A task dsr creates (a manual source to search, a correction a person makes, an upheld objection's work)
stores a ``kind`` and its ``params``; its title is written when it is shown, in the interface's language,
by the renderer the feature registered for that kind. The stored ``title`` is the same title in English:
the record the audit trail, the API and the CSV keep. A task a person typed has no kind and is shown exactly
as typed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from flask_babel import force_locale

from dsr.timeutil import interface_language

TITLE_MAX = 300

# kind -> renderer(params, language) -> the title in the current interface language ("en", "nl" or "fr" is
# passed for the data map's names; the sentence itself goes through gettext).
_RENDERERS: dict[str, Callable[[Mapping[str, Any], str], str]] = {}


class _Titled(Protocol):
    title: str
    kind: str | None
    params: dict | None


def register(kind: str, renderer: Callable[[Mapping[str, Any], str], str]) -> None:
    """``renderer(params, language)`` writes a ``kind`` task's title in the interface's language."""
    if _RENDERERS.get(kind, renderer) is not renderer:
        raise ValueError(f"task kind {kind!r} is registered twice")
    _RENDERERS[kind] = renderer


def kinds() -> frozenset[str]:
    return frozenset(_RENDERERS)


def fit(title: str) -> str:
    """A title cut to what the column holds, with an ellipsis when cut."""
    return title if len(title) <= TITLE_MAX else title[:TITLE_MAX - 1].rstrip() + "…"


def render(kind: str, params: Mapping[str, Any]) -> str:
    """A ``kind`` task's title in the interface's language."""
    return fit(_RENDERERS[kind](params, interface_language()))


def english(kind: str, params: Mapping[str, Any]) -> str:
    """A ``kind`` task's title in English: what the task row, the audit trail and the API keep."""
    with force_locale("en_GB"):
        return render(kind, params)


def task_title(task: _Titled) -> str:
    """What a page shows as the task's title: an automatic task's in the interface's language, a typed one
    as typed (and an automatic one whose kind is no longer known, as stored)."""
    if task.kind and task.kind in _RENDERERS:
        try:
            return render(task.kind, task.params or {})
        except (KeyError, TypeError, ValueError):  # parameters of an older shape: the stored title
            return task.title
    return task.title
