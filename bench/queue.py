"""Benchmark: the lists, searches, pages and reports of issue 15 over HTTP, against their own SQL.

    .venv/bin/python bench/queue.py --database-url postgresql://postgres@127.0.0.1:5432/perf_bench100k
        [--database-url-small postgresql://.../perf_bench10k] [--samples 40] [--workers 2] [--port 5124]
        [--only NAME,NAME]

Each database must have been filled by ``bench/generate.py`` (its users and passwords are used). For each
database this starts gunicorn (``--workers`` sync workers) on a loopback port and, for every row of the
table in issue 15:

* times ``--samples`` requests over HTTP after two warm-up requests, and prints p50 and p95 (ms);
* runs the same request once in-process with a statement counter, and prints the SQL statements it made;
* replays exactly those statements with their parameters on a plain database connection (in a transaction
  rolled back afterwards) once after each of those requests, and prints the p50 of that "SQL floor" and the
  ratio of the HTTP p50 (p95 for the pages) to it: what the application adds on top of the database's own
  work, measured in the same moments;
* replays them also as the request ran them (in a transaction or not, as each was; kept prepared where psycopg
  prepares them in a worker serving only that row), and prints that and the ratio to it in the last two
  columns: see ``_Floor`` for why the two floors differ;
* prints the goal of the issue's table beside it.

Creation is timed as requests per second from one client. The machine is shared and noisy: compare ratios
and runs made in the same minutes, not single numbers. Nothing here is a test: no assertion, only numbers.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, and its name would hide the standard
# library's ``queue`` from everything imported after it (urllib3, gunicorn).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import os
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.generate import PASSWORD, bench_app  # noqa: E402


@dataclass
class Row:
    name: str
    goal: str
    method: str = "GET"
    path: str = ""
    api: bool = True
    body: dict | None = None
    also: tuple[str, ...] = ()  # further paths fetched as part of the same page (the dashboard's charts)
    # Requests (method, path, body) made before each sample, not timed, taken in turn: a change the page then
    # shows (the dashboard right after a case was assigned, through the API), or another page (the queue after a
    # case page, with the web login).
    before: tuple[tuple[str, str, dict | None], ...] = ()
    kind: str = "p50"  # p50, p95 or rate (requests per second)
    results: dict = field(default_factory=dict)


def _free_port(preferred: int) -> int:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]


def _pct(values: list[float], pct: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


class Server:
    def __init__(self, database_url: str | None, port: int, workers: int, instance: Path | None,
                 wsgi: str = "wsgi:app"):
        self.port = port
        env = {**os.environ, "SECRET_KEY": "bench", "SUPPRESSION_SALT": "bench-suppression-salt"}
        if database_url:
            env["DATABASE_URL"] = database_url
        if instance:
            env.update({"DSR_INSTANCE_PATH": str(instance), "STORAGE_DIR": str(instance / "storage")})
        env.pop("REDIS_URL", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
             "--worker-class", "sync", "--log-level", "warning", wsgi],
            cwd=ROOT, env=env, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit("gunicorn did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _targets(app) -> dict:
    """Real values from the database to search for and open: a busy subject, a case with 50 events."""
    import sqlalchemy as sa

    from dsr.extensions import db

    with app.app_context():
        conn = db.session
        row = conn.execute(sa.text(
            "SELECT s.name, s.customer_number, s.policy_number, s.email, s.phone, s.device_id, s.postcode "
            "FROM data_subjects s WHERE s.phone IS NOT NULL AND s.device_id IS NOT NULL "
            "AND s.policy_number IS NOT NULL ORDER BY s.id LIMIT 1 OFFSET 37")).one()
        busiest = conn.execute(sa.text(
            "SELECT c.reference FROM cases c JOIN audit_events e ON e.case_id = c.id GROUP BY c.reference "
            "HAVING count(*) >= 50 ORDER BY c.reference LIMIT 1")).scalar()
        any_ref = conn.execute(sa.text("SELECT reference FROM cases ORDER BY id DESC LIMIT 1 OFFSET 500")).scalar()
        in_progress = conn.execute(sa.text(
            "SELECT reference FROM cases WHERE state = 'in_progress' ORDER BY id LIMIT 1 OFFSET 100")).scalar()
        n = conn.execute(sa.text("SELECT count(*) FROM cases")).scalar()
    surname = row.name.split()[-1]
    return {"name": row.name, "surname": surname, "customer_number": row.customer_number,
            "policy": row.policy_number, "email": row.email, "phone": row.phone, "imei": row.device_id,
            "postcode": row.postcode, "case50": busiest, "reference": any_ref, "in_progress": in_progress,
            "cases": n}


CHARTS = ("/dashboard/charts/deadlines.svg", "/dashboard/charts/handling.svg", "/dashboard/charts/open.svg")


def rows_for(t: dict) -> list[Row]:
    from urllib.parse import quote

    phone = t["phone"]
    spaced_phone = f"{phone[:2]} {phone[2:6]} {phone[6:]}" if phone else ""
    postcode = (t["postcode"] or "").replace(" ", "").lower()
    return [
        Row("API list, all states, first 25", "<= 15 ms", path="/api/v1/cases?state=all&per_page=25"),
        Row("API list, open, first 25", "<= 15 ms", path="/api/v1/cases?per_page=25"),
        Row("API overdue filter", "<= 10 ms", path="/api/v1/cases?overdue=true&per_page=25"),
        Row("API state filter", "<= 10 ms", path="/api/v1/cases?state=in_progress&per_page=25"),
        Row("API search: surname", "<= 15 ms", path=f"/api/v1/cases?state=all&q={quote(t['surname'])}"),
        Row("API search: full name", "<= 15 ms", path=f"/api/v1/cases?state=all&q={quote(t['name'])}"),
        Row("API search: customer number", "<= 15 ms",
            path=f"/api/v1/cases?state=all&q={quote(t['customer_number'].lower())}"),
        Row("API search: policy number", "<= 15 ms", path=f"/api/v1/cases?state=all&q={quote(t['policy'])}"),
        Row("API search: e-mail", "<= 15 ms", path=f"/api/v1/cases?state=all&q={quote(t['email'].upper())}"),
        Row("API search: phone", "<= 15 ms", path=f"/api/v1/cases?state=all&q={quote(spaced_phone)}"),
        Row("API search: IMEI", "<= 15 ms", path=f"/api/v1/cases?state=all&q={quote(t['imei'])}"),
        Row("API search: postcode", "<= 15 ms", path=f"/api/v1/cases?state=all&q={quote(postcode)}"),
        Row("API search: reference", "<= 15 ms", path=f"/api/v1/cases?state=all&q={quote(t['reference'].lower())}"),
        Row("one case by reference", "<= 5 ms", path=f"/api/v1/cases/{t['reference']}"),
        Row("creation, one client", ">= 120/s", method="POST", path="/api/v1/cases", kind="rate", body={
            "rights": ["access"], "channel": "email", "subject": {"name": "Bench Mark", "email": "bench@example.nl"}}),
        Row("HTML queue page", "<= 60 ms, <= 3x SQL", path="/cases", api=False, kind="p95"),
        Row("HTML queue page, all states", "<= 60 ms, <= 3x SQL", path="/cases?state=all", api=False, kind="p95"),
        # As people use it: a case opened between two visits of the queue (each sample follows one).
        Row("HTML queue page, after a case page", "<= 60 ms, <= 3x SQL", path="/cases", api=False, kind="p95",
            before=(("GET", f"/cases/{t['reference']}", None),)),
        Row("HTML case page with 50 events", "<= 60 ms", path=f"/cases/{t['case50']}", api=False, kind="p95"),
        Row("escalation report (first page)", "<= 300 ms", path="/reports/escalations", api=False),
        Row("escalation report CSV (complete)", "-", path="/reports/escalations?format=csv", api=False),
        Row("dashboard with its charts", "<= 300 ms", path="/dashboard", api=False, also=CHARTS),
        Row("dashboard with its charts, right after a change", "<= 300 ms", path="/dashboard", api=False,
            also=CHARTS, before=tuple(("POST", f"/api/v1/cases/{t['in_progress']}/assign", {"assignee": who})
                                      for who in ("staff1@bench.example", "staff2@bench.example"))),
    ]


class Client:
    def __init__(self, base: str, token: str, email: str):
        import requests

        self.base = base
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"Bearer {token}"
        self.web = requests.Session()
        page = self.web.get(base + "/login")
        csrf = page.text.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        r = self.web.post(base + "/login", data={"csrf_token": csrf, "email": email, "password": PASSWORD})
        if "/login" in r.url:
            raise SystemExit("could not log in as " + email)

    def change(self, row: Row, n: int) -> None:
        """The ``n``-th of the row's changes made before a sample, in turn (none for most rows)."""
        if row.before:
            method, path, body = row.before[n % len(row.before)]
            session = self.api if path.startswith("/api/") else self.web  # a page, with the web login
            r = session.request(method, self.base + path, json=body)
            if r.status_code >= 400:
                raise SystemExit(f"{row.name}, its change: HTTP {r.status_code} {r.text[:300]}")

    def fetch(self, row: Row) -> None:
        session = self.api if row.api else self.web
        r = session.request(row.method, self.base + row.path, json=row.body)
        if r.status_code >= 400:
            raise SystemExit(f"{row.name}: HTTP {r.status_code} {r.text[:300]}")
        for extra in row.also:
            session.get(self.base + extra).raise_for_status()


def _in_process(app, row: Row, token: str, email: str) -> list[tuple[str, object, bool, bool]]:
    """The statements one request makes, with their parameters, from the Flask test client."""
    import sqlalchemy as sa

    from dsr.extensions import db

    statements: list[tuple[str, object, bool, bool]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        autocommit = conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
        statements.append((statement, parameters, executemany, autocommit))

    with app.app_context():
        engine = db.engine
    client = app.test_client()
    if not row.api:
        app.config["WTF_CSRF_ENABLED"] = False  # this in-process app only; the served one checks CSRF
        r = client.post("/login", data={"email": email, "password": PASSWORD})
        if r.status_code != 302:
            raise SystemExit(f"in-process login failed: HTTP {r.status_code}")
    headers = {"Authorization": f"Bearer {token}"} if row.api else {}
    client.open(row.path, method=row.method, json=row.body, headers=headers)  # warm
    for method, path, body in row.before:  # the change the measured request follows (the last is one), not captured
        r = client.open(path, method=method, json=body,
                        headers={"Authorization": f"Bearer {token}"} if path.startswith("/api/") else {})
        if r.status_code >= 400:
            raise SystemExit(f"{row.name}, its change in-process: HTTP {r.status_code}")
    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        for path in (row.path, *row.also):
            r = client.open(path, method=row.method if path == row.path else "GET", json=row.body, headers=headers)
            if r.status_code >= 400:
                raise SystemExit(f"{row.name} in-process: HTTP {r.status_code}")
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    return statements


# Requests before a row's samples: enough that every worker has served the row a few times (a worker's first
# requests for a page make what it keeps per process: its plans, rows and fragments), whichever worker the
# kernel hands each connection to. With two, one of two workers often served neither, and its first requests
# were the slowest samples of the row, its p95.
WARM_UP = 10


class _Floor:
    """A request's statements replayed on plain DBAPI connections, two ways, each timed (ms) once a call:

    * :meth:`direct`, the "SQL floor" of every round: the statements run directly, in a transaction rolled
      back after. psycopg forgets its prepared statements at every rollback, so each replay plans them anew,
      as a worker does after any request that ended in a rollback (every page but those that only read, every
      refused form).
    * :meth:`as_run`: as the request ran them, each in a transaction or not as it was (the pages and API reads
      that only read run without one), rolled back at the end as the request's teardown does; a connection
      that serves only these statements keeps them prepared (psycopg prepares a statement at its fifth run),
      as a worker that serves only this row does, so this is the lower floor.

    The HTTP samples and the replays alternate, one of each, so all are measured in the same moments of a
    shared machine whose speed drifts within a run (a row's 60 requests and then its 60 replays a second later
    gave ratios from 1.8 to 4.3 for the same code, minutes apart)."""

    def __init__(self, app, statements):
        from dsr.extensions import db

        self.statements = statements
        with app.app_context():
            self.plain = db.engine.raw_connection()
            self.kept = db.engine.raw_connection()

    def direct(self) -> float:
        cur = self.plain.cursor()
        start = time.perf_counter()
        for statement, params, many, _ in self.statements:
            _run(cur, statement, params, many)
        elapsed = time.perf_counter() - start
        self.plain.rollback()
        cur.close()
        return elapsed * 1000

    def as_run(self) -> float:
        raw = self.kept
        driver = raw.driver_connection
        start = time.perf_counter()
        for statement, params, many, autocommit in self.statements:
            if driver.autocommit != autocommit:
                raw.rollback()
                driver.autocommit = autocommit
            _run(raw.cursor(), statement, params, many)
        elapsed = time.perf_counter() - start
        raw.rollback()
        return elapsed * 1000

    def close(self) -> None:
        self.plain.close()
        self.kept.close()


def _run(cur, statement, params, many: bool) -> None:
    if many:
        cur.executemany(statement, params)
    elif cur.execute(statement, params).description is not None:
        cur.fetchall()


def measure(database_url: str, args) -> tuple[dict, list[Row]]:
    from datetime import UTC, datetime

    import sqlalchemy as sa

    from dsr.auth.models import User
    from dsr.auth.operations import issue_api_token
    from dsr.extensions import db

    instance = Path(tempfile.mkdtemp(prefix="dsr-bench-queue-"))
    app = bench_app(database_url, instance)
    app.config["SUPPRESSION_SALT"] = "bench-suppression-salt"
    email = "manager@bench.example"
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()  # a database generated by an older dsr gets the newer revisions first
        user = db.session.execute(sa.select(User).where(User.email == email)).scalar_one()
        token = issue_api_token(user, actor=None, now=datetime.now(UTC))
        db.session.commit()
    targets = _targets(app)
    rows = rows_for(targets)
    if args.only:
        wanted = [w.strip().lower() for w in args.only.split(",")]
        rows = [r for r in rows if any(w in r.name.lower() for w in wanted)]
    port = _free_port(args.port)
    server = Server(database_url, port, args.workers, instance)
    created = []
    try:
        client = Client(f"http://127.0.0.1:{port}", token, email)
        for row in rows:
            if row.kind == "rate":
                for _ in range(3):
                    client.fetch(row)
                # Ten creations a sample, at least 300 (about 3 s): the rate of 50 (half a second) was mostly
                # whether one of the collector's full passes, 20-260 ms, fell inside it or not.
                n = max(args.samples * 10, 300)
                start = time.perf_counter()
                for _ in range(n):
                    client.fetch(row)
                row.results["rate"] = n / (time.perf_counter() - start)
                created.append(n + 3)
            else:
                # The statements first, so that each HTTP sample is followed by a replay of them (_Floor).
                statements = _in_process(app, row, token, email)
                floor = _Floor(app, statements)
                try:
                    for n in range(WARM_UP):
                        client.change(row, n)
                        client.fetch(row)
                        floor.direct()
                        floor.as_run()
                    times, sql, as_run = [], [], []
                    for n in range(args.samples):
                        client.change(row, n)
                        start = time.perf_counter()
                        client.fetch(row)
                        times.append((time.perf_counter() - start) * 1000)
                        # The two replays in turns first: the first after a request runs faster than the second.
                        if n % 2:
                            as_run.append(floor.as_run())
                            sql.append(floor.direct())
                        else:
                            sql.append(floor.direct())
                            as_run.append(floor.as_run())
                finally:
                    floor.close()
                row.results["sql_as_run"] = statistics.median(as_run)
                row.results["p50"] = statistics.median(times)
                row.results["p95"] = _pct(times, 95)
                row.results["min"] = min(times)
                row.results["sql"] = statistics.median(sql)
                row.results["statements"] = len(statements)
                continue
            # A write's statements cannot be replayed (its audit hash and reference are unique): no floor.
            row.results["statements"] = len(_in_process(app, row, token, email))
    finally:
        server.stop()
    return targets, rows


def machine_floor(args) -> str:
    """What this machine does without dsr, measured now: the same HTTP client against gunicorn serving the
    smallest WSGI app (``bench/hello_wsgi.py``), and ten million Python additions. Numbers of another machine or
    day are read against these."""
    import requests

    started = time.process_time()
    total = 0
    for i in range(10_000_000):
        total += i
    python_s = time.process_time() - started
    port = _free_port(args.port + 7)
    server = Server(None, port, args.workers, None, wsgi="bench.hello_wsgi:app")
    try:
        session, times = requests.Session(), []
        for i in range(args.samples * 5 + 10):
            start = time.perf_counter()
            session.get(f"http://127.0.0.1:{port}/").raise_for_status()
            if i >= 10:
                times.append((time.perf_counter() - start) * 1000)
    finally:
        server.stop()
    return (f"machine floor: HTTP to gunicorn serving a 12-byte WSGI app p50 {statistics.median(times):.2f} ms, "
            f"p95 {_pct(times, 95):.2f} ms; Python, 10,000,000 additions: {python_s:.2f} s CPU")


def _print(label: str, targets: dict, rows: list[Row]) -> None:
    print(f"\n## {label}: {targets['cases']:,} cases\n")
    print("| row | goal | HTTP p50 ms | HTTP p95 ms | HTTP min ms | SQL floor ms | HTTP ÷ SQL | statements "
          "| SQL as run ms | HTTP ÷ it |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        r = row.results
        if row.kind == "rate":
            print(f"| {row.name} | {row.goal} | {r['rate']:.0f}/s | | | – | | {r['statements']} |")
            continue
        main = r[row.kind]
        ratio = main / r["sql"] if r["sql"] > 0 else float("nan")
        as_run = main / r["sql_as_run"] if r["sql_as_run"] > 0 else float("nan")
        print(f"| {row.name} | {row.goal} | {r['p50']:.1f} | {r['p95']:.1f} | {r['min']:.1f} | {r['sql']:.1f} | "
              f"{ratio:.1f} ({row.kind}) | {r['statements']} | {r['sql_as_run']:.1f} | {as_run:.1f} |", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), help="the large database")
    parser.add_argument("--database-url-small", default=None, help="the same measured at 10,000 cases")
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=5124)
    parser.add_argument("--only", default="", help="comma-separated parts of row names to measure")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("give --database-url or set DATABASE_URL")
    print(f"machine: {os.cpu_count()} cores, {os.uname().sysname} {os.uname().release}; "
          f"gunicorn {args.workers} sync workers; {args.samples} samples per row")
    print(machine_floor(args), flush=True)
    for label, url in (("large", args.database_url), ("small", args.database_url_small)):
        if url:
            load = os.getloadavg()[0]
            targets, rows = measure(url, args)
            _print(label, targets, rows)
            print(f"\nload average (1 min) before and after: {load:.1f}, {os.getloadavg()[0]:.1f}", flush=True)
    print("\nCreated cases stay in the database (each run adds a few hundred); regenerate for a clean baseline.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
