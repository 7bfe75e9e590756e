"""How well and how fast dsr reads posted requests: the evaluation letters, per language and degradation.

    .venv/bin/python bench/ocr.py                 # all 36 letters × clean, moderate, harsh, phone
    .venv/bin/python bench/ocr.py --letters 12 --levels clean,harsh

For each letter the scan is made from its PDF (tests/fixtures/letters/degrade.py, seeded), read exactly as
the intake job reads it (clean, tell the language from a band of the body read in English, read the page
in that language), and the suggestions are compared with the letter's true fields. Printed per language ×
level: the share of fields right, the letters where a right was suggested that the letter does not ask
for, and seconds per page, wall and CPU (the CPU of tesseract's own processes included when it runs as a
program). The baseline, measured in the same run on the same pages, is a bare ``tesseract`` read of the
clean page in the letter's own language (the program, as a shell would run it); a second one is the same
read through tesserocr with the model already loaded, the floor of what reading costs in-process. The ratio
says what cleaning, the language band and the extraction cost on top (the machine is shared, so compare
ratios, not seconds, between runs). ``--program`` reads through the tesseract program (pytesseract), as
a machine without tesserocr does.

Goals (issue 19): ≥ 95 % of fields right on clean and moderate letters, ≥ 85 % on harsh ones, a wrong right
on at most 2 % of letters, ≤ 2 s a page.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, bench/ comes first on sys.path and bench/queue.py would hide the standard library's
# ``queue`` from what is imported later (psycopg, urllib3): the project's root instead.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from dsr.domain.enums import Right  # noqa: E402
from dsr.domain.letter_reading import read_request  # noqa: E402
from dsr.reading import engine  # noqa: E402
from dsr.reading.engine import TESSERACT_LANGUAGES, read_scan, unavailable_reason  # noqa: E402
from tests.fixtures.letters.corpus import COUNT, load  # noqa: E402
from tests.fixtures.letters.degrade import LEVELS, degrade  # noqa: E402

LETTERS = ROOT / "tests" / "fixtures" / "letters"


def cpu_seconds() -> float:
    """CPU time of this process and of the tesseract and pdftoppm processes it ran: on a shared machine
    the wall clock also counts the time other programs had the cores."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def bare_seconds(data: bytes, language: str) -> tuple[float, float, float | None]:
    """Wall and CPU seconds of a bare tesseract read of the page in its own language, and the CPU seconds
    of the same read through tesserocr with its model loaded (None without tesserocr)."""
    import pytesseract
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    started, cpu_started = time.perf_counter(), cpu_seconds()
    pytesseract.image_to_string(image, lang=TESSERACT_LANGUAGES[language])
    wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
    if engine._binding() is None:
        return wall, cpu, None
    engine.read_words(image, TESSERACT_LANGUAGES[language], page=1)  # loads the model, if not yet loaded
    cpu_started = cpu_seconds()
    engine.read_words(image, TESSERACT_LANGUAGES[language], page=1)
    return wall, cpu, cpu_seconds() - cpu_started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=COUNT, help="how many letters (from letter 1)")
    parser.add_argument("--levels", default=",".join(LEVELS), help="comma-separated degradation levels")
    parser.add_argument("--program", action="store_true",
                        help="read through the tesseract program (pytesseract) even where tesserocr is installed")
    args = parser.parse_args()
    if args.program:
        engine._binding = lambda: None
    reason = unavailable_reason()
    if reason:
        print(f"cannot read scans here: {reason}", file=sys.stderr)
        return 1
    levels = [lv.strip() for lv in args.levels.split(",") if lv.strip()]
    print(f"load at the start (1/5/15 min): {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    right = defaultdict(int)
    total = defaultdict(int)
    wrong_right = defaultdict(int)
    letters = defaultdict(int)
    seconds = defaultdict(list)
    cpu = defaultdict(list)
    bare = []
    misses = defaultdict(int)
    for number in range(1, args.letters + 1):
        truth = load(number)
        language = truth["language"]
        for level in levels:
            data, media = degrade(LETTERS / f"letter-{number:02d}.pdf", level, seed=number)
            if level == "clean":
                bare.append(bare_seconds(data, language))
            started, cpu_started = time.perf_counter(), cpu_seconds()
            scan = read_scan(data, media)
            found = read_request(scan.words, language=scan.language,
                                 language_confidence=scan.language_confidence, today=date(2026, 12, 6),
                                 rights=[r.value for r in Right]).command_line()
            seconds[(language, level)].append((time.perf_counter() - started) / len(scan.pages))
            cpu[(language, level)].append((cpu_seconds() - cpu_started) / len(scan.pages))
            key = (language, level)
            letters[key] += 1
            if set(found["rights"]) - set(truth["rights"]):
                wrong_right[key] += 1
            fields = dict(truth["fields"], language=language)
            got = dict({k: v["value"] for k, v in found["fields"].items()}, language=found["language"])
            for name, value in fields.items():
                total[key] += 1
                ok = got.get(name) == value
                right[key] += ok
                if not ok:
                    misses[(level, name)] += 1
            print(f"  letter {number:2d} {language} {level:8s} {seconds[key][-1]:5.1f} s/page "
                  f"({cpu[key][-1]:4.1f} s CPU)  "
                  f"{sum(got.get(n) == v for n, v in fields.items())}/{len(fields)} fields", flush=True)
    base = statistics.median(b[0] for b in bare) if bare else None
    base_cpu = statistics.median(b[1] for b in bare) if bare else None
    in_process = [b[2] for b in bare if b[2] is not None]
    print()
    print(f"{'language':8s} {'level':8s} {'letters':>7s} {'fields right':>12s} {'wrong right':>11s} "
          f"{'s/page p50':>10s} {'CPU s/page':>10s} {'CPU ÷ bare':>10s}")
    for level in levels:
        for language in ("nl", "en", "fr"):
            key = (language, level)
            if not letters[key]:
                continue
            p50 = statistics.median(seconds[key])
            cpu_p50 = statistics.median(cpu[key])
            ratio = f"{cpu_p50 / base_cpu:10.2f}" if base_cpu else "         -"
            print(f"{language:8s} {level:8s} {letters[key]:7d} {right[key] / total[key]:11.1%} "
                  f"{wrong_right[key] / letters[key]:10.1%} {p50:10.2f} {cpu_p50:10.2f} {ratio}")
        lv_right = sum(right[(lang, level)] for lang in ("nl", "en", "fr"))
        lv_total = sum(total[(lang, level)] for lang in ("nl", "en", "fr"))
        lv_wrong = sum(wrong_right[(lang, level)] for lang in ("nl", "en", "fr"))
        lv_letters = sum(letters[(lang, level)] for lang in ("nl", "en", "fr"))
        lv_cpu = statistics.median(c for lang in ("nl", "en", "fr") for c in cpu[(lang, level)])
        lv_ratio = f"{lv_cpu / base_cpu:10.2f}" if base_cpu else "         -"
        print(f"{'all':8s} {level:8s} {lv_letters:7d} {lv_right / lv_total:11.1%} {lv_wrong / lv_letters:10.1%} "
              f"{'':10s} {lv_cpu:10.2f} {lv_ratio}")
    if base:
        print(f"\nbaseline: bare tesseract on the clean page, one language: {base:.2f} s/page wall, "
              f"{base_cpu:.2f} s CPU (median)")
    if in_process:
        print(f"          the same read through tesserocr, model loaded: {statistics.median(in_process):.2f} s CPU "
              f"(median)")
    print(f"read through: {'the tesseract program (pytesseract)' if engine._binding() is None else 'tesserocr'}")
    print(f"load while measuring (1/5/15 min): {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    print("fields most often missed:", ", ".join(f"{lv}/{name} {n}" for (lv, name), n in
                                                sorted(misses.items(), key=lambda kv: -kv[1])[:8]))
    print("goals: ≥ 95 % fields on clean and moderate, ≥ 85 % on harsh; wrong right ≤ 2 % of letters; ≤ 2 s/page")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
