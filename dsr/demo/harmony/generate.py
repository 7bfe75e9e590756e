"""Fill the demo database that plays Harmony's systems with realistic, deterministic data.

``generate(url, customers=2000, seed=2018, today=...)`` drops and recreates the tables of
:mod:`dsr.demo.harmony.schema` and fills them in bulk (one ``executemany`` per table). The data are shaped so
every rule of the privacy statement and of DESIGN.md "Retention and exemptions" has cases on both sides:

* policies started up to 9 years before ``today``, active and ended, so invoices and premium payments span
  9 years and some are past the statutory 7-year fiscal retention ("de bewaartermijn van 7 jaar voor
  facturen");
* call recordings over the last 200 days, so some are past the 180 days the statement allows ("opgenomen
  telefoongesprekken maximaal 180 dagen"): those should not exist, and dsr must report them;
* open and settled claims (data needed to perform the contract while a claim runs);
* marketing subscriptions (purpose 5), portal accounts (purpose 2), fraud and non-payment incidents with a
  stated retention end (purpose 6) and survey invitations handed to Focus Feedback (purpose 7);
* after the random customers, a few made to show one rule each (:meth:`_Builder.showcase`): customers whose
  invoices all fall in the book year eight, seven and one years ago (fiscal retention runs seven years from
  the end of the book year), and a customer whose home is another customer's correspondence address.

With ``objects_dir``, each call recording's audio is written there as a small real WAV file, at its
``storage_uri`` in a local object store (:mod:`dsr.datamap.objects`), so that erasing it can be seen.

The same ``seed`` and ``today`` give the same rows; nothing reads the wall clock.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta

from dsr.datamap.objects import LocalObjectStore
from dsr.demo.harmony import identifiers as ids
from dsr.demo.harmony.audio import recording_wav
from dsr.demo.harmony.people import Person, PersonFactory
from dsr.demo.harmony.schema import metadata

YEARS_OF_HISTORY = 9
RECORDING_WINDOW_DAYS = 200
# Demo retention periods of the internal incident register (purpose 6): stated per incident.
INCIDENT_RETENTION = {"fraud": relativedelta(years=8), "non_payment": relativedelta(years=5)}
RISK_BEARERS = ("Maasstad Schadeverzekeringen N.V.", "Noordzee Risk Europe SE")
SALES_CHANNELS = ("direct", "web", "partner:TeleDirect", "partner:GadgetPlaza", "partner:BelCom")
PRODUCTS = {  # kind: (weight, brands and models, monthly premium range in cents, carries an IMEI)
    "phone": (60, (("Apple", "iPhone 14"), ("Apple", "iPhone 15 Pro"), ("Samsung", "Galaxy S23"),
                   ("Samsung", "Galaxy A54"), ("Google", "Pixel 8"), ("Fairphone", "Fairphone 5")),
              (699, 1499), True),
    "tablet": (15, (("Apple", "iPad Air"), ("Samsung", "Galaxy Tab S9")), (599, 1199), True),
    "laptop": (15, (("Apple", "MacBook Air M2"), ("Lenovo", "ThinkPad X1"), ("HP", "EliteBook 840")),
               (899, 1899), False),
    "smartwatch": (10, (("Apple", "Watch Series 9"), ("Garmin", "Venu 3")), (399, 799), True),
}
CLAIM_TEXT = {  # kind: {letter language: what a customer writes in the claim form}
    "damage": {"nl": ("Toestel gevallen, scherm gebarsten.", "Waterschade na val in de gracht."),
               "fr": ("Écran cassé après une chute.", "Tombé dans l'eau, ne s'allume plus."),
               "en": ("Screen cracked, touch no longer responds.", "Dropped in the bath, will not charge.")},
    "theft": {"nl": ("Gestolen uit tas in de trein, aangifte gedaan.",),
              "fr": ("Volé dans la voiture, plainte déposée.",),
              "en": ("Pickpocketed at the station, police report attached.",)},
    "loss": {"nl": ("Verloren tijdens vakantie.",), "fr": ("Perdu au festival.",),
             "en": ("Left in a taxi, not returned.",)},
}
REPAIRERS = {"NL": ("FixPoint Rotterdam", "Telerepair Utrecht"), "BE": ("GSM Atelier Gent", "Réparo Namur"),
             "GB": ("QuickFix London",)}
INCIDENT_TEXT = {
    "fraud": ("Schademelding voor toestel dat eerder als gestolen gemeld was.",
              "Aankoopbon bij claim bleek vervalst."),
    "non_payment": ("Drie premie-incasso's gestorneerd, dossier naar incassobureau.",
                    "Premieachterstand meer dan 90 dagen."),
}
CALL_REASONS = ("claim_status", "new_claim", "change_address", "cancel_policy", "premium_question",
                "portal_login", "complaint")
# Quarter boundaries counted from the policy start (not chained, so the 31st does not drift to the 28th).
_QUARTERS = [relativedelta(months=3 * n) for n in range(4 * YEARS_OF_HISTORY + 8)]
AGENTS = ("agent-0147", "agent-0203", "agent-0311", "agent-0420", "agent-0518", "agent-0609")


@dataclass(frozen=True)
class GenerationReport:
    """What was written: rows per table and the date range that matters for retention checks."""

    url: str
    seed: int
    today: date
    counts: dict[str, int]
    oldest_invoice: date | None
    oldest_recording: datetime | None


@dataclass
class _Rows:
    tables: dict[str, list[dict]] = field(default_factory=lambda: {t.name: [] for t in metadata.sorted_tables})

    def add(self, table: str, **row) -> int:
        rows = self.tables[table]
        row["id"] = len(rows) + 1
        rows.append(row)
        return row["id"]


def _at(day: date, rng: random.Random, start_hour: int = 8, end_hour: int = 20) -> datetime:
    seconds = rng.randint(start_hour * 3600, end_hour * 3600 - 1)
    return datetime.combine(day, time(seconds // 3600, seconds // 60 % 60, seconds % 60), tzinfo=UTC)


class _Builder:
    def __init__(self, seed: int, today: date) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.people = PersonFactory(seed, self.rng)
        self.rows = _Rows()

    def days_ago(self, low: int, high: int) -> date:
        return self.today - timedelta(days=self.rng.randint(low, high))

    def customer(self, index: int) -> None:
        rng, person = self.rng, self.people.person(self.today)
        n_policies = rng.choices((1, 2, 3), weights=(70, 25, 5))[0]
        # The first customer is the oldest, so the data always reach back the full nine years.
        starts = sorted(self.today - relativedelta(years=YEARS_OF_HISTORY) if index == 0 and n == 0
                        else self.days_ago(10, YEARS_OF_HISTORY * 365 - 1) for n in range(n_policies))
        customer_id = self.rows.add(
            "customers", customer_number=ids.customer_number(index + 1), first_name=person.first_name,
            last_name=person.last_name, gender=person.gender, date_of_birth=person.date_of_birth,
            street=person.street, house_number=person.house_number, postcode=person.postcode,
            city=person.city, country=person.country, email=person.email, phone=person.phone,
            language=person.language, sales_channel=rng.choice(SALES_CHANNELS),
            created_on=starts[0] - timedelta(days=rng.randint(0, 14)))
        number = ids.customer_number(index + 1)
        policy_ids = [self.policy(customer_id, number, person, start) for start in starts]
        if rng.random() < 0.35:
            self.subscription(customer_id, person.email, starts[0])
        if rng.random() < 0.55:
            self.portal_account(customer_id, person.email, starts[0])
        for kind, share in (("fraud", 0.025), ("non_payment", 0.05)):
            if rng.random() < share:
                self.incident(customer_id, rng.choice(policy_ids), kind, starts[0])
        for _ in range(rng.choices((0, 1, 2, 3), weights=(55, 30, 10, 5))[0]):
            self.call(number, person)

    def policy(self, customer_id: int, customer_number: str, person: Person, start: date, *,
               end: date | None | str = "random", correspondence_address_id: int | None = None) -> int:
        rng = self.rng
        kind = rng.choices(list(PRODUCTS), weights=[p[0] for p in PRODUCTS.values()])[0]
        _w, models, premium_range, has_imei = PRODUCTS[kind]
        if end == "random":
            end = None
            if (self.today - start).days > 200 and rng.random() < 0.4:
                end = start + timedelta(days=rng.randint(180, (self.today - start).days - 1))
        premium = rng.randint(*premium_range)
        seq = len(self.rows.tables["policies"]) + 1
        iban = ids.bank_account(rng, person.country)
        policy_id = self.rows.add(
            "policies", policy_number=ids.policy_number(seq), customer_id=customer_id,
            correspondence_address_id=correspondence_address_id, product=kind,
            coverage=rng.choice(("damage_theft", "damage")), monthly_premium_cents=premium,
            start_date=start, end_date=end, status="ended" if end else "active", iban=iban,
            account_holder=person.account_holder, risk_bearer=rng.choice(RISK_BEARERS))
        brand, model = rng.choice(models)
        device_id = self.rows.add(
            "devices", policy_id=policy_id, kind=kind, brand=brand, model=model,
            imei=ids.imei(rng) if has_imei and (kind != "tablet" or rng.random() < 0.5) else None,
            serial_number=ids.serial_number(rng), purchase_date=start - timedelta(days=rng.randint(0, 60)),
            purchase_price_cents=premium * rng.randint(60, 110))
        self.invoices(policy_id, customer_id, person, start, end or self.today, premium, iban)
        for _ in range(rng.choices((0, 1, 2), weights=(62, 30, 8))[0]):
            self.claim(policy_id, device_id, start, end or self.today, customer_number, person)
        return policy_id

    def invoices(self, policy_id, customer_id, person, start, end, premium, iban) -> None:
        """Quarterly invoices from the start of the policy until it ended (or today), each paid by direct
        debit or iDEAL a few days later unless it is not yet due."""
        rng, rows, quarter = self.rng, self.rows, 0
        period = start
        while period <= end:
            quarter += 1
            next_period = start + _QUARTERS[quarter]
            invoice_id = rows.add(
                "invoices", invoice_number=ids.invoice_number(len(rows.tables["invoices"]) + 1, period.year),
                policy_id=policy_id, customer_id=customer_id, issued_on=period, period_start=period,
                period_end=next_period - timedelta(days=1), amount_cents=premium * 3,
                addressee_name=person.full_name, addressee_address=person.address_line)
            paid_on = period + timedelta(days=rng.randint(1, 20))
            if paid_on < self.today:
                rows.add(
                    "premium_payments", invoice_id=invoice_id, policy_id=policy_id, paid_on=paid_on,
                    amount_cents=premium * 3, method="ideal" if rng.random() < 0.15 else "sepa_dd",
                    iban=iban, account_holder=person.account_holder,
                    status="reversed" if rng.random() < 0.03 else "collected")
            period = next_period

    def claim(self, policy_id: int, device_id: int, start: date, end: date,
              customer_number: str, person: Person) -> None:
        rng = self.rng
        reported = start + timedelta(days=rng.randint(min(30, (end - start).days), max((end - start).days, 0)))
        settled = reported + timedelta(days=rng.randint(5, 45))
        recent = (self.today - reported).days < 60
        status = "open" if settled >= self.today or (recent and rng.random() < 0.75) else \
            rng.choices(("settled", "rejected"), (85, 15))[0]
        kind = rng.choices(("damage", "theft", "loss"), (70, 22, 8))[0]
        seq = len(self.rows.tables["claims"]) + 1
        self.rows.add(
            "claims", claim_number=ids.claim_number(seq, reported.year), policy_id=policy_id,
            device_id=device_id, reported_on=reported, kind=kind, description=rng.choice(CLAIM_TEXT[kind][person.language]),
            status=status, settled_on=None if status == "open" else settled,
            settlement_number=ids.settlement_number(seq, settled.year) if status == "settled" else None,
            payout_cents=rng.randint(8_000, 120_000) if status == "settled" else None,
            repairer=rng.choice(REPAIRERS[person.country]) if kind == "damage" else None)
        if status == "settled" and (self.today - settled).days < 365 and rng.random() < 0.5:
            self.survey(settled, "claim_settled", None, customer_number, person)

    def subscription(self, customer_id: int | None, email: str, since: date) -> None:
        rng = self.rng
        consent = _at(since + timedelta(days=rng.randint(0, max((self.today - since).days - 1, 0))), rng)
        left = consent + timedelta(days=rng.randint(30, 900)) if rng.random() < 0.2 else None
        self.rows.add(
            "marketing_subscriptions", customer_id=customer_id, email=email,
            topic=rng.choice(("newsletter", "product_offers")), consent_at=consent,
            consent_source=rng.choice(("web_form", "portal", "checkout")),
            unsubscribed_at=left if left and left.date() < self.today else None)

    def portal_account(self, customer_id: int, email: str, since: date) -> None:
        rng = self.rng
        created = _at(since + timedelta(days=rng.randint(0, 30)), rng, 0, 24)
        last = _at(self.days_ago(0, 400), rng, 0, 24) if rng.random() < 0.9 else None
        salt, digest = rng.randbytes(16).hex(), rng.randbytes(32).hex()
        self.rows.add(
            "portal_accounts", customer_id=customer_id, username=email,
            password_hash=f"$argon2id$v=19$m=65536,t=3,p=4${salt}${digest}", created_at=created,
            last_login_at=last if last and last > created else None,
            last_login_ip=f"{rng.randint(77, 213)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}."
                          f"{rng.randint(1, 254)}" if last else None,
            mfa_enabled=rng.random() < 0.3)

    def incident(self, customer_id: int, policy_id: int, kind: str, since: date) -> None:
        registered = since + timedelta(days=self.rng.randint(0, max((self.today - since).days - 1, 0)))
        self.rows.add(
            "incidents", customer_id=customer_id, policy_id=policy_id, kind=kind, registered_on=registered,
            description=self.rng.choice(INCIDENT_TEXT[kind]),
            retention_until=registered + INCIDENT_RETENTION[kind])

    def call(self, customer_number: str | None, person: Person | None, days_ago: int | None = None) -> None:
        rng = self.rng
        started = _at(self.today - timedelta(days=days_ago if days_ago is not None
                                             else rng.randint(0, RECORDING_WINDOW_DAYS - 1)), rng)
        seq = len(self.rows.tables["call_recordings"]) + 1
        ref = ids.recording_ref(seq, started.year)
        recording_id = self.rows.add(
            "call_recordings", recording_ref=ref, customer_number=customer_number,
            caller_phone=person.phone if person and rng.random() < 0.85 else None, started_at=started,
            duration_seconds=rng.randint(35, 1800), direction=rng.choices(("inbound", "outbound"), (80, 20))[0],
            agent=rng.choice(AGENTS), reason=rng.choice(CALL_REASONS),
            storage_uri=f"s3://harmony-cc-recordings/{started:%Y/%m/%d}/{ref}.wav")
        if customer_number and person and rng.random() < 0.25:
            self.survey(started.date(), "call", recording_id, customer_number, person)

    def showcase_customer(self, index: int, policies: list[tuple[date, date | None]], *,
                          correspondence_address_id: int | None = None, calls: int = 0,
                          survey: bool = False) -> tuple[int, str, Person]:
        """A customer with exactly the policies given (start, end or None while active), ``calls``
        recorded calls in the last weeks and, with ``survey``, an invitation handed to Focus Feedback."""
        person = self.people.person(self.today)
        number = ids.customer_number(index + 1)
        customer_id = self.rows.add(
            "customers", customer_number=number, first_name=person.first_name, last_name=person.last_name,
            gender=person.gender, date_of_birth=person.date_of_birth, street=person.street,
            house_number=person.house_number, postcode=person.postcode, city=person.city, country=person.country,
            email=person.email, phone=person.phone, language=person.language, sales_channel="direct",
            created_on=policies[0][0] - timedelta(days=7))
        for start, end in policies:
            self.policy(customer_id, number, person, start, end=end,
                        correspondence_address_id=correspondence_address_id)
        for n in range(calls):
            self.call(number, person, days_ago=12 + 9 * n)
        if survey:
            self.survey(self.today - timedelta(days=12), "call", None, number, person)
        return customer_id, number, person

    def showcase(self, first_index: int) -> None:
        """Customers that each show one rule of the statement, whatever the random draw gave.

        * Three customers whose one policy ran within a single book year, eight, seven and one years ago:
          statutory fiscal retention keeps invoices and premium payments seven years from the *end* of the
          book year (BW 2:10(3)), so the first are due for erasure, the second kept until 31 December of
          this year (counted from the invoice date they would be erased too early), the third for years.
        * A customer whose home is another customer's correspondence address (a parent's home, where the
          letters about a student's policy go): the address is both theirs, and an erasure for either of
          them must not remove it. The second customer has recorded calls (with their audio) and a survey
          invitation sent to Focus Feedback, the processor.
        """
        index = first_index
        for years_ago in (8, 7, 1):
            year = self.today.year - years_ago
            self.showcase_customer(index, [(date(year, 1, 10), date(year, 12, 20))])
            index += 1
        parent_id, _number, parent = self.showcase_customer(
            index, [(self.today - relativedelta(years=3), None)], calls=1)
        home = self.rows.add("addresses", customer_id=parent_id, street=parent.street,
                             house_number=parent.house_number, postcode=parent.postcode, city=parent.city,
                             country=parent.country)
        self.showcase_customer(index + 1, [(self.today - relativedelta(years=2), None)],
                               correspondence_address_id=home, calls=2, survey=True)

    def survey(self, day: date, trigger: str, recording_id: int | None, customer_number: str,
               person: Person) -> None:
        """An invitation handed to Focus Feedback, which runs Harmony's weekly satisfaction surveys."""
        self.rows.add(
            "survey_invitations", token=self.rng.randbytes(16).hex(), customer_number=customer_number,
            email=person.email, language=person.language, call_recording_id=recording_id, trigger=trigger,
            sent_at=_at(min(day + timedelta(days=1), self.today), self.rng), processor="Focus Feedback")


SHOWCASE_CUSTOMERS = 5  # made by _Builder.showcase, after the random ones


def generate(url: str, *, customers: int = 2000, seed: int = 2018, today: date,
             objects_dir: str | Path | None = None) -> GenerationReport:
    """Drop, recreate and fill the demo systems database at ``url``; return what was written. With
    ``objects_dir``, write each call's audio into the local object store there."""
    builder = _Builder(seed, today)
    for index in range(customers):
        builder.customer(index)
    for _ in range(max(customers // 20, 1)):  # prospects: subscribed to the newsletter, not customers
        builder.subscription(None, builder.people.person(today).email, today - timedelta(days=3 * 365))
    for _ in range(max(customers // 15, 1)):  # callers who gave no customer number
        builder.call(None, None)
    builder.call(None, None, days_ago=RECORDING_WINDOW_DAYS - 1)  # the statement's 180 days, overstepped
    builder.showcase(customers)
    tables = builder.rows.tables
    if objects_dir is not None:
        store = LocalObjectStore(objects_dir)
        for row in tables["call_recordings"]:
            store.put(row["storage_uri"], recording_wav(row["id"]))
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            metadata.drop_all(conn)
            metadata.create_all(conn)
            for table in metadata.sorted_tables:
                if tables[table.name]:
                    conn.execute(table.insert(), tables[table.name])
    finally:
        engine.dispose()
    return GenerationReport(
        url=url, seed=seed, today=today, counts={name: len(rows) for name, rows in tables.items()},
        oldest_invoice=min((r["issued_on"] for r in tables["invoices"]), default=None),
        oldest_recording=min((r["started_at"] for r in tables["call_recordings"]), default=None))
