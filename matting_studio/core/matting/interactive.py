"""Live answers to a stroke: re-solve only the region the stroke changed, at preview size.

The GUI calls :func:`resolve_region` with the trimap after the stroke, the alpha on screen and
the stroke's bounding box; it gets back a patch to paste into that alpha. The full-resolution
solve (:func:`~.registry.solve_alpha`) follows in the background and is cancelled by the next
stroke (``CancelToken``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from ..progress import CancelToken, ProgressFn, no_progress
from .multiscale import ScaleParams, colour_line_coefficients, downscale_image, downscale_trimap
from .registry import DEFAULT_BACKEND, solve_alpha
from .tiling import TileParams

PREVIEW_COST: dict[str, float] = {"ifm": 4.0}
"""Cost per pixel of a backend relative to ``cf`` on a preview region (the nearest-neighbour
searches of ifm); :attr:`RegionParams.max_pixels` is divided by it."""

Bounds = tuple[int, int, int, int]
"""(y0, y1, x0, x1), rows then columns, end-exclusive, in full-resolution pixels."""


@dataclass(frozen=True)
class RegionParams:
    margin: int = 32
    """Context (full-resolution pixels) around the stroke that is re-solved and feathered."""
    max_pixels: int = 16_000
    """Largest region solved at full size; larger ones are solved at a reduced (preview) size.
    For ``cf``; backends that cost more per pixel get fewer (:data:`PREVIEW_COST`)."""
    feather: int = 12
    """Width of the blend with the previous alpha at the region's edge."""


@dataclass(frozen=True)
class RegionResult:
    alpha: np.ndarray
    """float32 (y1 - y0, x1 - x0): the new alpha of ``bounds``, ready to paste."""
    bounds: Bounds
    scale: float
    """Reduction used for the solve (1.0: full size)."""

    def paste(self, alpha: np.ndarray) -> np.ndarray:
        """Write the patch into ``alpha`` (full-size float32) in place and return it."""
        y0, y1, x0, x1 = self.bounds
        alpha[y0:y1, x0:x1] = self.alpha
        return alpha


def stroke_bounds(points: Iterable[tuple[float, float]], radius: float,
                  shape: tuple[int, int]) -> Bounds:
    """Bounding box (y0, y1, x0, x1) of a stroke given as (x, y) points and a brush radius."""
    pts = np.asarray(list(points), np.float64).reshape(-1, 2)
    h, w = shape
    x0 = int(np.floor(pts[:, 0].min() - radius))
    x1 = int(np.ceil(pts[:, 0].max() + radius)) + 1
    y0 = int(np.floor(pts[:, 1].min() - radius))
    y1 = int(np.ceil(pts[:, 1].max() + radius)) + 1
    return max(y0, 0), min(y1, h), max(x0, 0), min(x1, w)


def union_bounds(a: Bounds | None, b: Bounds) -> Bounds:
    if a is None:
        return b
    return min(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), max(a[3], b[3])


def resolve_region(
    image: np.ndarray,
    trimap: np.ndarray,
    prev_alpha: np.ndarray,
    bounds: Bounds,
    *,
    backend: str = DEFAULT_BACKEND,
    params: RegionParams = RegionParams(),
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> RegionResult:
    """New alpha for ``bounds`` (+ margin) after an edit of ``trimap`` inside ``bounds``.

    ``image`` float (h, w, 3) in 0..1 (float32 is fine), ``trimap`` uint8 (h, w) *after* the
    stroke, ``prev_alpha`` float (h, w) the alpha before it. The region is ``bounds`` grown by
    ``params.margin``; if it holds more than ``params.max_pixels`` pixels it is solved at a
    reduced size and carried back with the colour-line model. Towards the region's edge the
    result is blended into ``prev_alpha`` over ``params.feather`` pixels (where the image
    border is not the edge), so the patch has no seam. Known pixels take the trimap's value.
    """
    h, w = trimap.shape
    m = params.margin
    y0, y1 = max(bounds[0] - m, 0), min(bounds[1] + m, h)
    x0, x1 = max(bounds[2] - m, 0), min(bounds[3] + m, w)
    region = (y0, y1, x0, x1)
    tri = np.ascontiguousarray(trimap[y0:y1, x0:x1])
    prev = np.asarray(prev_alpha[y0:y1, x0:x1], np.float32)
    img = np.asarray(image[y0:y1, x0:x1], np.float32)
    rh, rw = tri.shape
    unknown = (tri != 0) & (tri != 255)
    known = (tri == 255).astype(np.float32)
    if not unknown.any() or rh < 3 or rw < 3:
        new = np.where(unknown, prev, known).astype(np.float32)
        return RegionResult(_feather(new, prev, region, (h, w), params.feather), region, 1.0)
    budget = params.max_pixels / PREVIEW_COST.get(backend, 1.0)
    scale = max(1.0, float(np.sqrt(rh * rw / budget)))
    one_tile = ScaleParams(max_unknown=10**9, tiles=TileParams(tile=4096, margin=0, workers=1))
    if scale <= 1.0:
        new = solve_alpha(img, tri, backend, progress=progress, cancel=cancel, scale=one_tile,
                          x0=prev)
    else:
        size = (max(3, round(rw / scale)), max(3, round(rh / scale)))
        small = downscale_image(img, size)
        small_tri = downscale_trimap(tri, size)
        small_prev = cv2.resize(prev, size, interpolation=cv2.INTER_AREA)
        small_alpha = solve_alpha(small, small_tri, backend, progress=progress, cancel=cancel,
                                  scale=one_tile, x0=small_prev)
        coef = colour_line_coefficients(small, small_alpha, 1, 1e-5)
        coef = cv2.resize(coef, (rw, rh), interpolation=cv2.INTER_LINEAR)
        new = coef[:, :, 3] + (coef[:, :, :3] * img).sum(axis=2)
        np.clip(new, 0.0, 1.0, out=new)
        new = np.where(unknown, new, known).astype(np.float32)
    return RegionResult(_feather(new, prev, region, (h, w), params.feather), region, scale)


def _feather(new: np.ndarray, prev: np.ndarray, region: Bounds, shape: tuple[int, int],
             width: int) -> np.ndarray:
    """Blend ``new`` into ``prev`` near the region's inner edges (not at the image border)."""
    if width <= 0:
        return new
    y0, y1, x0, x1 = region
    h, w = shape
    rh, rw = new.shape
    wy = np.ones(rh, np.float32)
    wx = np.ones(rw, np.float32)
    ramp = (np.arange(width, dtype=np.float32) + 0.5) / width
    n = min(width, rh)
    if y0 > 0:
        wy[:n] = np.minimum(wy[:n], ramp[:n])
    if y1 < h:
        wy[rh - n:] = np.minimum(wy[rh - n:], ramp[:n][::-1])
    n = min(width, rw)
    if x0 > 0:
        wx[:n] = np.minimum(wx[:n], ramp[:n])
    if x1 < w:
        wx[rw - n:] = np.minimum(wx[rw - n:], ramp[:n][::-1])
    wgt = wy[:, None] * wx[None, :]
    return (wgt * new + (1.0 - wgt) * prev).astype(np.float32)
