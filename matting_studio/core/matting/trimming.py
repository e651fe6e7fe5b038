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


CHUNK = 512
"""Candidates tested against their whole window at once: their (candidates × window)
temporaries stay small enough to be reused from one chunk to the next."""


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
                                 cv2.BORDER_REPLICATE)
    planes = [np.ascontiguousarray(colours[:, :, c]).reshape(-1) for c in range(3)]
    flat = tri.reshape(-1)
    index = np.int32 if flat.size < 2**31 else np.intp
    for r in range(1, params.rounds + 1):
        thresh = params.colour_hi - r * (params.colour_hi - params.colour_lo) / params.rounds
        known = (tri == 0) | (tri == 255)
        near = cv2.dilate(known.view(np.uint8), np.ones((2 * r + 1,) * 2, np.uint8))
        cand = np.flatnonzero((near.view(bool) & ~known)[pad:pad + h, pad:pad + w].ravel())
        if cand.size == 0:
            break
        cy, cx = np.divmod(cand, w)
        cand = ((cy + pad) * tri.shape[1] + cx + pad).astype(index)  # into the padded arrays
        window = _offsets(r, tri.shape[1]).astype(index)
        limit = np.float32(thresh * thresh)
        decided = np.empty(cand.size, bool)
        label = np.empty(cand.size, np.uint8)
        for s0 in range(0, cand.size, CHUNK):
            decided[s0:s0 + CHUNK], label[s0:s0 + CHUNK] = _nearest_match(
                flat, planes, cand[s0:s0 + CHUNK], window, limit)
        flat[cand[decided]] = label[decided]  # the round's labels, read by the next round
    return np.ascontiguousarray(tri[pad:pad + h, pad:pad + w])


def _nearest_match(labels: np.ndarray, planes: list[np.ndarray], cand: np.ndarray,
                   window: np.ndarray, limit: np.float32) -> tuple[np.ndarray, np.ndarray]:
    """(found, label) per candidate: whether a known pixel of its ``window`` (flat offsets,
    nearest first) has a colour within squared distance ``limit`` of its own, and the label of
    the nearest such pixel. All of a candidate's window is tested at once; the first match
    along the window's order is the nearest."""
    nb = cand[:, None] + window[None, :]
    lab = labels[nb]
    match = (lab == 0) | (lab == 255)
    dist = None
    for p in planes:
        d = p[nb]
        d -= p[cand][:, None]
        d *= d
        dist = d if dist is None else np.add(dist, d, out=dist)
    match &= dist < limit
    first = match.argmax(axis=1)
    rows = np.arange(cand.size)
    return match[rows, first], lab[rows, first]
