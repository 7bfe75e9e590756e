"""The data map's names in the subject's language: given in all three languages or not at all.

A letter to a Dutch or French customer names the systems and collections it speaks of (the erasure letter's
tables, the access letter's manual sources) and the access preview shows each field's label: all come from
the data map's ``names`` and ``labels`` annotations (:mod:`dsr.datamap.parse`).
"""

from __future__ import annotations

import copy

import pytest

from dsr.datamap.model import LANGUAGES
from dsr.datamap.parse import DEFAULT_TECHNICAL
from dsr.datamap.sources import DataMapError, load_sources
from tests.unit.test_datamap import MINIMAL, load_with


@pytest.fixture(scope="module")
def sources():
    return load_sources({})


def _variant(change) -> dict:
    dataset = copy.deepcopy(MINIMAL)
    change(dataset)
    return dataset


def _coll(dataset: dict) -> dict:
    return dataset["collections"][0]


def _email(dataset: dict) -> dict:
    return _coll(dataset)["fields"][1]


def test_every_builtin_source_and_collection_is_named_in_every_language(sources):
    for source in sources.values():
        assert [lang for lang, _name in source.names] == list(LANGUAGES), source.key
        assert source.display_name("en") == source.name  # the Fides name stays the English one
        for coll in source.collections:
            assert [lang for lang, _name in coll.names] == list(LANGUAGES), f"{source.key}.{coll.name}"
            names = {lang: coll.display_name(lang) for lang in LANGUAGES}
            assert names["nl"] != coll.name and "_" not in names["nl"] + names["fr"]


def test_every_builtin_personal_field_has_a_label_in_every_language(sources):
    for source in sources.values():
        for coll in source.collections:
            for fld in coll.fields:
                if any(c.startswith("user") for c in fld.categories):
                    assert [lang for lang, _label in fld.labels] == list(LANGUAGES), f"{coll.name}.{fld.name}"


def test_the_helpers_give_the_language_asked_for(sources):
    admin = sources["harmony_policy_admin"]
    assert (admin.display_name("nl"), admin.display_name("en"), admin.display_name("fr")) == (
        "Polisadministratie", "Policy administration", "Gestion des polices")
    customers = admin.collection("customers")
    assert customers.display_name("nl") == "Klantgegevens"
    assert customers.field("last_name").label("nl") == "Achternaam"
    assert customers.field("last_name").label("fr") == "Nom"
    assert customers.field("last_name").name == "last_name"  # the column name stays available
    assert sources["focus_feedback"].display_name("fr") == "Focus Feedback (sous-traitant)"
    assert sources["harmony_paper_archive"].display_name("nl") == "Papieren archief"
    assert sources["harmony_mail_house"].display_name("en") == "Mail house (processor)"


def test_a_field_without_labels_falls_back_to_its_column_name(tmp_path, sources):
    repairs = load_with(tmp_path, MINIMAL)["repairs"]
    email = repairs.collection("repair_orders").field("email")
    assert email.labels == () and email.label("nl") == "email"
    assert repairs.collection("repair_orders").field("id").label("fr") == "id"
    assert sources["harmony_policy_admin"].collection("customers").field("id").label("nl") == "id"


def test_a_field_with_labels_in_all_languages_is_read(tmp_path):
    labels = {"nl": "E-mailadres", "en": "E-mail address", "fr": "Adresse e-mail"}
    repairs = load_with(tmp_path, _variant(lambda d: _email(d).update(dsr={"provided": True, "labels": labels})))
    email = repairs["repairs"].collection("repair_orders").field("email")
    assert {lang: email.label(lang) for lang in LANGUAGES} == labels and email.provided


REFUSALS = [
    ("source-names-missing-french", lambda d: d["meta"]["dsr"]["names"].pop("fr"), r"meta\.dsr: dsr\.names: no fr"),
    ("source-names-not-a-mapping", lambda d: d["meta"]["dsr"].update(names="Repairs"), r"must map each of nl, en, fr"),
    ("collection-name-empty", lambda d: _coll(d)["dsr"]["names"].update(nl="  "), r"repair_orders: dsr\.names: no nl"),
    ("collection-unknown-language", lambda d: _coll(d)["dsr"]["names"].update(de="Reparaturen"),
     r"unknown language\(s\) de"),
    ("field-labels-incomplete", lambda d: _email(d).update(dsr={"labels": {"nl": "E-mail", "en": "E-mail"}}),
     r"repair_orders\.email: dsr\.labels: no fr"),
    ("field-labels-not-text", lambda d: _email(d).update(dsr={"labels": {"nl": 1, "en": "E-mail", "fr": "Courriel"}}),
     r"repair_orders\.email: dsr\.labels: no nl"),
]


@pytest.mark.parametrize(("change", "message"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_missing_or_bad_names_are_refused_naming_the_place(tmp_path, change, message):
    with pytest.raises(DataMapError, match=message) as refused:
        load_with(tmp_path, _variant(change))
    assert str(tmp_path / "extra.yml") in str(refused.value)


# -- what the access copy leaves out, and why (issue 14, item 5) -----------------------------------------


def test_every_builtin_field_is_in_the_copy_with_a_label_or_left_out_with_a_reason(sources):
    """A field of a shipped system is either part of the access copy, labelled in every language the letters
    are written in, or a technical key the data map gives a reason for leaving out. Status and outcome
    fields (CJEU C-487/21) are in the copy."""
    for source in sources.values():
        for coll in source.collections:
            for fld in coll.fields:
                where = f"{source.key}.{coll.name}.{fld.name}"
                if fld.technical:
                    assert len(fld.technical) > 10, where
                    assert all(c.startswith("system.") for c in fld.categories), where
                else:
                    assert [lang for lang, _label in fld.labels] == list(LANGUAGES), where
    admin = sources["harmony_policy_admin"]
    in_copy = {("customers", "sales_channel"), ("customers", "created_on"), ("policies", "status"),
               ("policies", "risk_bearer"), ("claims", "status"), ("claims", "settled_on"),
               ("claims", "settlement_number"), ("claims", "claim_number"), ("claims", "repairer"),
               ("invoices", "invoice_number"), ("premium_payments", "status"), ("incidents", "retention_until")}
    for coll, name in in_copy:
        assert admin.collection(coll).field(name).technical is None, (coll, name)
    assert admin.collection("claims").field("settlement_number").label("nl") == "Nummer van de afhandeling"
    left_out = {(c.name, f.name) for c in admin.collections for f in c.fields if f.technical}
    assert ("customers", "id") in left_out and ("policies", "customer_id") in left_out
    recording_ref = sources["harmony_contact_centre"].collection("call_recordings").field("recording_ref")
    assert "internal file reference" in recording_ref.technical


def test_keys_are_technical_by_default_and_a_reason_can_be_given(tmp_path):
    repairs = load_with(tmp_path, MINIMAL)["repairs"].collection("repair_orders")
    assert repairs.field("id").technical == DEFAULT_TECHNICAL
    assert repairs.field("email").technical is None

    def annotate(d):
        _coll(d)["fields"].append({"name": "workshop_ref", "data_categories": ["system.operations"],
                                   "dsr": {"technical": "the workshop's own job number"}})
        _coll(d)["fields"][0]["dsr"] = {"technical": "row id"}
    repairs = load_with(tmp_path, _variant(annotate))["repairs"].collection("repair_orders")
    assert repairs.field("workshop_ref").technical == "the workshop's own job number"
    assert repairs.field("id").technical == "row id"


@pytest.mark.parametrize("value", ["", "   ", True, 3])
def test_a_technical_annotation_needs_a_reason(tmp_path, value):
    dataset = _variant(lambda d: _coll(d)["fields"][0].update(dsr={"technical": value}))
    with pytest.raises(DataMapError, match="dsr.technical is the reason"):
        load_with(tmp_path, dataset)


def test_observed_and_third_party_fields_are_marked_in_the_builtin_map(sources):
    admin = sources["harmony_policy_admin"]
    observed = {(c.name, f.name) for c in admin.collections for f in c.fields if f.observed}
    assert {("portal_accounts", "last_login_at"), ("marketing_subscriptions", "consent_at"),
            ("marketing_subscriptions", "consent_source")} <= observed
    flagged = {(s.key, c.name, f.name) for s in sources.values() for c in s.collections for f in c.fields
               if f.third_parties}
    assert {("harmony_policy_admin", "claims", "description"), ("harmony_policy_admin", "incidents", "description"),
            ("harmony_contact_centre", "call_recordings", "storage_uri")} <= flagged


@pytest.mark.parametrize("flag", ["observed", "third_parties"])
def test_observed_and_third_parties_are_true_or_false(tmp_path, flag):
    dataset = _variant(lambda d: _email(d).update(dsr={flag: "yes"}))
    with pytest.raises(DataMapError, match=f"dsr.{flag} must be true or false"):
        load_with(tmp_path, dataset)

def test_every_data_category_of_the_builtin_data_map_is_named_in_every_language(sources):
    """The badges of a search's results name each category in the interface's language (issue 16, item 9)."""
    from dsr.datamap.categories import category_name, category_names

    used = {c for source in sources.values() for coll in source.collections for fld in coll.fields
            for c in fld.categories}
    assert used
    missing = {key: sorted(set(LANGUAGES) - set(category_names().get(key, {}))) for key in used}
    assert {k: v for k, v in missing.items() if v} == {}
    assert category_name("user.contact.email", "nl") == "E-mailadres"
    assert category_name("user.contact.email", "fr") == "Adresse e-mail"
    assert category_name("user.contact.email", "en") == "E-mail address"
    # A category the file does not name: Fides' own (English) name; an unknown key as it is.
    assert category_name("user.health_and_medical", "nl") == "Health and Medical Data"
    assert category_name("no.such.category", "nl") == "no.such.category"


def test_a_manual_sources_instructions_and_contact_are_given_in_every_language(sources):
    for source in sources.values():
        if source.kind.value == "manual":
            for texts in ({lang: source.instructions_for(lang) for lang in LANGUAGES},
                          {lang: source.contact_for(lang) for lang in LANGUAGES}):
                assert all(texts.values()) and len(set(texts.values())) == len(LANGUAGES), source.key
