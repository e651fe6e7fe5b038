"""Encode cut-outs as PNG (straight alpha, 8 or 16 bit, ICC and EXIF kept) and write them atomically."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np

from .errors import ExportError
from .image_io import write_atomic


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def add_png_metadata(png: bytes, icc: bytes | None = None, exif: bytes | None = None) -> bytes:
    """Insert iCCP and eXIf chunks right after IHDR of an encoded PNG."""
    if not icc and not exif:
        return png
    ihdr_end = 8 + 8 + 13 + 4
    extra = b""
    if icc:
        extra += _chunk(b"iCCP", b"ICC profile\x00\x00" + zlib.compress(icc))
    if exif:
        tiff = exif[6:] if exif.startswith(b"Exif\x00\x00") else exif
        if tiff[:2] in (b"II", b"MM"):
            extra += _chunk(b"eXIf", tiff)
    return png[:ihdr_end] + extra + png[ihdr_end:]


PNG_COMPRESSION = 1
"""zlib level: 1 writes a 24 MP cut-out about twice as fast as 3, for files a few % larger."""
STRIP = 256
"""Rows converted at a time, so that no full-size float temporary is made."""


def _quantize(arr: np.ndarray, bits: int) -> np.ndarray:
    hi = 65535.0 if bits == 16 else 255.0
    dtype = np.uint16 if bits == 16 else np.uint8
    return np.rint(np.clip(arr, 0.0, 1.0) * hi).astype(dtype)


def _quantize_planes(planes: list[np.ndarray], bits: int) -> np.ndarray:
    """Stack float (h, w) planes into one uint8/uint16 (h, w, n) array, strip by strip."""
    h, w = planes[0].shape
    hi = np.float32(65535.0 if bits == 16 else 255.0)
    out = np.empty((h, w, len(planes)), np.uint16 if bits == 16 else np.uint8)
    for y0 in range(0, h, STRIP):
        y1 = min(y0 + STRIP, h)
        for c, plane in enumerate(planes):
            v = np.clip(np.asarray(plane[y0:y1], np.float32), 0.0, 1.0)
            v *= hi
            v += np.float32(0.5)
            out[y0:y1, :, c] = v  # truncation after +0.5: round half up
    return out


def _encode(q: np.ndarray, icc: bytes | None, exif: bytes | None) -> bytes:
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(q),
                           [cv2.IMWRITE_PNG_COMPRESSION, PNG_COMPRESSION])
    if not ok:
        raise ExportError("the PNG encoder failed")
    return add_png_metadata(buf.tobytes(), icc, exif)


def encode_png(pixels: np.ndarray, bits: int = 8, icc: bytes | None = None,
               exif: bytes | None = None) -> bytes:
    """PNG bytes for float 0..1 pixels: (h, w) grey, (h, w, 3) RGB or (h, w, 4) RGBA."""
    if bits not in (8, 16):
        raise ValueError("bits must be 8 or 16")
    if pixels.ndim == 2:
        q = _quantize_planes([pixels], bits)[:, :, 0]
    elif pixels.shape[2] == 4:
        q = _quantize_planes([pixels[:, :, 2], pixels[:, :, 1], pixels[:, :, 0],
                              pixels[:, :, 3]], bits)
    elif pixels.shape[2] == 3:
        q = _quantize_planes([pixels[:, :, 2], pixels[:, :, 1], pixels[:, :, 0]], bits)
    else:
        q = _quantize(pixels, bits)
    return _encode(q, icc, exif)


def cutout_rgba(foreground: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Straight-alpha RGBA float array from foreground colours and alpha."""
    return np.concatenate([np.clip(foreground, 0, 1), np.clip(alpha, 0, 1)[:, :, None]], axis=2)


def encode_cutout(foreground: np.ndarray, alpha: np.ndarray, bits: int = 8,
                  icc: bytes | None = None, exif: bytes | None = None) -> bytes:
    """PNG bytes of the straight-alpha cut-out, without a full-size float RGBA copy."""
    if bits not in (8, 16):
        raise ValueError("bits must be 8 or 16")
    q = _quantize_planes([foreground[:, :, 2], foreground[:, :, 1], foreground[:, :, 0], alpha],
                         bits)
    return _encode(q, icc, exif)


def save_cutout(path: str | os.PathLike[str], foreground: np.ndarray, alpha: np.ndarray, *,
                bits: int = 8, icc: bytes | None = None, exif: bytes | None = None,
                protect: tuple[str | os.PathLike[str], ...] = ()) -> Path:
    """Write a straight-alpha RGBA PNG atomically; never over a file in ``protect``."""
    return write_atomic(path, encode_cutout(foreground, alpha, bits, icc, exif), protect)


def save_alpha(path: str | os.PathLike[str], alpha: np.ndarray, *, bits: int = 8,
               protect: tuple[str | os.PathLike[str], ...] = ()) -> Path:
    """Write the alpha matte as a grey PNG atomically."""
    return write_atomic(path, encode_png(alpha, bits), protect)


def save_trimap(path: str | os.PathLike[str], trimap: np.ndarray, *,
                protect: tuple[str | os.PathLike[str], ...] = ()) -> Path:
    """Write a trimap (uint8 0/128/255) as an 8-bit grey PNG atomically."""
    return write_atomic(path, encode_png(trimap.astype(np.float32) / 255.0, 8), protect)
