import threading

import numpy as np
import pytest
from pymatting import estimate_alpha_cf

from matting_studio.core.errors import Cancelled, MattingError, TrimapError
from matting_studio.core.matting import solve_alpha
from matting_studio.core.progress import CancelToken
from matting_studio.core.trimap import (
    Stroke,
    TrimapParams,
    apply_strokes,
    make_trimap,
    normalize_trimap,
    stroke_mask,
)


def _square_mask(n=60, a=20, b=40):
    m = np.zeros((n, n), np.float32)
    m[a:b, a:b] = 1.0
    return m


def test_classic_trimap_band_matches_kernel_and_iterations():
    t = make_trimap(_square_mask())
    assert set(np.unique(t)) == {0, 128, 255}
    # a 7×7 ellipse, 3 iterations, moves the edge by 3·3 = 9 pixels each way
    row = t[30]
    assert row[20 + 9] == 255 and row[20 + 8] == 128
    assert row[20 - 9] == 128 and row[20 - 10] == 0
    wide = make_trimap(_square_mask(), TrimapParams(kernel_size=3, iterations=1))
    assert (wide == 128).sum() < (t == 128).sum()


def test_trimap_threshold_binarises_soft_mask():
    m = _square_mask() * 0.6
    assert (make_trimap(m) == 255).any()
    assert not (make_trimap(m, TrimapParams(threshold=0.7)) == 255).any()


def test_strokes_paint_round_brush_in_order():
    t = np.full((50, 50), 128, np.uint8)
    s1 = Stroke("foreground", 4, ((10, 10), (40, 10)))
    s2 = Stroke("background", 3, ((25, 5), (25, 15)))
    out = apply_strokes(t, [s1, s2])
    assert out[10, 12] == 255 and out[10, 38] == 255
    assert out[10, 25] == 0  # the later stroke wins
    assert out[30, 30] == 128 and t[10, 12] == 128  # input untouched
    m = stroke_mask(Stroke("unknown", 5, ((20.0, 20.0),)), (50, 50))
    assert m[20, 20] and m[20, 24] and not m[20, 27]


def test_stroke_rejects_bad_mode():
    with pytest.raises(ValueError):
        Stroke("maybe", 3, ((1, 1),))


def test_normalize_trimap_values_and_size():
    raw = np.array([[0, 20, 100], [128, 240, 255]], np.uint8)
    np.testing.assert_array_equal(normalize_trimap(raw, (2, 3)),
                                  [[0, 0, 128], [128, 255, 255]])
    big = np.kron(raw, np.ones((2, 2), np.uint8))
    assert normalize_trimap(big, (2, 3)).shape == (2, 3)
    with pytest.raises(TrimapError, match="does not match"):
        normalize_trimap(raw, (5, 3))


def test_cf_matches_pymatting_closed_form(disc):
    image, gt, trimap = disc
    ours = solve_alpha(image, trimap, "cf")
    ref = estimate_alpha_cf(image, trimap / 255.0)
    unknown = trimap == 128
    assert np.abs(ours - ref)[unknown].mean() < 1e-3
    assert np.abs(ours - gt)[unknown].mean() < 0.05  # and it is a good matte
    assert ours.dtype == np.float32
    np.testing.assert_array_equal(ours[trimap == 255], 1.0)
    np.testing.assert_array_equal(ours[trimap == 0], 0.0)


def test_knn_backend_gives_a_real_matte(disc):
    image, gt, trimap = disc
    alpha = solve_alpha(image, trimap, "knn")
    assert np.abs(alpha - gt)[trimap == 128].mean() < 0.08


def test_progress_and_cancellation(disc):
    image, _, trimap = disc
    seen = []
    solve_alpha(image, trimap, "cf", progress=lambda f, m: seen.append(f))
    assert seen and seen[-1] == 1.0
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        solve_alpha(image, trimap, "cf", cancel=token)


def test_cancel_from_another_thread_stops_a_running_solve():
    rng = np.random.default_rng(1)
    image = rng.random((160, 160, 3))
    trimap = np.full((160, 160), 128, np.uint8)
    trimap[:, :4] = 0
    trimap[:, -4:] = 255
    token = CancelToken()
    started = threading.Event()

    def progress(f, m):
        started.set()

    timer = threading.Timer(0.05, token.cancel)
    timer.start()
    with pytest.raises(Cancelled):
        solve_alpha(image, trimap, "cf", progress=progress, cancel=token)
    timer.cancel()
    assert started.is_set()


def test_trivial_and_tiny_inputs():
    img = np.zeros((1, 1, 3))
    assert solve_alpha(img, np.array([[128]], np.uint8)).shape == (1, 1)
    thin = np.random.default_rng(0).random((2, 40, 3))
    t = np.full((2, 40), 128, np.uint8)
    t[:, :3] = 0
    t[:, -3:] = 255
    a = solve_alpha(thin, t)
    assert a.shape == (2, 40) and a[:, :3].max() == 0 and a[:, -3:].min() == 1
    with pytest.raises(MattingError):
        solve_alpha(img, np.zeros((2, 2), np.uint8))
    with pytest.raises(MattingError, match="unknown matting method"):
        solve_alpha(thin, t, "magic")


def test_changed_bounds_fast_path_matches_numpy():
    from matting_studio.core.trimap import changed_bounds
    rng = np.random.default_rng(3)
    for _ in range(50):
        h, w = rng.integers(1, 60, size=2)
        a = rng.choice(np.array([0, 128, 255], np.uint8), size=(h, w))
        b = a.copy()
        n = int(rng.integers(0, 4))
        for _ in range(n):
            b[rng.integers(0, h), rng.integers(0, w)] ^= 1
        diff = a != b
        rows, cols = np.flatnonzero(diff.any(axis=1)), np.flatnonzero(diff.any(axis=0))
        want = None if rows.size == 0 else (rows[0], rows[-1] + 1, cols[0], cols[-1] + 1)
        assert changed_bounds(a, b) == want
        assert changed_bounds(a.astype(np.int32), b.astype(np.int32)) == want
