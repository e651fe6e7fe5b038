"""HEIC / HEIF photos (phones) through pillow-heif (libheif): 8 or 10/12-bit, ICC and EXIF kept.

libheif turns the picture upright itself (the container's rotation and mirror boxes are the
authority in HEIF); the EXIF orientation in these files only repeats it, so it is reset to 1
and never applied a second time. AVIF is read by Pillow itself (see :mod:`.decode`).
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import ImageLoadError
from ..memory import check_photo_fits
from .image import LoadedImage, too_large_message
from .names import short
from .pixels import ORIENTATION_TAG, checked_icc

log = logging.getLogger(__name__)

HEIF_KINDS = ("a HEIC/HEIF photo",)


def decode_heif(data: bytes, name: str, path: Path | None, limit: int) -> LoadedImage:
    """Decode a HEIC / HEIF file's primary image; :class:`ImageLoadError` on any problem."""
    try:
        import pillow_heif
    except ImportError:
        raise ImageLoadError(f"{name}: opening HEIC photos needs the pillow-heif package "
                             "(pip install pillow-heif)") from None
    try:
        heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=False)
        w, h = heif.size
    except MemoryError:
        raise ImageLoadError(f"{name}: not enough memory to open this file") from None
    except Exception as e:  # libheif raises ValueError / RuntimeError on damaged files
        log.debug("%s: HEIF header", name, exc_info=True)
        raise ImageLoadError(f"{name}: the HEIC file is damaged or not a photo ({short(e)})") \
            from None
    if w <= 0 or h <= 0:
        raise ImageLoadError(f"{name}: the image has no pixels ({w}×{h})")
    if w * h > limit:
        raise ImageLoadError(too_large_message(name, w, h, limit))
    check_photo_fits(name, w, h)
    info = heif.info
    bits = int(info.get("bit_depth") or 8)
    try:
        arr = np.asarray(heif)
    except MemoryError:
        raise ImageLoadError(f"{name}: not enough memory to open this image ({w}×{h})") \
            from None
    except Exception as e:
        log.debug("%s: HEIF decode", name, exc_info=True)
        raise ImageLoadError(f"{name}: the HEIC file is truncated or damaged ({short(e)})") \
            from None
    if arr.ndim != 3 or arr.shape[:2] != (h, w) or arr.shape[2] not in (3, 4):
        raise ImageLoadError(f"{name}: the HEIC file is damaged (unexpected picture layout)")
    if arr.dtype == np.uint16:
        # pillow-heif gives 10/12-bit samples shifted to the top of 16 bits
        top = float(((1 << bits) - 1) << (16 - bits)) if 8 < bits < 16 else 65535.0
    else:
        top = 255.0
    px = np.divide(arr, np.float32(top), dtype=np.float32)
    np.clip(px, 0.0, 1.0, out=px)
    rgb = np.ascontiguousarray(px[:, :, :3])
    alpha = np.ascontiguousarray(px[:, :, 3]) if arr.shape[2] == 4 else None
    icc = checked_icc(info.get("icc_profile") or None, name, "RGB")
    exif = _upright_exif(info.get("exif"), name)
    depth = 16 if arr.dtype == np.uint16 else 8
    log.info("loaded %s: %d×%d, %d-bit HEIF", name, w, h, bits)
    return LoadedImage(rgb=rgb, source_alpha=alpha, bit_depth=depth, icc_profile=icc,
                       exif=exif, path=path, format="HEIF")


def _upright_exif(raw: bytes | None, name: str) -> bytes | None:
    """The EXIF block with orientation 1 (the pixels are upright), or None."""
    if not raw:
        return None
    try:
        exif = Image.Exif()
        exif.load(raw)
        if ORIENTATION_TAG in exif:
            exif[ORIENTATION_TAG] = 1
        return exif.tobytes()
    except Exception:  # noqa: BLE001 - a damaged EXIF block is dropped, not fatal
        log.warning("%s: the EXIF block is damaged and is ignored", name)
        return None
