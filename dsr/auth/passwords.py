"""The password policy: at least 12 characters, and none of the most common passwords.

The list is the 30,000 most common passwords that ship with the ``zxcvbn`` package (its
``frequency_lists``), read from disk: no network. A common password with digits or signs around it
("Password2026!") is as guessable as the password itself, so it is refused too.
"""

from __future__ import annotations

import re
from functools import cache

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200
_EDGES = re.compile(r"^[^a-z]+|[^a-z]+$")


@cache
def common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str) -> str | None:
    """Why ``password`` may not be used (a sentence in the interface's language), or ``None``."""
    from flask_babel import gettext as _

    if len(password) < MIN_PASSWORD_LENGTH:
        return _("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("The password may have at most %(n)d characters.", n=MAX_PASSWORD_LENGTH)
    lowered = password.lower()
    core = _EDGES.sub("", lowered)
    if lowered in common_passwords() or (len(core) >= 4 and core in common_passwords()):
        return _("This is one of the most common passwords; choose another.")
    if len(set(lowered)) < 4:
        return _("The password repeats too few different characters; choose another.")
    return None
