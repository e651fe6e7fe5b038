"""Trimaps: the automatic one made from a soft mask, user trimaps, and brush strokes on top.

A trimap is a uint8 (h, w) array: 255 sure foreground, 0 sure background, 128 unknown.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np

from . import limits
from .errors import TrimapError

log = logging.getLogger(__name__)

FOREGROUND, UNKNOWN, BACKGROUND = 255, 128, 0
StrokeMode = Literal["foreground", "background", "unknown"]
STROKE_VALUES: dict[str, int] = {"foreground": FOREGROUND, "background": BACKGROUND,
                                 "unknown": UNKNOWN}


@dataclass(frozen=True)
class TrimapParams:
    """The classic erode/dilate trimap (the default preset).

    The mask is binarised at ``threshold``, eroded and dilated with a ``kernel_size`` elliptical
    kernel ``iterations`` times; eroded ≥ ``fg_level`` → 255, dilated ≤ ``bg_level`` → 0,
    everything else 128.
    """

    kernel_size: int = 7
    iterations: int = 3
    threshold: float = 0.5
    fg_level: int = 254
    bg_level: int = 1

    def __post_init__(self) -> None:
        checks = (("kernel_size", limits.KERNEL_SIZE), ("iterations", limits.ITERATIONS),
                  ("threshold", limits.MASK_THRESHOLD), ("fg_level", limits.LEVEL),
                  ("bg_level", limits.LEVEL))
        for name, limit in checks:
            object.__setattr__(self, name, limit.check(getattr(self, name), name))


def make_trimap(mask: np.ndarray, params: TrimapParams = TrimapParams()) -> np.ndarray:
    """Classic trimap from a soft mask (float 0..1 or uint8 0..255), shape (h, w)."""
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2-D, got shape {mask.shape}")
    m = mask.astype(np.float32)
    if mask.dtype == np.uint8:
        m /= 255.0
    binary = np.where(m >= params.threshold, 255, 0).astype(np.uint8)
    if params.iterations == 0:
        return np.where(binary == 255, FOREGROUND, BACKGROUND).astype(np.uint8)
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (params.kernel_size, params.kernel_size))
    eroded = cv2.erode(binary, k, iterations=params.iterations)
    dilated = cv2.dilate(binary, k, iterations=params.iterations)
    trimap = np.full(binary.shape, UNKNOWN, np.uint8)
    trimap[eroded >= params.fg_level] = FOREGROUND
    trimap[dilated <= params.bg_level] = BACKGROUND
    return trimap


def normalize_trimap(trimap: np.ndarray, shape: tuple[int, int], name: str = "trimap") -> np.ndarray:
    """Make a user trimap fit an image of ``shape`` (h, w) with only 0 / 128 / 255.

    Colour trimaps are reduced to grey; values ≤ 25 become background, ≥ 230 foreground
    (pymatting's 0.1 / 0.9 split), the rest unknown. A trimap of the same aspect ratio but
    another size is resized (nearest neighbour); any other size mismatch is an error.
    """
    t = np.asarray(trimap)
    if t.ndim == 3 and t.shape[2] >= 1:
        t = t[:, :, :3].mean(axis=2) if t.shape[2] >= 3 else t[:, :, 0]
    if t.ndim != 2 or t.size == 0:
        raise TrimapError(f"{name}: not a single-channel image (shape {t.shape})")
    if t.dtype != np.uint8:
        t = np.nan_to_num(t.astype(np.float32), nan=float(UNKNOWN), posinf=255.0, neginf=0.0)
        hi = float(t.max())
        if hi <= 1.0:
            t = t * 255.0
        elif hi > 255.0:
            t = t / 257.0
        t = np.clip(np.rint(t), 0, 255).astype(np.uint8)
    h, w = shape
    if t.shape != (h, w):
        th, tw = t.shape
        if abs(tw / th - w / h) > 0.01 * (w / h):
            raise TrimapError(
                f"{name}: size {tw}×{th} does not match the image ({w}×{h})"
            )
        log.warning("%s: resizing trimap %d×%d to the image size %d×%d", name, tw, th, w, h)
        t = cv2.resize(t, (w, h), interpolation=cv2.INTER_NEAREST)
    return cv2.LUT(np.ascontiguousarray(t), _SPLIT)


_SPLIT = np.full(256, UNKNOWN, np.uint8)
"""Grey level → trimap value: ≤ 25 background, ≥ 230 foreground, the rest unknown (one table
look-up per pixel instead of two masked writes)."""
_SPLIT[:26] = BACKGROUND
_SPLIT[230:] = FOREGROUND


@dataclass(frozen=True)
class Stroke:
    """A brush stroke in image coordinates (pixels, x right, y down)."""

    mode: StrokeMode
    radius: float
    points: tuple[tuple[float, float], ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.mode not in STROKE_VALUES:
            raise ValueError(f"stroke mode must be one of {sorted(STROKE_VALUES)}, "
                             f"got {str(self.mode)[:40]!r}")
        limits.POINTS_PER_STROKE.check(len(self.points), "the number of points of a stroke")
        try:
            xy = np.array(self.points, np.float64).reshape(-1, 2)
        except (TypeError, ValueError, OverflowError):
            raise ValueError("stroke points must be pairs of numbers") from None
        bad = ~np.isfinite(xy) | (xy < limits.COORDINATE.lo) | (xy > limits.COORDINATE.hi)
        if bad.any():  # names the first offending number and the range
            limits.COORDINATE.check(float(xy[bad][0]), "a stroke point's coordinate")
        object.__setattr__(self, "points", tuple(map(tuple, xy.tolist())))
        object.__setattr__(self, "radius", limits.BRUSH_RADIUS.check(self.radius, "radius"))

    @property
    def value(self) -> int:
        return STROKE_VALUES[self.mode]

    def bounds(self, shape: tuple[int, int]) -> tuple[int, int, int, int] | None:
        """(y0, y1, x0, x1) of the pixels this stroke can touch, clipped to ``shape``; None if outside."""
        if not self.points:
            return None
        pts = np.asarray(self.points)
        r = int(np.ceil(self.radius)) + 1
        x0 = max(int(np.floor(pts[:, 0].min())) - r, 0)
        x1 = min(int(np.ceil(pts[:, 0].max())) + r + 1, shape[1])
        y0 = max(int(np.floor(pts[:, 1].min())) - r, 0)
        y1 = min(int(np.ceil(pts[:, 1].max())) + r + 1, shape[0])
        if x0 >= x1 or y0 >= y1:
            return None
        return y0, y1, x0, x1

    def to_dict(self) -> dict:
        return {"mode": self.mode, "radius": self.radius, "points": [list(p) for p in self.points]}

    @classmethod
    def from_dict(cls, d: dict) -> Stroke:
        return cls(mode=d["mode"], radius=float(d["radius"]),
                   points=tuple((float(x), float(y)) for x, y in d["points"]))


_SHIFT = 4  # sub-pixel bits for cv2 drawing
_SCALE = 1 << _SHIFT


def stroke_mask(stroke: Stroke, shape: tuple[int, int]) -> np.ndarray:
    """Boolean (h, w) mask of the pixels a stroke covers: a round brush of ``radius`` along the polyline."""
    mask = np.zeros(shape, np.uint8)
    draw_stroke(mask, stroke, 1)
    return mask.astype(bool)


def draw_stroke(target: np.ndarray, stroke: Stroke, value: int | None = None) -> None:
    """Paint ``stroke`` into ``target`` (uint8 h×w) in place with ``value`` (default: its trimap value)."""
    if not stroke.points:
        return
    v = stroke.value if value is None else value
    pts = np.rint(np.asarray(stroke.points, np.float64) * _SCALE).astype(np.int64)
    # Guard against absurd coordinates that overflow cv2's int32 fixed-point maths.
    # A brush wider than the image's diagonal paints the same pixels as one that just covers it.
    radius = min(stroke.radius, float(np.hypot(*target.shape[:2])) + 2.0)
    lim = (max(target.shape) + 4 * radius + 16) * _SCALE
    pts = np.clip(pts, -lim, lim).astype(np.int32)
    r = max(int(round(radius * _SCALE)), 1)
    for p in pts:
        cv2.circle(target, (int(p[0]), int(p[1])), r, int(v), -1, cv2.LINE_8, _SHIFT)
    if len(pts) > 1:
        thickness = max(int(round(2 * radius)), 1)
        cv2.polylines(target, [pts.reshape(-1, 1, 2)], False, int(v), thickness, cv2.LINE_8, _SHIFT)
    # the pixel under each point too: a brush under ~0.7 px centred between pixel centres
    # (radius 0.5 at (0.5, 0.5)) reaches none of them
    h, w = target.shape[:2]
    for x, y in stroke.points:
        xi, yi = round(x), round(y)
        if 0 <= xi < w and 0 <= yi < h:
            target[yi, xi] = v


def apply_strokes(trimap: np.ndarray, strokes: Iterable[Stroke]) -> np.ndarray:
    """Return a copy of ``trimap`` with ``strokes`` painted in order (later strokes win)."""
    out = np.array(trimap, dtype=np.uint8, copy=True)
    for s in strokes:
        draw_stroke(out, s)
    return out


def changed_bounds(a: np.ndarray, b: np.ndarray) -> tuple[int, int, int, int] | None:
    """(y0, y1, x0, x1) bounding the pixels where trimaps ``a`` and ``b`` differ, or None.

    Runs once per stroke on photos of up to 24 MP, so uint8 inputs take OpenCV's SIMD path
    (absolute difference, then the bounding box of its non-zero pixels: ~10× numpy's speed).
    """
    if a.dtype == np.uint8 and b.dtype == np.uint8 and a.ndim == 2 and a.shape == b.shape \
            and a.size and max(a.shape) < 2**31:
        x, y, w, h = cv2.boundingRect(cv2.absdiff(np.ascontiguousarray(a), np.ascontiguousarray(b)))
        return None if w == 0 or h == 0 else (y, y + h, x, x + w)
    diff = a != b
    rows = np.flatnonzero(diff.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(diff.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def strokes_to_list(strokes: Sequence[Stroke]) -> list[dict]:
    return [s.to_dict() for s in strokes]
