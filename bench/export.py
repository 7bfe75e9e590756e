"""Lookup and export of one subject with very many records (issue 15, item 4): time and peak memory.

    .venv/bin/python bench/export.py [--records 200000] [--small 20000] [--database-url URL] [--workdir DIR]

For each size (``--small`` first, then ``--records``) it builds a Harmony-like source of its own: the demo
systems (:mod:`dsr.demo.harmony`, a scratch SQLite file in the work directory) with a few dozen customers,
one of whom gets N records spread over invoices (30 %), premium payments (55 %), call recordings (10 %) and
survey invitations (5 %). dsr's own database is a scratch SQLite file, or ``--database-url`` (a PostgreSQL
database of its own, e.g. ``postgresql://postgres@127.0.0.1:5432/bench_export``: migrated, and each run
adds one case per size to it). Then, each in a child process of its own so its ``ru_maxrss`` is its own:

* ``idle``: the app imported and a case read; the memory every other phase starts from;
* ``lookup``: :func:`dsr.fulfilment.lookup_ops.run_lookup` of the case, the match confirmed, committed;
* ``review``: the privacy manager releases every value that may hold other people's data (Art. 15(4)),
  recorded in bulk (:func:`release_all`): the access export is refused while one is undecided;
* ``request export``: :func:`dsr.exports.operations.request_export`, what the web request does (it reads the
  flagged values again to check the review); then ``export``: the access export (Art. 15(3)) run by its job,
  as a worker runs it: WeasyPrint imported and warmed first (:func:`dsr.pdf.warm_up`, as ``dsr worker`` does
  at its start), the overview's PDF laid out in a child process (whose CPU time is added to the phase's and
  whose peak RSS, shared pages included, is printed apart); the same for ``portability`` (Art. 20);
* ``json.dump``: the baseline, the same records read with plain SQL into a list and written by
  :func:`json.dump` to a file.

It prints per phase the wall time, the CPU time, the peak RSS, the peak RSS above ``idle``, and the ratio
of the export to the baseline; then the goals of issue 15 and the load average before and after. The machine
is shared: read the ratios and the CPU times, not the wall times of another day. ``--tracemalloc`` adds
Python's own peak (slower, so it is off by default). Nothing here is a test.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import tempfile
import time
from datetime import UTC, date, datetime, timedelta

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TODAY = date(2026, 12, 4)
NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
MIX = (("invoices", 0.30), ("premium_payments", 0.55), ("call_recordings", 0.10), ("survey_invitations", 0.05))
GOALS = {"lookup_s": 20.0, "export_mb": 150.0, "export_ratio": 2.0}


# -- the source ------------------------------------------------------------------------------------------

def build_systems(path: Path, records: int) -> dict:
    """The demo systems in a SQLite file at ``path`` with one customer holding about ``records`` records;
    that customer's row."""
    from dsr.demo.harmony import generate

    generate(f"sqlite:///{path}", customers=30, seed=2018, today=TODAY)
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    customer = dict(db.execute("""
        SELECT c.* FROM customers c
        WHERE EXISTS (SELECT 1 FROM invoices i WHERE i.customer_id = c.id)
          AND EXISTS (SELECT 1 FROM call_recordings r WHERE r.customer_number = c.customer_number)
          AND NOT EXISTS (SELECT 1 FROM marketing_subscriptions m
                          WHERE lower(m.email) = lower(c.email) AND (m.customer_id IS NULL OR m.customer_id <> c.id))
        ORDER BY c.id LIMIT 1""").fetchone())
    policy = db.execute("SELECT id FROM policies WHERE customer_id = ? ORDER BY id LIMIT 1",
                        (customer["id"],)).fetchone()[0]
    holder = f"{customer['first_name']} {customer['last_name']}"
    wanted = {name: int(records * share) for name, share in MIX}
    first = date(2000, 1, 1)
    invoice_ids = []
    rows = ((f"BX{i:014d}", policy, customer["id"], first + timedelta(days=i % 9000), first, first, 3000 + i % 500,
             holder, "Coolsingel 40, 3011 AD Rotterdam") for i in range(wanted["invoices"]))
    db.executemany("INSERT INTO invoices (invoice_number, policy_id, customer_id, issued_on, period_start, "
                   "period_end, amount_cents, addressee_name, addressee_address) VALUES (?,?,?,?,?,?,?,?,?)", rows)
    invoice_ids = [r[0] for r in db.execute("SELECT id FROM invoices WHERE invoice_number LIKE 'BX%' ORDER BY id")]
    rows = ((invoice_ids[i % len(invoice_ids)], policy, first + timedelta(days=i % 9000), 1000 + i % 700,
             "sepa_dd", "NL91ABNA0417164300", holder, "collected") for i in range(wanted["premium_payments"]))
    db.executemany("INSERT INTO premium_payments (invoice_id, policy_id, paid_on, amount_cents, method, iban, "
                   "account_holder, status) VALUES (?,?,?,?,?,?,?,?)", rows)
    started = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    rows = ((f"BXR{i:015d}", customer["customer_number"], "+31612345678",
             (started + timedelta(minutes=i)).isoformat(), 60 + i % 900, "inbound", "agent 7", "question",
             f"s3://harmony-cc-recordings/bench/{i}.wav") for i in range(wanted["call_recordings"]))
    db.executemany("INSERT INTO call_recordings (recording_ref, customer_number, caller_phone, started_at, "
                   "duration_seconds, direction, agent, reason, storage_uri) VALUES (?,?,?,?,?,?,?,?,?)", rows)
    rows = ((f"bx{i:030d}", customer["customer_number"], customer["email"], "nl", None, "call",
             (started + timedelta(minutes=i)).isoformat(), "Focus Feedback") for i in range(wanted["survey_invitations"]))
    db.executemany("INSERT INTO survey_invitations (token, customer_number, email, language, call_recording_id, "
                   "trigger, sent_at, processor) VALUES (?,?,?,?,?,?,?,?)", rows)
    db.commit()
    db.close()
    return customer


def subject_rows(systems: str, customer: dict):
    """The customer's records in the collections that hold nearly all of them, read with plain SQL."""
    db = sqlite3.connect(systems)
    db.row_factory = sqlite3.Row
    queries = {
        "invoices": ("SELECT * FROM invoices WHERE customer_id = ?", customer["id"]),
        "premium_payments": ("SELECT * FROM premium_payments WHERE policy_id IN "
                             "(SELECT id FROM policies WHERE customer_id = ?)", customer["id"]),
        "call_recordings": ("SELECT * FROM call_recordings WHERE customer_number = ?", customer["customer_number"]),
        "survey_invitations": ("SELECT * FROM survey_invitations WHERE customer_number = ?",
                               customer["customer_number"]),
    }
    for name, (sql, param) in queries.items():
        for row in db.execute(sql, (param,)):
            yield name, dict(row)
    db.close()


# -- dsr ---------------------------------------------------------------------------------------------------

def bench_app(database_url: str, systems: str, instance: Path):
    from config import normalise_database_url
    from dsr import create_app

    return create_app({
        "INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "SECRET_KEY": "bench", "STORAGE_DIR": str(instance / "storage"), "REDIS_URL": None,
        "DEMO_SYSTEMS_URL": f"sqlite:///{systems}",
    })


def _case(reference: str):
    import sqlalchemy as sa

    from dsr.cases.models import Case
    from dsr.extensions import db

    return db.session.execute(sa.select(Case).where(Case.reference == reference)).scalar_one()


def setup_case(args) -> dict:
    """Migrate dsr's database, add a user and a case asking access and portability for the customer."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from dsr.auth.models import User
    from dsr.auth.operations import create_user
    from dsr.cases.operations import log_request
    from dsr.domain.enums import Channel, Language, Right, Role
    from dsr.extensions import db
    from dsr.subjects.operations import SubjectDetails

    customer = json.loads(args.customer)
    app = bench_app(args.database_url, args.systems, Path(args.instance))
    with app.app_context(), app.test_request_context():
        upgrade()
        staff = db.session.execute(sa.select(User).where(User.email == "bench-export@bench.example")
                                   ).scalar_one_or_none()
        if staff is None:
            staff = create_user("bench-export@bench.example", name="Bench", role=Role.STAFF,
                                password="bench-password-2026", actor=None, now=NOW)
            create_user("bench-manager@bench.example", name="Bench manager", role=Role.PRIVACY_MANAGER,
                        password="bench-password-2026", actor=None, now=NOW)
        case = log_request(
            subject=SubjectDetails(name=f"{customer['first_name']} {customer['last_name']}",
                                   date_of_birth=date.fromisoformat(customer["date_of_birth"]),
                                   postcode=customer["postcode"], email=customer["email"],
                                   customer_number=customer["customer_number"]),
            rights=[Right.ACCESS, Right.PORTABILITY], channel=Channel.EMAIL, received_on=TODAY,
            language=Language.NL, notes="", actor=staff, now=NOW, today=TODAY)
        db.session.commit()
        return {"reference": case.reference}


def release_all(case) -> int:
    """The privacy manager releases every value that may hold other people's data (Art. 15(4)), as
    :func:`dsr.fulfilment.redaction_ops.decide` records a release, in bulk: the access export refuses an
    undecided one, and deciding tens of thousands of call recordings one by one is not what is measured."""
    import sqlalchemy as sa

    from dsr.auth.models import User
    from dsr.domain.enums import RedactionChoice
    from dsr.extensions import db
    from dsr.fulfilment.lookup_ops import latest_lookup
    from dsr.fulfilment.models import RedactionDecision
    from dsr.fulfilment.redaction import value_digest
    from dsr.fulfilment.redaction_ops import pending

    manager = db.session.execute(sa.select(User).where(User.email == "bench-manager@bench.example")).scalar_one()
    lookup = latest_lookup(case)
    values = pending(lookup)
    db.session.execute(sa.insert(RedactionDecision), [
        {"case_id": case.id, "lookup_id": lookup.id, "source": v.source, "collection": v.collection,
         "record_key": v.record_key, "field": v.field, "value_digest": value_digest(v.value),
         "choice": RedactionChoice.RELEASE, "ground": None, "spans": [], "note": None, "proposed_at": NOW,
         "proposed_by_id": manager.id, "decided_at": NOW, "decided_by_id": manager.id} for v in values])
    db.session.commit()
    return len(values)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_phase(args) -> dict:
    """One phase in this process; what it measured."""
    import tracemalloc

    if args.tracemalloc:
        tracemalloc.start()
    result: dict = {}
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if args.phase == "json.dump":
        rows = list(subject_rows(args.systems, json.loads(args.customer)))
        with open(Path(args.instance) / "baseline.json", "w", encoding="utf-8") as fh:
            json.dump(rows, fh, ensure_ascii=False, default=str)
        result["records"] = len(rows)
    else:
        import sqlalchemy as sa

        from dsr.auth.models import User
        from dsr.extensions import db

        app = bench_app(args.database_url, args.systems, Path(args.instance))
        with app.app_context(), app.test_request_context():
            case = _case(args.reference)
            staff = db.session.execute(sa.select(User).where(User.email == "bench-export@bench.example")).scalar_one()
            if args.phase in ("export", "portability"):
                from dsr import pdf

                pdf.warm_up()  # as `dsr worker` does at its start: what a worker holds before its first job
            if args.tracemalloc:
                tracemalloc.reset_peak()
            cpu0, wall0 = time.process_time(), time.perf_counter()
            children0 = _children_cpu()
            if args.phase == "lookup":
                from dsr.fulfilment.lookup_ops import confirm_match, run_lookup

                lookup = run_lookup(case, actor=staff, now=NOW)
                confirm_match(lookup, actor=staff, now=NOW + timedelta(minutes=1))
                db.session.commit()
                result["records"] = lookup.record_count
            elif args.phase == "review":
                result["decisions"] = release_all(case)
            elif args.phase in ("request export", "request portability"):
                from dsr.exports.models import ExportKind
                from dsr.exports.operations import request_export

                kind = ExportKind.ACCESS if args.phase == "request export" else ExportKind.PORTABILITY
                request_export(case, kind, actor=staff, now=NOW + timedelta(minutes=2))  # checks the review
                db.session.commit()
            elif args.phase in ("export", "portability"):
                from dsr.domain.enums import JobStatus
                from dsr.exports.models import Export
                from dsr.exports.operations import JOB_KIND
                from dsr.jobs import runner
                from dsr.jobs.models import Job

                kind = "access" if args.phase == "export" else "portability"
                job = next(j for j in db.session.execute(sa.select(Job).where(
                    Job.case_id == case.id, Job.kind == JOB_KIND, Job.status == JobStatus.QUEUED)).scalars()
                    if j.params["kind"] == kind)
                runner.dispatch(job)
                db.session.expire_all()
                job = db.session.get(Job, job.id)
                if job.error:
                    raise SystemExit(f"export failed: {job.error}")
                export = db.session.execute(sa.select(Export).where(Export.job_id == job.id)).scalar_one()
                result.update(records=export.record_count, size=export.size)
    result["wall_s"] = time.perf_counter() - wall0
    result["cpu_s"] = time.process_time() - cpu0
    result["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.phase != "json.dump" and _children_cpu() > children0:  # the overview's PDF, rendered apart
        result["child_cpu_s"] = _children_cpu() - children0
        result["cpu_s"] += result["child_cpu_s"]
        result["child_maxrss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if args.tracemalloc:
        result["tracemalloc_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    return result


# -- the parent --------------------------------------------------------------------------------------------

def child(args, phase: str, **extra) -> dict:
    command = [sys.executable, __file__, "--phase", phase, "--database-url", args.database_url]
    for name, value in extra.items():
        command += [f"--{name}", str(value)]
    if args.tracemalloc:
        command.append("--tracemalloc")
    if args.profile:
        command += ["--profile", str(args.profile.resolve())]
    out = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        raise SystemExit(f"phase {phase} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def measure(args, size: int, work: Path) -> dict:
    where = work / f"n{size}"
    where.mkdir(parents=True, exist_ok=True)
    systems = where / "harmony.sqlite3"
    started = time.perf_counter()
    customer = build_systems(systems, size)
    print(f"  source with {size:,} records built in {time.perf_counter() - started:.0f} s", flush=True)
    common = {"systems": systems, "instance": where, "customer": json.dumps(customer, default=str)}
    reference = child(args, "setup", **common)["reference"]
    results = {}
    for phase in ("idle", "lookup", "review", "request export", "export", "request portability", "portability",
                  "json.dump"):
        results[phase] = child(args, phase, reference=reference, **common)
        r = results[phase]
        print(f"  {phase:19} {r.get('records', r.get('decisions', 0)):>8,} records  wall {r['wall_s']:7.1f} s  cpu {r['cpu_s']:7.1f} s  "
              f"peak RSS {r['maxrss_mb']:6.0f} MB" + (f"  (child: cpu {r['child_cpu_s']:.1f} s, peak RSS "
                                                     f"{r['child_maxrss_mb']:.0f} MB)" if "child_cpu_s" in r
                                                     else "") + (f"  tracemalloc {r['tracemalloc_mb']:6.1f} MB"
                                                     if "tracemalloc_mb" in r else "") + f"   ({load()})", flush=True)
    return results


def report(results: dict[int, dict]) -> None:
    sizes = sorted(results)
    print("\nsize      phase                wall s   cpu s   peak RSS MB  above idle MB  ÷ json.dump (cpu)")
    for size in sizes:
        r = results[size]
        idle = r["idle"]["maxrss_mb"]
        for phase in ("lookup", "review", "request export", "export", "portability", "json.dump"):
            m = r[phase]
            ratio = m["cpu_s"] / r["json.dump"]["cpu_s"] if phase in ("export", "portability") else None
            print(f"{size:>8,}  {phase:19} {m['wall_s']:7.1f} {m['cpu_s']:7.1f} {m['maxrss_mb']:12.0f} "
                  f"{m['maxrss_mb'] - idle:14.0f}  " + (f"{ratio:5.2f}" if ratio else ""))
    if len(sizes) == 2:
        small, big = (results[s] for s in sizes)
        for phase in ("lookup", "export"):
            grow = (big[phase]["maxrss_mb"] - big["idle"]["maxrss_mb"]) - (
                small[phase]["maxrss_mb"] - small["idle"]["maxrss_mb"])
            print(f"{phase}: memory above idle grows by {grow:.0f} MB from {sizes[0]:,} to {sizes[1]:,} records")
    big = results[sizes[-1]]
    print(f"\ngoals at {sizes[-1]:,}: lookup ≤ {GOALS['lookup_s']:.0f} s (measured {big['lookup']['wall_s']:.1f} s), "
          f"memory flat; export ≤ {GOALS['export_mb']:.0f} MB peak (measured {big['export']['maxrss_mb']:.0f} MB), "
          f"≤ {GOALS['export_ratio']:.0f}× json.dump (measured "
          f"{big['export']['cpu_s'] / big['json.dump']['cpu_s']:.2f}× in CPU time, "
          f"{big['export']['wall_s'] / big['json.dump']['wall_s']:.2f}× in wall time)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--small", type=int, default=20_000, help="the size compared with (0: none)")
    parser.add_argument("--database-url", help="dsr's own database (default: a scratch SQLite file)")
    parser.add_argument("--workdir", type=Path, help="where the scratch files go (default: a new temporary folder)")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python's allocations (slower)")
    parser.add_argument("--profile", type=Path, help="write each phase's cProfile statistics to this folder")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    for hidden in ("systems", "instance", "customer", "reference"):
        parser.add_argument(f"--{hidden}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        if args.profile and args.phase != "setup":
            import cProfile

            with cProfile.Profile() as profile:
                result = run_phase(args)
            args.profile.mkdir(parents=True, exist_ok=True)
            profile.dump_stats(args.profile / f"{args.phase.replace(' ', '_')}-{Path(args.instance).name}.pstats")
        else:
            result = setup_case(args) if args.phase == "setup" else run_phase(args)
        print(json.dumps(result))
        return 0
    work = args.workdir or Path(tempfile.mkdtemp(prefix="dsr-bench-export-"))
    args.database_url = args.database_url or f"sqlite:///{work / 'dsr.sqlite3'}"
    print(f"work directory {work}; dsr database {args.database_url}; {load()}", flush=True)
    results = {}
    for size in [s for s in (args.small, args.records) if s]:
        print(f"{size:,} records:", flush=True)
        results[size] = measure(args, size, work)
    report(results)
    print(f"\n{load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
