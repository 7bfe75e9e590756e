"""``flask dsr demo``: users for each role and about 60 cases received over the last 10 weeks.

Idempotent: users are created only if missing, cases only when the demo has not been loaded before
(a ``demo.loaded`` audit event marks that the cases were loaded). Each case is worked as far as its state
says, through the operations the pages call (:mod:`dsr.demo.work`): a few are overdue, most on track, and
none is completed over its checklist.
Synthetic people come from Faker in nl_NL, fr_BE and en_GB, seeded so every run gives the same queue.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
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
from dsr.demo import work
from dsr.demo.harmony import ERASURE_PROFILES, generate, sample_subjects
from dsr.demo.scan import PAPER_DESTROYED, PAPER_NOTE, paper_letter_scan
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
from dsr.letters.kinds import LetterKind, LetterLanguage
from dsr.letters.operations import issue_now
from dsr.subjects.operations import SubjectDetails
from dsr.tasks import operations as tasks
from dsr.timeutil import local_date
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
OLD_FATES = ["answered", "answered", "waiting", "answered", "refused", "answered", "answered", "withdrawn",
             "answered", "answered"]
PAPER_CASE_AGE = 45  # days since the paper-archive case's letter came in: answered, its paper file destroyed
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


def fresh_demo_systems(url: str, *, customers: int, today: date, objects_dir: str | None = None) -> list[str]:
    """Create (again) the database that plays Harmony's systems; the recorded calls' audio goes into the local
    object store at ``objects_dir``. Made afresh whenever demo cases are loaded: the demo's history erases and
    corrects records there, so cases loaded again (into an empty database) start from the systems as
    generated, not from what an earlier load's erasures left."""
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
    report.extend(fresh_demo_systems(systems_url, customers=current_app.config["DEMO_SYSTEMS_CUSTOMERS"],
                                     today=today, objects_dir=current_app.config.get("OBJECT_STORE_DIR")))
    customers = sample_subjects(systems_url, CASE_COUNT, seed=2026, today=today)
    channels = [c for c, w in CHANNEL_WEIGHTS for _ in range(w)]
    paper_n = _paper_archive_case(customers)
    fates: dict[str, list[Case]] = {}
    old_cases = itertools.count()
    shown: set[str] = set()
    for n in range(CASE_COUNT):
        loc, language, country = LOCALES[0] if rng.random() < 0.6 else rng.choice(LOCALES[1:])
        if n < len(customers):
            # A real customer of the demo systems, so every right can be exercised end to end.
            subject, language = _customer_subject(customers[n]), Language(customers[n]["language"])
        else:
            subject = _subject(fakers[loc], rng, country, n)
        received_on = today - timedelta(days=rng.randint(0, 70))
        # The first customer of each profile an erasure rule is shown on: received last week, still open, its
        # data not yet searched, for the team to try (the profile's other customers ask what others ask).
        showcase = n < len(customers) and customers[n]["profile"] in ERASURE_PROFILES - shown
        if showcase:
            shown.add(customers[n]["profile"])
            received_on = today - timedelta(days=5 + n % 3)
        rights = rng.choice(RIGHT_SETS)
        channel = rng.choice(channels)
        notes = rng.choice(["", "", "Handwritten letter, signed.", "Asks for an answer by e-mail.",
                            "Refers to a claim for a cracked screen.", "Second letter on the same subject."])
        if showcase:
            rights = [Right.ERASURE]  # a customer chosen to show an erasure rule asks for erasure
        scan = paper_note = None
        if n == paper_n:
            # Issue 13.12: an erasure asked for by post; the scan is the case's, the original goes to the paper
            # archive, whose file the erasure then destroys.
            rights, channel, received_on = [Right.ERASURE], Channel.POST, today - timedelta(days=PAPER_CASE_AGE)
            scan = paper_letter_scan(customers[n], received_on=received_on)
            notes, paper_note = PAPER_NOTE, PAPER_DESTROYED.format(day=received_on.isoformat())
        received_at = min(now, datetime.combine(received_on, time(9), tzinfo=UTC))
        case = log_request(subject=subject, rights=rights, channel=channel, received_on=received_on,
                           language=language, notes=notes, actor=users[Role.STAFF, "staff@harmony.example"],
                           now=received_at, today=received_on, scan=scan)
        if scan is not None:
            tasks.add_note(case, PAPER_NOTE, actor=users[Role.STAFF, "staff@harmony.example"], now=received_at)
        fate = _advance(case, rng, users, now=now, today=today, old_cases=old_cases, paper_note=paper_note)
        fates.setdefault(fate, []).append(case)
    _archive_and_lift(fates, users, now=now)
    record(DEMO_MARKER, actor=None, now=now, after={"cases": CASE_COUNT})
    db.session.commit()
    report.append(f"loaded {CASE_COUNT} demo cases")
    return report + ["Demo logins:", *demo_logins()]


def _paper_archive_case(customers: list[dict]) -> int | None:
    """The demo customer whose erasure shows the paper archive: one whose policies ended, else the first whose
    profile asks for no erasure of its own (the paper archive holds a file for every customer who wrote by post,
    so any customer the demo samples will do, however few the demo systems hold)."""
    ended = [n for n, c in enumerate(customers) if c["profile"] == "ended_policy"]
    return next(iter(ended), next((n for n, c in enumerate(customers) if c["profile"] not in ERASURE_PROFILES), None))


def _archive_and_lift(fates: dict[str, list[Case]], users, *, now: datetime) -> None:
    """The oldest answered case archived (closed); one answered restriction lifted when its ground ended,
    the subject told beforehand (Art. 18(3))."""
    manager = users[Role.PRIVACY_MANAGER, "manager@harmony.example"]
    answered = sorted(fates.get("completed", []), key=lambda c: c.received_on)
    if answered:
        oldest = answered[0]
        lifecycle.close(oldest, actor=manager, now=min(now, oldest.closed_at + timedelta(days=14)))
    restricted = sorted((c for c in answered[1:] if Right.RESTRICTION in c.right_values), key=lambda c: c.closed_at)
    if restricted:
        case = restricted[0]
        team = work.Team(manager=manager, reviewer=users[Role.PRIVACY_MANAGER, "manager2@harmony.example"],
                         worker=case.assignee or users[Role.STAFF, "staff@harmony.example"])
        work.lift(case, team, work.Steps(local_date(case.closed_at), now), 3)


def _advance(case: Case, rng: random.Random, users, *, now: datetime, today: date, old_cases: Iterator[int],
             paper_note: str | None = None) -> str:
    """Move a demo case along its life through the real operations, as a team would have done it, each step on
    a day of its own after receipt (:mod:`dsr.demo.work`); returns what became of it. ``paper_note``: the
    worked-through paper-archive case, answered in full without detours."""
    manager = users[Role.PRIVACY_MANAGER, "manager@harmony.example"]
    staff = [u for (role, _e), u in users.items() if role is Role.STAFF]
    worker = rng.choice(staff)
    team = work.Team(manager=manager, reviewer=users[Role.PRIVACY_MANAGER, "manager2@harmony.example"],
                     worker=worker)
    steps = work.Steps(case.received_on, now)
    age = (today - case.received_on).days
    if rng.random() < 0.8 or age > 10 or paper_note:
        lifecycle.assign(case, worker if paper_note else rng.choice([*staff, manager]), actor=manager,
                         now=steps.at(1, 9))
    if age <= 3:
        return "received"
    # The fate of a case received more than a month ago, in turn (so each is there, whatever the seed): most
    # were answered, one in ten refused, one in ten withdrawn, and one in ten still waits, past its deadline
    # (a team in control has few of those).
    fate = "waiting" if age <= 30 else "answered" if paper_note else OLD_FATES[next(old_cases) % len(OLD_FATES)]
    if rng.random() < 0.15 and age > 8 and not paper_note:
        # Information asked for: in time (counted, the clock pauses) or late (flagged, the clock runs on).
        asked = case.received_on + timedelta(days=rng.choice([1, 2, 3, 12]))
        if asked <= today:
            timing.request_information(case, reason=rng.choice(DEMO_ASKS), requested_on=asked, actor=worker,
                                       now=steps.at((asked - case.received_on).days), today=asked)
            arrived = asked + timedelta(days=rng.randint(2, 9))
            if arrived <= today and (rng.random() < 0.7 or fate != "waiting"):
                timing.information_received(case, received_on=arrived, actor=worker,
                                            now=steps.at((arrived - case.received_on).days), today=arrived)
    if fate == "refused":
        _refuse(case, team, steps)
        return "refused"
    if rng.random() < 0.25 and not paper_note:
        lifecycle.start_identity_check(case, actor=worker, now=steps.at(1, 11))
        if age <= 20:
            return "identity_check"
    record_verification(case, method=rng.choice([VerificationMethod.POLICY_RECORDS,
                                                 VerificationMethod.AUTHENTICATED_CHANNEL]),
                        outcome=VerificationOutcome.VERIFIED, note="", actor=worker, now=steps.at(2))
    if rng.random() < 0.2 and not paper_note:
        tasks.add_task(case, rng.choice(DEMO_TASKS), assignee=worker,
                       due_on=today + timedelta(days=rng.randint(-4, 6)) if rng.random() < 0.8 else None,
                       actor=worker, now=steps.at(3), today=today - timedelta(days=10))
    if 18 <= age <= 28 and rng.random() < 0.35 and case.paused_since is None and not paper_note:
        timing.extend(case, reason="Erasure across the claims archive and the repairer's systems; several "
                      "requests combined in one letter.", actor=manager, now=steps.at(17), today=steps.today(17))
        if rng.random() < 0.5:
            timing.record_extension_notice(case, sent_on=steps.today(18), actor=worker, now=steps.at(18),
                                           today=steps.today(18))
    if fate == "withdrawn":
        work.search(case, team, steps, 5, manual_done=False)
        lifecycle.withdraw(case, how="Phone call to the privacy desk", actor=worker, now=steps.at(9, 15))
        return "withdrawn"
    if case.paused_since is not None or (fate == "waiting" and (age <= 14 or rng.random() < 0.35)):
        # In progress: about half of them searched already, the paper archive and processors still to do (a
        # request for a copy alone not yet: its search is the first thing a newcomer tries).
        if age > 8 and case.paused_since is None and rng.random() < 0.5 and case.right_values != [Right.ACCESS]:
            work.search(case, team, steps, 5, manual_done=False)
        return "in_progress"
    work.prepare(case, team, steps, 5)
    if fate == "waiting":
        return "awaiting_approval"
    # Answered on a day of its own between two and four and a half weeks after receipt, so the dashboard's
    # months show a spread of handling times, a few beyond Harmony's four-week promise.
    day = min(age - 2, 12 + case.id * 7 % 21)
    work.finish(case, team, steps, day, decision=DEMO_DECISIONS[case.right_values[0]], paper_note=paper_note)
    return "completed"


def _refuse(case: Case, team: work.Team, steps: work.Steps) -> None:
    """Art. 11(2), 12(2): the identity could not be established; refused, the letter in the subject's language."""
    lifecycle.start_identity_check(case, actor=team.worker, now=steps.at(1, 11))
    lifecycle.refuse(case, ground=RefusalGround.IDENTITY_NOT_ESTABLISHED,
                     justification="The subject did not answer two requests to confirm the policy number "
                                   "and address; we cannot tell whose data would be disclosed.",
                     actor=team.manager, now=steps.at(24, 10))
    work.write_texts(case, team.worker, steps.at(24, 11))
    issue_now(case, LetterKind.REFUSAL, LetterLanguage(case.language.value), actor=team.manager,
              now=steps.at(24, 14))


DEMO_DECISIONS = {
    Right.ACCESS: "Copy of the records and the access letter sent.",
    Right.PORTABILITY: "Portable data file made and sent with the letter.",
    Right.ERASURE: "Erased as the approved plan says; paper file and processors done, recipients told.",
    Right.RECTIFICATION: "Correction applied and the recipients told.",
    Right.OBJECTION: "Objection upheld: no more survey invitations.",
    Right.RESTRICTION: "Records restricted while the court case runs; recipients told.",
    Right.AUTOMATED_DECISION: "The claim decision reviewed by a person and changed.",
}


DEMO_ASKS = ["Which policy the letter is about", "Confirmation of the current address",
             "The device's IMEI to find the claim", "Which marketing e-mails are meant"]
DEMO_TASKS = ["Ask the repairer for the claim photos", "Check the paper archive in Rotterdam",
              "Ask Focus Feedback for survey answers", "Retrieve call recordings"]
