"""The image cleaning before tesseract reads a scan (dsr/reading/engine.py): faster versions of Pillow's and
NumPy's operations must give the same pixels (no OCR here)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFilter

from dsr.reading.engine import brightest, median3, otsu


@pytest.mark.parametrize("size", [(1, 1), (2, 5), (7, 3), (241, 173)])
def test_the_median_filter_gives_pillows_pixels_edges_included(size):
    rng = np.random.default_rng(sum(size))
    noisy = Image.fromarray(rng.integers(0, 256, size=size[::-1], dtype=np.uint8))
    expected = np.asarray(noisy.filter(ImageFilter.MedianFilter(3)))
    assert np.array_equal(np.asarray(median3(noisy)), expected)


@pytest.mark.parametrize(("size", "window"), [((1, 1), 7), ((4, 9), 7), ((57, 31), 7), ((40, 30), 3)])
def test_the_brightest_of_a_square_gives_pillows_max_filter(size, window):
    rng = np.random.default_rng(window + size[0])
    noisy = Image.fromarray(rng.integers(0, 256, size=size[::-1], dtype=np.uint8))
    expected = np.asarray(noisy.filter(ImageFilter.MaxFilter(window)))
    assert np.array_equal(np.asarray(brightest(noisy, window)), expected)


def test_otsu_splits_ink_from_paper_at_the_threshold_that_best_separates_them():
    rng = np.random.default_rng(7)
    paper = rng.normal(200, 12, size=(60, 80))
    paper[20:40, 10:70] = rng.normal(60, 12, size=(20, 60))  # a dark band of "ink"
    page = Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8))
    two_tone = np.asarray(otsu(page))
    assert set(np.unique(two_tone)) == {0, 255}
    assert (two_tone[20:40, 10:70] == 0).mean() > 0.99 and (two_tone[:20] == 255).mean() > 0.99
    # The threshold is Otsu's: the grey level with the largest spread between the two classes' means.
    pixels = np.asarray(page).astype(int)
    def spread(t):
        low, high = pixels[pixels <= t], pixels[pixels > t]
        return len(low) * len(high) * (low.mean() - high.mean()) ** 2 if len(low) and len(high) else 0
    best = max(range(255), key=spread)
    assert np.array_equal(two_tone == 255, pixels > best)
