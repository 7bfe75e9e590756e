"""Destructive steps confirm first: the same form posts twice, the second time with ``<prefix>-confirmed=yes``.

The first post (form valid, not yet confirmed) answers with a page that says what will happen and whether
it can be undone, and repeats every submitted field as hidden inputs, so "Yes" posts exactly what was
typed. Works without JavaScript, so it holds under the Content-Security-Policy and for keyboard users.

Feature views use it like this (erasure, refusal, withdrawal, closing)::

    if not confirmed(request.form, "refuse"):
        return confirmation_page(title=..., consequences=[...], irreversible=True, prefix="refuse",
                                 back_url=url_for("cases.detail", reference=ref))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from flask import render_template, request

CONFIRMED = "confirmed"


def confirmed(form: Mapping, prefix: str) -> bool:
    """True when the person has seen the confirmation page and pressed its confirm button."""
    return form.get(f"{prefix}-{CONFIRMED}") == "yes"


@dataclass(frozen=True)
class Consequence:
    """One line of "what will happen"; ``counts`` are (label, number) pairs shown as a small table."""

    text: str
    counts: Sequence[tuple[str, int]] = ()


def confirmation_page(*, title: str, consequences: Sequence[str | Consequence], prefix: str, back_url: str,
                      confirm_label: str, irreversible: bool, danger: bool = True, status: int = 200):
    """The page asking "are you sure?" for the request being handled, reposting its fields on "Yes".

    The CSRF token is not copied from the first post: the page's own (fresh) token is sent.
    """
    fields = [(name, value) for name in request.form for value in request.form.getlist(name)
              if not name.endswith("csrf_token") and name != f"{prefix}-{CONFIRMED}"]
    items = [c if isinstance(c, Consequence) else Consequence(str(c)) for c in consequences]
    csrf_name = next((name for name in request.form if name.endswith("csrf_token")), "csrf_token")
    return render_template("confirm/page.html", title=title, consequences=items, fields=fields,
                           action_url=request.path, confirm_name=f"{prefix}-{CONFIRMED}", csrf_name=csrf_name,
                           back_url=back_url, confirm_label=confirm_label, irreversible=irreversible,
                           danger=danger), status
