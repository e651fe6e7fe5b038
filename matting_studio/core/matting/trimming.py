"""Trimap trimming: unknown pixels that a nearby known pixel of the same colour decides.

The edge-based trimming of Shahrian et al., "Improving Image Matting using Comprehensive
Sampling Sets" (CVPR 2013), which information-flow matting (Aksoy et al. 2017) applies to its
known-to-unknown estimate. In rounds ``r = 1 … rounds`` every unknown pixel within ``r``
pixels (a square window) of a known one takes the label of the nearest known pixel in that
window whose colour differs by less than a threshold; the threshold falls from ``colour_hi``
to ``colour_lo`` as the windows grow, so a label travels far only through nearly identical
colours. Each round reads the labels the previous round left.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class TrimParams:
    """How far and through which colour differences known labels spread."""

    rounds: int = 9
    """Rounds of spreading; round r searches a (2r+1)² window, so a label may travel up to
    1 + 2 + … + rounds pixels through pixels that keep matching."""
    colour_hi: float = 9.0 / 256.0
    """The colour threshold (Euclidean distance, RGB in 0..1) starts here and falls by
    ``(colour_hi − colour_lo) / rounds`` each round, reaching ``colour_lo`` in the last one
    (Shahrian et al.'s values): only a colour the known pixel truly shares counts, and the
    farther the label travels, the closer the match must be."""
    colour_lo: float = 1.0 / 256.0


def _offsets(radius: int, stride: int) -> np.ndarray:
    """Flat offsets (row stride ``stride``) of a (2r+1)² window without its centre, nearest
    first."""
    d = np.arange(-radius, radius + 1)
    dy, dx = np.meshgrid(d, d, indexing="ij")
    dy, dx = dy.ravel(), dx.ravel()
    order = np.argsort(dy * dy + dx * dx, kind="stable")[1:]  # [0] is the centre
    return dy[order] * stride + dx[order]


def edge_trim(image: np.ndarray, trimap: np.ndarray, params: TrimParams = TrimParams()
              ) -> np.ndarray:
    """Copy of ``trimap`` (uint8, 0 and 255 known, anything else unknown) in which the unknown
    pixels that a known neighbour of the same colour decides are 0 or 255."""
    h, w = trimap.shape
    pad = params.rounds
    # padded by the largest radius: a window never leaves the arrays, the padding is unknown
    tri = cv2.copyMakeBorder(np.asarray(trimap, np.uint8), pad, pad, pad, pad,
                             cv2.BORDER_CONSTANT, value=128)
    colours = cv2.copyMakeBorder(np.asarray(image, np.float32), pad, pad, pad, pad,
                                 cv2.BORDER_REPLICATE).reshape(-1, 3)
    flat = tri.reshape(-1)
    for r in range(1, params.rounds + 1):
        thresh = params.colour_hi - r * (params.colour_hi - params.colour_lo) / params.rounds
        known = (tri == 0) | (tri == 255)
        near = cv2.dilate(known.view(np.uint8), np.ones((2 * r + 1,) * 2, np.uint8))
        cand = np.flatnonzero((near.view(bool) & ~known)[pad:pad + h, pad:pad + w].ravel())
        if cand.size == 0:
            break
        cy, cx = np.divmod(cand, w)
        cand = (cy + pad) * tri.shape[1] + cx + pad  # into the padded arrays
        open_idx = np.arange(cand.size)
        label = np.zeros(cand.size, np.uint8)
        for off in _offsets(r, tri.shape[1]):
            nb = cand[open_idx] + off
            lab = flat[nb]
            ok = np.flatnonzero((lab == 0) | (lab == 255))
            if ok.size == 0:
                continue
            diff = colours[nb[ok]] - colours[cand[open_idx[ok]]]
            hit = ok[np.einsum("nc,nc->n", diff, diff) < thresh * thresh]
            if hit.size:
                label[open_idx[hit]] = lab[hit]
                open_idx = np.delete(open_idx, hit)
                if open_idx.size == 0:
                    break
        decided = np.ones(cand.size, bool)
        decided[open_idx] = False
        flat[cand[decided]] = label[decided]  # the round's labels, read by the next round
    return np.ascontiguousarray(tri[pad:pad + h, pad:pad + w])
