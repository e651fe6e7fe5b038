"""Solve the unknown band tile by tile: bounded memory, both cores, cancellable between tiles.

The image is cut into a grid of square *cores*; every core that holds unknown pixels is solved
as a crop that adds ``margin`` pixels of context on each side, with the registered crop solver
(any backend), and only the core of each crop is kept. Closed-form matting couples pixels at
most two apart, so an unknown region that fits inside one crop with two pixels to spare is
solved exactly; where the band runs across cores, the margin keeps the seams within a stated
tolerance (see ``tests/core/test_tiling.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..executor import parallel_map
from ..progress import CancelToken, ProgressFn, no_progress

CropSolver = Callable[..., np.ndarray]
"""``fn(image float64 (h, w, 3), trimap uint8, *, progress, cancel, x0=None) -> float32 alpha``"""


@dataclass(frozen=True)
class TileParams:
    """How the unknown band is cut. Defaults measured on the alphamatting set (README)."""

    tile: int = 128
    """Side of a core in pixels."""
    margin: int = 12
    """Context added around each core; results are taken from the core only."""
    workers: int = 0
    """Most threads of the core's budget the tiles may use; 0: the whole budget."""
    grow: float = 2.0
    """A crop without known foreground or background grows (doubling its margin) up to this
    many core sides on each side, to find both."""


@dataclass(frozen=True)
class Tile:
    core: tuple[int, int, int, int]
    """(y0, y1, x0, x1) of the pixels this tile decides."""
    crop: tuple[int, int, int, int]
    """(y0, y1, x0, x1) of the crop handed to the solver (core plus margin, clipped)."""


def unknown_mask(trimap: np.ndarray) -> np.ndarray:
    return (trimap != 0) & (trimap != 255)


def plan_tiles(trimap: np.ndarray, params: TileParams = TileParams(),
               bounds: tuple[int, int, int, int] | None = None) -> list[Tile]:
    """Cores (grid of ``params.tile``) that hold unknown pixels, inside ``bounds`` if given."""
    h, w = trimap.shape
    by0, by1, bx0, bx1 = bounds if bounds is not None else (0, h, 0, w)
    t, m = params.tile, params.margin
    unk = unknown_mask(trimap[by0:by1, bx0:bx1])
    if not unk.any():
        return []
    ny, nx = -(-(by1 - by0) // t), -(-(bx1 - bx0) // t)
    # unknown count per grid cell without a full-size copy: pad to the grid and reduce
    padded = np.zeros((ny * t, nx * t), bool)
    padded[:unk.shape[0], :unk.shape[1]] = unk
    cells = padded.reshape(ny, t, nx, t).any(axis=(1, 3))
    tiles = []
    for cy, cx in zip(*np.nonzero(cells)):
        y0, x0 = by0 + cy * t, bx0 + cx * t
        y1, x1 = min(y0 + t, by1), min(x0 + t, bx1)
        tiles.append(Tile((y0, y1, x0, x1),
                          _crop_with_both(trimap, (y0, y1, x0, x1), m, params.grow)))
    return tiles


def _crop_with_both(trimap: np.ndarray, core: tuple[int, int, int, int],
                    margin: int, grow: float = 2.0) -> tuple[int, int, int, int]:
    """Core plus ``margin``, widened (doubling, up to ``grow`` cores or four margins) until it
    holds known foreground *and* background: a crop without one of them has no information."""
    h, w = trimap.shape
    y0, y1, x0, x1 = core
    m = margin
    limit = max(4 * margin, int(grow * max(y1 - y0, x1 - x0)))
    while True:
        crop = (max(y0 - m, 0), min(y1 + m, h), max(x0 - m, 0), min(x1 + m, w))
        if crop == (0, h, 0, w):
            return crop
        view = trimap[crop[0]:crop[1], crop[2]:crop[3]]
        if ((view == 0).any() and (view == 255).any()) or m >= limit:
            return crop
        m = min(max(2 * m, 8), limit)


def solve_tiled(
    image: np.ndarray,
    trimap: np.ndarray,
    solver: CropSolver,
    *,
    params: TileParams = TileParams(),
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    x0: np.ndarray | None = None,
    out: np.ndarray | None = None,
    bounds: tuple[int, int, int, int] | None = None,
) -> np.ndarray:
    """Alpha (float32 (h, w)) of ``image`` (float, (h, w, 3)) over ``trimap``'s unknown band.

    Each tile's crop is converted to float64 on its own, so the whole image may stay float32.
    ``x0`` (float, (h, w)) warm-starts iterative solvers. ``out`` receives the result in place
    (known pixels are only written inside tiles); by default a new array holding the trimap's
    known values. ``bounds`` restricts the work to a window (y0, y1, x0, x1).
    Raises :class:`~matting_studio.core.errors.Cancelled` soon after ``cancel`` fires: no new
    tile starts, running ones finish (each is a fraction of a second).
    """
    if out is None:
        out = (trimap == 255).astype(np.float32)
    tiles = plan_tiles(trimap, params, bounds)
    if not tiles:
        progress(1.0, "solving alpha")
        return out

    def solve(tile: Tile) -> None:
        if cancel is not None:
            cancel.check()
        y0, y1, x0_, x1 = tile.crop
        img = np.ascontiguousarray(image[y0:y1, x0_:x1], np.float64)
        tri = np.ascontiguousarray(trimap[y0:y1, x0_:x1])
        guess = None if x0 is None else np.asarray(x0[y0:y1, x0_:x1], np.float64)
        alpha = solver(img, tri, progress=no_progress, cancel=cancel, x0=guess)
        cy0, cy1, cx0, cx1 = tile.core
        out[cy0:cy1, cx0:cx1] = alpha[cy0 - y0:cy1 - y0, cx0 - x0_:cx1 - x0_]

    progress(0.0, "solving alpha")
    # cores are disjoint, so tiles write to ``out`` from any thread
    parallel_map(solve, tiles, limit=params.workers or None,
                 on_done=lambda done, total: progress(done / total, "solving alpha"))
    return out
