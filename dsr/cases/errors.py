"""Why an operation on a case was refused. Views and the API map each kind to its HTTP status."""

from __future__ import annotations


class CaseError(ValueError):
    """Base class; the message is written for the person who tried."""

    status = 400


class InvalidInput(CaseError):
    """Something required is missing or malformed (400)."""

    status = 400

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class NotAllowed(CaseError):
    """The actor's role may not do this (403)."""

    status = 403


class RuleViolation(CaseError):
    """The case's state or a legal rule forbids it (409); the message names the current state."""

    status = 409


class StaleCase(CaseError):
    """The case changed since the page was loaded (409): nothing was overwritten."""

    status = 409

    def __init__(self, case, expected_version: int):
        self.case = case
        self.expected_version = expected_version
        super().__init__(
            f"{case.reference} was changed by someone else since you opened it (version {expected_version}, "
            f"now {case.version}). Nothing was saved; review the changes and try again.")
