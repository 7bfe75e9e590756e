"""The vocabulary of the domain. Stored by value; each column has a CHECK constraint (STYLE.md point 4)."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    PRIVACY_MANAGER = "privacy_manager"
    STAFF = "staff"
    AUDITOR = "auditor"


class Right(enum.StrEnum):
    """The rights a request can invoke (GDPR Articles 15, 16, 17, 18, 20, 21 and 22).

    ``automated_decision``: a request about a decision based solely on automated processing (Art. 22(3)):
    to obtain human intervention, to express one's view, to contest the decision (:mod:`dsr.automated`).
    """

    ACCESS = "access"
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    OBJECTION = "objection"
    PORTABILITY = "portability"
    RESTRICTION = "restriction"
    AUTOMATED_DECISION = "automated_decision"

    @property
    def article(self) -> str:
        return {
            Right.ACCESS: "15",
            Right.RECTIFICATION: "16",
            Right.ERASURE: "17",
            Right.RESTRICTION: "18",
            Right.PORTABILITY: "20",
            Right.OBJECTION: "21",
            Right.AUTOMATED_DECISION: "22",
        }[self]


class Channel(enum.StrEnum):
    """Official channels; the clock starts when a request reaches any of them (EDPB 01/2022 §159)."""

    POST = "post"
    EMAIL = "email"
    PHONE = "phone"
    WEB = "web"
    PARTNER = "partner"


class SubjectTitle(enum.StrEnum):
    """How the person is addressed in a letter ("Geachte heer …", "Madame,"); unknown: no title stored."""

    MR = "mr"
    MS = "ms"


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


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


class RefusalGround(enum.StrEnum):
    """Why a request may be refused (LEGAL.md, "Refusing and charging")."""

    MANIFESTLY_UNFOUNDED = "manifestly_unfounded"  # Art. 12(5)(b)
    EXCESSIVE = "excessive"  # Art. 12(5)(b); a request a year after the last is never excessive (EDPB §185)
    IDENTITY_NOT_ESTABLISHED = "identity_not_established"  # Art. 11(2), 12(2)


class VerificationMethod(enum.StrEnum):
    """How the subject's identity was established, proportionately (Art. 12(6), EDPB §§73–79)."""

    POLICY_RECORDS = "policy_records"
    AUTHENTICATED_CHANNEL = "authenticated_channel"
    ADDITIONAL_INFORMATION = "additional_information"
    ID_DOCUMENT_SEEN = "id_document_seen"


class VerificationOutcome(enum.StrEnum):
    VERIFIED = "verified"
    NOT_VERIFIED = "not_verified"


class AttachmentKind(enum.StrEnum):
    LETTER = "letter"
    CORRESPONDENCE = "correspondence"
    # A copy of an ID document is deleted once checked; only "ID seen, by whom, when" remains.
    ID_DOCUMENT = "id_document"
    OTHER = "other"


class LinkKind(enum.StrEnum):
    DUPLICATE = "duplicate"
    RELATED = "related"


class LookupStatus(enum.StrEnum):
    """The outcome of searching Harmony's systems for a subject's data (issue 4, item 3)."""

    FOUND = "found"
    NOTHING_FOUND = "nothing_found"
    FAILED = "failed"  # a source could not be searched; nothing else of that lookup was stored


class LookupMatch(enum.StrEnum):
    """Staff's verdict on whether the records a lookup found are the subject's (issue 4, item 3)."""

    NONE = "none"  # nothing to judge: the lookup found nothing or failed
    PENDING = "pending"  # found, not yet judged
    CONFIRMED = "confirmed"  # the subject's: only now is anything done with the records
    REJECTED = "rejected"  # someone else's ("not this person"), with the reason


class RedactionChoice(enum.StrEnum):
    """What a person decided for a value that may hold other people's data, before an access copy is
    released (Art. 15(4); issue 18, item 4)."""

    RELEASE = "release"  # as it is: it concerns the subject, or the others' interest does not weigh more
    REDACT = "redact"  # the marked passages are replaced by "[withheld]"
    WITHHOLD = "withhold"  # the whole value is left out


class RedactionGround(enum.StrEnum):
    """Why a value, or part of it, is withheld (Art. 15(4), recital 63): what the copy tells the subject."""

    OTHER_PERSON = "other_person"  # it names or identifies someone else (a witness, a third party)
    OTHER_VOICE = "other_voice"  # it holds someone else's voice or words (a call recording)
    OTHERS_PRIVATE = "others_private"  # it reveals someone else's private circumstances
    TRADE_SECRET = "trade_secret"  # it would disclose a trade secret or security measure (recital 63)


class ErasurePlanStatus(enum.StrEnum):
    """An erasure plan is built, approved by the privacy manager, then executed (issue 4, item 5).

    ``executing`` is recorded and committed before any source is touched: a process that dies between two
    sources leaves a plan that says so, with each finished source's outcome, and that is resumed.
    """

    DRAFT = "draft"
    APPROVED = "approved"
    EXECUTING = "executing"
    EXECUTED = "executed"


class ErasureOutcome(enum.StrEnum):
    """How an erasure plan item ended, in the words the case page and the letter use (issue 13, item 8).

    ``deleted``: the row is gone; ``anonymised``: the row is kept with its personal fields masked, because
    kept records refer to it; ``kept``: kept under a rule (rule, basis, article, erase-on date), or kept by
    the privacy manager, "shared: kept" when the record also belongs to someone else; ``failed``: the
    source could not be changed (tried again on the next execution or erase-due run); ``done`` and
    ``impossible``: a person's task (destroy the paper file, instruct a processor) done, or recorded as
    impossible with the reason.
    """

    DELETED = "deleted"
    ANONYMISED = "anonymised"
    KEPT = "kept"
    FAILED = "failed"
    DONE = "done"
    IMPOSSIBLE = "impossible"


class ErasureItemKind(enum.StrEnum):
    """A record in a source system, a paper file to destroy, or a processor to instruct (Art. 28(3)(g))."""

    RECORD = "record"
    PAPER = "paper"
    PROCESSOR = "processor"


class JobStatus(enum.StrEnum):
    """A background job (letter, export, scheduled run): queued, running, then succeeded or failed."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class SearchKind(enum.StrEnum):
    """The identifiers the queue's search finds a subject by (``subject_search_keys.kind``)."""

    NAME = "name"
    CUSTOMER_NUMBER = "customer_number"
    POLICY_NUMBER = "policy_number"
    EMAIL = "email"
    PHONE = "phone"
    DEVICE = "device"
    POSTCODE = "postcode"
