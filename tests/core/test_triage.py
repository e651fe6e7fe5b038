"""Triage: broken cut-outs score worse, the overlay marks where they are broken, and the score
is finite and deterministic on edge cases. Real model (embedded u2netp) and real matting on
scikit-image photos at small sizes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from matting_studio.core.auto_trimap import adaptive_trimap
from matting_studio.core.mask_views import model_answers, model_views, upsample_mask
from matting_studio.core.matting import DEFAULT_BACKEND, solve_alpha
from matting_studio.core.segmentation import get_model
from matting_studio.core.triage import (
    TriageParams,
    guided_filter,
    hotspots,
    overlay_at,
    triage,
    work_size,
)


def photo(name: str, width: int) -> np.ndarray:
    img = getattr(data, name)().astype(np.float32) / 255.0
    height = round(img.shape[0] * width / img.shape[1])
    return cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA)


def views_of(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = model_views(get_model(), rgb)
    return np.ascontiguousarray(a), np.ascontiguousarray(b)


def cutout_alpha(rgb: np.ndarray, views) -> np.ndarray:
    """The automatic pipeline from the model's views on: union mask → adaptive trimap → alpha."""
    mask = upsample_mask(np.maximum(*views), rgb.shape[:2])
    return solve_alpha(rgb, adaptive_trimap(mask, rgb), DEFAULT_BACKEND)


def shifted(v: np.ndarray, dx: int) -> np.ndarray:
    out = np.zeros_like(v)
    out[:, dx:] = v[:, :-dx]
    return out


@pytest.fixture(scope="module")
def coffee():
    rgb = photo("coffee", 240)
    views = views_of(rgb)
    return rgb, views, cutout_alpha(rgb, views)


# ---------------------------------------------------------------------------- the evidence

def test_model_views_are_what_model_answers_combines(coffee):
    rgb, _, _ = coffee
    model = get_model()
    a, b = model_views(model, rgb)
    assert a.shape == b.shape == (320, 320) and a.dtype == b.dtype == np.float32
    assert np.array_equal(model_answers(model, rgb), np.maximum(a, b))
    assert np.array_equal(model_answers(model, rgb, "mean"), (0.5 * (a + b)).astype(np.float32))
    # b is the mirror image's answer flipped back: the model is shown its mirrored input, which
    # is the mirror image's input up to the resampling's rounding
    on_mirror = model.predict_small(np.ascontiguousarray(rgb[:, ::-1]))[:, ::-1]
    assert np.abs(b - on_mirror).max() < 1e-4
    assert not np.array_equal(a, b)  # and not the photo's own answer


def test_model_views_without_parallel_runs_give_the_same_views(coffee):
    rgb, _, _ = coffee
    model = get_model()

    one_at_a_time = model_views(model, rgb, side_by_side=False)
    for got, want in zip(one_at_a_time, model_views(model, rgb)):
        assert np.array_equal(got, want)

    class PhotoOnly:  # a model known only by predict_small: shown the photo's mirror image
        def predict_small(self, x):
            return model.predict_small(x)

    for got, want in zip(model_views(PhotoOnly(), rgb), one_at_a_time):
        assert np.abs(got - want).max() < 1e-4


# ---------------------------------------------------------------------------- the score

@pytest.mark.parametrize("name, width", [("coffee", 240), ("astronaut", 240)])
def test_blurred_or_shifted_masks_and_smeared_mattes_score_worse(name, width):
    rgb = photo(name, width)
    a, b = views_of(rgb)
    alpha = cutout_alpha(rgb, (a, b))
    good = triage(rgb, alpha, (a, b)).score
    blurred = tuple(cv2.GaussianBlur(v, (0, 0), 12) for v in (a, b))
    moved = (shifted(a, 48), shifted(b, 48))  # 15 % of the model's width
    assert triage(rgb, cutout_alpha(rgb, blurred), blurred).score > good * 1.5
    # confidently misplaced: only the matte's residual and the band's new place show it
    assert triage(rgb, cutout_alpha(rgb, moved), moved).score > good * 1.1
    smeared = cv2.GaussianBlur(alpha, (0, 0), width / 40)
    assert triage(rgb, smeared, (a, b)).score > good * 1.5


@pytest.mark.parametrize("name", ["coffee", "chelsea"])
def test_an_unsure_patch_scores_worse_and_the_overlay_marks_it(name):
    rgb = photo(name, 192)
    a, b = views_of(rgb)
    good = triage(rgb, cutout_alpha(rgb, (a, b)), (a, b))
    # A patch of the model's answer on the subject's outline where it "does not know" (0.45).
    m = np.maximum(a, b)
    ys, xs = np.nonzero(np.abs(m - 0.5) < 0.2)
    cy, cx = int(ys[len(ys) // 2]), int(xs[len(xs) // 2])
    y0, x0, side = max(0, cy - 40), max(0, cx - 40), 80
    broken = []
    for v in (a, b):
        v = v.copy()
        v[y0:y0 + side, x0:x0 + side] = 0.45
        broken.append(v)
    bad = triage(rgb, cutout_alpha(rgb, broken), broken)
    assert bad.score > good.score

    h, w = rgb.shape[:2]
    sy, sx = h / 320, w / 320
    patch = np.zeros((h, w), bool)
    py0, py1 = int(y0 * sy), int((y0 + side) * sy)
    px0, px1 = int(x0 * sx), int((x0 + side) * sx)
    patch[py0:py1, px0:px1] = True
    marked = overlay_at(bad.overlay, (h, w))
    assert marked.shape == (h, w) and marked.dtype == bool
    assert marked[patch].mean() >= 0.9
    assert marked[patch].mean() > overlay_at(good.overlay, (h, w))[patch].mean()
    assert marked.mean() < 0.5  # it marks a region, not the whole photo
    # the first place to look at overlaps the patch
    top = hotspots(bad, (h, w))[0]
    assert top.x < px1 and top.x + top.width > px0 and top.y < py1 and top.y + top.height > py0


def test_the_score_is_deterministic(coffee):
    rgb, views, alpha = coffee
    r1, r2 = triage(rgb, alpha, views), triage(rgb.copy(), alpha.copy(), views)
    assert r1.score == r2.score and 0.0 < r1.score < 1.0
    assert np.array_equal(r1.risk, r2.risk) and np.array_equal(r1.overlay, r2.overlay)
    assert r1.risk.shape == (160, 240) == r1.overlay.shape
    assert hotspots(r1, rgb.shape[:2]) == hotspots(r2, rgb.shape[:2])


def test_terms_add_up_and_missing_evidence_counts_as_none(coffee):
    rgb, (a, b), alpha = coffee
    r = triage(rgb, alpha, (a, b))
    assert r.score <= r.uncertainty + r.disagreement + r.residual + 1e-6
    assert min(r.uncertainty, r.disagreement, r.residual) > 0
    one = triage(rgb, alpha, (np.maximum(a, b),))
    # (the union taken before resampling instead of after: nearly the same)
    assert one.disagreement == 0.0 and one.uncertainty == pytest.approx(r.uncertainty, rel=0.01)
    none = triage(rgb, alpha, None)  # a user trimap: no model mask
    assert none.uncertainty == none.disagreement == 0.0
    assert none.residual == pytest.approx(r.residual) and none.score > 0


def test_uint8_inputs_give_the_float_result(coffee):
    rgb, views, alpha = coffee
    r = triage(rgb, alpha, views)
    rgb8 = np.rint(rgb * 255).astype(np.uint8)
    alpha8 = np.rint(alpha * 255).astype(np.uint8)
    r8 = triage(rgb8, alpha8, views)
    assert r8.score == pytest.approx(r.score, rel=0.05)


def test_painted_pixels_carry_no_risk(coffee):
    rgb, views, alpha = coffee
    r = triage(rgb, alpha, views)
    h, w = alpha.shape
    painted = np.zeros((h, w), bool)
    painted[:, : w // 2] = True
    half = triage(rgb, alpha, views, painted=painted)
    assert half.score < r.score
    assert not half.risk[:, : half.risk.shape[1] // 2 - 1].any()
    everything = triage(rgb, alpha, views, painted=np.ones((h // 4, w // 4), bool))
    assert everything.score == 0.0 and not everything.overlay.any()
    assert hotspots(everything, (h, w)) == []


# ---------------------------------------------------------------------------- edge cases

@pytest.mark.parametrize("value", [0.0, 1.0])
def test_all_background_or_all_foreground_scores_zero(value):
    rng = np.random.default_rng(1)
    rgb = rng.random((48, 64, 3), dtype=np.float32)
    alpha = np.full((48, 64), value, np.float32)
    view = np.full((320, 320), value, np.float32)
    r = triage(rgb, alpha, (view, view))
    assert np.isfinite(r.score) and r.score == pytest.approx(0.0, abs=1e-6)
    assert not r.overlay.any() and hotspots(r, (48, 64)) == []


def test_a_crisp_matte_that_agrees_with_a_crisp_mask_scores_near_zero():
    # no unknown band at all: a hard disc that the photo's colours explain
    yy, xx = np.mgrid[0:96, 0:96]
    disc = (np.hypot(yy - 48, xx - 48) < 30).astype(np.float32)
    rgb = np.stack([0.2 + 0.6 * disc, 0.5 - 0.3 * disc, 0.8 - 0.6 * disc], axis=2)
    view = cv2.resize(disc, (320, 320), interpolation=cv2.INTER_NEAREST)
    r = triage(rgb, disc, (view, view))
    assert 0.0 <= r.score < 0.01


@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (3, 1), (7, 5), (1, 400)])
def test_tiny_images_give_a_finite_score(shape):
    rng = np.random.default_rng(2)
    rgb = rng.random(shape + (3,), dtype=np.float32)
    alpha = rng.random(shape, dtype=np.float32)
    views = (rng.random((320, 320), dtype=np.float32), rng.random((320, 320), dtype=np.float32))
    r = triage(rgb, alpha, views)
    assert np.isfinite(r.score) and 0.0 <= r.score <= 1.0
    assert r.risk.shape == r.overlay.shape
    assert r.risk.shape[0] <= shape[0] and r.risk.shape[1] <= shape[1]
    assert overlay_at(r.overlay, shape).shape == shape
    assert r.score == triage(rgb, alpha, views).score
    for spot in hotspots(r, shape):
        assert 0 <= spot.x < shape[1] and 0 <= spot.y < shape[0]
        assert spot.x + spot.width <= shape[1] and spot.y + spot.height <= shape[0]


def test_alpha_and_rgb_of_different_sizes(coffee):
    rgb, views, alpha = coffee
    # a 3× larger photo with the same matte upsampled, and the preview-size pair: close scores
    big = cv2.resize(rgb, (720, 480), interpolation=cv2.INTER_CUBIC)
    big_alpha = cv2.resize(alpha, (720, 480), interpolation=cv2.INTER_LINEAR)
    r_small, r_big = triage(rgb, alpha, views), triage(big, big_alpha, views)
    assert r_big.risk.shape == (213, 320)
    assert r_big.score == pytest.approx(r_small.score, rel=0.25)
    mixed = triage(big, alpha, views)
    assert mixed.score == pytest.approx(r_big.score, rel=0.25)


def test_bad_input_is_refused_with_a_clear_error(coffee):
    rgb, views, alpha = coffee
    with pytest.raises(ValueError, match="rgb"):
        triage(rgb[:, :, 0], alpha, views)
    with pytest.raises(ValueError, match="alpha"):
        triage(rgb, rgb, views)
    nan = alpha.copy()
    nan[3, 3] = np.nan
    with pytest.raises(ValueError, match="finite"):
        triage(rgb, nan, views)
    with pytest.raises(ValueError, match="views"):
        triage(rgb, alpha, views + views[:1])
    with pytest.raises(ValueError, match="painted"):
        triage(rgb, alpha, views, painted=np.zeros((2, 2, 2), bool))
    with pytest.raises(ValueError):
        TriageParams(work_side=4)
    with pytest.raises(ValueError):
        TriageParams(overlay_threshold=1.5)


# ---------------------------------------------------------------------------- helpers

def test_work_size_keeps_the_aspect_and_never_grows():
    assert work_size((4000, 6000), 320) == (320, 213)
    assert work_size((6000, 4000), 320) == (213, 320)
    assert work_size((100, 50), 320) == (50, 100)
    assert work_size((1, 10000), 320) == (320, 1)


def test_the_guided_filter_keeps_what_the_colours_explain():
    rng = np.random.default_rng(3)
    guide = rng.random((60, 80, 3), dtype=np.float32)
    affine = (0.3 * guide[:, :, 0] - 0.2 * guide[:, :, 1] + 0.5 * guide[:, :, 2] + 0.1)
    out = guided_filter(guide, affine.astype(np.float32), 2, 1e-6)
    assert np.abs(out - affine).max() < 1e-2
    noise = rng.random((60, 80), dtype=np.float32)  # unrelated to the colours: smoothed away
    assert np.abs(guided_filter(guide, noise, 2, 1e-3) - noise).mean() > 0.1
    const = np.full((60, 80), 0.7, np.float32)
    assert np.allclose(guided_filter(guide, const, 2, 1e-3), 0.7, atol=1e-4)
