"""The readable overview of an export (overview.html and overview.pdf): what a person reads first.

data.json and the CSVs are for machines and spreadsheets; PDF alone is not machine-readable (EDPB 01/2022
§156), and JSON alone is not readable. The overview summarises the file in the case's language: per
category of data how many records and values, per system the first :data:`dsr.exports.build.SAMPLE_SIZE`
records ("… and N more in data.json and the CSV files", so a file with thousands of payments stays a
usable PDF), and, for an access copy, the purposes, recipients, retention and complaint route of Harmony's
privacy statement. For portable data it says what was left out and why.

The fixed phrases are kept per language below (nl, en, fr: legal text is reviewed per language, not per
sentence, STYLE.md point 7); the layout is one template, ``exports/templates/overview.html``, rendered by
a Jinja environment of its own with autoescape on: a value typed by anyone is printed as text.
Pure of Flask; the PDF comes from :func:`dsr.pdf.render_pdf` and its deny-by-default fetcher, in a child
process of its own with its HTML (:func:`render_overview_apart`).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, select_autoescape

from dsr.exports.build import CollectionSummary, ReviewFlags
from dsr.pdf import PROJECT_ROOT

TEMPLATE_DIR = PROJECT_ROOT / "exports" / "templates"
STYLESHEET = PROJECT_ROOT / "exports" / "assets" / "overview.css"
LOCALES = {"nl": "nl_NL", "en": "en_GB", "fr": "fr_BE"}

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "title_access": "Your personal data at Harmony",
        "title_portability": "Your data to take with you",
        "intro_access": "This file is a copy of the personal data Harmony holds about you (Article 15 GDPR), "
                        "with what we use it for, who receives it and how long we keep it.",
        "intro_portability": "This file holds the personal data you provided to Harmony, in a structured, "
                             "machine-readable form that you can take to another organisation (Article 20 GDPR).",
        "reference": "Case reference", "generated": "Made on", "controller": "Controller",
        "files": "What this file contains",
        "files_text": "data.json holds all of your data in a structured form, described by the JSON Schema "
                      "named in manifest.json. The folder csv/ holds the same data as one spreadsheet file per "
                      "category. manifest.json lists every file with its SHA-256 checksum, so you can check "
                      "that nothing was changed. This overview shows a summary.",
        "categories": "Your data per category", "category": "Category", "records": "Records",
        "values": "Values", "where": "Found in", "collections": "Your data per system",
        "record": "Record", "data": "Data",
        "more": "… and {n} more in data.json and the CSV files.",
        "none": "No records of you were found in Harmony's systems.",
        "missing": "{n} records found earlier no longer exist in this system.",
        "withheld": "withheld (a security credential)",
        "review_release": "may concern others: checked by a person and released",
        "review_redact": "passages withheld by a person to protect others",
        "review_withhold": "withheld by a person to protect others",
        "withheld_others": "withheld",
        "others": "What was withheld to protect others, and why",
        "others_text": "Some of your data also concerns other people. The law does not let a copy harm their rights "
                       "(Article 15(4) GDPR), so a person at Harmony checked each such value before this file was "
                       "made. Withheld passages are shown as [withheld].",
        "partly": "partly withheld", "wholly": "withheld",
        "purposes": "What we use your data for", "recipients": "Who receives your data",
        "retention": "How long we keep your data", "complaint": "Questions or complaints",
        "excluded": "What is not included, and why", "whole": "all of it",
        "not_provided": "not provided by you nor observed from your use of our services, but produced by Harmony",
        "other_legal_basis": "not processed on the basis of your consent or a contract with you",
        "manual": "These systems are searched by a person; what they find is sent to you separately:",
        "other": "Other data",
    },
    "nl": {
        "title_access": "Uw persoonsgegevens bij Harmony",
        "title_portability": "Uw gegevens om mee te nemen",
        "intro_access": "Dit bestand is een kopie van de persoonsgegevens die Harmony over u heeft (artikel 15 "
                        "AVG), met waarvoor wij ze gebruiken, wie ze ontvangt en hoe lang wij ze bewaren.",
        "intro_portability": "Dit bestand bevat de persoonsgegevens die u aan Harmony heeft verstrekt, in een "
                             "gestructureerde, machineleesbare vorm die u kunt meenemen naar een andere "
                             "organisatie (artikel 20 AVG).",
        "reference": "Zaaknummer", "generated": "Gemaakt op", "controller": "Verwerkingsverantwoordelijke",
        "files": "Wat dit bestand bevat",
        "files_text": "data.json bevat al uw gegevens in een gestructureerde vorm, beschreven door het JSON "
                      "Schema dat in manifest.json staat. De map csv/ bevat dezelfde gegevens als één "
                      "spreadsheetbestand per categorie. manifest.json noemt elk bestand met zijn SHA-256-"
                      "controlegetal, zodat u kunt nagaan dat niets is veranderd. Dit overzicht is een samenvatting.",
        "categories": "Uw gegevens per categorie", "category": "Categorie", "records": "Records",
        "values": "Waarden", "where": "Gevonden in", "collections": "Uw gegevens per systeem",
        "record": "Record", "data": "Gegevens",
        "more": "… en nog {n} in data.json en de CSV-bestanden.",
        "none": "In de systemen van Harmony zijn geen gegevens van u gevonden.",
        "missing": "{n} eerder gevonden records bestaan niet meer in dit systeem.",
        "withheld": "niet verstrekt (een beveiligingsgegeven)",
        "review_release": "kan anderen betreffen: door een medewerker gecontroleerd en verstrekt",
        "review_redact": "passages door een medewerker weggelaten ter bescherming van anderen",
        "review_withhold": "door een medewerker weggelaten ter bescherming van anderen",
        "withheld_others": "niet verstrekt",
        "others": "Wat wij ter bescherming van anderen hebben weggelaten, en waarom",
        "others_text": "Een deel van uw gegevens gaat ook over andere mensen. Een kopie mag hun rechten niet "
                       "schaden (artikel 15, vierde lid, AVG); daarom heeft een medewerker van Harmony elk zo'n "
                       "gegeven gecontroleerd voordat dit bestand werd gemaakt. Weggelaten passages staan er als "
                       "[withheld].",
        "partly": "gedeeltelijk weggelaten", "wholly": "weggelaten",
        "purposes": "Waarvoor wij uw gegevens gebruiken", "recipients": "Wie uw gegevens ontvangt",
        "retention": "Hoe lang wij uw gegevens bewaren", "complaint": "Vragen of klachten",
        "excluded": "Wat er niet in staat, en waarom", "whole": "alles",
        "not_provided": "niet door u verstrekt of bij uw gebruik van onze diensten waargenomen, maar door Harmony gemaakt",
        "other_legal_basis": "niet verwerkt op grond van uw toestemming of een overeenkomst met u",
        "manual": "Deze systemen doorzoekt een medewerker; wat daar wordt gevonden, sturen wij u apart:",
        "other": "Overige gegevens",
    },
    "fr": {
        "title_access": "Vos données personnelles chez Harmony",
        "title_portability": "Vos données à emporter",
        "intro_access": "Ce fichier est une copie des données personnelles qu'Harmony détient à votre sujet "
                        "(article 15 du RGPD), avec l'usage que nous en faisons, leurs destinataires et leur "
                        "durée de conservation.",
        "intro_portability": "Ce fichier contient les données personnelles que vous avez fournies à Harmony, "
                             "sous une forme structurée et lisible par machine, que vous pouvez transmettre à "
                             "un autre organisme (article 20 du RGPD).",
        "reference": "Référence du dossier", "generated": "Établi le", "controller": "Responsable du traitement",
        "files": "Contenu de ce fichier",
        "files_text": "data.json contient toutes vos données sous une forme structurée, décrite par le schéma "
                      "JSON indiqué dans manifest.json. Le dossier csv/ contient les mêmes données, un fichier "
                      "tableur par catégorie. manifest.json indique pour chaque fichier sa somme de contrôle "
                      "SHA-256, afin que vous puissiez vérifier que rien n'a été modifié. Ce document en est "
                      "un résumé.",
        "categories": "Vos données par catégorie", "category": "Catégorie", "records": "Enregistrements",
        "values": "Valeurs", "where": "Trouvées dans", "collections": "Vos données par système",
        "record": "Enregistrement", "data": "Données",
        "more": "… et {n} autres dans data.json et les fichiers CSV.",
        "none": "Aucune donnée vous concernant n'a été trouvée dans les systèmes d'Harmony.",
        "missing": "{n} enregistrements trouvés auparavant n'existent plus dans ce système.",
        "withheld": "non communiqué (donnée de sécurité)",
        "review_release": "peut concerner des tiers : vérifié par une personne et communiqué",
        "review_redact": "passages retirés par une personne pour protéger des tiers",
        "review_withhold": "retiré par une personne pour protéger des tiers",
        "withheld_others": "non communiqué",
        "others": "Ce qui a été retiré pour protéger des tiers, et pourquoi",
        "others_text": "Une partie de vos données concerne aussi d'autres personnes. Une copie ne peut pas porter "
                       "atteinte à leurs droits (article 15, paragraphe 4, du RGPD) ; une personne chez Harmony a "
                       "donc vérifié chacune de ces données avant que ce fichier ne soit établi. Les passages "
                       "retirés apparaissent sous la forme [withheld].",
        "partly": "retiré en partie", "wholly": "retiré",
        "purposes": "À quelles fins nous utilisons vos données", "recipients": "Qui reçoit vos données",
        "retention": "Combien de temps nous conservons vos données", "complaint": "Questions ou réclamations",
        "excluded": "Ce qui n'est pas inclus, et pourquoi", "whole": "entièrement",
        "not_provided": "ni fourni par vous ni observé lors de votre utilisation de nos services, mais produit par Harmony",
        "other_legal_basis": "non traité sur la base de votre consentement ou d'un contrat avec vous",
        "manual": "Ces systèmes sont consultés par une personne ; ce qu'elle trouve vous est envoyé séparément :",
        "other": "Autres données",
    },
}


@cache
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATE_DIR)), autoescape=select_autoescape(default=True),
                       trim_blocks=True, lstrip_blocks=True)


def category_rows(summaries: list[CollectionSummary], names: dict[str, str], other: str) -> list[dict[str, Any]]:
    """Per category of the statement (in ``names``' order, then "other"): records and values, and where."""
    rows: dict[str, dict[str, Any]] = {}
    for summary in summaries:
        for category, (records, values) in summary.category_counts.items():
            row = rows.setdefault(category, {"id": category, "name": names.get(category, other), "records": 0,
                                             "value_count": 0, "where": []})
            row["records"] += records
            row["value_count"] += values
            row["where"].append(summary.header["label"])
    order = list(names) + ["other"]
    return sorted(rows.values(), key=lambda r: order.index(r["id"]) if r["id"] in order else len(order))


def retention_rows(summaries: list[CollectionSummary]) -> list[dict[str, Any]]:
    """Each retention rule once, with the systems' collections it applies to and the statement's words."""
    rows: dict[str, dict[str, Any]] = {}
    for summary in summaries:
        if not summary.record_count:
            continue
        for item in summary.header.get("retention", []):
            row = rows.setdefault(item["rule_id"] or item["title"], {
                "title": item["title"], "statement": list(item["statement"]), "collections": []})
            row["collections"].append(summary.header["label"])
    return list(rows.values())


def withheld_rows(rest: dict[str, Any], labels: _Labels) -> list[dict[str, Any]]:
    """What a person withheld to protect others (Art. 15(4)), per field, decision and reason, with a count."""
    flags = (rest.get("access") or {}).get("redaction_review", [])
    if isinstance(flags, ReviewFlags):  # as the export writes them: counted as they were written
        counted = flags.withheld.items()
    else:
        counted = Counter((f["source"], f["collection"], f["field"], f["decision"], f.get("reason") or "")
                          for f in flags if f.get("decision") in ("redact", "withhold")).items()
    rows = []
    for (source, collection, name, decision, reason), count in counted:
        where = {"source": source, "collection": collection}
        rows.append({"collection": labels.collection(where), "field": labels.field(where, name),
                     "decision": decision, "reason": reason, "count": count})
    return rows


def render_overview(*, head: dict[str, Any], summaries: list[CollectionSummary], rest: dict[str, Any],
                    category_names: dict[str, str], complaint: dict[str, Any], timezone: str) -> str:
    """The overview as a complete HTML document (its stylesheet inlined: it is read outside dsr)."""
    lang = head["language"]
    labels = _Labels(lang)
    words = PHRASES[lang]
    locale = LOCALES[lang]
    generated = datetime.fromisoformat(head["generated_at"].replace("Z", "+00:00"))
    return _environment().get_template("overview.html").render(
        head=head, lang=lang, t=words, summaries=summaries, rest=rest, complaint=complaint,
        categories=category_rows(summaries, category_names, words["other"]),
        retention=retention_rows(summaries), withheld=withheld_rows(rest, labels),
        generated=format_datetime(generated, "long", tzinfo=ZoneInfo(timezone), locale=locale),
        number=lambda n: format_decimal(n, locale=locale),
        css=Path(STYLESHEET).read_text(encoding="utf-8"),
        show=_show, label=labels.field, collection_label=labels.collection)


class _Labels:
    """Field and collection names as the data map gives them in the overview's language (issue 14.11): never
    the column name ("amount cents") where the data map has a label ("Bedrag")."""

    def __init__(self, language: str) -> None:
        from flask import current_app, has_app_context

        from dsr.datamap.sources import DataMapError, load_sources

        self.language = language
        try:
            self.sources = load_sources(current_app.config) if has_app_context() else {}
        except DataMapError:
            self.sources = {}

    def _collection(self, where: dict[str, Any]):
        source = self.sources.get(where.get("source") or "")
        try:
            return source.collection(where.get("collection") or "") if source else None
        except KeyError:
            return None

    def field(self, where: dict[str, Any], name: str) -> str:
        coll = self._collection(where)
        try:
            return coll.field(name).label(self.language) if coll else name.replace("_", " ")
        except KeyError:
            return name.replace("_", " ")

    def collection(self, where: dict[str, Any]) -> str:
        coll = self._collection(where)
        return coll.display_name(self.language) if coll else (where.get("collection") or "").replace("_", " ")


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def render_overview_apart(**overview: Any) -> tuple[str, bytes]:
    """The overview's HTML (:func:`render_overview` of ``overview``) and its PDF, both made in a child process
    (:func:`dsr.pdf.render_apart`): WeasyPrint's 25 MB for the pages, and the template and the locale data the
    HTML is written with (2 MB at the end of a worker's export, the top of its peak: issue 15, item 4), are the
    child's and leave with it, not kept by the worker after the export."""
    from dsr.pdf import render_apart

    return render_apart(lambda: render_overview(**overview))
