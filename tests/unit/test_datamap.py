"""The data map: Fides dataset YAML validated by fideslang, dsr's annotations, and sources without code."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path

import pytest
import yaml
from fideslang.default_taxonomy import DEFAULT_TAXONOMY
from fideslang.models import Dataset

from dsr.datamap.lookup import normalise_identities
from dsr.datamap.sources import (
    BUILTIN_DIR,
    IDENTITY_TYPES,
    DataMapError,
    Edge,
    Erase,
    LegalBasis,
    SourceKind,
    load_sources,
)

CATEGORIES = {c.fides_key for c in DEFAULT_TAXONOMY.data_category}
USES = {u.fides_key for u in DEFAULT_TAXONOMY.data_use}
FILES = sorted(BUILTIN_DIR.glob("*.yml"))

# The smallest SQL source dsr accepts: one collection reached by e-mail.
MINIMAL = {
    "fides_key": "repairs",
    "name": "Repair shop portal",
    "meta": {"dsr": {"kind": "sql", "connection_env": "HARMONY_REPAIRS_URL",
                     "names": {"nl": "Reparatieportaal", "en": "Repair shop portal", "fr": "Portail de réparation"}}},
    "collections": [{
        "name": "repair_orders",
        "dsr": {"legal_basis": "contract", "purposes": [2],
                "names": {"nl": "Reparatieopdrachten", "en": "Repair orders", "fr": "Ordres de réparation"}},
        "fides_meta": {"masking_strategy_override": {"strategy": "delete"}},
        "fields": [
            {"name": "id", "data_categories": ["system.operations"], "fides_meta": {"primary_key": True}},
            {"name": "email", "data_categories": ["user.contact.email"], "fides_meta": {"identity": "email"},
             "dsr": {"provided": True}},
        ],
    }],
}


def without_dsr_keys(dataset: dict) -> dict:
    clean = copy.deepcopy(dataset)
    for coll in clean["collections"]:
        coll.pop("dsr", None)
        for field in coll["fields"]:
            field.pop("dsr", None)
    return clean


def write(directory: Path, dataset: dict, name: str = "extra.yml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(yaml.safe_dump({"dataset": [dataset]}, sort_keys=False), encoding="utf-8")
    return path


def load_with(tmp_path: Path, dataset: dict) -> dict:
    write(tmp_path, dataset)
    return load_sources({"DSR_DATAMAP_DIR": str(tmp_path)})


@pytest.fixture(scope="module")
def sources():
    return load_sources({})


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_dataset_file_validates_with_fideslang(path):
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert len(document["dataset"]) == 1, "one dataset per file, one file per source"
    model = Dataset.model_validate(without_dsr_keys(document["dataset"][0]))
    assert model.fides_key == path.stem


def test_the_builtin_sources(sources):
    assert {k: s.kind for k, s in sources.items()} == {
        "harmony_policy_admin": SourceKind.SQL, "harmony_contact_centre": SourceKind.SQL,
        "harmony_paper_archive": SourceKind.MANUAL, "focus_feedback": SourceKind.MANUAL,
        "harmony_mail_house": SourceKind.MANUAL}
    assert sources["harmony_policy_admin"].connection_env == "DEMO_SYSTEMS_URL"
    assert "Focus Feedback" in sources["focus_feedback"].contact
    assert sources["harmony_paper_archive"].instructions
    # The processors are instructed to erase (Art. 28(3)(g)); the paper archive is destroyed by Harmony itself.
    assert {k for k, s in sources.items() if s.processor} == {"focus_feedback", "harmony_mail_house"}


def test_every_category_and_data_use_is_in_fideslang_default_taxonomy(sources):
    for source in sources.values():
        for coll in source.collections:
            assert set(coll.data_uses) <= USES, (source.key, coll.name)
            for field in coll.fields:
                assert field.categories and set(field.categories) <= CATEGORIES, (source.key, coll.name, field.name)


def test_identity_fields_are_declared(sources):
    pas = sources["harmony_policy_admin"]
    declared = {f.identity for c in pas.collections for f in c.identity_fields}
    assert declared == set(IDENTITY_TYPES)
    customers = pas.collection("customers")
    assert [f.name for f in customers.identity_fields if f.identity == "name"] == ["first_name", "last_name"]
    assert pas.collection("policies").field("policy_number").identity == "policy_number"
    cc = sources["harmony_contact_centre"]
    assert cc.collection("call_recordings").field("customer_number").identity == "customer_number"
    assert cc.collection("survey_invitations").field("email").identity == "email"
    for source in sources.values():
        if source.kind is SourceKind.SQL:
            assert all(c.primary_key for c in source.collections)


def test_erase_strategies_and_provided_fields(sources):
    customers = sources["harmony_policy_admin"].collection("customers")
    assert customers.field("email").erase is Erase.NULL
    assert customers.field("first_name").erase is Erase.MASK and customers.field("first_name").mask_value == "***"
    assert customers.field("customer_number").erase is Erase.NONE
    assert customers.field("email").provided and not customers.field("customer_number").provided
    policies = sources["harmony_policy_admin"].collection("policies")
    assert {f.erase for f in policies.fields} == {Erase.DELETE_ROW}
    assert "harmony_policy_admin.invoices" in policies.erase_after
    portal = sources["harmony_policy_admin"].collection("portal_accounts")
    assert not portal.field("password_hash").provided


def test_portability_follows_the_legal_basis(sources):
    """Art. 20(1)(a): consent or contract only."""
    pas = sources["harmony_policy_admin"]
    assert pas.collection("marketing_subscriptions").legal_basis is LegalBasis.CONSENT
    assert pas.collection("devices").portable
    assert not pas.collection("incidents").portable
    assert not sources["harmony_contact_centre"].collection("call_recordings").portable


def test_retention_annotations(sources):
    pas = sources["harmony_policy_admin"]
    assert pas.collection("invoices").tags == ("invoice",) and pas.collection("invoices").dated_by == "issued_on"
    assert pas.collection("incidents").retention_until == "retention_until"
    assert sources["harmony_contact_centre"].collection("call_recordings").dated_by == "started_at"


def test_restriction_markers_of_the_demo_policy_administration(sources):
    """Art. 18: a collection may declare the field dsr sets to restrict a record; the others go to a person."""
    admin = sources["harmony_policy_admin"]
    assert {c.name: c.restriction_marker for c in admin.collections if c.restriction_marker} == {
        "customers": "restricted_since", "policies": "restricted", "claims": "restricted_since"}
    assert all(c.restriction_marker is None for c in sources["harmony_paper_archive"].collections)


def test_references_follow_fides_directions(sources):
    edges = sources["harmony_policy_admin"].edges()
    assert Edge("customers", "id", "policies", "customer_id") in edges
    assert Edge("policies", "customer_id", "customers", "id") in edges  # no direction: both ways
    cc = sources["harmony_contact_centre"]
    ref = cc.collection("call_recordings").field("customer_number").references[0]
    assert (ref.dataset, ref.collection, ref.field, ref.direction) == (
        "harmony_policy_admin", "customers", "customer_number", "from")
    assert all(e.source_collection in {"call_recordings", "survey_invitations"} for e in cc.edges())


def test_a_new_yaml_file_in_datamap_dir_adds_a_source_without_code(tmp_path, monkeypatch):
    sources = load_with(tmp_path, MINIMAL)
    assert "repairs" in sources and "harmony_policy_admin" in sources
    repairs = sources["repairs"]
    assert repairs.collection("repair_orders").field("email").identity == "email"
    monkeypatch.setenv("HARMONY_REPAIRS_URL", "sqlite:////tmp/from-env.sqlite3")
    assert repairs.connection_url({}) == "sqlite:////tmp/from-env.sqlite3"
    assert repairs.connection_url({"HARMONY_REPAIRS_URL": "sqlite:////cfg.sqlite3"}) == "sqlite:////cfg.sqlite3"
    monkeypatch.delenv("HARMONY_REPAIRS_URL")
    with pytest.raises(DataMapError, match="set HARMONY_REPAIRS_URL"):
        repairs.connection_url({})


def test_datamap_dir_from_the_environment(tmp_path, monkeypatch):
    write(tmp_path, MINIMAL)
    monkeypatch.setenv("DSR_DATAMAP_DIR", str(tmp_path))
    assert "repairs" in load_sources()


def _variant(change) -> dict:
    dataset = copy.deepcopy(MINIMAL)
    change(dataset)
    return dataset


def _email(dataset: dict) -> dict:
    return dataset["collections"][0]["fields"][1]


def _coll(dataset: dict) -> dict:
    return dataset["collections"][0]


def _no_row_delete_with(strategy):
    def change(dataset):
        del _coll(dataset)["fides_meta"]
        _email(dataset)["fides_meta"]["masking_strategy_override"] = {"strategy": strategy}
    return change


REFUSALS = [
    ("unknown-category", lambda d: _email(d).update(data_categories=["user.contact.emial"]),
     r"repair_orders\.email: unknown data category 'user.contact.emial' .*did you mean user\.contact\.email"),
    ("unknown-data-use", lambda d: _coll(d).update(data_uses=["marketing.spam"]), "unknown data use 'marketing.spam'"),
    ("bad-field-strategy", _no_row_delete_with("scramble"), r"repair_orders\.email: bad erase strategy 'scramble'"),
    ("bad-collection-strategy",
     lambda d: _coll(d).update(fides_meta={"masking_strategy_override": {"strategy": "delete_rows"}}),
     r"fideslang rejects the dataset: .*masking_strategy_override\.strategy.*can only be delete"),
    ("string-rewrite-without-value", _no_row_delete_with("string_rewrite"), "needs configuration.rewrite_value"),
    ("field-strategy-in-row-delete", lambda d: _email(d)["fides_meta"].update(
        masking_strategy_override={"strategy": "null_rewrite"}), "collection deletes whole rows"),
    ("unknown-dsr-key", lambda d: _email(d).update(dsr={"provide": True}), "unknown dsr key.*provide"),
    ("provided-not-bool", lambda d: _email(d).update(dsr={"provided": "yes"}), "dsr.provided must be true or false"),
    ("bad-legal-basis", lambda d: _coll(d)["dsr"].update(legal_basis="because"), "bad legal_basis 'because'"),
    ("restriction-marker-not-a-field", lambda d: _coll(d)["dsr"].update(restriction_marker="restricted_since"),
     "dsr.restriction_marker names no field of the collection: 'restricted_since'"),
    ("unknown-identity", lambda d: _email(d)["fides_meta"].update(identity="phone"), "unknown identity 'phone'"),
    ("partial-composite", lambda d: _email(d)["fides_meta"].update(identity="postcode"), "only together"),
    ("no-categories", lambda d: _coll(d)["fields"][0].pop("data_categories"), "no data_categories"),
    ("bad-source-kind", lambda d: d["meta"]["dsr"].update(kind="ftp"), "must be sql or manual"),
    ("sql-with-two-connections", lambda d: d["meta"]["dsr"].update(url="sqlite:///x.db"),
     "one of connection_env or url, not both"),
    ("dsr-meta-not-a-mapping", lambda d: d["meta"].update(dsr="sql"), r"meta\.dsr: must be a mapping"),
    ("no-identity", lambda d: _email(d)["fides_meta"].pop("identity"), "no collection declares an identity"),
    ("bad-reference", lambda d: _coll(d)["fields"][0]["fides_meta"].update(
        references=[{"dataset": "repairs", "field": "orders.id"}]), "bad reference"),
    ("reference-to-unknown-source", lambda d: _coll(d)["fields"][0]["fides_meta"].update(
        references=[{"dataset": "nowhere", "field": "orders.id", "direction": "from"}]), "unknown source 'nowhere'"),
    ("unreachable-collection", lambda d: d["collections"].append({
        "name": "orphans", "fides_meta": {"masking_strategy_override": {"strategy": "delete"}},
        "dsr": {"names": {"nl": "Wezen", "en": "Orphans", "fr": "Orphelins"}},
        "fields": [{"name": "id", "data_categories": ["system.operations"], "fides_meta": {"primary_key": True}}]}),
     "orphans: not reachable"),
]


@pytest.mark.parametrize(("change", "message"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_a_dataset_dsr_cannot_use_is_refused_with_a_clear_message(tmp_path, change, message):
    with pytest.raises(DataMapError, match=message) as refused:
        load_with(tmp_path, _variant(change))
    assert str(tmp_path / "extra.yml") in str(refused.value)


def test_a_duplicate_source_key_is_refused(tmp_path):
    with pytest.raises(DataMapError, match="'harmony_policy_admin' is already declared"):
        load_with(tmp_path, _variant(lambda d: d.update(fides_key="harmony_policy_admin")))


def test_a_file_with_two_datasets_is_refused(tmp_path):
    (tmp_path / "two.yml").write_text(yaml.safe_dump({"dataset": [MINIMAL, MINIMAL]}), encoding="utf-8")
    with pytest.raises(DataMapError, match="exactly one entry under 'dataset:'"):
        load_sources({"DSR_DATAMAP_DIR": str(tmp_path)})


def test_a_missing_datamap_dir_is_refused(tmp_path):
    with pytest.raises(DataMapError, match="is not a directory"):
        load_sources({"DSR_DATAMAP_DIR": str(tmp_path / "missing")})


def test_identities_are_normalised_and_checked():
    assert normalise_identities({"email": "  a@b.nl ", "customer_number": "", "name": "Jan  de\tVries",
                                 "date_of_birth": "1980-02-29", "postcode": None}) == {
        "email": "a@b.nl", "name": "Jan de Vries", "date_of_birth": date(1980, 2, 29)}
    with pytest.raises(ValueError, match="date_of_birth must be a date"):
        normalise_identities({"date_of_birth": "29-02-1980"})
    with pytest.raises(ValueError, match="unknown identity phone"):
        normalise_identities({"phone": "+31 10 123"})
