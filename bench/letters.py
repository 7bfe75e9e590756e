"""Benchmark: letters per second, and dsr's cost per letter next to bare WeasyPrint (issue 5, item 7).

    .venv/bin/python bench/letters.py [--samples 25] [--letters 500] [--workers 2]
                                      [--database-url URL] [--redis-url URL]

Prints, all measured in this one run (the machines are shared and noisy, so only ratios compare):

1. the median milliseconds of one letter job in a warm process (claim the queued job, gather the facts,
   render, store the PDF with its SHA-256, add the row and the audit event, commit), next to bare
   WeasyPrint rendering the very same HTML with its default URL fetcher, and the ratio (goal <= 1.3);
2. with ``--redis-url`` (or DSR_TEST_REDIS_URL): letters per second through ``--workers`` real RQ workers
   (``flask dsr worker``, started and warmed before the clock starts) for ``--letters`` letters, next to
   what the same number of bare-WeasyPrint processes would render in that time (goal >= 12 letters/s with
   two workers on a 2-core machine).

The database is a fresh SQLite file in a temporary folder unless ``--database-url`` names a PostgreSQL
(a schema of its own is made and dropped). Nothing here is a test: no assertion, only numbers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, bench/ comes first on sys.path and bench/queue.py would hide the standard library's
# ``queue`` from what is imported later (psycopg, urllib3): the project's root instead.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]


def _app(database_url: str, instance: Path, redis_url: str | None, queue: str):
    from dsr import create_app

    return create_app({
        "INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench",
        "STORAGE_DIR": str(instance / "storage"), "REDIS_URL": None, "RQ_QUEUE": queue,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "BENCH_REDIS_URL": redis_url,
    })


def _setup(app, cases: int):
    from flask_migrate import upgrade

    from dsr.auth.operations import create_user
    from dsr.cases.operations import log_request
    from dsr.domain.enums import Channel, Language, Right, Role
    from dsr.extensions import db
    from dsr.subjects.operations import SubjectDetails
    from dsr.timeutil import now, today

    upgrade()
    staff = create_user("bench@harmony.example", name="Bench Staff", role=Role.STAFF, password="bench-password-1",
                        actor=None, now=now())
    made = []
    for i in range(cases):
        subject = SubjectDetails(name=f"Zoë François Schröder {i}", address=f"Coolsingel {i + 1}",
                                 postcode="3011 AD", city="Rotterdam", country="NL", email=f"bench{i}@example.nl")
        made.append(log_request(subject=subject, rights=[Right.ACCESS], channel=Channel.POST,
                                received_on=date(2026, 11, 20), language=Language.NL, notes="", actor=staff,
                                now=now(), today=today()))
    db.session.commit()
    return staff, made


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def single_letter(app, staff, case, samples: int) -> tuple[float, float]:
    import weasyprint

    from dsr.extensions import db
    from dsr.jobs import runner
    from dsr.letters import operations, render
    from dsr.letters.kinds import LetterKind, LetterLanguage
    from dsr.timeutil import now, today

    kind, language = LetterKind.ACKNOWLEDGEMENT, LetterLanguage.EN
    html = operations.documents(case, kind, language, today=today())[0]
    base = render.ASSETS_DIR.resolve().as_uri() + "/"
    # The jobs are queued beforehand, as a person's "Issue" click does in its own request; what is timed is
    # the job a worker runs: claim it, gather the facts, render, store the PDF, add the row and the audit
    # event, commit.
    jobs = [operations.request_letter(case, kind, language, actor=staff, now=now()).id for _ in range(samples + 3)]
    db.session.commit()
    # Warm both paths (fonts, stylesheet, Jinja templates, SQLAlchemy statement caches).
    for job_id in jobs[:3]:
        weasyprint.HTML(string=html, base_url=base).write_pdf()
        runner.perform(job_id)
    dsr_times, bare_times = [], []
    for job_id in jobs[3:]:  # interleaved, so a noisy neighbour hits both alike
        started = time.perf_counter()
        weasyprint.HTML(string=html, base_url=base).write_pdf()
        bare_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        status = runner.perform(job_id)
        dsr_times.append(time.perf_counter() - started)
        if status != "succeeded":
            raise SystemExit(f"letter job {job_id} {status}")
    return _median_ms(dsr_times), _median_ms(bare_times)


def _bare_worker(html_path: str, count: int) -> None:  # pragma: no cover - runs in a child process
    import weasyprint

    from dsr.letters import render

    html = Path(html_path).read_text()
    base = render.ASSETS_DIR.resolve().as_uri() + "/"
    weasyprint.HTML(string=html, base_url=base).write_pdf()
    print("ready", flush=True)
    sys.stdin.readline()
    for _ in range(count):
        weasyprint.HTML(string=html, base_url=base).write_pdf()


def throughput(app, staff, cases, letters: int, workers: int, redis_url: str, instance: Path) -> tuple[float, float]:
    import sqlalchemy as sa
    from redis import Redis
    from rq import Queue, Worker

    from dsr.domain.enums import JobStatus
    from dsr.extensions import db
    from dsr.jobs import runner
    from dsr.jobs.models import Job
    from dsr.letters import operations
    from dsr.letters.kinds import LetterKind, LetterLanguage
    from dsr.timeutil import now, today

    queue = app.config["RQ_QUEUE"]
    env = {**os.environ, "DSR_INSTANCE_PATH": str(instance), "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "STORAGE_DIR": app.config["STORAGE_DIR"], "SECRET_KEY": "bench", "REDIS_URL": redis_url,
           "DSR_RQ_QUEUE": queue}
    connection = Redis.from_url(redis_url)
    procs = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "dsr", "worker"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
    try:
        deadline = time.monotonic() + 120
        while len(Worker.all(queue=Queue(queue, connection=connection))) < workers:
            if time.monotonic() > deadline:
                raise SystemExit("the workers did not start")
            time.sleep(0.2)
        jobs = [operations.request_letter(cases[i % len(cases)], LetterKind.ACKNOWLEDGEMENT, LetterLanguage.EN,
                                          actor=staff, now=now()) for i in range(letters)]
        db.session.commit()
        app.config["REDIS_URL"] = redis_url
        started = time.perf_counter()
        for job in jobs:
            runner.dispatch(job)
        ids = [j.id for j in jobs]
        finished = sa.select(sa.func.count()).select_from(Job).where(
            Job.id.in_(ids), Job.status.in_([JobStatus.SUCCEEDED, JobStatus.FAILED]))
        while True:
            with db.engine.connect() as conn:  # a short read each time: never hold a lock the workers need
                if conn.execute(finished).scalar_one() == letters:
                    break
            time.sleep(0.1)
        elapsed = time.perf_counter() - started
        db.session.rollback()
        failed = db.session.scalar(sa.select(sa.func.count()).select_from(Job).where(
            Job.id.in_(ids), Job.status == JobStatus.FAILED))
        if failed:
            print(f"  warning: {failed} letter jobs failed")
    finally:
        app.config["REDIS_URL"] = None
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
        Queue(queue, connection=connection).delete(delete_jobs=True)

    # The same number of bare-WeasyPrint processes rendering the same HTML, for as many letters.
    html = operations.documents(cases[0], LetterKind.ACKNOWLEDGEMENT, LetterLanguage.EN, today=today())[0]
    html_path = instance / "bench-letter.html"
    html_path.write_text(html)
    code = "import sys; sys.path.insert(0, %r); from bench.letters import _bare_worker; _bare_worker(%r, %d)"
    share = letters // workers
    bare = [subprocess.Popen([sys.executable, "-c", code % (str(ROOT), str(html_path), share)], cwd=ROOT,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for _ in range(workers)]
    for p in bare:
        p.stdout.readline()
    bare_started = time.perf_counter()
    for p in bare:
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in bare:
        p.wait(timeout=600)
    bare_elapsed = time.perf_counter() - bare_started
    return letters / elapsed, (share * workers) / bare_elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=25)
    parser.add_argument("--letters", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=os.environ.get("DSR_BENCH_DATABASE_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("DSR_TEST_REDIS_URL") or os.environ.get("REDIS_URL"))
    args = parser.parse_args()

    import sqlalchemy as sa

    from dsr.extensions import db

    with tempfile.TemporaryDirectory(prefix="dsr-bench-") as tmp:
        instance = Path(tmp)
        schema = None
        url = args.database_url or f"sqlite:///{instance / 'bench.sqlite3'}"
        if url.startswith("postgresql"):
            url = url.replace("postgresql://", "postgresql+psycopg://", 1)
            schema = f"dsr_bench_{uuid.uuid4().hex[:8]}"
            admin = sa.create_engine(url)
            with admin.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            url = f"{url}{'&' if '?' in url else '?'}options={quote('-csearch_path=' + schema)}"
        queue = f"dsr-bench-{uuid.uuid4().hex[:8]}"
        app = _app(url, instance, args.redis_url, queue)
        try:
            with app.app_context():
                staff, cases = _setup(app, cases=50)
                print(f"dsr letters benchmark ({'PostgreSQL' if schema else 'SQLite'}; {os.cpu_count()} cores)")
                dsr_ms, bare_ms = single_letter(app, staff, cases[0], args.samples)
                print(f"  one letter, warm process, median of {args.samples}:")
                print(f"    dsr letter job (facts, render, store, row, audit):    {dsr_ms:8.1f} ms")
                print(f"    bare WeasyPrint, same HTML:                           {bare_ms:8.1f} ms")
                print(f"    ratio dsr / bare:                                     {dsr_ms / bare_ms:8.2f}  (goal <= 1.3)")
                if args.redis_url:
                    rate, bare_rate = throughput(app, staff, cases, args.letters, args.workers, args.redis_url,
                                                 instance)
                    print(f"  {args.letters} letters through {args.workers} RQ workers:")
                    print(f"    dsr workers:                {rate:8.1f} letters/s  (goal >= 12)")
                    print(f"    {args.workers} bare WeasyPrint processes: {bare_rate:8.1f} letters/s")
                    print(f"    ratio bare / dsr time:      {bare_rate / rate:8.2f}")
                else:
                    print("  (no --redis-url: worker throughput not measured)")
                db.session.remove()
                db.engine.dispose()
        finally:
            if schema:
                with admin.begin() as conn:
                    conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()


if __name__ == "__main__":
    main()
