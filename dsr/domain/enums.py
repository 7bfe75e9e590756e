"""The vocabulary of the domain. Stored by value; each column has a CHECK constraint (STYLE.md point 4)."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    PRIVACY_MANAGER = "privacy_manager"
    STAFF = "staff"
    AUDITOR = "auditor"


class Right(enum.StrEnum):
    """The rights a request can invoke (GDPR Articles 15, 16, 17, 20 and 21)."""

    ACCESS = "access"
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    OBJECTION = "objection"
    PORTABILITY = "portability"

    @property
    def article(self) -> str:
        return {
            Right.ACCESS: "15",
            Right.RECTIFICATION: "16",
            Right.ERASURE: "17",
            Right.PORTABILITY: "20",
            Right.OBJECTION: "21",
        }[self]


class Channel(enum.StrEnum):
    """Official channels; the clock starts when a request reaches any of them (EDPB 01/2022 §159)."""

    POST = "post"
    EMAIL = "email"
    PHONE = "phone"
    WEB = "web"
    PARTNER = "partner"


class Language(enum.StrEnum):
    NL = "nl"
    EN = "en"
    FR = "fr"


class CaseState(enum.StrEnum):
    RECEIVED = "received"
    IDENTITY_CHECK = "identity_check"
    IN_PROGRESS = "in_progress"
    AWAITING_APPROVAL = "awaiting_approval"
    COMPLETED = "completed"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"

    @property
    def is_open(self) -> bool:
        return self not in CLOSED_STATES


CLOSED_STATES = frozenset({CaseState.COMPLETED, CaseState.REFUSED, CaseState.WITHDRAWN, CaseState.CLOSED})

# The GDPR applies from 25 May 2018; an earlier receipt date is a typing error.
GDPR_START = (2018, 5, 25)
