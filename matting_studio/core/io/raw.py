"""Camera RAW files (DNG, CR2/CR3, NEF, ARW, RAF, ORF, RW2, …) through LibRaw (rawpy).

Full development: demosaicked (LibRaw's AHD) to 16 bits per channel in sRGB with the camera's
own white balance, LibRaw's automatic brightness (as a camera JPEG would look) and the sRGB
tone curve, turned upright by the file's orientation. ``preview=True`` takes the JPEG the
camera embedded instead (a fast first look, 8-bit, often smaller than the sensor).

EXIF: the camera's tags (make, model, exposure, lens, dates) are copied from the RAW file's
first TIFF directory when it has one; orientation is set to 1 (the pixels are upright).
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
from .pixels import ORIENTATION_TAG, apply_orientation

log = logging.getLogger(__name__)

RAW_KINDS = ("a camera RAW file", "a camera RAW file (CR3)")
"""What :func:`~.sniff.sniff_kind` calls RAW files it recognises by their first bytes."""

_FLIP_TO_ORIENTATION = {0: 1, 3: 3, 5: 8, 6: 6}
"""LibRaw's ``flip`` (0, 3: 180°, 5: 90° CCW, 6: 90° CW) as an EXIF orientation."""

_EXIF_IFD0_TAGS = (0x010F, 0x0110, 0x0131, 0x0132, 0x013B, 0x8298)
"""Make, Model, Software, DateTime, Artist, Copyright: the descriptive tags of IFD0 (the rest
of a RAW file's first directory describes its own strips, not our image)."""
_EXIF_IFD = 0x8769


def decode_raw(data: bytes, name: str, path: Path | None, limit: int,
               preview: bool = False) -> LoadedImage:
    """Develop a RAW file (or take its embedded JPEG with ``preview``)."""
    try:
        import rawpy
    except ImportError:
        raise ImageLoadError(f"{name}: opening camera RAW files needs the rawpy package "
                             "(pip install rawpy)") from None
    try:
        raw = rawpy.imread(io.BytesIO(data))
    except rawpy.LibRawFileUnsupportedError:
        raise ImageLoadError(_unsupported(name, rawpy)) from None
    except MemoryError:
        raise ImageLoadError(f"{name}: not enough memory to open this file") from None
    except Exception as e:  # LibRawIOError, LibRawDataError, …
        log.debug("%s: LibRaw open", name, exc_info=True)
        raise ImageLoadError(f"{name}: the RAW file is damaged or truncated ({short(e)})") \
            from None
    with raw:
        s = raw.sizes
        flip = int(s.flip)
        w, h = (s.height, s.width) if flip in (5, 6) else (s.width, s.height)
        if w <= 0 or h <= 0:
            raise ImageLoadError(f"{name}: the RAW file has no picture ({w}×{h})")
        if w * h > limit:
            raise ImageLoadError(too_large_message(name, w, h, limit))
        exif = _camera_exif(data, name)
        if preview:
            image = _embedded_preview(raw, rawpy, name, path, limit, flip, exif)
            if image is not None:
                return image
        check_photo_fits(name, w, h, raw=True)
        try:
            out = raw.postprocess(use_camera_wb=True, output_bps=16, gamma=(2.4, 12.92),
                                  output_color=rawpy.ColorSpace.sRGB)
        except (MemoryError, rawpy.LibRawUnsufficientMemoryError, rawpy.LibRawTooBigError):
            raise ImageLoadError(f"{name}: not enough memory to develop this RAW file "
                                 f"({w}×{h})") from None
        except rawpy.LibRawFileUnsupportedError:
            raise ImageLoadError(_unsupported(name, rawpy)) from None
        except Exception as e:
            log.debug("%s: LibRaw develop", name, exc_info=True)
            raise ImageLoadError(f"{name}: the RAW file is damaged or truncated "
                                 f"({short(e)})") from None
    if out.ndim != 3 or out.shape[2] != 3:
        raise ImageLoadError(f"{name}: this RAW file is not a colour photo (LibRaw gave "
                             f"{out.shape})")
    rgb = np.divide(out, np.float32(65535.0), dtype=np.float32)
    log.info("developed %s: %d×%d RAW, 16-bit", name, rgb.shape[1], rgb.shape[0])
    return LoadedImage(rgb=rgb, source_alpha=None, bit_depth=16, icc_profile=None, exif=exif,
                       path=path, format="RAW")


def _unsupported(name: str, rawpy) -> str:
    version = ".".join(str(v) for v in getattr(rawpy, "libraw_version", ()))
    return (f"{name}: this camera's RAW format is not supported (LibRaw {version}); convert "
            "it to DNG (e.g. with Adobe DNG Converter) or export a 16-bit TIFF")


def _embedded_preview(raw, rawpy, name: str, path: Path | None, limit: int, flip: int,
                      exif: bytes | None) -> LoadedImage | None:
    """The camera's embedded JPEG, upright, or None when there is no usable one."""
    from .decode import decode_image

    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError):
        log.info("%s: no embedded preview; developing the RAW data", name)
        return None
    except Exception:  # noqa: BLE001 - a damaged preview: develop the RAW data instead
        log.debug("%s: embedded preview", name, exc_info=True)
        return None
    if thumb.format == rawpy.ThumbFormat.BITMAP:  # uncompressed RGB (some cameras, DNGs)
        arr = np.asarray(thumb.data)
        if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
            return None
        icc, own_exif, stored_upright = None, None, False
        pixels, alpha = np.divide(arr, np.float32(255.0), dtype=np.float32), None
    elif thumb.format == rawpy.ThumbFormat.JPEG:
        try:
            image = decode_image(bytes(thumb.data), name=name, path=None, limit=limit)
        except ImageLoadError:
            log.info("%s: the embedded preview is unreadable; developing the RAW data", name)
            return None
        icc, own_exif = image.icc_profile, image.exif
        pixels, alpha = image.rgb, image.source_alpha
        stored_upright = _jpeg_orientation(bytes(thumb.data)) != 1
    else:
        return None
    if not stored_upright and flip:
        orientation = _FLIP_TO_ORIENTATION.get(flip, 1)  # stored as the sensor saw it
        pixels = np.ascontiguousarray(apply_orientation(pixels, orientation))
    log.info("%s: embedded preview %d×%d", name, pixels.shape[1], pixels.shape[0])
    return LoadedImage(rgb=pixels, source_alpha=alpha, bit_depth=8, icc_profile=icc,
                       exif=exif or own_exif, path=path, format="RAW preview")


def _jpeg_orientation(jpeg: bytes) -> int:
    try:
        with Image.open(io.BytesIO(jpeg)) as im:
            value = int(im.getexif().get(ORIENTATION_TAG, 1) or 1)
    except Exception:  # noqa: BLE001
        return 1
    return value if 1 <= value <= 8 else 1


def _camera_exif(data: bytes, name: str) -> bytes | None:
    """Descriptive EXIF of a TIFF-based RAW file (orientation 1), or None."""
    if data[:4] not in (b"II*\x00", b"MM\x00*"):
        return None
    try:
        src = Image.Exif()
        src.load(data)
        out = Image.Exif()
        for tag in _EXIF_IFD0_TAGS:
            value = src.get(tag)
            if isinstance(value, str):
                out[tag] = value.strip("\x00 ")[:256]
        out[ORIENTATION_TAG] = 1
        sub = src.get_ifd(_EXIF_IFD)
        if sub:
            ifd = out.get_ifd(_EXIF_IFD)
            for tag, value in sub.items():
                if not isinstance(value, bytes) or len(value) <= 256:  # no maker notes
                    ifd[tag] = value
        return out.tobytes() if len(out) > 1 or sub else None
    except Exception:  # noqa: BLE001 - EXIF is a courtesy: a damaged block is dropped
        log.debug("%s: RAW EXIF", name, exc_info=True)
        return None
