"""The case page's action forms write their hidden fields as WTForms writes them (dsr.cases.hidden_fields).

``templates/cases/_action.html`` opens every action form with :func:`action_hidden_fields` instead of three
WTForms renderings (issue 15, item 3). For every action form of the page, with and without a CSRF token, fresh
(the page's own) and as submitted and refused (shown again with what was typed, odd characters included), the
text must be what ``{{ form.csrf_token }}{{ form.version(type='hidden') }}{{ form.last_event }}`` wrote.
"""

from __future__ import annotations

import inspect

import pytest
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms.validators import NumberRange

from dsr.cases import action_forms as F
from dsr.cases.hidden_fields import action_hidden_fields

FORMS = [cls for _, cls in inspect.getmembers(F, inspect.isclass)
         if issubclass(cls, F.CaseActionForm) and cls.__module__ == F.__name__]


def _as_wtforms_writes(form) -> str:
    token = form.csrf_token() if "csrf_token" in form._fields else ""
    return "".join([token, form.version(type="hidden"), form.last_event()])  # a str's join: nothing escaped


def test_every_action_form_of_the_page_is_counted():
    assert len(FORMS) >= 19
    assert F.UploadForm in FORMS and F.NoteForm in FORMS and F.TransitionForm in FORMS


@pytest.mark.parametrize("csrf", [True, False])
@pytest.mark.parametrize("cls", FORMS, ids=lambda cls: cls.__name__)
def test_the_hidden_fields_are_what_wtforms_writes(app, cls, csrf):
    with app.test_request_context("/cases/DSR-2026-00001"):
        made = [
            cls(prefix="act", formdata=None, version=7, last_event=812, meta={"csrf": csrf}),
            cls(prefix="other", formdata=None, version=None, last_event=None, meta={"csrf": csrf}),
            cls(prefix="odd", formdata=None, version=0, last_event='"<&>\'', meta={"csrf": csrf}),
        ]
        # As submitted and refused: the typed version (raw data) is shown again, whatever was parsed from it.
        submitted = cls(prefix="act", formdata=MultiDict({"act-version": '3"<x>&', "act-last_event": "a\"b'<c>"}),
                        meta={"csrf": csrf})
        submitted.validate()
        submitted.version.data = 9
        made.append(submitted)
        for form in made:
            written = action_hidden_fields(form)
            assert isinstance(written, Markup)
            assert written == _as_wtforms_writes(form)
        if csrf:
            assert 'name="act-csrf_token" type="hidden" value="' in str(action_hidden_fields(made[0]))


def test_a_field_that_is_not_a_plain_hidden_input_is_left_to_wtforms(app, monkeypatch):
    """A bound, a datalist-free ``render_kw`` or a flag with a value would be written by WTForms, not guessed."""
    with app.test_request_context("/"):
        form = F.NoteForm(prefix="note", formdata=None, version=4, last_event=2)
        form.version.render_kw = {"data_x": "y"}
        form.version.widget.step = None
        assert action_hidden_fields(form) == _as_wtforms_writes(form)
        assert 'data-x="y"' in str(action_hidden_fields(form))
        other = F.NoteForm(prefix="note", formdata=None, version=4, last_event=2)
        other.version.flags.max = 10  # as NumberRange(max=10) sets it
        assert NumberRange(max=10).field_flags == {"max": 10}
        assert action_hidden_fields(other) == _as_wtforms_writes(other)
        assert 'max="10"' in str(action_hidden_fields(other))
