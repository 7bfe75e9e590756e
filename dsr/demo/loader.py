"""``flask dsr demo``: users for each role and about 60 cases received over the last 10 weeks.

Idempotent: users are created only if missing, cases only when the demo has not been loaded before
(a ``demo.loaded`` audit event marks that the cases were loaded).
Synthetic people come from Faker in nl_NL, fr_BE and en_GB, seeded so every run gives the same queue.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from faker import Faker

from dsr.audit.models import AuditEvent
from dsr.audit.operations import record
from dsr.auth.operations import create_user, find_user
from dsr.cases.models import Case
from dsr.cases.operations import log_request
from dsr.domain.enums import CaseState, Channel, Language, Right, Role
from dsr.extensions import db
from dsr.subjects.operations import SubjectDetails

DEMO_USERS = [
    ("manager@harmony.example", "Mira de Manager", Role.PRIVACY_MANAGER, "demo-manager-2026"),
    ("staff@harmony.example", "Sam Staff", Role.STAFF, "demo-staff-2026"),
    ("staff2@harmony.example", "Sanne Verbeek", Role.STAFF, "demo-staff2-2026"),
    ("auditor@harmony.example", "Arthur Auditor", Role.AUDITOR, "demo-auditor-2026"),
]
DEMO_MARKER = "demo.loaded"
CASE_COUNT = 60
LOCALES = [("nl_NL", Language.NL, "NL"), ("fr_BE", Language.FR, "BE"), ("en_GB", Language.EN, "GB")]
RIGHT_SETS = [
    [Right.ACCESS], [Right.ACCESS], [Right.ACCESS], [Right.ERASURE], [Right.ERASURE],
    [Right.OBJECTION], [Right.RECTIFICATION], [Right.PORTABILITY],
    [Right.ACCESS, Right.ERASURE], [Right.ACCESS, Right.PORTABILITY], [Right.OBJECTION, Right.ERASURE],
]
CHANNEL_WEIGHTS = [(Channel.POST, 5), (Channel.EMAIL, 4), (Channel.WEB, 3), (Channel.PHONE, 1), (Channel.PARTNER, 1)]


def demo_logins() -> list[str]:
    return [f"  {role.value:<16} {email:<28} password: {password}" for email, _n, role, password in DEMO_USERS]


def _subject(fake: Faker, rng: random.Random, country: str, n: int) -> SubjectDetails:
    dob = fake.date_of_birth(minimum_age=18, maximum_age=85)
    first, last = fake.first_name(), fake.last_name()
    return SubjectDetails(
        name=f"{first} {last}",
        date_of_birth=dob,
        address=fake.street_address().replace("\n", ", "),
        postcode=fake.postcode() if country != "NL" else f"{rng.randint(1000, 9999)} {fake.random_uppercase_letter()}"
        f"{fake.random_uppercase_letter()}",
        city=fake.city(),
        country=country,
        email=f"{first}.{last}.{n}@example.{ {'NL': 'nl', 'BE': 'be', 'GB': 'co.uk'}[country] }".lower()
        .replace(" ", "").replace("'", ""),
        customer_number=f"HC{1000000 + n * 37:07d}",
        policy_number=f"HP-{rng.randint(100000, 999999)}" if rng.random() < 0.7 else None,
    )


def load_demo(*, now: datetime, today: date | None = None, if_empty: bool = False) -> list[str]:
    """Load the demo; returns lines to print (including the demo logins)."""
    today = today or now.date()
    report: list[str] = []
    users = {}
    for email, name, role, password in DEMO_USERS:
        user = find_user(email)
        if user is None:
            user = create_user(email, name=name, role=role, password=password, actor=None, now=now)
            report.append(f"created user {email}")
        users[role, email] = user

    loaded = db.session.execute(sa.select(AuditEvent.id).where(AuditEvent.action == DEMO_MARKER).limit(1)).first()
    has_cases = db.session.execute(sa.select(Case.id).limit(1)).first()
    if loaded or (if_empty and has_cases):
        db.session.commit()
        report.append("demo cases already present; nothing else loaded")
        return report + ["Demo logins:", *demo_logins()]

    rng = random.Random(20260525)
    fakers = {loc: Faker(loc) for loc, _l, _c in LOCALES}
    for loc in fakers:
        fakers[loc].seed_instance(hash(loc) % 10_000 + 7)
    assignable = [u for (role, _e), u in users.items() if role in (Role.STAFF, Role.PRIVACY_MANAGER)]
    channels = [c for c, w in CHANNEL_WEIGHTS for _ in range(w)]
    for n in range(CASE_COUNT):
        loc, language, country = LOCALES[0] if rng.random() < 0.6 else rng.choice(LOCALES[1:])
        received_on = today - timedelta(days=rng.randint(0, 70))
        case = log_request(
            subject=_subject(fakers[loc], rng, country, n),
            rights=rng.choice(RIGHT_SETS),
            channel=rng.choice(channels),
            received_on=received_on,
            language=language,
            notes=rng.choice(["", "", "Handwritten letter, signed.", "Asks for an answer by e-mail.",
                              "Refers to a claim for a cracked screen.", "Second letter on the same subject."]),
            actor=users[Role.STAFF, "staff@harmony.example"],
            now=now,
            today=today,
        )
        _advance(case, rng, assignable, now=now, today=today)
    record(DEMO_MARKER, actor=None, now=now, after={"cases": CASE_COUNT})
    db.session.commit()
    report.append(f"loaded {CASE_COUNT} demo cases")
    return report + ["Demo logins:", *demo_logins()]


def _advance(case: Case, rng: random.Random, assignable, *, now: datetime, today: date) -> None:
    """Give older cases a plausible state and assignee (demo data only: real changes go through operations)."""
    age = (today - case.received_on).days
    if rng.random() < 0.75:
        case.assignee = rng.choice(assignable)
    if age > 45 and rng.random() < 0.6:
        case.state = rng.choice([CaseState.COMPLETED, CaseState.COMPLETED, CaseState.REFUSED, CaseState.WITHDRAWN])
        case.closed_at = now
    elif age > 5:
        case.state = rng.choice([CaseState.IDENTITY_CHECK, CaseState.IN_PROGRESS, CaseState.IN_PROGRESS,
                                 CaseState.AWAITING_APPROVAL])
    if case.state is not CaseState.RECEIVED or case.assignee is not None:
        record("demo.case_advanced", actor=None, now=now, case=case,
               after={"state": case.state, "assignee": case.assignee.email if case.assignee else None})
