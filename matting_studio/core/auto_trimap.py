"""Automatic trimaps that follow the model's confidence instead of a fixed kernel.

The classic trimap (:func:`matting_studio.core.trimap.make_trimap`) marks as "unknown" every
pixel within a fixed distance of the 0.5 contour *and* every pixel whose mask value sits
between 1/255 and 254/255. On a salient-object mask the second rule turns wide areas where the
model is merely unsure into unknown, and matting then smears them (DESIGN.md). Here:

1. The mask comes from the model run on the image and on its mirror image (test-time
   augmentation, :func:`predict_mask_tta`); a pixel counts as much subject as the more
   confident of the two views says (their maximum). Salient-object models at 320 px mostly
   fail by *missing* parts of the subject, and a miss in one view is often caught by the other;
   on the alphamatting set the union lowered the mean SAD of the thresholded mask from 37.3
   (mean of the views) and 39.4 (one view) to 33.1, and the result barely moves between
   thresholds 0.5 and 0.6.
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
from .executor import spawn, wait_quietly
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


ZOOM_MARGIN = 0.2
"""Margin added on every side of the zoomed-out views (:func:`model_answers`), as a fraction of
the photo's longer side."""
ZOOM_CONFIDENCE = 0.8
"""Level from which the zoomed-out views' answer adds to the subject (ramping up to
``ZOOM_WEIGHT`` at 1)."""
ZOOM_WEIGHT = 0.9
"""Most that the zoomed-out views can say: a part only they see is subject, but never as sure
as what the model finds in the photo itself (:mod:`.refine` keeps the sure parts as they are
and re-examines the rest)."""
ZOOM_FRAME = 0.5
"""A zoomed-out answer that is sure of the subject along at least this fraction of every one
of the photo's four sides took the photo itself for the subject (a picture on a plain wall)
and adds nothing."""
ZOOM_CANVAS = 1024
"""Longer side of the zoomed-out canvas handed to the model (it shrinks it further): a 24 MP
photo is reduced once, not padded at full size."""


def model_answers(model, rgb: np.ndarray, combine: str = "max", cancel=None,
                  zoom_margin: float = ZOOM_MARGIN) -> np.ndarray:
    """The model's answers on ``rgb`` and its mirror image (:func:`model_views`, with what the
    zoomed-out views add), combined by ``combine``: "max" (union, default) or "mean"; float32
    at the model's resolution (see :func:`upsample_mask`).

    The slow part of :func:`predict_mask_tta` (four model runs, two at a time); masks at any
    size, e.g. a preview's and the photo's, come from one call.
    """
    if combine not in ("max", "mean"):
        raise ValueError(f"combine must be 'max' or 'mean', got {combine!r}")
    a, b = model_views(model, rgb, cancel, zoom_margin)
    small = np.maximum(a, b) if combine == "max" else 0.5 * (a + b)
    return np.ascontiguousarray(small, np.float32)


def model_views(model, rgb: np.ndarray, cancel=None, zoom_margin: float = ZOOM_MARGIN
                ) -> tuple[np.ndarray, np.ndarray]:
    """The model's answers on ``rgb`` and on its mirror image (flipped back), uncombined:
    two float32 arrays at the model's resolution. :func:`model_answers` combines them; their
    disagreement is evidence for :mod:`.triage`.

    With ``zoom_margin`` > 0 the model also sees the photo zoomed out (a margin of the photo's
    mean colour around it, :func:`_zoomed_out`) and its mirror image. Salient-object models
    trained on centred subjects often miss a part that runs into the frame's edge (a body cut
    off by the bottom edge); seen smaller, with room around it, the whole subject is found.
    That view is coarser and sometimes takes in background, so it only *adds*, to both views
    alike, where both of its mirror views agree with confidence (their minimum, ramped from
    ``ZOOM_CONFIDENCE`` to 1, and then to at most ``ZOOM_WEIGHT``), and nothing at all when it
    took the whole photo, framed by the margin, for the subject (:func:`_fills_the_frame`).

    A model with ``parallel_runs`` (see :class:`~.segmentation.SegmentationModel`) runs an
    image and its mirror image at once; otherwise ``cancel`` (a CancelToken) is checked
    between runs.
    """
    a, b = _mirror_pair(model, rgb, cancel)
    if zoom_margin > 0:
        if cancel is not None:
            cancel.check()
        canvas, box = _zoomed_out(rgb, zoom_margin)
        za, zb = _mirror_pair(model, canvas, cancel)
        zoomed = np.minimum(_crop_answer(za, box, canvas.shape[:2], a.shape),
                            _crop_answer(zb, box, canvas.shape[:2], b.shape))
        if not _fills_the_frame(zoomed):
            zoomed -= ZOOM_CONFIDENCE
            zoomed *= ZOOM_WEIGHT / (1.0 - ZOOM_CONFIDENCE)
            np.clip(zoomed, 0.0, ZOOM_WEIGHT, out=zoomed)
            a, b = np.maximum(a, zoomed), np.maximum(b, zoomed)
    return a, b


def _mirror_pair(model, rgb: np.ndarray, cancel=None) -> tuple[np.ndarray, np.ndarray]:
    """The model's answers on ``rgb`` and its mirror image (flipped back), side by side when
    the model allows."""
    if getattr(model, "parallel_runs", False):  # the mirror image on another thread
        mirrored = spawn(lambda: model.predict_small(_mirror(rgb)))
        try:
            a = model.predict_small(rgb)
        except BaseException:
            if not mirrored.cancel():  # leave no run behind
                wait_quietly(mirrored)
            raise
        b = mirrored.result()[:, ::-1]
    else:
        a = model.predict_small(rgb)
        if cancel is not None:
            cancel.check()
        b = model.predict_small(_mirror(rgb))[:, ::-1]
    return a, b


def _fills_the_frame(zoomed: np.ndarray) -> bool:
    """Whether a zoomed-out answer (on the photo's grid) is sure of the subject along
    ``ZOOM_FRAME`` or more of each side of the photo (looked at a little inside the edge,
    where the resampling has settled)."""
    h, w = zoomed.shape
    iy, ix = min(h - 1, max(1, h // 100)), min(w - 1, max(1, w // 100))
    sides = (zoomed[iy], zoomed[h - 1 - iy], zoomed[:, ix], zoomed[:, w - 1 - ix])
    return all(float((side >= ZOOM_CONFIDENCE).mean()) >= ZOOM_FRAME for side in sides)


def _zoomed_out(rgb: np.ndarray, margin: float) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The photo reduced to fit ``ZOOM_CANVAS`` with ``margin`` × its longer side of mean colour
    on every side, and the box (y0, y1, x0, x1) the photo occupies on that canvas."""
    h, w = rgb.shape[:2]
    scale = min(1.0, ZOOM_CANVAS / ((1.0 + 2.0 * margin) * max(h, w)))
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    img = np.asarray(rgb, np.float32)
    small = img if (sw, sh) == (w, h) else cv2.resize(img, (sw, sh), interpolation=cv2.INTER_AREA)
    pad = max(1, round(margin * max(sw, sh)))
    fill = [float(c) for c in small.reshape(-1, small.shape[-1]).mean(axis=0)]
    canvas = cv2.copyMakeBorder(np.ascontiguousarray(small), pad, pad, pad, pad,
                                cv2.BORDER_CONSTANT, value=fill)
    return canvas, (pad, pad + sh, pad, pad + sw)


def _crop_answer(answer: np.ndarray, box: tuple[int, int, int, int], canvas: tuple[int, int],
                 shape: tuple[int, int]) -> np.ndarray:
    """The part of a zoomed-out ``answer`` (covering the whole ``canvas`` (h, w)) that shows the
    photo's ``box``, resampled onto a grid of ``shape`` covering the photo (pixel centres
    aligned, bilinear)."""
    y0, y1, x0, x1 = box
    ah, aw = answer.shape
    rows, cols = shape
    # output pixel i covers photo fraction (i + ½)/rows; on the canvas answer's grid that is
    # ((y0 + (i + ½)·(y1 − y0)/rows) / canvas_h)·ah − ½
    sy = (y1 - y0) / rows * ah / canvas[0]
    sx = (x1 - x0) / cols * aw / canvas[1]
    oy = (y0 + 0.5 * (y1 - y0) / rows) * ah / canvas[0] - 0.5
    ox = (x0 + 0.5 * (x1 - x0) / cols) * aw / canvas[1] - 0.5
    m = np.array([[sx, 0.0, ox], [0.0, sy, oy]], np.float64)
    return cv2.warpAffine(np.ascontiguousarray(answer, np.float32), m, (cols, rows),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


def _mirror(rgb: np.ndarray) -> np.ndarray:
    # cv2.flip: the same pixels as rgb[:, ::-1] copied, several times faster on large photos
    if rgb.ndim == 3 and rgb.shape[2] <= 4 and rgb.dtype in (np.float32, np.float64, np.uint8):
        return cv2.flip(np.ascontiguousarray(rgb), 1)
    return np.ascontiguousarray(rgb[:, ::-1])


def upsample_mask(small: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A model-resolution mask resized to ``shape`` = (h, w): float32 0..1."""
    h, w = shape
    mask = cv2.resize(np.ascontiguousarray(small, np.float32), (w, h),
                      interpolation=cv2.INTER_LINEAR)
    return np.clip(mask, 0.0, 1.0, out=mask)


def predict_mask_tta(model, rgb: np.ndarray, combine: str = "max") -> np.ndarray:
    """Soft mask (float32 (h, w) 0..1) from the model's answers on ``rgb`` and its mirror image,
    combined by ``combine``: "max" (union, default) or "mean"."""
    return upsample_mask(model_answers(model, rgb, combine), rgb.shape[:2])


def _edge_magnitude(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """Image gradient magnitude (float32 (h, w)) and its robust reference (99th percentile)."""
    grey = cv2.cvtColor(np.asarray(rgb, np.float32), cv2.COLOR_RGB2GRAY)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    del grey  # each full-size plane goes as soon as it is used (a peak of the open)
    gx *= gx
    gy *= gy
    gx += gy
    del gy
    mag = np.sqrt(gx, out=gx)
    ref = float(np.percentile(mag, 99)) if mag.size else 0.0
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


def _half_width_at(mask: np.ndarray, rgb: np.ndarray | None, params: AdaptiveTrimapParams,
                   ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """``band_half_width(mask, rgb, params)[ys, xs]``, bit for bit, without the whole-image
    arithmetic: only the filters run on the whole image, the formula on the given pixels.

    The 3×3 dilation of ``clip(mag / ref, 0, 1)`` equals ``clip(dilate(mag) / ref, 0, 1)``
    (a monotone map commutes with a maximum), so the edge strength is normalised after the
    gather too.
    """
    sx, sy = _mask_slopes(mask)
    sx, sy = sx[ys, xs], sy[ys, xs]  # the whole-image slopes go before the edge filters run
    e = None
    if rgb is not None and params.edge_relief > 0:
        mag, ref = _edge_magnitude(rgb)
        if ref > 1e-6:
            peak = cv2.dilate(mag, np.ones((3, 3), np.uint8))[ys, xs]
            e = np.clip(peak / ref, 0.0, 1.0)
        else:
            e = np.zeros(len(ys), np.float32)
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
    crop[dist <= by_label[labels]] = UNKNOWN
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
