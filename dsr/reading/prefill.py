"""Put a reading's suggestions into the intake form, and say which fields were suggested and how surely."""

from __future__ import annotations

from datetime import date
from typing import Any

from dsr.domain.enums import Language, Right

LOW_CONFIDENCE = 0.75  # below this a suggestion is highlighted for a second look

# Suggestion name → intake form field.
FORM_FIELDS = {"name": "name", "address": "address", "postcode": "postcode", "city": "city", "email": "email",
               "phone": "phone", "customer_number": "customer_number", "policy_number": "policy_number",
               "imei": "device_id"}


def prefill(form, suggestions: dict[str, Any]) -> None:
    """Fill the empty fields of a fresh (GET) intake form. The date of receipt is never filled from the
    letter: the clock starts when the letter reached Harmony, not on the day it was written."""
    fields = suggestions.get("fields", {})
    for name, target in FORM_FIELDS.items():
        if name in fields and not getattr(form, target).data:
            getattr(form, target).data = fields[name]["value"]
    rights = [s["value"] for s in suggestions.get("rights", []) if s["value"] in {r.value for r in Right}]
    if rights:
        form.rights.data = rights
    if suggestions.get("language") in {lang.value for lang in Language}:
        form.language.data = suggestions["language"]
    form.channel.data = "post"


def marks_for(suggestions: dict[str, Any] | None) -> dict[str, Any]:
    """For the template: per form field its suggestion (value, confidence, low?), the rights suggested,
    the letter's own date, and whether it was signed on someone else's behalf."""
    if not suggestions:
        return {}
    fields = suggestions.get("fields", {})
    marks: dict[str, Any] = {"fields": {}, "rights": {}, "language": suggestions.get("language")}
    for name, target in FORM_FIELDS.items():
        if name in fields:
            s = fields[name]
            marks["fields"][target] = {**s, "low": s["confidence"] < LOW_CONFIDENCE}
    for s in suggestions.get("rights", []):
        marks["rights"][s["value"]] = {**s, "low": s["confidence"] < LOW_CONFIDENCE}
    if "letter_date" in fields:
        marks["letter_date"] = date.fromisoformat(fields["letter_date"]["value"])
    if "iban" in fields:
        marks["iban"] = fields["iban"]
    marks["on_behalf"] = suggestions.get("on_behalf")
    return marks
