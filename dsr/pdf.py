"""HTML to PDF with WeasyPrint, fetching nothing but the project's own assets.

Letters, export overviews and reports all carry text a person typed: a subject's name, a note, a reason.
Jinja escapes it, so ``<img src="file:///etc/passwd">`` in a name is printed as text; this module is the
second wall. :class:`SafeFetcher` answers only ``file:`` URLs that resolve (symlinks followed) inside
the asset folders of :data:`ASSET_ROOTS`: the letterhead, the fonts and the stylesheet. Everything else,
``http:``, ``data:``, a ``file:`` elsewhere, is refused before any byte is read, and the refusal is
remembered so tests and logs can show what a document tried to load.

WeasyPrint is imported lazily: importing it costs about half a second, which the web process pays on its
first PDF and an RQ worker once at start (:func:`warm_up`), never once per job.

A document's links to the asset folders' stylesheets (``<link rel="stylesheet" href="letter.css">``) are
parsed once per thread, with their fonts, instead of for every PDF: :func:`_with_kept_stylesheets` takes the
links out of the HTML and hands WeasyPrint the stylesheets it parsed before, keyed by the file's path, size
and modification time, with the font configuration their ``@font-face`` rules were loaded into. Reading
``letter.css`` and loading its three fonts was about a third of a letter's time; the PDF's bytes are the same
(``tests/unit/test_pdf_kept_stylesheets.py`` renders every letter template both ways). The document's
fetcher still records every asset the document uses, the stylesheet and its fonts included.

:func:`render_apart` makes a document's HTML and lays it out in a short-lived child process forked for it:
what WeasyPrint takes for a long document (25 MB for an export's ten-page overview), and the template and
locale data the HTML is written with, are then the child's and go back to the operating system when it exits,
instead of raising a long-lived worker's peak for good (issue 15, item 4).
"""

from __future__ import annotations

import logging
import mimetypes
import multiprocessing
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# letters/assets: letterhead, fonts, the shared stylesheet; exports/assets and the reports' own assets if any.
ASSET_ROOTS: tuple[Path, ...] = (PROJECT_ROOT / "letters" / "assets", PROJECT_ROOT / "exports" / "assets")

log = logging.getLogger(__name__)

_fetcher_class: type | None = None


class RefusedURL(ValueError):
    """A document asked for something outside the project's own assets."""


class RenderFailed(RuntimeError):
    """The child process laying out a PDF failed or died; the message says how, never the document's text."""


def _weasyprint():
    import weasyprint

    return weasyprint


def asset_path_for(url: str, roots: tuple[Path, ...] = ASSET_ROOTS) -> Path:
    """The file a ``file:`` URL names, if it lies inside one of ``roots``; else :class:`RefusedURL`."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        raise RefusedURL(f"refused to fetch {url[:200]!r}: only the project's own assets are loaded")
    path = Path(unquote(parts.path)).resolve()
    for root in roots:
        if path.is_relative_to(root.resolve()) and path.is_file():
            return path
    raise RefusedURL(f"refused to fetch {url[:200]!r}: outside the project's assets")


def _make_fetcher_class() -> type:
    weasyprint = _weasyprint()

    class SafeFetcher(weasyprint.URLFetcher):
        """A WeasyPrint URL fetcher that serves the asset folders and refuses every other URL."""

        def __init__(self, roots: tuple[Path, ...] = ASSET_ROOTS, **kwargs: Any) -> None:
            super().__init__(allowed_protocols=("file",), allow_redirects=False, **kwargs)
            self.roots = roots
            self.fetched: list[str] = []
            self.refused: list[str] = []

        def fetch(self, url, headers=None):
            try:
                path = asset_path_for(url, self.roots)
            except RefusedURL:
                self.refused.append(url)
                log.warning("PDF renderer refused %s", url[:200])
                raise
            self.fetched.append(url)
            # The type by the file's name: without it WeasyPrint takes the stylesheet for text/plain
            # and ignores it.
            media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return weasyprint.urls.URLFetcherResponse(path.as_uri(), path.read_bytes(),
                                                      headers={"Content-Type": media_type})

    return SafeFetcher


def safe_fetcher(roots: tuple[Path, ...] = ASSET_ROOTS):
    """A new fetcher (it records what it fetched and refused, so take one per document)."""
    global _fetcher_class
    if _fetcher_class is None:
        _fetcher_class = _make_fetcher_class()
    return _fetcher_class(roots)


# A link the templates write: exactly this form, a file name without a folder. Text a person typed cannot
# produce it (Jinja escapes ``<``), so only the templates' own links are taken out.
_STYLESHEET_LINK = re.compile(r'<link rel="stylesheet" href="([A-Za-z0-9_-]+\.css)">')


class _KeptStylesheets(threading.local):
    """Per thread (WeasyPrint's font configuration is not shared between threads): the font configuration
    and the stylesheets parsed into it, each with the URLs its parse fetched."""

    def __init__(self) -> None:
        self.font_config = None
        self.sheets: dict[Path, tuple[tuple[int, int], Any, list[str]]] = {}


_kept = _KeptStylesheets()


def _kept_stylesheet(path: Path, roots: tuple[Path, ...]):
    """The parsed stylesheet at ``path`` (inside ``roots``) and the URLs its parse fetched: parsed again only
    when the file changed."""
    weasyprint = _weasyprint()
    stat = path.stat()
    version = (stat.st_mtime_ns, stat.st_size)
    kept = _kept.sheets.get(path)
    if kept is None or kept[0] != version:
        if _kept.font_config is None:
            from weasyprint.text.fonts import FontConfiguration

            _kept.font_config = FontConfiguration()
        recorder = safe_fetcher(roots)
        css = weasyprint.CSS(url=path.as_uri(), url_fetcher=recorder, font_config=_kept.font_config)
        kept = _kept.sheets[path] = (version, css, recorder.fetched)
    return kept[1], kept[2]


def forget_kept_stylesheets() -> None:
    """Drop this thread's parsed stylesheets and their fonts (the next document parses them again): an
    export job does, so the fonts a worker kept for its letters (about 2 MB) do not add to its peak."""
    _kept.sheets.clear()
    _kept.font_config = None


def _with_kept_stylesheets(html: str, base_dir: Path, fetcher) -> tuple[str, list, Any]:
    """``html`` without its links to the asset folders' stylesheets, those stylesheets as parsed before (in
    the links' order), and the font configuration they use; ``html`` as it is, no stylesheet and ``None``
    if a link names a file outside the assets or the fetcher is not the safe one (WeasyPrint then fetches,
    or refuses, as always). The URLs the stylesheets fetched are added to ``fetcher.fetched``."""
    names = _STYLESHEET_LINK.findall(html)
    roots = getattr(fetcher, "roots", None)
    if not names or roots is None:
        return html, [], None
    paths = []
    for name in names:
        try:
            paths.append(asset_path_for((base_dir / name).as_uri(), roots))
        except RefusedURL:
            return html, [], None
    sheets = []
    for path in paths:
        css, fetched = _kept_stylesheet(path, roots)
        sheets.append(css)
        fetcher.fetched.extend(fetched)
    return _STYLESHEET_LINK.sub("", html), sheets, _kept.font_config


def _laid_out(htmls: list[str], base_dir: Path | None, fetcher):
    """Each of ``htmls`` laid out (a WeasyPrint document), with its links' stylesheets as kept."""
    weasyprint = _weasyprint()
    base_dir = (base_dir or ASSET_ROOTS[0]).resolve()
    base = base_dir.as_uri() + "/"
    documents = []
    for html in htmls:
        html, kept, font_config = _with_kept_stylesheets(html, base_dir, fetcher)
        document = weasyprint.HTML(string=html, base_url=base, url_fetcher=fetcher)
        documents.append(document.render(stylesheets=kept or None, font_config=font_config))
    return documents


def render_pdf(html: str, *, base_dir: Path | None = None, fetcher=None) -> bytes:
    """The PDF of ``html``. Relative URLs resolve against ``base_dir`` (default ``letters/assets``)."""
    fetcher = fetcher if fetcher is not None else safe_fetcher()
    return _laid_out([html], base_dir, fetcher)[0].write_pdf()


def render_documents(htmls: list[str], *, base_dir: Path | None = None, fetcher=None) -> bytes:
    """Several HTML documents as one PDF, each keeping its own page numbering (``counter(page)`` restarts
    because each is laid out on its own; the pages are then concatenated)."""
    return render_counted(htmls, base_dir=base_dir, fetcher=fetcher)[0]


def render_counted(htmls: list[str], *, base_dir: Path | None = None, fetcher=None) -> tuple[bytes, int]:
    """Like :func:`render_documents` (one document or several), with the number of pages WeasyPrint laid
    out: a letter records its page count without parsing its own PDF again."""
    fetcher = fetcher if fetcher is not None else safe_fetcher()
    rendered = _laid_out(htmls, base_dir, fetcher)
    pages = [page for doc in rendered for page in doc.pages]
    document = rendered[0].copy(pages) if len(rendered) > 1 else rendered[0]
    return document.write_pdf(), len(pages)


def warm_up() -> None:
    """Import WeasyPrint and lay out one tiny page, so the first real document is not the slow one. The
    letters' stylesheet is left to the first letter: its fonts would add some 2 MB to a worker that only
    exports (issue 15, item 4: an export's peak)."""
    render_pdf("<p>warm-up</p>")


RENDER_TIMEOUT_SECONDS = 600


def render_apart(make_html: Callable[[], str], *, timeout: float = RENDER_TIMEOUT_SECONDS) -> tuple[str, bytes]:
    """The HTML that ``make_html`` returns and its PDF (:func:`render_pdf`, the same bytes), both made in a child
    process forked for them: what making the HTML takes (its template compiled, the locale data its dates and
    numbers are written with) and what the layout takes are the child's, not added to this process for good.

    The child starts from a copy of this process (WeasyPrint already imported in a worker, which
    :func:`warm_up` did at its start), so ``make_html`` may read what this process holds, but what it changes
    stays there; it sends the HTML and the PDF back through a pipe. A child that fails (in ``make_html`` or
    the layout), dies or takes longer than ``timeout`` seconds is :class:`RenderFailed`; the child is always
    waited for, and killed first if it still runs (also when this process is interrupted: a job's time
    limit, a worker's stop), so no process is left behind.
    """
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=_render_child, args=(make_html, sending), name="dsr-pdf", daemon=True)
    try:
        child.start()
        sending.close()  # the child's end: once it exits, a read here ends instead of waiting
        if not receiving.poll(timeout):
            raise RenderFailed(f"the PDF renderer took longer than {timeout:.0f} s and was stopped")
        try:
            outcome, payload = receiving.recv()
        except EOFError:
            child.join()
            raise RenderFailed("the PDF renderer stopped without a result "
                               f"(exit code {child.exitcode})") from None
    finally:
        receiving.close()
        sending.close()
        if child.pid is not None:
            if child.is_alive():
                child.kill()
            child.join()
        child.close()
    if outcome != "pdf":
        raise RenderFailed(f"the PDF renderer failed: {payload}")
    return payload


def _render_child(make_html: Callable[[], str], sending) -> None:
    """In the child: make the HTML and render it, send both or the error's kind (its text may quote the
    document)."""
    try:
        html = make_html()
        result = ("pdf", (html, render_pdf(html)))
    except Exception as exc:  # noqa: BLE001 - whatever it is, the parent says the render failed
        log.exception("PDF renderer failed")
        result = ("error", type(exc).__name__)
    sending.send(result)
    sending.close()
