"""Odd input is refused at the door with a 400 that names the field, before any view or database sees it.

What a database cannot store or a parser cannot survive would otherwise surface as a 500 deep inside a
view: integers beyond 64 bits (SQLite and PostgreSQL BIGINT both stop at 2**63-1), NUL characters
(PostgreSQL text cannot hold them), lone UTF-16 surrogates (no UTF-8 encoding exists for them; they
arrive through JSON escapes such as "\\ud800"), and JSON nested so deeply that parsing it would exhaust
the stack. Integers in URLs beyond 64 bits do not match a route (404), like any other unknown id.
"""

from __future__ import annotations

import re

from flask import Flask, g, render_template, request
from werkzeug.routing import IntegerConverter

MAX_INT = 2**63 - 1
MAX_JSON_DEPTH = 32
_INTEGER = re.compile(r"\s*[-+]?\d+\s*")
_SURROGATE = re.compile("[\ud800-\udfff]")


class BoundedIntegerConverter(IntegerConverter):
    """``<int:...>`` that matches only what a database integer can hold."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's own signature
        kwargs.setdefault("max", MAX_INT)
        super().__init__(map, *args, **kwargs)


class OddInput(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def _check_text(field: str, value: str) -> None:
    if "\x00" in value:
        raise OddInput(field, "Contains a NUL character, which cannot be stored.")
    if _SURROGATE.search(value):
        raise OddInput(field, "Contains a lone UTF-16 surrogate, which is not a character.")


# Free-text fields where a long run of digits is text, not a number (a device id, a policy number).
TEXT_FIELDS = {"name", "address", "postcode", "city", "email", "phone", "customer_number", "policy_number",
               "device_id", "notes", "body", "q", "search", "reason", "justification", "text", "value", "new_value"}


def _check_number_text(field: str, value: str) -> None:
    if field.rsplit("-", 1)[-1] in TEXT_FIELDS:
        return
    if _INTEGER.fullmatch(value) and len(value.strip().lstrip("+-")) > 18 and abs(int(value)) > MAX_INT:
        raise OddInput(field, f"The number is too large (at most {MAX_INT}).")


def json_depth(raw: bytes) -> int:
    """How deeply arrays and objects nest in a JSON text, counted without parsing it (strings skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


# What a JSON text needs for its parsed values to hold a NUL, a lone surrogate or a number beyond 64 bits.
_NOT_PLAIN = re.compile(rb"\\u|\x00|\xed[\xa0-\xbf]|\d{19}")


def _plainly_fine(raw: bytes) -> bool:
    """Whether a JSON text, as parsed, can hold neither a NUL, a lone surrogate nor a number beyond 64 bits,
    seen from its bytes without walking what was parsed (some 40 Python calls for a case's creation through
    the API, issue 15, item 3). Parsed strictly (as Flask does), a string or key holds a NUL or a surrogate
    only through a ``\\u`` escape (raw control characters are refused) or, in UTF-8, the bytes of a surrogate
    (ED A0-BF: the parser decodes them, "surrogatepass"); an integer beyond 2**63-1 has at least 19 digits.
    A text in UTF-16 or UTF-32, which the parser reads too, has NUL bytes (its ASCII quotes and brackets).
    Any of these, or a run of 19 digits in a string, and the parsed body is walked as before."""
    return _NOT_PLAIN.search(raw) is None


def _walk_json(value, path: str) -> None:
    if isinstance(value, str):
        _check_text(path or "body", value)
    elif isinstance(value, bool) or value is None or isinstance(value, float):
        return
    elif isinstance(value, int):
        if abs(value) > MAX_INT:
            raise OddInput(path or "body", f"The number is too large (at most {MAX_INT}).")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _walk_json(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(f"{path}.{key}" if path else key, key)
            _walk_json(item, f"{path}.{key}" if path else key)


# Pages whose form checks every text field for control characters itself and shows the error on the
# field, keeping what was typed (dsr/cases/forms.py, IntakeForm): their form posts are left to them.
VALIDATES_ITS_OWN_TEXT = {"cases.new"}


# The bodies werkzeug parses into ``request.form`` and ``request.files`` (werkzeug.formparser.FormDataParser);
# any other body has neither, and asking for them only sets up the parser to find nothing: a third of this
# check's time for a JSON body, such as a case's creation through the API (issue 15, item 3).
FORM_BODIES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})


def check_request() -> None:
    """Raise :class:`OddInput` for the first odd value in the query, the form or the JSON body."""
    own_text = request.endpoint in VALIDATES_ITS_OWN_TEXT
    form_body = request.mimetype in FORM_BODIES
    for source in (request.args, request.form) if form_body else (request.args,):
        for field, values in source.lists():
            _check_text(field, field)
            for value in values:
                if not (own_text and source is request.form):
                    _check_text(field, value)
                _check_number_text(field, value)
    if form_body:
        for field, storage in request.files.items():
            _check_text(field, storage.filename or "")
    if request.is_json:
        raw = request.get_data(cache=True)
        # A text with no more brackets and braces than the limit cannot nest deeper than it: counted in C,
        # the walk byte by byte in Python (some 20 µs for a case's creation through the API, issue 15,
        # item 3) is left for the texts that might.
        if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and json_depth(raw) > MAX_JSON_DEPTH:
            raise OddInput("body", f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep.")
        body = request.get_json(silent=True)
        if body is not None and not _plainly_fine(raw):
            _walk_json(body, "")


def register(app: Flask) -> None:
    app.url_map.converters["int"] = BoundedIntegerConverter

    @app.before_request
    def _guard():
        try:
            check_request()
        except OddInput as exc:
            g.odd_input = exc
            if request.path.startswith("/api/"):
                from dsr.api.auth import api_error

                return api_error(400, f"{exc.field}: {exc.message}", errors={exc.field: [exc.message]})
            return render_template("errors/error.html", code=400, message=f"{exc.field}: {exc.message}"), 400
        return None
