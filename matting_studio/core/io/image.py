"""The decoded photo (:class:`LoadedImage`), the pixel limit and the source-alpha cap."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

DEFAULT_MAX_PIXELS = 200_000_000
"""Largest image we decode (200 MP, beyond any current camera). Protects against decompression
bombs."""


@dataclass(frozen=True)
class LoadedImage:
    """A decoded photo.

    Attributes
    ----------
    rgb : float32 array, shape (h, w, 3), values 0..1, EXIF orientation already applied.
    source_alpha : float32 array (h, w) in 0..1, or None when the file had no alpha channel.
    bit_depth : 8 or 16, the precision per channel of the source file.
    icc_profile : the embedded ICC profile (RGB files), or None.
    exif : EXIF block with orientation reset to 1 (pixels are already upright), or None.
    """

    rgb: np.ndarray
    source_alpha: np.ndarray | None
    bit_depth: int
    icc_profile: bytes | None
    exif: bytes | None
    path: Path | None = None
    format: str = ""

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.rgb.shape[1], self.rgb.shape[0]

    def cap_alpha(self, alpha: np.ndarray) -> np.ndarray:
        """Limit a computed matte by the file's own alpha (see docs/adr/0001-rgba-input.md).

        A cut-out is never more opaque than the source pixel was: ``min(alpha, source_alpha)``.
        Idempotent; returns ``alpha`` unchanged for files without an alpha channel.
        """
        return cap_alpha(alpha, self.source_alpha)


def cap_alpha(alpha: np.ndarray, source_alpha: np.ndarray | None) -> np.ndarray:
    """``min(alpha, source_alpha)`` as float32; ``alpha`` unchanged without a source alpha."""
    if source_alpha is None:
        return alpha
    return np.minimum(alpha, source_alpha).astype(np.float32, copy=False)


def max_pixels() -> int:
    """Pixel limit, overridable with the ``MATTING_STUDIO_MAX_PIXELS`` environment variable."""
    try:
        return int(os.environ.get("MATTING_STUDIO_MAX_PIXELS", DEFAULT_MAX_PIXELS))
    except ValueError:
        return DEFAULT_MAX_PIXELS


def too_large_message(name: str, w: int, h: int, limit: int) -> str:
    """The one line that refuses a photo over the pixel ``limit``."""
    return (f"{name}: the image is too large ({w}×{h} = {w * h / 1e6:.0f} MP; the limit is "
            f"{limit / 1e6:.0f} MP)")


def unit(pixels, scale: float) -> np.ndarray:
    """float32 copy of ``pixels`` divided by ``scale``: one pass, one float buffer (the same
    values as converting first and dividing after).

    ``np.asarray`` first: asking numpy for float32 straight from a Pillow image goes through
    ``tobytes()`` and a generic conversion, three times slower at 4 MP."""
    return np.divide(np.asarray(pixels), np.float32(scale), dtype=np.float32)


def unit_rgb_alpha(pixels: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray | None]:
    """float32 RGB (h, w, 3) and alpha (or None) of OpenCV's grey, BGR or BGRA ``pixels``,
    divided by ``scale`` (:func:`unit`)."""
    if pixels.ndim == 2:
        return np.repeat(unit(pixels, scale)[:, :, None], 3, axis=2), None
    four = pixels.shape[2] == 4
    rgb = unit(cv2.cvtColor(pixels, cv2.COLOR_BGRA2RGB if four else cv2.COLOR_BGR2RGB), scale)
    return rgb, (unit(pixels[:, :, 3], scale) if four else None)
