"""Foreground colour estimation, so that cut-out edges carry no halo of the old background.

Blur-fusion estimator (Forte & Pitié, "Approximate fast foreground colour estimation",
ICIP 2021): local means of the foreground and background colours, weighted by alpha, are
corrected once by the compositing equation, at a wide and then a narrow radius. It is a handful
of box filters per pass, so it runs in strips over the rows that hold semi-transparent pixels:
time and memory follow the band, not the megapixels (24 MP in a few hundred MB).
pymatting's multilevel estimator stays available as ``method="ml"`` for small images.
"""

from __future__ import annotations

import cv2
import numpy as np

from .progress import CancelToken, ProgressFn, no_progress

EDGE_MARGIN = 8
"""Pixels around the semi-transparent band whose colours are re-estimated."""
RADII = (90, 6)
"""Blur-fusion radii (the paper's two passes)."""
STRIP = 512
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


def _products(img: np.ndarray, a: np.ndarray) -> np.ndarray:
    """(h, w, 8) float32: I·α (3), α, I·(1−α) (3), 1−α — what the wide pass blurs."""
    a3 = a[:, :, None]
    return np.concatenate([img * a3, a3, img * (1.0 - a3), 1.0 - a3], axis=2)


def _sample(low: np.ndarray, rows: tuple[int, int], cols: tuple[int, int], factor: float,
            origin: tuple[int, int]) -> np.ndarray:
    """Bilinear samples of ``low`` at full-size pixel centres rows × cols (absolute coords)."""
    oy, ox = origin
    ys = ((np.arange(*rows, dtype=np.float32) - oy + 0.5) / factor - 0.5)
    xs = ((np.arange(*cols, dtype=np.float32) - ox + 0.5) / factor - 0.5)
    my = np.ascontiguousarray(np.broadcast_to(ys[:, None], (ys.size, xs.size)), np.float32)
    mx = np.ascontiguousarray(np.broadcast_to(xs[None, :], (ys.size, xs.size)), np.float32)
    return cv2.remap(low, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _correct(img: np.ndarray, a: np.ndarray, fa: np.ndarray, bb: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    a3 = a[:, :, None]
    na = 1.0 - a3
    err = img - a3 * fa - na * bb
    fg = np.clip(fa + a3 * err, 0.0, 1.0)
    bg = np.clip(bb + na * err, 0.0, 1.0)
    return fg, bg


def estimate_foreground(
    image: np.ndarray, alpha: np.ndarray, cancel: CancelToken | None = None,
    progress: ProgressFn = no_progress, method: str = "blur",
) -> np.ndarray:
    """Foreground colours F (float32 (h, w, 3), 0..1) such that image ≈ αF + (1 − α)B.

    Only pixels near semi-transparent ones are re-estimated, in strips of rows; elsewhere F is
    the image itself, which is exact where α = 1 and invisible where α = 0. The wide pass
    (radius ``RADII[0]``) runs on a copy reduced :data:`LOW_RES` times (its local means are
    smooth), the narrow one at full size. ``method="ml"`` uses pymatting's multilevel estimator
    (Germer et al. 2020) on the bounding box of the band instead (memory grows with that box).
    """
    img = np.asarray(image, np.float32)
    a = np.asarray(alpha, np.float32)
    fg = img.copy()
    h, w = a.shape
    soft = (a > SOFT) & (a < 1.0 - SOFT)
    row_any = soft.any(axis=1)
    rows = np.flatnonzero(row_any)
    if rows.size == 0:
        return fg
    cols = np.flatnonzero(soft.any(axis=0))
    x0, x1 = max(cols[0] - EDGE_MARGIN, 0), min(cols[-1] + EDGE_MARGIN + 1, w)
    if method == "ml":
        return _estimate_ml(img, a, fg, soft, rows, x0, x1, cancel)
    wide, narrow = RADII[0], RADII[-1]
    y_first, y_last = max(rows[0] - EDGE_MARGIN, 0), min(rows[-1] + EDGE_MARGIN + 1, h)
    # wide pass: blurred products on a reduced copy of the band's box (+ the blur's reach)
    d = LOW_RES
    by0, by1 = max(y_first - wide - narrow, 0), min(y_last + wide + narrow, h)
    bx0, bx1 = max(x0 - wide - narrow, 0), min(x1 + wide + narrow, w)
    lh, lw = -(-(by1 - by0) // d), -(-(bx1 - bx0) // d)
    low = np.empty((lh, lw, 8), np.float32)
    step = STRIP - STRIP % d
    for y0 in range(by0, by1, step):
        if cancel is not None:
            cancel.check()
        y1 = min(y0 + step, by1)
        prod = _products(img[y0:y1, bx0:bx1], a[y0:y1, bx0:bx1])
        ly0, ly1 = (y0 - by0) // d, -(-(y1 - by0) // d)
        for c0 in (0, 4):  # OpenCV resizes at most 4 channels at a time
            low[ly0:ly1, :, c0:c0 + 4] = cv2.resize(np.ascontiguousarray(prod[:, :, c0:c0 + 4]),
                                                    (lw, ly1 - ly0), interpolation=cv2.INTER_AREA)
    r = max(1, round(wide / d))
    for c in range(8):
        low[:, :, c] = _blur(np.ascontiguousarray(low[:, :, c]), r)
    tiny = np.float32(1e-5)
    low_f = np.ascontiguousarray(low[:, :, 0:3] / (low[:, :, 3:4] + tiny))
    low_b = np.ascontiguousarray(low[:, :, 4:7] / (low[:, :, 7:8] + tiny))
    del low
    # narrow pass at full size, strip by strip, with the narrow blur's context
    ctx = narrow + 1
    for y0 in range(y_first, y_last, STRIP):
        if cancel is not None:
            cancel.check()
        y1 = min(y0 + STRIP, y_last)
        if not row_any[max(y0 - EDGE_MARGIN, 0):min(y1 + EDGE_MARGIN, h)].any():
            continue
        cy0, cy1 = max(y0 - ctx, 0), min(y1 + ctx, h)
        cx0, cx1 = max(x0 - ctx, 0), min(x1 + ctx, w)
        im = img[cy0:cy1, cx0:cx1]
        al = a[cy0:cy1, cx0:cx1]
        f0 = _sample(low_f, (cy0, cy1), (cx0, cx1), d, (by0, bx0))
        b0 = _sample(low_b, (cy0, cy1), (cx0, cx1), d, (by0, bx0))
        f1, b1 = _correct(im, al, f0, b0)
        est = blur_fusion(im, al, (narrow,), start=(f1, b1))
        est = est[y0 - cy0:y1 - cy0, x0 - cx0:x1 - cx0]
        keep = a[y0:y1, x0:x1] >= 1.0 - SOFT  # opaque pixels keep their own colour
        est[keep] = img[y0:y1, x0:x1][keep]
        fg[y0:y1, x0:x1] = est
        progress((y1 - y_first) / max(y_last - y_first, 1), "estimating edge colours")
    return fg


def _estimate_ml(img, a, fg, soft, rows, x0, x1, cancel):
    from pymatting.foreground.estimate_foreground_ml import estimate_foreground_ml

    h = a.shape[0]
    y0, y1 = max(rows[0] - EDGE_MARGIN, 0), min(rows[-1] + EDGE_MARGIN + 1, h)
    if cancel is not None:
        cancel.check()
    crop = estimate_foreground_ml(
        np.ascontiguousarray(img[y0:y1, x0:x1]), np.ascontiguousarray(a[y0:y1, x0:x1])
    )
    crop = np.clip(np.asarray(crop, np.float32), 0.0, 1.0)
    region = fg[y0:y1, x0:x1]
    keep = a[y0:y1, x0:x1] >= 1.0 - SOFT
    crop[keep] = region[keep]
    fg[y0:y1, x0:x1] = crop
    return fg
