"""Reading a scanned letter on this machine: pages to images, cleaned, read by tesseract, language detected.

Nothing leaves the machine: PDFs are rendered by poppler's ``pdftoppm``, images cleaned with Pillow and
NumPy, text read with the Dutch, English and French data of Debian's ``tesseract``, and the language told
by py3langid, whose model ships inside the package. The text is read in this process by tesserocr (the
libtesseract its wheel carries), each language's model loaded once per process; where tesserocr is not
installed, by the ``tesseract`` program through pytesseract, a process and a model load per read. Either
reads with one thread (the wheel's library has no OpenMP; the program gets ``OMP_THREAD_LIMIT=1``) so that
two workers on two cores do not fight over them.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dsr.domain.letter_reading import Word

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

# NumPy and Pillow (about 20 MB) are imported by the functions that use them, not with the module: the
# web app and every worker import this module, few of them read a scan (issue 15, item 4).

TESSERACT_LANGUAGES = {"nl": "nld", "en": "eng", "fr": "fra"}
RENDER_DPI = 300
TARGET_LONG_SIDE = 2500  # pixels, ~210 dpi on A4: 2/3 the CPU of 3,300 and within the goals (README)
ROTATE_RESAMPLE = "BILINEAR"  # as accurate as bicubic on the evaluation set, at 40 % of its cost
MAX_PAGES = 10


class ReadingUnavailable(RuntimeError):
    """This machine cannot read scans (tesseract or its language data is missing); the message says why."""


class UnreadableScan(ValueError):
    """The file is not a PDF, JPEG or PNG that can be turned into page images."""


_TESSDATA: dict[str, tuple[str, frozenset[str]]] = {}  # tesseract binary -> its data folder and languages


def _tessdata(binary: str) -> tuple[str, frozenset[str]]:
    """The folder of the data Debian's tesseract reads and the languages in it (asked once per process):
    ``tesseract --list-langs`` names both (``List of available languages in "/usr/share/…/tessdata/"``),
    on any system and with ``TESSDATA_PREFIX`` as set; tesserocr then reads the same files."""
    if binary not in _TESSDATA:
        run = subprocess.run([binary, "--list-langs"], capture_output=True, text=True, timeout=60)
        folder = re.search(r'languages in "([^"]+)"', run.stdout)
        if run.returncode != 0 or folder is None:
            raise RuntimeError((run.stderr or run.stdout).strip()[:300] or f"exit status {run.returncode}")
        languages = frozenset(line.strip() for line in run.stdout.splitlines()[1:] if line.strip())
        _TESSDATA[binary] = (folder.group(1), languages)
    return _TESSDATA[binary]


def unavailable_reason() -> str | None:
    """Why scans cannot be read here, or None when they can."""
    binary = shutil.which("tesseract")
    if binary is None:
        return "tesseract is not installed on this server (Debian: tesseract-ocr, tesseract-ocr-nld, tesseract-ocr-fra)."
    try:
        _, have = _tessdata(binary)
    except Exception as exc:  # tesseract failing to start
        return f"tesseract cannot be started: {exc}"
    missing = [code for code in TESSERACT_LANGUAGES.values() if code not in have]
    if missing:
        return f"tesseract lacks language data: {', '.join(missing)} (Debian: tesseract-ocr-{missing[0]})."
    if _binding() is None:
        try:
            import pytesseract  # noqa: F401
        except ImportError:
            return "neither tesserocr nor pytesseract is installed in dsr's Python environment."
    return None


def page_images(data: bytes, media_type: str, *, dpi: int = RENDER_DPI) -> Iterator[Image.Image]:
    """The pages of a scan as greyscale images (a PDF through pdftoppm; JPEG and PNG as they are)."""
    from PIL import Image, ImageOps
    if media_type == "application/pdf":
        if shutil.which("pdftoppm") is None:
            raise ReadingUnavailable("pdftoppm (poppler-utils) is not installed on this server.")
        with tempfile.TemporaryDirectory(prefix="dsr-scan-") as tmp:
            source = Path(tmp) / "scan.pdf"
            source.write_bytes(data)
            result = subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", "-l", str(MAX_PAGES),
                                     str(source), str(Path(tmp) / "page")], capture_output=True, timeout=120)
            if result.returncode != 0:
                raise UnreadableScan("The PDF could not be rendered to pages.")
            for path in sorted(Path(tmp).glob("page*.png")):
                with Image.open(path) as image:
                    yield image.convert("L")
        return
    if media_type not in ("image/jpeg", "image/png"):
        raise UnreadableScan("Only PDF, JPEG and PNG scans can be read.")
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception as exc:
        raise UnreadableScan("The image could not be opened.") from exc
    yield ImageOps.exif_transpose(image).convert("L")


def _skew_angle(image: Image.Image) -> float:
    """The rotation (degrees) that makes text lines horizontal: the angle whose row profile is sharpest.

    The profile of a turn by a small angle is that of a shear: each ink pixel counted in row ``y - x·tan(a)``,
    so no image is rotated; the 42 angles tried cost milliseconds on the ink of a 1,200-pixel page."""
    import numpy as np
    small = image.copy()
    small.thumbnail((1200, 1200))
    pixels = np.asarray(small)  # greyscale
    # Ink is what is clearly darker than the paper: halfway between the paper (median) and the darkest 1 %,
    # both read from the histogram (sorting the pixels cost more than the whole search).
    counted = np.cumsum(small.histogram())
    ink = pixels < (np.searchsorted(counted, counted[-1] / 2) + np.searchsorted(counted, counted[-1] / 100)) / 2
    ys, xs = np.nonzero(ink)
    if len(ys) < 50:
        return 0.0
    ys = ys.astype(np.float64)
    xs = xs.astype(np.float64) - small.width / 2
    size = small.height + small.width  # room for every sheared row

    def sharpness(angle: float) -> float:
        rows = np.rint(ys - xs * np.tan(np.radians(angle))).astype(np.int64) + small.width // 2
        profile = np.bincount(np.clip(rows, 0, size - 1), minlength=size).astype(np.float64)
        return float(np.square(np.diff(profile)).sum())

    best = max((a / 2 for a in range(-16, 17)), key=sharpness)  # -8° … +8° by 0.5°
    return max((best + a / 10 for a in range(-4, 5)), key=sharpness)


@dataclass(frozen=True)
class Cleaned:
    image: Image.Image
    factor: float  # how much the page was enlarged before reading
    angle: float  # how far it was turned (degrees, counter-clockwise) to straighten its lines


def _geometry(image: Image.Image, factor: float, angle: float, *, fill: int) -> Image.Image:
    from PIL import Image
    if factor != 1.0:
        image = image.resize((int(image.width * factor), int(image.height * factor)), Image.LANCZOS)
    if angle:
        image = image.rotate(angle, resample=getattr(Image, ROTATE_RESAMPLE), expand=True, fillcolor=fill)
    return image


def brightest(image: Image.Image, size: int) -> Image.Image:
    """Each pixel the brightest of the ``size``×``size`` square around it (edges repeated): Pillow's
    ``MaxFilter(size)``, a row and a column pass instead of ``size``² comparisons a pixel."""
    import numpy as np
    from PIL import Image
    reach = size // 2
    height, width = image.height, image.width
    pixels = np.pad(np.asarray(image.convert("L")), reach, mode="edge")
    rows = pixels[:, :width].copy()
    for shift in range(1, size):
        np.maximum(rows, pixels[:, shift:shift + width], out=rows)
    out = rows[:height].copy()
    for shift in range(1, size):
        np.maximum(out, rows[shift:shift + height], out=out)
    return Image.fromarray(out)


def flatten(image: Image.Image) -> Image.Image:
    """Even out the light: divide by the paper's own brightness, estimated from a blurred maximum. A phone
    photo's shadow and a scanner's grey border become white paper; ink stays dark."""
    import numpy as np
    from PIL import Image, ImageFilter
    small = image.resize((max(1, image.width // 8), max(1, image.height // 8)), Image.BILINEAR)
    paper = brightest(small, 7).filter(ImageFilter.GaussianBlur(2)).resize(image.size, Image.BILINEAR)
    ratio = np.asarray(image, dtype=np.float32) * 255  # in place from here: a page is millions of pixels
    ratio /= np.maximum(np.asarray(paper, dtype=np.float32), 1.0)
    return Image.fromarray(np.minimum(ratio, 255, out=ratio).astype(np.uint8))


def otsu(image: Image.Image) -> Image.Image:
    """Black ink on white paper: Otsu's threshold, the grey level that best splits the page in two."""
    import numpy as np
    share = np.asarray(image.histogram(), dtype=np.float64)
    share /= share.sum()
    below = np.cumsum(share)
    mean_below = np.cumsum(share * np.arange(256))
    spread = (mean_below[-1] * below - mean_below) ** 2 / np.maximum(below * (1 - below), 1e-12)
    threshold = int(np.argmax(spread))
    return image.point([0] * (threshold + 1) + [255] * (255 - threshold))


def _middle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    import numpy as np
    return np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))


def median3(image: Image.Image) -> Image.Image:
    """A 3×3 median filter (edges repeated), the same pixels as Pillow's ``MedianFilter(3)`` at a tenth of
    its cost: each column of three is sorted once, then a window's median is the middle of the largest of
    its three minima, the middle of its three middles and the smallest of its three maxima."""
    import numpy as np
    from PIL import Image
    pixels = np.pad(np.asarray(image.convert("L")), 1, mode="edge")
    above, here, below = pixels[:-2], pixels[1:-1], pixels[2:]
    low, high = np.minimum(above, here), np.maximum(above, here)
    mid, high = np.minimum(high, below), np.maximum(high, below)
    low, mid = np.minimum(low, mid), np.maximum(low, mid)
    lows = np.maximum(np.maximum(low[:, :-2], low[:, 1:-1]), low[:, 2:])
    highs = np.minimum(np.minimum(high[:, :-2], high[:, 1:-1]), high[:, 2:])
    return Image.fromarray(_middle(lows, _middle(mid[:, :-2], mid[:, 1:-1], mid[:, 2:]), highs))


def clean(image: Image.Image) -> Cleaned:
    """Grey, despeckled (a 3×3 median filter at the scan's own size), scaled to about 210 dpi, the light
    evened out, contrast stretched a little, straightened, and turned black on white (Otsu): tesseract reads
    a clean two-tone page about twice as fast as a noisy grey one, and as well."""
    from PIL import ImageOps
    grey = median3(image)  # before enlarging: fewer pixels to filter
    # A4 at 2,500 px high: phone photos are enlarged, 300 dpi scans reduced, 200 dpi ones (within 10 %) kept.
    factor = TARGET_LONG_SIDE / max(grey.size)
    factor = factor if abs(factor - 1) > 0.1 else 1.0
    grey = _geometry(grey, factor, 0.0, fill=255)
    grey = ImageOps.autocontrast(flatten(grey), cutoff=0.5)
    angle = _skew_angle(grey)
    angle = angle if abs(angle) >= 0.2 else 0.0
    page = _geometry(grey, 1.0, angle, fill=255)
    return Cleaned(otsu(page), factor, angle)


def display_page(data: bytes, media_type: str, number: int, *, factor: float, angle: float,
                 width: int = 1000) -> bytes:
    """Page ``number`` as the reader saw it (same enlargement and turn, so the word boxes fit), as a JPEG
    ``width`` pixels wide. Made on request, so no second copy of the scan is kept."""
    for index, page in enumerate(page_images(data, media_type), start=1):
        if index == number:
            shown = _geometry(page, factor, angle, fill=255)
            shown.thumbnail((width, width * 4))
            out = io.BytesIO()
            shown.save(out, "JPEG", quality=80)
            return out.getvalue()
    raise UnreadableScan(f"The scan has no page {number}.")


def _binding():
    """tesserocr (libtesseract through its C++ API, in this process), or None when it is not installed."""
    try:
        import tesserocr
    except ImportError:
        return None
    return tesserocr


class _Readers:
    """One tesserocr reader per language per process, each with its model loaded once (0.2 s a load) and a
    lock, since a reader reads one page at a time; the embedded server may run two reading jobs at once."""

    def __init__(self) -> None:
        self._made: dict[tuple[str, str], tuple[object, threading.Lock]] = {}
        self._lock = threading.Lock()

    def get(self, tesserocr, folder: str, languages: str):
        key = (folder, languages)
        with self._lock:
            if key not in self._made:
                api = tesserocr.PyTessBaseAPI(path=folder, lang=languages, psm=tesserocr.PSM.AUTO)
                api.SetVariable("tessedit_do_invert", "0")  # the page is already black on white
                self._made[key] = (api, threading.Lock())
            return self._made[key]


_READERS = _Readers()


def read_words(image: Image.Image, languages: str, *, page: int, line_offset: int = 0) -> list[Word]:
    """The words tesseract reads on ``image`` (greyscale) in ``languages`` (``nld``, ``eng+fra``…), each
    with its confidence (0–100), box and line; through tesserocr when installed, else the tesseract
    program through pytesseract (a process and a model load per call, about 0.3 s more a page)."""
    tesserocr = _binding()
    if tesserocr is None:
        return _words_by_program(image, languages, page=page, line_offset=line_offset)
    folder, _ = _tessdata(shutil.which("tesseract") or "tesseract")
    api, lock = _READERS.get(tesserocr, folder, languages)
    level = tesserocr.RIL.WORD
    words: list[Word] = []
    line, new_line = line_offset - 1, True  # lines numbered as they get a word, as pytesseract's are
    with lock:
        image = image.convert("L")
        api.SetImageBytes(image.tobytes(), image.width, image.height, 1, image.width)
        api.Recognize()
        found = api.GetIterator()
        while found is not None:
            new_line = new_line or found.IsAtBeginningOf(tesserocr.RIL.TEXTLINE)
            text = (found.GetUTF8Text(level) or "").strip()
            box = found.BoundingBox(level)
            if text and box:
                line, new_line = line + new_line, False
                left, top, right, bottom = box
                words.append(Word(text=text, confidence=float(found.Confidence(level)), page=page, left=left,
                                  top=top, width=right - left, height=bottom - top, line=line))
            if not found.Next(level):
                break
        api.Clear()
    return words


def _words_by_program(image: Image.Image, languages: str, *, page: int, line_offset: int) -> list[Word]:
    import pytesseract

    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    data = pytesseract.image_to_data(image, lang=languages, config="--psm 3 -c tessedit_do_invert=0",
                                     output_type=pytesseract.Output.DICT)
    words: list[Word] = []
    line_ids: dict[tuple, int] = {}
    for i, text in enumerate(data["text"]):
        text = (text or "").strip()
        conf = float(data["conf"][i])
        if not text or conf < 0:
            continue
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        line = line_ids.setdefault(key, line_offset + len(line_ids))
        words.append(Word(text=text, confidence=conf, page=page, left=int(data["left"][i]),
                          top=int(data["top"][i]), width=int(data["width"][i]), height=int(data["height"][i]),
                          line=line))
    return words


def detect_language(text: str) -> tuple[str | None, float]:
    """nl, en or fr and a 0–1 confidence (py3langid, restricted to the three languages)."""
    if len(text.strip()) < 20:
        return None, 0.0
    language, probability = _identifier().classify(text)
    return language, float(probability)


_IDENTIFIER_CACHE: dict[str, object] = {}


def _identifier():
    """py3langid's model (shipped in the package), loaded once per process, limited to nl, en and fr."""
    if "id" not in _IDENTIFIER_CACHE:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        ident.set_languages(list(TESSERACT_LANGUAGES))
        _IDENTIFIER_CACHE["id"] = ident
    return _IDENTIFIER_CACHE["id"]


def _body(page: Image.Image) -> Image.Image:
    """A band across the middle of a page (from 30 % to 55 % down, where a letter's first paragraphs are),
    at half size: on the 36 evaluation letters × 4 scan qualities (pages at 2,500 px) it told every language
    right; a narrower band (30–45 %) did too on letters 1–18, for 0.05 s less a page, but real letters vary."""
    from PIL import Image
    band = page.crop((0, page.height * 30 // 100, page.width, page.height * 55 // 100))
    return band.resize((band.width // 2, band.height // 2), Image.BILINEAR)


@dataclass
class PageReading:
    number: int
    width: int  # of the cleaned page the word boxes refer to
    height: int
    factor: float
    angle: float
    words: list[Word] = field(default_factory=list)


@dataclass
class ScanText:
    language: str | None
    language_confidence: float
    pages: list[PageReading]

    @property
    def words(self) -> list[Word]:
        return [w for p in self.pages for w in p.words]

    @property
    def text(self) -> str:
        lines: dict[int, list[Word]] = {}
        for w in self.words:
            lines.setdefault(w.line, []).append(w)
        return "\n".join(" ".join(w.text for w in sorted(ws, key=lambda w: w.left)) for _, ws in sorted(lines.items()))


def read_scan(data: bytes, media_type: str, *, progress: Callable[[int, str], None] | None = None) -> ScanText:
    """Tell the language from a band of the first page, then read every page in that language."""
    reason = unavailable_reason()
    if reason:
        raise ReadingUnavailable(reason)
    report = progress or (lambda percent, note: None)
    cleaned = [clean(page) for page in page_images(data, media_type)]
    if not cleaned:
        raise UnreadableScan("The scan has no pages.")
    report(10, f"{len(cleaned)} page(s) cleaned")
    # The language is told from a band of the first page's body read in English only, at half size:
    # English's model reads Dutch and French words well enough for that, at about a quarter of the cost of
    # the earlier first pass (the whole page at 60 % in all three languages).
    language, confidence = detect_language(" ".join(w.text for w in read_words(_body(cleaned[0].image), "eng",
                                                                               page=1)))
    report(30, f"language: {language or 'unknown'}")
    languages = TESSERACT_LANGUAGES.get(language or "", "nld+eng+fra")
    pages, offset = [], 0
    for number, page in enumerate(cleaned, start=1):
        words = read_words(page.image, languages, page=number, line_offset=offset)
        offset += len({w.line for w in words}) + 1
        pages.append(PageReading(number, page.image.width, page.image.height, round(page.factor, 4),
                                 round(page.angle, 2), words))
        report(30 + int(70 * number / len(cleaned)), f"page {number} of {len(cleaned)} read")
    return ScanText(language, confidence, pages)
