"""Information-flow backend and the adaptive automatic trimap, on small synthetic images."""

import numpy as np
import pytest

from matting_studio.core.auto_trimap import (
    AdaptiveTrimapParams,
    adaptive_trimap,
    band_half_width,
)
from matting_studio.core.io import LoadedImage
from matting_studio.core.mask_views import predict_mask_tta
from matting_studio.core.matting import BACKENDS, DEFAULT_BACKEND, solve_alpha
from matting_studio.core.matting.ifm import FlowParams, solve_flows
from matting_studio.core.pipeline import PipelineSettings, auto_trimap
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


def test_lle_weights_equal_the_direct_kxk_solve():
    """The Woodbury 3×3 form gives the same affine weights as solving the k×k Gram system."""
    from matting_studio.core.matting.ifm import lle_weights

    rng = np.random.default_rng(3)
    colours = rng.random((500, 3))
    colours[7:12] = colours[3]  # identical colours: a rank-deficient Gram matrix
    query = np.arange(100)
    nb = rng.integers(100, 500, (100, 20))
    nb[3, :5] = np.arange(7, 12)
    w = lle_weights(colours, query, nb, 1e-6)
    for i in (0, 3, 50, 99):
        z = colours[nb[i]] - colours[query[i]]
        g = z @ z.T
        g += np.eye(20) * (1e-6 * max(np.trace(g), 1e-3) + 1e-10)
        ref = np.linalg.solve(g, np.ones(20))
        np.testing.assert_allclose(w[i], ref / ref.sum(), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-9)
    # and they rebuild the query colour from its neighbours
    rebuilt = np.einsum("nk,nkc->nc", w, colours[nb])
    assert np.abs(rebuilt - colours[query]).max() < 0.05


def test_no_backend_needs_a_jit():
    """Every backend is numpy/scipy only: running them loads neither numba nor pymatting."""
    import subprocess
    import sys

    code = ("import sys, numpy as np\n"
            "from matting_studio.core.matting import solve_alpha\n"
            "img = np.random.default_rng(0).random((40, 40, 3))\n"
            "tri = np.zeros((40, 40), np.uint8); tri[10:30, 10:30] = 128; tri[15:25, 15:25] = 255\n"
            "for name in ('ifm', 'cf', 'knn'):\n"
            "    assert solve_alpha(img, tri, name).shape == (40, 40)\n"
            "print(sorted(m for m in ('numba', 'pymatting') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_knn_laplacian_is_the_published_one():
    """Our KNN Laplacian (scipy's k-d tree) is the matrix pymatting builds for KNN matting."""
    from pymatting.laplacian.knn_laplacian import knn_laplacian as reference

    from matting_studio.core.matting.knn import knn_laplacian

    image = np.random.default_rng(3).random((24, 30, 3))
    ours, theirs = knn_laplacian(image), reference(image)
    assert ours.shape == theirs.shape == (720, 720)
    assert abs(ours - theirs).max() < 1e-6


def test_coarse_factor_budget_floor_and_ceiling():
    from matting_studio.core.matting.multiscale import ScaleParams, coarse_factor

    p = ScaleParams(max_unknown=40_000, min_pixels=500_000, hard_max_unknown=400_000,
                    floor_max_pixels=1_500_000)
    assert coarse_factor(30_000, p, 4_000_000) == 1.0  # within budget
    # a 1.2 MP image with 120k unknowns: the budget asks for 1.73x, the 0.5 MP floor allows 1.55x
    assert coarse_factor(120_000, p, 1_200_000) == pytest.approx(np.sqrt(1_200_000 / 500_000))
    # a camera-size photo goes to the budget, floor or not
    assert coarse_factor(387_000, p, 4_000_000) == pytest.approx(np.sqrt(387_000 / 40_000))
    # a 0.5 MP image is solved at full size...
    assert coarse_factor(150_000, p, 480_000) == 1.0
    # ...unless its unknown region is beyond the hard ceiling
    assert coarse_factor(450_000, p, 480_000) == pytest.approx(np.sqrt(450_000 / 400_000))
    assert coarse_factor(387_000, p) == pytest.approx(np.sqrt(387_000 / 40_000))
    # a 0.52 MP photo is not reduced by 2 % (detail lost for no time saved)
    assert coarse_factor(150_000, p, 520_000) == 1.0


def test_knn_crop_with_one_kind_of_known_pixels():
    """A tile of a wide band may hold foreground but no background: the crop solver answers
    (pymatting's own system builder refuses such a trimap)."""
    image, _, _ = _soft_disc(n=32)
    trimap = np.full((32, 32), 128, np.uint8)
    trimap[:8] = 255
    alpha = BACKENDS["knn"](image, trimap, progress=lambda f, m: None)
    assert alpha.shape == (32, 32) and alpha[:8].min() > 0.99  # soft constraints (λ = 100)
    assert alpha.min() > 0.9  # only foreground anchors it
    none_known = np.full((32, 32), 128, np.uint8)
    guess = np.full((32, 32), 0.25)
    np.testing.assert_allclose(
        BACKENDS["knn"](image, none_known, progress=lambda f, m: None, x0=guess), 0.25)


def test_flow_system_terms_sum_to_one_symmetric_matrix():
    """The system kept as separate terms (no merged matrix): its product, its diagonal (the
    Jacobi preconditioner) and the two-thread product all agree with the dense sum."""
    from matting_studio.core.matting.ifm import SplitProduct, build_flow_system

    image, trimap, _ = _soft_disc()
    system = build_flow_system(image, trimap)
    assert system.products and system.similarity is not None
    m = system.unknown.size
    dense = system.local.toarray() + np.diag(system.extra_diagonal)
    for e, et, d in system.products:
        np.testing.assert_array_equal(et.toarray(), e.toarray().T)
        dense += d * (e.toarray().T @ e.toarray())
    w, wt = system.similarity
    np.testing.assert_array_equal(wt.toarray(), w.toarray().T)
    dense -= w.toarray() + wt.toarray()
    np.testing.assert_allclose(dense, dense.T, atol=1e-12)
    assert np.linalg.eigvalsh(dense).min() > 0  # positive definite: CG applies
    np.testing.assert_allclose(system.diagonal, np.diag(dense), rtol=1e-12)
    x = np.random.default_rng(1).random(m)
    np.testing.assert_allclose(system.dot(x), dense @ x, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(SplitProduct(system).dot(x), system.dot(x))
    # the intra-unknown term is a graph Laplacian: its rows sum to zero
    no_ku = build_flow_system(image, trimap, FlowParams(ku_weight=0.0))
    w, wt = no_ku.similarity
    lap = np.diag(no_ku.extra_diagonal) - w.toarray() - wt.toarray()
    np.testing.assert_allclose(lap.sum(axis=1), 0.0, atol=1e-12)


def test_ifm_two_thread_product_gives_the_same_alpha(monkeypatch, set_budget):
    from matting_studio.core.matting import ifm

    image, trimap, _ = _soft_disc(n=96)
    set_budget(2)
    monkeypatch.setattr(ifm, "PARALLEL_NNZ", 0)  # split even this small system
    split = solve_flows(image, trimap, progress=lambda *a: None)
    monkeypatch.setattr(ifm, "PARALLEL_NNZ", 10**12)
    serial = solve_flows(image, trimap, progress=lambda *a: None)
    np.testing.assert_array_equal(split, serial)
