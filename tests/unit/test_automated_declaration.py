"""The controller's facts about automated decisions as a setting (issue 18, item 2; issue 14, item 9)."""

from __future__ import annotations

import pytest
import yaml

from dsr.automated.declaration import DEFAULT_PATH, DeclarationError, load_declaration, parse_declaration

ONE = {
    "intro": {"nl": "Harmony neemt deze besluiten geautomatiseerd.", "en": "Harmony takes these decisions "
              "by automated means only.", "fr": "Harmony prend ces décisions de manière automatisée."},
    "decisions": [{
        "id": "claim_fast_track",
        "name": {"nl": "Snelle schadeafhandeling", "en": "Fast-track claims", "fr": "Sinistres accélérés"},
        "logic": {"nl": "Een regel vergelijkt het bedrag.", "en": "A rule compares the amount.",
                  "fr": "Une règle compare le montant."},
        "consequences": {"nl": "Uw claim wordt betaald of doorgestuurd.", "en": "Your claim is paid or passed on.",
                         "fr": "Votre sinistre est payé ou transmis."},
    }],
}


def test_harmony_declares_none_in_each_language():
    declaration = load_declaration({}, path=DEFAULT_PATH)
    assert declaration.none and declaration.decisions == ()
    assert "no decisions about you based solely on automated processing" in declaration.text("en")
    assert "uitsluitend berusten op geautomatiseerde verwerking" in declaration.text("nl")
    assert "exclusivement sur un traitement automatisé" in declaration.text("fr")
    assert declaration.in_language("fr")["none"] is True


def test_the_configured_file_is_read(tmp_path):
    path = tmp_path / "adm.yml"
    path.write_text(yaml.safe_dump(ONE, allow_unicode=True), encoding="utf-8")
    declaration = load_declaration({"AUTOMATED_DECISIONS_FILE": str(path)})
    assert not declaration.none
    assert declaration.get("claim_fast_track").name["fr"] == "Sinistres accélérés"
    assert declaration.get("other") is None
    assert declaration.text("en") == ("Harmony takes these decisions by automated means only. Fast-track claims: "
                                      "A rule compares the amount. Your claim is paid or passed on.")
    assert declaration.in_language("nl")["decisions"] == [{
        "id": "claim_fast_track", "name": "Snelle schadeafhandeling", "logic": "Een regel vergelijkt het bedrag.",
        "consequences": "Uw claim wordt betaald of doorgestuurd."}]


@pytest.mark.parametrize(("change", "problem"), [
    (lambda d: d["decisions"][0]["logic"].pop("fr"), "decision claim_fast_track logic: no text in fr"),
    (lambda d: d["decisions"][0].update(id="Claim Fast"), "id must be lower case"),
    (lambda d: d["decisions"].append(dict(d["decisions"][0])), "decision claim_fast_track: declared twice"),
    (lambda d: d.pop("intro"), "intro (the sentence before the list): give the text"),
    (lambda d: d.update(decisions=[]), "none (the sentence that says there are no such decisions): give the text"),
    (lambda d: d.update(decisions="none"), "'decisions' must be a list"),
    (lambda d: d.pop("decisions"), "needs a 'decisions' list"),
])
def test_a_declaration_dsr_cannot_state_is_refused_naming_the_problem(change, problem):
    data = yaml.safe_load(yaml.safe_dump(ONE))
    change(data)
    with pytest.raises(DeclarationError) as refused:
        parse_declaration(data, origin="adm.yml")
    assert problem in str(refused.value)


def test_an_unreadable_file_is_named(tmp_path):
    with pytest.raises(DeclarationError, match="missing.yml: cannot be read"):
        load_declaration({"AUTOMATED_DECISIONS_FILE": str(tmp_path / "missing.yml")})
