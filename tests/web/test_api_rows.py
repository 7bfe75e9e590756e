"""The API reads its cases as plain rows (dsr.api.rows, issue 15, item 3): every case's JSON, alone and in every
list order, is the JSON worded from the stored case as an ORM object, field for field.

On the demo's cases (every state, pauses counted and late, extensions, assignees, subjects from three
countries) plus what the demo lacks: a case merged into another, attachments, a case file reduced to no
subject, and a case with several rights, pauses and attachments at once (its collections are joined side
by side, so each of their rows comes back several times and must be kept once, in order).
"""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
import time_machine

from dsr.api.views import _json_case
from dsr.attachments.models import Attachment
from dsr.auth.models import User
from dsr.auth.operations import issue_api_token
from dsr.cases.duplicates import merge_into
from dsr.cases.models import Case, CasePause, CaseRight
from dsr.cases.queries import FLAGS, SORTS, QueueFilters, queue_query
from dsr.demo.loader import load_demo
from dsr.domain.enums import AttachmentKind, CaseState, Priority, Right, Role
from dsr.extensions import db
from tests.conftest import BACKENDS, NOW, TODAY, _wipe
from tests.factories import make_case, make_user


@pytest.fixture(scope="module", params=BACKENDS)
def demo(request, _apps):
    backend_app = _apps(request.param)
    with time_machine.travel(NOW, tick=False), backend_app.app_context():
        load_demo(now=NOW, today=TODAY)
        user = make_user(Role.PRIVACY_MANAGER, "rows-manager@example.test")
        cases = db.session.execute(sa.select(Case).order_by(Case.id)).scalars().all()
        open_cases = [c for c in cases if c.state.is_open]
        # A repeat of a case, merged into it: the merged case names its target.
        first = make_case(actor=user, name="Zoë Van den Broeck", email="zoe@example.nl", commit=False)
        repeat = make_case(actor=user, name="Zoë Van den Broeck", email="zoe@example.nl", commit=False)
        repeat.subject = first.subject
        db.session.flush()
        merge_into(repeat, first, actor=user, now=NOW)
        # Several rights, pauses and attachments on one case, so its joined rows multiply (2 × 3 × 2).
        busy = open_cases[2]
        have = {r.right for r in busy.rights}
        for right in [r for r in (Right.ERASURE, Right.ACCESS, Right.OBJECTION) if r not in have][:2]:
            busy.rights.append(CaseRight(right=right))
        for n, (asked, resumed, counted) in enumerate([(date(2026, 10, 1), date(2026, 10, 5), True),
                                                       (date(2026, 10, 8), date(2026, 10, 9), False),
                                                       (date(2026, 10, 12), date(2026, 10, 20), True)]):
            busy.pauses.append(CasePause(reason=f"Question {n} <b>&amp;</b>", requested_on=asked, resumed_on=resumed,
                                         counted=counted, created_at=NOW))
        for case in (busy, open_cases[3]):
            for n in range(2):
                db.session.add(Attachment(
                    case=case, kind=AttachmentKind.LETTER, filename=f"scan {n} van {case.reference}.pdf",
                    media_type="application/pdf", size=1000 + n, sha256=f"{n:064x}",
                    storage_key=f"attachments/test/{case.reference}-{n}.pdf", uploaded_at=NOW))
        # A case file reduced to no subject (dsr.casefiles), a closed one.
        closed = next(c for c in cases if c.state is CaseState.CLOSED)
        closed.subject, closed.reduced_at = None, NOW
        token = issue_api_token(user, actor=None, now=NOW)
        db.session.commit()
        assert busy.attachments and len(busy.pauses) >= 3 and len(busy.rights) >= 2
        assert repeat.merged_into_id == first.id
        busy_reference = busy.reference
    yield backend_app, {"Authorization": f"Bearer {token}"}, busy_reference
    _wipe(backend_app)


def _orm_json(reference: str) -> dict:
    db.session.expire_all()
    return _json_case(db.session.execute(sa.select(Case).where(Case.reference == reference)).scalar_one())


def test_every_case_alone_is_the_json_of_the_stored_case(demo):
    app, headers, busy = demo
    client = app.test_client()
    with time_machine.travel(NOW, tick=False), app.test_request_context():
        references = db.session.execute(sa.select(Case.reference).order_by(Case.id)).scalars().all()
        assert len(references) > 40
        for reference in references:
            response = client.get(f"/api/v1/cases/{reference}", headers=headers)
            assert response.status_code == 200
            assert response.get_json() == _orm_json(reference), reference
            # written from its kept text (dsr.api.memo) exactly as Flask's JSON response of it
            assert response.get_data() == app.json.response(response.get_json()).get_data()
        shown = client.get(f"/api/v1/cases/{busy}", headers=headers).get_json()
        assert len(shown["pauses"]) >= 3 and len(shown["attachments"]) == 2 and len(shown["rights"]) >= 2
        assert [p["requested_on"] for p in shown["pauses"]] == sorted(p["requested_on"] for p in shown["pauses"])
        assert client.get("/api/v1/cases/DSR-1999-99999", headers=headers).status_code == 404


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_every_list_order_and_page_is_the_json_of_the_stored_cases(demo, sort, direction):
    app, headers, _busy = demo
    client = app.test_client()
    with time_machine.travel(NOW, tick=False), app.test_request_context():
        for state in ("all", "open"):
            args = {"state": state, "sort": sort, "dir": direction}
            filters = QueueFilters.from_args(args)
            expected = db.session.execute(queue_query(filters, TODAY, loads=())).scalars().all()
            references = [case.reference for case in expected]
            pages, page = [], 1
            while True:
                body = client.get("/api/v1/cases", query_string={**args, "per_page": 7, "page": page},
                                  headers=headers).get_json()
                pages.extend(body["cases"])
                assert body["total"] == len(references) and body["total_exact"]
                if page >= body["pages"]:
                    break
                page += 1
            assert [c["reference"] for c in pages] == references
            assert pages == [_orm_json(reference) for reference in references]


def _autocommit(dbapi_connection) -> bool:
    """Whether the driver's connection runs each statement on its own (no transaction around them)."""
    if hasattr(dbapi_connection, "autocommit") and not hasattr(dbapi_connection, "total_changes"):
        return dbapi_connection.autocommit  # psycopg
    return dbapi_connection.isolation_level is None  # sqlite3


def test_a_read_runs_without_a_transaction_and_a_write_still_in_one(demo):
    """A case and a page of cases are read without BEGIN and ROLLBACK (two of a case's five round trips); the
    connection goes back to the pool as it came, so a write after them on the same connection is one
    transaction again."""
    app, headers, busy = demo
    client = app.test_client()
    seen: list[tuple[str, bool]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement.split()[0], _autocommit(conn.connection.dbapi_connection)))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        with time_machine.travel(NOW, tick=False):
            for path in (f"/api/v1/cases/{busy}", "/api/v1/cases?state=all&per_page=5", "/api/v1/cases?q=broeck"):
                seen.clear()
                assert client.get(path, headers=headers).status_code == 200
                assert seen and all(autocommit for _, autocommit in seen), (path, seen)
            seen.clear()
            body = {"subject": {"name": "Ada de Wit", "email": "ada@example.nl", "address": "Coolsingel 40",
                                "postcode": "3011AD", "city": "Rotterdam", "country": "NL"},
                    "rights": ["access"], "channel": "post", "received_on": "2026-11-20"}
            response = client.post("/api/v1/cases", json=body, headers=headers)
            assert response.status_code == 201, response.get_json()
            assert seen and not any(autocommit for _, autocommit in seen), seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def _references_page_by_page(client, headers, args: dict, *, per_page: int) -> list[str]:
    """The references the API lists for ``args``, every page in turn."""
    shown, page = [], 1
    while True:
        body = client.get("/api/v1/cases", query_string={**args, "per_page": per_page, "page": page},
                          headers=headers).get_json()
        shown.extend(c["reference"] for c in body["cases"])
        if page >= body["pages"]:
            return shown
        page += 1


FILTERS = [{"state": "in_progress"}, {"state": "closed"}, {"state": "all", "right": "erasure"}, {"assignee": "none"},
           {"assignee": "me"}, {"channel": "email"}, {"overdue": "true"}, {"due_within": "20"},
           *({"flag": flag} for flag in FLAGS), {"priority": "high"},
           {"state": "all", "channel": "post", "sort": "received", "dir": "desc"}]


def test_a_kept_list_statement_answers_every_filter_as_the_queue_and_sees_every_change(demo):
    """The API keeps the statement of a list per process (its filters, day, page and settings its key;
    ``dsr.api.rows._list_statement``): each filter's pages are the queue's cases for it, asked twice with the
    data changed in between, and again after a setting the filters read changed."""
    app, headers, _busy = demo
    client = app.test_client()

    def pages(args: dict) -> list[str]:
        return _references_page_by_page(client, headers, args, per_page=7)

    def expected(args: dict, user_id: int) -> list[str]:
        db.session.expire_all()
        f = QueueFilters.from_args(args, current_user_id=user_id)
        return db.session.execute(queue_query(f, TODAY, loads=())).scalars().all()

    with time_machine.travel(NOW, tick=False), app.test_request_context():
        manager_id = db.session.execute(sa.select(User.id).where(User.email == "rows-manager@example.test")).scalar_one()
        unassigned = db.session.execute(sa.select(Case).where(Case.assignee_id.is_(None), Case.state.in_(
            [CaseState.IN_PROGRESS, CaseState.RECEIVED])).order_by(Case.id)).scalars().first()
        before = (unassigned.assignee_id, unassigned.channel, unassigned.priority)
        try:
            seen = {}
            for args in FILTERS:
                seen[str(args)] = pages(args)
                assert seen[str(args)] == [c.reference for c in expected(args, manager_id)], args
            # The data changes (another worker's write): the same lists, asked again, show it.
            unassigned.assignee_id, unassigned.priority = manager_id, Priority.HIGH
            db.session.commit()
            changed = 0
            for args in FILTERS:
                shown = pages(args)
                assert shown == [c.reference for c in expected(args, manager_id)], args
                changed += shown != seen[str(args)]
            assert changed >= 3  # unassigned, mine, high priority at least
            # A setting a filter reads: the long pauses' days.
            app.config["PAUSE_ATTENTION_DAYS"] = 1
            args = {"flag": "long_pause"}
            assert pages(args) == [c.reference for c in expected(args, manager_id)]
        finally:
            app.config["PAUSE_ATTENTION_DAYS"] = 30
            unassigned.assignee_id, unassigned.channel, unassigned.priority = before
            db.session.commit()


def _queue_fields(case) -> tuple:
    """What the queue page's rows, clocks and warnings read of a case (dsr.cases.queue_page.QueueCase)."""
    from dsr.cases.deadlines import pause_intervals

    subject, assignee = case.subject, case.assignee
    return (case.id, case.reference, case.version, case.state, case.received_on, case.closed_at, case.paused_since,
            case.extended_due_on, case.extension_notice_due_on, case.extension_notice_sent_on,
            case.late_pause_requests, case.priority, case.assignee_id, case.extension_notice_owed,
            (subject.name, subject.customer_number) if subject is not None else None,
            assignee.name if assignee is not None else None, list(case.right_values),
            list(case.pauses) if not isinstance(case, Case) else pause_intervals(case))


@pytest.mark.parametrize("sort", SORTS)
def test_the_queue_pages_rows_are_those_of_the_stored_cases(demo, sort):
    """The queue page reads its cases by the API's page statement in a shape of its own (issue 15, item 3):
    every page, in every order, holds the cases :func:`queue_query` gives, each with what the stored case as an
    ORM object gives its row (the subject's name and customer number, the assignee's name, the rights in
    their order, the pauses in theirs), and the same bounded count."""
    from dsr.api.rows import api_page

    app, _headers, busy = demo
    with time_machine.travel(NOW, tick=False), app.test_request_context():
        for state, direction in (("all", "asc"), ("open", "desc"), ("open", "asc")):
            filters = QueueFilters.from_args({"state": state, "sort": sort, "dir": direction})
            db.session.expire_all()
            expected = [_queue_fields(case) for case in
                        db.session.execute(queue_query(filters, TODAY, loads=())).scalars().all()]
            shown, page_no = [], 1
            while True:
                page = api_page(filters, TODAY, shape="queue", page=page_no, per_page=7)
                assert page.total == len(expected) and page.total_exact
                shown.extend(_queue_fields(case) for case in page.items)
                if page_no >= page.pages:
                    break
                page_no += 1
            assert shown == expected
            if state == "all":
                assert any(row[1] == busy and len(row[-1]) >= 3 and len(row[-2]) >= 2 for row in shown)
                assert any(row[14] is None for row in shown)  # the reduced case file


def test_the_queue_page_reads_and_keeps_no_personal_data_it_does_not_show(demo):
    """A queue row is kept for the day by the statement's rows it was made from (QueueTable): those rows hold
    of the subject only the name and customer number the row shows, nothing of the case's notes, decision or
    attachments, whether the page is a list or a search."""
    from dsr.api.rows import api_page
    from dsr.subjects.models import DataSubject

    app, _headers, busy = demo
    statements: list[str] = []

    def capture(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with time_machine.travel(NOW, tick=False), app.test_request_context():
        subjects = db.session.execute(sa.select(DataSubject)).scalars().all()
        private = {value for subject in subjects for value in (
            subject.email, subject.address, subject.phone, subject.policy_number, subject.device_id,
            subject.date_of_birth, subject.city) if value}
        assert len(private) > 10
        kept = []
        sa.event.listen(db.engine, "before_cursor_execute", capture)
        try:
            for args in ({"state": "all"}, {"state": "all", "q": busy}, {"state": "all", "q": subjects[0].name}):
                page = api_page(QueueFilters.from_args(args), TODAY, shape="queue", page=1, per_page=50)
                assert page.items, args
                kept += [value for case in page.items for row in case.made_of for value in row]
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", capture)
        assert not private & set(kept)
        for name in ("email", "date_of_birth", "address", "phone", "policy_number", "device_id", "notes",
                     "decision", "attachments", "reason"):
            assert not any(f".{name}" in statement for statement in statements if "dsr_bounded_total" in statement)


def test_a_listed_cases_kept_text_is_the_text_made_now_after_every_change(demo):
    """A page's case texts are kept per process by everything they were made from (dsr.api.memo): the same
    list, asked again after a change to the subject alone, to a pause, to the declared days and on the next
    day, is each time the JSON of the stored cases worded then; and the page is written exactly as Flask's
    own JSON response of it would be."""
    from datetime import timedelta

    from flask import current_app

    from dsr.api import memo
    from dsr.cases.models import DeclaredHoliday

    app, headers, busy = demo
    client = app.test_client()
    args = {"state": "open", "per_page": 50}

    def check() -> dict:
        response = client.get("/api/v1/cases", query_string=args, headers=headers)
        body = response.get_json()
        assert response.get_data() == current_app.json.response(body).get_data()
        references = [c["reference"] for c in body["cases"]]
        assert busy in references and len(references) > 10
        assert body["cases"] == [_orm_json(reference) for reference in references]
        return body

    with time_machine.travel(NOW, tick=False), app.test_request_context():
        first = check()
        kept = len(memo._KEPT)
        assert check() == first and len(memo._KEPT) == kept  # a second time: from the kept texts
        case = db.session.execute(sa.select(Case).where(Case.reference == busy)).scalar_one()
        subject, pause = case.subject, case.pauses[0]
        was = (subject.name, pause.reason)
        try:
            subject.name = "Zoë Changed-Only-In-The-Subject"  # the case's own row and version stay as they were
            db.session.commit()
            assert next(c for c in check()["cases"] if c["reference"] == busy)["subject"]["name"] == subject.name
            assert len(memo._KEPT) == kept + 1  # that case's text made again, the others' kept
            pause.reason = "Another question"
            db.session.commit()
            assert check() != first
            # A declared day moves the deadlines after it.
            db.session.add(DeclaredHoliday(day=TODAY + timedelta(days=3), name="Declared for the test"))
            db.session.commit()
            check()
        finally:
            subject.name, pause.reason = was
            db.session.execute(sa.delete(DeclaredHoliday).where(DeclaredHoliday.name == "Declared for the test"))
            db.session.commit()
        assert check() == first
    with time_machine.travel(NOW + timedelta(days=1), tick=False), app.test_request_context():
        later = check()
        assert [c["days_left"] for c in later["cases"]] != [c["days_left"] for c in first["cases"]]
        assert len(memo._KEPT) == len(later["cases"])  # the texts of the day before are dropped


def test_a_kept_search_statement_answers_every_search_as_the_queue_and_sees_new_matches(demo):
    """A search's page statement is kept per process with the references and subjects it matches as expanding
    parameters (``dsr.api.rows._search_statement``): each search's pages are the queue's cases for it, by
    name, surname, customer number, e-mail, a bare case number (a reference in any year) and nothing found,
    with a filter beside it; and a case logged for a new subject matching one of them shows at once."""
    from dsr.subjects.models import DataSubject

    app, headers, _busy = demo
    client = app.test_client()

    def pages(args: dict) -> list[str]:
        return _references_page_by_page(client, headers, args, per_page=3)

    def expected(args: dict) -> list[str]:
        db.session.expire_all()
        return [c.reference for c in db.session.execute(queue_query(QueueFilters.from_args(args), TODAY,
                                                                    loads=())).scalars().all()]

    with time_machine.travel(NOW, tick=False), app.test_request_context():
        subject = db.session.execute(sa.select(DataSubject).where(DataSubject.customer_number.is_not(None))
                                     .order_by(DataSubject.id)).scalars().first()
        surname = subject.name.split()[-1]
        searches = [{"q": subject.name}, {"q": surname}, {"q": surname.lower(), "state": "open"},
                    {"q": subject.customer_number}, {"q": subject.email or surname}, {"q": "3"},
                    {"q": "3", "state": "closed"}, {"q": "nobody at all"}, {"q": "Van den Broeck"}]
        seen = {}
        for args in searches:
            seen[str(args)] = pages(args)
            assert seen[str(args)] == expected(args), args
        assert any(seen.values()) and not seen[str({"q": "nobody at all"})]
        user = db.session.execute(sa.select(User).where(User.email == "rows-manager@example.test")).scalar_one()
        make_case(actor=user, name=f"Anna {surname}", email="anna.new@example.nl")
        for args in searches:
            assert pages(args) == expected(args), args
        assert len(pages({"q": surname})) == len(seen[str({"q": surname})]) + 1


def test_a_search_matching_very_many_subjects_reads_them_by_their_select(demo, monkeypatch):
    """Past ``ID_LIST_LIMIT`` matching subjects a search names them by their select, not by ids, in a statement
    of its own (never kept): its pages are still the queue's cases for it."""
    app, headers, _busy = demo
    client = app.test_client()
    import dsr.api.rows

    monkeypatch.setattr("dsr.subjects.search.ID_LIST_LIMIT", 1)
    by_select = []
    parts = dsr.api.rows.search_parts

    def spy(*args):
        answer = parts(*args)
        by_select.append(answer[2] is not None)
        return answer

    monkeypatch.setattr(dsr.api.rows, "search_parts", spy)
    with time_machine.travel(NOW, tick=False), app.test_request_context():
        for args in ({"q": "van"}, {"q": "de", "state": "open"}, {"q": "a", "state": "all"}):
            db.session.expire_all()
            expected = [c.reference for c in db.session.execute(queue_query(QueueFilters.from_args(args), TODAY,
                                                                             loads=())).scalars().all()]
            shown, page = [], 1
            while True:
                body = client.get("/api/v1/cases", query_string={**args, "per_page": 4, "page": page},
                                  headers=headers).get_json()
                shown.extend(c["reference"] for c in body["cases"])
                assert body["total"] == len(expected)
                if page >= body["pages"]:
                    break
                page += 1
            assert shown == expected, args
            assert len(expected) > 1, args
        assert by_select and all(by_select)
