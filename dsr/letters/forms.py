"""The form of the "Letters" card: which letter, in which language. Preview and Issue post the same form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import InputRequired

from dsr.letters.kinds import KINDS, LANGUAGE_LABELS


class LetterForm(FlaskForm):
    kind = SelectField(_l("Letter"), choices=[(k.value, s.label) for k, s in KINDS.items()],
                       validators=[InputRequired()])
    language = SelectField(_l("Language"), choices=[(k.value, v) for k, v in LANGUAGE_LABELS.items()],
                           validators=[InputRequired()])
