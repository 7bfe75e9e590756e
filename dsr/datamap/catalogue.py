"""The data map as the pages read it: one catalogue built in ``create_app``, not one cache per card.

:func:`install` puts one :class:`Catalogue` on the app. Pages ask it for the sources (:func:`sources`) and
for what they derive from the data map or ship with it (:func:`derived`: the processing a subject can
object to, the privacy statement); each is read on first use and kept for the life of the process, per set
of data-map directories (tests point an app at other directories).
Operations that must see the data map as it is now keep calling :func:`dsr.datamap.sources.load_sources`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import Flask, current_app

from dsr.datamap.sources import Source, datamap_dirs, load_sources

T = TypeVar("T")
EXTENSION = "dsr.catalogue"


class Catalogue:
    def __init__(self) -> None:
        self._cache: dict[tuple, Any] = {}

    def _get(self, name: str, config: Mapping[str, Any], build: Callable[[], T]) -> T:
        key = (name, *(str(p) for p in datamap_dirs(config)))
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def sources(self, config: Mapping[str, Any]) -> dict[str, Source]:
        return self._get("sources", config, lambda: load_sources(config))

    def derived(self, name: str, config: Mapping[str, Any], build: Callable[[], T]) -> T:
        return self._get(f"derived:{name}", config, build)


def install(app: Flask) -> None:
    app.extensions[EXTENSION] = Catalogue()


def _catalogue() -> Catalogue:
    return current_app.extensions[EXTENSION]


def sources() -> dict[str, Source]:
    """The data map's sources (raises :class:`~dsr.datamap.sources.DataMapError` when it is broken)."""
    return _catalogue().sources(current_app.config)


def derived(name: str, build: Callable[[], T]) -> T:
    """``build()``, once per process and data map: for what a page derives from the data map."""
    return _catalogue().derived(name, current_app.config, build)

