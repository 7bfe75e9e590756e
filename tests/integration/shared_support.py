"""Source databases for the tests of shared records and plain Fides datasets (issue 13, items 2 and 4).

* :func:`shop_database`: a small shop with addresses, orders, a joint policy and support tickets, as a Fides
  dataset without any dsr annotation, on SQLite or in a PostgreSQL schema of its own;
* :func:`fides_example_database`: Fides' own example database (``tests/fixtures/fides``) loaded, unchanged,
  into a PostgreSQL database of its own (it names the ``public`` schema and creates ``backup_schema``, so a
  schema of its own would not hold it), dropped afterwards.

Not a conftest: plain context managers, so that a test module picks the databases it needs.
"""

from __future__ import annotations

import contextlib
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
import yaml

from config import normalise_database_url
from tests.conftest import PG_URL, _with_search_path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "fides"
FIDES_KEY = "postgres_example_test_dataset"
FIDES_URL_VARIABLE = "DSR_SOURCE_POSTGRES_EXAMPLE_TEST_DATASET_URL"

SHOP_SQL = [
    "CREATE TABLE address (id INTEGER PRIMARY KEY, street VARCHAR(100), city VARCHAR(100))",
    "CREATE TABLE customer (id INTEGER PRIMARY KEY, email VARCHAR(100), name VARCHAR(100), address_id INTEGER)",
    "CREATE TABLE orders (id VARCHAR(20) PRIMARY KEY, customer_id INTEGER, shipping_address_id INTEGER)",
    "CREATE TABLE policy (id INTEGER PRIMARY KEY, number VARCHAR(20))",
    # A joint policy: two policyholders, one row each. No primary key declared in the dataset: read here.
    "CREATE TABLE policy_holder (policy_id INTEGER, customer_id INTEGER, PRIMARY KEY (policy_id, customer_id))",
    "CREATE TABLE ticket (id INTEGER PRIMARY KEY, email VARCHAR(100), cc_email VARCHAR(100), subject VARCHAR(100))",
    "INSERT INTO address VALUES (1, 'Kade 1', 'Rotterdam'), (2, 'Laan 2', 'Delft'), (3, 'Weg 3', 'Gouda')",
    "INSERT INTO customer VALUES (1, 'anna@example.com', 'Anna', 1), (2, 'bram@example.com', 'Bram', 2), "
    "(3, 'cor@example.com', 'Cor', 3)",
    # Anna's order ships to Bram's home; Cor's order ships to Anna's home.
    "INSERT INTO orders VALUES ('o-1', 1, 2), ('o-2', 1, 1), ('o-3', 3, 1)",
    "INSERT INTO policy VALUES (10, 'JOINT-10'), (11, 'ANNA-11')",
    "INSERT INTO policy_holder VALUES (10, 1), (10, 2), (11, 1)",
    # Anna's ticket copies Cor in; her other ticket is hers alone.
    "INSERT INTO ticket VALUES (100, 'anna@example.com', 'cor@example.com', 'Delivery'), "
    "(101, 'anna@example.com', NULL, 'Invoice')",
]


def _field(name, category="system.operations", **meta):
    return {"name": name, "data_categories": [category], **({"fides_meta": meta} if meta else {})}


def _ref(collection_field, direction):
    return {"references": [{"dataset": "shop", "field": collection_field, "direction": direction}]}


SHOP_DATASET = {
    "fides_key": "shop",
    "name": "Shop",
    "collections": [
        {"name": "address", "fields": [
            _field("id", primary_key=True), _field("street", "user.contact.address.street"),
            _field("city", "user.contact.address.city")]},
        {"name": "customer", "fields": [
            _field("id", "user.unique_id", primary_key=True), _field("email", "user.contact.email", identity="email"),
            _field("name", "user.name"), _field("address_id", **_ref("address.id", "to"))]},
        {"name": "orders", "fields": [
            _field("id", primary_key=True), _field("customer_id", **_ref("customer.id", "from")),
            _field("shipping_address_id", **_ref("address.id", "to"))]},
        {"name": "policy_holder", "fields": [
            _field("policy_id", **_ref("policy.id", "to")), _field("customer_id", **_ref("customer.id", "from"))]},
        {"name": "policy", "fields": [_field("id", primary_key=True), _field("number", "user.unique_id")]},
        {"name": "ticket", "fields": [
            _field("id", primary_key=True), _field("email", "user.contact.email", identity="email"),
            _field("cc_email", "user.contact.email", identity="email"), _field("subject", "user.content")]},
    ],
}


def write_dataset(directory: Path, dataset: dict, name: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.yml"
    path.write_text(yaml.safe_dump({"dataset": [dataset]}, sort_keys=False), encoding="utf-8")
    return path


def _admin() -> sa.Engine:
    return sa.create_engine(normalise_database_url(PG_URL), isolation_level="AUTOCOMMIT")


@contextlib.contextmanager
def shop_database(backend: str, directory: Path) -> Iterator[str]:
    """The shop's database on ``backend``: a SQLite file, or a PostgreSQL schema of its own; its URL."""
    if backend == "sqlite":
        url = f"sqlite:///{directory / 'shop.sqlite3'}"
        schema = None
    else:
        schema = f"shop_{uuid.uuid4().hex[:10]}"
        admin = _admin()
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        url = _with_search_path(PG_URL, schema)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for statement in SHOP_SQL:
                conn.execute(sa.text(statement))
        engine.dispose()
        yield url
    finally:
        engine.dispose()
        if schema:
            admin = _admin()
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


@contextlib.contextmanager
def fides_example_database() -> Iterator[str]:
    """Fides' example database, as ``postgres_sample.sql`` makes it, in a new PostgreSQL database; its URL."""
    name = f"dsr_fides_{uuid.uuid4().hex[:10]}"
    admin = _admin()
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(normalise_database_url(PG_URL)).set(database=name).render_as_string(hide_password=False)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql((FIXTURES / "postgres_sample.sql").read_text(encoding="utf-8"))
        engine.dispose()
        yield url
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def table_rows(url: str, schema: str = "public") -> dict[str, Counter]:
    """Every row of every table in ``schema`` as PostgreSQL writes it out (``row::text``): compared before
    and after an erasure, byte for byte."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            tables = conn.execute(sa.text("SELECT table_name FROM information_schema.tables "
                                          "WHERE table_schema = :s ORDER BY table_name"), {"s": schema}).scalars()
            preparer = conn.dialect.identifier_preparer
            return {name: Counter(conn.execute(sa.text(
                f"SELECT t::text FROM {preparer.quote(schema)}.{preparer.quote(name)} t")).scalars())  # noqa: S608
                for name in list(tables)}
    finally:
        engine.dispose()


def row_text(url: str, sql: str, **params) -> str:
    """One row's ``row::text`` (``sql`` selects ``t::text`` from a table aliased ``t``)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar_one()
    finally:
        engine.dispose()
