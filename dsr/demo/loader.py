"""``flask dsr demo``: users for each role and about 60 cases received over the last 10 weeks.

Idempotent: users are created only if missing, cases only when the demo has not been loaded before
(a ``demo.loaded`` audit event marks that the cases were loaded).
Synthetic people come from Faker in nl_NL, fr_BE and en_GB, seeded so every run gives the same queue.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from faker import Faker
from flask import current_app

from dsr.audit.models import AuditEvent
from dsr.audit.operations import record
from dsr.auth.operations import create_user, find_user
from dsr.cases import lifecycle, timing
from dsr.cases.models import Case
from dsr.cases.operations import log_request
from dsr.demo.harmony import ERASURE_PROFILES, generate, sample_subjects
from dsr.domain.enums import (
    Channel,
    Language,
    RefusalGround,
    Right,
    Role,
    SubjectTitle,
    VerificationMethod,
    VerificationOutcome,
)
from dsr.extensions import db
from dsr.identity.operations import record_verification
from dsr.subjects.operations import SubjectDetails
from dsr.tasks import operations as tasks
from dsr.timeutil import today as local_today

DEMO_USERS = [
    ("manager@harmony.example", "Mira de Manager", Role.PRIVACY_MANAGER, "demo-manager-2026"),
    # A second privacy manager: an erasure plan is approved by another manager than its builder (four eyes).
    ("manager2@harmony.example", "Pieter Jansen", Role.PRIVACY_MANAGER, "demo-manager2-2026"),
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
    [Right.RESTRICTION], [Right.AUTOMATED_DECISION],
]
# Rights whose completion waits for a person's work on the case page (corrections applied or refused and the
# recipients told, Art. 16 and 19; marketing stopped or the objection decided, Art. 21; records restricted,
# Art. 18; a person's review of the automated decision, Art. 22), which the demo leaves for the team to do.
HANDS_ON_RIGHTS = frozenset({Right.RECTIFICATION, Right.OBJECTION, Right.RESTRICTION, Right.AUTOMATED_DECISION})
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


def ensure_demo_systems(url: str, *, customers: int, today: date, objects_dir: str | None = None) -> list[str]:
    """Create the database that plays Harmony's systems, unless it is already there; the recorded calls'
    audio goes into the local object store at ``objects_dir``."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            present = sa.inspect(conn).has_table("customers") and conn.execute(
                sa.text("SELECT COUNT(*) FROM customers")).scalar()
    finally:
        engine.dispose()
    if present:
        return [f"demo systems already present ({url})"]
    result = generate(url, customers=customers, today=today, objects_dir=objects_dir)
    return [f"generated Harmony's demo systems: {result.counts.get('customers', 0)} customers, "
            f"{sum(result.counts.values())} rows ({url})"]


def _customer_subject(c: dict) -> SubjectDetails:
    return SubjectDetails(
        name=c["name"], date_of_birth=c["date_of_birth"], address=c["address"], postcode=c["postcode"],
        city=c["city"], country=c["country"], email=c["email"], phone=c["phone"],
        customer_number=c["customer_number"], policy_number=c["policy_number"], device_id=c["imei"],
        title=_TITLES.get(c.get("gender")))


# The demo customers' gender as Harmony's customer record holds it, for the letters' salutation.
_TITLES = {"M": SubjectTitle.MR, "F": SubjectTitle.MS}


def load_demo(*, now: datetime, today: date | None = None, if_empty: bool = False) -> list[str]:
    """Load the demo; returns lines to print (including the demo logins)."""
    today = today or local_today()
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
    for n, loc in enumerate(fakers):
        # Not hash(loc): string hashes change with every process (PYTHONHASHSEED), and so would the people.
        fakers[loc].seed_instance(20260525 + n)
    systems_url = current_app.config["DEMO_SYSTEMS_URL"]
    report.extend(ensure_demo_systems(systems_url, customers=current_app.config["DEMO_SYSTEMS_CUSTOMERS"],
                                      today=today, objects_dir=current_app.config.get("OBJECT_STORE_DIR")))
    customers = sample_subjects(systems_url, CASE_COUNT, seed=2026, today=today)
    channels = [c for c, w in CHANNEL_WEIGHTS for _ in range(w)]
    for n in range(CASE_COUNT):
        loc, language, country = LOCALES[0] if rng.random() < 0.6 else rng.choice(LOCALES[1:])
        if n < len(customers):
            # A real customer of the demo systems, so every right can be exercised end to end.
            subject, language = _customer_subject(customers[n]), Language(customers[n]["language"])
        else:
            subject = _subject(fakers[loc], rng, country, n)
        received_on = today - timedelta(days=rng.randint(0, 70))
        if n < len(customers) and customers[n]["profile"] in ERASURE_PROFILES:
            # Received last week: still open, its subject's data not yet searched, for the team to try.
            received_on = today - timedelta(days=5 + n % 3)
        rights = rng.choice(RIGHT_SETS)
        if n < len(customers) and customers[n]["profile"] in ERASURE_PROFILES:
            rights = [Right.ERASURE]  # a customer chosen to show an erasure rule asks for erasure
        elif HANDS_ON_RIGHTS & set(rights) and (today - received_on).days > 24:
            # Such a request waits for a person's work on the case page (the demo does not do it), so it is a
            # recent request: a team in control has few cases past their deadline.
            received_on = today - timedelta(days=(today - received_on).days % 25)
        case = log_request(
            subject=subject,
            rights=rights,
            channel=rng.choice(channels),
            received_on=received_on,
            language=language,
            notes=rng.choice(["", "", "Handwritten letter, signed.", "Asks for an answer by e-mail.",
                              "Refers to a claim for a cracked screen.", "Second letter on the same subject."]),
            actor=users[Role.STAFF, "staff@harmony.example"],
            now=now,
            today=today,
        )
        _advance(case, rng, users, now=now, today=today)
    record(DEMO_MARKER, actor=None, now=now, after={"cases": CASE_COUNT})
    db.session.commit()
    report.append(f"loaded {CASE_COUNT} demo cases")
    return report + ["Demo logins:", *demo_logins()]


def _advance(case: Case, rng: random.Random, users, *, now: datetime, today: date) -> None:
    """Move a demo case along its life through the real operations, as a team would have done it."""
    manager = users[Role.PRIVACY_MANAGER, "manager@harmony.example"]
    staff = [u for (role, _e), u in users.items() if role is Role.STAFF]
    worker = rng.choice(staff)
    age = (today - case.received_on).days
    if rng.random() < 0.8 or age > 10:
        lifecycle.assign(case, rng.choice([*staff, manager]), actor=manager, now=now)
    if age <= 3:
        return
    if rng.random() < 0.15 and age > 8:
        # Information asked for: in time (counted, the clock pauses) or late (flagged, the clock runs on).
        asked = case.received_on + timedelta(days=rng.choice([1, 2, 3, 12]))
        if asked <= today:
            timing.request_information(case, reason=rng.choice(DEMO_ASKS), requested_on=asked, actor=worker,
                                       now=now, today=today)
            arrived = asked + timedelta(days=rng.randint(2, 9))
            if arrived <= today and rng.random() < 0.7:
                timing.information_received(case, received_on=arrived, actor=worker, now=now, today=today)
    if rng.random() < 0.25:
        lifecycle.start_identity_check(case, actor=worker, now=now)
        if age <= 20:
            return
    record_verification(case, method=rng.choice([VerificationMethod.POLICY_RECORDS,
                                                 VerificationMethod.AUTHENTICATED_CHANNEL]),
                        outcome=VerificationOutcome.VERIFIED, note="", actor=worker, now=now)
    if rng.random() < 0.2:
        tasks.add_task(case, rng.choice(DEMO_TASKS), assignee=worker,
                       due_on=today + timedelta(days=rng.randint(-4, 6)) if rng.random() < 0.8 else None,
                       actor=worker, now=now, today=today - timedelta(days=10))
    if 18 <= age <= 28 and rng.random() < 0.35 and case.paused_since is None:
        timing.extend(case, reason="Erasure across the claims archive and the repairer's systems; several "
                      "requests combined in one letter.", actor=manager, now=now, today=today)
        if rng.random() < 0.5:
            timing.record_extension_notice(case, sent_on=today, actor=worker, now=now, today=today)
    if age <= 14 or case.paused_since is not None or rng.random() < 0.3:
        return
    # The work before approval, as staff do it: search Harmony's systems and confirm the match (a subject
    # who is not a demo customer is found nowhere, which is an answer too).
    from dsr.fulfilment.lookup_ops import confirm_match, run_lookup

    lookup = run_lookup(case, actor=worker, now=now)
    if lookup.match == "pending":
        confirm_match(lookup, actor=worker, now=now)
    lifecycle.submit_for_approval(case, actor=worker, now=now)
    if age <= 30:
        return
    roll = rng.random()
    # Answered on a day of its own between two and six weeks after receipt (not all at load time), so the
    # dashboard's months show a spread of handling times, some beyond the deadline.
    answered = min(now, datetime.combine(case.received_on + timedelta(days=14 + case.id * 7 % 29), time(14, 30),
                                         tzinfo=UTC))
    if roll < 0.06 or (roll < 0.75 and HANDS_ON_RIGHTS & set(case.right_values)):
        # Still waiting for the manager's approval: overdue, for the queue to show. A right of HANDS_ON_RIGHTS
        # is only completed once its work was done, which the demo leaves for a person on the case page.
        return
    if roll < 0.75:
        # History loaded as it was answered before dsr recorded the work: the completion says so (an
        # override with its reason), so the checklist's rule holds for the demo too.
        lifecycle.complete(case, decision="Answered in full; letter and data sent to the subject.", actor=manager,
                           now=answered, override_reason="Demo history: answered before this case file recorded "
                                                         "the search, the plan and the letter.")
    elif roll < 0.88:
        lifecycle.refuse(case, ground=RefusalGround.IDENTITY_NOT_ESTABLISHED,
                         justification="The subject did not answer two requests to confirm the policy number "
                                       "and address; we cannot tell whose data would be disclosed.",
                         actor=manager, now=answered)
    else:
        lifecycle.withdraw(case, how="Phone call to the privacy desk", actor=worker, now=answered)


DEMO_ASKS = ["Which policy the letter is about", "Confirmation of the current address",
             "The device's IMEI to find the claim", "Which marketing e-mails are meant"]
DEMO_TASKS = ["Ask the repairer for the claim photos", "Check the paper archive in Rotterdam",
              "Ask Focus Feedback for survey answers", "Retrieve call recordings"]
