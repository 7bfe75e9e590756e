"""The Dutch interface catalog: complete, consistent with the code, and used by the app.

When a test here fails because of a new or changed string, run ``scripts/i18n.sh update``, translate the
new entries in translations/nl/LC_MESSAGES/messages.po (no "fuzzy" flags), and run this module again.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from dsr.domain.enums import Right, Role
from dsr.extensions import db
from tests.factories import login, make_case, make_user

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"
POT = TRANSLATIONS / "messages.pot"
PO = TRANSLATIONS / "nl" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
HOW_TO_FIX = ("run scripts/i18n.sh update, then translate the new entries in "
              "translations/nl/LC_MESSAGES/messages.po and translations/fr/LC_MESSAGES/messages.po "
              "(without a fuzzy flag)")

# The same keywords as scripts/i18n.sh passes to `pybabel extract`.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2),
            "lazy_pgettext": ((1, "c"), 2)}

# printf-style conversions as Python's % operator reads them (%(name)s, %d, %5.2f, the escape %%), and
# any other, stray "%": the templates format every message (Flask-Babel's "newstyle" gettext), so a stray
# "%" in a translation breaks the page even where the English text has no placeholder.
_PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]|%")


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def _forms(value) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


def _placeholders(text: str) -> list[str]:
    return sorted(_PLACEHOLDER.findall(text))


def _label(message) -> str:
    where = ", ".join(f"{path}:{line}" for path, line in message.locations[:3])
    return f"{message.id!r} ({where})" if where else repr(message.id)


@pytest.fixture(scope="module")
def pot() -> Catalog:
    assert POT.is_file(), f"{POT} is missing: {HOW_TO_FIX}"
    return _read(POT)


# Every interface language besides English (the source); a third of Harmony's letters are French.
LOCALES = ("nl", "fr")
PLURALS = {"nl": {"(n!=1)", "n!=1"}, "fr": {"(n>1)", "n>1"}}


@pytest.fixture(scope="module", params=LOCALES)
def po(request) -> Catalog:
    path = TRANSLATIONS / request.param / "LC_MESSAGES" / "messages.po"
    assert path.is_file(), f"{path} is missing: {HOW_TO_FIX}"
    return _read(path, locale=request.param)


@pytest.fixture(scope="session")
def compiled_nl_catalog() -> Path:
    """Compile the Dutch .po into translations/nl/LC_MESSAGES/messages.mo, where the app reads it.

    The .mo is build output (git-ignored, also made by `make translations`). It is written to a temporary
    file and renamed, so a test run elsewhere in the checkout never reads a half-written catalog.
    """
    catalog = _read(PO, locale="nl")
    fd, tmp = tempfile.mkstemp(dir=MO.parent, prefix=".messages-", suffix=".mo")
    try:
        with os.fdopen(fd, "wb") as f:
            write_mo(f, catalog)
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600; pybabel compile leaves it readable for all
        os.replace(tmp, MO)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return MO


# -- the catalog itself ---------------------------------------------------------------------------------


def test_the_template_is_up_to_date_with_the_code(pot):
    """Every string marked in dsr/ and templates/ is in messages.pot (an extraction was not forgotten)."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    in_code: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        msgid = message[0] if isinstance(message, (list, tuple)) else message
        if msgid:
            in_code.setdefault(msgid, f"{filename}:{lineno}")
    missing = [f"{msgid!r} ({where})" for msgid, where in in_code.items() if msgid not in pot]
    assert not missing, f"strings in the code but not in messages.pot; {HOW_TO_FIX}:\n" + "\n".join(missing)


def test_every_message_has_a_dutch_translation(pot, po):
    untranslated = []
    for message in pot:
        if not message.id:
            continue
        translated = po.get(message.id, message.context)
        if translated is None or not all(form.strip() for form in _forms(translated.string)):
            untranslated.append(_label(message))
    assert not untranslated, f"{len(untranslated)} untranslated; {HOW_TO_FIX}:\n" + "\n".join(untranslated)


def test_no_fuzzy_entries(po):
    assert not po.fuzzy, "the header of messages.po is marked fuzzy"
    fuzzy = [_label(m) for m in po if m.id and m.fuzzy]
    assert not fuzzy, "check these translations and remove their fuzzy flag:\n" + "\n".join(fuzzy)


def test_plural_forms_fit_the_language(po):
    assert po.num_plurals == 2
    assert po.plural_expr.replace(" ", "") in PLURALS[str(po.locale)]
    for message in po:
        if message.id and message.pluralizable:
            assert len(_forms(message.string)) == 2, _label(message)


def test_placeholders_are_kept(po):
    wrong = []
    for message in po:
        if not message.id:
            continue
        sources = _forms(message.id)
        for index, translation in enumerate(_forms(message.string)):
            if not translation:
                continue  # reported by test_every_message_has_a_dutch_translation
            source = sources[min(index, len(sources) - 1)]
            if _placeholders(translation) != _placeholders(source):
                wrong.append(f"{_label(message)}: {translation!r}")
    assert not wrong, "a translation must use exactly the placeholders of its English text:\n" + "\n".join(wrong)


def test_babel_finds_no_format_errors(po):
    problems = []
    for message in po:
        if not message.id:
            continue
        try:
            errors = message.check(catalog=po)
        except ValueError as exc:  # Babel's python-format checker raises on a malformed conversion
            errors = [exc]
        if errors:
            problems.append(f"{_label(message)}: {errors}")
    assert not problems, "\n".join(problems)


def test_the_catalog_compiles_and_translates(tmp_path):
    out = tmp_path / "nl" / "LC_MESSAGES"
    out.mkdir(parents=True)
    with (out / "messages.mo").open("wb") as f:
        write_mo(f, _read(PO, locale="nl"))
    nl = Translations.load(str(tmp_path), ["nl"])
    assert nl.gettext("Queue") == "Wachtrij"
    assert nl.gettext("Harmony's promise") == "Belofte van Harmony"
    assert nl.gettext("Request logged as %(reference)s.") % {"reference": "DSR-2026-00001"} == \
        "Verzoek geregistreerd als DSR-2026-00001."
    assert nl.ngettext("%(num)d day", "%(num)d days", 1) % {"num": 1} == "1 dag"
    assert nl.ngettext("%(num)d day", "%(num)d days", 5) % {"num": 5} == "5 dagen"
    assert nl.ngettext("%(num)d case", "%(num)d cases", 0) % {"num": 0} == "0 verzoeken"


# -- the app ----------------------------------------------------------------------------------------------


def _forget_cached_translations(app) -> None:
    # Flask-Babel caches a locale's catalog on first use; a page rendered in Dutch before the .mo was
    # compiled in this session would otherwise stay untranslated.
    babel_config = app.extensions.get("babel")
    domain = getattr(babel_config, "domain_instance", None)
    if domain is not None and hasattr(domain, "cache"):
        domain.cache.clear()


def _user(app, role: Role, locale: str):
    with app.app_context():
        user = make_user(role)
        user.locale = locale
        db.session.commit()
        make_case(actor=user, rights=[Right.ACCESS])


def test_a_dutch_user_sees_the_queue_in_dutch(app, client, compiled_nl_catalog):
    _forget_cached_translations(app)
    _user(app, Role.STAFF, "nl")
    login(client, Role.STAFF)
    response = client.get("/cases")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="nl">' in html
    for dutch in ("Wachtrij", "Verzoek registreren", "Wettelijke termijn", "Behandelaar", "1 verzoek",
                  "Inzage (art. 15)", "Uitloggen"):
        assert dutch in html, dutch
    assert "Log out" not in html
    assert "Legal deadline" not in html


def test_the_french_catalog_compiles_and_translates(tmp_path):
    out = tmp_path / "fr" / "LC_MESSAGES"
    out.mkdir(parents=True)
    with (out / "messages.mo").open("wb") as f:
        write_mo(f, _read(TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.po", locale="fr"))
    fr = Translations.load(str(tmp_path), ["fr"])
    assert fr.gettext("Queue") == "File d'attente"
    assert fr.gettext("Log out") == "Se déconnecter"
    assert fr.ngettext("%(num)d day", "%(num)d days", 1) % {"num": 1} == "1 jour"
    assert fr.ngettext("%(num)d day", "%(num)d days", 0) % {"num": 0} == "0 jour"
    assert fr.ngettext("%(num)d day", "%(num)d days", 2) % {"num": 2} == "2 jours"


def test_a_french_user_sees_the_queue_in_french(app, client, tmp_path):
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "compile", "-d", str(TRANSLATIONS), "-l", "fr"],
                   check=True, capture_output=True)
    _forget_cached_translations(app)
    _user(app, Role.STAFF, "fr")
    login(client, Role.STAFF)
    html = client.get("/cases").get_data(as_text=True)
    assert '<html lang="fr">' in html
    for french in ("File d'attente", "Enregistrer une demande", "Délai légal", "Accès (art. 15)", "Se déconnecter"):
        assert french in html.replace("&#39;", "'"), french
    assert "Log out" not in html


def test_an_english_user_keeps_the_english_queue(app, client, compiled_nl_catalog):
    _user(app, Role.STAFF, "en")
    login(client, Role.STAFF)
    html = client.get("/cases").get_data(as_text=True)
    assert "Legal deadline" in html
    assert "Wachtrij" not in html
