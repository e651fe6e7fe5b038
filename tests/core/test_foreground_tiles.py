"""The tiled foreground estimator: threads and the single-pass shortcut change no value."""

from __future__ import annotations

import numpy as np
import pytest

import matting_studio.core.foreground as fgmod
from matting_studio.core.errors import Cancelled
from matting_studio.core.foreground import blur_fusion, estimate_foreground
from matting_studio.core.progress import CancelToken


def _scene(n: int = 150, seed: int = 0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:n, :n].astype(np.float32)
    r = np.hypot(yy - n / 2, xx - n / 2)
    alpha = np.clip((n / 3 - r) / 6 + 0.5, 0, 1).astype(np.float32)
    fg = np.stack([0.9 + 0 * xx, 0.3 + 0.2 * yy / n, 0.1 + 0 * xx], axis=2)
    bg = rng.random((n, n, 3), dtype=np.float32)
    image = (alpha[:, :, None] * fg + (1 - alpha[:, :, None]) * bg).astype(np.float32)
    return image, alpha


def _small_tiles(monkeypatch, tile: int) -> None:
    """Radii and tiles small enough for a 150 px scene to have many tiles."""
    monkeypatch.setattr(fgmod, "RADII", (20, 4))
    monkeypatch.setattr(fgmod, "TILE", tile)


def test_threads_give_the_same_colours(monkeypatch, set_budget):
    image, alpha = _scene()
    _small_tiles(monkeypatch, 24)
    set_budget(1)
    one = estimate_foreground(image, alpha)
    set_budget(4)
    many = estimate_foreground(image, alpha)
    np.testing.assert_array_equal(one, many)
    np.testing.assert_array_equal(many[alpha >= 1.0], image[alpha >= 1.0])
    far = (alpha <= 0) | (alpha >= 1)
    assert not np.array_equal(many[~far], image[~far])  # soft pixels were re-estimated


def test_in_place_overwrites_the_photo_with_the_same_colours(monkeypatch, set_budget):
    # small tiles, many threads: a tile computed after its neighbour was written would read
    # the neighbour's new colours instead of the photo's
    image, alpha = _scene()
    _small_tiles(monkeypatch, 16)
    set_budget(4)
    expected = estimate_foreground(image, alpha)
    photo = image.copy()
    out = estimate_foreground(photo, alpha, in_place=True)
    assert out is photo
    np.testing.assert_array_equal(out, expected)
    assert not np.array_equal(photo, image)
    # a read-only photo is not written: a copy is made as usual
    frozen = image.copy()
    frozen.flags.writeable = False
    np.testing.assert_array_equal(estimate_foreground(frozen, alpha, in_place=True), expected)
    np.testing.assert_array_equal(frozen, image)


def test_last_pass_matches_blur_fusion():
    image, alpha = _scene(60, seed=3)
    rng = np.random.default_rng(4)
    f0, b0 = rng.random((2, 60, 60, 3), dtype=np.float32)
    want = blur_fusion(image, alpha, (5,), start=(f0, b0))
    inner = (slice(7, 50), slice(3, 41))
    got = fgmod._last_pass(image, alpha, f0, b0, 5, inner)
    np.testing.assert_array_equal(got, want[inner])


def test_progress_one_call_at_a_time_and_cancel(monkeypatch, set_budget):
    import threading

    image, alpha = _scene()
    monkeypatch.setattr(fgmod, "TILE", 16)
    set_budget(2)
    seen, inside = [], threading.Lock()

    def progress(fraction: float, _message: str) -> None:
        assert inside.acquire(blocking=False), "progress calls overlap"
        seen.append(fraction)
        inside.release()

    estimate_foreground(image, alpha, progress=progress)
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        estimate_foreground(image, alpha, cancel=token)


def test_normalize_trimap_split_by_table():
    from matting_studio.core.trimap import normalize_trimap

    t = np.arange(256, dtype=np.uint8).reshape(16, 16)
    want = np.where(t <= 25, 0, np.where(t >= 230, 255, 128)).astype(np.uint8)
    np.testing.assert_array_equal(normalize_trimap(t, (16, 16)), want)
    np.testing.assert_array_equal(normalize_trimap(t[:, ::-1], (16, 16)), want[:, ::-1])
