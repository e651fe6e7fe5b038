"""numpy → QImage for display, and the pixel sources the views draw from.

Every conversion from arrays to Qt images lives here. A :class:`PixelSource` wraps a view's
full-resolution uint8 arrays *without copying them* (the photo, the trimap, the alpha are
shared between views and with the core) plus a display-size copy: a view zoomed out draws
the copy, a view zoomed in converts only the rectangle it shows (:meth:`PixelSource.region`).
Sources are made off the GUI thread (QImage is safe there, QPixmap is not).
"""

from __future__ import annotations

import sys

import cv2
import numpy as np
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QImage, QPainter

from ..core.trimap import BACKGROUND, FOREGROUND

# Colours shared by the brushes, the overlay and the legend.
MODE_COLORS = {
    "foreground": QColor(46, 204, 64),
    "background": QColor(230, 57, 70),
    "unknown": QColor(255, 200, 40),
}

DISPLAY_SIDE = 2048
"""Longest side of a source's display-size copy: a fit-to-window view of a 4K screen."""

_RGB32 = QImage.Format.Format_RGB32
_PREMULTIPLIED = QImage.Format.Format_ARGB32_Premultiplied
_LITTLE_ENDIAN = sys.byteorder == "little"


def float_to_u8(x: np.ndarray) -> np.ndarray:
    """Display bytes for floats in 0..1 (rounded, saturated); one OpenCV pass, no float copies."""
    a = np.asarray(x)
    if a.dtype not in (np.float32, np.float64):
        a = a.astype(np.float32)
    # values are 0..1 (negatives, if any, would be mirrored: clip them first)
    if a.size and float(a.min()) < 0.0:
        a = np.clip(a, 0.0, None)
    return cv2.convertScaleAbs(a, alpha=255.0)


def native_image(h: int, w: int, fmt: QImage.Format) -> tuple[QImage, np.ndarray]:
    """A new 32-bit image and a (h, w, 4) uint8 view of its pixels (B, G, R, A bytes on a
    little-endian machine: the layout QPainter draws without converting)."""
    img = QImage(max(w, 1), max(h, 1), fmt)
    if img.isNull():
        raise MemoryError("not enough memory for a display image")
    view = np.ndarray((img.height(), img.bytesPerLine() // 4, 4), np.uint8, buffer=img.bits())
    return img, view[:h, :w]


def to_qimage(arr: np.ndarray) -> QImage:
    """QImage owning a copy of a uint8 array: (h, w) grey, (h, w, 3) RGB or (h, w, 4)
    straight RGBA."""
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
    return QImage(a.data, w, h, stride, fmt).copy()


def qimage_to_array(img: QImage) -> np.ndarray:
    """(h, w, 4) uint8 R, G, B, A of any QImage (straight alpha): for tests and the clipboard."""
    rgba = img.convertToFormat(QImage.Format.Format_RGBA8888)
    h, w = rgba.height(), rgba.width()
    buf = np.ndarray((h, rgba.bytesPerLine()), np.uint8, buffer=rgba.constBits())
    return buf[:, :4 * w].reshape(h, w, 4).copy()


def _argb(c: QColor, alpha: int) -> int:
    return (alpha << 24) | (c.red() << 16) | (c.green() << 8) | c.blue()


OVERLAY_TABLE = [_argb(MODE_COLORS["unknown"], 190)] * 256
OVERLAY_TABLE[BACKGROUND] = _argb(MODE_COLORS["background"], 170)
OVERLAY_TABLE[FOREGROUND] = _argb(MODE_COLORS["foreground"], 100)
"""Trimap as a tint over the photo: green subject, red background, yellow unknown (ARGB)."""

def premultiplied_luts(table: list[int]) -> list[np.ndarray]:
    """A 256-entry ARGB table as premultiplied B, G, R, A tables for cv2.LUT (every colour
    component at most its alpha, as premultiplied pixels must be)."""
    return [np.array([round(((c >> shift) & 255 if shift < 24 else 255) * (c >> 24) / 255)
                      for c in table], np.uint8) for shift in (0, 8, 16, 24)]


OVERLAY_LUTS = premultiplied_luts(OVERLAY_TABLE)
"""OVERLAY_TABLE for cv2.LUT."""

CHECK_HERE_LUTS = premultiplied_luts([0] + [_argb(QColor(255, 40, 90), 150)] * 255)
"""A "check here" mask (0 / nonzero) as a red tint."""


def trimap_overlay(trimap: np.ndarray) -> np.ndarray:
    """RGBA uint8 of :data:`OVERLAY_TABLE` applied to ``trimap`` (for tests and exports)."""
    lut = np.array([[(c >> 16) & 255, (c >> 8) & 255, c & 255, (c >> 24) & 255]
                    for c in OVERLAY_TABLE], np.uint8)
    return lut[trimap]


def cutout_rgba(foreground: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Straight-alpha RGBA uint8 of a cut-out (float colours and alpha)."""
    return np.dstack([float_to_u8(foreground), float_to_u8(alpha)])


# --------------------------------------------------------------------------------------------
# Pixel sources


class PixelSource:
    """One view's pixels: uint8 arrays of the photo's size, shared (never copied here), and a
    display-size copy made at once.

    ``image_size`` (w, h) is the photo's size; arrays smaller than it (a prepared photo's
    display-size pixels) are a *preview source*: it has no full resolution to draw from and
    the view always scales its copy (``full_resolution`` is False).
    """

    interpolation = cv2.INTER_AREA
    fmt = _RGB32

    def __init__(self, *arrays: np.ndarray, image_size: tuple[int, int] | None = None):
        self.arrays = arrays
        h, w = arrays[0].shape[:2]
        self.image_size = image_size or (w, h)
        self.full_resolution = (w, h) == self.image_size
        f = min(1.0, DISPLAY_SIDE / max(h, w))
        self.display_size = (max(1, round(w * f)), max(1, round(h * f)))
        self.display_scale = self.display_size[0] / self.image_size[0]
        """Display pixels per image pixel."""
        self.display = self._convert(*(self._shrink(a) for a in arrays))

    # -- what a kind of source does
    def _convert(self, *arrays: np.ndarray) -> QImage:
        raise NotImplementedError

    def _shrink(self, a: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
        size = size or self.display_size
        if (a.shape[1], a.shape[0]) == size:
            return a
        return cv2.resize(a, size, interpolation=self.interpolation)

    # -- what views ask
    def region(self, y0: int, y1: int, x0: int, x1: int) -> QImage:
        """Full-resolution rectangle (image pixels) as an image of its own."""
        return self._convert(*(np.ascontiguousarray(a[y0:y1, x0:x1]) for a in self.arrays))

    def update(self, y0: int, y1: int, x0: int, x1: int) -> None:
        """The arrays changed inside the rectangle (image pixels): refresh the display copy
        there. Call on the GUI thread."""
        if not self.full_resolution:
            return
        s = self.display_scale
        dy0, dx0 = int(y0 * s), int(x0 * s)
        dy1 = min(self.display_size[1], int(np.ceil(y1 * s)) + 1)
        dx1 = min(self.display_size[0], int(np.ceil(x1 * s)) + 1)
        if dy1 <= dy0 or dx1 <= dx0:
            return
        # the source rows/columns that the display rows/columns dy0:dy1, dx0:dx1 average
        sy0, sx0 = int(dy0 / s), int(dx0 / s)
        sy1 = min(self.arrays[0].shape[0], int(np.ceil(dy1 / s)))
        sx1 = min(self.arrays[0].shape[1], int(np.ceil(dx1 / s)))
        parts = [self._shrink(np.ascontiguousarray(a[sy0:sy1, sx0:sx1]), (dx1 - dx0, dy1 - dy0))
                 for a in self.arrays]
        patch = self._convert(*parts)
        painter = QPainter(self.display)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
        painter.drawImage(dx0, dy0, patch)
        painter.end()

    def display_rect(self) -> QRect:
        return QRect(0, 0, *self.display_size)


class _OpaqueSource(PixelSource):
    """Opaque pixels drawn as RGB32 (B, G, R, 255 in memory: no conversion when painted);
    ``code`` is the OpenCV conversion from the arrays' layout."""

    code: int

    def _convert(self, pixels: np.ndarray) -> QImage:
        if not _LITTLE_ENDIAN:
            return to_qimage(pixels)
        img, view = native_image(pixels.shape[0], pixels.shape[1], _RGB32)
        cv2.cvtColor(np.ascontiguousarray(pixels), self.code, dst=view)
        return img


class RgbSource(_OpaqueSource):
    """A photo: uint8 (h, w, 3) RGB."""

    code = cv2.COLOR_RGB2BGRA


class GreySource(_OpaqueSource):
    """A matte or a trimap: uint8 (h, w)."""

    code = cv2.COLOR_GRAY2BGRA

    def __init__(self, grey: np.ndarray, nearest: bool = False, **kw):
        if nearest:  # a trimap keeps its three values when shrunk
            self.interpolation = cv2.INTER_NEAREST
        super().__init__(grey, **kw)


class TintSource(PixelSource):
    """A tint over the photo from a uint8 (h, w) label image and four premultiplied B, G, R, A
    tables (the trimap overlay, the "check here" marks)."""

    interpolation = cv2.INTER_NEAREST
    fmt = _PREMULTIPLIED

    def __init__(self, labels: np.ndarray, luts=OVERLAY_LUTS, **kw):
        self.luts = luts
        super().__init__(labels, **kw)

    def _convert(self, labels: np.ndarray) -> QImage:
        labels = np.ascontiguousarray(labels)
        if _LITTLE_ENDIAN:  # ARGB32 is B, G, R, A in memory: drawn without a conversion
            img, view = native_image(labels.shape[0], labels.shape[1], _PREMULTIPLIED)
            cv2.merge([cv2.LUT(labels, lut) for lut in self.luts], dst=view)
            return img
        b, g, r, a = (cv2.LUT(labels, lut) for lut in self.luts)
        rgba = np.ascontiguousarray(np.dstack([r, g, b, a]))
        h, w = labels.shape
        return QImage(rgba.data, w, h, 4 * w,
                      QImage.Format.Format_RGBA8888_Premultiplied).copy()


class CutoutSource(PixelSource):
    """The cut-out: uint8 (h, w, 3) RGB colours and uint8 (h, w) alpha, premultiplied when
    drawn."""

    fmt = _PREMULTIPLIED

    def _convert(self, rgb: np.ndarray, alpha: np.ndarray) -> QImage:
        rgb, alpha = np.ascontiguousarray(rgb), np.ascontiguousarray(alpha)
        if not _LITTLE_ENDIAN:
            return to_qimage(np.dstack([rgb, alpha]))
        img, view = native_image(alpha.shape[0], alpha.shape[1], _PREMULTIPLIED)
        bgra = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGRA)
        a4 = cv2.merge([alpha, alpha, alpha, alpha])
        cv2.multiply(bgra, a4, dst=view, scale=1.0 / 255.0)
        return img
