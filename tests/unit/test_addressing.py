"""The family name a formal salutation uses, and the authority of another EU country (issue 14.8)."""

from __future__ import annotations

import pytest

from dsr.letters.addressing import capitalised_particle, family_name, own_authority


@pytest.mark.parametrize(("name", "family"), [
    ("Jan van der Laarse", "van der Laarse"),
    ("Zoë Van den Broeck", "Van den Broeck"),
    ("Francis Dodd", "Dodd"),
    ("Hélène Zoë Françoise Schröder", "Schröder"),
    ("Marie de la Tour", "de la Tour"),
    ("Pieter 't Hart", "'t Hart"),
    ("Madonna", "Madonna"),
    ("  ", ""),
])
def test_the_family_name_starts_at_the_first_particle_or_is_the_last_word(name, family):
    assert family_name(name) == family


def test_the_dutch_salutation_capitalises_the_first_particle():
    assert capitalised_particle("van der Laarse") == "Van der Laarse"
    assert capitalised_particle("Dodd") == "Dodd"


def test_another_eu_country_has_its_own_authority_the_netherlands_and_third_countries_none():
    assert own_authority("BE")["web"] == "www.dataprotectionauthority.be"
    assert own_authority("fr")["name"].startswith("Commission nationale de l'informatique")
    assert own_authority("NL") is None
    assert own_authority("GB") is None
    assert own_authority(None) is None
