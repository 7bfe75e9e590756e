"""The demo systems (a separate SQLite database playing Harmony's systems) and the read-only lookup."""

from __future__ import annotations

import hashlib
import sqlite3
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
import yaml
from dateutil.relativedelta import relativedelta
from stdnum import iban, imei

from dsr.datamap.lookup import (
    ReadOnlyViolation,
    find_everywhere,
    find_records,
    open_readonly,
    readonly_engines,
)
from dsr.datamap.sources import Erase, SourceKind, load_sources
from dsr.demo.harmony import PROFILES, generate, sample_subjects
from dsr.demo.harmony.generate import SHOWCASE_CUSTOMERS
from dsr.demo.harmony.schema import metadata

TODAY = date(2026, 11, 26)
CUSTOMERS = 300


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("harmony") / "harmony.sqlite3"
    url = f"sqlite:///{path}"
    report = generate(url, customers=CUSTOMERS, seed=2018, today=TODAY)
    return path, url, report


@pytest.fixture(scope="module")
def db(demo):
    engine = open_readonly(demo[1])
    with engine.connect() as conn:
        yield conn
    engine.dispose()


@pytest.fixture(scope="module")
def datamap(demo):
    config = {"DEMO_SYSTEMS_URL": demo[1]}
    sources = load_sources(config)
    engines = readonly_engines(sources.values(), config)
    yield sources, engines
    for engine in set(engines.values()):
        engine.dispose()


def scalars(conn, sql: str) -> list:
    return list(conn.execute(sa.text(sql)).scalars())


def dump(url: str) -> dict[str, list[tuple]]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        tables = {t.name: conn.execute(sa.select(t).order_by(*t.primary_key.columns)).all()
                  for t in metadata.sorted_tables}
    engine.dispose()
    return tables


def test_counts_per_table(demo, db):
    report = demo[2]
    counts = {t.name: db.execute(sa.select(sa.func.count()).select_from(t)).scalar() for t in metadata.sorted_tables}
    assert counts == report.counts
    assert counts["customers"] == CUSTOMERS + SHOWCASE_CUSTOMERS
    assert counts["devices"] == counts["policies"] >= CUSTOMERS
    assert counts["premium_payments"] <= counts["invoices"]
    assert all(n > 0 for n in counts.values()), counts


def test_imeis_and_ibans_pass_stdnum(db):
    imeis = scalars(db, "SELECT imei FROM devices WHERE imei IS NOT NULL")
    ibans = scalars(db, "SELECT iban FROM policies UNION SELECT iban FROM premium_payments")
    assert imeis and all(imei.is_valid(n) for n in imeis)
    assert ibans and all(iban.is_valid(n) for n in ibans)
    assert {n[:2] for n in ibans} == {"NL", "BE", "GB"}


def test_people_from_three_locales(db):
    countries = Counter(scalars(db, "SELECT country FROM customers"))
    assert set(countries) == {"NL", "BE", "GB"} and countries["NL"] > CUSTOMERS / 2
    assert len(set(scalars(db, "SELECT email FROM customers"))) == CUSTOMERS + SHOWCASE_CUSTOMERS


def test_invoices_span_more_than_seven_years_and_recordings_more_than_180_days(demo, db):
    issued = [date.fromisoformat(d) for d in scalars(db, "SELECT issued_on FROM invoices")]
    assert min(issued) < TODAY - relativedelta(years=7) and max(issued) > TODAY - timedelta(days=100)
    assert demo[2].oldest_invoice == min(issued) == TODAY - relativedelta(years=9)
    started = [datetime.fromisoformat(s).date() for s in scalars(db, "SELECT started_at FROM call_recordings")]
    assert min(started) < TODAY - timedelta(days=180), "some recordings breach the statement's 180 days"
    assert min(started) >= TODAY - timedelta(days=200) and max(started) <= TODAY


def test_lifecycle_states_exist(db):
    assert set(scalars(db, "SELECT DISTINCT status FROM policies")) == {"active", "ended"}
    assert {"open", "settled"} <= set(scalars(db, "SELECT DISTINCT status FROM claims"))
    assert set(scalars(db, "SELECT DISTINCT kind FROM incidents")) == {"fraud", "non_payment"}
    assert scalars(db, "SELECT count(*) FROM incidents WHERE retention_until <= registered_on") == [0]
    assert set(scalars(db, "SELECT DISTINCT processor FROM survey_invitations")) == {"Focus Feedback"}
    assert scalars(db, "SELECT count(*) FROM marketing_subscriptions WHERE customer_id IS NULL")[0] > 0


def test_generation_is_deterministic_for_a_seed(demo, tmp_path):
    again, other = f"sqlite:///{tmp_path / 'again.sqlite3'}", f"sqlite:///{tmp_path / 'other.sqlite3'}"
    generate(again, customers=CUSTOMERS, seed=2018, today=TODAY)
    generate(other, customers=CUSTOMERS, seed=7, today=TODAY)
    assert dump(again) == dump(demo[1])
    assert dump(other)["customers"] != dump(demo[1])["customers"]


def test_generate_drops_and_recreates(tmp_path):
    url = f"sqlite:///{tmp_path / 'h.sqlite3'}"
    generate(url, customers=30, seed=1, today=TODAY)
    report = generate(url, customers=20, seed=1, today=TODAY)
    assert len(dump(url)["customers"]) == report.counts["customers"] == 20 + SHOWCASE_CUSTOMERS


def test_the_data_map_matches_the_demo_schema(datamap, db):
    """Every declared field exists; a field erased by setting null can be null."""
    sources, _ = datamap
    inspector = sa.inspect(db)
    for source in sources.values():
        if source.kind is not SourceKind.SQL:
            continue
        for coll in source.collections:
            columns = {c["name"]: c for c in inspector.get_columns(coll.name)}
            assert {f.name for f in coll.fields} == set(columns), coll.name
            for field in coll.fields:
                if field.erase is Erase.NULL:
                    assert columns[field.name]["nullable"], f"{coll.name}.{field.name}"


def test_sample_subjects_spread_over_profiles(demo):
    subjects = sample_subjects(demo[1], len(PROFILES), seed=4)
    assert [s["profile"] for s in subjects] == list(PROFILES)
    assert len({s["customer_number"] for s in subjects}) == len(PROFILES)
    assert sample_subjects(demo[1], len(PROFILES), seed=4) == subjects
    first = subjects[0]
    assert isinstance(first["date_of_birth"], date) and first["policy_number"].startswith("HP")
    assert {"name", "address", "postcode", "city", "country", "email", "phone", "imei", "language"} <= set(first)


@pytest.fixture(scope="module")
def subject(demo, db):
    """A customer with a policy, invoices and a recorded call followed by a survey invitation."""
    number = db.execute(sa.text(
        "SELECT s.customer_number FROM survey_invitations s JOIN call_recordings r ON r.id = s.call_recording_id"
        " ORDER BY s.id LIMIT 1")).scalar()
    return next(s for s in sample_subjects(demo[1], CUSTOMERS, seed=1) if s["customer_number"] == number)


def identity_sets(subject: dict) -> dict[str, dict]:
    return {
        "customer_number": {"customer_number": subject["customer_number"]},
        "policy_number": {"policy_number": subject["policy_number"].lower()},
        "email": {"email": subject["email"].upper()},
        "name+date_of_birth+postcode": {
            "name": f"  {subject['name'].upper()} ", "date_of_birth": subject["date_of_birth"].isoformat(),
            "postcode": subject["postcode"].replace(" ", "").lower()},
        "name+date_of_birth(date)+postcode": {
            "name": subject["name"], "date_of_birth": subject["date_of_birth"], "postcode": subject["postcode"]},
    }


@pytest.mark.parametrize("kind", ["customer_number", "policy_number", "email", "name+date_of_birth+postcode",
                                  "name+date_of_birth(date)+postcode"])
def test_find_records_by_each_identity_across_collections(datamap, subject, kind):
    sources, engines = datamap
    ids = identity_sets(subject)[kind]
    found = find_everywhere(sources, ids, engines)
    pas = Counter(r.collection for r in found["harmony_policy_admin"])
    assert pas["customers"] == 1 and pas["policies"] >= 1 and pas["devices"] >= 1 and pas["invoices"] >= 1
    customer = next(r for r in found["harmony_policy_admin"] if r.collection == "customers")
    assert customer.fields["customer_number"] == subject["customer_number"]
    assert customer.categories["email"] == ("user.contact.email",)
    assert customer.primary_key == {"id": customer.fields["id"]}
    cc = Counter(r.collection for r in found["harmony_contact_centre"])
    assert cc["call_recordings"] >= 1 and cc["survey_invitations"] >= 1
    assert all(r.fields["customer_number"] == subject["customer_number"] for r in found["harmony_contact_centre"])
    assert found["harmony_paper_archive"] == found["focus_feedback"] == found["harmony_mail_house"] == []
    policy_ids = {r.fields["id"] for r in found["harmony_policy_admin"] if r.collection == "policies"}
    assert all(r.fields["policy_id"] in policy_ids for r in found["harmony_policy_admin"] if r.collection == "claims")


def test_matched_by_says_how_a_record_was_reached(datamap, subject):
    sources, engines = datamap
    records = find_records(sources["harmony_policy_admin"], {"customer_number": subject["customer_number"]},
                           engines["harmony_policy_admin"])
    by = {r.collection: r.matched_by for r in records}
    assert by["customers"] == "customer_number" and by["policies"] == "customers.id"


@pytest.mark.parametrize("ids", [
    {"customer_number": "99999999"},
    {"email": "nobody@example.invalid"},
    {"name": "Nobody Atall", "date_of_birth": "1970-01-01", "postcode": "1234 AB"},
])
def test_an_unknown_person_is_found_nowhere(datamap, ids):
    sources, engines = datamap
    assert all(records == [] for records in find_everywhere(sources, ids, engines).values())


def test_name_alone_finds_nothing(datamap, subject):
    """Name, date of birth and postcode identify only together."""
    sources, engines = datamap
    only = {"name": subject["name"], "date_of_birth": subject["date_of_birth"]}
    assert find_records(sources["harmony_policy_admin"], only, engines["harmony_policy_admin"]) == []


def test_unknown_identity_names_are_refused(datamap):
    sources, engines = datamap
    with pytest.raises(ValueError, match="unknown identity e_mail"):
        find_records(sources["harmony_policy_admin"], {"e_mail": "x@y.z"}, engines["harmony_policy_admin"])


def test_lookup_writes_nothing(demo, datamap, subject):
    path = demo[0]
    before = (path.stat().st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest())
    sources, engines = datamap
    for ids in identity_sets(subject).values():
        find_everywhere(sources, ids, engines)
    sample_subjects(demo[1], 3, seed=9)
    assert (path.stat().st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest()) == before


def test_a_lookup_connection_refuses_writes(demo):
    engine = open_readonly(demo[1])
    try:
        with engine.connect() as conn:
            with pytest.raises(ReadOnlyViolation):
                conn.execute(sa.text("DELETE FROM customers"))
        with engine.connect() as conn:  # even below SQLAlchemy, the SQLite connection itself is read-only
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                conn.connection.dbapi_connection.execute("UPDATE customers SET email = NULL")
    finally:
        engine.dispose()


def test_open_readonly_never_creates_a_database(tmp_path):
    with pytest.raises(Exception, match="no such SQLite database"):
        open_readonly(f"sqlite:///{tmp_path / 'missing.sqlite3'}")
    assert not (tmp_path / "missing.sqlite3").exists()


def test_a_new_sql_system_is_a_yaml_file_and_a_url(tmp_path, monkeypatch, demo, subject):
    """Issue 4, item 2: no code. A repair-shop system keyed by the policy administration's customer number."""
    db_path = tmp_path / "repairs.sqlite3"
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE repair_orders (id INTEGER PRIMARY KEY, customer_number TEXT, imei TEXT, "
                     "received_at TEXT)")
        conn.executemany("INSERT INTO repair_orders VALUES (?, ?, ?, ?)", [
            (1, subject["customer_number"], subject["imei"], datetime(2026, 11, 2, tzinfo=UTC).isoformat()),
            (2, "10000000", "356938035643809", datetime(2026, 11, 3, tzinfo=UTC).isoformat())])
    conn.close()
    dataset = {
        "fides_key": "harmony_repairs", "name": "Repair orders",
        "meta": {"dsr": {"kind": "sql", "connection_env": "HARMONY_REPAIRS_URL",
                         "names": {"nl": "Reparaties", "en": "Repair orders", "fr": "Réparations"}}},
        "collections": [{
            "name": "repair_orders", "dsr": {"legal_basis": "contract", "purposes": [2],
                                             "names": {"nl": "Reparaties", "en": "Repair orders", "fr": "Réparations"}},
            "fides_meta": {"masking_strategy_override": {"strategy": "delete"}},
            "fields": [
                {"name": "id", "data_categories": ["system.operations"], "fides_meta": {"primary_key": True}},
                {"name": "customer_number", "data_categories": ["user.unique_id"],
                 "fides_meta": {"identity": "customer_number", "references": [
                     {"dataset": "harmony_policy_admin", "field": "customers.customer_number", "direction": "from"}]}},
                {"name": "imei", "data_categories": ["user.device.device_id"], "dsr": {"provided": True}},
                {"name": "received_at", "data_categories": ["user.behavior"]},
            ]}],
    }
    extra = tmp_path / "datamap"
    extra.mkdir()
    (extra / "harmony_repairs.yml").write_text(yaml.safe_dump({"dataset": [dataset]}), encoding="utf-8")
    monkeypatch.setenv("HARMONY_REPAIRS_URL", f"sqlite:///{db_path}")
    config = {"DEMO_SYSTEMS_URL": demo[1], "DSR_DATAMAP_DIR": str(extra)}
    sources = load_sources(config)
    engines = readonly_engines(sources.values(), config)
    try:
        found = find_everywhere(sources, {"email": subject["email"]}, engines)  # reached through customers
    finally:
        for engine in set(engines.values()):
            engine.dispose()
    assert [r.primary_key for r in found["harmony_repairs"]] == [{"id": 1}]
    assert found["harmony_repairs"][0].matched_by == "harmony_policy_admin.customers.customer_number"
