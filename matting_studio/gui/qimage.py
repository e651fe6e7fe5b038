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
    """Display bytes for floats in 0..1 (rounded, saturated); one OpenCV pass, no float copies."""
    import cv2

    a = np.asarray(x)
    if a.dtype not in (np.float32, np.float64):
        a = a.astype(np.float32)
    # values are 0..1 (negatives, if any, would be mirrored: clip them first)
    if a.size and float(a.min()) < 0.0:
        a = np.clip(a, 0.0, None)
    return cv2.convertScaleAbs(a, alpha=255.0)


def indexed_qimage(arr: np.ndarray, colors: list[int]) -> QImage:
    """Indexed-8 QImage (owning its pixels) for a uint8 (h, w) array and a 256-entry ARGB table.

    Qt expands the palette in C++, so showing a 24 MP trimap costs no numpy work.
    """
    a = np.ascontiguousarray(arr, dtype=np.uint8)
    h, w = a.shape
    img = QImage(a.data, w, h, w, QImage.Format.Format_Indexed8)
    img.setColorTable(colors)
    return img.copy()


def _argb(c: QColor, alpha: int) -> int:
    return (alpha << 24) | (c.red() << 16) | (c.green() << 8) | c.blue()


GREY_TABLE = [(0xFF << 24) | (v << 16) | (v << 8) | v for v in range(256)]
"""Trimap shown as it is: 0 black, 128 grey, 255 white."""

OVERLAY_TABLE = [_argb(MODE_COLORS["unknown"], 190)] * 256
OVERLAY_TABLE[BACKGROUND] = _argb(MODE_COLORS["background"], 170)
OVERLAY_TABLE[FOREGROUND] = _argb(MODE_COLORS["foreground"], 100)
"""Trimap as a tint over the photo: green subject, red background, yellow unknown."""


def trimap_overlay(trimap: np.ndarray) -> np.ndarray:
    """RGBA uint8 version of :data:`OVERLAY_TABLE` applied to ``trimap`` (for tests and exports)."""
    lut = np.array([[(c >> 16) & 255, (c >> 8) & 255, c & 255, (c >> 24) & 255]
                    for c in OVERLAY_TABLE], np.uint8)
    return lut[trimap]


def cutout_rgba(foreground: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Straight-alpha RGBA uint8 for the composite preview."""
    return np.dstack([float_to_u8(foreground), float_to_u8(alpha)])
