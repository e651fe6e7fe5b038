"""Property-based tests (hypothesis) of trimaps, strokes and project files."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from matting_studio.core.photo_source import Fingerprint
from matting_studio.core.project import PhotoEdit, Project, load_project, save_project
from matting_studio.core.trimap import (
    BACKGROUND,
    FOREGROUND,
    STROKE_VALUES,
    UNKNOWN,
    Stroke,
    TrimapParams,
    apply_strokes,
    changed_bounds,
    draw_stroke,
    make_trimap,
    normalize_trimap,
    stroke_mask,
)

FAST = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

shapes = st.tuples(st.integers(1, 40), st.integers(1, 40))


@st.composite
def soft_masks(draw):
    h, w = draw(shapes)
    kind = draw(st.sampled_from(["float", "uint8", "blobs"]))
    if kind == "float":
        return draw(arrays(np.float32, (h, w), elements=st.floats(0, 1, width=32)))
    if kind == "uint8":
        return draw(arrays(np.uint8, (h, w)))
    # smooth blobs look like real model output
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    import cv2

    noise = rng.random((h, w)).astype(np.float32)
    return cv2.GaussianBlur(noise, (0, 0), sigmaX=max(h, w) / 8 + 0.5)


def _binary(mask, threshold):
    m = mask.astype(np.float32)
    if mask.dtype == np.uint8:
        m /= 255.0
    return m >= threshold


odd_kernels = st.integers(0, 7).map(lambda k: 2 * k + 1)


@FAST
@given(soft_masks(), odd_kernels, st.integers(0, 4), st.floats(0.05, 0.95))
def test_make_trimap_values_and_containment(mask, k, it, thr):
    t = make_trimap(mask, TrimapParams(kernel_size=k, iterations=it, threshold=thr))
    assert t.dtype == np.uint8 and t.shape == mask.shape
    assert set(np.unique(t)) <= {BACKGROUND, UNKNOWN, FOREGROUND}
    b = _binary(mask, thr)
    assert not (t == FOREGROUND)[~b].any(), "sure foreground outside mask ≥ threshold"
    assert not (t == BACKGROUND)[b].any(), "sure background inside mask ≥ threshold"


@FAST
@given(soft_masks(), odd_kernels, odd_kernels, st.integers(0, 4), st.integers(0, 4))
def test_make_trimap_band_grows_with_kernel_and_iterations(mask, k1, k2, i1, i2):
    """A bigger kernel (odd sizes: nested ellipses) or more iterations never shrinks the band."""
    (ka, kb), (ia, ib) = sorted((k1, k2)), sorted((i1, i2))
    small = make_trimap(mask, TrimapParams(kernel_size=ka, iterations=ia))
    big = make_trimap(mask, TrimapParams(kernel_size=kb, iterations=ib))
    assert not ((small == UNKNOWN) & (big != UNKNOWN)).any()
    assert not ((big == FOREGROUND) & (small != FOREGROUND)).any()
    assert not ((big == BACKGROUND) & (small != BACKGROUND)).any()


coords = st.floats(-20, 60, allow_nan=False, width=32)
points = st.lists(st.tuples(coords, coords), min_size=1, max_size=6)
strokes = st.builds(Stroke, mode=st.sampled_from(sorted(STROKE_VALUES)),
                    radius=st.floats(0.5, 12, allow_nan=False), points=points.map(tuple))
trimaps = shapes.flatmap(lambda s: arrays(np.uint8, s, elements=st.sampled_from([0, 128, 255])))


@FAST
@given(trimaps, strokes)
def test_stroke_changes_only_pixels_within_its_bounds(trimap, stroke):
    out = apply_strokes(trimap, [stroke])
    changed = out != trimap
    b = stroke.bounds(trimap.shape)
    if b is None:
        assert not changed.any()
        return
    y0, y1, x0, x1 = b
    outside = changed.copy()
    outside[y0:y1, x0:x1] = False
    assert not outside.any()
    cb = changed_bounds(trimap, out)
    if cb is not None:
        assert y0 <= cb[0] and cb[1] <= y1 and x0 <= cb[2] and cb[3] <= x1
    assert set(np.unique(out)) <= {0, 128, 255}


@FAST
@given(shapes, strokes)
def test_stroke_mask_covers_every_point(shape, stroke):
    m = stroke_mask(stroke, shape)
    h, w = shape
    for x, y in stroke.points:
        xi, yi = int(round(x)), int(round(y))
        if 0 <= xi < w and 0 <= yi < h:
            assert m[yi, xi], (x, y)


@FAST
@given(trimaps, st.lists(strokes, min_size=1, max_size=5))
def test_later_strokes_win(trimap, ss):
    out = apply_strokes(trimap, ss)
    expected = trimap.copy()
    for s in ss:  # paint masks in order
        expected[stroke_mask(s, trimap.shape)] = s.value
    np.testing.assert_array_equal(out, expected)
    # the last stroke's pixels all carry its value
    assert (out[stroke_mask(ss[-1], trimap.shape)] == ss[-1].value).all()
    # apply_strokes never changes its input
    assert out is not trimap


@FAST
@given(trimaps, st.lists(strokes, max_size=4), st.lists(strokes, max_size=4))
def test_apply_strokes_composes(trimap, a, b):
    np.testing.assert_array_equal(apply_strokes(apply_strokes(trimap, a), b),
                                  apply_strokes(trimap, a + b))


@FAST
@given(strokes)
def test_stroke_dict_round_trip(stroke):
    assert Stroke.from_dict(stroke.to_dict()) == stroke


@FAST
@given(shapes.flatmap(lambda s: st.one_of(
    arrays(np.uint8, s), arrays(np.uint16, s),
    arrays(np.float32, s, elements=st.floats(0, 1, width=32)),
    arrays(np.uint8, s + (3,)))))
def test_normalize_trimap_is_idempotent_and_ternary(t):
    shape = t.shape[:2]
    once = normalize_trimap(t, shape)
    assert set(np.unique(once)) <= {0, 128, 255} and once.shape == shape
    np.testing.assert_array_equal(normalize_trimap(once, shape), once)


@FAST
@given(st.integers(1, 30), st.integers(1, 30), st.integers(1, 4))
def test_normalize_trimap_resizes_same_aspect(h, w, f):
    t = np.zeros((h, w), np.uint8)
    t[: h // 2] = 255
    out = normalize_trimap(t, (h * f, w * f))
    assert out.shape == (h * f, w * f)
    assert set(np.unique(out)) <= {0, 128, 255}


@FAST
@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True))
def test_stroke_refuses_non_finite_or_out_of_range(r, x):
    import math

    assume(not (math.isfinite(r) and 0.05 <= r <= 5e4 and math.isfinite(x) and abs(x) <= 1e6))
    with pytest.raises(ValueError):
        Stroke("foreground", r, ((x, 1.0),))


@FAST
@given(strokes, st.integers(1, 50), st.integers(1, 50))
def test_draw_stroke_stays_in_uint8_and_in_place(stroke, h, w):
    target = np.full((h, w), 128, np.uint8)
    draw_stroke(target, stroke)
    assert target.dtype == np.uint8 and set(np.unique(target)) <= {128, stroke.value}


@FAST
@given(st.lists(st.builds(Stroke, mode=st.sampled_from(sorted(STROKE_VALUES)),
                          radius=st.floats(0.05, 5e4, allow_nan=False),
                          points=st.lists(st.tuples(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6)),
                                          max_size=5).map(tuple)), max_size=6),
       st.dictionaries(st.text(max_size=8), st.one_of(st.integers(), st.floats(allow_nan=False,
                       allow_infinity=False), st.text(max_size=10), st.booleans()), max_size=4),
       st.text(min_size=1, max_size=30).filter(lambda s: "\x00" not in s))
def test_project_round_trip(tmp_path_factory, ss, view, name):
    folder = tmp_path_factory.mktemp("p")
    edit = PhotoEdit(source_path=f"/photos/{name}.jpg", fingerprint=Fingerprint(123, "ab" * 32),
                     strokes=ss, view=view)
    proj = Project(photos=[edit])
    back = load_project(save_project(folder / "x.msproj", proj))
    assert back == proj and back.photos[0].strokes == ss
