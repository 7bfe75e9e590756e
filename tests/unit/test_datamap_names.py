"""The data map's names in the subject's language: given in all three languages or not at all.

A letter to a Dutch or French customer names the systems and collections it speaks of (the erasure letter's
tables, the access letter's manual sources) and the access preview shows each field's label: all come from
the data map's ``names`` and ``labels`` annotations (:mod:`dsr.datamap.parse`).
"""

from __future__ import annotations

import copy

import pytest

from dsr.datamap.model import LANGUAGES
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


def test_a_field_without_labels_falls_back_to_its_column_name(tmp_path, sources):
    repairs = load_with(tmp_path, MINIMAL)["repairs"]
    email = repairs.collection("repair_orders").field("email")
    assert email.labels == () and email.label("nl") == "email"
    assert repairs.collection("repair_orders").field("id").label("fr") == "id"
    assert sources["harmony_policy_admin"].collection("customers").field("sales_channel").label("nl") == "sales channel"


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
