"""Bilinear sampling on a separable grid, for images of any shape.

``cv2.remap`` refuses a source or a result of 32767 pixels or more on either side
(``SHRT_MAX``: it works in 16-bit fixed point). A photo the loader accepts can be far wider
or taller than that (e.g. a 100000×64 panorama strip), so :func:`remap_separable` cuts the
result into blocks, each reading only the part of the source it needs: the same pixels as one
``cv2.remap`` call wherever that call works.
"""

from __future__ import annotations

import cv2
import numpy as np

BLOCK = 16384
"""Largest side of one ``cv2.remap`` call (its result and its source crop); below SHRT_MAX."""


def remap_separable(src: np.ndarray, ys: np.ndarray, xs: np.ndarray,
                    block: int | None = None) -> np.ndarray:
    """``src`` sampled bilinearly at every (ys[i], xs[j]) (source pixel coordinates, float32),
    replicating the border: float32-exact ``cv2.remap(src, X, Y, INTER_LINEAR,
    borderMode=BORDER_REPLICATE)`` with ``X[i, j] = xs[j]``, ``Y[i, j] = ys[i]``.

    Result: (len(ys), len(xs)) plus ``src``'s channels, ``src``'s dtype. ``block`` (default
    :data:`BLOCK`) bounds each call's sides.
    """
    block = BLOCK if block is None else block
    ys = np.asarray(ys, np.float32).ravel()
    xs = np.asarray(xs, np.float32).ravel()
    out = np.empty((ys.size, xs.size) + src.shape[2:], src.dtype)
    if out.size:
        _fill(src, ys, xs, out, 0, 0, block)
    return out


def _span(coords: np.ndarray, n: int) -> tuple[int, int]:
    """The source range [lo, hi) that bilinear samples at ``coords`` read (border replicated)."""
    lo = int(np.floor(coords.min()))
    hi = int(np.floor(coords.max())) + 2
    lo = min(max(lo, 0), n - 1)
    hi = min(max(hi, lo + 1), n)
    return lo, hi


def _fill(src: np.ndarray, ys: np.ndarray, xs: np.ndarray, out: np.ndarray, i0: int, j0: int,
          block: int) -> None:
    """Fill out[i0:i0+len(ys), j0:j0+len(xs)], splitting until every piece is small enough."""
    h, w = src.shape[:2]
    r0, r1 = _span(ys, h)
    c0, c1 = _span(xs, w)
    if ys.size > 1 and (ys.size > block or r1 - r0 > block):
        m = ys.size // 2
        _fill(src, ys[:m], xs, out, i0, j0, block)
        _fill(src, ys[m:], xs, out, i0 + m, j0, block)
        return
    if xs.size > 1 and (xs.size > block or c1 - c0 > block):
        m = xs.size // 2
        _fill(src, ys, xs[:m], out, i0, j0, block)
        _fill(src, ys, xs[m:], out, i0, j0 + m, block)
        return
    # Shifting by whole pixels keeps every coordinate's fraction exactly (float32 subtraction
    # of an integer of the same magnitude is exact), so the crop gives the same weights.
    my = np.ascontiguousarray(np.broadcast_to((ys - np.float32(r0))[:, None],
                                              (ys.size, xs.size)))
    mx = np.ascontiguousarray(np.broadcast_to((xs - np.float32(c0))[None, :],
                                              (ys.size, xs.size)))
    piece = cv2.remap(src[r0:r1, c0:c1], mx, my, cv2.INTER_LINEAR,
                      borderMode=cv2.BORDER_REPLICATE)
    out[i0:i0 + ys.size, j0:j0 + xs.size] = piece.reshape(out[i0:i0 + ys.size,
                                                               j0:j0 + xs.size].shape)
