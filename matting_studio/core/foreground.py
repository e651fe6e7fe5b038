"""Foreground colour estimation, so that cut-out edges carry no halo of the old background."""

from __future__ import annotations

import numpy as np
from pymatting.foreground.estimate_foreground_ml import estimate_foreground_ml

from .progress import CancelToken

EDGE_MARGIN = 8
"""Pixels around the semi-transparent band whose colours take part in the estimate."""


def estimate_foreground(
    image: np.ndarray, alpha: np.ndarray, cancel: CancelToken | None = None
) -> np.ndarray:
    """Foreground colours F (float32 (h, w, 3), 0..1) such that image ≈ αF + (1 − α)B.

    Uses pymatting's multilevel estimator (Germer et al. 2020) on the bounding box of the
    semi-transparent pixels (plus a margin); elsewhere F is the image itself, which is exact
    where α = 1 and invisible where α = 0.
    """
    img = np.asarray(image, np.float32)
    a = np.asarray(alpha, np.float32)
    fg = img.copy()
    soft = (a > 1e-3) & (a < 1.0 - 1e-3)
    rows = np.flatnonzero(soft.any(axis=1))
    if rows.size == 0:
        return fg
    cols = np.flatnonzero(soft.any(axis=0))
    h, w = a.shape
    y0, y1 = max(rows[0] - EDGE_MARGIN, 0), min(rows[-1] + EDGE_MARGIN + 1, h)
    x0, x1 = max(cols[0] - EDGE_MARGIN, 0), min(cols[-1] + EDGE_MARGIN + 1, w)
    if cancel is not None:
        cancel.check()
    crop = estimate_foreground_ml(
        np.ascontiguousarray(img[y0:y1, x0:x1]), np.ascontiguousarray(a[y0:y1, x0:x1])
    )
    crop = np.clip(np.asarray(crop, np.float32), 0.0, 1.0)
    region = fg[y0:y1, x0:x1]
    keep = a[y0:y1, x0:x1] >= 1.0 - 1e-3
    crop[keep] = region[keep]
    fg[y0:y1, x0:x1] = crop
    return fg
