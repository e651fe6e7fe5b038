"""numpy ↔ QImage conversions for display (8-bit, display only; exports go through core)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor, QImage, QPixmap

from ..core.trimap import BACKGROUND, FOREGROUND

# Colours shared by the brushes, the overlay and the legend.
MODE_COLORS = {
    "foreground": QColor(46, 204, 64),
    "background": QColor(230, 57, 70),
    "unknown": QColor(255, 200, 40),
}


def to_qimage(arr: np.ndarray) -> QImage:
    """QImage for a uint8 array: (h, w) grey, (h, w, 3) RGB or (h, w, 4) straight RGBA.

    The returned image owns a copy of the pixels, so ``arr`` may change or be freed afterwards.
    """
    a = np.ascontiguousarray(arr)
    if a.dtype != np.uint8:
        raise TypeError(f"expected uint8, got {a.dtype}")
    h, w = a.shape[:2]
    if a.ndim == 2:
        fmt, stride = QImage.Format.Format_Grayscale8, w
    elif a.shape[2] == 3:
        fmt, stride = QImage.Format.Format_RGB888, 3 * w
    elif a.shape[2] == 4:
        fmt, stride = QImage.Format.Format_RGBA8888, 4 * w
    else:
        raise ValueError(f"unsupported shape {a.shape}")
    # QImage(buffer) only borrows ``a``; copy() gives Qt its own pixels before ``a`` goes away.
    img = QImage(a.data, w, h, stride, fmt)
    return img.copy()


def to_pixmap(arr: np.ndarray) -> QPixmap:
    return QPixmap.fromImage(to_qimage(arr))


def float_to_u8(x: np.ndarray) -> np.ndarray:
    return np.rint(np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)


def trimap_overlay(trimap: np.ndarray) -> np.ndarray:
    """RGBA uint8 tint for drawing a trimap over the photo: green / red / yellow."""
    h, w = trimap.shape
    out = np.zeros((h, w, 4), np.uint8)
    for value, mode, a in ((FOREGROUND, "foreground", 150), (BACKGROUND, "background", 170),
                           (None, "unknown", 190)):
        sel = (trimap == value) if value is not None else ((trimap != FOREGROUND) & (trimap != BACKGROUND))
        c = MODE_COLORS[mode]
        out[sel] = (c.red(), c.green(), c.blue(), a)
    return out


def cutout_rgba(foreground: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Straight-alpha RGBA uint8 for the composite preview."""
    return np.dstack([float_to_u8(foreground), float_to_u8(alpha)])
