"""Edge adjustments after matting (smooth, feather, contrast, shift edge): what each does to a
matte, the tiled version against the whole-matte one, and their place in the one solve path."""

from __future__ import annotations

import math

import numpy as np
import pytest

from matting_studio.core import edges
from matting_studio.core.edges import EdgeParams, adjust_edges, adjust_edges_whole
from matting_studio.core.io import LoadedImage
from matting_studio.core.limits import LimitError
from matting_studio.core.project import settings_from_json, settings_to_json
from matting_studio.core.settings import PipelineSettings
from matting_studio.core.solve import SolveRequest, finish_alpha, preview, refinish, solve
from matting_studio.core.trimap import Stroke, apply_strokes


def _disc(h=300, w=400, radius=90.0, soft=1.0, cy=None, cx=None):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    cy = h / 2 if cy is None else cy
    cx = w / 2 if cx is None else cx
    d = np.hypot(yy - cy, xx - cx)
    return np.clip((radius - d) / soft + 0.5, 0, 1).astype(np.float32)


def _hairy(seed=0, h=520, w=700):
    """A disc, thin soft strands, a flat half-transparent patch (glass) and speckles."""
    rng = np.random.default_rng(seed)
    a = _disc(h, w, radius=150.0, soft=2.0)
    for _ in range(40):
        y, x = rng.integers(0, h), rng.integers(0, w)
        a[y:y + rng.integers(20, 120), x:x + 2] = rng.uniform(0.2, 0.9)
    a[40:140, 520:660] = 0.3
    a[rng.random((h, w)) > 0.999] = 1.0
    return a


PARAMS = [EdgeParams(feather=6.0), EdgeParams(feather=40.0), EdgeParams(smooth=5.0),
          EdgeParams(contrast=60.0), EdgeParams(contrast=100.0), EdgeParams(shift=3),
          EdgeParams(shift=-17), EdgeParams(shift=30),
          EdgeParams(smooth=3.0, feather=2.0, contrast=30.0, shift=-4)]


@pytest.mark.parametrize("params", PARAMS, ids=str)
def test_tiles_give_the_same_matte_as_the_whole(params, set_budget):
    set_budget(2)
    a = _hairy()
    before = a.copy()
    tiled = adjust_edges(a, params)
    whole = adjust_edges_whole(a, params)
    assert np.array_equal(a, before), "the input matte was modified"
    assert tiled.dtype == np.float32 and tiled.shape == a.shape
    assert np.abs(tiled - whole).max() <= 1e-6
    assert tiled.min() >= 0.0 and tiled.max() <= 1.0
    assert np.abs(tiled - a).max() > 0.05  # and it did something


def test_nothing_to_do_is_free_and_flat_mattes_stay():
    a = _disc()
    assert adjust_edges(a, EdgeParams()) is a
    for flat in (np.zeros((200, 300), np.float32), np.ones((200, 300), np.float32)):
        assert np.array_equal(adjust_edges(flat, EdgeParams(feather=9, shift=5)), flat)


def test_feather_softens_without_moving_the_edge():
    a = _disc(soft=0.5)
    f = adjust_edges(a, EdgeParams(feather=12.0))
    row = f[150, 200:]
    inside = np.flatnonzero(row >= 0.5)
    assert abs(inside[-1] + 1 - 90) <= 1  # the half-way point stays at the radius
    ramp = np.count_nonzero((row > 0.1) & (row < 0.9))
    assert 6 <= ramp <= 14  # 10–90 % over about the feather (σ = 4: 2.56 σ ≈ 10 px)
    assert np.array_equal(f[:, :60], a[:, :60])  # beyond its reach nothing changes


@pytest.mark.parametrize("shift", [-20, -5, 5, 20])
def test_shift_moves_the_edge_by_that_many_pixels(shift):
    r = 80.0
    a = _disc(radius=r, soft=0.5)
    s = adjust_edges(a, EdgeParams(shift=shift))
    radius = math.sqrt(s.sum() / math.pi)
    assert abs(radius - (r + shift)) <= 0.03 * abs(shift) + 0.6, radius


def test_contrast_steepens_around_one_half():
    a = np.tile(np.linspace(0, 1, 101, dtype=np.float32), (130, 1))
    c = adjust_edges(a, EdgeParams(contrast=50.0))
    assert np.allclose(c[0], np.clip((a[0] - 0.5) * 2 + 0.5, 0, 1), atol=1e-6)
    hard = adjust_edges(a, EdgeParams(contrast=100.0))
    assert set(np.unique(hard)) == {0.0, 1.0}


def test_smooth_rounds_off_jags_and_keeps_the_edge_crisp():
    h, w = 200, 200
    a = np.zeros((h, w), np.float32)
    a[:, :100] = 1.0
    for y in range(0, h, 4):  # 2-pixel teeth every 4 rows
        a[y:y + 2, 100:102] = 1.0
    s = adjust_edges(a, EdgeParams(smooth=6.0))
    edge = [int(np.count_nonzero(s[y] >= 0.5)) for y in range(20, 180)]
    assert max(edge) - min(edge) <= 1  # the teeth are gone
    ramp = np.count_nonzero((s[100] > 0.1) & (s[100] < 0.9))
    assert ramp <= 3


def test_limits_are_checked_and_named():
    for kw, name in (({"feather": -1}, "feather"), ({"shift": 1000}, "shift"),
                     ({"contrast": float("nan")}, "contrast"), ({"smooth": "x"}, "smooth"),
                     ({"shift": 2.5}, "shift")):
        with pytest.raises(LimitError, match=name):
            EdgeParams(**kw)
    assert EdgeParams(shift=-3, feather=2).reach == 3 + 2


def test_projects_keep_the_edge_settings():
    settings = PipelineSettings(edges=EdgeParams(smooth=2.5, feather=4.0, contrast=20.0,
                                                 shift=-3))
    doc = settings_to_json(settings)
    assert doc["pipeline"]["edges"] == {"smooth": 2.5, "feather": 4.0, "contrast": 20.0,
                                        "shift": -3}
    assert settings_from_json(doc) == settings
    doc["pipeline"]["edges"]["feather"] = 1e9
    with pytest.raises(LimitError, match="pipeline.edges.feather"):
        settings_from_json(doc)
    old = settings_to_json(PipelineSettings())
    del old["pipeline"]["edges"]  # a project saved before edge adjustments existed
    assert settings_from_json(old).edges.identity


def _image(rgb, source_alpha=None):
    return LoadedImage(rgb=np.asarray(rgb, np.float32), source_alpha=source_alpha, bit_depth=8,
                       icc_profile=None, exif=None)


def test_the_solve_path_applies_them_before_the_source_alpha_cap(make_disc):
    image, _, trimap = make_disc(size=96, radius=28, soft=3.0)
    cap = np.ones(trimap.shape, np.float32)
    cap[:, :20] = 0.25
    img = _image(image, cap)
    params = EdgeParams(feather=3.0, shift=2)
    settings = PipelineSettings(edges=params)
    result = solve(SolveRequest.of(img, trimap, settings))
    plain = solve(SolveRequest.of(img, trimap, PipelineSettings()))
    assert np.array_equal(result.raw_alpha, plain.raw_alpha)
    expect = np.minimum(adjust_edges(result.raw_alpha, params), cap)
    assert np.array_equal(result.alpha, expect)
    assert np.array_equal(finish_alpha(result.raw_alpha, img, settings), result.alpha)
    # the foreground colours are those of the adjusted alpha, not the plain one
    from matting_studio.core.foreground import estimate_foreground

    assert np.array_equal(result.foreground, estimate_foreground(img.rgb, result.alpha))
    # and other edge settings are applied to the kept raw alpha without solving again
    other = PipelineSettings(edges=EdgeParams(contrast=70.0))
    again = refinish(result, img, other)
    full = solve(SolveRequest.of(img, trimap, other))
    assert np.array_equal(again.alpha, full.alpha)
    assert np.array_equal(again.foreground, full.foreground)


def test_a_preview_after_a_stroke_starts_from_the_raw_alpha(make_disc):
    image, _, trimap = make_disc(size=160, radius=48, soft=4.0)
    img = _image(image)
    settings = PipelineSettings(edges=EdgeParams(feather=5.0))
    first = solve(SolveRequest.of(img, trimap, settings))
    stroke = Stroke("background", 5.0, ((80.0, 40.0), (80.0, 60.0)))
    edited = apply_strokes(trimap, [stroke])
    quick = preview(SolveRequest.of(img, edited, settings, revision=1, previous=first))
    y0, y1, x0, x1 = quick.region
    outside = np.ones(trimap.shape, bool)
    outside[y0:y1, x0:x1] = False
    # outside the repainted region the preview is the previous matte, feathered once
    assert np.abs(quick.alpha[outside] - first.alpha[outside]).max() <= 1e-6
    sy0, sy1, sx0, sx1 = stroke.bounds(edited.shape)
    assert y0 <= sy0 - 5 and y1 >= sy1 + 5 or y0 == 0  # grown by the feather's reach
    assert np.array_equal(quick.alpha, finish_alpha(quick.raw_alpha, img, settings))


def test_tiles_follow_the_block_grid_and_reach():
    a = np.zeros((1000, 1000), np.float32)
    a[500, 500] = 0.5  # one soft pixel
    tiles = edges._active_tiles(a, reach=10)
    assert len(tiles) >= 1 and all(t[1] - t[0] <= edges.TILE for t in tiles)
    covered = np.zeros_like(a, bool)
    for y0, y1, x0, x1 in tiles:
        covered[y0:y1, x0:x1] = True
    assert covered[490:511, 490:511].all() and covered.mean() < 0.2
