"""``flask --app wsgi dsr letter REFERENCE KIND --lang ... -o FILE`` (issue 5, item 2)."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from pypdf import PdfReader

from dsr.domain.enums import Role
from dsr.extensions import db
from dsr.letters.models import IssuedLetter
from tests.factories import make_case, make_user


def test_the_command_issues_a_letter_and_writes_its_pdf(ctx, tmp_path):
    case = make_case(actor=make_user(Role.STAFF))
    out = tmp_path / "ack.pdf"
    result = ctx.test_cli_runner().invoke(args=["dsr", "letter", case.reference, "acknowledgement", "--lang", "en",
                                                "-o", str(out)])
    assert result.exit_code == 0, result.output
    letter = db.session.execute(sa.select(IssuedLetter)).scalar_one()
    assert hashlib.sha256(out.read_bytes()).hexdigest() == letter.sha256
    assert letter.issued_by_id is None and letter.version == 1
    assert case.reference in PdfReader(str(out)).pages[0].extract_text()
    assert letter.sha256 in result.output

    again = ctx.test_cli_runner().invoke(args=["dsr", "letter", case.reference, "acknowledgement", "--lang", "all",
                                               "-o", str(tmp_path / "all.pdf")])
    assert again.exit_code == 0, again.output
    assert len(PdfReader(str(tmp_path / "all.pdf")).pages) == 3
    assert sorted(v for (v,) in db.session.execute(sa.select(IssuedLetter.version))) == [1, 2]


def test_a_bad_reference_or_kind_is_a_clear_error(ctx, tmp_path):
    case = make_case(actor=make_user(Role.STAFF))
    runner = ctx.test_cli_runner()
    out = tmp_path / "x.pdf"
    missing = runner.invoke(args=["dsr", "letter", "DSR-1999-99999", "acknowledgement", "-o", str(out)])
    assert missing.exit_code != 0 and "No case with reference DSR-1999-99999" in missing.output
    bad_kind = runner.invoke(args=["dsr", "letter", case.reference, "love_letter", "-o", str(out)])
    assert bad_kind.exit_code != 0 and "love_letter" in bad_kind.output
    bad_lang = runner.invoke(args=["dsr", "letter", case.reference, "acknowledgement", "--lang", "de", "-o", str(out)])
    assert bad_lang.exit_code != 0
    unfit = runner.invoke(args=["dsr", "letter", case.reference, "refusal", "-o", str(out)])
    assert unfit.exit_code != 0 and "does not fit" in unfit.output
    assert not out.exists()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IssuedLetter)) == 0
