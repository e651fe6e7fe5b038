"""Every bound on a number a user can set, in one place.

Command-line flags, project files, autosaves, settings and the editor's fields all check their
numbers against these limits where the numbers enter, so a bad value gets one line naming the
field and the allowed range before any photo work starts. The limits keep every request
within seconds and bounded memory: e.g. the classic trimap's erosion costs time in proportion
to kernel area × iterations × pixels.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from typing import Any


class LimitError(ValueError):
    """A value outside its limit; ``str(err)`` names the field and the allowed range."""


@dataclass(frozen=True)
class Limit:
    """A closed range ``[lo, hi]`` of allowed values, whole numbers only if ``integer``."""

    lo: float
    hi: float
    integer: bool = False

    def describe(self) -> str:
        def fmt(v: float) -> str:
            return str(int(v)) if self.integer or float(v).is_integer() else f"{v:g}"

        kind = "a whole number" if self.integer else "a number"
        return f"{kind} from {fmt(self.lo)} to {fmt(self.hi)}"

    def check(self, value: Any, field: str) -> Any:
        """``value`` as int (``integer``) or float, if within the limit; else :class:`LimitError`.

        Accepts ints, floats and numeric strings (command lines); refuses booleans, NaN,
        infinities and integers too large to be a float without raising OverflowError.
        """
        if isinstance(value, str):
            try:
                value = int(value) if self.integer else float(value)
            except ValueError:
                raise LimitError(f"{field} must be {self.describe()} (got {value[:40]!r})") \
                    from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise LimitError(f"{field} must be {self.describe()} (got {_show(value)})")
        if isinstance(value, int) and not (self.lo <= value <= self.hi):
            raise LimitError(f"{field} must be {self.describe()} (got {_show(value)})")
        if isinstance(value, float) and not (math.isfinite(value) and self.lo <= value <= self.hi):
            raise LimitError(f"{field} must be {self.describe()} (got {_show(value)})")
        if self.integer:
            if float(value) != int(value):
                raise LimitError(f"{field} must be {self.describe()} (got {_show(value)})")
            return int(value)
        return float(value)

    def arg(self, flag: str):
        """An argparse ``type=`` that applies this limit to ``flag``."""

        def parse(text: str):
            try:
                return self.check(text, flag)
            except LimitError as e:
                raise argparse.ArgumentTypeError(str(e).removeprefix(f"{flag} ")) from None

        parse.__name__ = flag
        return parse


def _show(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**15:
        return f"a {len(str(abs(value)))}-digit number"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# -- classic trimap (erode / dilate a binarised mask) -------------------------------------------
KERNEL_SIZE = Limit(1, 31, integer=True)
ITERATIONS = Limit(0, 10, integer=True)
MASK_THRESHOLD = Limit(0.01, 0.99)
LEVEL = Limit(0, 255, integer=True)
"""fg_level / bg_level of the classic trimap (grey levels)."""

# -- adaptive trimap (band shaped by mask confidence and image edges) ----------------------------
BAND_FRACTION = Limit(0.0005, 0.25)
"""Band half-widths, as fractions of the shorter image side."""
RAMP_SCALE = Limit(0.05, 20.0)
UNIT_INTERVAL = Limit(0.0, 1.0)

# -- strokes ------------------------------------------------------------------------------------
BRUSH_RADIUS = Limit(0.05, 50_000.0)
"""Image pixels (a 200 MP photo is about 17,000 pixels on its long side)."""
COORDINATE = Limit(-1_000_000.0, 1_000_000.0)
"""Stroke points in image pixels; far outside the photo paints nothing, but stays cheap."""
POINTS_PER_STROKE = Limit(0, 1_000_000, integer=True)
STROKES_PER_PHOTO = Limit(0, 100_000, integer=True)

# -- files and machines -------------------------------------------------------------------------
FILE_SIZE = Limit(0, 2**50, integer=True)
"""Bytes of a photo referred to by a project."""
THREADS = Limit(1, 1024, integer=True)
PHOTOS_PER_PROJECT = Limit(0, 100_000, integer=True)

# -- edge adjustments after matting (core/edges.py) ---------------------------------------------
EDGE_SMOOTH = Limit(0.0, 100.0)
"""Pixels: size of the jags that smoothing rounds off."""
EDGE_FEATHER = Limit(0.0, 250.0)
"""Pixels: reach of the feather's blur."""
EDGE_CONTRAST = Limit(0.0, 100.0)
"""Percent: 100 makes every soft edge hard."""
EDGE_SHIFT = Limit(-100, 100, integer=True)
"""Pixels the edge moves out (grow) or in (shrink)."""

# -- export (core/export.py, core/canvas.py) ----------------------------------------------------
CANVAS_SIDE = Limit(16, 30_000, integer=True)
"""Pixels on each side of a product canvas (shops ask for 1000–3000)."""
CANVAS_MARGIN = Limit(0.0, 45.0)
"""Percent of the canvas's width / height left free on each side of the subject."""
JPEG_QUALITY = Limit(1, 100, integer=True)
