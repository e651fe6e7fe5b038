"""Product canvases: the subject centred on a canvas of a given size, scaled to fill it.

Shops ask for e.g. 2000 × 2000 pixels, the product on white filling the frame. A
:class:`CanvasSpec` says the size and the margin; :func:`place_on_canvas` finds the subject's
bounding box (α above :data:`SUBJECT_THRESHOLD`), scales it to fit the canvas inside the margin
and centres it. :data:`CANVAS_PRESETS` are named sizes for the export dialog and
``--canvas NAME``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import cv2
import numpy as np

from . import limits
from .colours import RGB8, WHITE
from .errors import ExportError

SUBJECT_THRESHOLD = 0.05
"""α above this counts as subject when the bounding box is found (faint fringes and stray
specks below it do not push the subject off centre)."""


@dataclass(frozen=True)
class CanvasSpec:
    """A canvas of ``width`` × ``height`` pixels with ``margin`` percent of each side free.
    Checked when made (:class:`~.limits.LimitError` naming the field)."""

    width: int
    height: int
    margin: float = 5.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "width", limits.CANVAS_SIDE.check(self.width, "canvas width"))
        object.__setattr__(self, "height",
                           limits.CANVAS_SIDE.check(self.height, "canvas height"))
        object.__setattr__(self, "margin", limits.CANVAS_MARGIN.check(self.margin, "margin"))
        from .io import max_pixels

        if self.width * self.height > max_pixels():
            raise limits.LimitError(
                f"canvas {self.width}×{self.height} is larger than the "
                f"{max_pixels() / 1e6:.0f} MP limit")

    @property
    def inner(self) -> tuple[int, int]:
        """(w, h) of the area the subject is fitted into."""
        f = 1.0 - 2.0 * self.margin / 100.0
        return max(1, round(self.width * f)), max(1, round(self.height * f))


@dataclass(frozen=True)
class CanvasPreset:
    """A named canvas for the export dialog; ``background`` None keeps transparency."""

    name: str
    label: str
    canvas: CanvasSpec
    background: RGB8 | None
    note: str


CANVAS_PRESETS: dict[str, CanvasPreset] = {p.name: p for p in (
    CanvasPreset("square-2000", "Square 2000 × 2000, transparent",
                 CanvasSpec(2000, 2000, 5.0), None, "a general square product shot"),
    CanvasPreset("marketplace-white", "Marketplace 2000 × 2000 on white (Amazon-style)",
                 CanvasSpec(2000, 2000, 5.0), WHITE,
                 "pure white background, the product filling about 90 % of the frame"),
    CanvasPreset("shop-square", "Shop square 2048 × 2048 on white (Shopify-style)",
                 CanvasSpec(2048, 2048, 6.0), WHITE, "square product image for web shops"),
    CanvasPreset("shop-portrait", "Shop portrait 1600 × 2000 on white",
                 CanvasSpec(1600, 2000, 6.0), WHITE, "4:5 product image (fashion, bottles)"),
    CanvasPreset("social-square", "Social 1080 × 1080, transparent",
                 CanvasSpec(1080, 1080, 8.0), None, "square social-media post"),
)}


def parse_canvas(text: str) -> tuple[CanvasSpec, RGB8 | None]:
    """``WxH`` (``2000x2000``, ``2000×1600``) or a preset name → (canvas, preset background or
    None). The margin of a ``WxH`` canvas is the default; :class:`~.limits.LimitError` for
    anything else."""
    spec = text.strip().lower()
    if spec in CANVAS_PRESETS:
        p = CANVAS_PRESETS[spec]
        return p.canvas, p.background
    m = re.fullmatch(r"(\d{1,9})\s*[x×*]\s*(\d{1,9})", spec)
    if not m:
        raise limits.LimitError(
            f"canvas {text[:40]!r} is not WIDTHxHEIGHT (e.g. 2000x2000) or one of: "
            f"{', '.join(CANVAS_PRESETS)}")
    return CanvasSpec(int(m.group(1)), int(m.group(2))), None


def subject_bounds(alpha: np.ndarray, threshold: float = SUBJECT_THRESHOLD
                   ) -> tuple[int, int, int, int] | None:
    """(y0, y1, x0, x1) of the pixels with α > ``threshold``, or None when there are none."""
    rows = np.flatnonzero((alpha > threshold).any(axis=1))
    if rows.size == 0:
        return None
    y0, y1 = int(rows[0]), int(rows[-1]) + 1
    cols = np.flatnonzero((alpha[y0:y1] > threshold).any(axis=0))
    return y0, y1, int(cols[0]), int(cols[-1]) + 1


def place_on_canvas(foreground: np.ndarray, alpha: np.ndarray, canvas: CanvasSpec,
                    threshold: float = SUBJECT_THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
    """(foreground, alpha) of the canvas: the subject's bounding box scaled (up or down) to
    fill the canvas inside its margin, centred; transparent around it.

    Scaling works on premultiplied colours (the foreground under α = 0 is the old background
    and must not bleed into the edge). :class:`~.errors.ExportError` when the cut-out holds
    no subject.
    """
    bounds = subject_bounds(alpha, threshold)
    if bounds is None:
        raise ExportError("the cut-out is empty (nothing is opaque), so there is nothing to "
                          "place on the canvas")
    y0, y1, x0, x1 = bounds
    bh, bw = y1 - y0, x1 - x0
    iw, ih = canvas.inner
    scale = min(iw / bw, ih / bh)
    nw, nh = max(1, round(bw * scale)), max(1, round(bh * scale))
    a = np.asarray(alpha[y0:y1, x0:x1], np.float32)
    premult = np.asarray(foreground[y0:y1, x0:x1], np.float32) * a[:, :, None]
    interp = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_CUBIC
    small_a = np.clip(cv2.resize(a, (nw, nh), interpolation=interp), 0.0, 1.0)
    small_p = cv2.resize(premult, (nw, nh), interpolation=interp)
    if small_p.ndim == 2:  # cv2 drops a single channel; a 1-pixel-wide image keeps 3
        small_p = small_p[:, :, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        fg = np.where(small_a[:, :, None] > 1e-6, small_p / small_a[:, :, None], 0.0)
    fg = np.clip(fg, 0.0, 1.0).astype(np.float32)
    out_a = np.zeros((canvas.height, canvas.width), np.float32)
    out_f = np.zeros((canvas.height, canvas.width, 3), np.float32)
    oy, ox = (canvas.height - nh) // 2, (canvas.width - nw) // 2
    out_a[oy:oy + nh, ox:ox + nw] = small_a
    out_f[oy:oy + nh, ox:ox + nw] = fg
    return out_f, out_a
