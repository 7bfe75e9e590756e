"""Builders for test data. They go through the operations, as the app does."""

from __future__ import annotations

from datetime import date, datetime

from dsr.auth.operations import create_user
from dsr.domain.enums import Channel, Language, Right, Role
from dsr.extensions import db
from dsr.subjects.operations import SubjectDetails
from tests.conftest import NOW, TODAY

PASSWORDS = {
    Role.PRIVACY_MANAGER: "manager-password-1",
    Role.STAFF: "staff-password-123",
    Role.AUDITOR: "auditor-password-1",
}


def make_user(role: Role = Role.STAFF, email: str | None = None, *, now: datetime = NOW, commit: bool = True):
    email = email or f"{role.value}@harmony.test"
    user = create_user(email, name=email.split("@")[0].title(), role=role, password=PASSWORDS[role], actor=None,
                       now=now)
    if commit:
        db.session.commit()
    return user


def subject_details(**overrides) -> SubjectDetails:
    base = {
        "name": "Zoë Van den Broeck",
        "date_of_birth": date(1984, 2, 29),
        "address": "Coolsingel 40",
        "postcode": "3011 AD",
        "city": "Rotterdam",
        "country": "NL",
        "email": "zoe@example.nl",
        "customer_number": "HC1234567",
        "policy_number": "HP-555123",
    }
    base.update(overrides)
    return SubjectDetails(**base)


def make_case(*, actor, rights=(Right.ACCESS,), received_on: date = date(2026, 11, 20), channel=Channel.POST,
              language=Language.NL, notes: str = "", now: datetime = NOW, today: date = TODAY, commit: bool = True,
              **subject):
    from dsr.cases.operations import log_request

    case = log_request(subject=subject_details(**subject), rights=list(rights), channel=channel,
                       received_on=received_on, language=language, notes=notes, actor=actor, now=now, today=today)
    if commit:
        db.session.commit()
    return case


def login(client, role: Role = Role.STAFF, email: str | None = None):
    email = email or f"{role.value}@harmony.test"
    response = client.post("/login", data={"email": email, "password": PASSWORDS[role]})
    assert response.status_code == 302, response.data[:500]
    return response
