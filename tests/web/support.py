"""Helpers for the web tests: the frozen clock, signing in, reading pages and cards, counting what is stored,
building intake posts and files.

Not a conftest: fixtures stay in the test modules (each one re-points ``app`` at both backends), and this
module only holds plain functions, so nothing here changes tests that do not import it.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import sqlalchemy as sa
import time_machine

from dsr.auth.models import User
from dsr.domain.enums import Role
from dsr.extensions import db
from tests.conftest import NOW
from tests.factories import login, make_case, make_user

# The tables a request may write to; "files" counts what lies under STORAGE_DIR.
STORED_TABLES = ("cases", "case_rights", "data_subjects", "attachments", "audit_events")


def frozen_clock():
    """For a module's autouse fixture (``yield from frozen_clock()``): the clock stands still at NOW, Thursday
    26 November 2026, 10:00 UTC, for the whole test. The fixture's value is the traveller, to move it on
    (``traveller.shift(...)``)."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


# -- users, cases and the case page ------------------------------------------------------------------

def make_users_of_every_role() -> dict[Role, User]:
    """One user of every role, made and committed (in an app context), so that any role can sign in."""
    return {role: make_user(role) for role in Role}


def user_ids(app) -> dict[Role, int]:
    """:func:`make_users_of_every_role` in ``app``: the id of each, by role."""
    with app.app_context():
        return {role: user.id for role, user in make_users_of_every_role().items()}


def new_case(app, **case) -> str:
    """Make one user of every role and a case logged by staff (``make_case``'s arguments); its reference."""
    with app.app_context():
        return make_case(actor=make_users_of_every_role()[Role.STAFF], **case).reference


def signed_in(app, role: Role):
    """A client logged in as the user of ``role``: a client of its own per role, since a second login in one
    session would keep the first user."""
    client = app.test_client()
    login(client, role)
    return client


def case_page(client, reference: str) -> str:
    """The case page's HTML; it must answer 200."""
    response = client.get(f"/cases/{reference}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def card_of(html: str, card_id: str, next_id: str | None = None) -> str:
    """One card of the case page: from its ``id`` up to the ``id`` of what follows it or, without ``next_id``,
    up to the next card (or the end of the page)."""
    start = html.index(f'id="{card_id}"')
    if next_id is not None:
        return html[start:html.index(f'id="{next_id}"', start)]
    end = html.find('<div class="card mb-3', start)
    return html[start:end if end > 0 else len(html)]


def form_actions(html: str, section: str) -> set[str]:
    """The actions of the forms in ``html`` that post to ``/cases/<reference>/<section>/<action>``."""
    return set(re.findall(rf'<form method="post" action="/cases/[^"]+/{re.escape(section)}/(\w+)"', html))


# -- counting what is stored ---------------------------------------------------------------------------

def stored_counts(app) -> dict[str, int]:
    """Rows per table and files under STORAGE_DIR: compare before and after a refused request."""
    with app.app_context():
        counts = {
            name: db.session.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar_one()
            for name in STORED_TABLES
        }
        db.session.remove()
    counts["files"] = sum(1 for p in Path(app.config["STORAGE_DIR"]).rglob("*") if p.is_file())
    return counts


def intake_data(**overrides) -> dict:
    """A valid postal-intake post; an override of ``None`` leaves the field out.

    No postcode by default: the postcode check is tested on its own, and a defect there must not hide
    every other intake test behind it.
    """
    data = {
        "name": "Zoë Van den Broeck",
        "date_of_birth": "1984-02-29",
        "address": "Coolsingel 40",
        "postcode": "",
        "city": "Rotterdam",
        "country": "NL",
        "email": "zoe@example.nl",
        "phone": "+31 10 123 4567",
        "customer_number": "HC1234567",
        "policy_number": "HP-555123",
        "device_id": "",
        "rights": ["access"],
        "channel": "post",
        "received_on": "2026-11-20",
        "language": "nl",
        "notes": "",
        "link_subject": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def with_file(data: dict, content: bytes, filename: str, content_type: str = "application/octet-stream") -> dict:
    return {**data, "scan": (io.BytesIO(content), filename, content_type)}


# -- files -------------------------------------------------------------------------------------------

def png_bytes(width: int = 3, height: int = 2) -> bytes:
    """A real, minimal RGB PNG built by hand (signature, IHDR, IDAT, IEND with their CRCs)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (struct.pack(">I", len(payload)) + kind + payload
                + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))

    rows = b"".join(b"\x00" + b"\xcc\x22\x11" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def jpeg_bytes() -> bytes:
    """A real JPEG (Pillow comes with WeasyPrint)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buf, "JPEG")
    return buf.getvalue()


def pdf_bytes(text: str = "Verzoek inzage") -> bytes:
    """A real one-page PDF with a correct cross-reference table."""
    stream = f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# -- reading pages -----------------------------------------------------------------------------------

class _FormReader(HTMLParser):
    """Collects, per form control name, the error messages shown after it and the values it shows."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.errors: dict[str, list[str]] = {}
        self.values: dict[str, list[str]] = {}
        self.checked: dict[str, list[str]] = {}
        self.selected: dict[str, list[str]] = {}
        self._last: str | None = None
        self._error: list[str] | None = None
        self._depth = 0
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self._error is not None and tag == "div":
            self._depth += 1
        if tag in ("input", "select", "textarea") and a.get("name"):
            self._last = a["name"]
            if tag == "input":
                kind = (a.get("type") or "text").lower()
                if kind in ("checkbox", "radio"):
                    if "checked" in a:
                        self.checked.setdefault(a["name"], []).append(a.get("value") or "")
                elif kind != "file":
                    self.values.setdefault(a["name"], []).append(a.get("value") or "")
            elif tag == "textarea":
                self._textarea = a["name"]
                self.values.setdefault(a["name"], []).append("")
            else:
                self._select = a["name"]
        if tag == "option" and self._select and "selected" in a:
            self.selected.setdefault(self._select, []).append(a.get("value") or "")
        if tag == "div" and "invalid-feedback" in (a.get("class") or "").split() and self._error is None:
            self._error = []
            self._depth = 1

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        if tag == "select":
            self._select = None
        if self._error is not None and tag == "div":
            self._depth -= 1
            if self._depth == 0:
                self.errors.setdefault(self._last or "", []).append(" ".join("".join(self._error).split()))
                self._error = None

    def handle_data(self, data):
        if self._error is not None:
            self._error.append(data)
        if self._textarea:
            value = self.values[self._textarea][-1] + data
            # As in a browser: one newline right after <textarea> is not part of the value.
            if not self.values[self._textarea][-1] and value[:1] in ("\r", "\n"):
                value = value[2:] if value.startswith("\r\n") else value[1:]
            self.values[self._textarea][-1] = value


def read_form(html: str) -> _FormReader:
    reader = _FormReader()
    reader.feed(html)
    return reader


def field_errors(html: str) -> dict[str, list[str]]:
    """Error messages per field name, as shown under each field."""
    return read_form(html).errors


def flashes(html: str) -> list[tuple[str, str]]:
    """(category, text) of each flashed message on the page."""
    found = re.findall(r'<div class="alert alert-(\w+)" role="alert">(.*?)</div>', html, re.S)
    return [(cat, " ".join(unescape(text).split())) for cat, text in found]


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on the page, as a browser would send it."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "no CSRF token on the page"
    return unescape(match.group(1))


STATUS_WORDS = {"overdue": "overdue", "due soon": "due_soon", "due today": "due_soon", "on track": "on_track"}


def _days_left(cell_text: str) -> int | None:
    """Days left as the queue writes them: "4 days left", "due today", "6 days late", or a bare number."""
    if (m := re.search(r"(\d+) days? left", cell_text)) is not None:
        return int(m.group(1))
    if (m := re.search(r"(\d+) days? late", cell_text)) is not None:
        return -int(m.group(1))
    if "due today" in cell_text:
        return 0
    if re.fullmatch(r"-?\d+", cell_text.strip()):
        return int(cell_text)
    return None


def queue_rows(html: str) -> list[dict]:
    """The rows of the case queue: reference, subject cell text, days left and status.

    ``status`` is on_track / due_soon / overdue, read from the status badge's words ("due today" is the
    last day of due soon: a reply sent that day is in time); ``None`` for a closed case.
    """
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = []
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        ref = re.search(r">(DSR-\d{4}-\d{5})<", tr)
        if ref is None:
            continue
        cells = re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)
        # A privacy manager's queue starts with a tick box column: the subject is the cell after the reference.
        at = next(i for i, c in enumerate(cells) if ref.group(1) in c)
        cells = cells[at:]
        days = re.search(r'class="days-left">(-?\d+)<', tr)
        days_left = int(days.group(1)) if days else next(
            (d for d in (_days_left(text_of(c)) for c in cells[2:]) if d is not None), None)
        badge = re.search(r'<span class="badge badge-(\w+)"[^>]*>(.*?)</span>', tr, re.S)
        status = None
        if badge:
            status = STATUS_WORDS.get(text_of(badge.group(2)).lower(), badge.group(1))
        rows.append({
            "reference": ref.group(1),
            "subject": " ".join(unescape(re.sub(r"<[^>]+>", " ", cells[1])).split()),
            "days_left": days_left,
            "status": status,
            "html": tr,
        })
    return rows


def text_of(html: str) -> str:
    """The visible text of an HTML fragment, whitespace collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def date_pattern(day, *, weekday: bool = False) -> str:
    """A regex for ``day`` written out in English, day-month (en_GB) or month-day (en_US) order.

    The tests check which date a page names, not the locale's punctuation.
    """
    month, year = day.strftime("%B"), day.year
    core = rf"(?:{month} {day.day},? {year}|{day.day} {month},? {year})"
    return rf"{day.strftime('%A')},? {core}" if weekday else core


def browser_target(location: str, base: str = "http://localhost/login") -> tuple[str, str]:
    """Where a browser goes for a Location header: (scheme, host).

    Browsers drop tabs and newlines from URLs and treat a backslash like a slash in http(s) URLs
    (WHATWG URL standard), so ``/\\evil.example`` is the same as ``//evil.example``.
    """
    cleaned = re.sub(r"[\t\n\r]", "", location).replace("\\", "/").strip()
    parts = urlsplit(urljoin(base, cleaned))
    return parts.scheme, parts.netloc


def confirmation(response) -> tuple[str, str, dict[str, list[str]]] | None:
    """The confirmation step a destructive action answers with (dsr.confirm): (title, what will happen, the
    fields its confirm button posts, the button's own name=yes included), or None when there is none."""
    html = response.get_data(as_text=True)
    if response.status_code != 200 or 'class="confirm-step' not in html:
        return None
    title = text_of(re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1))
    body = text_of(re.search(r'<div class="card-body">(.*?)</form>', html, re.S).group(1))
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html):
        fields.setdefault(unescape(name), []).append(unescape(value))
    button = re.search(r'<button[^>]*name="([^"]+)" value="yes"', html).group(1)
    fields[button] = ["yes"]
    return title, body, fields


def confirmed_post(client, url: str, data: dict):
    """Post ``data``; if the answer is a confirmation step, press its confirm button (as a person would)."""
    response = client.post(url, data=data)
    step = confirmation(response)
    if step is None:
        return response
    return client.post(url, data=step[2])


def dashboard_overdue(client) -> dict[str, tuple[str, int]]:
    """The dashboard's two statements of what is past the legal deadline: the tile and the banner above it,
    each as (its words, its count); the banner's entry is missing when nothing is late."""
    html = client.get("/dashboard").get_data(as_text=True)
    tile = re.search(r'id="tile-overdue" href="[^"]+">\s*<div class="card-body p-2">\s*'
                     r'<div class="display-6 fw-semibold">(\d+)</div>\s*<div class="small">([^<]+?) →', html)
    assert tile, "no overdue tile on the dashboard"
    found = {"tile": (unescape(tile.group(2)).strip(), int(tile.group(1)))}
    banner = re.search(r'data-kind="legal_overdue" data-count="(\d+)"[^>]*>([^<]+?): (\d+)</a>', html)
    if banner:
        assert banner.group(1) == banner.group(3)
        found["banner"] = (unescape(banner.group(2)).strip(), int(banner.group(1)))
    return found
