"""YAML read as :func:`yaml.safe_load` reads it, through libyaml's parser where PyYAML has it.

The data map, the privacy statement and the retention rules are parsed afresh by every process that reads
them (an export worker's first job parses all three: 8 % of the CPU time of a 50,000-record export with
the pure-Python parser, issue 15 item 4). ``yaml.CSafeLoader`` parses with libyaml and builds the same
objects with the same safe constructor and resolver. A text libyaml refuses is read again by the
pure-Python loader, so an error says what it said before (and a text only libyaml refuses is still read).
"""

from __future__ import annotations

from typing import Any

import yaml

_FAST = getattr(yaml, "CSafeLoader", None)


def safe_load(text: str) -> Any:
    """``yaml.safe_load(text)``: the same document, or the same :class:`yaml.YAMLError`."""
    if _FAST is not None:
        try:
            return yaml.load(text, Loader=_FAST)  # noqa: S506 (the safe loader, in C)
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)
