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
    apart = pdf.render_pdf_apart(HTML)
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
        pdf.render_pdf_apart(HTML)
    assert says in str(failed.value) and "Jansen" not in str(failed.value)
    child = int((tmp_path / "pid").read_text())
    assert child != os.getpid() and gone(child)
    assert multiprocessing.active_children() == []


def test_a_child_that_hangs_is_stopped_at_the_timeout(tmp_path, monkeypatch):
    monkeypatch.setattr(pdf, "render_pdf", _in_child(tmp_path, lambda: time.sleep(120)))
    started = time.monotonic()
    with pytest.raises(pdf.RenderFailed, match="longer than 1 s"):
        pdf.render_pdf_apart(HTML, timeout=1)
    assert time.monotonic() - started < 30
    assert gone(int((tmp_path / "pid").read_text())) and multiprocessing.active_children() == []
