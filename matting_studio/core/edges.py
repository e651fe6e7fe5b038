"""Edge adjustments after matting, as in Photoshop's Select and Mask: smooth, feather,
contrast, shift edge — one pure function of the alpha, :func:`adjust_edges`.

Applied in the one solve path (:func:`~.solve.finish_alpha`), so previews, full solves, the
command line and the editor give the same matte; foreground colours are then estimated for the
adjusted alpha. The steps, in Photoshop's order:

1. **smooth** ``S`` px: rounds off jagged outlines. The matte is blurred (a Gaussian reaching
   ``S`` pixels, σ = S / 3) and the blurred edge is steepened back to about a pixel wide.
2. **feather** ``F`` px: softens the edge: a Gaussian blur reaching ``F`` pixels (σ = F / 3).
3. **contrast** ``C`` %: steepens soft transitions around α = ½; 100 % gives a hard edge.
4. **shift edge** ``E`` px: grows the matte by ``E`` pixels (grey-level dilation by a disk),
   or shrinks it (erosion) when negative.

Cost: blurs and contrast run over the whole matte (OpenCV's filters, three box blurs for a
large σ: the cost does not grow with the radius). The shift is the expensive step (its disk
is the union of six rectangles, each an O(1)-per-pixel min/max filter, within 2 % of the
radius), and it only changes pixels within its reach of the matte's soft parts: with a shift,
:func:`adjust_edges` finds the 64-pixel blocks where the matte is not flat 0 or 1 and works on
tiles around them only, spread over the core's thread budget (the result is the same as over
the whole matte). ``benchmarks/bench_edges.py`` measures both at 12 and 24 MP.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from . import limits
from .executor import parallel_map

BLOCK = 64
"""Side of the blocks that are checked for flatness (all 0 or all 1)."""
TILE = 256
"""Side of the tiles worked on (grown when the reach is large, to keep the halo small)."""


@dataclass(frozen=True)
class EdgeParams:
    """Edge adjustments (all zero: the matte is left as solved). Checked when made against
    :mod:`.limits` (a bad value is a :class:`~.limits.LimitError` naming the field)."""

    smooth: float = 0.0
    """Pixels: jagged outlines are rounded off up to about this size."""
    feather: float = 0.0
    """Pixels: reach of the Gaussian blur that softens the edge."""
    contrast: float = 0.0
    """Percent: 0 leaves soft edges as they are, 100 makes them hard."""
    shift: int = 0
    """Pixels: the edge moves out (positive, grows the subject) or in (negative)."""

    def __post_init__(self) -> None:
        checks = (("smooth", limits.EDGE_SMOOTH), ("feather", limits.EDGE_FEATHER),
                  ("contrast", limits.EDGE_CONTRAST), ("shift", limits.EDGE_SHIFT))
        for name, limit in checks:
            object.__setattr__(self, name, limit.check(getattr(self, name), name))

    @property
    def identity(self) -> bool:
        """True when the adjustments leave every matte unchanged."""
        return not (self.smooth or self.feather or self.contrast or self.shift)

    @property
    def reach(self) -> int:
        """How far (pixels) a change of the matte can spread through the adjustments: a
        preview that re-solved a region must repaint that region grown by this much."""
        return _reach(self.smooth) + _reach(self.feather) + abs(self.shift)


def adjust_edges(alpha: np.ndarray, params: EdgeParams) -> np.ndarray:
    """The matte with ``params`` applied: float32 (h, w) in 0..1, a new array (``alpha`` is
    not modified); ``alpha`` itself (no copy) when ``params.identity``."""
    if params.identity:
        return alpha
    a = np.asarray(alpha, np.float32)
    if a.ndim != 2:
        raise ValueError("the matte must be a 2-D array")
    h, w = a.shape
    if h == 0 or w == 0 or not params.shift:
        return _chain(a, params)  # whole-matte filters beat tiles (and their search) here
    out = a.copy()
    reach = params.reach
    tiles = _active_tiles(a, reach)
    if not tiles:
        return out

    def run(tile: tuple[int, int, int, int]) -> None:
        y0, y1, x0, x1 = tile
        wy0, wy1 = max(y0 - reach, 0), min(y1 + reach, h)
        wx0, wx1 = max(x0 - reach, 0), min(x1 + reach, w)
        window = _chain(a[wy0:wy1, wx0:wx1], params)
        out[y0:y1, x0:x1] = window[y0 - wy0:y1 - wy0, x0 - wx0:x1 - wx0]

    parallel_map(run, tiles)
    return out


def adjust_edges_whole(alpha: np.ndarray, params: EdgeParams) -> np.ndarray:
    """The same as :func:`adjust_edges`, over the whole matte at once (the reference the
    tiled version is tested against; slower on large photos)."""
    if params.identity:
        return alpha
    return _chain(np.asarray(alpha, np.float32), params)


# --------------------------------------------------------------------------------------------


def _reach(px: float) -> int:
    return int(math.ceil(px)) if px > 0 else 0


def _active_tiles(a: np.ndarray, reach: int) -> list[tuple[int, int, int, int]]:
    """(y0, y1, x0, x1) of the tiles with a pixel within ``reach`` of a block that is not flat
    0 or flat 1: everywhere else every step leaves the matte as it is."""
    h, w = a.shape
    bh, bw = -(-h // BLOCK), -(-w // BLOCK)
    lo = np.empty((bh, bw), np.float32)
    hi = np.empty((bh, bw), np.float32)
    pad = bw * BLOCK - w

    def band(by: int) -> None:  # rows of a block band: contiguous reductions, then per block
        rows = a[by * BLOCK:(by + 1) * BLOCK]
        for red, dst in ((np.min, lo), (np.max, hi)):
            v = red(rows, axis=0)
            if pad:
                v = np.concatenate([v, np.full(pad, v[-1], np.float32)])
            dst[by] = red(v.reshape(bw, BLOCK), axis=1)

    parallel_map(band, range(bh))
    flat = (lo == hi) & ((lo == 0.0) | (lo == 1.0))
    active = (~flat).astype(np.uint8)
    grow = -(-reach // BLOCK)
    if grow:
        active = cv2.dilate(active, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8),
                            borderType=cv2.BORDER_CONSTANT, borderValue=0)
    if not active.any():
        return []
    step = max(TILE, -(-4 * reach // BLOCK) * BLOCK) // BLOCK  # blocks per tile side
    tiles = []
    for ty in range(0, bh, step):
        for tx in range(0, bw, step):
            part = active[ty:ty + step, tx:tx + step]
            rows, cols = np.flatnonzero(part.any(axis=1)), np.flatnonzero(part.any(axis=0))
            if rows.size:  # the tile, cut down to its active blocks
                tiles.append(((ty + rows[0]) * BLOCK, min((ty + rows[-1] + 1) * BLOCK, h),
                              (tx + cols[0]) * BLOCK, min((tx + cols[-1] + 1) * BLOCK, w)))
    return tiles


def _chain(a: np.ndarray, p: EdgeParams) -> np.ndarray:
    """The four steps on one window (or the whole matte)."""
    out = np.array(a, np.float32, copy=True)
    if p.smooth:
        sigma = p.smooth / 3.0
        out = _blur(out, sigma, _reach(p.smooth))
        gain = max(1.0, sigma * math.sqrt(2.0 * math.pi))
        _steepen(out, gain)
    if p.feather:
        out = _blur(out, p.feather / 3.0, _reach(p.feather))
    if p.contrast:
        if p.contrast >= 100.0:
            out = (out >= 0.5).astype(np.float32)
        else:
            _steepen(out, 1.0 / (1.0 - p.contrast / 100.0))
    if p.shift:
        out = _shift(out, p.shift)
    np.clip(out, 0.0, 1.0, out=out)
    return out


def _steepen(a: np.ndarray, gain: float) -> None:
    """In place: ``clip(0.5 + (a − 0.5) · gain)``."""
    a -= np.float32(0.5)
    a *= np.float32(gain)
    a += np.float32(0.5)
    np.clip(a, 0.0, 1.0, out=a)


SMALL_SIGMA = 2.0
"""Up to this σ an exact Gaussian kernel; above it three box blurs (cost independent of σ)."""


def _blur(a: np.ndarray, sigma: float, reach: int) -> np.ndarray:
    """Gaussian-like blur of σ whose footprint stays within ``reach`` pixels (replicated
    borders, so a window with a halo of ``reach`` gives the same pixels as the whole)."""
    if sigma <= 0 or reach <= 0:
        return a
    if sigma <= SMALL_SIGMA:
        k = 2 * reach + 1
        return cv2.GaussianBlur(a, (k, k), sigma, borderType=cv2.BORDER_REPLICATE)
    out = a
    for r in _box_radii(sigma, reach):
        if r > 0:
            out = cv2.blur(out, (2 * r + 1, 2 * r + 1), borderType=cv2.BORDER_REPLICATE)
    return out


def _box_radii(sigma: float, reach: int) -> list[int]:
    """Radii of three box blurs whose sum of variances is about σ² (Wells' method), their
    radii adding up to at most ``reach``."""
    n = 3
    ideal = math.sqrt(12.0 * sigma * sigma / n + 1.0)  # ideal box width
    wl = int(math.floor(ideal))
    if wl % 2 == 0:
        wl -= 1
    wu = wl + 2
    m = round((12 * sigma * sigma - n * wl * wl - 4 * n * wl - 3 * n) / (-4 * wl - 4))
    radii = [(wl if i < m else wu) // 2 for i in range(n)]
    while sum(radii) > reach:
        radii[radii.index(max(radii))] -= 1
    return radii


SHIFT_ANGLES = 6
"""Rectangles whose union stands for the disk of a shift (boundary within 2 % of its radius)."""


def _shift(a: np.ndarray, px: int) -> np.ndarray:
    """Grey-level dilation (px > 0) or erosion (px < 0) by a disk of radius |px|."""
    r = abs(px)
    op = cv2.dilate if px > 0 else cv2.erode
    if r <= 3:
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        return op(a, k, borderType=cv2.BORDER_REPLICATE)
    best = np.maximum if px > 0 else np.minimum
    out = None
    for i in range(SHIFT_ANGLES):
        theta = (i + 0.5) * (math.pi / 2) / SHIFT_ANGLES
        hx, hy = int(round(r * math.cos(theta))), int(round(r * math.sin(theta)))
        k = np.ones((2 * hy + 1, 2 * hx + 1), np.uint8)
        one = op(a, k, borderType=cv2.BORDER_REPLICATE)
        out = one if out is None else best(out, one, out=out)
    return out
