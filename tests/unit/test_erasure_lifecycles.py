"""Contracts and claims come from the data map (issue 12, item 4): the erasure code knows no table of
Harmony's. A source whose contracts are called ``agreements`` and whose claims ``incidents_reported`` gives the
same facts as Harmony's policies and claims; a bad ``dsr.contract`` annotation is refused when the map loads.
"""

from __future__ import annotations

import copy
import re
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from dsr.datamap import erase as datamap_erase
from dsr.datamap.model import DataMapError, Lifecycle
from dsr.datamap.parse import parse_dataset
from dsr.datamap.sources import BUILTIN_DIR
from dsr.fulfilment.erasure.deciding import Lifecycles, lifecycles

NAMES = {"nl": "x", "en": "x", "fr": "x"}


def _coll(name, fields, **dsr):
    return {"name": name, "dsr": {"names": NAMES, **dsr}, "fides_meta": {"masking_strategy_override": {"strategy": "delete"}},
            "fields": fields}


def _ref(coll):
    return {"data_type": "integer", "references": [{"dataset": "leasing", "field": f"{coll}.id"}]}


PK = {"name": "id", "data_categories": ["system.operations"], "fides_meta": {"primary_key": True}}
DATASET = {
    "fides_key": "leasing", "name": "Leasing",
    "meta": {"dsr": {"kind": "sql", "url": "sqlite://", "names": NAMES}},
    "collections": [
        _coll("lessees", [PK, {"name": "mail", "data_categories": ["user.contact.email"],
                               "fides_meta": {"identity": "email"}}]),
        _coll("agreements", [PK, {"name": "lessee", "data_categories": ["system.operations"], "fides_meta": _ref("lessees")},
                             {"name": "state", "data_categories": ["system.operations"]},
                             {"name": "stopped", "data_categories": ["system.operations"]}],
              contract={"status": "state", "running": ["running", "paused"], "ended_by": "stopped"}),
        _coll("incidents_reported", [PK, {"name": "agreement", "data_categories": ["system.operations"],
                                          "fides_meta": _ref("agreements")},
                                     {"name": "phase", "data_categories": ["system.operations"]},
                                     {"name": "closed", "data_categories": ["system.operations"]}],
              claim={"status": "phase", "running": ["new", "handling"], "ended_by": "closed"}),
        _coll("newsletters", [PK, {"name": "mail", "data_categories": ["user.contact.email"],
                                   "fides_meta": {"identity": "email"}}]),
    ],
}


@pytest.fixture
def leasing(tmp_path):
    source = parse_dataset(copy.deepcopy(DATASET), Path("leasing.yml"))
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'leasing.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE lessees (id INTEGER PRIMARY KEY, mail TEXT)")
        conn.exec_driver_sql("CREATE TABLE agreements (id INTEGER PRIMARY KEY, lessee INTEGER REFERENCES lessees(id), "
                             "state TEXT, stopped DATE)")
        conn.exec_driver_sql("CREATE TABLE incidents_reported (id INTEGER PRIMARY KEY, "
                             "agreement INTEGER REFERENCES agreements(id), phase TEXT, closed DATE)")
        conn.exec_driver_sql("CREATE TABLE newsletters (id INTEGER PRIMARY KEY, mail TEXT)")
        conn.exec_driver_sql("INSERT INTO lessees VALUES (1, 'a@x'), (2, 'b@x'), (3, 'c@x')")
        conn.exec_driver_sql("INSERT INTO agreements VALUES (10, 1, 'ended', '2024-03-01'), "
                             "(11, 1, 'ended', '2025-05-31'), (20, 2, 'paused', NULL)")
        conn.exec_driver_sql("INSERT INTO incidents_reported VALUES (100, 11, 'closed', '2025-08-15'), "
                             "(200, 20, 'handling', NULL)")
        conn.exec_driver_sql("INSERT INTO newsletters VALUES (1, 'a@x')")
    yield source, engine
    engine.dispose()


def _facts(leasing, collection, key):
    source, engine = leasing
    with engine.connect() as conn:
        tables = datamap_erase.reflect(conn, source)
        row = datamap_erase.read_row(conn, tables[collection], {"id": key})
        return lifecycles(conn, tables, source, source.collection(collection), row)


def test_a_lessee_whose_agreements_ended_has_the_last_end_and_the_last_claim_closure(leasing):
    assert _facts(leasing, "lessees", 1) == Lifecycles(policy_active=False, claim_open=False,
                                                       contract_ended_on=date(2025, 5, 31),
                                                       claim_closed_on=date(2025, 8, 15))


def test_a_running_value_other_than_the_first_keeps_the_contract_active_and_its_claim_open(leasing):
    assert _facts(leasing, "lessees", 2) == Lifecycles(policy_active=True, claim_open=True)
    assert _facts(leasing, "incidents_reported", 200) == Lifecycles(policy_active=True, claim_open=True)
    assert _facts(leasing, "agreements", 10) == Lifecycles(False, False, date(2024, 3, 1), None)


def test_no_agreement_means_nothing_active_and_no_link_means_unknown(leasing):
    assert _facts(leasing, "lessees", 3) == Lifecycles(policy_active=False, claim_open=False)
    assert _facts(leasing, "newsletters", 1) == Lifecycles()  # not tied to any contract: unknown


@pytest.mark.parametrize("contract, message", [
    ({"status": "nope", "running": ["x"]}, "status names no field"),
    ({"status": "state"}, "give status .the field. and running"),
    ({"status": "state", "running": ["running"], "ended_by": "later"}, "ended_by names no field"),
    ({"status": "state", "running": ["running"], "since": "x"}, "unknown dsr key"),
])
def test_a_contract_annotation_that_cannot_be_read_is_refused(contract, message):
    bad = copy.deepcopy(DATASET)
    bad["collections"][1]["dsr"]["contract"] = contract
    with pytest.raises(DataMapError, match=message):
        parse_dataset(bad, Path("leasing.yml"))


def test_the_erasure_code_names_none_of_harmonys_collections():
    import yaml

    names = {c["name"] for path in BUILTIN_DIR.glob("*.yml")
             for d in yaml.safe_load(path.read_text())["dataset"] for c in d["collections"]}
    package = Path(__file__).resolve().parents[2] / "dsr" / "fulfilment" / "erasure"
    code = "\n".join(p.read_text() for p in package.glob("*.py"))
    literals = set(re.findall(r"""["']([a-z_]+)["']""", code))
    assert {"policies", "claims", "customers"} <= names
    assert literals & names == set()
    assert Lifecycle("s", ("a",)).ended_by is None
