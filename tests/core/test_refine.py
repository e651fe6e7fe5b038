"""Image-guided refinement of the model mask: gaps the model filled are found by their colour,
and what the model is sure of stays."""

import numpy as np

from matting_studio.core.auto_trimap import AdaptiveTrimapParams, automatic_trimap
from matting_studio.core.matting import solve_alpha
from matting_studio.core.refine import RefineParams, refine_mask
from matting_studio.core.trimap import BACKGROUND, FOREGROUND, UNKNOWN


def _ball_with_gaps(n=160, seed=0):
    """A textured orange disc with round gaps that show the blue, textured background; the
    "model" mask fills the gaps (0.8: fairly sure) as a salient-object model at 320 px does.
    Also a dark spot inside the disc that the mask is sure of (1.0)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:n, 0:n]
    disc = np.hypot(yy - n / 2, xx - n / 2) < n * 0.35
    gaps = np.zeros((n, n), bool)
    for cy, cx in [(0.4, 0.4), (0.4, 0.62), (0.62, 0.45), (0.6, 0.63)]:
        gaps |= np.hypot(yy - cy * n, xx - cx * n) < n * 0.06
    alpha = (disc & ~gaps).astype(np.float64)
    fg = np.stack([0.85 + 0.05 * np.sin(xx / 3.0), 0.45 + 0.05 * np.cos(yy / 4.0),
                   0.15 + 0 * xx], axis=2)
    bg = np.stack([0.15 + 0 * xx, 0.3 + 0.05 * np.sin(yy / 5.0), 0.7 + 0.05 * np.cos(xx / 6.0)],
                  axis=2)
    image = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
    eye = np.hypot(yy - 0.5 * n, xx - 0.3 * n) < n * 0.03  # bg-coloured, but subject
    image[eye] = bg[eye]
    alpha[eye] = 1.0
    image = np.clip(image + rng.normal(0, 0.01, image.shape), 0, 1).astype(np.float32)
    mask = np.where(disc, 0.8, 0.0).astype(np.float32)
    mask[np.hypot(yy - 0.5 * n, xx - 0.3 * n) < n * 0.08] = 1.0  # the model is sure here
    return image, mask, alpha, gaps, eye


def test_refinement_finds_the_gaps_the_mask_filled():
    image, mask, _, gaps, eye = _ball_with_gaps()
    refined, unsure = refine_mask(mask, image)
    assert unsure is not None
    assert (refined[gaps] < 0.5).mean() > 0.9  # the gaps are background after all
    assert (unsure[gaps]).mean() > 0.9  # ...and matting decides them
    assert (refined[eye] >= 0.5).all() and not unsure[eye].any()  # the sure part stays
    assert np.array_equal(refined[~unsure], mask[~unsure])  # elsewhere the model's own values


def test_nothing_to_refine_without_both_sides():
    image, _, _, _, _ = _ball_with_gaps()
    for flat in (np.zeros(image.shape[:2], np.float32), np.ones(image.shape[:2], np.float32)):
        refined, unsure = refine_mask(flat, image)
        assert unsure is None and refined is flat
    try:
        RefineParams(sure_fg=0.4)
    except ValueError:
        pass
    else:
        raise AssertionError("sure_fg below the threshold must be refused")


def test_refined_trimap_gives_a_better_matte_than_the_mask():
    image, mask, alpha, gaps, _ = _ball_with_gaps()
    plain = automatic_trimap(mask, image, AdaptiveTrimapParams(refine=False))
    refined = automatic_trimap(mask, image)
    assert (plain[gaps] == FOREGROUND).mean() > 0.5  # the gaps' centres are "sure subject"
    assert (refined[gaps] != FOREGROUND).all() and (refined == UNKNOWN).sum() > 0
    assert (refined == BACKGROUND).any() and (refined == FOREGROUND).any()
    a = solve_alpha(image, refined, "ifm")
    sad_matte = np.abs(a - alpha).sum()
    sad_mask = np.abs(mask - alpha).sum()
    sad_plain = np.abs(solve_alpha(image, plain, "ifm") - alpha).sum()
    assert sad_matte < 0.5 * sad_plain and sad_matte < 0.5 * sad_mask
    assert np.abs(a[gaps] - alpha[gaps]).mean() < 0.1
