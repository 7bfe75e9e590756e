"""A plain Fides dataset loads as it is (issue 13, item 4): every dsr annotation is optional, with safe defaults.

The dataset is Fides' own example (``tests/fixtures/fides``), unchanged: no ``meta.dsr``, no names, no erase
strategy on most personal fields, no primary key on ``visit`` and ``order_item``.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest

from dsr.datamap.model import LANGUAGES, Erase, SourceKind
from dsr.datamap.parse import source_url_variable
from dsr.datamap.sharing import describe
from dsr.datamap.sources import DataMapError, load_sources
from tests.unit.test_datamap import MINIMAL, load_with

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "fides" / "postgres_example_test_dataset.yml"
KEY = "postgres_example_test_dataset"


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    directory = tmp_path_factory.mktemp("fides")
    shutil.copy(FIXTURE, directory)
    return load_sources({"DSR_DATAMAP_DIR": str(directory)})[KEY]


def test_the_url_variable_is_the_fides_key_upper_cased_with_every_other_character_as_underscore():
    assert source_url_variable(KEY) == "DSR_SOURCE_POSTGRES_EXAMPLE_TEST_DATASET_URL"
    assert source_url_variable("crm-eu.v2") == "DSR_SOURCE_CRM_EU_V2_URL"
    assert source_url_variable("Café 9") == "DSR_SOURCE_CAF__9_URL"


def test_the_fides_example_loads_as_a_sql_source_reached_through_its_url_variable(example, monkeypatch):
    assert example.kind is SourceKind.SQL
    assert example.connection_env == "DSR_SOURCE_POSTGRES_EXAMPLE_TEST_DATASET_URL"
    assert example.url is None
    assert [c.name for c in example.collections] == [
        "address", "customer", "employee", "login", "orders", "order_item", "payment_card", "product", "report",
        "service_request", "visit"]
    monkeypatch.delenv("DSR_SOURCE_POSTGRES_EXAMPLE_TEST_DATASET_URL", raising=False)
    with pytest.raises(DataMapError, match="set DSR_SOURCE_POSTGRES_EXAMPLE_TEST_DATASET_URL"):
        example.connection_url({})
    monkeypatch.setenv("DSR_SOURCE_POSTGRES_EXAMPLE_TEST_DATASET_URL", "postgresql+psycopg://db/example")
    assert example.connection_url({}) == "postgresql+psycopg://db/example"
    # The app's config wins over the environment, as for every other connection variable.
    assert example.connection_url({"DSR_SOURCE_POSTGRES_EXAMPLE_TEST_DATASET_URL": "sqlite:///x"}) == "sqlite:///x"


def test_names_default_to_the_fides_name_in_every_language(example):
    assert example.names == ()
    assert {lang: example.display_name(lang) for lang in LANGUAGES} == dict.fromkeys(
        LANGUAGES, "Postgres Example Test Dataset")
    assert example.collection("order_item").display_name("nl") == "order item"
    assert example.collection("customer").field("address_id").label("fr") == "address id"


def test_personal_data_without_an_erase_strategy_is_for_a_person_to_decide(example):
    address = example.collection("address")
    assert address.field("street").erase is Erase.REVIEW and address.erase_review
    assert example.collection("customer").field("email").erase is Erase.REVIEW
    # A strategy Fides does declare is kept: the employee's name is rewritten, not reviewed.
    employee = example.collection("employee")
    assert employee.field("name").erase is Erase.MASK and employee.field("name").mask_value == "testing"
    assert employee.field("email").erase is Erase.REVIEW  # the e-mail next to it says nothing: review
    # Non-personal fields have nothing to erase; a collection of only those needs no review.
    assert example.collection("product").field("price").erase is Erase.NONE
    assert not example.collection("product").erase_review


def test_declared_keys_are_kept_and_undeclared_ones_left_to_the_database(example):
    assert example.collection("customer").primary_key == ("id",)
    assert example.collection("payment_card").primary_key == ("id",)
    assert example.collection("visit").primary_key == ()  # (email, last_visit) in the database
    assert example.collection("order_item").primary_key == ()  # (order_id, item_no): item_no is no field


def test_identities_and_references_are_read_from_fides_meta(example):
    assert {f.name for f in example.collection("service_request").identity_fields} == {"email", "alt_email"}
    edges = {(e.source_collection, e.source_field, e.target_collection, e.target_field) for e in example.edges()}
    assert ("customer", "address_id", "address", "id") in edges  # direction: to
    assert ("customer", "id", "orders", "customer_id") in edges  # direction: from
    assert ("orders", "shipping_address_id", "address", "id") in edges


def test_a_dataset_without_any_dsr_key_gets_the_defaults(tmp_path):
    plain = copy.deepcopy(MINIMAL)
    plain.pop("meta")
    for coll in plain["collections"]:
        coll.pop("dsr")
        coll.pop("fides_meta")
        for fld in coll["fields"]:
            fld.pop("dsr", None)
    source = load_with(tmp_path, plain)["repairs"]
    assert (source.kind, source.connection_env) == (SourceKind.SQL, "DSR_SOURCE_REPAIRS_URL")
    orders = source.collection("repair_orders")
    assert orders.field("email").erase is Erase.REVIEW and orders.erase_review
    assert orders.names == () and orders.display_name("nl") == "repair orders"


def test_names_given_in_only_some_languages_are_still_refused(tmp_path):
    partial = copy.deepcopy(MINIMAL)
    partial["meta"]["dsr"]["names"].pop("fr")
    with pytest.raises(DataMapError, match=r"meta\.dsr: dsr\.names: no fr"):
        load_with(tmp_path, partial)


def test_a_shared_reason_reads_in_each_language():
    shared = [{"kind": "reference", "collection": "orders", "key": {"id": "ord_bbb-bbb"},
               "field": "shipping_address_id", "own_field": "id"},
              {"kind": "identity", "collection": "visit", "key": {"email": "x@example.com", "last_visit": "2021"},
               "field": "email", "own_field": "alt_email"}]
    assert describe(shared, "en") == (
        "Also reached from records that are not this person's: orders (id=ord_bbb-bbb) is linked to it "
        "(orders.shipping_address_id = id); its alt_email is also in visit (email=x@example.com, last_visit=2021).")
    assert describe(shared, "nl").startswith("Ook bereikt vanuit records die niet van deze persoon zijn: orders")
    assert "y est lié" in describe(shared, "fr")
    many = shared[:1] * 5
    assert describe(many, "en").endswith("and 2 more.")
