"""Coarse-to-fine matting: solve a reduced copy of the band, carry it to full size by the
local colour-line model, so that time and memory follow a budget, not the megapixels.

Closed-form matting assumes alpha is an affine function of colour in every small window,
``α ≈ aᵀI + b``. Once alpha is known at a reduced size, those coefficients are estimated
there (a guided-filter regression, He et al. 2010/2015) and interpolated to full size, where
``aᵀI + b`` is evaluated on the full-resolution colours: hair and edges keep full-resolution
detail although the linear system was solved on fewer pixels. Everything at full size runs in
blocks of :data:`BAND_BLOCK` pixels, so memory stays a few bytes per pixel beyond the image
itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ..executor import parallel_map
from ..progress import CancelToken, ProgressFn, no_progress, sub_progress
from ..resample import remap_separable
from .tiling import CropSolver, TileParams, solve_tiled, unknown_mask

BAND_BLOCK = 128
"""Side of the blocks the full-size evaluation of the band skips when they hold no unknown
pixel (rows of blocks go to the core's threads)."""
MIN_REDUCTION = 1.25
"""Smaller reductions are not made: they lose detail for little time (time ∝ 1/factor²)."""


@dataclass(frozen=True)
class ScaleParams:
    """When and how to go coarse-to-fine."""

    max_unknown: int = 80_000
    """Unknown pixels solved at full size; beyond it the band is solved at a reduced size."""
    min_pixels: int = 0
    """...but never on an image reduced below this many pixels (0: no floor; ``ifm`` gets
    0.5 MP through ``registry.MIN_PIXELS``): below about half a megapixel the reduced image no
    longer holds the hair and fur that matting is about (ADR 0008)."""
    floor_max_pixels: int = 1_500_000
    """...and only on photos up to this many pixels. A camera-size photo is reduced to the
    budget: its detail is spread over more pixels, and the floor would make the solve grow
    with the megapixels (ADR 0009)."""
    hard_max_unknown: int = 400_000
    """Beyond this many unknown pixels the image is reduced whatever ``min_pixels`` says
    (bounds time and memory for a small image with a huge unknown region)."""
    guide_radius: int = 1
    """Window radius (coarse pixels) of the colour-line regression used to upsample."""
    guide_eps: float = 1e-5
    """Regularisation of that regression (colours in 0..1)."""
    tiles: TileParams = field(default_factory=TileParams)


def coarse_factor(n_unknown: int, params: ScaleParams, n_pixels: int | None = None) -> float:
    """Downscale factor (≥ 1) that brings ``n_unknown`` pixels to the budget, keeping at least
    ``params.min_pixels`` of an ``n_pixels`` image (if given) of at most
    ``params.floor_max_pixels``, unless that leaves more than ``params.hard_max_unknown``
    unknowns."""
    if n_unknown <= params.max_unknown:
        return 1.0
    factor = float(np.sqrt(n_unknown / params.max_unknown))
    if (n_pixels is not None and params.min_pixels > 0
            and n_pixels <= params.floor_max_pixels):
        factor = min(factor, float(np.sqrt(max(n_pixels / params.min_pixels, 1.0))))
        if factor < MIN_REDUCTION:
            factor = 1.0
        factor = max(factor, float(np.sqrt(n_unknown / params.hard_max_unknown)))
    return max(1.0, factor)


def downscale_trimap(trimap: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A reduced trimap (``size`` = (w, h)): known only where every covered pixel is known."""
    out = np.full((size[1], size[0]), 128, np.uint8)
    tri = np.ascontiguousarray(trimap, np.uint8)
    for value in (0, 255):
        # 255 where the trimap says value, else 0 (cv2.compare: one pass, no temporaries)
        m = cv2.resize(cv2.compare(tri, value, cv2.CMP_EQ), size, interpolation=cv2.INTER_AREA)
        out[m == 255] = value
    return out


def downscale_image(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Area-averaged float32 copy of ``image`` at ``size`` = (w, h), converted in strips."""
    img = image if image.dtype == np.float32 else np.asarray(image, np.float32)
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)


def _box(x: np.ndarray, r: int) -> np.ndarray:
    return cv2.boxFilter(x, -1, (2 * r + 1, 2 * r + 1), borderType=cv2.BORDER_REFLECT)


def colour_line_coefficients(image: np.ndarray, alpha: np.ndarray, radius: int,
                             eps: float) -> np.ndarray:
    """Per-pixel (a_r, a_g, a_b, b), float32 (h, w, 4), with ``α ≈ aᵀI + b`` locally.

    A guided-filter regression of ``alpha`` on the colours of ``image`` over
    (2·radius+1)² windows, then averaged over the windows covering each pixel.
    """
    # float32 is safe here: variances are regularised by eps ≥ 1e-5 ≫ float32 rounding
    I = np.asarray(image, np.float32)
    p = np.asarray(alpha, np.float32)
    eps = np.float32(eps)
    mean_i = [_box(np.ascontiguousarray(I[:, :, c]), radius) for c in range(3)]
    mean_p = _box(p, radius)
    cov_ip = [_box(I[:, :, c] * p, radius) - mean_i[c] * mean_p for c in range(3)]
    s = {}
    for a in range(3):
        for b in range(a, 3):
            s[a, b] = _box(I[:, :, a] * I[:, :, b], radius) - mean_i[a] * mean_i[b]
    s00, s01, s02 = s[0, 0] + eps, s[0, 1], s[0, 2]
    s11, s12, s22 = s[1, 1] + eps, s[1, 2], s[2, 2] + eps
    i00 = s11 * s22 - s12 * s12
    i01 = s02 * s12 - s01 * s22
    i02 = s01 * s12 - s02 * s11
    i11 = s00 * s22 - s02 * s02
    i12 = s01 * s02 - s00 * s12
    i22 = s00 * s11 - s01 * s01
    det = s00 * i00 + s01 * i01 + s02 * i02
    a0 = (i00 * cov_ip[0] + i01 * cov_ip[1] + i02 * cov_ip[2]) / det
    a1 = (i01 * cov_ip[0] + i11 * cov_ip[1] + i12 * cov_ip[2]) / det
    a2 = (i02 * cov_ip[0] + i12 * cov_ip[1] + i22 * cov_ip[2]) / det
    b = mean_p - a0 * mean_i[0] - a1 * mean_i[1] - a2 * mean_i[2]
    coef = np.stack([_box(a0, radius), _box(a1, radius), _box(a2, radius), _box(b, radius)],
                    axis=2)
    return coef.astype(np.float32)


def _runs(columns: np.ndarray, block: int) -> list[tuple[int, int]]:
    """[start, end) column ranges covering every True of ``columns``: the blocks of ``block``
    columns that hold one, neighbouring blocks merged, each range trimmed to its first and
    last True."""
    n = columns.size
    blocks = -(-n // block)
    padded = np.zeros(blocks * block, bool)
    padded[:n] = columns
    active = padded.reshape(blocks, block).any(axis=1)
    edges = np.flatnonzero(np.diff(np.concatenate([[False], active, [False]]).view(np.int8)))
    runs = []
    for start, end in zip(edges[::2] * block, edges[1::2] * block):
        cols = np.flatnonzero(columns[start:end])
        runs.append((int(start + cols[0]), int(start + cols[-1]) + 1))
    return runs


def upsample_alpha(
    coef: np.ndarray, image: np.ndarray, trimap: np.ndarray, out: np.ndarray,
    cancel: CancelToken | None = None, progress: ProgressFn = no_progress,
) -> np.ndarray:
    """Evaluate the interpolated coefficients on full-size colours, on unknown pixels only.

    ``out`` (float32 (h, w)) holds the known values already and receives the band.
    """
    h, w = trimap.shape
    hc, wc = coef.shape[:2]
    sx, sy = wc / w, hc / h
    map_x_row = ((np.arange(w, dtype=np.float32) + 0.5) * sx - 0.5).astype(np.float32)
    b = BAND_BLOCK

    def band(y0: int) -> None:
        if cancel is not None:
            cancel.check()
        y1 = min(y0 + b, h)
        unk = unknown_mask(trimap[y0:y1])
        rows = np.flatnonzero(unk.any(axis=1))
        if rows.size == 0:
            return
        r0, r1 = y0 + rows[0], y0 + rows[-1] + 1
        map_y = ((np.arange(r0, r1, dtype=np.float32) + 0.5) * sy - 0.5).astype(np.float32)
        for c0, c1 in _runs(unk.any(axis=0), b):
            # the coefficients are sampled, and the band evaluated, only in runs of blocks
            # that hold unknown pixels (a thin band crosses few of them)
            c = remap_separable(coef, map_y, map_x_row[c0:c1])
            img = np.asarray(image[r0:r1, c0:c1], np.float32)
            a = c[:, :, 3]
            a += c[:, :, 0] * img[:, :, 0]
            a += c[:, :, 1] * img[:, :, 1]
            a += c[:, :, 2] * img[:, :, 2]
            np.clip(a, 0.0, 1.0, out=a)
            u = unk[r0 - y0:r1 - y0, c0:c1]
            np.copyto(out[r0:r1, c0:c1], a, where=u)

    # bands write disjoint rows, and OpenCV and numpy release the GIL
    parallel_map(band, range(0, h, b),
                 on_done=lambda done, total: progress(done / total, "refining at full size"))
    return out


def solve_multiscale(
    image: np.ndarray,
    trimap: np.ndarray,
    solver: CropSolver,
    *,
    params: ScaleParams = ScaleParams(),
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    x0: np.ndarray | None = None,
) -> np.ndarray:
    """Alpha (float32 (h, w), 0..1) over ``trimap``'s unknown band, within the budget.

    With at most ``params.max_unknown`` unknown pixels the band is solved tile by tile at full
    size (:func:`~.tiling.solve_tiled`). Otherwise the image and trimap are reduced by
    :func:`coarse_factor`, solved there tile by tile, and brought back to full size with
    :func:`colour_line_coefficients` + :func:`upsample_alpha`. Known pixels keep their trimap
    value exactly.
    """
    h, w = trimap.shape
    n_unknown = int(np.count_nonzero(unknown_mask(trimap)))
    factor = coarse_factor(n_unknown, params, h * w)
    out = (trimap == 255).astype(np.float32)
    if factor <= 1.0:
        return solve_tiled(image, trimap, solver, params=params.tiles, progress=progress,
                           cancel=cancel, x0=x0, out=out)
    size = (max(3, round(w / factor)), max(3, round(h / factor)))
    small = downscale_image(image, size)
    small_tri = downscale_trimap(trimap, size)
    small_x0 = None
    if x0 is not None:
        small_x0 = cv2.resize(np.asarray(x0, np.float32), size, interpolation=cv2.INTER_AREA)
    if cancel is not None:
        cancel.check()
    small_alpha = solve_tiled(small, small_tri, solver, params=params.tiles,
                              progress=sub_progress(progress, 0.0, 0.85), cancel=cancel,
                              x0=small_x0)
    coef = colour_line_coefficients(small, small_alpha, params.guide_radius, params.guide_eps)
    return upsample_alpha(coef, image, trimap, out, cancel, sub_progress(progress, 0.85, 1.0))
