"""The tables of Harmony's own systems, as the embedded demo plays them.

These tables are *not* dsr's: they live on their own ``MetaData`` in a separate SQLite database (config
``DEMO_SYSTEMS_URL``), are never part of dsr's Alembic metadata, and dsr reaches them only through the
data map (``dsr/datamap/datasets/*.yml``), as it would reach a real system.

Two systems share the demo database:

* the **policy administration system** (PAS): customers, policies, devices, claims, invoices, premium
  payments, marketing subscriptions, portal accounts and the internal incident register. The privacy
  statement lists these data: personal and contact data, policy data (customer and policy number),
  financial data (bank account and the name it is held in), product data (IMEI or serial number), login
  data of the customer portal, and records of incidents such as non-payment or fraud (purpose 6);
  A policy's letters may go to a correspondence address in ``addresses`` (a parent's home, an
  intermediary's office), which may be another customer's home: such an address belongs to two people;
* the **contact-centre system**: metadata of recorded calls (purpose 7, kept at most 180 days; the audio
  itself sits in object storage at ``storage_uri``, a small WAV file per call in the demo's local object
  store) and the survey invitations handed to Focus Feedback.

A customer is anonymised rather than deleted when an erasure leaves invoices under fiscal retention, so
the personal columns of ``customers`` that the data map erases by setting null are nullable.

The contact centre knows a caller by the customer number the agent typed in, not by a foreign key: the two
systems are separate applications, as they would be at Harmony. Amounts are integer euro cents.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=False)


def _fk(name: str, target: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Integer, sa.ForeignKey(target), nullable=nullable, index=True)


# --- Policy administration system -------------------------------------------------------------------

customers = sa.Table(
    "customers", metadata, _id(),
    sa.Column("customer_number", sa.String(12), nullable=False, unique=True),
    sa.Column("first_name", sa.String(80), nullable=False),
    sa.Column("last_name", sa.String(120), nullable=False),
    sa.Column("gender", sa.String(1)),
    sa.Column("date_of_birth", sa.Date, index=True),
    sa.Column("street", sa.String(160), nullable=False),
    sa.Column("house_number", sa.String(12)),
    sa.Column("postcode", sa.String(12), index=True),
    sa.Column("city", sa.String(120)),
    sa.Column("country", sa.String(2)),
    sa.Column("email", sa.String(254), index=True),
    sa.Column("phone", sa.String(40)),
    sa.Column("language", sa.String(2)),
    sa.Column("sales_channel", sa.String(40), nullable=False),
    sa.Column("created_on", sa.Date, nullable=False),
    # Restriction of processing (Art. 18): set while the record may only be stored, not used (dsr sets it).
    sa.Column("restricted_since", sa.DateTime(timezone=True)),
    sa.CheckConstraint("gender IN ('F', 'M', 'X')", name="gender"),
    sa.CheckConstraint("language IN ('nl', 'fr', 'en')", name="language"),
)

# Postal addresses letters are sent to when they do not go to the policyholder's own home (a parent's
# home for a student's policy, an intermediary's office), with the customer who lives there, if one does.
addresses = sa.Table(
    "addresses", metadata, _id(),
    _fk("customer_id", "customers.id", nullable=True),
    sa.Column("street", sa.String(160), nullable=False),
    sa.Column("house_number", sa.String(12)),
    sa.Column("postcode", sa.String(12)),
    sa.Column("city", sa.String(120)),
    sa.Column("country", sa.String(2)),
)

policies = sa.Table(
    "policies", metadata, _id(),
    sa.Column("policy_number", sa.String(12), nullable=False, unique=True),
    _fk("customer_id", "customers.id"),
    _fk("correspondence_address_id", "addresses.id", nullable=True),
    sa.Column("product", sa.String(40), nullable=False),
    sa.Column("coverage", sa.String(40), nullable=False),
    sa.Column("monthly_premium_cents", sa.Integer, nullable=False),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("end_date", sa.Date),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("iban", sa.String(34), nullable=False),
    sa.Column("account_holder", sa.String(160), nullable=False),
    sa.Column("risk_bearer", sa.String(80), nullable=False),
    sa.Column("restricted", sa.Boolean, nullable=False, server_default=sa.false()),  # Art. 18, set by dsr
    sa.CheckConstraint("status IN ('active', 'ended')", name="status"),
    sa.CheckConstraint("(status = 'ended') = (end_date IS NOT NULL)", name="ended_has_end_date"),
)

devices = sa.Table(
    "devices", metadata, _id(),
    _fk("policy_id", "policies.id"),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("brand", sa.String(40), nullable=False),
    sa.Column("model", sa.String(60), nullable=False),
    sa.Column("imei", sa.String(15), index=True),
    sa.Column("serial_number", sa.String(20), nullable=False),
    sa.Column("purchase_date", sa.Date, nullable=False),
    sa.Column("purchase_price_cents", sa.Integer, nullable=False),
)

claims = sa.Table(
    "claims", metadata, _id(),
    sa.Column("claim_number", sa.String(14), nullable=False, unique=True),
    _fk("policy_id", "policies.id"),
    _fk("device_id", "devices.id"),
    sa.Column("reported_on", sa.Date, nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("settled_on", sa.Date),
    sa.Column("settlement_number", sa.String(16), unique=True),
    sa.Column("payout_cents", sa.Integer),
    sa.Column("repairer", sa.String(80)),
    sa.Column("restricted_since", sa.Date),  # Art. 18, set by dsr
    sa.CheckConstraint("kind IN ('damage', 'theft', 'loss')", name="kind"),
    sa.CheckConstraint("status IN ('open', 'settled', 'rejected')", name="status"),
    sa.CheckConstraint("(status = 'open') = (settled_on IS NULL)", name="settled_has_date"),
    sa.CheckConstraint("(status = 'settled') = (settlement_number IS NOT NULL)", name="settled_has_number"),
)

invoices = sa.Table(
    "invoices", metadata, _id(),
    sa.Column("invoice_number", sa.String(16), nullable=False, unique=True),
    _fk("policy_id", "policies.id"),
    _fk("customer_id", "customers.id"),
    sa.Column("issued_on", sa.Date, nullable=False),
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column("period_end", sa.Date, nullable=False),
    sa.Column("amount_cents", sa.Integer, nullable=False),
    sa.Column("addressee_name", sa.String(200), nullable=False),
    sa.Column("addressee_address", sa.String(300), nullable=False),
)

premium_payments = sa.Table(
    "premium_payments", metadata, _id(),
    _fk("invoice_id", "invoices.id"),
    _fk("policy_id", "policies.id"),
    sa.Column("paid_on", sa.Date, nullable=False),
    sa.Column("amount_cents", sa.Integer, nullable=False),
    sa.Column("method", sa.String(12), nullable=False),
    sa.Column("iban", sa.String(34), nullable=False),
    sa.Column("account_holder", sa.String(160), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.CheckConstraint("status IN ('collected', 'reversed')", name="status"),
)

marketing_subscriptions = sa.Table(
    "marketing_subscriptions", metadata, _id(),
    _fk("customer_id", "customers.id", nullable=True),
    sa.Column("email", sa.String(254), nullable=False, index=True),
    sa.Column("topic", sa.String(30), nullable=False),
    sa.Column("consent_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("consent_source", sa.String(30), nullable=False),
    sa.Column("unsubscribed_at", sa.DateTime(timezone=True)),
)

portal_accounts = sa.Table(
    "portal_accounts", metadata, _id(),
    _fk("customer_id", "customers.id"),
    sa.Column("username", sa.String(254), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_login_at", sa.DateTime(timezone=True)),
    sa.Column("last_login_ip", sa.String(45)),
    sa.Column("mfa_enabled", sa.Boolean, nullable=False),
)

incidents = sa.Table(
    "incidents", metadata, _id(),
    _fk("customer_id", "customers.id"),
    _fk("policy_id", "policies.id", nullable=True),
    sa.Column("kind", sa.String(12), nullable=False),
    sa.Column("registered_on", sa.Date, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("retention_until", sa.Date, nullable=False),
    sa.CheckConstraint("kind IN ('fraud', 'non_payment')", name="kind"),
    sa.CheckConstraint("retention_until > registered_on", name="retention_after_registration"),
)

# --- Contact-centre system -------------------------------------------------------------------------

call_recordings = sa.Table(
    "call_recordings", metadata, _id(),
    sa.Column("recording_ref", sa.String(24), nullable=False, unique=True),
    sa.Column("customer_number", sa.String(12), index=True),
    sa.Column("caller_phone", sa.String(40)),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("duration_seconds", sa.Integer, nullable=False),
    sa.Column("direction", sa.String(8), nullable=False),
    sa.Column("agent", sa.String(40), nullable=False),
    sa.Column("reason", sa.String(40), nullable=False),
    sa.Column("storage_uri", sa.String(300), nullable=False),
    sa.CheckConstraint("direction IN ('inbound', 'outbound')", name="direction"),
)

survey_invitations = sa.Table(
    "survey_invitations", metadata, _id(),
    sa.Column("token", sa.String(32), nullable=False, unique=True),
    sa.Column("customer_number", sa.String(12), nullable=False, index=True),
    sa.Column("email", sa.String(254), nullable=False, index=True),
    sa.Column("language", sa.String(2), nullable=False),
    _fk("call_recording_id", "call_recordings.id", nullable=True),
    sa.Column("trigger", sa.String(20), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("processor", sa.String(40), nullable=False),
)

POLICY_ADMINISTRATION = (customers, addresses, policies, devices, claims, invoices, premium_payments,
                         marketing_subscriptions, portal_accounts, incidents)
CONTACT_CENTRE = (call_recordings, survey_invitations)
