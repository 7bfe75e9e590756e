"""The demo systems show each erasure rule (issue 13, item 12), and the calls' audio is really stored.

Read back with plain SQL and the file system, not with the code under test: customers whose invoices fall in
the book year eight, seven and one years ago; a home that is another customer's correspondence address,
which a lookup for either of them marks shared; a WAV file in the local object store for every recording.
"""

from __future__ import annotations

import io
import wave
from datetime import date

import pytest
import sqlalchemy as sa

from dsr.datamap.lookup import find_everywhere, readonly_engines
from dsr.datamap.objects import LocalObjectStore
from dsr.datamap.sources import SourceKind, load_sources
from dsr.demo.harmony import ERASURE_PROFILES, PROFILES, generate, sample_subjects
from tests.harmony_support import rows

TODAY = date(2026, 11, 26)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    base = tmp_path_factory.mktemp("showcase")
    url = f"sqlite:///{base / 'harmony.sqlite3'}"
    generate(url, customers=60, seed=2018, today=TODAY, objects_dir=base / "objects")
    return url, base / "objects"


def test_every_recording_has_its_audio_in_the_object_store(demo):
    url, objects = demo
    recordings = rows(url, "SELECT id, storage_uri FROM call_recordings")
    assert recordings
    store = LocalObjectStore(objects)
    for recording in recordings:
        assert recording["storage_uri"].startswith("s3://harmony-cc-recordings/")
        with wave.open(io.BytesIO(store.get(recording["storage_uri"]))) as audio:
            assert audio.getnframes() > 0
    files = [p for p in objects.rglob("*") if p.is_file()]
    assert len(files) == len(recordings) and all(p.suffix == ".wav" for p in files)


@pytest.mark.parametrize(("profile", "year"), [
    ("invoices_8_book_years_ago", 2018), ("invoices_7_book_years_ago", 2019), ("invoices_1_book_year_ago", 2025)])
def test_customers_whose_last_invoices_fall_in_one_book_year(demo, profile, year):
    url, _ = demo
    chosen = {s["profile"]: s for s in sample_subjects(url, len(PROFILES), seed=1, today=TODAY)}
    customer = rows(url, "SELECT id FROM customers WHERE customer_number = :n", n=chosen[profile]["customer_number"])[0]
    issued = [date.fromisoformat(str(r["issued_on"])) for r in rows(
        url, "SELECT issued_on FROM invoices WHERE customer_id = :c", c=customer["id"])]
    assert issued and max(issued).year == year
    assert rows(url, "SELECT count(*) AS n FROM policies WHERE customer_id = :c AND status = 'active'",
                c=customer["id"])[0]["n"] == 0
    assert profile in ERASURE_PROFILES
    # The made-to-show customer has all its invoices in that one book year.
    showcase = rows(url, """SELECT c.id FROM customers c WHERE NOT EXISTS (SELECT 1 FROM invoices i
                            WHERE i.customer_id = c.id AND substr(i.issued_on, 1, 4) <> :y)
                            AND EXISTS (SELECT 1 FROM invoices i WHERE i.customer_id = c.id)""", y=str(year))
    assert showcase


def test_a_home_that_is_another_customers_correspondence_address(demo):
    url, _ = demo
    pairs = rows(url, """SELECT a.id AS address, a.customer_id AS resident, p.customer_id AS other
                         FROM addresses a JOIN policies p ON p.correspondence_address_id = a.id
                         WHERE a.customer_id IS NOT NULL AND p.customer_id <> a.customer_id""")
    assert len(pairs) == 1
    pair = pairs[0]
    resident = rows(url, "SELECT * FROM customers WHERE id = :c", c=pair["resident"])[0]
    home = rows(url, "SELECT * FROM addresses WHERE id = :a", a=pair["address"])[0]
    assert (home["street"], home["postcode"]) == (resident["street"], resident["postcode"])
    chosen = {s["profile"]: s for s in sample_subjects(url, len(PROFILES), seed=1, today=TODAY)}
    assert chosen["address_shared"]["customer_number"] == resident["customer_number"]
    # The other customer has recorded calls and was invited to Focus Feedback's survey (a processor).
    other = rows(url, "SELECT customer_number FROM customers WHERE id = :c", c=pair["other"])[0]["customer_number"]
    assert rows(url, "SELECT count(*) AS n FROM call_recordings WHERE customer_number = :n", n=other)[0]["n"] == 2
    assert rows(url, "SELECT processor FROM survey_invitations WHERE customer_number = :n", n=other) == [
        {"processor": "Focus Feedback"}]


def test_a_lookup_for_either_customer_marks_the_address_shared(demo):
    url, _ = demo
    pair = rows(url, """SELECT a.id AS address, a.customer_id AS resident, p.customer_id AS other
                        FROM addresses a JOIN policies p ON p.correspondence_address_id = a.id
                        WHERE a.customer_id IS NOT NULL""")[0]
    config = {"DEMO_SYSTEMS_URL": url}
    sources = {k: s for k, s in load_sources(config).items() if s.kind is SourceKind.SQL}
    engines = readonly_engines(sources.values(), config)
    try:
        for who, other in (("resident", "other"), ("other", "resident")):
            number = rows(url, "SELECT customer_number FROM customers WHERE id = :c", c=pair[who])[0]["customer_number"]
            found = find_everywhere(sources, {"customer_number": number}, engines)["harmony_policy_admin"]
            shared = [r for r in found if r.shared]
            assert [(r.collection, r.primary_key) for r in shared] == [("addresses", {"id": pair["address"]})], who
            reason = shared[0].shared_reason
            if who == "resident":  # the other customer's policy sends its letters here
                assert "policies (id=" in reason and "policies.correspondence_address_id = id" in reason
            else:  # the customer who lives here
                assert f"customers (id={pair[other]}) is linked to it (customers.id = customer_id)" in reason
            # Nothing of the other customer is found: the address does not lead to their policies.
            policies = {r.primary_key["id"] for r in found if r.collection == "policies"}
            theirs = {r["id"] for r in rows(url, "SELECT id FROM policies WHERE customer_id = :c", c=pair[who])}
            assert policies == theirs
    finally:
        for engine in set(engines.values()):
            engine.dispose()


def test_the_demo_data_are_deterministic_with_files(tmp_path, demo):
    url = f"sqlite:///{tmp_path / 'again.sqlite3'}"
    generate(url, customers=60, seed=2018, today=TODAY, objects_dir=tmp_path / "objects")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        uris = sorted(conn.execute(sa.text("SELECT storage_uri FROM call_recordings")).scalars())
    engine.dispose()
    first = LocalObjectStore(demo[1])
    again = LocalObjectStore(tmp_path / "objects")
    assert all(first.get(u) == again.get(u) for u in uris)
