"""Pick real customers of the demo systems for demo cases, so every right can be exercised end to end.

``sample_subjects(url, k, seed)`` reads the demo database (read-only) and returns the identities a subject
would write in a letter, for a spread of situations that the retention rules treat differently
(DESIGN.md, "Retention and exemptions"): an active policy (kept to perform the contract), only ended
policies, an open claim, a marketing subscriber (erased and suppressed on objection, Art. 21(3)), invoices
older than 7 years (past the fiscal retention), a fraud incident (kept under the incident register's
retention, purpose 6), last invoices eight, seven and one book years ago (fiscal retention counts from the
end of the book year) and a home that is another customer's correspondence address (shared: never erased
without a person deciding). Each subject is a different customer; the choice is deterministic for a seed.
"""

from __future__ import annotations

import random
from datetime import date

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta

from dsr.datamap.lookup import open_readonly
from dsr.demo.harmony.schema import (
    addresses,
    claims,
    customers,
    devices,
    incidents,
    invoices,
    marketing_subscriptions,
    policies,
)

PROFILES = ("active_policy", "ended_policy", "open_claim", "marketing_subscriber", "old_invoices", "fraud_incident",
            "invoices_8_book_years_ago", "invoices_7_book_years_ago", "invoices_1_book_year_ago",
            "address_shared")
# Profiles whose demo case asks for erasure: each shows a rule an erasure must follow (issue 13, item 12).
ERASURE_PROFILES = frozenset({"invoices_8_book_years_ago", "invoices_7_book_years_ago", "invoices_1_book_year_ago",
                              "address_shared"})
FISCAL_RETENTION = relativedelta(years=7)


def _last_invoice_in_book_year(year: int, active: sa.Select) -> sa.Select:
    """Customers with no active policy whose last invoice falls in calendar (= book) year ``year``."""
    return (sa.select(invoices.c.customer_id).where(invoices.c.customer_id.not_in(active))
            .group_by(invoices.c.customer_id)
            .having(sa.func.max(invoices.c.issued_on).between(date(year, 1, 1), date(year, 12, 31))))


def _profile_queries(today: date) -> dict[str, sa.Select]:
    active = sa.select(policies.c.customer_id).where(policies.c.status == "active")
    # A customer's home (addresses.customer_id) that is another customer's correspondence address.
    shared_home = (sa.select(addresses.c.customer_id).join(policies, policies.c.correspondence_address_id == addresses.c.id)
                   .where(addresses.c.customer_id.is_not(None), policies.c.customer_id != addresses.c.customer_id))
    return {
        "active_policy": active,
        "ended_policy": sa.select(policies.c.customer_id).where(policies.c.customer_id.not_in(active)),
        "open_claim": sa.select(policies.c.customer_id)
        .join(claims, claims.c.policy_id == policies.c.id).where(claims.c.status == "open"),
        "marketing_subscriber": sa.select(marketing_subscriptions.c.customer_id).where(
            marketing_subscriptions.c.customer_id.is_not(None), marketing_subscriptions.c.unsubscribed_at.is_(None)),
        "old_invoices": sa.select(invoices.c.customer_id).where(invoices.c.issued_on < today - FISCAL_RETENTION),
        "fraud_incident": sa.select(incidents.c.customer_id).where(incidents.c.kind == "fraud"),
        "invoices_8_book_years_ago": _last_invoice_in_book_year(today.year - 8, active),
        "invoices_7_book_years_ago": _last_invoice_in_book_year(today.year - 7, active),
        "invoices_1_book_year_ago": _last_invoice_in_book_year(today.year - 1, active),
        "address_shared": shared_home,
    }


def _identity(conn: sa.Connection, customer_id: int, profile: str) -> dict:
    row = conn.execute(sa.select(customers).where(customers.c.id == customer_id)).mappings().one()
    policy = conn.execute(
        sa.select(policies.c.id, policies.c.policy_number).where(policies.c.customer_id == customer_id)
        .order_by((policies.c.status == "active").desc(), policies.c.id)).first()
    imei = conn.execute(sa.select(devices.c.imei).where(
        devices.c.policy_id.in_(sa.select(policies.c.id).where(policies.c.customer_id == customer_id)),
        devices.c.imei.is_not(None)).order_by(devices.c.id)).scalar()
    return {
        "profile": profile,
        "customer_number": row["customer_number"],
        "policy_number": policy.policy_number if policy else None,
        "name": f"{row['first_name']} {row['last_name']}",
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "gender": row["gender"],
        "date_of_birth": row["date_of_birth"],
        "address": f"{row['street']} {row['house_number']}",
        "postcode": row["postcode"],
        "city": row["city"],
        "country": row["country"],
        "email": row["email"],
        "phone": row["phone"],
        "language": row["language"],
        "imei": imei,
    }


def sample_subjects(url: str, k: int, seed: int, *, today: date | None = None) -> list[dict]:
    """``k`` distinct demo customers, cycling through :data:`PROFILES`; ``today`` defaults to the date of
    the latest invoice, which is the day the demo data were generated for."""
    rng = random.Random(seed)
    engine = open_readonly(url)
    try:
        with engine.connect() as conn:
            today = today or conn.execute(sa.select(sa.func.max(invoices.c.issued_on))).scalar()
            if today is None:
                return []
            candidates = {name: sorted(set(conn.execute(query).scalars()))
                          for name, query in _profile_queries(today).items()}
            chosen: list[tuple[int, str]] = []
            taken: set[int] = set()
            while len(chosen) < k:
                progress = False
                for profile in PROFILES:
                    pool = [c for c in candidates[profile] if c not in taken]
                    if pool and len(chosen) < k:
                        pick = rng.choice(pool)
                        taken.add(pick)
                        chosen.append((pick, profile))
                        progress = True
                if not progress:
                    break
            return [_identity(conn, customer_id, profile) for customer_id, profile in chosen]
    finally:
        engine.dispose()
