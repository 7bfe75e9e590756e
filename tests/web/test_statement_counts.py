"""No query per row (issue 15, item 3): a page of 50 rows costs the same number of SQL statements as a page
of 10, for the API list, the queue, the case page (its history and the subject's earlier cases) and the
reports (the escalation report, its CSV, the dashboard and its charts).

The cases carry what the rows show (rights, an assignee, a pause, a task, earlier cases of the same person),
so a lazy load per row of any of them would add statements with the number of rows and fail the test.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from dsr.auth.operations import issue_api_token
from dsr.cases import lifecycle, timing
from dsr.cases.operations import log_request
from dsr.cases.writing import number_and_ids
from dsr.domain.enums import Channel, Language, Right, Role
from dsr.extensions import db
from dsr.tasks.operations import add_note, add_task
from tests.conftest import NOW, TODAY
from tests.factories import make_user, subject_details
from tests.web.support import frozen_clock, signed_in


@pytest.fixture(autouse=True)
def _frozen():
    yield from frozen_clock()


def _add_cases(count: int, users: dict, subject=None):
    """``count`` open cases of one person, each assigned, with a pause, a task and a note."""
    last = None
    for i in range(count):
        received = TODAY - timedelta(days=2 + (i % 40))
        case = log_request(subject=subject_details(), rights=[Right.ACCESS, Right.ERASURE][: 1 + i % 2],
                           channel=Channel.EMAIL, received_on=received, language=Language.NL, notes="",
                           actor=users["staff"], now=NOW, today=TODAY, link_subject=subject)
        subject = case.subject
        lifecycle.assign(case, users["staff"], actor=users["manager"], now=NOW)
        timing.request_information(case, reason="Which policy?", requested_on=received + timedelta(days=1),
                                   actor=users["staff"], now=NOW, today=TODAY)
        add_task(case, "Search the archive", assignee=users["staff"], due_on=TODAY + timedelta(days=1 + i % 9),
                 actor=users["staff"], now=NOW, today=TODAY)
        add_note(case, f"note {i}", actor=users["staff"], now=NOW)
        last = case
    db.session.commit()
    return subject, last


def _statements(app, client, path: str, headers=None) -> list[str]:
    """Statements of the second identical request (the first fills per-process caches)."""
    counted = []

    def count(_conn, _cursor, statement, *_args):
        # An IN list of 10 or of 50 ids is the same statement.
        counted.append(IN_LIST.sub("(…)", statement))

    client.get(path, headers=headers)
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(path, headers=headers)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, response.data[:300]
    return counted


IN_LIST = re.compile(r"\((?:\?|%\([^)]*\)s)(?:, (?:\?|%\([^)]*\)s))+\)")
PAGES = {
    "api list": "/api/v1/cases?per_page={n}",
    "api search": "/api/v1/cases?per_page={n}&q=HC1234567",
    "queue": "/cases",
    "queue, all states": "/cases?state=all",
    "case page": "/cases/{ref}",
    "escalation report": "/reports/escalations",
    "escalation CSV": "/reports/escalations?format=csv",
    "dashboard": "/dashboard",
    "dashboard chart": "/dashboard/charts/deadlines.svg",
}


def test_a_page_of_50_rows_costs_the_statements_of_a_page_of_10(app):
    with app.app_context():
        users = {"staff": make_user(Role.STAFF), "manager": make_user(Role.PRIVACY_MANAGER)}
        token = issue_api_token(users["manager"], actor=None, now=NOW)
        db.session.commit()
        subject, last = _add_cases(10, users)
        # The case page of the same case both times: its subject has 10, then 50 cases.
        subject_id, ref10 = subject.id, subject.cases[-1].reference
    manager = signed_in(app, Role.PRIVACY_MANAGER)
    headers = {"Authorization": f"Bearer {token}"}

    def counts(n: int, ref: str) -> dict[str, list[str]]:
        app.config["QUEUE_PAGE_SIZE"] = n
        result = {}
        for name, path in PAGES.items():
            path = path.format(n=n, ref=ref)
            result[name] = _statements(app, manager, path, headers if path.startswith("/api") else None)
        return result

    page_size = app.config["QUEUE_PAGE_SIZE"]
    try:
        with_10 = counts(10, ref10)
        with app.app_context():
            from dsr.subjects.models import DataSubject

            users = {k: db.session.merge(u) for k, u in users.items()}
            _add_cases(40, users, subject=db.session.get(DataSubject, subject_id))
        with_50 = counts(50, ref10)
        # The pages really held 50 rows.
        assert manager.get("/cases").get_data(as_text=True).count('<td class="ref">') == 50
        assert len(manager.get("/api/v1/cases?per_page=50", headers=headers).get_json()["cases"]) == 50
    finally:
        app.config["QUEUE_PAGE_SIZE"] = page_size
    grown = {name: [s for s in set(with_50[name]) if with_50[name].count(s) > with_10[name].count(s)]
             for name in PAGES if len(with_50[name]) != len(with_10[name])}
    assert not grown, f"statements repeated per row: {grown}"
    assert all(with_10[name] for name in PAGES)


def test_the_dashboard_computed_or_kept_costs_the_same_statements_for_10_and_50_cases(app):
    """The dashboard's figures computed afresh (the data version moved: another process committed a change)
    cost the same statements for 10 and for 50 open cases, and kept ones read no case's facts at all: the
    page and its three charts then make a few statements, none on the rights, pauses, tasks or events."""
    from dsr.reports.versions import forget

    with app.app_context():
        users = {"staff": make_user(Role.STAFF), "manager": make_user(Role.PRIVACY_MANAGER)}
        db.session.commit()
        subject, _last = _add_cases(10, users)
        subject_id = subject.id
    manager = signed_in(app, Role.PRIVACY_MANAGER)
    charts = ("/dashboard/charts/deadlines.svg", "/dashboard/charts/handling.svg", "/dashboard/charts/open.svg")

    def computed() -> list[str]:
        return [s for path in ("/dashboard", *charts) for s in _cold(app, manager, path, forget)]

    computed()  # the first request of the session fills other per-process caches (translations, the calendar)
    with_10 = computed()
    with app.app_context():
        from dsr.subjects.models import DataSubject

        users = {k: db.session.merge(u) for k, u in users.items()}
        _add_cases(40, users, subject=db.session.get(DataSubject, subject_id))
    with_50 = computed()
    assert len(with_50) == len(with_10), [s for s in set(with_50) if with_50.count(s) > with_10.count(s)]
    kept = [s for path in ("/dashboard", *charts) for s in _statements(app, manager, path)]
    assert len(kept) < len(with_10) / 2, kept
    facts = ("case_rights", "case_pauses", "case_tasks", "audit_events")
    assert not [s for s in kept if any(f"FROM {table}" in s for table in facts)], kept


def test_the_escalation_report_computed_or_kept_costs_the_same_statements_for_10_and_50_cases(app):
    """The escalation report's page and CSV computed afresh cost the same statements for 10 and for 50 open
    cases, and kept ones (the data version has not moved) read no case's facts at all."""
    from dsr.reports.versions import forget

    with app.app_context():
        users = {"staff": make_user(Role.STAFF), "manager": make_user(Role.PRIVACY_MANAGER)}
        db.session.commit()
        subject, _last = _add_cases(10, users)
        subject_id = subject.id
    manager = signed_in(app, Role.PRIVACY_MANAGER)
    paths = ("/reports/escalations", "/reports/escalations?format=csv")

    def computed() -> list[str]:
        return [s for path in paths for s in _cold(app, manager, path, forget)]

    computed()
    with_10 = computed()
    with app.app_context():
        from dsr.subjects.models import DataSubject

        users = {k: db.session.merge(u) for k, u in users.items()}
        _add_cases(40, users, subject=db.session.get(DataSubject, subject_id))
    with_50 = computed()
    assert len(with_50) == len(with_10), [s for s in set(with_50) if with_50.count(s) > with_10.count(s)]
    kept = [s for path in paths for s in _statements(app, manager, path)]
    assert len(kept) < len(with_10) / 2, kept
    facts = ("case_rights", "case_pauses", "case_tasks", "audit_events")
    assert not [s for s in kept if any(f"FROM {table}" in s for table in facts)], kept


def _cold(app, client, path: str, forget) -> list[str]:
    """Statements of a request made with nothing kept in this process."""
    counted = []

    def count(_conn, _cursor, statement, *_args):
        counted.append(IN_LIST.sub("(…)", statement))

    forget()
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(path)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, response.data[:300]
    return counted


def _posted_statements(app, client, path: str, body: dict, headers) -> tuple[list[str], object]:
    counted = []

    def count(_conn, _cursor, statement, *_args):
        counted.append(IN_LIST.sub("(…)", statement))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.post(path, json=body, headers=headers)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 201, response.data[:300]
    return counted, response


def test_creating_a_case_through_the_api_costs_a_fixed_few_statements(backend_app):
    app = backend_app
    with app.app_context():
        manager = make_user(Role.PRIVACY_MANAGER)
        token = issue_api_token(manager, actor=None, now=NOW)
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    body = {"subject": {"name": "Zoë Van den Broeck", "email": "zoe@example.nl", "customer_number": "HC1234567",
                        "date_of_birth": "1984-02-29", "postcode": "3011 AD"},
            "rights": ["access", "erasure"], "channel": "email", "received_on": TODAY.isoformat(), "language": "nl"}
    client.post("/api/v1/cases", json=body, headers=headers)  # the first fills per-process caches
    statements, response = _posted_statements(app, client, "/api/v1/cases", body, headers)
    assert response.get_json()["reference"] == "DSR-2026-00002" and len(response.get_json()["rights"]) == 2

    def counted(prefix: str) -> int:
        return sum(s.startswith(prefix) for s in statements)

    # The token with its user in one statement; the token's last use not written again within the minute; the
    # answer worded from the case as written: nothing read back after the writes.
    assert counted("SELECT api_tokens") == 1 and counted("SELECT users") == 0 and counted("UPDATE api_tokens") == 0
    # The user as the columns the creation names its actor by, not as an object in the session (dsr.auth.Actor).
    token_statement = next(s for s in statements if s.startswith("SELECT api_tokens"))
    assert "users.email" in token_statement and "users.password_hash" not in token_statement
    first_write = next(i for i, s in enumerate(statements) if not s.startswith("SELECT"))
    assert all(not s.startswith("SELECT") for s in statements[first_write:]), statements[first_write:]
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # The chain's head is locked after the case's rows, and nothing but the chain is written after it: the
        # other writers of the chain wait for that and the commit only.
        lock = next(i for i, s in enumerate(statements) if s.startswith("UPDATE audit_head SET events=audit_head.events"))
        # One statement a row (SQLite cannot hand a multi-row INSERT's new ids back in order).
        assert counted("INSERT INTO reference_counters") == 1 and counted("UPDATE reference_counters") == 0
        assert [counted(f"INSERT INTO {table} ") for table in ("data_subjects", "subject_search_keys", "cases",
                                                              "case_rights")] == [1, 1, 1, 2]
        assert counted("INSERT INTO audit_events") == 2 and counted("INSERT INTO audit_payloads") == 1
        assert counted("UPDATE audit_head SET last_hash") == 1 and counted("INSERT INTO audit_head") == 0
        assert all(s.startswith(("INSERT INTO audit_events", "INSERT INTO audit_payloads",
                                 "UPDATE audit_head SET last_hash")) for s in statements[lock + 1:]), statements[lock:]
        assert len(statements) == 13, statements
    else:
        # The token with the declared days; the year's number with the new rows' ids and the chain's head (read,
        # not locked); the subject, its search keys, the case and its rights, with the head moved if it still holds
        # what was read and the two events (subject.created, case.created) and their payloads, in one statement:
        # the head is locked by the last statement before the commit (27 before issue 15, 11, 6, 5, 4).
        expected = ("SELECT api_tokens", "WITH number AS", "WITH head AS")
        assert len(statements) == len(expected), statements
        assert all(s.startswith(prefix) for s, prefix in zip(statements, expected, strict=True)), statements
        assert "FROM declared_holidays" in statements[0] and "FROM audit_head" in statements[1]
        assert statements[1].count("INSERT INTO reference_counters") == 1
        assert all(f"INSERT INTO {table} " in statements[2]
                   for table in ("data_subjects", "subject_search_keys", "cases", "case_rights"))
        assert all(part in statements[2] for part in ("INSERT INTO audit_events", "INSERT INTO audit_payloads",
                                                      "UPDATE audit_head SET last_hash", "%(head_read)s"))
    with app.app_context():
        from dsr.audit.verify import verify_chain

        assert verify_chain().ok


def test_the_year_s_number_is_planned_once_not_for_every_creation(backend_app):
    """PostgreSQL keeps one plan for the statement of the year's number and the new rows' ids (a generic plan
    from its sixth prepared execution on) instead of planning it again for every creation (issue 15, item 3),
    and still hands out one id a right, in order."""
    app = backend_app
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("PostgreSQL's plans")
    with app.app_context():
        got = [number_and_ids(2026, rights=rights, subject=True) for rights in (1, 3, 2, 7) * 5]
        plans = db.session.execute(sa.text("SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                                           "WHERE statement LIKE 'WITH number AS%'")).one()
        db.session.rollback()
    assert [numbered.number for numbered in got] == list(range(1, 21))
    assert [len(numbered.right_ids) for numbered in got] == [1, 3, 2, 7] * 5
    assert all(numbered.right_ids == sorted(set(numbered.right_ids)) for numbered in got)
    assert plans.generic_plans >= 5, plans  # (with generate_series(1, :rights): none, a new plan each time)


def test_the_api_and_the_queue_read_the_user_and_the_rows_people_with_what_they_need(app):
    """The token's or the session's user comes with the token or the session, and the subjects and assignees
    of a list's rows with the page (issue 15, item 3): no statement of their own, whatever the page."""
    with app.app_context():
        users = {"staff": make_user(Role.STAFF), "manager": make_user(Role.PRIVACY_MANAGER)}
        token = issue_api_token(users["manager"], actor=None, now=NOW)
        db.session.commit()
        _subject, last = _add_cases(3, users)
        reference = last.reference
    manager = signed_in(app, Role.PRIVACY_MANAGER)
    headers = {"Authorization": f"Bearer {token}"}

    def top_level(statement: str) -> str:
        """The statement without its parenthesised parts (sub-queries, function arguments)."""
        while True:
            shorter = re.sub(r"\([^()]*\)", "", statement)
            if shorter == statement:
                return statement
            statement = shorter

    def reads(statements: list[str], table: str) -> int:
        """Statements that select from ``table`` first (not those that join it to another table's rows, nor
        those that look up one value in it in a sub-query of a row)."""
        return sum(bool(re.match(rf"SELECT\b.*?\bFROM {table}\b", top_level(s), re.S)) for s in statements)

    api = app.test_client()  # a client of the API sends its token, not a login's cookie
    listed = _statements(app, api, "/api/v1/cases?state=in_progress&per_page=25", headers)
    one = _statements(app, api, f"/api/v1/cases/{reference}", headers)
    queue = _statements(app, manager, "/cases")
    for statements in (listed, one, queue):
        assert reads(statements, "data_subjects") == 0, statements
    assert reads(listed, "users") == reads(one, "users") == 0
    assert reads(queue, "users") == 1  # the assignee filter's list of people, not the rows' nor the session's
    # The case by reference: the token, the case with its subject, assignee, rights, pauses and attachments,
    # the declared days (8 before). A page of the API list: the token, the page with everything its JSON shows
    # and its bounded count, the declared days (10 before).
    for name, statements in (("one case", one), ("list", listed)):
        assert len(statements) == 3, (name, statements)
        for table in ("case_rights", "case_pauses", "attachments", "users"):
            assert reads(statements, table) == 0, (name, table, statements)
    assert not any(s.startswith("SELECT count(*)") for s in listed), listed
    # The session with its user, the page with its rows' rights and pauses and its count, the declared days, the
    # filter's people, the saved views, the open tasks (and, with an unassigned case, its last assignment).
    assert len(queue) <= 7, queue  # 14 before, 8 before the page was read as the API reads its pages
    assert reads(queue, "case_rights") == reads(queue, "case_pauses") == 0, queue  # with the page


def test_the_case_page_reads_each_of_its_tables_once(app):
    """The case page and its cards ask for the same rows more than once (the next step, the data card and
    the exports card each want the lookups; the card and its obligations the requester; the history and the
    task list the tasks; every form its standard paragraphs): each is read once a request (issue 15). The
    requester is read by its card and, through the registry of obligations, by the completion checklist; the
    tasks by the page and by the warnings of the escalation report."""
    with app.app_context():
        users = {"staff": make_user(Role.STAFF), "manager": make_user(Role.PRIVACY_MANAGER)}
        db.session.commit()
        _subject, last = _add_cases(3, users)
        reference = last.reference
    manager = signed_in(app, Role.PRIVACY_MANAGER)
    statements = _statements(app, manager, f"/cases/{reference}")
    reads = [re.match(r"SELECT\b.*?\bFROM (\w+)", s, re.S) for s in statements]
    tables = [m.group(1) for m in reads if m]
    for table in ("lookups", "standard_paragraphs", "case_file_holds", "legal_holds", "restricted_records",
                  "data_subjects"):
        assert tables.count(table) <= 1, (table, statements)
    assert tables.count("case_requesters") <= 2 and tables.count("case_tasks") <= 2, statements
    assert not any(s.startswith("SELECT count(*)") for s in statements), statements
    # One census tells which of the case's collections are empty; their readers then ask nothing.
    assert sum(s.startswith("SELECT EXISTS (SELECT * \nFROM identity_verifications") for s in statements) == 1
    empty = ("identity_verifications", "lookups", "erasure_plans", "legal_holds", "issued_letters", "exports",
             "copy_fees", "jobs", "attachments", "case_requesters", "case_file_holds", "case_links")
    read = [m.group(1) for m in reads if m and not m.group(0).startswith("SELECT EXISTS")]
    assert not [t for t in read if t in empty and t != "issued_letters"], statements
    assert "SELECT audit_payloads" not in "".join(statements), statements  # joined to the events
    assert len(statements) <= 17, statements  # 30 before, 38 before that


def test_a_closed_case_page_reads_what_keeps_its_file_and_the_earlier_copy_from_what_it_has_read(app):
    """A closed access case's page says what keeps its file and whether the person had an earlier copy: the
    census already tells that no file hold, legal hold, erasure plan or restriction keeps it, and the subject's
    cases read with their rights tell which was an earlier copy, so neither asks a statement of its own
    (issue 15, item 3); nor do the names of the people its history says it was assigned to, who are among those
    the page read for its assignee choices. 15 statements to 12 for the bench's closed case with 50 events."""
    with app.app_context():
        users = {"staff": make_user(Role.STAFF), "manager": make_user(Role.PRIVACY_MANAGER)}
        db.session.commit()
        _subject, last = _add_cases(3, users)
        lifecycle.withdraw(last, how="Per e-mail", actor=users["staff"], now=NOW)
        db.session.commit()
        reference = last.reference
    manager = signed_in(app, Role.PRIVACY_MANAGER)
    statements = _statements(app, manager, f"/cases/{reference}")
    census = [s for s in statements if s.startswith("SELECT EXISTS (SELECT * \nFROM identity_verifications")]
    assert len(census) == 1 and "FROM restricted_records" in census[0], statements
    others = [s for s in statements if s not in census]
    for table in ("case_file_holds", "legal_holds", "erasure_plans", "restricted_records"):
        assert not [s for s in others if f"FROM {table}" in s], (table, statements)
    assert not [s for s in others if "JOIN case_rights" in s], statements  # the earlier copy
    # The history's "assigned the case to …" names the people the page read for its assignee choices.
    assert not [s for s in others if s.startswith("SELECT users.email, users.name")], statements
    assert "Case file retention" in manager.get(f"/cases/{reference}").get_data(as_text=True)


def test_what_keeps_a_case_file_is_read_from_tables_the_census_counts(app):
    """The case page skips the statement of what keeps a file when the census found none of the tables its
    reasons read holding a row of the case: a reason reading another table must be counted too."""
    from sqlalchemy.sql.util import find_tables

    from dsr.casefiles import operations as casefiles
    from dsr.cases import census

    with app.app_context():
        reasons = casefiles._reasons(1, 2)
        read = {t.name for reason in reasons.values() for t in find_tables(reason, include_joins=True)}
    # Items belong to a plan of the case: no plan, no item.
    assert read - {"erasure_plan_items"} == set(casefiles._KEPT_BY_TABLES)
    assert set(casefiles._KEPT_BY_TABLES) <= set(census._WHERE)
