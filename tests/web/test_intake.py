"""Postal intake through the web form (issue 2, acceptance 5 and 10).

Bad input: a specific error on the field at fault, status 400, nothing stored (no row, no file) and the
form still holding what was typed. Good input: stored exactly as typed, shown escaped, scans recognised
by content and kept with their SHA-256, downloads audited. The match panel finds people we already know.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
import time_machine

from dsr.audit.models import AuditEvent
from dsr.auth.models import User
from dsr.cases.models import Case
from dsr.cases.operations import log_request
from dsr.domain.enums import Channel, Language, Right, Role
from dsr.extensions import db
from dsr.subjects.models import DataSubject
from tests.conftest import NOW
from tests.factories import login, make_case, make_user, subject_details
from tests.web.support import (
    field_errors,
    flashes,
    intake_data,
    jpeg_bytes,
    pdf_bytes,
    png_bytes,
    read_form,
    stored_counts,
    text_of,
    with_file,
)

MB = 1024 * 1024
TYPED_NAME = "Zoë Van den Broeck"


@pytest.fixture
def app(backend_app):
    """The web tests of this module run on SQLite and on PostgreSQL."""
    return backend_app


@pytest.fixture(autouse=True)
def _frozen_clock():
    # Thursday 26 November 2026, 10:00 UTC: "today" is 26 November in Amsterdam.
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def staff(app, client):
    with app.app_context():
        user_id = make_user(Role.STAFF).id
    login(client, Role.STAFF)
    return user_id


def _post(client, data):
    return client.post("/cases/new", data=data, content_type="multipart/form-data")


def _only_case(app) -> Case:
    with app.app_context():
        case = db.session.execute(sa.select(Case)).scalar_one()
        case.subject, case.attachments, case.right_values  # noqa: B018 (load before leaving the session)
        db.session.expunge_all()
        return case


# -- bad input -----------------------------------------------------------------------------------------

def _text_as_pdf() -> tuple[bytes, str]:
    return b"Dear Harmony,\nplease send me my data.\n", "letter.pdf"


BAD_INPUT = [
    # (id, overrides, file, field at fault, words of the message)
    ("future-received-on", {"received_on": "2026-11-27"}, None, "received_on", "cannot be in the future"),
    ("received-before-gdpr", {"received_on": "2018-05-24"}, None, "received_on", "25 May 2018"),
    ("malformed-date", {"received_on": "26/11/2026"}, None, "received_on", "date"),
    ("impossible-date", {"received_on": "2026-02-30"}, None, "received_on", "date"),
    ("no-right", {"rights": []}, None, "rights", "Choose at least one right"),
    ("unknown-right", {"rights": ["forgetfulness"]}, None, "rights", "choice"),
    ("bad-email", {"email": "zoe@@example"}, None, "email", "not a valid e-mail address"),
    ("bad-phone", {"phone": "12345"}, None, "phone", "phone number"),
    ("bad-imei", {"device_id": "490154203237519"}, None, "device_id", "IMEI is not valid"),
    ("bad-serial", {"device_id": "S/N: ?!"}, None, "device_id", "serial number"),
    ("bad-dutch-postcode", {"postcode": "12345"}, None, "postcode", "Dutch postcode"),
    ("no-address-no-email", {"address": "", "email": "", "channel": "email"}, None, "address", "postal address"),
    # A letter is answered by letter: an e-mail address alone does not do for a postal request.
    ("post-without-address", {"address": "", "city": "", "channel": "post"}, None, "address", "answered by post"),
    ("future-date-of-birth", {"date_of_birth": "2027-01-01"}, None, "date_of_birth", "future"),
    ("notes-too-long", {"notes": "x" * 5001}, None, "notes", "5000"),
    ("name-too-long", {"name": TYPED_NAME + "x" * 200}, None, "name", "200"),
    # A NUL pasted into a text field: PostgreSQL cannot store it in text, so it must be refused up front.
    ("nul-in-notes", {"notes": "Brief\x00van 12 november"}, None, "notes", ""),
    ("nul-in-address", {"address": "Coolsingel\x0040"}, None, "address", ""),
    ("nul-in-city", {"city": "Rotter\x00dam"}, None, "city", ""),
    ("text-renamed-pdf", {}, _text_as_pdf(), "scan", "not a PDF, JPEG or PNG"),
    ("html-renamed-png", {}, (b"<!doctype html><script>alert(1)</script>", "scan.png"), "scan",
     "not a PDF, JPEG or PNG"),
    ("upload-over-10-mb", {}, (b"%PDF-1.4\n" + b"0" * (10 * MB + 1 - 9), "big.pdf"), "scan", "10 MB"),
    ("upload-of-11-mb", {}, (b"%PDF-1.4\n" + b"0" * (11 * MB - 9), "big.pdf"), "scan", "10 MB"),
    ("empty-file", {}, (b"", "empty.pdf"), "scan", "empty"),
]


@pytest.mark.parametrize(("overrides", "upload", "field", "words"),
                         [pytest.param(*case[1:], id=case[0]) for case in BAD_INPUT])
def test_bad_input_is_refused_on_its_field_and_nothing_is_stored(app, client, staff, overrides, upload, field,
                                                                 words):
    data = intake_data(**overrides)
    if upload is not None:
        data = with_file(data, *upload)
    before = stored_counts(app)
    response = _post(client, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    errors = field_errors(html)
    assert set(errors) == {field}, errors
    assert any(words.lower() in message.lower() for message in errors[field]), errors
    assert stored_counts(app) == before
    # The form keeps what was typed.
    assert read_form(html).values.get("name") == [data["name"]]


def test_refused_form_keeps_everything_that_was_typed(client, staff):
    data = intake_data(received_on="26/11/2026", rights=["erasure", "objection"], channel="email",
                       language="fr", notes="Brief van 12 nov. <b>dringend</b> & snel", email="zoe@example.nl",
                       phone="+31101234567", device_id="490154203237518", country="BE")
    response = _post(client, data)
    assert response.status_code == 400
    form = read_form(response.get_data(as_text=True))
    for name in ("name", "date_of_birth", "address", "city", "email", "phone", "customer_number",
                 "policy_number", "device_id", "received_on", "notes"):
        assert form.values.get(name) == [data[name]], name
    assert sorted(form.checked["rights"]) == ["erasure", "objection"]
    assert form.selected["channel"] == ["email"]
    assert form.selected["language"] == ["fr"]
    assert form.selected["country"] == ["BE"]
    assert ("danger", "The request was not saved: correct the fields marked below.") in flashes(
        response.get_data(as_text=True))


def test_received_on_may_be_today_and_as_early_as_25_may_2018(app, client, staff):
    for day in ("2026-11-26", "2018-05-25"):
        assert _post(client, intake_data(received_on=day)).status_code == 302, day
    with app.app_context():
        days = set(db.session.execute(sa.select(Case.received_on)).scalars())
    assert days == {date(2026, 11, 26), date(2018, 5, 25)}


def test_today_is_the_date_in_amsterdam_not_in_utc(app, client, staff):
    # 23:30 UTC on 26 November is already 27 November in Amsterdam: a letter stamped that day is not future.
    with time_machine.travel(datetime(2026, 11, 26, 23, 30, tzinfo=UTC), tick=False):
        form = read_form(client.get("/cases/new").get_data(as_text=True))
        assert form.values["received_on"] == ["2026-11-27"]
        assert _post(client, intake_data(received_on="2026-11-27")).status_code == 302
        response = _post(client, intake_data(received_on="2026-11-28"))
        assert response.status_code == 400
        assert "received_on" in field_errors(response.get_data(as_text=True))


def test_new_form_defaults_to_today_and_the_netherlands(client, staff):
    form = read_form(client.get("/cases/new").get_data(as_text=True))
    assert form.values["received_on"] == ["2026-11-26"]
    assert form.selected["country"] == ["NL"]


def test_link_to_a_subject_that_does_not_exist_is_refused_with_a_visible_reason(app, client, staff):
    before = stored_counts(app)
    response = _post(client, intake_data(link_subject="999999"))
    assert response.status_code == 400
    assert stored_counts(app) == before
    # The person at the desk must be told why nothing happened.
    assert "The subject chosen to link no longer exists." in text_of(response.get_data(as_text=True))


# -- good input ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [
    "Zoë Van den Broeck",
    "Çelik",
    unicodedata.normalize("NFD", "Zoë Van den Broeck"),  # as some keyboards and scanners send it
    "Ōsaka-Nguyễn 李",
    "O'Brien-D'Arcy",
])
def test_names_are_stored_and_shown_exactly_as_typed(app, client, staff, name):
    response = _post(client, intake_data(name=name))
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    case = _only_case(app)
    assert case.subject.name == name
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    escaped = name.replace("'", "&#39;")
    assert escaped in page
    assert escaped in client.get("/cases").get_data(as_text=True)


@pytest.mark.parametrize("name", ["Weiß", "Ĳsbrand"])
def test_a_name_at_the_length_limit_is_stored_intact(app, client, staff, name):
    # Characters such as ß and the Dutch Ĳ are one character typed but two once folded for matching.
    full = (name + " " + "a" * 200)[:200]
    response = _post(client, intake_data(name=full))
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    assert _only_case(app).subject.name == full


def test_notes_with_markup_are_stored_exactly_and_shown_escaped(app, client, staff):
    notes = "Brief zegt: <script>alert(1)</script> & \"verwijder alles\" <b>nu</b>\nTweede regel"
    name = "Ann <img src=x onerror=alert(2)> & Co"
    response = _post(client, intake_data(notes=notes, name=name))
    assert response.status_code == 302
    case = _only_case(app)
    assert case.notes == notes
    assert case.subject.name == name
    for path in (response.headers["Location"], "/cases"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>alert(1)" not in page
        assert "<img src=x" not in page
        assert "<b>nu</b>" not in page
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; " in page
    assert "Ann &lt;img src=x onerror=alert(2)&gt; &amp; Co" in page


def test_notes_at_the_length_limit_are_accepted(app, client, staff):
    notes = "é" * 5000
    assert _post(client, intake_data(notes=notes)).status_code == 302
    assert _only_case(app).notes == notes


def test_request_is_logged_with_every_field(app, client, staff):
    data = intake_data(rights=["portability", "access", "erasure"], channel="email", language="fr",
                       email="Zoe.VdB@Example.NL", phone="06 12345678", device_id="49-015420-323751-8",
                       received_on="2026-11-02")
    response = _post(client, data)
    assert response.status_code == 302
    case = _only_case(app)
    assert response.headers["Location"] == f"/cases/{case.reference}"
    assert case.reference == "DSR-2026-00001"
    assert case.right_values == [Right.ACCESS, Right.ERASURE, Right.PORTABILITY]
    assert case.channel is Channel.EMAIL and case.language is Language.FR
    assert case.received_on == date(2026, 11, 2)
    assert case.promised_on == date(2026, 11, 30)
    assert case.legal_due_on == date(2026, 12, 2)
    subject = case.subject
    assert subject.date_of_birth == date(1984, 2, 29)
    assert subject.phone == "+31612345678"
    assert subject.email == "Zoe.VdB@example.nl"  # the domain is case-insensitive, the local part is not
    assert subject.device_id == "490154203237518"
    assert subject.country == "NL" and subject.city == "Rotterdam"
    with app.app_context():
        actions = db.session.execute(sa.select(AuditEvent.action, AuditEvent.actor_id)
                                     .order_by(AuditEvent.id)).all()
    assert ("subject.created", staff) in actions and ("case.created", staff) in actions
    assert ("success", f"Request logged as {case.reference}.") in flashes(
        client.get(response.headers["Location"]).get_data(as_text=True))


@pytest.mark.parametrize(("typed", "stored"), [
    ("490154203237518", "490154203237518"),
    ("49 015420 323751 8", "490154203237518"),
    ("SN-A1B2C3D4E5", "SN-A1B2C3D4E5"),
    ("F17XK2ABHG7F", "F17XK2ABHG7F"),
])
def test_valid_imei_or_serial_number_is_accepted(app, client, staff, typed, stored):
    response = _post(client, intake_data(device_id=typed))
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    assert _only_case(app).subject.device_id == stored
    assert stored in client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize(("typed", "stored"), [("3011 AD", "3011 AD"), ("3011ad", "3011 AD")])
def test_valid_dutch_postcode_is_accepted(app, client, staff, typed, stored):
    response = _post(client, intake_data(postcode=typed))
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    assert _only_case(app).subject.postcode == stored


def test_foreign_postcode_is_not_held_to_the_dutch_format(app, client, staff):
    response = _post(client, intake_data(country="BE", postcode="1000", phone="+32 2 555 12 12"))
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    assert _only_case(app).subject.postcode == "1000"


def test_email_alone_is_enough_to_reply_to(app, client, staff):
    response = _post(client, intake_data(address="", city="", phone="", channel="email"))
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))


def test_postal_address_alone_is_enough_to_reply_to(app, client, staff):
    response = _post(client, intake_data(email=""))
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))


# -- scans ---------------------------------------------------------------------------------------------

SCANS = [
    pytest.param(png_bytes(), "brief.png", "image/png", id="png"),
    pytest.param(jpeg_bytes(), "brief.jpg", "image/jpeg", id="jpeg"),
    pytest.param(pdf_bytes(), "brief 12-11.pdf", "application/pdf", id="pdf"),
]


@pytest.mark.parametrize(("content", "filename", "media_type"), SCANS)
def test_scan_is_stored_with_its_checksum_listed_and_its_download_audited(app, client, staff, content, filename,
                                                                           media_type):
    response = _post(client, with_file(intake_data(), content, filename))
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    case = _only_case(app)
    [attachment] = case.attachments
    assert attachment.filename == filename
    assert attachment.media_type == media_type
    assert attachment.size == len(content)
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    stored = Path(app.config["STORAGE_DIR"]) / attachment.storage_key
    assert stored.read_bytes() == content

    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert f'href="/attachments/{attachment.id}/download"' in page
    assert filename in page
    assert attachment.sha256[:12] in page

    download = client.get(f"/attachments/{attachment.id}/download")
    assert download.status_code == 200
    assert download.data == content
    assert download.mimetype == media_type
    assert download.headers["Content-Disposition"].startswith("attachment")
    with app.app_context():
        events = db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.action == "attachment.downloaded")).scalars().all()
        assert [(e.actor_id, e.case_id, e.after["attachment_id"]) for e in events] == [
            (staff, case.id, attachment.id)]
    timeline = text_of(client.get(f"/cases/{case.reference}").get_data(as_text=True)).split("History", 1)[1]
    assert re.search(r"Staff downloaded .+\.(png|jpg|pdf)\.", timeline)


def test_scan_type_comes_from_its_content_not_its_name(app, client, staff):
    response = _post(client, with_file(intake_data(), pdf_bytes(), "photo.png", "image/png"))
    assert response.status_code == 302
    [attachment] = _only_case(app).attachments
    assert attachment.media_type == "application/pdf"
    assert attachment.storage_key.endswith(".pdf")
    assert client.get(f"/attachments/{attachment.id}/download").mimetype == "application/pdf"


def test_scan_of_exactly_10_mb_is_accepted(app, client, staff):
    content = b"%PDF-1.4\n" + b"0" * (10 * MB - 9)
    response = _post(client, with_file(intake_data(), content, "big.pdf"))
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    [attachment] = _only_case(app).attachments
    assert attachment.size == 10 * MB


def test_scan_filename_is_shown_escaped_and_stripped_of_any_path(app, client, staff):
    response = _post(client, with_file(intake_data(), png_bytes(), "../../<img src=x onerror=alert(1)>.png"))
    assert response.status_code == 302
    [attachment] = _only_case(app).attachments
    assert attachment.filename == "<img src=x onerror=alert(1)>.png"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;.png" in page


def test_download_of_an_unknown_attachment_is_404(client, staff):
    assert client.get("/attachments/424242/download").status_code == 404


def test_download_of_a_file_no_longer_on_disk_is_410_and_not_audited(app, client, staff):
    response = _post(client, with_file(intake_data(), png_bytes(), "brief.png"))
    assert response.status_code == 302
    [attachment] = _only_case(app).attachments
    (Path(app.config["STORAGE_DIR"]) / attachment.storage_key).unlink()
    assert client.get(f"/attachments/{attachment.id}/download").status_code == 410
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(AuditEvent)
                                  .where(AuditEvent.action == "attachment.downloaded")).scalar_one() == 0


# -- the match panel -----------------------------------------------------------------------------------

@pytest.fixture
def known(app, staff):
    """Zoë is known: two earlier requests, the second linked to the same subject."""
    with app.app_context():
        actor = db.session.get(User, staff)
        first = make_case(actor=actor, rights=(Right.ACCESS,), received_on=date(2025, 3, 3),
                          today=date(2025, 3, 4), now=datetime(2025, 3, 4, 9, 0, tzinfo=UTC))
        second = log_request(subject=subject_details(), rights=[Right.ERASURE], channel=Channel.EMAIL,
                             received_on=date(2026, 6, 1), language=Language.NL, notes="", actor=actor,
                             now=NOW, today=NOW.date(), link_subject=first.subject)
        other = make_case(actor=actor, name="Çelik", email="celik@example.nl", customer_number="HC7654321",
                          policy_number="HP-999", date_of_birth=date(1990, 1, 1))
        db.session.commit()
        return {"subject": first.subject_id, "refs": [first.reference, second.reference],
                "other": other.subject_id, "other_ref": other.reference}


@pytest.mark.parametrize(("query", "reason"), [
    ({"customer_number": "HC1234567"}, "customer number"),
    ({"customer_number": "hc 123-4567"}, "customer number"),
    ({"email": "ZOE@Example.nl"}, "e-mail"),
    ({"policy_number": "HP-555123"}, "policy number"),
    ({"policy_number": "hp 555123"}, "policy number"),
    ({"name": "zoe van den broeck", "date_of_birth": "1984-02-29"}, "name and date of birth"),
    ({"name": "ZOË  VAN DEN BROECK", "date_of_birth": "1984-02-29"}, "name and date of birth"),
])
def test_match_panel_shows_the_known_subject_and_earlier_cases(client, known, query, reason):
    response = client.get("/cases/new/matches", query_string=query)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Zoë Van den Broeck" in html
    assert f'value="{known["subject"]}"' in html
    for ref in known["refs"]:
        assert ref in html
    assert reason in text_of(html)
    # Nobody else.
    assert "Çelik" not in html and known["other_ref"] not in html


@pytest.mark.parametrize("query", [
    {"name": "zoe van den broeck"},  # a name alone is not enough
    {"name": "zoe van den broeck", "date_of_birth": "1984-03-01"},
    {"date_of_birth": "1984-02-29"},
    {"customer_number": "HC1234568"},
    {"email": "zoe@example.be"},
    {"policy_number": "HP-555124"},
    {},
])
def test_match_panel_shows_nobody_without_a_real_match(client, known, query):
    response = client.get("/cases/new/matches", query_string=query)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Zoë Van den Broeck" not in html
    assert "No known subject matches" in html


def test_match_panel_escapes_what_it_shows(app, client, staff):
    with app.app_context():
        make_case(actor=db.session.get(User, staff), name="<i>Mal</i> & Co", customer_number="HC1")
    html = client.get("/cases/new/matches", query_string={"customer_number": "HC1"}).get_data(as_text=True)
    assert "<i>Mal</i>" not in html
    assert "&lt;i&gt;Mal&lt;/i&gt; &amp; Co" in html


def test_refused_form_shows_the_matches_for_what_was_typed(client, known):
    response = _post(client, intake_data(rights=[]))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'value="{known["subject"]}"' in html
    assert known["refs"][0] in html


def test_linking_attaches_the_repeat_request_to_the_known_subject(app, client, known):
    subjects_before = stored_counts(app)["data_subjects"]
    # The same person asks again for the same right: shown, not refused.
    response = _post(client, intake_data(link_subject=str(known["subject"]), rights=["access"],
                                         phone="06 12345678", received_on="2026-11-25"))
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    assert stored_counts(app)["data_subjects"] == subjects_before
    with app.app_context():
        case = db.session.execute(sa.select(Case).where(Case.reference == response.headers["Location"]
                                                        .rsplit("/", 1)[1])).scalar_one()
        assert case.subject_id == known["subject"]
        subject = db.session.get(DataSubject, known["subject"])
        assert len(subject.cases) == 3
        assert subject.phone == "+31612345678"  # a blank is completed from the new letter
        assert subject.name == "Zoë Van den Broeck"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    for ref in known["refs"]:
        assert f'href="/cases/{ref}"' in page


def test_without_a_link_a_new_subject_is_recorded(app, client, known):
    subjects_before = stored_counts(app)["data_subjects"]
    assert _post(client, intake_data()).status_code == 302
    assert stored_counts(app)["data_subjects"] == subjects_before + 1



def test_a_refused_scan_shows_the_same_not_saved_banner_and_the_browser_checks_the_size_first(app, client, staff):
    response = _post(client, with_file(intake_data(), b"MZ\x90\x00 not a scan", "brief.pdf"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert ("danger", "The request was not saved: correct the fields marked below.") in flashes(html)
    assert "scan" in field_errors(html)
    # The file input carries the limit for the browser's own check (dsr/static/js/upload-size.js).
    assert f'data-max-bytes="{10 * MB}"' in client.get("/cases/new").get_data(as_text=True)


def test_a_country_is_checked_against_the_codes_of_every_language_the_pages_speak():
    """The country's check reads no locale (dsr.cases.forms._country_codes): it holds only while the choices
    give the same codes in every language, with their names and order their own."""
    from dsr.cases.forms import _country_choices, _country_codes
    from dsr.timeutil import UI_LOCALES

    for locale in {*UI_LOCALES.values(), "en"}:
        assert frozenset(code for code, _ in _country_choices(locale)) == _country_codes()
    assert [code for code, _ in _country_choices("nl")] != [code for code, _ in _country_choices("fr")]
