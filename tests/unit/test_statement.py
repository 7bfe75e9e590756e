"""Harmony's privacy statement as data (issue 4, item 6): every language has every section, the
recipients are named, and the complaint route is exact. Pure: no app, no database."""

from __future__ import annotations

import copy

import pytest
import yaml

from dsr.fulfilment.statement import (
    DEFAULT_STATEMENT_PATH,
    LANGUAGES,
    RECIPIENT_IDS,
    RIGHT_IDS,
    StatementError,
    load_statement,
    statement_from_data,
)


@pytest.fixture(scope="module")
def statement():
    return load_statement()


@pytest.fixture
def raw() -> dict:
    return yaml.safe_load(DEFAULT_STATEMENT_PATH.read_text(encoding="utf-8"))


def test_every_language_has_every_section(statement):
    texts = [statement.title, statement.complaint.harmony_text,
             statement.complaint.authority_text, statement.complaint.authority_name]
    texts += [c.name for c in statement.categories]
    texts += [p.title for p in statement.purposes] + [p.text for p in statement.purposes]
    texts += [t for r in statement.recipients for t in (r.name, r.receives, r.why)]
    texts += [e.text for e in (*statement.retention, *statement.sources_of_data, *statement.rights)]
    for text in texts:
        assert set(text) == set(LANGUAGES)
        assert all(text[lang].strip() for lang in LANGUAGES)


def test_each_entry_cites_its_section(statement):
    entries = [*statement.categories, *statement.purposes, *statement.recipients, *statement.retention,
               *statement.sources_of_data, *statement.rights]
    assert all(e.section for e in entries)
    assert statement.complaint.section


def test_purposes_are_numbered_as_in_the_statement(statement):
    assert [p.number for p in statement.purposes] == list(range(1, 9))
    assert statement.purpose(6).title["nl"] == "Het voorkomen en bestrijden van fraude"
    assert statement.purpose(7).title["en"] == "Improving services"


def test_recipients_are_named(statement):
    assert [r.id for r in statement.recipients] == list(RECIPIENT_IDS)
    names = {r.id: r.name for r in statement.recipients}
    for lang in LANGUAGES:
        assert "Focus Feedback" in names["focus_feedback"][lang]
    assert names["risk_bearer"] == {"nl": "Risicodrager", "en": "Risk bearer", "fr": "Porteur de risque"}
    assert names["repairers"]["nl"] == "Reparateurs"
    assert names["collection_agencies"]["nl"] == "Incassodienstverleners"


def test_recipients_relevant_to_the_records_found(statement):
    by_id = {r.id: r for r in statement.recipients}
    assert by_id["focus_feedback"].relevant({"survey_invitation"})
    assert not by_id["focus_feedback"].relevant({"customer", "policy"})
    assert by_id["repairers"].relevant({"claim"}) and not by_id["repairers"].relevant({"policy"})
    assert all(by_id[i].relevant(set()) for i in ("regulators", "hosting", "mail", "legal"))


def test_rights_cover_articles_15_to_21_with_restriction(statement):
    assert [r.id for r in statement.rights] == list(RIGHT_IDS)
    articles = {r.id: r.article for r in statement.rights}
    assert articles["restriction"] == "GDPR Art. 18"
    assert articles["objection"] == "GDPR Art. 21"


def test_retention_sentences(statement):
    assert "180" in statement.retention_for({"call_recording"})[0].text["nl"]
    assert "7" in statement.retention_for({"invoice"})[0].text["fr"]
    assert statement.retention_for({"customer"})[0].id == "general"


def test_complaint_route_is_exact(statement):
    complaint = statement.complaint
    assert complaint.harmony_email == "privacy@harmony.nl"
    assert complaint.harmony_address == ("Harmony", "t.a.v. privacy manager", "Postbus 21460", "3001 AL Rotterdam")
    assert complaint.authority_address == ("Autoriteit Persoonsgegevens", "Postbus 93374", "2509 AJ Den Haag")
    for lang in LANGUAGES:
        assert "Autoriteit Persoonsgegevens" in complaint.authority_name[lang]


def test_category_mapping_prefers_the_longest_prefix(statement):
    assert statement.category_for("user.device.device_id").id == "product"
    assert statement.category_for("user.device.ip_address").id == "login"
    assert statement.category_for("user.contact.address.street").id == "contact"
    assert statement.category_for("system.operations") is None


def test_a_missing_language_or_section_is_refused_with_every_problem(raw):
    broken = copy.deepcopy(raw)
    del broken["purposes"][0]["text"]["fr"]
    del broken["recipients"][4]["section"]
    broken["recipients"] = [r for r in broken["recipients"] if r["id"] != "hosting"]
    with pytest.raises(StatementError) as info:
        statement_from_data(broken)
    message = str(info.value)
    assert "purpose 1 text: no text in fr" in message
    assert "cite the statement section" in message
    assert "recipients: missing hosting" in message


def test_purposes_out_of_order_and_a_missing_right_are_refused(raw):
    broken = copy.deepcopy(raw)
    broken["purposes"][0]["number"] = 9
    broken["rights"] = [r for r in broken["rights"] if r["id"] != "restriction"]
    with pytest.raises(StatementError, match="numbered") as info:
        statement_from_data(broken)
    assert "rights: missing restriction" in str(info.value)


def test_not_a_mapping_is_refused():
    with pytest.raises(StatementError):
        statement_from_data(["nl"])
