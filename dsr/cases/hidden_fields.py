"""The hidden fields every action form of the case page carries, written as WTForms writes them (issue 15,
item 3).

Each of a case page's action forms opens with its CSRF token, the case's version and the last event the page
showed (``templates/cases/_action.html``, ``open``): three WTForms renderings a form, each through its widget,
its flags and ``html_params`` (a sort and a ``Markup.format`` per attribute), some twenty Python calls an
attribute. A page shows three to a dozen such forms. :func:`action_hidden_fields` writes the same three inputs
in one step when they are the plain hidden inputs they are (a hidden or number widget, no ``render_kw``, no
datalist, no bounds, a text value), and leaves anything else to WTForms.
"""

from __future__ import annotations

from markupsafe import Markup, escape
from wtforms.widgets import HiddenInput, NumberInput


def _plain_hidden(field, kind: type) -> str | None:
    """``field`` rendered as ``<input … type="hidden" …>`` as WTForms would, or ``None`` when it is not plain."""
    widget = field.widget
    if type(widget) is not kind or field.render_kw is not None or getattr(field, "_datalist", None) is not None:
        return None
    if kind is NumberInput and (widget.step, widget.min, widget.max) != (None, None, None):
        return None
    value = field._value()
    if type(value) is not str:
        return None
    flags = field.flags
    shown = [k for k in dir(flags) if k in widget.validation_attrs]
    if any(getattr(flags, k) is not True for k in shown):
        return None  # a flag WTForms would write with a value, call, or leave out
    # html_params: the attributes sorted by name, a true flag as its bare name, the values escaped.
    attributes = sorted([("id", f'id="{escape(field.id)}"'), ("name", f'name="{escape(field.name)}"'),
                         ("type", 'type="hidden"'), ("value", f'value="{escape(value)}"'),
                         *((k, k) for k in shown)])
    if len({name for name, _ in attributes}) != len(attributes):
        return None
    return f"<input {' '.join(text for _, text in attributes)}>"


def action_hidden_fields(form) -> Markup:
    """What ``{{ form.csrf_token }}{{ form.version(type='hidden') }}{{ form.last_event }}`` writes for a case
    action form (:class:`~dsr.cases.action_forms.CaseActionForm`): nothing for the token when the form has none
    (CSRF off), each field by WTForms itself when :func:`_plain_hidden` cannot write it."""
    parts = []
    csrf = form._fields.get("csrf_token")
    if csrf is not None:
        parts.append(_plain_hidden(csrf, HiddenInput) or str(csrf()))
    parts.append(_plain_hidden(form.version, NumberInput) or str(form.version(type="hidden")))
    parts.append(_plain_hidden(form.last_event, HiddenInput) or str(form.last_event()))
    return Markup("".join(parts))
