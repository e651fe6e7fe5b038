"""Load photos into float32 RGB (EXIF orientation applied, metadata kept).

Every failure is an :class:`ImageLoadError` whose message names the file and says what is
wrong in words a photographer understands.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError, features

from ..errors import ImageLoadError
from ..memory import check_photo_fits
from .heif import HEIF_KINDS, decode_heif
from .image import LoadedImage, max_pixels, too_large_message
from .names import display_name, short
from .pixels import (
    ORIENTATION_TAG,
    apply_orientation,
    checked_icc,
    orientation_of,
    pixels_of,
    safe_exif,
)
from .png import fast_png
from .quiet import quiet_opencv, quiet_pillow_log, warnings_to_debug
from .raw import RAW_KINDS, decode_raw
from .sniff import (
    AVIF_KIND,
    MAX_JPEG_SCANS,
    RAW_SUFFIXES,
    damaged_message,
    min_file_bytes,
    sniff_kind,
    unidentified_message,
)
from .tiff import decode_tiff_with_opencv, fast_tiff

log = logging.getLogger(__name__)

PIL_FORMATS = ("JPEG", "PNG", "TIFF", "WEBP", "BMP", "GIF") + (
    ("AVIF",) if features.check("avif") else ())
"""The only Pillow decoders we let near a file. Others (EPS runs Ghostscript, PSD, ICO, ...)
are refused with a "not supported" message rather than half-supported. AVIF: Pillow ≥ 11.3."""

MAX_FILE_BYTES = 4 << 30
"""Files larger than this are refused before reading (no photo format needs more)."""

# Pillow's own bomb check would fire before ours with a less helpful message.
Image.MAX_IMAGE_PIXELS = None


def load_image(path: str | os.PathLike[str], limit: int | None = None, *,
               raw_preview: bool = False) -> LoadedImage:
    """Read an image file (JPEG, PNG 8/16-bit, TIFF, WebP, BMP, first frame of GIF/WebP/APNG,
    HEIC/HEIF, AVIF, camera RAW).

    The file is only read, never modified. Images larger than ``limit`` pixels (default
    :func:`max_pixels`), files too short to hold the pixels their header declares and photos
    that would not fit in memory (:func:`~..memory.check_photo_fits`) are refused from their
    header, before any pixel memory is allocated. ``raw_preview``: for a camera RAW file, the
    JPEG the camera embedded (fast, 8-bit) instead of developing the sensor data.

    Raises
    ------
    ImageLoadError
        With a one-line message naming the file.
    """
    path = Path(path)
    name = display_name(path)
    data = read_bytes(path, name)
    return decode_image(data, name=name, path=path, limit=limit, raw_preview=raw_preview)


def decode_image(
    data: bytes, name: str = "image", path: Path | None = None, limit: int | None = None,
    *, raw_preview: bool = False,
) -> LoadedImage:
    """Decode image bytes; see :func:`load_image`."""
    limit = max_pixels() if limit is None else limit
    if not data:
        raise ImageLoadError(f"{name}: the file is empty (0 bytes)")
    suffix = path.suffix.lower() if path is not None else ""
    kind = sniff_kind(data)
    quiet_opencv()
    quiet_pillow_log()
    if kind in HEIF_KINDS:
        return decode_heif(data, name, path, limit)
    if kind in RAW_KINDS or (suffix in RAW_SUFFIXES and kind not in ("JPEG", "PNG")):
        return decode_raw(data, name, path, limit, preview=raw_preview)
    if kind == "JPEG" and data.count(b"\xff\xda") > MAX_JPEG_SCANS:
        # Each start-of-scan re-decodes the whole picture: a small file with thousands of
        # scans keeps a decoder busy for minutes. Real progressive JPEGs use about ten.
        raise ImageLoadError(f"{name}: the JPEG file is damaged (far too many scans)")
    if kind == AVIF_KIND and "AVIF" not in PIL_FORMATS:
        raise ImageLoadError(f"{name}: opening AVIF images needs Pillow 11.3 or newer with "
                             "AVIF support (pip install -U pillow)")
    with warnings_to_debug(name):
        try:
            im = Image.open(io.BytesIO(data), formats=PIL_FORMATS)
        except UnidentifiedImageError:
            if kind == "TIFF":
                fallback = decode_tiff_with_opencv(data, name, path, limit)
                if fallback is not None:
                    return fallback
            raise ImageLoadError(unidentified_message(name, data, kind)) from None
        except MemoryError:
            raise ImageLoadError(f"{name}: not enough memory to open this file") from None
        except Exception as e:  # noqa: BLE001 - decoders raise anything on hostile bytes
            log.debug("%s: open failed", name, exc_info=True)
            fallback = decode_tiff_with_opencv(data, name, path, limit) if kind == "TIFF" \
                else None
            if fallback is not None:
                return fallback
            raise ImageLoadError(damaged_message(name, kind, e, data)) from None
        try:
            with im:
                return _decode_opened(im, data, name, path, limit)
        except ImageLoadError:
            if kind != "TIFF":
                raise
            fallback = decode_tiff_with_opencv(data, name, path, limit)
            if fallback is None:
                raise
            return fallback


def _decode_opened(im: Image.Image, data: bytes, name: str, path: Path | None,
                   limit: int) -> LoadedImage:
    w, h = im.size
    if w <= 0 or h <= 0:
        raise ImageLoadError(f"{name}: the image has no pixels ({w}×{h})")
    if w * h > limit:
        raise ImageLoadError(too_large_message(name, w, h, limit))
    fmt = (im.format or "").upper()
    if len(data) < min_file_bytes(data, fmt, w, h):
        raise ImageLoadError(f"{name}: the {fmt} file is truncated or damaged ({len(data):,} "
                             f"bytes cannot hold the {w}×{h} pixels its header declares)")
    check_photo_fits(name, w, h)
    try:
        fast = fast_png(im, data, fmt, name)
        if fast is None and fmt == "TIFF":  # the tags are read; no pixel decoded yet
            exif = safe_exif(im, name, loaded=False)
            fast = fast_tiff(im, data, fmt, name, orientation_of(exif))
        if fast is None:
            im.load()
            exif = safe_exif(im, name)
        elif fmt == "PNG":  # every chunk is before IDAT, so Pillow's parse of them is complete
            exif = safe_exif(im, name, loaded=False)
        orientation = orientation_of(exif)
        icc = im.info.get("icc_profile") or None
        if fast is not None:
            pixels, alpha, depth = fast
            grey = im.mode in ("L", "I") or im.mode.startswith("I;16")
            icc = None if grey else checked_icc(icc, name, "RGB")
        else:
            pixels, alpha, depth, icc = pixels_of(im, data, fmt, icc, name, orientation)
        if pixels.shape[:2] != (h, w):
            raise ValueError(f"decoded {pixels.shape[1]}×{pixels.shape[0]}, header says {w}×{h}")
    except ImageLoadError:
        raise
    except MemoryError:
        raise ImageLoadError(f"{name}: not enough memory to open this image ({w}×{h})") from None
    except Exception as e:  # noqa: BLE001 - decoders raise anything on hostile bytes
        log.debug("%s: decode failed", name, exc_info=True)
        raise ImageLoadError(damaged_message(name, fmt, e, data)) from None

    pixels = apply_orientation(pixels, orientation)
    if alpha is not None:
        alpha = apply_orientation(alpha, orientation)
    exif_bytes = None
    if len(exif):
        try:
            exif[ORIENTATION_TAG] = 1
            exif_bytes = exif.tobytes()
        except Exception:  # noqa: BLE001 - malformed EXIF is dropped, not fatal
            log.warning("%s: EXIF block could not be re-encoded and will not be exported", name)
    rgb = np.ascontiguousarray(pixels, dtype=np.float32)
    # min / max see NaN too (they propagate it), without the temporaries of isfinite and clip
    if rgb.size and not (rgb.min() >= 0.0 and rgb.max() <= 1.0):
        if not np.isfinite(rgb).all():  # float TIFFs may hold NaN / inf
            rgb = np.nan_to_num(rgb, nan=0.0, posinf=1.0, neginf=0.0)
        np.clip(rgb, 0.0, 1.0, out=rgb)
    log.info("loaded %s: %d×%d, %d-bit, %s", name, rgb.shape[1], rgb.shape[0], depth, fmt)
    return LoadedImage(
        rgb=rgb,
        source_alpha=None if alpha is None else np.ascontiguousarray(alpha, dtype=np.float32),
        bit_depth=depth,
        icc_profile=icc,
        exif=exif_bytes,
        path=path,
        format=fmt,
    )


@contextmanager
def read_errors(name: str, where: str) -> Iterator[None]:
    """Turn what can go wrong while reading the file ``name`` (found in ``where``) into an
    :class:`ImageLoadError` with one line; for local files and fsspec URLs alike."""
    try:
        yield
    except FileNotFoundError:
        raise ImageLoadError(f"{name}: file not found ({where})") from None
    except PermissionError:
        raise ImageLoadError(f"{name}: permission denied (cannot read the file)") from None
    except IsADirectoryError:
        raise ImageLoadError(f"{name}: is a folder, not an image file") from None
    except OSError as e:
        if e.errno == errno.ENAMETOOLONG:
            raise ImageLoadError(f"{name}: the file name or path is too long") from None
        raise ImageLoadError(f"{name}: cannot be read ({short(e)})") from None
    except MemoryError:
        raise ImageLoadError(f"{name}: not enough memory to read the file") from None


def read_bytes(path: Path, name: str) -> bytes:
    with read_errors(name, display_name(path.parent)):
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise ImageLoadError(f"{name}: is a folder, not an image file")
        if not stat.S_ISREG(st.st_mode):
            raise ImageLoadError(f"{name}: not a regular file (a device, pipe or socket)")
        if st.st_size > MAX_FILE_BYTES:
            raise ImageLoadError(
                f"{name}: the file is too large to open ({st.st_size / 2**30:.1f} GB)")
        with open(path, "rb") as f:
            return f.read()


def load_grey(path: str | os.PathLike[str], what: str = "image") -> np.ndarray:
    """Read a single-channel uint8 image (a trimap or mask), EXIF orientation applied.

    Same checks as :func:`load_image` (regular file, size, decoders, bombs); 8-bit grey files
    are decoded straight to uint8, without a float RGB copy (288 MB at 24 MP).
    """
    path = Path(path)
    name = display_name(path)
    data = read_bytes(path, name)
    grey = _decode_grey_8bit(data, name, path)
    if grey is None:
        img = decode_image(data, name=name, path=path)
        grey = np.clip(np.rint(img.rgb.mean(axis=2) * 255.0), 0, 255).astype(np.uint8)
    log.debug("loaded %s %s as grey", what, name)
    return grey


def _decode_grey_8bit(data: bytes, name: str, path: Path) -> np.ndarray | None:
    """8-bit greyscale file decoded straight to uint8, or None to take the general path."""
    kind = sniff_kind(data)
    if kind not in ("PNG", "TIFF", "BMP", "JPEG") or path.suffix.lower() in RAW_SUFFIXES:
        return None
    quiet_pillow_log()
    if kind == "JPEG" and data.count(b"\xff\xda") > MAX_JPEG_SCANS:
        return None
    try:
        with warnings_to_debug(name):
            with Image.open(io.BytesIO(data), formats=("PNG", "TIFF", "BMP", "JPEG")) as im:
                w, h = im.size
                if im.mode != "L" or w * h > max_pixels() or w <= 0 or h <= 0:
                    return None
                if kind == "TIFF" and im.info.get("compression", "raw") != "raw":
                    return None  # Pillow's libtiff would print its complaints: fast_tiff's way
                if len(data) < min_file_bytes(data, kind, w, h):
                    return None  # decode_image says why
                im.load()
                orientation = orientation_of(safe_exif(im, name))
                grey = np.asarray(im, dtype=np.uint8)
        if grey.shape != (h, w):
            return None
        return np.ascontiguousarray(apply_orientation(grey, orientation))
    except Exception:  # noqa: BLE001 - anything unusual goes through decode_image's checks
        return None
