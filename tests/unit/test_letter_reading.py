"""Finding rights, identifiers and dates in the words read from a posted request (no OCR here: the words
are given, as tesseract would give them)."""

from __future__ import annotations

from datetime import date

import pytest

from dsr.domain.letter_reading import Word, find_letter_date, lines_of, read_request

TODAY = date(2026, 12, 6)


def words(*lines: str, conf: float = 95.0) -> list[Word]:
    out = []
    for number, line in enumerate(lines):
        left = 100
        for text in line.split():
            out.append(Word(text=text, confidence=conf, page=1, left=left, top=100 + 40 * number,
                            width=12 * len(text), height=30, line=number))
            left += 12 * len(text) + 10
    return out


def read(*lines: str, conf: float = 95.0):
    return read_request(words(*lines, conf=conf), language="nl", language_confidence=0.99, today=TODAY)


@pytest.mark.parametrize(("line", "right"), [
    ("Ik verzoek u om inzage in mijn persoonsgegevens.", "access"),
    ("Please give me access to my personal data.", "access"),
    ("Je souhaite exercer mon droit d'accès à mes données.", "access"),
    ("Verwijder al mijn gegevens (recht op vergetelheid).", "erasure"),
    ("Please erase everything you hold about me.", "erasure"),
    ("Je vous demande l'effacement de mes données.", "erasure"),
    ("Ik maak bezwaar tegen direct marketing.", "objection"),
    ("Je m'oppose à la prospection.", "objection"),
    ("Mijn adres klopt niet, wilt u het corrigeren?", "rectification"),
    ("Je demande la portabilité de mes données.", "portability"),
    ("Op grond van artikel 20 AVG vraag ik mijn gegevens.", "portability"),
    ("Ik vraag om menselijke tussenkomst bij de afwijzing van mijn claim.", "automated_decision"),
    ("I contest the automated decision to refuse my claim.", "automated_decision"),
    ("Je demande une intervention humaine sur cette décision.", "automated_decision"),
    ("Op grond van artikel 22 AVG wil ik dat een mens hiernaar kijkt.", "automated_decision"),
])
def test_each_right_is_found_in_each_language(line, right):
    found = read("Geachte heer, mevrouw,", line)
    assert [s.value for s in found.rights] == [right]
    assert found.rights[0].box is not None and found.rights[0].box.page == 1


def test_a_negated_right_is_not_suggested():
    found = read("Ik heb geen bezwaar tegen uw nieuwsbrief.", "Ik vraag inzage in mijn gegevens.")
    assert [s.value for s in found.rights] == ["access"]


def test_restriction_only_when_the_right_exists():
    lines = ("I ask for restriction of processing of my data (Article 18).",)
    assert read_request(words(*lines), language="en", language_confidence=1, today=TODAY,
                        rights=["access", "erasure"]).rights == []
    assert [s.value for s in read_request(words(*lines), language="en", language_confidence=1, today=TODAY,
                                          rights=["restriction"]).rights] == ["restriction"]


def test_sender_block_name_address_postcode_city():
    found = read("Anna de Vries", "Kerkstraat 12a", "3511 NK Utrecht", "Harmony Verzekeringen B.V.",
                 "Postbus 2150", "3500 GD Utrecht")
    fields = {k: v.value for k, v in found.fields.items()}
    assert fields["name"] == "Anna de Vries"
    assert fields["address"] == "Kerkstraat 12a"
    assert fields["postcode"] == "3511 NK"
    assert fields["city"] == "Utrecht"


def test_harmonys_own_address_is_not_the_senders():
    found = read("Harmony Verzekeringen B.V.", "Postbus 2150", "3500 GD Utrecht", "Geachte heer, mevrouw,")
    assert "postcode" not in found.fields


def test_identifiers_with_check_digits():
    found = read("Klantnummer: 10011305", "Polisnummer: HP 300002977", "IMEI van mijn toestel: 356938035643809",
                 "Rekeningnummer (IBAN): NL91 ABNA 0417 1643 00", "E-mail: anna.devries@example.nl",
                 "Telefoon: +31612345678")
    fields = {k: v.value for k, v in found.fields.items()}
    assert fields["customer_number"] == "10011305"
    assert fields["policy_number"] == "HP300002977"
    assert fields["imei"] == "356938035643809"
    assert fields["iban"] == "NL91ABNA0417164300"
    assert fields["email"] == "anna.devries@example.nl"
    assert fields["phone"] == "+31612345678"


def test_a_misread_imei_or_iban_is_not_suggested():
    found = read("IMEI: 356938035643808", "IBAN: NL92 ABNA 0417 1643 00")  # one digit off each
    assert "imei" not in found.fields and "iban" not in found.fields


def test_harmonys_own_email_is_not_the_writers():
    found = read("Aan privacy@harmony.example", "Mijn e-mail: jan@example.org")
    assert found.fields["email"].value == "jan@example.org"


@pytest.mark.parametrize(("line", "expected"), [
    ("Utrecht, 4 december 2026", date(2026, 12, 4)),
    ("Utrecht, 29 July 2026", date(2026, 7, 29)),
    ("London, July 29, 2026", date(2026, 7, 29)),
    ("Nijmegen, le 1er août 2026", date(2026, 8, 1)),
    ("Lille, le 19 novembre 2026", date(2026, 11, 19)),
    ("Utrecht, 05-01-2026", date(2026, 1, 5)),  # day first
])
def test_letter_date_in_each_language(line, expected):
    found = find_letter_date(lines_of(words(line)), today=TODAY)
    assert found is not None and found.value == expected.isoformat()


def test_letter_date_skips_birth_dates_and_the_future():
    lines = lines_of(words("Geboortedatum: 3 maart 1970", "Utrecht, 7 januari 2027", "Utrecht, 2 december 2026"))
    assert find_letter_date(lines, today=TODAY).value == "2026-12-02"


def test_signed_on_behalf_of_someone_else():
    found = read("Ik schrijf namens mijn moeder, die mij heeft gemachtigd.", "Met vriendelijke groet,", "Jan Bakker")
    assert found.on_behalf is not None and found.on_behalf.value == "namens"
    assert read("Met vriendelijke groet,", "Jan Bakker").on_behalf is None


def test_name_from_the_signature_when_there_is_no_sender_block():
    found = read("Dear Sir or Madam,", "Please erase my data.", "Kind regards,", "Thomas Smit")
    assert found.fields["name"].value == "Thomas Smit"


def test_confidence_follows_the_engine_and_the_command_line_shape():
    found = read("Klantnummer: 10011305", conf=40)
    assert found.fields["customer_number"].confidence == pytest.approx(0.4)
    shape = found.command_line()
    assert shape["fields"]["customer_number"] == {"value": "10011305", "confidence": 0.4}
    assert set(shape) == {"language", "rights", "fields", "on_behalf"}
