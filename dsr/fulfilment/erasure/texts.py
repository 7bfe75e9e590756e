"""The words an erasure plan stores and shows for outcomes that are not a rule of ``rules.yml``.

The plan stores the English basis as the case file's record (as it stores the rules' English basis); a
letter or page in another language shows the text in its own language (:func:`outcome_texts`).
``{names}`` are the kept records' keys, ``{reason}`` the hold's reason as the privacy manager typed it. A
record kept by the privacy manager's decision stores the decision's reason; its letter quotes instead the
text written for the subject in the letter's language after the outcome's title (:func:`kept_by_decision`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from dsr.domain.retention import NO_RULE, NO_RULE_BASIS, UNCLASSIFIED_BASIS
from dsr.domain.retention_rules import Rule

REFERENCED = "referenced"
HELD_SINCE_APPROVAL = "held-since-approval"
SHARED = "shared"
SHARED_ARTICLE = "GDPR Art. 17(1); Art. 5(1)(f)"
KEPT_BY_DECISION = "kept-by-decision"
UNCLASSIFIED = "unclassified"
NO_STRATEGY = "no-erase-strategy"

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
    NO_RULE: {
        "title": {"en": "Review: no retention rule applies", "nl": "Beoordelen: geen bewaarregel van toepassing",
                  "fr": "À examiner\u202f: aucune règle de conservation ne s'applique"},
        "basis": {"en": NO_RULE_BASIS,
                  "nl": "Op dit record is geen bewaarregel van toepassing: geen regel dekt de verzameling of de "
                        "gegevenscategorieën. Het wordt niet gewist voordat de privacy manager beslist.",
                  "fr": "Aucune règle de conservation ne s'applique à cet enregistrement\u202f: aucune règle ne "
                        "couvre sa collection ni ses catégories de données. Il n'est pas effacé avant la décision "
                        "du responsable de la protection des données."},
    },
    UNCLASSIFIED: {
        "title": {"en": "Review: no retention rule applies", "nl": "Beoordelen: geen bewaarregel van toepassing",
                  "fr": "À examiner\u202f: aucune règle de conservation ne s'applique"},
        "basis": {"en": UNCLASSIFIED_BASIS,
                  "nl": "Op dit record is geen bewaarregel van toepassing: de velden {fields} hebben geen "
                        "gegevenscategorie. Het wordt niet gewist voordat de privacy manager beslist.",
                  "fr": "Aucune règle de conservation ne s'applique à cet enregistrement\u202f: les champs "
                        "{fields} n'ont pas de catégorie de données. Il n'est pas effacé avant la décision du "
                        "responsable de la protection des données."},
    },
    NO_STRATEGY: {
        "title": {"en": "Review: the data map gives no erase strategy", "nl": "Beoordelen: de datakaart geeft geen "
                  "wismethode", "fr": "À examiner\u202f: la cartographie ne prévoit pas de méthode d'effacement"},
        "basis": {"en": "The data map gives no erase strategy for {fields}: it is not erased until the privacy "
                        "manager decides.",
                  "nl": "De datakaart geeft geen wismethode voor {fields}: het wordt niet gewist voordat de privacy "
                        "manager beslist.",
                  "fr": "La cartographie ne prévoit pas de méthode d'effacement pour {fields}\u202f: rien n'est "
                        "effacé avant la décision du responsable de la protection des données."},
    },
    SHARED: {
        "title": {"en": "Shared with another person", "nl": "Gedeeld met een ander",
                  "fr": "Partagé avec une autre personne"},
        "basis": {"en": "This record is also another person's ({reason}). It is never erased automatically: "
                        "the privacy manager keeps it, or erases only the subject's own fields.",
                  "nl": "Dit record hoort ook bij een ander ({reason}). Het wordt nooit automatisch gewist: de "
                        "privacy manager bewaart het, of wist alleen de eigen gegevens van betrokkene.",
                  "fr": "Cet enregistrement concerne aussi une autre personne ({reason}). Il n'est jamais "
                        "effacé automatiquement\u202f: le responsable le conserve, ou n'efface que les données "
                        "propres à la personne concernée."},
    },
    KEPT_BY_DECISION: {
        "title": {"en": "Kept by the privacy manager's decision", "nl": "Bewaard op besluit van de privacy manager",
                  "fr": "Conservé sur décision du responsable de la protection des données"},
        "basis": {"en": "Kept by the privacy manager's decision: {reason}",
                  "nl": "Bewaard op besluit van de privacy manager: {reason}",
                  "fr": "Conservé sur décision du responsable de la protection des données\u202f: {reason}"},
    },
}

# A person's tasks in an erasure plan: the paper archive's file and a processor's copy (Art. 28(3)(g)).
TASK_TEXTS: dict[str, dict] = {
    "paper": {
        "title": {"en": "Destroy the paper file", "nl": "Het papieren dossier vernietigen",
                  "fr": "Détruire le dossier papier"},
        "basis": {"en": "Destroy the papers of the subject's file that are not kept (invoices: 7 years from the "
                        "end of the book year) and record what was destroyed.",
                  "nl": "De papieren in het dossier van betrokkene vernietigen die niet worden bewaard (facturen: "
                        "7 jaar na het einde van het boekjaar) en vastleggen wat is vernietigd.",
                  "fr": "Détruire les documents du dossier de la personne concernée qui ne sont pas conservés "
                        "(factures\u202f: 7 ans après la fin de l'exercice) et consigner ce qui a été détruit."},
        "article": "GDPR Art. 17(1)",
    },
    "processor": {
        "title": {"en": "Instruct the processor to erase (Art. 28(3)(g))",
                  "nl": "De verwerker opdragen te wissen (art. 28(3)(g))",
                  "fr": "Donner instruction au sous-traitant d'effacer (art. 28(3)(g))"},
        "basis": {"en": "The processor holds the subject's data on Harmony's behalf: instruct it to erase them "
                        "under the processing agreement and keep its written confirmation.",
                  "nl": "De verwerker bewaart gegevens van betrokkene namens Harmony: draag hem op die te wissen "
                        "op grond van de verwerkersovereenkomst en bewaar zijn schriftelijke bevestiging.",
                  "fr": "Le sous-traitant détient des données de la personne concernée pour le compte de "
                        "Harmony\u202f: lui donner instruction de les effacer en vertu de l'accord de traitement "
                        "et conserver sa confirmation écrite."},
        "article": "GDPR Art. 17(1); Art. 28(3)(g)",
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


def kept_by_decision(item) -> bool:
    """Whether a plan item is a record the privacy manager decided to keep: its letter quotes why, as written
    for the subject (:data:`dsr.texts.models.TextPurpose.ERASURE_KEPT`), never the decision's reason."""
    return (not item.is_task and item.action.value == "keep"
            and _read_back(OUTCOME_TEXTS[KEPT_BY_DECISION]["basis"]["en"], item.basis or "") is not None)


def held_since_approval(item) -> bool:
    """Whether a plan item was kept because a legal hold was placed on it after the plan was approved. Its
    letter does not quote the hold's reason (typed for the case file, in the typist's language): it says so
    in its own words and quotes a text written for the subject, if the team wrote one."""
    return (not item.is_task and item.action.value == "keep"
            and _read_back(OUTCOME_TEXTS[HELD_SINCE_APPROVAL]["basis"]["en"], item.basis or "") is not None)


# What a letter says of a hold placed after approval, without the reason typed for the case file.
HELD_SINCE_APPROVAL_LETTER = {
    "en": "Placed under a legal hold after the plan was approved.",
    "nl": "Na goedkeuring van het wisplan onder een juridische bewaarplicht geplaatst.",
    "fr": "Placé sous une mesure de conservation pour litige après l'approbation du plan d'effacement.",
}


def task_title(kind: str, language: str) -> str:
    texts = TASK_TEXTS[kind]["title"]
    return texts.get(language) or texts["en"]


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
