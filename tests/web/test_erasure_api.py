"""The lookup and the erasure plan in the JSON API (issue 13, items 3, 8, 9 and 11), on SQLite and PostgreSQL.

The subject is a customer of Harmony's demo systems who also shops in a small web shop described by a plain
data map added for the test: the shop's ``shoppers`` collection is covered by no retention rule ("review:
no retention rule applies"), and the shopper's address is also another shopper's (shared). The whole path
runs over HTTP with bearer tokens: lookup, confirm, build, decide, approve (four eyes), execute; what the
sources hold afterwards is read back with plain SQL.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
import yaml

from dsr.auth.operations import issue_api_token
from dsr.domain.enums import Right, Role
from dsr.extensions import db
from tests.conftest import NOW, TODAY
from tests.factories import make_case, make_user
from tests.harmony_support import (
    customer_with_everything,
    demo_systems,
    execute,
    private_copy,
    rows,
    subject_of,
)
from tests.web.support import frozen_clock

MANAGER, SECOND_MANAGER, STAFF, AUDITOR = ("pm@harmony.test", "pm2@harmony.test", "staff@harmony.test",
                                           "auditor@harmony.test")


@pytest.fixture(autouse=True)
def _frozen_clock():
    yield from frozen_clock()


@pytest.fixture(scope="module")
def harmony(tmp_path_factory) -> str:
    return demo_systems(tmp_path_factory, TODAY)


def _shop(tmp_path, email: str) -> tuple[str, str]:
    """A web shop database and its plain data map: two shoppers living at one address."""
    url = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
    execute(url, "CREATE TABLE addresses (id INTEGER PRIMARY KEY, street TEXT, city TEXT)")
    execute(url, "CREATE TABLE shoppers (id INTEGER PRIMARY KEY, email TEXT, "
                 "address_id INTEGER REFERENCES addresses(id), loyalty_points INTEGER)")
    execute(url, "INSERT INTO addresses VALUES (1, 'Coolsingel 40', 'Rotterdam'), (2, 'Blaak 8', 'Rotterdam')")
    execute(url, "INSERT INTO shoppers VALUES (1, :e, 1, 120), (2, 'housemate@example.nl', 1, 5), "
                 "(3, 'someone@example.nl', 2, 0)", e=email)
    dataset = {"dataset": [{
        "fides_key": "web_shop", "name": "Web shop",
        "meta": {"dsr": {"kind": "sql", "url": url}},
        "collections": [
            {"name": "shoppers", "fields": [
                {"name": "id", "data_categories": ["system.operations"], "fides_meta": {"primary_key": True}},
                {"name": "email", "data_categories": ["user.contact.email"],
                 "fides_meta": {"identity": "email", "masking_strategy_override": {"strategy": "null_rewrite"}}},
                {"name": "address_id", "data_categories": ["system.operations"],
                 "fides_meta": {"references": [{"dataset": "web_shop", "field": "addresses.id",
                                                "direction": "to"}]}},
                {"name": "loyalty_points", "data_categories": ["user.behavior"],
                 "fides_meta": {"masking_strategy_override": {"strategy": "null_rewrite"}}},
            ]},
            {"name": "addresses", "fields": [
                {"name": "id", "data_categories": ["system.operations"], "fides_meta": {"primary_key": True}},
                {"name": "street", "data_categories": ["user.contact.address.street"],
                 "fides_meta": {"masking_strategy_override": {"strategy": "null_rewrite"}}},
                {"name": "city", "data_categories": ["user.contact.address.city"],
                 "fides_meta": {"masking_strategy_override": {"strategy": "null_rewrite"}}},
            ]},
        ],
    }]}
    directory = tmp_path / "datamap"
    directory.mkdir()
    (directory / "web_shop.yml").write_text(yaml.safe_dump(dataset), encoding="utf-8")
    return url, str(directory)


@pytest.fixture
def world(backend_app, harmony, tmp_path, monkeypatch):
    """The app with a private copy of the demo systems, the web shop, four users with tokens and a case."""
    app = backend_app
    systems = private_copy(harmony, tmp_path)
    monkeypatch.setitem(app.config, "DEMO_SYSTEMS_URL", systems)
    customer = customer_with_everything(systems)
    shop, datamap = _shop(tmp_path, customer["email"])
    monkeypatch.setitem(app.config, "DSR_DATAMAP_DIR", datamap)
    headers = {}
    with app.app_context():
        for role, email in ((Role.PRIVACY_MANAGER, MANAGER), (Role.PRIVACY_MANAGER, SECOND_MANAGER),
                            (Role.STAFF, STAFF), (Role.AUDITOR, AUDITOR)):
            user = make_user(role, email)
            headers[email] = {"Authorization": f"Bearer {issue_api_token(user, actor=None, now=NOW)}"}
        staff = db.session.execute(sa.text("SELECT id FROM users WHERE email = :e"), {"e": STAFF}).scalar()
        from dsr.auth.models import User
        reference = make_case(actor=db.session.get(User, staff), rights=(Right.ERASURE,),
                              **subject_of(customer)).reference
        db.session.commit()
    return {"app": app, "client": app.test_client(), "headers": headers, "reference": reference,
            "systems": systems, "shop": shop, "customer": customer}


def call(world, method: str, path: str, who: str = STAFF, body: dict | None = None):
    url = f"/api/v1/cases/{world['reference']}{path}"
    return world["client"].open(url, method=method, json=body, headers=world["headers"][who])


def _ready_plan(world) -> dict:
    lookup = call(world, "POST", "/lookup").get_json()
    assert call(world, "POST", "/lookup/confirm", body={"version": lookup["version"]}).status_code == 200
    response = call(world, "POST", "/erasure-plan", who=MANAGER)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _item(plan: dict, collection: str, key: dict) -> dict:
    [item] = [i for i in plan["items"] if i["collection"] == collection and i["key"] == key]
    return item


def test_the_lookup_lists_its_records_and_is_confirmed_by_its_version(world):
    assert call(world, "GET", "/lookup").status_code == 404
    lookup = call(world, "POST", "/lookup").get_json()
    assert lookup["status"] == "found" and lookup["match"] == "pending"
    shopper = next(r for r in lookup["records"] if r["collection"] == "shoppers")
    assert shopper == {"source": "web_shop", "collection": "shoppers", "key": {"id": 1}, "record_date": None,
                       "categories": shopper["categories"], "shared": False, "shared_reason": None}
    address = next(r for r in lookup["records"] if r["collection"] == "addresses")
    assert address["shared"] is True and "shoppers" in address["shared_reason"]
    invoice = next(r for r in lookup["records"] if r["collection"] == "invoices")
    assert len(invoice["record_date"]) == 10 and "user.financial" in invoice["categories"]
    assert call(world, "GET", "/lookup", who=AUDITOR).get_json() == lookup
    assert call(world, "POST", "/lookup/confirm", who=AUDITOR, body={"version": lookup["version"]}).status_code == 403
    bad = call(world, "POST", "/lookup/confirm", body={"version": "one"})
    assert bad.status_code == 400 and bad.get_json()["errors"] == {"version": ["version is a whole number."]}
    newer = call(world, "POST", "/lookup").get_json()
    stale = call(world, "POST", "/lookup/confirm", body={"version": lookup["version"]})
    assert stale.status_code == 409 and "newer lookup" in stale.get_json()["error"]
    assert call(world, "POST", "/lookup/confirm", body={"version": 99999}).status_code == 404
    assert call(world, "POST", "/lookup/confirm", body={"version": newer["version"]}).get_json()["match"] == \
        "confirmed"


def test_a_plan_with_review_and_shared_items_is_decided_approved_by_another_manager_and_executed(world):
    assert call(world, "POST", "/erasure-plan").status_code == 404  # no lookup yet
    call(world, "POST", "/lookup")
    unconfirmed = call(world, "POST", "/erasure-plan")
    assert unconfirmed.status_code == 409 and "Confirm" in unconfirmed.get_json()["error"]
    plan = _ready_plan(world)
    assert plan["state"] == "draft" and plan["built_by"] == MANAGER and plan["approved_by"] is None
    shopper = _item(plan, "shoppers", {"id": 1})
    assert (shopper["action"], shopper["rule"], shopper["shared"]) == ("review", "no-rule", False)
    assert shopper["basis"].startswith("No retention rule applies to this record")
    address = _item(plan, "addresses", {"id": 1})
    assert (address["action"], address["rule"], address["shared"]) == ("review", "shared", True)
    invoice = next(i for i in plan["items"] if i["collection"] == "invoices")
    assert set(invoice) >= {"id", "source", "collection", "key", "record_date", "action", "shared", "rule",
                            "article", "basis", "erase_on", "outcome"}
    assert invoice["action"] == "keep" and invoice["erase_on"].endswith("-01-01") and invoice["outcome"] is None
    tasks = {i["kind"] for i in plan["items"] if i["kind"] != "record"}
    assert tasks == {"paper", "processor"}

    # Undecided items block approval (409); staff may not decide (403); a bad action is 400.
    refused = call(world, "POST", "/erasure-plan/approve", who=SECOND_MANAGER)
    assert refused.status_code == 409 and "put to review" in refused.get_json()["error"]
    assert call(world, "POST", "/erasure-plan/decide", who=STAFF,
                body={"item": shopper["id"], "action": "erase", "reason": "x"}).status_code == 403
    bad = call(world, "POST", "/erasure-plan/decide", who=MANAGER, body={"item": shopper["id"], "action": "delete"})
    assert bad.status_code == 400 and "action" in bad.get_json()["errors"]
    assert call(world, "POST", "/erasure-plan/decide", who=MANAGER,
                body={"item": 999999, "action": "keep", "reason": "x"}).status_code == 404
    no_reason = call(world, "POST", "/erasure-plan/decide", who=MANAGER,
                     body={"item": shopper["id"], "action": "erase", "reason": " "})
    assert no_reason.status_code == 400 and "reason" in no_reason.get_json()["errors"]
    # A record a rule keeps cannot be erased by decision; a shared address has no field of the subject alone.
    kept = call(world, "POST", "/erasure-plan/decide", who=MANAGER,
                body={"item": invoice["id"], "action": "erase", "reason": "asked"})
    assert kept.status_code == 409
    shared = call(world, "POST", "/erasure-plan/decide", who=MANAGER,
                  body={"item": address["id"], "action": "erase", "reason": "asked"})
    assert shared.status_code == 409 and "also another person's" in shared.get_json()["error"]
    call(world, "POST", "/erasure-plan/decide", who=MANAGER,
         body={"item": address["id"], "action": "keep", "reason": "The housemate still lives there."})
    plan = call(world, "POST", "/erasure-plan/decide", who=MANAGER,
                body={"item": shopper["id"], "action": "erase", "reason": "A customer account: no duty to keep."}
                ).get_json()
    assert plan["undecided"] == 0
    assert _item(plan, "shoppers", {"id": 1})["decided"]["by"] == MANAGER

    # Four eyes: the builder may not approve; another manager may.
    own = call(world, "POST", "/erasure-plan/approve", who=MANAGER)
    assert own.status_code == 403 and "Four eyes" in own.get_json()["error"]
    plan = call(world, "POST", "/erasure-plan/approve", who=SECOND_MANAGER).get_json()
    assert (plan["state"], plan["approved_by"]) == ("approved", SECOND_MANAGER)
    assert call(world, "POST", "/erasure-plan/execute", who=AUDITOR).status_code == 403

    before = rows(world["shop"], "SELECT * FROM addresses ORDER BY id")
    plan = call(world, "POST", "/erasure-plan/execute", who=STAFF).get_json()
    assert plan["state"] == "executed" and plan["failed"] == {}
    assert _item(plan, "shoppers", {"id": 1})["outcome"] == "deleted"
    assert (_item(plan, "addresses", {"id": 1})["outcome"], _item(plan, "addresses", {"id": 1})["shared"]) == \
        ("kept", True)
    assert rows(world["shop"], "SELECT id FROM shoppers ORDER BY id") == [{"id": 2}, {"id": 3}]
    assert rows(world["shop"], "SELECT * FROM addresses ORDER BY id") == before  # nobody else's data touched
    for item in plan["items"]:
        if item["kind"] == "record":
            assert item["outcome"] in ("deleted", "anonymised", "kept"), item
    assert call(world, "POST", "/erasure-plan/execute").status_code == 409  # nothing left to execute
    assert call(world, "GET", "/erasure-plan", who=AUDITOR).get_json()["state"] == "executed"


def test_unknown_cases_and_bodies(world):
    client, headers = world["client"], world["headers"][STAFF]
    assert client.get("/api/v1/cases/DSR-0000-0000/erasure-plan", headers=headers).status_code == 404
    assert call(world, "GET", "/erasure-plan").status_code == 404
    response = world["client"].post(f"/api/v1/cases/{world['reference']}/lookup/confirm", data="[1]",
                                    content_type="application/json", headers=headers)
    assert response.status_code == 400 and response.get_json()["error"]
    assert client.get(f"/api/v1/cases/{world['reference']}/lookup").status_code == 401
