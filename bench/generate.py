"""Fill a database with N cases over three years, for the benchmarks at size (issue 15, item 1).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench .venv/bin/python bench/generate.py [--cases 100000]
        [--today 2026-12-04] [--seed 15] [--database-url URL]

The database (SQLite or PostgreSQL, from ``--database-url`` or ``DATABASE_URL``) is migrated first and must
hold no cases. It then gets, by bulk inserts (COPY on PostgreSQL), N cases over N/5 subjects received on
working days over the three years before ``--today``: a mix of states that follows age (old cases answered
or refused or withdrawn, a few still open past their deadline, the last weeks open in every state), rights,
channels and languages; pauses (some asked too late to count), extensions with their notices, tasks,
notes; and about ten audit events per case (one case in a hundred has fifty) in one valid hash chain,
in the order they happened. Deadlines are computed by the domain clock, exactly as the operations store
them; the subjects' search keys are made by the same function the app uses.

Users: manager@bench.example (privacy manager), staff1..8@bench.example, auditor@bench.example, all with
the password ``bench-password-2026``. Nothing here is a test.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, and bench/queue.py would hide the standard
# library's ``queue`` from everything imported after it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import hashlib
import heapq
import json
import os
import random
import time
from datetime import UTC, date, datetime, timedelta

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-password-2026"
BATCH = 5000
RIGHT_WEIGHTS = (("access", 50), ("erasure", 30), ("rectification", 8), ("objection", 7), ("portability", 5))
CHANNEL_WEIGHTS = (("email", 40), ("web", 30), ("post", 20), ("phone", 5), ("partner", 5))
LANGUAGE_WEIGHTS = (("nl", 60), ("en", 20), ("fr", 20))


def _pick(rng: random.Random, weights):
    values, w = zip(*weights, strict=True)
    return rng.choices(values, w)[0]


def _luhn_imei(rng: random.Random) -> str:
    digits = [rng.randrange(10) for _ in range(14)]
    total = 0
    for i, d in enumerate(digits):
        if i % 2 == 1:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


class Writer:
    """Buffers rows per table and writes them in bulk: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self, conn, metadata):
        self.conn = conn
        self.metadata = metadata
        self.pg = conn.dialect.name == "postgresql"
        self.buffers: dict[str, list[dict]] = {}
        self.counts: dict[str, int] = {}
        # Parents first, so foreign keys hold at every flush.
        self.order = ["users", "data_subjects", "subject_search_keys", "cases", "case_rights", "case_pauses",
                      "case_tasks", "case_notes", "identity_verifications", "audit_events", "audit_payloads"]

    def add(self, table: str, row: dict) -> None:
        buf = self.buffers.setdefault(table, [])
        buf.append(row)
        if len(buf) >= BATCH:
            self.flush(upto=table)

    def flush(self, upto: str | None = None) -> None:
        names = self.order if upto is None else self.order[: self.order.index(upto) + 1]
        for name in names:
            rows = self.buffers.get(name)
            if rows:
                self._write(name, rows)
                self.counts[name] = self.counts.get(name, 0) + len(rows)
                self.buffers[name] = []

    def _write(self, name: str, rows: list[dict]) -> None:
        table = self.metadata.tables[name]
        if not self.pg:
            self.conn.execute(table.insert(), rows)
            return
        cols = list(rows[0])
        json_cols = {c for c in cols if table.c[c].type.__class__.__name__ == "JSON"}
        raw = self.conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f'COPY "{name}" ({", ".join(chr(34) + c + chr(34) for c in cols)}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(tuple(
                    (json.dumps(row[c], ensure_ascii=False) if row[c] is not None else None)
                    if c in json_cols else row[c] for c in cols))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--today", type=date.fromisoformat, default=None,
                        help="the day the data ends (default: today)")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("give --database-url or set DATABASE_URL")
    started = time.perf_counter()
    counts = generate(args.database_url, args.cases, args.today or date.today(), args.seed)
    elapsed = time.perf_counter() - started
    print(f"generated in {elapsed:.0f} s: " + ", ".join(f"{n} {t}" for t, n in counts.items()))
    return 0


def bench_app(database_url: str, instance: Path | None = None):
    import tempfile

    from config import normalise_database_url
    from dsr import create_app

    instance = instance or Path(tempfile.mkdtemp(prefix="dsr-bench-"))
    return create_app({
        "INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "SECRET_KEY": "bench", "STORAGE_DIR": str(instance / "storage"), "REDIS_URL": None,
    })


def generate(database_url: str, n_cases: int, today: date, seed: int) -> dict[str, int]:
    import sqlalchemy as sa
    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash

    from dsr.audit.operations import GENESIS
    from dsr.extensions import db

    app = bench_app(database_url)
    with app.app_context():
        upgrade()
        if db.session.scalar(sa.text("SELECT count(*) FROM cases")):
            raise SystemExit("this database already holds cases; generate into an empty one")
        db.session.remove()
        with db.engine.begin() as conn:
            writer = Writer(conn, db.metadata)
            password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:100000")
            users = _users(writer, password_hash, today)
            chain = Chain(writer, GENESIS)
            refs = Generator(writer, chain, users, random.Random(seed), today, n_cases).run()
            writer.flush()
            conn.execute(sa.text("DELETE FROM reference_counters"))
            for year, last in sorted(refs.items()):
                conn.execute(sa.text("INSERT INTO reference_counters (year, last) VALUES (:y, :l)"),
                             {"y": year, "l": last})
            conn.execute(sa.text("DELETE FROM audit_head"))
            conn.execute(sa.text("INSERT INTO audit_head (id, last_hash, events) VALUES (1, :h, :n)"),
                         {"h": chain.last, "n": chain.count})
            if conn.dialect.name == "postgresql":
                for table in [t for t in writer.order if "id" in db.metadata.tables[t].c]:
                    # The ids were given explicitly; the sequences must continue after them.
                    top = conn.execute(sa.select(sa.func.max(db.metadata.tables[table].c.id))).scalar() or 0
                    conn.execute(sa.text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :v, false)"),
                                 {"t": table, "v": top + 1})
        # Statistics for the planner, and on PostgreSQL the visibility map that index-only scans need.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE"))
        return writer.counts


def _users(writer: Writer, password_hash: str, today: date) -> dict:
    created = datetime(today.year - 4, 1, 5, 9, 0, tzinfo=UTC)
    people = [(1, "manager@bench.example", "Mara Manager", "privacy_manager")]
    people += [(1 + i, f"staff{i}@bench.example", f"Staff Member {i}", "staff") for i in range(1, 9)]
    people.append((10, "auditor@bench.example", "Aud Auditor", "auditor"))
    for uid, email, name, role in people:
        writer.add("users", {"id": uid, "email": email, "name": name, "role": role, "password_hash": password_hash,
                             "active": True, "locale": "en", "created_at": created})
    writer.flush()
    return {"manager": 1, "staff": list(range(2, 10)), "auditor": 10,
            "email": {uid: email for uid, email, _n, _r in people}}


class Chain:
    """Audit events in the order they happened, each hashed onto the one before (the app's own hash)."""

    def __init__(self, writer: Writer, genesis: str):
        self.writer = writer
        self.last = genesis
        self.count = 0
        self.heap: list = []
        self.seq = 0

    def push(self, at: datetime, event: dict) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (at, self.seq, event))

    def emit_before(self, moment: datetime | None) -> None:
        from dsr.audit.operations import canonical_content, payload_digest

        while self.heap and (moment is None or self.heap[0][0] < moment):
            at, seq, e = heapq.heappop(self.heap)
            self.count += 1
            before, after = e.get("before"), e.get("after")
            # The details live apart from the chain, which keeps their hash (salted with a nonce), as record() does.
            nonce = hashlib.sha256(f"bench-nonce-{seq}".encode()).hexdigest()[:32]
            has_payload = before is not None or after is not None
            row = {"id": self.count, "occurred_at": at, "actor_id": e["actor_id"], "actor_label": e["actor_label"],
                   "case_id": e.get("case_id"), "action": e["action"],
                   "payload_hash": payload_digest(nonce, before, after) if has_payload else None,
                   "prev_hash": self.last}
            row["hash"] = hashlib.sha256(canonical_content(_EventView(row))).hexdigest()
            self.last = row["hash"]
            self.writer.add("audit_events", row)
            if has_payload:
                self.writer.add("audit_payloads", {"event_id": self.count, "nonce": nonce, "before": before,
                                                   "after": after, "purged_at": None, "purged_by_event_id": None})


class _EventView:
    def __init__(self, row: dict):
        self.__dict__.update(row)


class Generator:
    def __init__(self, writer: Writer, chain: Chain, users: dict, rng: random.Random, today: date, n: int):
        from dsr.cases.deadlines import working_calendar

        self.w, self.chain, self.users, self.rng, self.today, self.n = writer, chain, users, rng, today, n
        self.calendar = working_calendar()
        self.now = datetime.combine(today, datetime.min.time(), UTC).replace(hour=15)
        self.case_id = self.task_id = self.note_id = self.pause_id = self.right_id = self.verification_id = 0
        self.refs: dict[int, int] = {}
        self._legal: dict = {}

    # -- the clock, cached per (receipt, paused days): only ~1,100 days and a few pause lengths occur --------
    def legal_due(self, received: date, paused: int, months: int = 1) -> date:
        from dsr.domain import clock

        key = (received, paused, months)
        if key not in self._legal:
            self._legal[key] = clock.legal_deadline(received, self.calendar, paused, months=months).due_on
        return self._legal[key]

    def run(self) -> dict[int, int]:
        from faker import Faker

        rng = self.rng
        start = self.today - timedelta(days=3 * 365)
        days = [start + timedelta(days=i) for i in range((self.today - start).days + 1)]
        days = [d for d in days if self.calendar.is_working_day(d)]
        per_day = [0] * len(days)
        for _ in range(self.n):
            per_day[rng.randrange(len(days))] += 1
        n_subjects = max(1, self.n // 5)
        # Every subject has a first case; the rest of the cases go to subjects at random.
        owners = list(range(1, n_subjects + 1))
        owners += [rng.randint(1, n_subjects) for _ in range(self.n - n_subjects)]
        rng.shuffle(owners)
        fakers = {"nl": Faker("nl_NL"), "en": Faker("en_GB"), "fr": Faker("fr_BE")}
        for i, f in enumerate(fakers.values()):
            f.seed_instance(rng.randrange(1 << 30) + i)
        self.subjects_seen: set[int] = set()
        self.fakers = fakers
        k = 0
        for day, count in zip(days, per_day, strict=True):
            self.chain.emit_before(datetime.combine(day, datetime.min.time(), UTC))
            for _ in range(count):
                self.case(day, owners[k])
                k += 1
        self.chain.emit_before(None)
        return self.refs

    def subject(self, sid: int, lang: str, at: datetime) -> dict:
        from dsr.subjects.keys import subject_keys
        from dsr.subjects.operations import name_key

        rng, fake = self.rng, self.fakers[lang]
        name = fake.name()
        details = {
            "name": name, "date_of_birth": date(rng.randint(1940, 2005), rng.randint(1, 12), rng.randint(1, 28)),
            "address": fake.street_address(), "postcode": f"{rng.randint(1000, 9999)} {chr(65 + rng.randrange(26))}"
            f"{chr(65 + rng.randrange(26))}", "city": fake.city(), "country": "NL",
            "email": f"{name_key(name).replace(' ', '.')}.{sid}@example.{rng.choice(['nl', 'com', 'be'])}"[:254],
            "phone": f"06{rng.randint(10000000, 99999999)}" if rng.random() < 0.7 else None,
            "customer_number": f"HC{100000 + sid:07d}", "policy_number": f"POL-{rng.randint(10, 99)}-{sid:06d}"
            if rng.random() < 0.8 else None,
            "device_id": _luhn_imei(rng) if rng.random() < 0.6 else None,
        }
        self.w.add("data_subjects", {"id": sid, **details, "name_key": name_key(name), "created_at": at})
        for kind, key in sorted(subject_keys(details)):
            self.w.add("subject_search_keys", {"subject_id": sid, "kind": kind.value, "key": key})
        return details

    def case(self, received: date, sid: int) -> None:  # noqa: C901 - one case's life, step by step
        rng, users = self.rng, self.users
        self.case_id += 1
        cid = self.case_id
        lang = _pick(rng, LANGUAGE_WEIGHTS)
        at = datetime.combine(received, datetime.min.time(), UTC).replace(hour=8 + rng.randrange(8),
                                                                          minute=rng.randrange(60))
        staff = rng.choice(users["staff"])
        logger = rng.choice(users["staff"])
        events: list[tuple[datetime, str, int | None, dict | None, dict | None]] = []
        if sid not in self.subjects_seen:
            self.subjects_seen.add(sid)
            details = self.subject(sid, lang, at)
            events.append((at, "subject.created", None, None, {"subject_id": sid, **_jsonable(details)}))
        year = received.year
        self.refs[year] = self.refs.get(year, 0) + 1
        reference = f"DSR-{year}-{self.refs[year]:05d}"
        rights = [_pick(rng, RIGHT_WEIGHTS)]
        if rng.random() < 0.15:
            rights.append(_pick(rng, RIGHT_WEIGHTS))
        rights = sorted(set(rights), key=[r for r, _ in RIGHT_WEIGHTS].index)
        channel = _pick(rng, CHANNEL_WEIGHTS)
        age = (self.today - received).days

        # What happened to it, by age.
        pause_kind = None
        r = rng.random()
        if r < 0.07:
            pause_kind = "counted"
        elif r < 0.085:
            pause_kind = "late"
        extended = rng.random() < 0.03
        if age > 100:
            open_ = rng.random() < 0.0005
        elif age > 45:
            open_ = rng.random() < (0.5 if extended else 0.01)
        elif age > 30:
            open_ = rng.random() < 0.12
        else:
            open_ = rng.random() < 0.92
        handling = None
        if not open_:
            handling = max(1, int(rng.gauss(17, 6)))
            if rng.random() < 0.08:
                handling = rng.randint(29, 32)
            if rng.random() < 0.015:
                handling = rng.randint(34, 45)
            if extended:
                handling = rng.randint(40, 85)
            if handling >= age:
                handling = max(0, age - 1)
                if handling == 0:
                    open_, handling = True, None
        end = received + timedelta(days=handling) if handling is not None else self.today

        # Pauses: a counted one asked on day 2, a late one on day 12 (only if the case lived that long).
        pauses = []
        paused_days = 0
        paused_since = None
        late = 0
        if pause_kind and (end - received).days > (2 if pause_kind == "counted" else 12):
            asked = received + timedelta(days=2 if pause_kind == "counted" else 12)
            length = rng.randint(3, 14)
            resumed = asked + timedelta(days=length)
            if resumed > end:
                resumed = None if open_ else end
            counted = pause_kind == "counted"
            if counted and resumed is not None:
                paused_days = (resumed - asked).days
            if counted and resumed is None:
                paused_since = asked
            if not counted:
                late = 1
            pauses.append((asked, resumed, counted))
        promised = received + timedelta(days=28 + paused_days)
        legal = self.legal_due(received, paused_days)
        ext = None
        if extended and (end - received).days > 20:
            ext_day = received + timedelta(days=20)
            ext = {"at": datetime.combine(ext_day, datetime.min.time(), UTC).replace(hour=11),
                   "due": self.legal_due(received, paused_days, months=3), "notice_due": legal,
                   "sent": ext_day + timedelta(days=1) if (rng.random() < 0.85 and ext_day + timedelta(days=1) <= end)
                   else None}

        # The state it is in now.
        if open_:
            if age < 3:
                state = "received"
            elif age < 7:
                state = rng.choice(["identity_check", "received", "in_progress"])
            elif age < 25:
                state = rng.choice(["in_progress", "in_progress", "identity_check"])
            else:
                state = rng.choice(["awaiting_approval", "in_progress"])
        else:
            r = rng.random()
            state = "completed" if r < 0.72 else "closed" if r < 0.88 else "refused" if r < 0.94 else "withdrawn"
        assignee = None if (open_ and age < 3 and rng.random() < 0.6) or (open_ and rng.random() < 0.02) else staff
        closed_at = (datetime.combine(end, datetime.min.time(), UTC).replace(hour=14, minute=rng.randrange(60))
                     if not open_ else None)
        decision = refusal = withdrawal = None
        outcome = "completed"
        if state in ("completed", "closed"):
            decision = "Answered: the requested data was provided." if "access" in rights else "Done as asked."
            if state == "closed" and rng.random() < 0.2:
                outcome, decision, withdrawal = "withdrawn", None, "by e-mail"
            elif state == "closed" and rng.random() < 0.2:
                outcome, decision, refusal = "refused", "Refused: the request repeats one answered last month.", \
                    "excessive"
        elif state == "refused":
            outcome, decision, refusal = "refused", "Refused: we could not establish the requester's identity.", \
                "identity_not_established"
        elif state == "withdrawn":
            outcome, withdrawal = "withdrawn", "by letter"

        self.w.add("cases", {
            "id": cid, "reference": reference, "subject_id": sid, "channel": channel, "received_on": received,
            "language": lang, "state": state, "assignee_id": assignee, "notes": "", "promised_on": promised,
            "legal_due_on": legal, "created_at": at, "created_by_id": logger,
            "updated_at": closed_at or at, "closed_at": closed_at, "version": 1, "priority":
            "high" if rng.random() < 0.04 else "normal", "decision": decision, "refusal_ground": refusal,
            "withdrawal_how": withdrawal, "merged_into_id": None, "paused_days": paused_days,
            "paused_since": paused_since, "late_pause_requests": late,
            "extension_reason": "Complex request across many systems." if ext else None,
            "extended_at": ext["at"] if ext else None, "extended_due_on": ext["due"] if ext else None,
            "extension_notice_due_on": ext["notice_due"] if ext else None,
            "extension_notice_sent_on": ext["sent"] if ext else None,
        })
        for right in rights:
            self.right_id += 1
            self.w.add("case_rights", {"id": self.right_id, "case_id": cid, "right": right})
        for asked, resumed, counted in pauses:
            self.pause_id += 1
            self.w.add("case_pauses", {
                "id": self.pause_id, "case_id": cid, "reason": "Asked for the policy number.", "requested_on": asked,
                "resumed_on": resumed, "counted": counted, "created_by_id": staff,
                "created_at": datetime.combine(asked, datetime.min.time(), UTC).replace(hour=10),
                "resumed_by_id": staff if resumed else None})

        # The history, in the order the operations would have written it.
        def moment(day_offset: float) -> datetime:
            t = at + timedelta(days=day_offset)
            limit = closed_at or self.now
            return min(t, limit).replace(microsecond=0)

        span = max((end - received).days, 0)
        snapshot = {"reference": reference, "state": "received", "rights": rights, "channel": channel,
                    "received_on": received.isoformat(), "language": lang, "assignee": None,
                    "promised_on": promised.isoformat(), "legal_due_on": legal.isoformat(), "notes": "",
                    "subject_id": sid}
        actor_of = self.users["email"]
        events.append((at + timedelta(seconds=1), "case.created", logger, None, snapshot))
        if assignee:
            events.append((moment(min(1, span * 0.05)), "case.assigned", self.users["manager"], {"assignee": None},
                           {"assignee": actor_of[assignee]}))
        steps = {"received": 0, "identity_check": 1, "in_progress": 2, "awaiting_approval": 3}
        reached = steps.get(state, 4)
        actor = assignee or staff
        if reached >= 1:
            events.append((moment(span * 0.1), "case.start_identity_check", actor, {"state": "received"},
                           {"state": "identity_check"}))
        if reached >= 2:
            verified_at = moment(span * 0.15)
            self.verification_id += 1
            self.w.add("identity_verifications", {
                "id": self.verification_id, "case_id": cid, "method": "policy_records", "outcome": "verified",
                "note": "", "verified_by_id": actor, "verified_at": verified_at})
            events.append((verified_at, "identity.verified", actor, None,
                           {"method": "policy_records", "outcome": "verified", "note": ""}))
            events.append((moment(span * 0.2), "case.start_work", actor, {"state": "identity_check"},
                           {"state": "in_progress"}))
        for asked, resumed, counted in pauses:
            events.append((datetime.combine(asked, datetime.min.time(), UTC).replace(hour=10),
                           "case.paused" if counted else "case.pause_requested_late", actor, None,
                           {"reason": "Asked for the policy number.", "requested_on": asked.isoformat()}))
            if resumed:
                events.append((datetime.combine(resumed, datetime.min.time(), UTC).replace(hour=10), "case.resumed",
                               actor, None, {"received_on": resumed.isoformat()}))
        if ext:
            events.append((ext["at"], "case.extended", self.users["manager"], {"due_on": legal.isoformat()},
                           {"reason": "Complex request across many systems.",
                            "extended_due_on": ext["due"].isoformat(),
                            "extension_notice_due_on": legal.isoformat()}))
            if ext["sent"]:
                events.append((ext["at"] + timedelta(days=1), "case.extension_notice_sent", actor, None,
                               {"sent_on": ext["sent"].isoformat(), "due_on": legal.isoformat(), "late": False}))
        n_notes = 1 if reached >= 2 else 0
        if rng.random() < 0.01:
            n_notes = 40
        for j in range(n_notes):
            self.note_id += 1
            when = moment(span * (0.2 + 0.6 * (j + 1) / (n_notes + 1)))
            body = f"Checked source {j + 1} of the data map; nothing unusual."
            self.w.add("case_notes", {"id": self.note_id, "case_id": cid, "author_id": actor, "body": body,
                                      "created_at": when})
            events.append((when, "note.added", actor, None, {"body": body}))
        if reached >= 2 and rng.random() < 0.3:
            self.task_id += 1
            t_add = moment(span * 0.3)
            task_due = (t_add + timedelta(days=7)).date()
            done = None if (open_ and rng.random() < 0.7) else moment(span * 0.6)
            self.w.add("case_tasks", {"id": self.task_id, "case_id": cid, "title": "Search the paper archive",
                                      "assignee_id": actor, "due_on": task_due, "created_by_id": actor,
                                      "created_at": t_add, "done_at": done, "done_by_id": actor if done else None})
            events.append((t_add, "task.added", actor, None, {"task_id": self.task_id, "title": "Search the paper archive",
                                                              "due_on": task_due.isoformat()}))
            if done:
                events.append((done, "task.completed", actor, None,
                               {"task_id": self.task_id, "title": "Search the paper archive"}))
        if reached >= 3 and outcome == "completed":
            events.append((moment(span * 0.9), "case.submit_for_approval", actor, {"state": "in_progress"},
                           {"state": "awaiting_approval"}))
        if closed_at:
            final = {"completed": "completed", "refused": "refused", "withdrawn": "withdrawn"}[outcome]
            action = {"completed": "case.complete", "refused": "case.refuse", "withdrawn": "case.withdraw"}[outcome]
            who = self.users["manager"] if outcome != "withdrawn" else actor
            after = {"state": final}
            if decision:
                after["decision"] = decision
            events.append((closed_at, action, who, {"state": "awaiting_approval"}, after))
            if state == "closed":
                events.append((closed_at + timedelta(days=2) if closed_at + timedelta(days=2) < self.now
                               else closed_at, "case.close", actor, {"state": final}, {"state": "closed"}))
        for when, action, actor_id, before, after in events:
            self.chain.push(when, {"actor_id": actor_id, "actor_label": actor_of.get(actor_id, "system"),
                                   "case_id": None if action == "subject.created" else cid, "action": action,
                                   "before": before, "after": after})


def _jsonable(details: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in details.items()}


if __name__ == "__main__":
    sys.exit(main())
