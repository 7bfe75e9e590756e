"""A PDF laid out in a child process (issue 15, item 4): the same bytes as in this process; a child that
fails, dies or hangs is a clear :class:`RenderFailed` that quotes nothing of the document, and no child
process is left behind."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

from dsr import pdf

HTML = "<h1>Uw persoonsgegevens bij Harmony</h1>" + "".join(
    f"<p>Betaling {n}: € {n},50 op rekening NL91ABNA0417164300</p>" for n in range(200))


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_the_child_makes_the_same_pdf_as_this_process():
    html, apart = pdf.render_apart(lambda: HTML)
    assert html == HTML
    assert apart == pdf.render_pdf(HTML)
    from io import BytesIO

    text = " ".join(page.extract_text() for page in PdfReader(BytesIO(apart)).pages)
    assert "Betaling 199" in text and len(PdfReader(BytesIO(apart)).pages) > 1
    assert multiprocessing.active_children() == []


def _in_child(tmp_path: Path, then):
    """A stand-in for WeasyPrint in the child: notes the child's pid, then does ``then``."""
    def render(html, **kw):
        (tmp_path / "pid").write_text(str(os.getpid()))
        return then()
    return render


@pytest.mark.parametrize("then, says", [
    (lambda: os.kill(os.getpid(), signal.SIGKILL), "stopped without a result (exit code -9)"),
    (lambda: os._exit(3), "stopped without a result (exit code 3)"),
    (lambda: (_ for _ in ()).throw(ValueError("Jansen, Coolsingel 40")), "failed: ValueError"),
])
def test_a_child_that_dies_or_fails_is_a_clear_error_and_is_gone(tmp_path, monkeypatch, then, says):
    monkeypatch.setattr(pdf, "render_pdf", _in_child(tmp_path, then))
    with pytest.raises(pdf.RenderFailed) as failed:
        pdf.render_apart(lambda: HTML)
    assert says in str(failed.value) and "Jansen" not in str(failed.value)
    child = int((tmp_path / "pid").read_text())
    assert child != os.getpid() and gone(child)
    assert multiprocessing.active_children() == []


def test_a_child_that_hangs_is_stopped_at_the_timeout(tmp_path, monkeypatch):
    monkeypatch.setattr(pdf, "render_pdf", _in_child(tmp_path, lambda: time.sleep(120)))
    started = time.monotonic()
    with pytest.raises(pdf.RenderFailed, match="longer than 1 s"):
        pdf.render_apart(lambda: HTML, timeout=1)
    assert time.monotonic() - started < 30
    assert gone(int((tmp_path / "pid").read_text())) and multiprocessing.active_children() == []


def test_the_html_made_in_the_child_comes_back_with_its_pdf_and_leaves_this_process_as_it_was():
    """:func:`pdf.render_apart` makes the HTML in the child (an export's overview: its template and locale data
    are the child's, issue 15, item 4): the same HTML, the same PDF as made here; what making it changed stays
    in the child."""
    made_in = []

    def make():
        made_in.append(os.getpid())
        return HTML

    html, made = pdf.render_apart(make)
    assert html == HTML and made == pdf.render_pdf(HTML)
    assert made_in == []  # appended in the child's copy of the list, not in this one
    assert multiprocessing.active_children() == []


def test_html_that_cannot_be_made_is_a_clear_error_that_quotes_nothing():
    def make():
        raise KeyError("Jansen, Coolsingel 40")

    with pytest.raises(pdf.RenderFailed) as failed:
        pdf.render_apart(make)
    assert "failed: KeyError" in str(failed.value) and "Jansen" not in str(failed.value)
    assert multiprocessing.active_children() == []
