"""Foreground colour estimation, so that cut-out edges carry no halo of the old background.

Blur-fusion estimator (Forte & Pitié, "Approximate fast foreground colour estimation",
ICIP 2021): local means of the foreground and background colours, weighted by alpha, are
corrected once by the compositing equation, at a wide and then a narrow radius. It is a handful
of box filters per pass, so it runs in strips over the rows that hold semi-transparent pixels:
time and memory follow the band, not the megapixels (24 MP in a few hundred MB).
"""

from __future__ import annotations

import cv2
import numpy as np

from .executor import parallel_map
from .progress import CancelToken, ProgressFn, no_progress
from .resample import remap_separable

EDGE_MARGIN = 8
"""Pixels around the semi-transparent band whose colours are re-estimated."""
RADII = (90, 6)
"""Blur-fusion radii (the paper's two passes)."""
STRIP = 512
TILE = 256
"""Side of the full-size tiles of the narrow pass (only tiles near soft pixels are computed)."""
SOFT = 1e-3


def _blur(x: np.ndarray, r: int) -> np.ndarray:
    return cv2.blur(x, (2 * r + 1, 2 * r + 1), borderType=cv2.BORDER_REFLECT)


def blur_fusion(image: np.ndarray, alpha: np.ndarray, radii: tuple[int, ...] | None = None,
                start: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Foreground colours of one crop (float32 (h, w, 3)); ``image`` and ``alpha`` in 0..1.

    All passes at full size; ``start`` = (F, B) from an earlier pass (default: the image)."""
    img = np.asarray(image, np.float32)
    a = np.asarray(alpha, np.float32)[:, :, None]
    fg, bg = (img.copy(), img.copy()) if start is None else start
    na = 1.0 - a
    tiny = np.float32(1e-5)
    for r in RADII if radii is None else radii:
        fa = _blur(fg * a, r)
        fa /= _blur(a, r)[:, :, None] + tiny
        bb = _blur(bg * na, r)
        bb /= _blur(na, r)[:, :, None] + tiny
        err = img - a * fa - na * bb
        fg = fa + a * err
        bg = bb + na * err
        np.clip(fg, 0.0, 1.0, out=fg)
        np.clip(bg, 0.0, 1.0, out=bg)
    return fg


LOW_RES = 4
"""The wide first pass works on a copy reduced this many times (its blur is 90 px anyway)."""


def _sample(lows: tuple[np.ndarray, ...], rows: tuple[int, int], cols: tuple[int, int],
            factor: float, origin: tuple[int, int]) -> list[np.ndarray]:
    """Bilinear samples of each of ``lows`` at full-size pixel centres rows × cols (absolute
    coords)."""
    oy, ox = origin
    ys = ((np.arange(*rows, dtype=np.float32) - oy + 0.5) / factor - 0.5)
    xs = ((np.arange(*cols, dtype=np.float32) - ox + 0.5) / factor - 0.5)
    return [remap_separable(low, ys, xs) for low in lows]


def _rep3(x: np.ndarray) -> np.ndarray:
    """(h, w) → contiguous (h, w, 3). numpy broadcasts (h, w, 1) against (h, w, 3) with an inner
    loop of 3 elements: repeating the plane once makes the element-wise passes several times faster."""
    return cv2.merge((x, x, x))


def _correct(img: np.ndarray, a: np.ndarray, fa: np.ndarray, bb: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    a3 = _rep3(a)
    na = 1.0 - a3
    err = img - a3 * fa - na * bb
    fg = fa + a3 * err
    np.clip(fg, 0.0, 1.0, out=fg)
    bg = bb + na * err
    np.clip(bg, 0.0, 1.0, out=bg)
    return fg, bg


def estimate_foreground(
    image: np.ndarray, alpha: np.ndarray, cancel: CancelToken | None = None,
    progress: ProgressFn = no_progress, out8: np.ndarray | None = None,
    in_place: bool = False,
) -> np.ndarray:
    """Foreground colours F (float32 (h, w, 3), 0..1) such that image ≈ αF + (1 − α)B.

    ``out8``: the image in 8 bits (uint8 (h, w, 3), rounded as :func:`to_u8` does), for a
    caller that shows the colours rather than exports them: the re-estimated tiles are
    written into it in 8 bits and it is returned, without a float copy of the image.

    ``in_place``: ``image`` itself becomes F and is returned (if it is a writable float32
    array; otherwise a copy is made as usual), for a caller that holds the photo only to
    export this cut-out: no full-size copy (288 MB at 24 MP). The tiles are written once all
    are computed, so each still reads the photo's own colours around it and F is the same as
    without ``in_place``.

    Only pixels near semi-transparent ones are re-estimated, tile by tile; elsewhere F is
    the image itself, which is exact where α = 1 and invisible where α = 0. The wide pass
    (radius ``RADII[0]``) runs on a copy reduced :data:`LOW_RES` times (its local means are
    smooth), the narrow one at full size.
    """
    img = np.asarray(image, np.float32)
    a = np.asarray(alpha, np.float32)
    if out8 is not None and (out8.dtype != np.uint8 or out8.shape != img.shape):
        raise ValueError(f"out8 must be uint8 {img.shape}, got {out8.dtype} {out8.shape}")
    in_place = in_place and out8 is None and img is image and img.flags.writeable
    fg = out8 if out8 is not None else img if in_place else img.copy()
    h, w = a.shape
    soft = (a > SOFT) & (a < 1.0 - SOFT)
    row_any = soft.any(axis=1)
    rows = np.flatnonzero(row_any)
    if rows.size == 0:
        return fg
    cols = np.flatnonzero(soft.any(axis=0))
    x0, x1 = max(cols[0] - EDGE_MARGIN, 0), min(cols[-1] + EDGE_MARGIN + 1, w)
    wide, narrow = RADII[0], RADII[-1]
    y_first, y_last = max(rows[0] - EDGE_MARGIN, 0), min(rows[-1] + EDGE_MARGIN + 1, h)
    # wide pass: local means on a reduced copy of the band's box (+ the blur's reach); the
    # products I·α are formed after reduction (a 90-pixel mean does not see the difference)
    d = LOW_RES
    by0, by1 = max(y_first - wide - narrow, 0), min(y_last + wide + narrow, h)
    bx0, bx1 = max(x0 - wide - narrow, 0), min(x1 + wide + narrow, w)
    lh, lw = -(-(by1 - by0) // d), -(-(bx1 - bx0) // d)
    low = np.empty((lh, lw, 4), np.float32)
    step = STRIP - STRIP % d
    for y0 in range(by0, by1, step):
        if cancel is not None:
            cancel.check()
        y1 = min(y0 + step, by1)
        ly0, ly1 = (y0 - by0) // d, -(-(y1 - by0) // d)
        low[ly0:ly1, :, :3] = cv2.resize(img[y0:y1, bx0:bx1], (lw, ly1 - ly0),
                                         interpolation=cv2.INTER_AREA)
        low[ly0:ly1, :, 3] = cv2.resize(a[y0:y1, bx0:bx1], (lw, ly1 - ly0),
                                        interpolation=cv2.INTER_AREA)
    low_f, low_b = _wide_means(low, max(1, round(wide / d)))
    del low
    # narrow pass at full size, only in tiles that hold semi-transparent pixels
    ctx = narrow + 1
    t = TILE
    ny, nx = -(-(y_last - y_first) // t), -(-(x1 - x0) // t)
    padded = np.zeros((ny * t, nx * t), bool)
    padded[:y_last - y_first, :x1 - x0] = soft[y_first:y_last, x0:x1]
    cells = padded.reshape(ny, t, nx, t).any(axis=(1, 3))
    # a tile also needs its neighbours' soft pixels within EDGE_MARGIN: dilate the grid
    cells = cv2.dilate(cells.view(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    todo = list(zip(*np.nonzero(cells)))
    later = []  # in place: (tile, colours), written once every tile has read the photo

    def one_tile(cell: tuple[int, int]) -> None:
        if cancel is not None:
            cancel.check()
        cy, cx = cell
        ty0, tx0 = y_first + cy * t, x0 + cx * t
        ty1, tx1 = min(ty0 + t, y_last), min(tx0 + t, x1)
        near = soft[max(ty0 - EDGE_MARGIN, 0):ty1 + EDGE_MARGIN,
                    max(tx0 - EDGE_MARGIN, 0):tx1 + EDGE_MARGIN]
        if not near.any():
            return
        cy0, cy1 = max(ty0 - ctx, 0), min(ty1 + ctx, h)
        cx0, cx1 = max(tx0 - ctx, 0), min(tx1 + ctx, w)
        im = img[cy0:cy1, cx0:cx1]
        al = a[cy0:cy1, cx0:cx1]
        f0, b0 = _sample((low_f, low_b), (cy0, cy1), (cx0, cx1), d, (by0, bx0))
        f1, b1 = _correct(im, al, f0, b0)
        inner = (slice(ty0 - cy0, ty1 - cy0), slice(tx0 - cx0, tx1 - cx0))
        est = _last_pass(im, al, f1, b1, narrow, inner)
        keep = (a[ty0:ty1, tx0:tx1] >= 1.0 - SOFT).view(np.uint8)
        # opaque pixels keep their own colour
        np.copyto(est, img[ty0:ty1, tx0:tx1], where=_rep3(keep).view(bool))
        if in_place:
            later.append(((slice(ty0, ty1), slice(tx0, tx1)), est))
        else:
            fg[ty0:ty1, tx0:tx1] = est if out8 is None else to_u8(est)

    _run_tiles(one_tile, todo, progress)
    for where, est in later:
        fg[where] = est
    return fg


def to_u8(x: np.ndarray) -> np.ndarray:
    """8-bit pixels of colours in 0..1 (rounded, saturated), as displays show them."""
    return cv2.convertScaleAbs(np.asarray(x, np.float32), alpha=255.0)


def _run_tiles(fn, cells: list, progress: ProgressFn) -> None:
    """``fn(cell)`` for every cell on the core's threads (tiles are independent, and numpy and
    OpenCV release the GIL); a failure or cancellation stops tiles not yet started."""
    parallel_map(fn, cells,
                 on_done=lambda done, total: progress(done / total, "estimating edge colours"))


def _last_pass(img: np.ndarray, a: np.ndarray, fg: np.ndarray, bg: np.ndarray, r: int,
               inner: tuple[slice, slice]) -> np.ndarray:
    """The final blur-fusion pass of :func:`blur_fusion` (same arithmetic), foreground only and
    only on ``inner`` (the blurs see the whole crop)."""
    a3 = _rep3(a)
    na = 1.0 - a3
    tiny = np.float32(1e-5)
    fa = _blur(fg * a3, r)
    fa /= _rep3(_blur(a, r) + tiny)
    bb = _blur(bg * na, r)
    bb /= _rep3(_blur(na[:, :, 0], r) + tiny)
    fa, bb, a3, na = fa[inner], bb[inner], a3[inner], na[inner]
    err = img[inner] - a3 * fa - na * bb
    out = fa + a3 * err
    np.clip(out, 0.0, 1.0, out=out)
    return out


def _wide_means(low: np.ndarray, r: int) -> tuple[np.ndarray, np.ndarray]:
    """Alpha-weighted local means of foreground and background colours (first pass, F = B = I)."""
    img, a = low[:, :, :3], low[:, :, 3:4]
    tiny = np.float32(1e-5)
    num_f = _blur(np.ascontiguousarray(img * a), r)
    den_f = _blur(np.ascontiguousarray(a[:, :, 0]), r)[:, :, None] + tiny
    num_b = _blur(np.ascontiguousarray(img * (1.0 - a)), r)
    den_b = _blur(np.ascontiguousarray(1.0 - a[:, :, 0]), r)[:, :, None] + tiny
    return (np.ascontiguousarray(num_f / den_f, np.float32),
            np.ascontiguousarray(num_b / den_b, np.float32))
