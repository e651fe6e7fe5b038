"""Scale-aware matting driver: tiles, coarse-to-fine, region re-solve, cancellation.

Correctness, not speed (timings live in benchmarks/). Tolerances are mean absolute alpha
differences on the unknown band, alpha in 0..1.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from matting_studio.core.errors import Cancelled
from matting_studio.core.foreground import blur_fusion, estimate_foreground
from matting_studio.core.matting import BACKENDS, register, solve_alpha
from matting_studio.core.matting.cf import solve_cf
from matting_studio.core.matting.interactive import RegionParams, resolve_region, stroke_bounds
from matting_studio.core.matting.multiscale import ScaleParams
from matting_studio.core.matting.registry import LazyBackend
from matting_studio.core.matting.tiling import TileParams, plan_tiles, solve_tiled
from matting_studio.core.progress import CancelToken, no_progress

TILED_TOL = 0.01
"""Tiles (core 48, margin 12) vs one solve of the whole image."""
COARSE_TOL = 0.06
"""Coarse-to-fine (half size) vs the full-size solve."""
REGION_TOL = 0.03
"""Region re-solve vs a full re-solve, inside the stroke's box."""
PREVIEW_TOL = 0.1
"""The same at a reduced (preview) size, 1.7× smaller, on a noisy synthetic image."""


def blobs(size=160, seed=0):
    """Textured blobs on a textured background, a wide unknown band along every edge."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    d = np.minimum(np.hypot(yy - 0.35 * size, xx - 0.4 * size) - 0.22 * size,
                   np.hypot(yy - 0.7 * size, xx - 0.65 * size) - 0.18 * size)
    alpha = np.clip(0.5 - d / 4.0, 0, 1)
    fg = np.stack([0.8 + 0.1 * np.sin(xx / 7), 0.3 + 0.1 * np.cos(yy / 5), 0.2 + 0 * xx], 2)
    bg = np.stack([0.1 + 0 * xx, 0.4 + 0.1 * np.sin((xx + yy) / 9), 0.8 + 0 * xx], 2)
    image = alpha[:, :, None] * fg + (1 - alpha[:, :, None]) * bg
    image = np.clip(image + 0.02 * rng.standard_normal(image.shape), 0, 1)
    trimap = np.full((size, size), 128, np.uint8)
    trimap[d < -8] = 255
    trimap[d > 8] = 0
    return image, alpha, trimap


def full_solve(image, trimap):
    """The whole image as one crop: the reference the driver must agree with."""
    return solve_cf(image, trimap, progress=no_progress)


def band_mae(a, b, trimap):
    u = (trimap != 0) & (trimap != 255)
    return float(np.abs(np.asarray(a, np.float64) - b)[u].mean())


def test_tiled_solve_agrees_with_full_solve():
    image, gt, trimap = blobs()
    ref = full_solve(image, trimap)
    tiled = solve_tiled(image.astype(np.float32), trimap, solve_cf,
                        params=TileParams(tile=48, margin=12, workers=2))
    assert len(plan_tiles(trimap, TileParams(tile=48, margin=12))) > 4
    assert band_mae(tiled, ref, trimap) < TILED_TOL
    assert band_mae(tiled, gt, trimap) < 0.05


def test_region_inside_one_crop_is_exact():
    image, _, trimap = blobs(96)
    tri = np.zeros_like(trimap)
    tri[10:40, 10:40] = 255
    tri[30:44, 30:44] = 128  # an unknown island across the edge, inside the first core
    tri[70:80, 70:80] = 128  # and one inside another core
    ref = full_solve(image, tri)
    tiled = solve_tiled(image, tri, solve_cf, params=TileParams(tile=64, margin=4))
    np.testing.assert_allclose(tiled, ref, atol=1e-5)


def test_coarse_to_fine_agrees_with_full_solve():
    image, _, trimap = blobs()
    ref = full_solve(image, trimap)
    n_unknown = int(((trimap != 0) & (trimap != 255)).sum())
    coarse = solve_alpha(image, trimap, "cf",
                         scale=ScaleParams(max_unknown=n_unknown // 4, min_pixels=0))  # half size
    assert band_mae(coarse, ref, trimap) < COARSE_TOL
    np.testing.assert_array_equal(coarse[trimap == 255], 1.0)
    np.testing.assert_array_equal(coarse[trimap == 0], 0.0)


def test_every_backend_gets_tiles():
    image, _, trimap = blobs(200)
    shapes = []

    @register("_probe", "test backend recording crop sizes")
    def probe(img, tri, *, progress, cancel=None, x0=None):
        assert img.dtype == np.float64 and tri.dtype == np.uint8
        shapes.append(tri.shape)
        return (tri == 255).astype(np.float32)

    try:
        solve_alpha(image.astype(np.float32), trimap, "_probe",
                    scale=ScaleParams(tiles=TileParams(tile=64, margin=8)))
    finally:
        BACKENDS.pop("_probe")
    assert len(shapes) > 1
    assert max(h * w for h, w in shapes) <= (64 + 2 * 32) ** 2


def test_cancel_stops_a_tiled_solve_promptly():
    rng = np.random.default_rng(3)
    image = rng.random((400, 400, 3))
    trimap = np.full((400, 400), 128, np.uint8)
    trimap[:, :6] = 0
    trimap[:, -6:] = 255
    trimap[::40, ::40] = 255
    token = CancelToken()
    calls = []
    after_cancel = []

    def slow(img, tri, *, progress, cancel=None, x0=None):
        if token.cancelled:
            after_cancel.append(1)
        calls.append(1)
        time.sleep(0.02)
        return solve_cf(img, tri, progress=progress, cancel=cancel)

    threading.Timer(0.15, token.cancel).start()
    t0 = time.perf_counter()
    with pytest.raises(Cancelled):
        solve_tiled(image, trimap, slow, params=TileParams(tile=32, margin=4, workers=2),
                    cancel=token)
    assert time.perf_counter() - t0 < 3.0
    n_tiles = len(plan_tiles(trimap, TileParams(tile=32, margin=4)))
    assert len(calls) < n_tiles  # it stopped before the end
    assert len(after_cancel) == 0  # no tile started after the cancel was seen


def test_resolve_region_agrees_with_full_resolve_near_the_stroke():
    image, _, trimap = blobs(200)
    before = solve_alpha(image, trimap, "cf")
    after_tri = trimap.copy()
    yy, xx = np.mgrid[0:200, 0:200]
    brush = np.hypot(yy - 70, xx - 37) < 6  # paint foreground into the band
    after_tri[brush] = 255
    full = solve_alpha(image, after_tri, "cf")
    bounds = stroke_bounds([(37, 70)], 6, after_tri.shape)
    res = resolve_region(image.astype(np.float32), after_tri, before, bounds, backend="cf")
    y0, y1, x0, x1 = bounds
    ry0, _, rx0, _ = res.bounds
    patch = res.alpha[y0 - ry0:y1 - ry0, x0 - rx0:x1 - rx0]
    assert band_mae(patch, full[y0:y1, x0:x1], after_tri[y0:y1, x0:x1]) < REGION_TOL
    assert (res.alpha[brush[res.bounds[0]:res.bounds[1], res.bounds[2]:res.bounds[3]]] == 1).all()
    # preview size: a large region is solved reduced and still lands close
    small = resolve_region(image, after_tri, before, bounds, backend="cf",
                           params=RegionParams(max_pixels=2_000))
    assert small.scale > 1.0
    patch = small.alpha[y0 - ry0:y1 - ry0, x0 - rx0:x1 - rx0]
    assert band_mae(patch, full[y0:y1, x0:x1], after_tri[y0:y1, x0:x1]) < PREVIEW_TOL
    out = before.copy()
    res.paste(out)
    assert out.shape == before.shape


def test_strip_foreground_equals_one_crop(monkeypatch):
    import matting_studio.core.foreground as fgmod

    image, alpha, _ = blobs(120)
    image = image.astype(np.float32)
    alpha = alpha.astype(np.float32)
    monkeypatch.setattr(fgmod, "RADII", (20, 4))
    whole = estimate_foreground(image, alpha)
    monkeypatch.setattr(fgmod, "STRIP", 16)
    monkeypatch.setattr(fgmod, "TILE", 24)
    strips = estimate_foreground(image, alpha)
    visible = alpha > 1e-3  # colours under α = 0 are never seen
    np.testing.assert_allclose(strips[visible], whole[visible], atol=1e-5)
    direct = blur_fusion(image, alpha, (20, 4))  # both passes at full size
    soft = (alpha > 0.01) & (alpha < 0.99)
    assert np.abs(strips[soft] - direct[soft]).mean() < 0.01  # wide pass at 1/4 size
    np.testing.assert_array_equal(strips[alpha >= 1.0], image[alpha >= 1.0])


def test_lazy_backend_imports_on_first_use():
    lazy = LazyBackend("_lazy_cf", ".cf", "solve_cf")
    BACKENDS["_lazy_cf"] = lazy
    try:
        image, _, trimap = blobs(40)
        a = solve_alpha(image, trimap, "_lazy_cf")
        assert BACKENDS["_lazy_cf"] is solve_cf
        np.testing.assert_allclose(a, solve_alpha(image, trimap, "cf"), atol=1e-6)
    finally:
        BACKENDS.pop("_lazy_cf")
