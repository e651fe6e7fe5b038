"""Information-flow backend and the adaptive automatic trimap, on small synthetic images."""

import numpy as np
import pytest

from matting_studio.core.auto_trimap import (AdaptiveTrimapParams, adaptive_trimap,
                                             band_half_width, predict_mask_tta)
from matting_studio.core.matting import BACKENDS, DEFAULT_BACKEND, solve_alpha
from matting_studio.core.matting.ifm import FlowParams, solve_flows
from matting_studio.core.pipeline import PipelineSettings, auto_trimap
from matting_studio.core.image_io import LoadedImage
from matting_studio.core.trimap import make_trimap


def _soft_disc(n=64, radius=18.0, soft=4.0, seed=0):
    """Image = α·F + (1−α)·B with textured F and B and a soft-edged disc α; plus a trimap."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:n, 0:n]
    d = np.hypot(yy - n / 2, xx - n / 2)
    alpha = np.clip((radius - d) / soft + 0.5, 0.0, 1.0)
    fg = np.stack([0.8 + 0.1 * np.sin(xx / 5.0), 0.3 + 0.05 * np.cos(yy / 4.0),
                   0.2 + 0.0 * xx], axis=2)
    bg = np.stack([0.1 + 0.0 * xx, 0.4 + 0.1 * np.sin(yy / 6.0),
                   0.8 + 0.05 * np.cos(xx / 7.0)], axis=2)
    fg = np.clip(fg + rng.normal(0, 0.005, fg.shape), 0, 1)
    bg = np.clip(bg + rng.normal(0, 0.005, bg.shape), 0, 1)
    image = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
    trimap = np.full((n, n), 128, np.uint8)
    trimap[d < radius - soft - 3] = 255
    trimap[d > radius + soft + 3] = 0
    return image, trimap, alpha


def test_ifm_is_registered_and_default():
    assert "ifm" in BACKENDS
    assert DEFAULT_BACKEND == "ifm"


def test_ifm_keeps_known_pixels_and_range():
    image, trimap, _ = _soft_disc()
    alpha = solve_alpha(image, trimap, "ifm")
    assert alpha.dtype == np.float32 and alpha.shape == trimap.shape
    assert np.all(alpha[trimap == 255] == 1.0) and np.all(alpha[trimap == 0] == 0.0)
    assert 0.0 <= alpha.min() and alpha.max() <= 1.0


def test_ifm_recovers_soft_disc():
    image, trimap, gt = _soft_disc()
    unk = trimap == 128
    alpha = solve_flows(image, trimap, progress=lambda f, m: None)
    err = np.sqrt(((alpha - gt)[unk] ** 2).mean())
    assert err < 0.05, err
    # the non-local terms must not make it worse than plain closed-form on this easy case
    cf = solve_alpha(image, trimap, "cf")
    err_cf = np.sqrt(((cf - gt)[unk] ** 2).mean())
    assert err <= err_cf + 0.02


def test_ifm_without_nonlocal_flows_still_solves():
    image, trimap, gt = _soft_disc(n=40, radius=10.0, soft=3.0)
    p = FlowParams(cm_weight=0.0, iu_weight=0.0)
    alpha = solve_flows(image, trimap, p, progress=lambda f, m: None)
    assert np.sqrt(((alpha - gt)[trimap == 128] ** 2).mean()) < 0.1


def test_ifm_progress_reaches_one_and_warm_start_accepted():
    image, trimap, gt = _soft_disc(n=40, radius=10.0, soft=3.0)
    seen = []
    a = solve_flows(image, trimap, progress=lambda f, m: seen.append(f), x0=gt)
    assert seen and seen[-1] == pytest.approx(1.0)
    assert np.sqrt(((a - gt)[trimap == 128] ** 2).mean()) < 0.1


def _blurry_square_mask(n=120, a=30, b=90, blur=0.0):
    import cv2

    m = np.zeros((n, n), np.float32)
    m[a:b, a:b] = 1.0
    if blur:
        m = cv2.GaussianBlur(m, (0, 0), blur)
    return m


def test_adaptive_trimap_values_and_sides():
    m = _blurry_square_mask(blur=2.0)
    t = adaptive_trimap(m)
    assert set(np.unique(t)) == {0, 128, 255}
    assert t[60, 60] == 255 and t[2, 2] == 0
    # the unknown band straddles the 0.5 contour
    assert t[60, 30] == 128 and t[60, 29] == 128


def test_adaptive_band_is_wider_where_the_mask_is_unsure():
    p = AdaptiveTrimapParams(max_band=0.2)  # a 120-px image: keep the clamp out of the way
    crisp = adaptive_trimap(_blurry_square_mask(blur=1.0), None, p)
    soft = adaptive_trimap(_blurry_square_mask(blur=6.0), None, p)
    assert (soft == 128).sum() > (crisp == 128).sum()


def test_adaptive_band_is_clamped_and_narrower_than_classic_on_unsure_masks():
    m = _blurry_square_mask(blur=12.0) * 0.9 + 0.05  # wide grey ramp, never 0 or 1
    p = AdaptiveTrimapParams()
    r = band_half_width(m, None, p)
    side = min(m.shape)
    assert r.min() >= p.min_band * side - 1e-6 and r.max() <= p.max_band * side + 1e-6
    classic = make_trimap(m)
    adaptive = adaptive_trimap(m, None, p)
    assert (adaptive == 128).sum() < (classic == 128).sum()
    assert (adaptive == 255).any() and (adaptive == 0).any()


def test_adaptive_band_narrows_on_a_strong_image_edge():
    m = _blurry_square_mask(blur=4.0)
    flat = np.full(m.shape + (3,), 0.5, np.float32)
    edged = np.where((m >= 0.5)[..., None], 0.9, 0.1).astype(np.float32) * np.ones(3)
    p = AdaptiveTrimapParams(max_band=0.2)
    wide = adaptive_trimap(m, flat, p)
    narrow = adaptive_trimap(m, edged, p)
    assert (narrow == 128).sum() < (wide == 128).sum()


def test_adaptive_trimap_trivial_masks():
    assert (adaptive_trimap(np.ones((20, 20), np.float32)) == 255).all()
    assert (adaptive_trimap(np.zeros((20, 20), np.float32)) == 0).all()
    with pytest.raises(ValueError):
        adaptive_trimap(np.zeros((2, 3, 4)))


class _FlipCountingModel:
    """A fake model whose answer depends on left/right, to check the mirror run."""

    def predict_small(self, rgb):
        h, w = rgb.shape[:2]
        out = np.zeros((8, 8), np.float32)
        out[:, :4] = 1.0  # always "subject on the left" of what it is shown
        return out


def test_tta_combines_the_mirrored_answer():
    rgb = np.zeros((16, 16, 3), np.float32)
    # the view says "subject on the left", the mirrored view (flipped back) "on the right"
    mean = predict_mask_tta(_FlipCountingModel(), rgb, "mean")
    assert mean.shape == (16, 16) and np.allclose(mean, 0.5, atol=0.05)
    union = predict_mask_tta(_FlipCountingModel(), rgb)
    assert np.allclose(union, 1.0)
    with pytest.raises(ValueError):
        predict_mask_tta(_FlipCountingModel(), rgb, "median")


def test_pipeline_presets():
    m = _blurry_square_mask(blur=3.0)
    img = LoadedImage(rgb=np.full(m.shape + (3,), 0.5, np.float32), source_alpha=None,
                      bit_depth=8, icc_profile=None, exif=None)
    adaptive = auto_trimap(img, m, PipelineSettings())
    classic = auto_trimap(img, m, PipelineSettings(trimap_preset="classic"))
    assert np.array_equal(classic, make_trimap(m))
    assert not np.array_equal(adaptive, classic)
    with pytest.raises(ValueError):
        auto_trimap(img, m, PipelineSettings(trimap_preset="nope"))
