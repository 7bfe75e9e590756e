"""How a letter addresses the subject (issue 14.8): the family name for a formal salutation, and, for a subject
living in another EU or EEA country, that country's own supervisory authority (GDPR Art. 77(1)).

Pure: no database, no Flask. The salutation's words are in the per-language layouts; this module only finds
the family name ("Jan van der Laarse" → "van der Laarse"; the Dutch salutation writes it "Van der Laarse",
with the particle capitalised because no first name precedes it) and the authority.
"""

from __future__ import annotations

# Name particles that begin a family name (Dutch tussenvoegsels, and the French, German, Italian, Spanish
# and Portuguese ones found among Harmony's customers).
PARTICLES = frozenset({
    "van", "de", "der", "den", "het", "ten", "ter", "te", "op", "in", "'t", "’t", "vd", "van't",
    "d'", "du", "des", "le", "la", "von", "zu", "di", "da", "del", "della", "dos", "das", "do", "y",
})


def family_name(name: str) -> str:
    """The family name within ``name``: from the first particle after the first word, else the last word."""
    words = (name or "").split()
    if len(words) <= 1:
        return " ".join(words)
    for i in range(1, len(words) - 1):
        if words[i].casefold() in PARTICLES:
            return " ".join(words[i:])
    return words[-1]


def capitalised_particle(family: str) -> str:
    """"van der Laarse" → "Van der Laarse": Dutch writes the first particle with a capital when no first name
    or initial precedes it, as after "heer" or "mevrouw"."""
    return family[:1].upper() + family[1:] if family else family


# Supervisory authorities of the EU and EEA countries (Art. 51 GDPR), by ISO 3166 code: the name as the
# authority itself uses it, and its website. The Netherlands is not listed: the Autoriteit Persoonsgegevens is
# in every letter already. Germany supervises companies per federal state, so the letter says so.
AUTHORITIES: dict[str, dict[str, str]] = {
    "AT": {"name": "Österreichische Datenschutzbehörde", "web": "www.dsb.gv.at"},
    "BE": {"name": "Gegevensbeschermingsautoriteit / Autorité de protection des données",
           "web": "www.dataprotectionauthority.be"},
    "BG": {"name": "Комисия за защита на личните данни (Commission for Personal Data Protection)",
           "web": "www.cpdp.bg"},
    "CY": {"name": "Commissioner for Personal Data Protection", "web": "www.dataprotection.gov.cy"},
    "CZ": {"name": "Úřad pro ochranu osobních údajů", "web": "www.uoou.cz"},
    "DE": {"name": "Datenschutzaufsichtsbehörde Ihres Bundeslandes", "web": "www.bfdi.bund.de"},
    "DK": {"name": "Datatilsynet", "web": "www.datatilsynet.dk"},
    "EE": {"name": "Andmekaitse Inspektsioon", "web": "www.aki.ee"},
    "ES": {"name": "Agencia Española de Protección de Datos", "web": "www.aepd.es"},
    "FI": {"name": "Tietosuojavaltuutetun toimisto", "web": "tietosuoja.fi"},
    "FR": {"name": "Commission nationale de l'informatique et des libertés (CNIL)", "web": "www.cnil.fr"},
    "GR": {"name": "Αρχή Προστασίας Δεδομένων Προσωπικού Χαρακτήρα (Hellenic Data Protection Authority)",
           "web": "www.dpa.gr"},
    "HR": {"name": "Agencija za zaštitu osobnih podataka", "web": "azop.hr"},
    "HU": {"name": "Nemzeti Adatvédelmi és Információszabadság Hatóság", "web": "naih.hu"},
    "IE": {"name": "Data Protection Commission", "web": "www.dataprotection.ie"},
    "IS": {"name": "Persónuvernd", "web": "www.personuvernd.is"},
    "IT": {"name": "Garante per la protezione dei dati personali", "web": "www.garanteprivacy.it"},
    "LI": {"name": "Datenschutzstelle Liechtenstein", "web": "www.datenschutzstelle.li"},
    "LT": {"name": "Valstybinė duomenų apsaugos inspekcija", "web": "vdai.lrv.lt"},
    "LU": {"name": "Commission nationale pour la protection des données", "web": "cnpd.public.lu"},
    "LV": {"name": "Datu valsts inspekcija", "web": "www.dvi.gov.lv"},
    "MT": {"name": "Information and Data Protection Commissioner", "web": "idpc.org.mt"},
    "NO": {"name": "Datatilsynet", "web": "www.datatilsynet.no"},
    "PL": {"name": "Prezes Urzędu Ochrony Danych Osobowych", "web": "uodo.gov.pl"},
    "PT": {"name": "Comissão Nacional de Proteção de Dados", "web": "www.cnpd.pt"},
    "RO": {"name": "Autoritatea Națională de Supraveghere a Prelucrării Datelor cu Caracter Personal",
           "web": "www.dataprotection.ro"},
    "SE": {"name": "Integritetsskyddsmyndigheten", "web": "www.imy.se"},
    "SI": {"name": "Informacijski pooblaščenec", "web": "www.ip-rs.si"},
    "SK": {"name": "Úrad na ochranu osobných údajov Slovenskej republiky", "web": "dataprotection.gov.sk"},
}


def own_authority(country: str | None) -> dict[str, str] | None:
    """The supervisory authority of the EU/EEA country ``country`` other than the Netherlands, else None."""
    return AUTHORITIES.get((country or "").strip().upper())
