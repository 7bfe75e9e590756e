"""Every retention rule in three languages: the letters quote its title and basis to the subject.

``rules.yml`` gives ``title``/``basis`` (English, stored on erasure plans as the case file's record) plus
``title_nl``/``basis_nl`` and ``title_fr``/``basis_fr``; a rule missing one is refused, naming the rule.
"""

from __future__ import annotations

import copy

import pytest
import yaml

from dsr.domain.retention_rules import DEFAULT_RULES_PATH, LANGUAGES, RulesError, load_rules, rules_from_data

RULES = load_rules()
RAW = yaml.safe_load(DEFAULT_RULES_PATH.read_text(encoding="utf-8"))


def _without(rule_id: str, *keys: str) -> dict:
    data = copy.deepcopy(RAW)
    rule = next(r for r in data["rules"] if r["id"] == rule_id)
    for key in keys:
        rule.pop(key)
    return data


@pytest.mark.parametrize("rule", RULES.rules, ids=lambda r: r.id)
def test_every_shipped_rule_has_its_title_and_basis_in_each_language(rule):
    titles = {lang: rule.title_in(lang) for lang in LANGUAGES}
    bases = {lang: rule.basis_in(lang) for lang in LANGUAGES}
    assert all(t.strip() for t in titles.values()) and all(b.strip() for b in bases.values())
    assert (titles["en"], bases["en"]) == (rule.title, rule.basis)  # the English stays as it was
    assert len(set(titles.values())) == 3 and len(set(bases.values())) == 3, "a translation copies another language"


def test_the_texts_use_avg_and_rgpd_terms():
    fiscal = RULES.get("fiscal-retention")
    assert "Wettelijke verplichting" in fiscal.basis_in("nl") and "7 jaar" in fiscal.basis_in("nl")
    assert "Obligation légale" in fiscal.basis_in("fr") and "7 ans" in fiscal.basis_in("fr")
    assert "rechtsvordering" in RULES.get("legal-hold").basis_in("nl")  # Art. 17(3)(e) AVG, as worded there
    assert "droits en justice" in RULES.get("legal-hold").basis_in("fr")  # Art. 17(3)(e) RGPD
    assert "artikel 17, derde lid, AVG" in RULES.get("no-exemption").basis_in("nl")
    assert "article 17, paragraphe 3, du RGPD" in RULES.get("no-exemption").basis_in("fr")
    assert RULES.get("call-recording").title_in("fr").startswith("Enregistrements d'appels")


def test_an_unknown_language_falls_back_to_english():
    rule = RULES.get("contract")
    assert (rule.title_in("de"), rule.basis_in("de")) == (rule.title, rule.basis)


@pytest.mark.parametrize("key", ["title_fr", "basis_nl", "basis_fr", "title_nl"])
def test_a_rule_without_a_translation_is_refused_with_the_rule_named(key):
    with pytest.raises(RulesError) as caught:
        rules_from_data(_without("fiscal-retention", key), origin="rules.yml")
    problems = caught.value.problems
    assert len(problems) == 1 and problems[0].startswith(f"rule 'fiscal-retention': {key} is required")
    assert "nl, en, fr" in problems[0]


def test_an_empty_translation_is_refused_and_all_missing_keys_are_named_at_once():
    data = _without("marketing", "basis_fr", "title_fr")
    next(r for r in data["rules"] if r["id"] == "marketing")["basis_nl"] = "   "
    with pytest.raises(RulesError) as caught:
        rules_from_data(data)
    assert sorted(caught.value.problems) == sorted([
        "rule 'marketing': title_fr is required (text): the letters quote the title in nl, en, fr, so every rule "
        "gives title, title_nl, title_fr",
        "rule 'marketing': basis_nl, basis_fr are required (text): the letters quote the basis in nl, en, fr, so "
        "every rule gives basis, basis_nl, basis_fr",
    ])


def test_a_misspelt_language_key_is_an_unknown_key():
    data = copy.deepcopy(RAW)
    next(r for r in data["rules"] if r["id"] == "contract")["basis_de"] = "Vertragserfüllung"
    with pytest.raises(RulesError, match=r"rule 'contract': unknown key 'basis_de'"):
        rules_from_data(data)


# -- outcomes that are not rules: "referenced" and a hold placed after approval (dsr/fulfilment/erasure/texts.py) ----

def test_the_special_outcomes_have_a_title_and_basis_in_each_language():
    from dsr.fulfilment.erasure import OUTCOME_TEXTS

    for outcome, texts in OUTCOME_TEXTS.items():
        for part in ("title", "basis"):
            assert set(texts[part]) == set(LANGUAGES), (outcome, part)
            assert len(set(texts[part].values())) == 3, (outcome, part)


@pytest.mark.parametrize(("lang", "expected"), [
    ("nl", "Records die worden bewaard (harmony_policy_admin/invoices/id=3) verwijzen hier nog naar"),
    ("fr", "Des enregistrements conservés (harmony_policy_admin/invoices/id=3) y font encore référence"),
    ("en", "Still referred to by records that are kept (harmony_policy_admin/invoices/id=3)"),
])
def test_a_stored_referenced_basis_is_worded_again_in_the_language_asked_for(lang, expected):
    from dsr.fulfilment.erasure.texts import REFERENCED, _outcome_basis, outcome_texts

    stored = _outcome_basis(REFERENCED, names="harmony_policy_admin/invoices/id=3")
    assert stored == ("Still referred to by records that are kept (harmony_policy_admin/invoices/id=3); deleted "
                      "once they are.")  # what the plan stores, unchanged
    title, basis = outcome_texts(REFERENCED, stored, lang, {r.id: r for r in RULES.rules})
    assert basis.startswith(expected) and title


def test_a_hold_placed_after_approval_keeps_its_reason_in_every_language():
    from dsr.fulfilment.erasure.texts import HELD_SINCE_APPROVAL, _outcome_basis, outcome_texts

    rules = {r.id: r for r in RULES.rules}
    stored = _outcome_basis(HELD_SINCE_APPROVAL, reason="Court case C/10/123: pending")
    assert stored == "Placed under a legal hold after the plan was approved: Court case C/10/123: pending"
    assert outcome_texts("legal-hold", stored, "nl", rules) == (
        "Juridische bewaarplicht (geschil, procedure)",
        "Na goedkeuring van het wisplan onder een juridische bewaarplicht geplaatst: Court case C/10/123: pending")
    title, basis = outcome_texts("legal-hold", stored, "fr", rules)
    assert basis.startswith("Placé sous une mesure de conservation pour litige") and basis.endswith("C/10/123: pending")


def test_a_rule_is_quoted_from_the_rules_file_and_a_removed_rule_from_the_stored_text():
    from dsr.fulfilment.erasure import outcome_texts

    rules = {r.id: r for r in RULES.rules}
    fiscal = RULES.get("fiscal-retention")
    assert outcome_texts("fiscal-retention", fiscal.basis, "fr", rules) == (fiscal.title_fr, fiscal.basis_fr)
    assert outcome_texts("fiscal-retention", "an older wording", "nl", rules) == (fiscal.title_nl, fiscal.basis_nl)
    assert outcome_texts("retired-rule", "Kept under a rule since removed.", "nl", rules) == (
        None, "Kept under a rule since removed.")


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "GDPR Art. 6(1)(f) and recital 47; Art. 17(1)(a) not met"),
    ("nl", "AVG art. 6(1)(f) en overweging 47; art. 17(1)(a) niet vervuld"),
    ("fr", "RGPD art. 6(1)(f) et considérant 47\u202f; art. 17(1)(a) non rempli"),
])
def test_article_references_read_in_the_letters_language(language, expected):
    from dsr.domain.retention_rules import localise_article

    assert localise_article("GDPR Art. 6(1)(f) and recital 47; Art. 17(1)(a) not met", language) == expected


# The access answer's "How long we keep it" (Art. 15(1)(d)) is not what an erasure does: "Invitations to the
# survey, erased" told a subject who only asked for access that the records were erased.
ERASING_WORDS = {"en": ("erased", "no exemption"), "nl": ("verwijderd", "geen uitzondering"),
                 "fr": ("effacé", "sans exception")}


@pytest.mark.parametrize("rule", RULES.rules, ids=lambda r: r.id)
def test_how_long_a_rule_keeps_records_never_speaks_of_erasing_them(rule):
    if rule.id == "legal-hold":  # only on a hold, not a retention period: access answers leave it out
        return
    texts = {lang: rule.how_long_in(lang) for lang in LANGUAGES}
    for lang, text in texts.items():
        assert not any(word in text.lower() for word in ERASING_WORDS[lang]), (lang, text)
    assert len(set(texts.values())) == 3, "a translation copies another language"


def test_how_long_falls_back_to_the_title_where_the_title_already_says_it():
    fiscal = RULES.get("fiscal-retention")
    assert fiscal.how_long_in("nl") == fiscal.title_in("nl")
    assert RULES.get("survey-invitation").how_long_in("fr") == "Invitations à l'enquête de satisfaction, pour l'enquête"


def test_how_long_given_in_one_language_only_is_refused():
    with pytest.raises(RulesError, match="how_long_fr is required"):
        rules_from_data(_without("marketing", "how_long_fr"))
