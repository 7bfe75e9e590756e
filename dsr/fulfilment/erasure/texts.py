"""The words an erasure plan stores and shows for outcomes that are not a rule of ``rules.yml``.

The plan stores the English basis as the case file's record (as it stores the rules' English basis); a
letter or page in another language shows the text in its own language (:func:`outcome_texts`).
``{names}`` are the kept records' keys, ``{reason}`` the hold's reason as the privacy manager typed it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from dsr.domain.retention_rules import Rule

REFERENCED = "referenced"
HELD_SINCE_APPROVAL = "held-since-approval"

OUTCOME_TEXTS: dict[str, dict[str, dict[str, str]]] = {
    REFERENCED: {
        "title": {"en": "Linked to records that are kept", "nl": "Gekoppeld aan records die worden bewaard",
                  "fr": "Lié à des enregistrements conservés"},
        "basis": {"en": "Still referred to by records that are kept ({names}); deleted once they are.",
                  "nl": "Records die worden bewaard ({names}) verwijzen hier nog naar; wordt gewist zodra die "
                        "zijn gewist.",
                  "fr": "Des enregistrements conservés ({names}) y font encore référence\u202f; effacé dès que "
                        "ceux-ci le sont."},
    },
    HELD_SINCE_APPROVAL: {  # kept under the legal-hold rule (Art. 17(3)(e)), placed after approval
        "title": {"en": "Legal hold (dispute, claim in court)", "nl": "Juridische bewaarplicht (geschil, procedure)",
                  "fr": "Conservation pour litige (différend, procédure judiciaire)"},
        "basis": {"en": "Placed under a legal hold after the plan was approved: {reason}",
                  "nl": "Na goedkeuring van het wisplan onder een juridische bewaarplicht geplaatst: {reason}",
                  "fr": "Placé sous une mesure de conservation pour litige après l'approbation du plan "
                        "d'effacement\u202f: {reason}"},
    },
}


def outcome_basis(outcome: str, **values: str) -> str:
    """The English basis the plan stores for ``outcome``."""
    return OUTCOME_TEXTS[outcome]["basis"]["en"].format(**values)


_outcome_basis = outcome_basis  # the name the tests of issue 4 know


def _read_back(template: str, stored: str) -> dict[str, str] | None:
    """The values an English ``template`` was filled with to give ``stored``; None if it did not."""
    parts = re.split(r"\{(\w+)\}", template)
    pattern = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.*)" for i, p in enumerate(parts))
    match = re.fullmatch(pattern, stored, flags=re.DOTALL)
    return match.groupdict() if match else None


def outcome_texts(rule_id: str | None, basis: str | None, language: str,
                  rules: Mapping[str, Rule]) -> tuple[str | None, str | None]:
    """``(title, basis)`` of a plan item in ``language`` (nl, en, fr), for a letter or a page.

    An outcome of :data:`OUTCOME_TEXTS` is recognised by its stored English text and worded again in
    ``language``; otherwise the rule ``rule_id`` of ``rules`` gives its own title and basis. Only a rule that
    no longer exists falls back to the stored text (and no title).
    """
    for texts in OUTCOME_TEXTS.values():
        values = _read_back(texts["basis"]["en"], basis or "")
        if values is not None:
            lang = language if language in texts["basis"] else "en"
            return texts["title"][lang], texts["basis"][lang].format(**values)
    rule = rules.get(rule_id or "")
    if rule is not None:
        return rule.title_in(language), rule.basis_in(language)
    return None, basis
