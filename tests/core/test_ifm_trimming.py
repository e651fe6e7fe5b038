"""Edge trimming (core/matting/trimming.py) and how information-flow matting uses it: the
short, strict trimming as known pixels, the longer one as the known-to-unknown estimate."""

from dataclasses import replace

import numpy as np

from matting_studio.core.matting.ifm import (
    DEFAULT_PARAMS,
    _distance_to_unknown,
    _known_to_unknown,
    build_flow_system,
    solve_flows,
)
from matting_studio.core.matting.trimming import TrimParams, edge_trim
from matting_studio.core.progress import no_progress

RED, BLUE = np.array([0.9, 0.2, 0.1]), np.array([0.1, 0.2, 0.9])


def _band(n=64, band=(8, 56), edge=32, ramp=0):
    """Red foreground left of column ``band[0]``, blue background right of ``band[1]``, an
    unknown band between whose true edge is at column ``edge`` (a linear ramp of ``ramp``
    pixels centred there, a hard edge for 0)."""
    x = np.arange(n, dtype=np.float64)
    if ramp:
        alpha = np.clip((edge + ramp / 2 - x) / ramp, 0, 1)
    else:
        alpha = (x < edge).astype(np.float64)
    alpha = np.repeat(alpha[None, :], n, 0)
    image = alpha[..., None] * RED + (1 - alpha[..., None]) * BLUE
    trimap = np.full((n, n), 128, np.uint8)
    trimap[:, :band[0]] = 255
    trimap[:, band[1]:] = 0
    return image, trimap, alpha


def test_labels_spread_through_matching_colours_as_far_as_the_rounds_allow():
    image, trimap, _ = _band()
    out = edge_trim(image, trimap, TrimParams(rounds=4))
    assert out.dtype == np.uint8 and out.shape == trimap.shape
    # 1 + 2 + 3 + 4 = 10 pixels into the band from each side, no farther
    assert (out[:, 8:18] == 255).all() and (out[:, 18:46] == 128).all()
    assert (out[:, 46:56] == 0).all()
    # the known pixels keep their labels; the input is not changed
    assert (out[:, :8] == 255).all() and (out[:, 56:] == 0).all()
    assert (trimap[:, 8:56] == 128).all()
    # more rounds reach farther: 1 + … + 9 = 45 > 24, the whole band is decided, each
    # side up to the true edge and never across it
    out9 = edge_trim(image, trimap, TrimParams(rounds=9))
    assert (out9[:, 8:32] == 255).all() and (out9[:, 32:56] == 0).all()


def test_a_mixed_or_slightly_different_colour_is_left_unknown():
    image, trimap, alpha = _band(band=(20, 44), ramp=8)
    out = edge_trim(image, trimap, TrimParams(rounds=9))
    mixed = (alpha > 0.02) & (alpha < 0.98)
    assert (out[mixed] == 128).all()
    # a colour 3/256 off the known one: accepted in the first rounds, never in the last
    image2, trimap2, _ = _band()
    image2[:, 8:56] = RED + 3.0 / 256.0
    out2 = edge_trim(image2, trimap2, TrimParams(rounds=9))
    decided = (out2[:, 8:56] != 128).sum(axis=1)
    assert 0 < decided.min() and decided.max() < 48
    assert (out2[:, 8:56] != 0).all()  # never the background's label
    # a colour farther off than the first round's threshold is never decided
    image2[:, 8:56] = RED + 10.0 / 256.0
    assert (edge_trim(image2, trimap2, TrimParams(rounds=9))[:, 8:56] == 128).all()


def test_trimming_leaves_a_trimap_without_known_pixels_as_it_is():
    image, _, _ = _band()
    everything_unknown = np.full((64, 64), 128, np.uint8)
    assert (edge_trim(image, everything_unknown) == 128).all()


def test_ifm_keeps_trimmed_pixels_known_and_still_solves_the_edge():
    image, trimap, alpha = _band(ramp=8)
    a = solve_flows(image, trimap, progress=no_progress)
    short = edge_trim(image, trimap, DEFAULT_PARAMS.trim_known)
    decided = (trimap == 128) & (short != 128)
    assert decided.any()
    assert np.array_equal(a[decided], short[decided] / np.float32(255))
    ramp = (alpha > 0) & (alpha < 1)
    assert np.abs(a[ramp] - alpha[ramp]).max() < 0.1


def test_ifm_uses_the_longer_trimming_as_its_known_to_unknown_estimate():
    image, trimap, _ = _band(ramp=4)
    params = replace(DEFAULT_PARAMS, trim_known=None)
    prior = edge_trim(image, trimap, params.trim_prior)
    unk = np.flatnonzero(trimap.ravel() == 128)
    decided = np.isin(prior.ravel()[unk], (0, 255))
    assert decided.any() and not decided.all()
    # the colour estimate and its confidence, searched as build_flow_system searches them
    near = _distance_to_unknown(trimap) <= params.ku_reach / params.ku_xy * max(trimap.shape)
    est, conf = _known_to_unknown(image, trimap, unk, near, params)
    with_prior = build_flow_system(image, trimap, params, prior=prior)
    without = build_flow_system(image, trimap, params)
    label = prior.ravel()[unk] / 255.0
    # decided pixels: the trimming's label with confidence trim_conf replaces the estimate
    want_diag = np.where(decided, params.ku_weight * (params.trim_conf - conf), 0.0)
    want_b = np.where(decided, params.ku_weight * (params.trim_conf * label - conf * est), 0.0)
    assert np.allclose(with_prior.extra_diagonal - without.extra_diagonal, want_diag)
    assert np.allclose(with_prior.b - without.b, want_b)
    # and it matters: the trimming is surer than the colour estimate
    assert (conf[decided] < params.trim_conf - 0.1).all()
