"""TIFFs Pillow cannot read, through OpenCV (32-bit float HDR merges and the like)."""

from __future__ import annotations

import logging
import struct
from pathlib import Path

import cv2
import numpy as np

from ..errors import ImageLoadError
from .image import LoadedImage, too_large_message, unit
from .pixels import ORIENTATION_TAG

log = logging.getLogger(__name__)


def tiff_ifd0(data: bytes) -> dict[int, int]:
    """First-IFD scalar tags of a classic TIFF (width 256, height 257, orientation 274, ...)."""
    if data[:4] == b"II*\x00":
        e = "<"
    elif data[:4] == b"MM\x00*":
        e = ">"
    else:
        return {}
    tags: dict[int, int] = {}
    try:
        off = struct.unpack(e + "I", data[4:8])[0]
        count = struct.unpack(e + "H", data[off:off + 2])[0]
        for k in range(min(count, 1024)):
            entry = data[off + 2 + 12 * k: off + 14 + 12 * k]
            tag, typ = struct.unpack(e + "HH", entry[:4])
            if typ == 3:
                tags[tag] = struct.unpack(e + "H", entry[8:10])[0]
            elif typ == 4:
                tags[tag] = struct.unpack(e + "I", entry[8:12])[0]
    except struct.error:
        pass
    return tags


def decode_tiff_with_opencv(data: bytes, name: str, path: Path | None,
                             limit: int) -> LoadedImage | None:
    """TIFFs Pillow cannot read (32-bit float RGB from HDR merges, ...) through OpenCV."""
    tags = tiff_ifd0(data)
    w, h = tags.get(256, 0), tags.get(257, 0)
    if w <= 0 or h <= 0:
        return None
    if w * h > limit:
        raise ImageLoadError(too_large_message(name, w, h, limit))
    try:
        arr = cv2.imdecode(np.frombuffer(data, np.uint8),
                           cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    except (cv2.error, MemoryError):
        return None
    orientation = tags.get(ORIENTATION_TAG, 1)
    orientation = orientation if 1 <= orientation <= 8 else 1
    upright = (h, w) if orientation < 5 else (w, h)  # OpenCV applies the tag itself
    if arr is None or arr.shape[:2] != upright or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        return None
    scale = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0,
             np.dtype(np.float32): 1.0, np.dtype(np.float64): 1.0}.get(arr.dtype)
    if scale is None:
        return None
    depth = 8 if arr.dtype == np.uint8 else 16
    px = unit(arr, scale)
    px = np.nan_to_num(px, nan=0.0, posinf=1.0, neginf=0.0)
    if scale == 1.0 and float(px.max(initial=0.0)) > 1.0:
        log.warning("%s: values above 1.0 (HDR) are clipped", name)
    alpha = None
    if px.ndim == 2:
        rgb = np.repeat(px[:, :, None], 3, axis=2)
    else:
        rgb = px[:, :, 2::-1]
        if px.shape[2] == 4:
            alpha = np.clip(px[:, :, 3], 0.0, 1.0)
    rgb = np.clip(np.ascontiguousarray(rgb), 0.0, 1.0)
    if alpha is not None:
        alpha = np.ascontiguousarray(alpha)
    log.info("loaded %s through OpenCV: %d×%d, %s", name, rgb.shape[1], rgb.shape[0], arr.dtype)
    return LoadedImage(rgb=rgb.astype(np.float32, copy=False), source_alpha=alpha,
                       bit_depth=depth, icc_profile=None, exif=None, path=path, format="TIFF")
