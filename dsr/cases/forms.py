"""The intake form. The JSON API feeds the same form (without CSRF), so both validate alike."""

from __future__ import annotations

import re
import threading
from datetime import date
from functools import lru_cache
from typing import NamedTuple

import phonenumbers
from babel import Locale
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from stdnum import imei
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.nl import postcode as nl_postcode
from werkzeug.datastructures import MultiDict
from wtforms import (
    DateField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from dsr.cases.labels import CHANNEL_LABELS, LANGUAGE_LABELS, RIGHT_LABELS  # noqa: F401  (the forms' choices)
from dsr.domain.enums import Channel, Language, Right, SubjectTitle
from dsr.domain.intake import NAME_MAX, NOTES_MAX, received_on_problem
from dsr.subjects.operations import SubjectDetails
from dsr.timeutil import today

_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./-]*$")
_SERIAL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{3,39}$")


def country_choices() -> list[tuple[str, str]]:
    return list(_country_choices(str(get_locale() or "en")))


@lru_cache(maxsize=16)
def _country_choices(locale: str) -> tuple[tuple[str, str], ...]:
    """Sorted once per language and process, not for every form (every case logged through the API builds
    one: issue 15, item 3)."""
    names = Locale.parse(locale).territories
    codes = sorted((c for c in names if len(c) == 2 and c.isalpha() and c != "ZZ"), key=lambda c: names[c])
    first = ["NL", "BE", "DE", "FR", "LU", "GB"]
    return tuple([(c, names[c]) for c in first] + [("", "──────────")]
                 + [(c, names[c]) for c in codes if c not in first])


@lru_cache(maxsize=1)
def _country_codes() -> frozenset[str]:
    """The codes a country may be given by (and the empty choice): those of the choices in English, which
    are those in every language the pages speak (only the names and their order differ; a test holds it), so
    checking a choice needs no locale: a case's creation through the API then never picks one (issue 15)."""
    return frozenset(code for code, _ in _country_choices("en_GB"))


_NOT_A_CHOICE = "Not a valid choice."  # WTForms' own message, translated by WTForms' catalogue as before


class CountryField(SelectField):
    """A select of some 250 countries that checks the choice in a set: WTForms' own check builds an option
    per country for every form validated, an eighth of a case's creation through the API (issue 15). Its
    choices are given as :func:`country_choices`, which WTForms calls when they are first read (to render
    the select, or to name the choices in an error), in the request's language."""

    def pre_validate(self, form):
        if self.process_errors or not self.validate_choice:
            return
        if self.data not in _country_codes():
            raise ValidationError(self.invalid_choice_message or self.gettext(_NOT_A_CHOICE))


class _ChoicesAsASet:
    """A select that finds a valid choice in the set of its choices' values (made again only when its choices
    change), where WTForms makes an option object per choice at every validation, and leaves every other case
    (an invalid choice, no choices, a choice not checked) to WTForms' own check, which words the message as it
    always did: in a case's creation through the API, the channel's, the language's and the rights' checks
    were some 200 Python calls (issue 15, item 3)."""

    def pre_validate(self, form):
        choices = self.choices
        if choices is not None and self.validate_choice and not self.process_errors:
            kept = self.__dict__.get("_choice_values")
            if kept is None or kept[0] is not choices:
                kept = self._choice_values = (choices, frozenset(
                    self.coerce(choice.value) for choice in self._iter_choices_normalized()))
            if all(value in kept[1] for value in self._chosen()):
                return
        super().pre_validate(form)


class ChoiceField(_ChoicesAsASet, SelectField):
    """WTForms' select of one choice, its choice checked in a set (:class:`_ChoicesAsASet`)."""

    def _chosen(self):
        return (self.data,)


class MultiCheckboxField(_ChoicesAsASet, SelectMultipleField):
    """Check boxes of several choices, each checked in a set (:class:`_ChoicesAsASet`)."""

    def _chosen(self):
        return self.data or ()

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class IntakeForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[InputRequired(_l("Enter the name of the person.")),
                                                    Length(max=NAME_MAX)])
    date_of_birth = DateField(_l("Date of birth"), validators=[Optional()])
    # For the letters' salutation ("Geachte heer Van der Laarse"); unknown: "Geachte heer/mevrouw".
    title = ChoiceField(_l("Title"), choices=[("", _l("unknown")), (SubjectTitle.MR.value, _l("Mr")),
                                              (SubjectTitle.MS.value, _l("Ms"))], default="",
                        validators=[Optional()])
    address = StringField(_l("Street and number"), validators=[Optional(), Length(max=300)])
    postcode = StringField(_l("Postcode"), validators=[Optional(), Length(max=20)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=100)])
    country = CountryField(_l("Country"), choices=country_choices, default="NL", validators=[Optional()])
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=32)])
    customer_number = StringField(_l("Customer number"), validators=[Optional(), Length(max=40)])
    policy_number = StringField(_l("Policy number"), validators=[Optional(), Length(max=40)])
    device_id = StringField(_l("Device IMEI or serial number"), validators=[Optional(), Length(max=40)])
    rights = MultiCheckboxField(_l("Rights requested"), choices=[(r.value, RIGHT_LABELS[r]) for r in Right])
    channel = ChoiceField(_l("Arrived by"), choices=[(c.value, CHANNEL_LABELS[c]) for c in Channel], default="post")
    received_on = DateField(_l("Received on"), validators=[DataRequired(_l("Enter the date the request arrived "
                                                                         "(as stamped on receipt)."))])
    language = ChoiceField(_l("Language of the reply"),
                           choices=[(lang.value, LANGUAGE_LABELS[lang]) for lang in Language], default="nl")
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=NOTES_MAX)])
    scan = FileField(_l("Scan of the letter (PDF, JPEG or PNG, at most 10 MB)"))
    link_subject = HiddenField()
    submit = SubmitField(_l("Log request"))

    # -- field checks ---------------------------------------------------------------------------
    def validate_name(self, field):
        if not field.data or not field.data.strip():
            raise ValidationError(_l("Enter the name of the person."))
        if any(ord(c) < 32 for c in field.data):
            raise ValidationError(_l("The name contains a control character."))

    def validate_date_of_birth(self, field):
        if field.data and field.data > today():
            raise ValidationError(_l("The date of birth cannot be in the future."))
        if field.data and field.data.year < 1900:
            raise ValidationError(_l("The date of birth is before 1900."))

    def validate_received_on(self, field):
        problem = received_on_problem(field.data, today()) if field.data else None
        if problem == "future":
            raise ValidationError(_l("The date of receipt cannot be in the future."))
        if problem == "before_gdpr":
            raise ValidationError(_l("The date of receipt cannot be before 25 May 2018, when the GDPR began "
                                     "to apply."))

    def validate_rights(self, field):
        if not field.data:
            raise ValidationError(_l("Choose at least one right."))

    def validate_email(self, field):
        if not field.data:
            return
        try:
            # Syntax only: the back office runs on closed networks, so no DNS look-ups.
            result = validate_email(field.data.strip(), check_deliverability=False)
        except EmailNotValidError as exc:
            raise ValidationError(_l("This is not a valid e-mail address: %(reason)s", reason=str(exc))) from None
        field.data = result.normalized

    def validate_phone(self, field):
        if not field.data:
            return
        try:
            number = phonenumbers.parse(field.data, self.country.data or "NL")
        except phonenumbers.NumberParseException:
            raise ValidationError(_l("This is not a phone number.")) from None
        if not phonenumbers.is_valid_number(number):
            raise ValidationError(_l("This phone number is not valid for its country."))
        field.data = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def validate_postcode(self, field):
        if field.data and (self.country.data or "NL") == "NL":
            try:
                field.data = nl_postcode.validate(field.data)  # "3511nk" -> "3511 NK"
            except StdnumValidationError:
                raise ValidationError(_l("A Dutch postcode has four digits and two letters, e.g. 3001 AL.")) from None

    def validate_customer_number(self, field):
        if field.data and not _IDENTIFIER.match(field.data.strip()):
            raise ValidationError(_l("Use letters, digits, spaces, dots, slashes and dashes only."))

    validate_policy_number = validate_customer_number

    def validate_device_id(self, field):
        value = (field.data or "").strip()
        if not value:
            return
        digits = value.replace(" ", "").replace("-", "")
        if digits.isdigit():
            # All digits: it is an IMEI (or IMEISV) and must pass the check-digit test.
            if not imei.is_valid(digits):
                raise ValidationError(_l("This IMEI is not valid (the check digit does not match)."))
            field.data = imei.compact(digits)
        elif not _SERIAL.match(value):
            raise ValidationError(_l("A serial number has 4 to 40 letters, digits or dashes."))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for field in (self.address, self.postcode, self.city, self.email, self.phone, self.customer_number,
                      self.policy_number, self.device_id, self.notes):
            # PostgreSQL cannot store NUL in text, and no letter contains control characters; notes may have
            # line breaks and tabs.
            allowed = "\t\r\n" if field is self.notes else ""
            if isinstance(field.data, str) and any(ord(c) < 32 and c not in allowed for c in field.data):
                field.errors = list(field.errors) + [_l("This field contains a control character.")]
                ok = False
        if self.channel.data == Channel.POST.value and not (self.address.data and self.city.data):
            # A letter is answered by letter: the reply goes to the address it came from.
            self.address.errors = list(self.address.errors) + [
                _l("A request that came by post is answered by post: give the street and the city.")]
            ok = False
        elif not (self.email.data or (self.address.data and self.city.data)):
            # A request is answered in writing: we need somewhere to send the answer.
            self.address.errors = list(self.address.errors) + [
                _l("Give a postal address (street and city) or an e-mail address to reply to.")]
            ok = False
        return ok

    # -- results --------------------------------------------------------------------------------
    def subject_details(self) -> SubjectDetails:
        def clean(value):
            value = (value or "").strip()
            return value or None

        return SubjectDetails(
            name=self.name.data,
            date_of_birth=self.date_of_birth.data,
            address=clean(self.address.data),
            postcode=clean(self.postcode.data),
            city=clean(self.city.data),
            country=clean(self.country.data),
            email=clean(self.email.data),
            phone=clean(self.phone.data),
            customer_number=clean(self.customer_number.data),
            policy_number=clean(self.policy_number.data),
            device_id=clean(self.device_id.data),
            title=SubjectTitle(self.title.data) if self.title.data in set(SubjectTitle) else None,
        )

    def request_details(self) -> dict:
        """What :func:`dsr.cases.operations.log_request` needs from a validated form."""
        return {
            "subject": self.subject_details(),
            "rights": [Right(r) for r in self.rights.data],
            "channel": Channel(self.channel.data),
            "received_on": self.received_on.data,
            "language": Language(self.language.data),
            "notes": self.notes.data or "",
        }


class ApiIntakeForm(IntakeForm):
    """The intake form as the JSON API feeds it: without the scan, the subject to link and the button, which
    the API never fills and whose errors it never shows (three of twenty fields bound and validated for
    nothing at every creation; issue 15, item 3). The same checks and messages for the rest.

    Of a body, the fields it does not give whose checks start with ``Optional()`` are neither processed nor
    validated (:func:`api_intake_form`): for them WTForms' validation is known in advance to end at that
    ``Optional()`` with no error and their data to be their default."""

    scan = None
    link_subject = None
    submit = None
    _checked = None  # the fields to validate (api_intake_form); None: all of them, as a new form does

    def validate(self, extra_validators=None) -> bool:
        # The form's own validation (IntakeForm.validate: each field's checks, then those across fields) over
        # the fields this body gave and those that are checked whatever it gives (see api_intake_form);
        # ``errors`` is read over every field afterwards, the others' errors being empty.
        if self._checked is None:
            return super().validate(extra_validators)
        fields, self._fields = self._fields, self._checked
        try:
            return super().validate(extra_validators)
        finally:
            self._fields = fields


class _Absent(NamedTuple):
    """What processing gives a field that the form data does not name: its default as data and object data."""

    data: object
    object_data: object


def _left_alone(form: ApiIntakeForm) -> dict[str, _Absent]:
    """The fields of ``form`` that need neither processing nor validation when the form data does not name
    them, with what processing would give them; read from the form's own fields, once per thread and app.

    Such a field's first check is ``Optional()``, which ends the validation of a field without input, with no
    error; before it, the field's ``pre_validate`` passes on the default (a select's default is one of its
    choices), processing it adds no error, and its default is a value nothing changes (text, a date, None).
    The HTML form validates every field as WTForms does; the API's answers are the same (tests/web/test_api.py
    holds them against a form processed and validated in full)."""
    probe = ApiIntakeForm(formdata=MultiDict(), meta={"csrf": False})
    left = {}
    for name, field in probe._fields.items():
        if not (field.validators and isinstance(field.validators[0], Optional)) or field.process_errors:
            continue
        if not all(isinstance(value, str | date | None) for value in (field.data, field.object_data)):
            continue
        if getattr(probe, f"filter_{name}", None) is not None:
            continue
        try:
            field.pre_validate(probe)
        except ValueError:  # ValidationError and StopValidation are ValueErrors
            continue
        left[name] = _Absent(field.data, field.object_data)
    return left


_kept = threading.local()


def api_intake_form(formdata) -> ApiIntakeForm:
    """An :class:`ApiIntakeForm` holding ``formdata``, processed (not yet validated), without CSRF.

    The form's 17 fields are bound once per thread and app, then processed again for each request, as a new
    form would process them: binding them was a third of the form's CPU in a case's creation through the
    API, about 0.2 ms (issue 15, item 3). Processing sets every field's data, raw data and errors anew and
    validating sets its errors anew, so nothing of an earlier request remains in what the view reads; the
    fields' messages are translated when they are read (dsr.web.WTFORMS_TRANSLATIONS follows the request's
    locale), and the countries are named in the language of the request that reads them.

    A field the data does not name and that is left alone without input (:func:`_left_alone`: its checks
    start with ``Optional()``) is given what processing would give it (its default, no raw data, no error)
    and left out of the validation: the bench's body names 7 of the 17 fields, and the other ten, processed
    and validated, were a quarter of the form's CPU (issue 15, item 3)."""
    app = current_app._get_current_object()
    kept = getattr(_kept, "form", None)
    if kept is None or kept[0] is not app:
        form = ApiIntakeForm(formdata=MultiDict(), meta={"csrf": False})
        kept = _kept.form = (app, form, _left_alone(form))
    form, left = kept[1], kept[2]
    checked = {}
    for name, field in form._fields.items():
        absent = left.get(name)
        if absent is None or name in formdata:
            field.process(formdata)
            checked[name] = field
        else:  # what field.process(formdata) gives it, and what validating it would leave
            field.process_errors, field.raw_data, field.errors = [], [], []
            field.object_data, field.data = absent.object_data, absent.data
    form.post_process(formdata)  # as BaseForm.process ends
    form._checked = checked
    form.country.choices = country_choices  # read again in the language of the request that reads them
    return form
