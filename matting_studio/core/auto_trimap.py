"""Automatic trimaps that follow the model's confidence instead of a fixed kernel.

The classic trimap (:func:`matting_studio.core.trimap.make_trimap`) marks as "unknown" every
pixel within a fixed distance of the 0.5 contour *and* every pixel whose mask value sits
between 1/255 and 254/255. On a salient-object mask the second rule turns wide areas where the
model is merely unsure into unknown, and matting then smears them (DESIGN.md). Here:

1. The mask is the union of the model's views of the photo (:mod:`.mask_views`).
2. The subject is decided once, by thresholding that mask (``threshold``).
3. The unknown band follows the decision boundary only. Its half-width at each boundary point
   is the width over which the mask itself ramps from background to foreground there (a blurry,
   unsure transition gets a wide band, a crisp one a narrow band), reduced where the image has a
   strong edge on the boundary (a crisp photographed edge needs little room), and clamped to
   ``[min_band, max_band]`` as fractions of the shorter image side.

The result is an ordinary uint8 trimap (0 / 128 / 255), so strokes, backends and the tiling
driver treat it like any other.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from . import limits
from .refine import refine_mask
from .trimap import FOREGROUND, UNKNOWN


@dataclass(frozen=True)
class AdaptiveTrimapParams:
    """Parameters of :func:`adaptive_trimap` (global: no per-image tuning)."""

    threshold: float = 0.5
    """Mask level that decides foreground from background."""
    min_band: float = 0.008
    """Smallest half-width of the unknown band, as a fraction of the shorter image side."""
    max_band: float = 0.03
    """Largest half-width of the unknown band, as a fraction of the shorter image side."""
    ramp_scale: float = 1.0
    """Half-width = ``ramp_scale`` × the mask's local 0→1 ramp width (pixels)."""
    edge_relief: float = 0.5
    """How much a strong image edge on the boundary narrows the band (0: not at all, 1: to ``min_band``)."""
    refine: bool = True
    """Re-decide the subject from the photo's colours first (:func:`automatic_trimap`,
    :mod:`.refine`)."""

    def __post_init__(self) -> None:
        checks = (("threshold", limits.MASK_THRESHOLD), ("min_band", limits.BAND_FRACTION),
                  ("max_band", limits.BAND_FRACTION), ("ramp_scale", limits.RAMP_SCALE),
                  ("edge_relief", limits.UNIT_INTERVAL))
        for name, limit in checks:
            object.__setattr__(self, name, limit.check(getattr(self, name), name))
        if self.min_band > self.max_band:
            raise ValueError("min_band must not be larger than max_band")
        if not isinstance(self.refine, bool):
            raise limits.LimitError("refine must be true or false")


def _edge_magnitude(rgb: np.ndarray, reference: bool = True) -> tuple[np.ndarray, float]:
    """Image gradient magnitude (float32 (h, w)) and its robust reference (99th percentile;
    0.0 when not asked for)."""
    grey = cv2.cvtColor(np.asarray(rgb, np.float32), cv2.COLOR_RGB2GRAY)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    del grey  # each full-size plane goes as soon as it is used (a peak of the open)
    gx *= gx
    gy *= gy
    gx += gy
    del gy
    mag = np.sqrt(gx, out=gx)
    ref = float(np.percentile(mag, 99)) if reference and mag.size else 0.0
    return mag, ref


def _edge_strength(rgb: np.ndarray) -> np.ndarray:
    """Image gradient magnitude normalised to 0..1 by a robust high percentile."""
    mag, ref = _edge_magnitude(rgb)
    return np.clip(mag / ref, 0.0, 1.0) if ref > 1e-6 else np.zeros_like(mag)


def _mask_slopes(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x and y slopes (mask units per pixel, float32 (h, w)) of the lightly blurred mask."""
    m = cv2.GaussianBlur(np.asarray(mask, np.float32), (0, 0), 1.0)
    return cv2.Sobel(m, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(m, cv2.CV_32F, 0, 1, ksize=3)


def _half_width(sx: np.ndarray, sy: np.ndarray, e: np.ndarray | None, side: int,
                params: AdaptiveTrimapParams) -> np.ndarray:
    """Band half-width from raw Sobel responses ``sx``/``sy`` of the blurred mask and the
    (dilated) edge strength ``e`` (or None), elementwise: on whole images or on gathered pixels."""
    lo, hi = params.min_band * side, params.max_band * side
    gx = sx / 8.0
    gy = sy / 8.0
    slope = np.sqrt(gx * gx + gy * gy)  # mask units per pixel
    ramp = 1.0 / np.maximum(slope, 1e-3)  # pixels for a 0→1 transition
    r = params.ramp_scale * ramp
    if e is not None:
        r = r * (1.0 - params.edge_relief * e) + lo * params.edge_relief * e
    return np.clip(r, lo, hi).astype(np.float32)


def band_half_width(mask: np.ndarray, rgb: np.ndarray | None,
                    params: AdaptiveTrimapParams = AdaptiveTrimapParams()) -> np.ndarray:
    """Per-pixel band half-width in pixels (float32 (h, w)), meaningful on the boundary."""
    sx, sy = _mask_slopes(mask)
    e = None
    if rgb is not None and params.edge_relief > 0:
        e = cv2.dilate(_edge_strength(rgb), np.ones((3, 3), np.uint8))
    return _half_width(sx, sy, e, min(mask.shape), params)


STRIP_ROWS = 512
"""Rows per strip when the whole-image filters are evaluated strip by strip."""
_STRIP_PAD = 8
"""Rows of context above and below a strip: more than the blur and Sobel reach together, so a
strip's inner rows equal the whole image's."""


def _strips(h: int):
    """``(lo, hi, a, b)`` per strip: rows ``a:b`` of the image, computed from rows ``lo:hi``."""
    for a in range(0, h, STRIP_ROWS):
        b = min(h, a + STRIP_ROWS)
        yield max(0, a - _STRIP_PAD), min(h, b + _STRIP_PAD), a, b


def _half_width_at(mask: np.ndarray, rgb: np.ndarray | None, params: AdaptiveTrimapParams,
                   ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """``band_half_width(mask, rgb, params)[ys, xs]``, bit for bit, without the whole-image
    arithmetic: the filters run strip by strip (:data:`STRIP_ROWS` rows with enough context
    rows that each strip's own rows equal the whole image's) and the formula on the given
    pixels only. ``ys`` must be sorted (``np.nonzero``'s order).

    The 3×3 dilation of ``clip(mag / ref, 0, 1)`` equals ``clip(dilate(mag) / ref, 0, 1)``
    (a monotone map commutes with a maximum), so the edge strength is normalised after the
    gather too; the only whole-image plane is the gradient magnitude that the reference
    percentile needs.
    """
    h = mask.shape[0]
    sx = np.empty(len(ys), np.float32)
    sy = np.empty(len(ys), np.float32)
    peak = np.empty(len(ys), np.float32) if rgb is not None and params.edge_relief > 0 else None
    mag = np.empty(mask.shape, np.float32) if peak is not None else None
    cuts = np.searchsorted(ys, np.arange(0, h + STRIP_ROWS, STRIP_ROWS))
    for i, (lo, hi, a, b) in enumerate(_strips(h)):
        k0, k1 = cuts[i], cuts[i + 1]
        py, px = ys[k0:k1] - lo, xs[k0:k1]
        gx, gy = _mask_slopes(mask[lo:hi])
        sx[k0:k1], sy[k0:k1] = gx[py, px], gy[py, px]
        if mag is not None:
            m, _ = _edge_magnitude(rgb[lo:hi], reference=False)
            mag[a:b] = m[a - lo:b - lo]
            peak[k0:k1] = cv2.dilate(m, np.ones((3, 3), np.uint8))[py, px]
    e = None
    if peak is not None:
        ref = float(np.percentile(mag, 99, overwrite_input=True)) if mag.size else 0.0
        del mag
        e = np.clip(peak / ref, 0.0, 1.0) if ref > 1e-6 else np.zeros(len(ys), np.float32)
    return _half_width(sx, sy, e, min(mask.shape), params)


def adaptive_trimap(mask: np.ndarray, rgb: np.ndarray | None = None,
                    params: AdaptiveTrimapParams = AdaptiveTrimapParams()) -> np.ndarray:
    """Trimap (uint8 0/128/255) from a soft mask (float 0..1 or uint8), band shaped by confidence.

    ``rgb`` (float (h, w, 3) 0..1), when given, narrows the band on strong image edges.

    Only the boundary pixels' half-widths are computed, and the distance transform runs on the
    boundary's bounding box grown by the largest half-width (nothing farther can be unknown):
    the same trimap as the whole-image formulation, several times faster on large photos.
    """
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2-D, got shape {mask.shape}")
    m = np.asarray(mask, np.float32)
    if mask.dtype == np.uint8:
        m = m / 255.0
    fg_u8 = (m >= params.threshold).view(np.uint8)
    trimap = fg_u8 * np.uint8(FOREGROUND)
    if not fg_u8.any() or fg_u8.all():
        return trimap
    # Boundary pixels: foreground pixels with a background 4-neighbour, and vice versa.
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    boundary = (cv2.dilate(fg_u8, cross) != cv2.erode(fg_u8, cross))
    ys, xs = np.nonzero(boundary)
    r = _half_width_at(m, rgb, params, ys, xs)
    # Distance to, and identity of, the nearest boundary pixel, inside the boundary's bounding
    # box grown by the widest band (the chamfer distance between two pixels of a rectangle is
    # found by paths inside it, so cropping changes no distance nor any nearest pixel there).
    h, w = m.shape
    grow = int(np.ceil(float(r.max()))) + 2
    y0, y1 = max(0, int(ys.min()) - grow), min(h, int(ys.max()) + grow + 1)
    x0, x1 = max(0, int(xs.min()) - grow), min(w, int(xs.max()) + grow + 1)
    src = np.full((y1 - y0, x1 - x0), 255, np.uint8)
    src[ys - y0, xs - x0] = 0
    dist, labels = cv2.distanceTransformWithLabels(src, cv2.DIST_L2, 5,
                                                   labelType=cv2.DIST_LABEL_PIXEL)
    # labels number the zero pixels in scan order (that of ys, xs); label → its half-width.
    by_label = np.zeros(len(ys) + 1, np.float32)
    by_label[labels[ys - y0, xs - x0]] = r
    crop = trimap[y0:y1, x0:x1]
    for a in range(0, y1 - y0, STRIP_ROWS):  # by strips: no whole-crop temporaries
        rows = slice(a, a + STRIP_ROWS)
        crop[rows][dist[rows] <= by_label[labels[rows]]] = UNKNOWN
    return trimap


def automatic_trimap(mask: np.ndarray, rgb: np.ndarray | None = None,
                     params: AdaptiveTrimapParams = AdaptiveTrimapParams()) -> np.ndarray:
    """The automatic trimap (uint8 0/128/255) of a soft model ``mask`` (float 0..1 or uint8).

    With ``rgb`` (float (h, w, 3) 0..1) and ``params.refine`` the mask is first refined on
    the photo (:func:`~.refine.refine_mask`: gaps the model filled, e.g. background between
    leaves, are found by their colour); the band of :func:`adaptive_trimap` follows the refined
    outline, and wherever the refinement and the model disagree the trimap says unknown, so
    that matting decides there rather than either of them.
    """
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2-D, got shape {mask.shape}")
    m = np.asarray(mask, np.float32)
    if mask.dtype == np.uint8:
        m = m / 255.0
    unsure = None
    if rgb is not None and params.refine:
        m, unsure = refine_mask(m, rgb, params.threshold)
    trimap = adaptive_trimap(m, rgb, params)
    if unsure is not None:
        trimap[unsure] = UNKNOWN
    return trimap
