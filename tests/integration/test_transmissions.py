"""Direct transmission to another controller (Art. 20(2); issue 18, item 7), on SQLite and PostgreSQL.

The receiving controller, the channel and the day are recorded on the case; the portability letter, read
back in nl, en and fr, says where the data went, and without a record keeps offering it.
"""

from __future__ import annotations

import io
import os
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import time_machine
from pypdf import PdfReader

from dsr.audit.models import AuditEvent
from dsr.cases import lifecycle
from dsr.cases.errors import InvalidInput, RuleViolation
from dsr.domain.enums import Right
from dsr.extensions import db
from dsr.letters.kinds import LetterKind, LetterLanguage
from dsr.letters.operations import render_letter
from dsr.transmissions.models import DirectTransmission, TransmissionChannel
from dsr.transmissions.operations import record_transmission
from tests.conftest import NOW, TODAY
from tests.factories import make_case
from tests.harmony_support import People, customer_with_everything, private_copy, subject_of


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def people(ctx) -> People:
    return People()


@pytest.fixture
def systems(ctx, harmony, tmp_path, monkeypatch) -> str:
    monkeypatch.setitem(ctx.config, "DEMO_SYSTEMS_URL", url := private_copy(harmony, tmp_path))
    return url


def portability_case(people, systems):
    from dsr.fulfilment.lookup_ops import confirm_match, run_lookup

    case = make_case(actor=people.staff, rights=(Right.PORTABILITY,), commit=False,
                     **subject_of(customer_with_everything(systems)))
    lifecycle.start_work(case, actor=people.staff, now=NOW)
    lookup = run_lookup(case, actor=people.staff, now=NOW)
    confirm_match(lookup, actor=people.staff, now=NOW + timedelta(minutes=1))
    return case


def letter_text(case, language: str) -> str:
    rendered = render_letter(case, LetterKind.COMPLETION_PORTABILITY, LetterLanguage(language), today=TODAY)
    if os.environ.get("DSR_LETTERS_PDF_DIR"):  # to look at before a release (pdftoppm -png)
        (Path(os.environ["DSR_LETTERS_PDF_DIR"]) / f"portability-direct-{language}.pdf").write_bytes(rendered.pdf)
    return " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(rendered.pdf)).pages)


SAYS = {
    "nl": ["rechtstreeks aan een andere organisatie gestuurd", "aan Verzekeraar Noord N.V., op 25 november 2026",
           "beveiligde bestandsoverdracht (SFTP)"],
    "en": ["sent the file directly to another organisation", "to Verzekeraar Noord N.V., on 25 November 2026",
           "secure file transfer (SFTP)"],
    "fr": ["transmis le fichier directement à un autre responsable", "à Verzekeraar Noord N.V., le 25 novembre 2026",
           "transfert de fichiers sécurisé (SFTP)"],
}
OFFERS = {"nl": "Wilt u dat wij de gegevens rechtstreeks", "en": "If you would like us to send the data directly",
          "fr": "Si vous souhaitez que nous transmettions directement"}


@pytest.mark.parametrize("language", ["nl", "en", "fr"])
def test_the_portability_letter_says_where_the_data_went(people, systems, language):
    case = portability_case(people, systems)
    assert OFFERS[language] in letter_text(case, language)
    record_transmission(case, controller="  Verzekeraar   Noord N.V. ", channel=TransmissionChannel.SFTP,
                        on=date(2026, 11, 25), actor=people.staff, now=NOW, today=TODAY)
    db.session.commit()
    text = letter_text(case, language)
    for phrase in SAYS[language]:
        assert phrase in text, phrase
    assert OFFERS[language] not in text


def test_a_transmission_is_recorded_with_its_audit_event(people):
    case = make_case(actor=people.staff, rights=(Right.PORTABILITY,))
    sent = record_transmission(case, controller="Verzekeraar Noord N.V.", channel="secure_email",
                               on=date(2026, 11, 24), actor=people.staff, now=NOW, today=TODAY)
    db.session.commit()
    stored = db.session.get(DirectTransmission, sent.id)
    assert (stored.receiving_controller, stored.channel, stored.transmitted_on) == (
        "Verzekeraar Noord N.V.", TransmissionChannel.SECURE_EMAIL, date(2026, 11, 24))
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "portability.transmitted")).one()
    assert event.after == {"transmission_id": sent.id, "controller": "Verzekeraar Noord N.V.",
                           "channel": "secure_email", "on": "2026-11-24"}


@pytest.mark.parametrize(("kw", "field"), [
    ({"controller": "   "}, "controller"),
    ({"controller": "x" * 201}, "controller"),
    ({"channel": "pigeon"}, "channel"),
    ({"on": TODAY + timedelta(days=1)}, "on"),
    ({"on": date(2026, 11, 19)}, "on"),
])
def test_bad_input_is_refused_and_nothing_is_stored(people, kw, field):
    case = make_case(actor=people.staff, rights=(Right.PORTABILITY,), received_on=date(2026, 11, 20))
    args = {"controller": "Noord", "channel": "sftp", "on": TODAY, **kw}
    with pytest.raises(InvalidInput) as refused:
        record_transmission(case, **args, actor=people.staff, now=NOW, today=TODAY)
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DirectTransmission)) == 0


def test_only_a_portability_case_records_one(people):
    case = make_case(actor=people.staff, rights=(Right.ACCESS,))
    with pytest.raises(RuleViolation):
        record_transmission(case, controller="Noord", channel="sftp", on=TODAY, actor=people.staff, now=NOW,
                            today=TODAY)
