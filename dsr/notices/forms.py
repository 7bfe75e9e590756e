"""The forms of the "Recipients to notify" card (Art. 19). Each posts with its own prefix (``notice_<action>``)
and carries the case version the page was rendered with, so a decision taken on a stale page is refused (409)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from dsr.notices.models import NoticeMethod
from dsr.notices.operations import TEXT_MAX
from dsr.texts.picker import subject_text_area

METHOD_LABELS = {NoticeMethod.EMAIL: _l("e-mail"), NoticeMethod.POST: _l("letter"), NoticeMethod.PHONE: _l("phone"),
                 NoticeMethod.PORTAL: _l("the recipient's portal or interface"), NoticeMethod.OTHER: _l("other")}


class NoticesForm(FlaskForm):
    version = IntegerField(validators=[InputRequired()])


class NoticeForm(NoticesForm):
    notice_id = IntegerField(validators=[InputRequired()])


class NotifiedForm(NoticeForm):
    notified_on = DateField(_l("Told on"), validators=[DataRequired(_l("Give the date the recipient was told."))])
    method = SelectField(_l("How"), choices=[(m.value, label) for m, label in METHOD_LABELS.items()])
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=TEXT_MAX)])


class NotNotifiableForm(NoticeForm):
    reason = TextAreaField(_l("Why telling them is impossible or disproportionate (Art. 19; staff note, internal)"),
                           validators=[DataRequired(_l("Say why telling this recipient is impossible or "
                                                       "disproportionate.")), Length(max=TEXT_MAX)])
    subject_text = subject_text_area()


FORMS: dict[str, type[NoticesForm]] = {"list": NoticesForm, "notified": NotifiedForm,
                                       "not_notifiable": NotNotifiableForm}


def prefix(action: str) -> str:
    return f"notice_{action}"
