"""Helpers for tests that search Harmony's demo systems: a small generated database and what it holds.

Not a conftest: plain functions, read with plain SQL, so a test's expectations never come from the lookup
code under test.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from dsr.auth.models import User
from dsr.demo.harmony import generate
from dsr.domain.enums import Role
from dsr.extensions import db


def demo_systems(tmp_path_factory, today: date, customers: int = 200) -> str:
    """Generate a demo systems database in a temporary directory; its SQLAlchemy URL."""
    url = f"sqlite:///{tmp_path_factory.mktemp('harmony') / 'harmony.sqlite3'}"
    generate(url, customers=customers, seed=2018, today=today)
    return url


def private_copy(harmony_url: str, tmp_path: Path) -> str:
    """A copy of the demo systems database for one test, its SQLAlchemy URL: for tests that change the demo
    systems (erasure, corrections, stopping marketing), so that the module's generated original stays as it was."""
    copy = tmp_path / "harmony-copy.sqlite3"
    shutil.copy(sa.make_url(harmony_url).database, copy)
    return f"sqlite:///{copy}"


def rows(url: str, sql: str, **params) -> list[dict]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.text(sql), params).mappings()]
    finally:
        engine.dispose()


def execute(url: str, sql: str, **params) -> None:
    """Change the demo systems with plain SQL (a test setting up what it needs there), committed."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(sql), params)
    finally:
        engine.dispose()


def customer_with_everything(url: str) -> dict:
    """The first customer with records in every collection of both SQL systems, and an e-mail address no
    other customer or subscription uses (so an e-mail match finds only theirs)."""
    return rows(url, """
        SELECT c.* FROM customers c
        WHERE EXISTS (SELECT 1 FROM call_recordings r WHERE r.customer_number = c.customer_number)
          AND EXISTS (SELECT 1 FROM survey_invitations s WHERE s.customer_number = c.customer_number)
          AND EXISTS (SELECT 1 FROM marketing_subscriptions m WHERE m.customer_id = c.id)
          AND EXISTS (SELECT 1 FROM portal_accounts p WHERE p.customer_id = c.id)
          AND EXISTS (SELECT 1 FROM incidents i WHERE i.customer_id = c.id)
          AND NOT EXISTS (SELECT 1 FROM marketing_subscriptions m
                          WHERE lower(m.email) = lower(c.email) AND (m.customer_id IS NULL OR m.customer_id <> c.id))
        ORDER BY c.id LIMIT 1""")[0]


def subject_of(customer: dict, **overrides) -> dict:
    """The identities a customer would write in a letter, as ``make_case`` takes them."""
    details = {"name": f"{customer['first_name']} {customer['last_name']}", "email": customer["email"],
               "customer_number": customer["customer_number"], "policy_number": None,
               "date_of_birth": customer["date_of_birth"], "postcode": customer["postcode"]}
    if isinstance(details["date_of_birth"], str):
        details["date_of_birth"] = date.fromisoformat(details["date_of_birth"])
    details.update(overrides)
    return details


def values_that_must_not_be_stored(url: str, customer: dict) -> list[str]:
    """Field values of the customer's records that are not identities: none may end up in dsr."""
    cid = customer["id"]
    values = [customer["street"], customer["phone"]]
    values += [r["iban"] for r in rows(url, "SELECT iban FROM policies WHERE customer_id = :c", c=cid)]
    values += [r["description"] for r in rows(url, "SELECT description FROM claims WHERE policy_id IN "
                                                   "(SELECT id FROM policies WHERE customer_id = :c)", c=cid)]
    values += [r["password_hash"] for r in rows(url, "SELECT password_hash FROM portal_accounts "
                                                     "WHERE customer_id = :c", c=cid)]
    values += [r["storage_uri"] for r in rows(url, "SELECT storage_uri FROM call_recordings "
                                                   "WHERE customer_number = :n", n=customer["customer_number"])]
    return [str(v) for v in values if v]


class People:
    """dsr's users for one test, one per role asked for (by default the privacy manager and a staff member).

    Kept by id and fetched into whichever session is current: a commit or a request ends the one that made them.
    """

    def __init__(self, *roles: Role):
        from tests.factories import make_user

        self._ids = {role: make_user(role).id for role in roles or (Role.PRIVACY_MANAGER, Role.STAFF)}

    manager = property(lambda self: db.session.get(User, self._ids[Role.PRIVACY_MANAGER]))
    staff = property(lambda self: db.session.get(User, self._ids[Role.STAFF]))
    auditor = property(lambda self: db.session.get(User, self._ids[Role.AUDITOR]))


# -- fixtures for tests that read a confirmed lookup of a demo customer (access, portability) ---------------

def looked_up_case(customer: dict, staff, *, now, confirm: bool = True):
    """A case for ``customer`` with a lookup run (and, by default, its match confirmed) and committed."""
    from datetime import timedelta

    from dsr.extensions import db
    from dsr.fulfilment.lookup_ops import confirm_match, run_lookup
    from tests.factories import make_case

    case = make_case(actor=staff, **subject_of(customer))
    lookup = run_lookup(case, actor=staff, now=now)
    if confirm:
        confirm_match(lookup, actor=staff, now=now + timedelta(minutes=1))
    db.session.commit()
    return case, lookup


def database_digest(url: str) -> str:
    """SHA-256 of a SQLite database file: proof that reading it wrote nothing."""
    import hashlib
    from pathlib import Path

    import sqlalchemy as sa

    return hashlib.sha256(Path(sa.make_url(url).database).read_bytes()).hexdigest()


def review_third_parties(case, manager=None, *, now, choice=None, ground=None) -> int:
    """The privacy manager decides every value of the case's newest lookup that may hold other people's data
    (Art. 15(4)), as the access copy requires before release: released as it is unless ``choice`` says
    otherwise. Returns how many were decided; the caller commits."""
    from dsr.domain.enums import RedactionChoice
    from dsr.fulfilment.lookup_ops import latest_lookup
    from dsr.fulfilment.redaction_ops import decide, pending

    if manager is None:
        from tests.factories import make_user

        manager = db.session.execute(sa.select(User).where(User.role == Role.PRIVACY_MANAGER)).scalars().first() \
            or make_user(Role.PRIVACY_MANAGER, email="reviewer@harmony.test", commit=False)
    lookup = latest_lookup(case)
    waiting = pending(lookup)
    for value in waiting:
        decide(case, lookup, source=value.source, collection=value.collection, key=value.key, field=value.field,
               choice=choice or RedactionChoice.RELEASE, ground=ground, actor=manager, now=now)
    return len(waiting)
