"""A rendering leaves no reference cycle holding what it was given (dsr.web.UnlinkedTemplate), and Flask's
``ensure_sync`` answers are kept per function (dsr.App): the garbage collector's passes and 550 Python calls a
queue page (issue 15, item 3)."""

from __future__ import annotations

import gc
import inspect
import weakref

import pytest
from flask import Flask, render_template, render_template_string, template_rendered
from jinja2 import ChoiceLoader, DictLoader

from dsr.web import UnlinkedTemplate


class Given:
    """Something a page is given, which can be watched with a weak reference."""

    def __init__(self, name: str):
        self.name = name


MACROS = """{% macro shout(x) %}{{ x.name|upper }}{{ suffix }}{% endmacro %}"""
PAGE = """{% from "macros.html" import shout with context %}{% import "macros.html" as plain %}
{%- macro own(x) %}[{{ x.name }}]{% endmacro -%}
{{ own(thing) }} {{ shout(thing) }} {{ plain.shout(thing) }} {% include "part.html" %} {{ inner(thing) }}"""
PART = """<{{ thing.name }}{{ suffix }}>"""


@pytest.fixture
def templates(app):
    original = app.jinja_env.loader
    app.jinja_env.loader = ChoiceLoader([DictLoader({"macros.html": MACROS, "page.html": PAGE, "part.html": PART}),
                                         original])
    yield app
    app.jinja_env.loader = original
    app.jinja_env.cache.clear()


def _inner(thing) -> str:
    """A rendering inside the rendering, as a helper that renders a card's template does."""
    return render_template_string("{% macro m(t) %}({{ t.name }}){% endmacro %}{{ m(thing) }}", thing=thing)


def test_a_rendering_frees_what_it_was_given_without_the_collector(templates):
    app = templates
    with app.test_request_context():
        render_template("page.html", thing=Given("warm"), suffix="!", inner=_inner)
        thing = Given("ada")
        watched = weakref.ref(thing)
        gc.disable()
        try:
            html = render_template("page.html", thing=thing, suffix="!", inner=_inner)
            del thing
            assert watched() is None  # freed by its count, not left in a cycle for the collector
        finally:
            gc.enable()
    # the rendering itself is whole: the own, imported-with-context, imported, included and nested macros
    assert html == "[ada] ADA! ADA <ada!> (ada)"


def test_a_template_imported_without_context_still_works_on_the_next_rendering(templates):
    app = templates
    with app.test_request_context():
        first = render_template("page.html", thing=Given("one"), suffix="?", inner=_inner)
        second = render_template("page.html", thing=Given("two"), suffix="?", inner=_inner)
    assert first == "[one] ONE? ONE <one?> (one)"
    assert second == "[two] TWO? TWO <two?> (two)"


def test_flask_signals_still_carry_the_variables_given(templates):
    app = templates
    seen = []

    def record(sender, template, context, **extra):
        seen.append(context)

    template_rendered.connect(record, app)
    try:
        with app.test_request_context():
            render_template("part.html", thing=Given("kept"), suffix=".")
    finally:
        template_rendered.disconnect(record, app)
    assert seen[0]["thing"].name == "kept" and seen[0]["suffix"] == "."


def test_a_rendering_that_raises_raises_as_before(templates):
    app = templates
    with app.test_request_context(), pytest.raises(ZeroDivisionError):
        render_template_string("{{ 1 // zero }}", zero=0)
    with app.test_request_context():  # and the next one renders
        assert render_template_string("{{ 2 // one }}", one=1) == "2"


def test_every_page_template_is_unlinked(app):
    with app.app_context():
        for name in ("base.html", "cases/queue.html", "cases/detail.html"):
            assert isinstance(app.jinja_env.get_template(name), UnlinkedTemplate)


def test_ensure_sync_keeps_flasks_answer(app):
    funcs = [*app.view_functions.values(), *(f for fs in app.before_request_funcs.values() for f in fs),
             *(f for fs in app.after_request_funcs.values() for f in fs),
             *(f for fs in app.template_context_processors.values() for f in fs)]
    assert len(funcs) > 50
    for func in funcs:
        assert app.ensure_sync(func) is Flask.ensure_sync(app, func) is func
        assert app.ensure_sync(func) is func  # kept

    async def later():
        return "done"

    assert inspect.iscoroutinefunction(later)
    try:
        expected = Flask.ensure_sync(app, later)
    except RuntimeError:  # Flask's async extra (asgiref) is not installed: the same refusal
        with pytest.raises(RuntimeError):
            app.ensure_sync(later)
    else:
        wrapped = app.ensure_sync(later)
        assert wrapped is not later and wrapped() == expected() == "done"
