"""The known-to-unknown confidence of information-flow matting: how well a pixel's colour is a
mix of its known neighbours' colours."""

from dataclasses import replace

import numpy as np

from matting_studio.core.matting.ifm import (
    DEFAULT_PARAMS,
    _known_to_unknown,
    _pair_distortion,
    solve_flows,
)
from matting_studio.core.progress import no_progress


def test_pair_distortion_measures_the_distance_to_the_best_mixing_line():
    colours = np.array([
        [0.9, 0.1, 0.1],  # 0: foreground red
        [0.1, 0.1, 0.9],  # 1: background blue
        [0.5, 0.1, 0.5],  # 2: their half-and-half mix
        [0.5, 0.6, 0.5],  # 3: the mix pushed 0.5 off the line
        [0.1, 0.9, 0.1],  # 4: a green that no pair explains well
        [0.8, 0.8, 0.8],  # 5: a second foreground sample
    ])
    unk = np.array([2, 3, 4])
    nf = np.array([[0, 5], [0, 5], [0, 5]])
    nb = np.array([[1, 1], [1, 1], [1, 1]])
    d = _pair_distortion(colours, unk, nf, nb)
    assert d[0] < 1e-9  # exactly on the red–blue line
    red_blue = np.linalg.norm(colours[0] - colours[1])
    grey_blue = np.linalg.norm(colours[5] - colours[1])
    # the best of both pairs, each distance relative to its pair's colour distance
    line = colours[5] - colours[1]
    off = colours[3] - colours[1]
    a = np.clip(off @ line / (line @ line), 0, 1)
    assert np.isclose(d[1], min(0.5 / red_blue, np.linalg.norm(off - a * line) / grey_blue))
    assert d[2] > d[1] > d[0]


def _two_tone(n=48):
    """Left half red foreground, right half blue background, a 12 px unknown band between
    whose colours are exact mixes (α falls linearly) — except a green streak no mix explains."""
    x = np.linspace(0, 1, n)
    alpha = np.clip((0.62 - x) / 0.24, 0, 1)[None, :].repeat(n, 0)
    fg, bg = np.array([0.9, 0.2, 0.1]), np.array([0.1, 0.2, 0.9])
    image = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
    trimap = np.where(alpha >= 1, 255, np.where(alpha <= 0, 0, 128)).astype(np.uint8)
    image[20:24, (trimap[0] == 128)] = [0.1, 0.9, 0.1]
    return image, trimap, alpha


def test_confidence_is_high_where_a_mix_explains_the_colour_and_low_where_not():
    image, trimap, _ = _two_tone()
    unk = np.flatnonzero(trimap.ravel() == 128)
    near = np.ones(trimap.size, bool)
    _, conf = _known_to_unknown(image, trimap, unk, near, DEFAULT_PARAMS)
    rows = unk // trimap.shape[1]
    streak = (rows >= 20) & (rows < 24)
    assert np.all(conf[~streak] > 0.7 * DEFAULT_PARAMS.ku_fit_conf)
    assert np.all(conf[streak] < 0.2 * DEFAULT_PARAMS.ku_fit_conf)
    # the paper's confidence (distance of the mixed colours) is as high on the streak
    _, paper = _known_to_unknown(image, trimap, unk, near, replace(DEFAULT_PARAMS, ku_fit=0.0))
    assert paper[streak].mean() > 0.5 * paper[~streak].mean()


def test_mixes_solve_to_their_alpha():
    image, trimap, alpha = _two_tone()
    image[20:24] = image[19]  # no streak
    a = solve_flows(image, trimap, progress=no_progress)
    u = trimap == 128
    assert np.abs(a[u] - alpha[u]).max() < 0.05
