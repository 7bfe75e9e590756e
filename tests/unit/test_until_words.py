"""A kept record's "until" as the retention engine stores it (English, the case file's record), shown in the
reader's language on the erasure plan (issue 16, item 9): every form the engine writes, a further rule by its
title (never its id), and a text it does not know shown as stored."""

from __future__ import annotations

import pytest
from flask_babel import refresh

from dsr.domain.retention_rules import load_rules
from dsr.fulfilment.erasure.until import until_words
from dsr.letters.facts import period_text
from dsr.timeutil import format_day

RULES = {r.id: r for r in load_rules().rules}
CASES = {
    "while the policy is active": {
        "nl": "zolang de polis loopt", "fr": "tant que la police est en vigueur"},
    "while the policy is active, or while the claim is open; fiscal-retention: until 2033-12-31 (P7Y from the end "
    "of the book year, 2026-12-31)": {
        "nl": "zolang de polis loopt, of zolang de schade openstaat; Fiscale bewaarplicht facturen en "
              "premiebetalingen (7 jaar): tot en met 31 dec 2033 (7 jaar vanaf het einde van het boekjaar, "
              "31 dec 2026)",
        "fr": "tant que la police est en vigueur, ou tant que le sinistre est en cours; Obligation légale de "
              "conservation fiscale des factures et des paiements de primes (7 ans) : jusqu’au 31 déc. 2033 "
              "inclus (7 ans à compter de la fin de l’exercice, le 31 déc. 2026)"},
    "until the legal hold is released (dispute with the garage)": {
        "nl": "tot de juridische bewaarplicht wordt opgeheven (dispute with the garage)",
        "fr": "jusqu’à la levée de la conservation pour litige (dispute with the garage)"},
    "while the contract runs, then P7Y from the end of the contract": {
        "nl": "zolang het contract loopt, daarna 7 jaar vanaf het einde van het contract",
        "fr": "tant que le contrat court, puis 7 ans à compter de la fin du contrat"},
    "claim_closed_on unknown: check by hand before erasing": {
        "nl": "de dag waarop de schade werd afgesloten onbekend: controleer dit met de hand voor het wissen",
        "fr": "le jour de la clôture du sinistre inconnu : à vérifier à la main avant l’effacement"},
    "until 2033-03-02 (the record's stated retention)": {
        "nl": "tot en met 2 mrt 2033 (de bewaartermijn die het gegeven zelf noemt)",
        "fr": "jusqu’au 2 mars 2033 inclus (la durée de conservation indiquée dans la donnée)"},
    "until the privacy manager decides": {
        "nl": "tot de privacy manager beslist", "fr": "jusqu’à la décision du responsable de la vie privée"},
    "kept by the privacy manager's decision": {
        "nl": "bewaard op besluit van de privacy manager", "fr": "conservé sur décision du responsable de la vie privée"},
    "shared with another person: only the subject's own fields (email, phone) are erased": {
        "nl": "gedeeld met een ander: alleen de eigen gegevens van de betrokkene (email, phone) worden gewist",
        "fr": "partagé avec une autre personne : seules les données propres à la personne concernée (email, phone) "
              "sont effacées"},
    "something an older version wrote": {"nl": "something an older version wrote", "fr": "something an older version wrote"},
}


@pytest.mark.parametrize("language", ["nl", "fr"])
@pytest.mark.parametrize("stored", list(CASES))
def test_the_engines_until_is_worded_in_the_readers_language(app, stored, language):
    with app.test_request_context(headers={"Accept-Language": language}):
        refresh()
        words = until_words(stored, language, RULES, day=format_day, period=period_text)
    assert words == CASES[stored][language]
    assert "fiscal-retention" not in words


def test_english_stays_as_the_engine_wrote_it_but_names_a_further_rule_by_its_title(app):
    stored = "while the policy is active; fiscal-retention: until 2033-12-31 (P7Y from 2026-12-31)"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        words = until_words(stored, "en", RULES, day=format_day, period=period_text)
    assert words == ("while the policy is active; Statutory fiscal retention of invoices and premium payments "
                     "(7 years): until 31 Dec 2033 (7 years from 31 Dec 2026)")
    assert "2033-12-31" not in words  # the stored dates are read back, not shown as ISO text
