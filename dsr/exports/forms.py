"""The form on the exports card: which kind of export, in which language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import InputRequired

from dsr.exports.models import ExportKind
from dsr.exports.operations import KIND_NAMES

LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English", "fr": "Français"}


class ExportForm(FlaskForm):
    kind = SelectField(_l("Export"), choices=[(k.value, KIND_NAMES[k]) for k in ExportKind],
                       validators=[InputRequired()])
    # Empty: the case's language.
    language = SelectField(_l("Language"), choices=[("", _l("the case's language")),
                                                    *LANGUAGE_NAMES.items()], default="")
