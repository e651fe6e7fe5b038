"""TIFF, WebP and JPEG encoders of finished 8/16-bit pixels (PNG has its own writer in
:mod:`.export`). Each takes a uint8 / uint16 array (h, w) grey, (h, w, 3) RGB or (h, w, 4)
straight-alpha RGBA and returns the file's bytes.

* TIFF: tifffile (pure Python), Adobe Deflate (fast level) with horizontal prediction,
  unassociated alpha (ExtraSamples = 2: straight, as our cut-outs are), 8 or 16 bits, ICC
  profile kept (tifffile writes no EXIF directory).
* WebP: Pillow, lossless (alpha kept), ICC and EXIF kept; at most 16383 pixels a side.
* JPEG: Pillow, quality 95 with full-resolution colour (4:4:4), ICC and EXIF kept; at most
  65535 pixels a side. No alpha: the caller composites on a colour first.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from .errors import ExportError

WEBP_MAX_SIDE = 16383
JPEG_MAX_SIDE = 65535
TIFF_ROWS_PER_STRIP = 64
TIFF_DEFLATE_LEVEL = 1
"""zlib level: the fastest; higher levels cost several times the time for files a few tens of
% smaller, and retouching tools re-save anyway (ADR 0011)."""
WEBP_EFFORT = 10
WEBP_METHOD = 1
"""Pillow's ``quality`` (effort, 0–100) and ``method`` (0–6) of lossless WebP: most of the size
gain of the default effort at a third of its time (ADR 0011)."""


def _mode(pixels: np.ndarray) -> str:
    if pixels.ndim == 2:
        return "L"
    return {3: "RGB", 4: "RGBA"}[pixels.shape[2]]


def encode_tiff(pixels: np.ndarray, icc: bytes | None = None) -> bytes:
    """TIFF bytes (deflate + predictor; RGBA with unassociated alpha)."""
    import tifffile

    if pixels.dtype not in (np.uint8, np.uint16):
        raise ValueError("TIFF pixels must be uint8 or uint16")
    kwargs: dict = {}
    if pixels.ndim == 2:
        kwargs["photometric"] = "minisblack"
    else:
        kwargs["photometric"] = "rgb"
        if pixels.shape[2] == 4:
            kwargs["extrasamples"] = ["unassalpha"]
    if icc and pixels.ndim == 3:
        kwargs["iccprofile"] = icc
    buf = io.BytesIO()
    tifffile.imwrite(buf, np.ascontiguousarray(pixels), compression="zlib",
                     compressionargs={"level": TIFF_DEFLATE_LEVEL}, predictor=True,
                     rowsperstrip=TIFF_ROWS_PER_STRIP, maxworkers=1, metadata=None,
                     software="Matting Studio", **kwargs)
    return buf.getvalue()


def encode_webp(pixels: np.ndarray, icc: bytes | None = None, exif: bytes | None = None
                ) -> bytes:
    """Lossless WebP bytes (8-bit)."""
    h, w = pixels.shape[:2]
    if max(h, w) > WEBP_MAX_SIDE:
        raise ExportError(f"WebP images can be at most {WEBP_MAX_SIDE} pixels on a side; this "
                          f"one is {w}×{h} (write a PNG or TIFF, or use --canvas)")
    im = Image.fromarray(np.ascontiguousarray(pixels, np.uint8), _mode(pixels))
    if im.mode == "L":
        im = im.convert("RGB")
    buf = io.BytesIO()
    kwargs = _metadata(icc, exif, im.mode)
    im.save(buf, "WEBP", lossless=True, quality=WEBP_EFFORT, method=WEBP_METHOD, **kwargs)
    return buf.getvalue()


def encode_jpeg(pixels: np.ndarray, quality: int = 95, icc: bytes | None = None,
                exif: bytes | None = None) -> bytes:
    """JPEG bytes of 8-bit grey or RGB pixels."""
    h, w = pixels.shape[:2]
    if max(h, w) > JPEG_MAX_SIDE:
        raise ExportError(f"JPEG images can be at most {JPEG_MAX_SIDE} pixels on a side; "
                          f"this one is {w}×{h}")
    if pixels.ndim == 3 and pixels.shape[2] == 4:
        raise ValueError("JPEG has no alpha: composite on a colour first")
    im = Image.fromarray(np.ascontiguousarray(pixels, np.uint8), _mode(pixels))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=int(quality), subsampling=0 if im.mode == "RGB" else -1,
            optimize=False, **_metadata(icc, exif, im.mode))
    return buf.getvalue()


def _metadata(icc: bytes | None, exif: bytes | None, mode: str) -> dict:
    out: dict = {}
    if icc and mode.startswith("RGB"):
        out["icc_profile"] = icc
    if exif:
        out["exif"] = exif if exif.startswith(b"Exif\x00\x00") else b"Exif\x00\x00" + exif
    return out
