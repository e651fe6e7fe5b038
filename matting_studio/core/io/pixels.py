"""Pillow images to float32 arrays: bit depth, colour mode, ICC, EXIF orientation."""

from __future__ import annotations

import io
import logging

import cv2
import numpy as np
from PIL import Image, ImageCms

from ..errors import ImageLoadError
from .image import unit
from .png import pixel_chunks_only, pixels_inflate_right, png_bit_depth, png_chunks

log = logging.getLogger(__name__)

ORIENTATION_TAG = 0x0112


def safe_exif(im: Image.Image, name: str, loaded: bool = True) -> Image.Exif:
    try:
        # PngImageFile.getexif() decodes the pixels to look for chunks after IDAT;
        # the base method reads what was parsed already
        exif = im.getexif() if loaded else Image.Image.getexif(im)
        len(exif)
        return exif
    except Exception:  # noqa: BLE001 - a damaged EXIF block must not stop the photo
        log.warning("%s: the EXIF block is damaged and is ignored", name)
        return Image.Exif()


def orientation_of(exif: Image.Exif) -> int:
    try:
        value = exif.get(ORIENTATION_TAG, 1)
        if isinstance(value, (tuple, list)):
            value = value[0] if value else 1
        value = int(value or 1)
    except Exception:  # noqa: BLE001
        return 1
    return value if 1 <= value <= 8 else 1



def is_16_bit(im: Image.Image, data: bytes, fmt: str) -> bool:
    if im.mode.startswith("I;16"):
        return True
    if fmt == "PNG":
        return png_bit_depth(data) == 16 and im.mode in ("RGB", "RGBA", "I", "LA", "L")
    if fmt == "TIFF":
        bits = im.tag_v2.get(258) if hasattr(im, "tag_v2") else None
        if isinstance(bits, tuple):
            bits = bits[0] if bits else None
        return bits == 16
    return False


def checked_icc(icc: bytes | None, name: str, space: str = "RGB") -> bytes | None:
    """``icc`` if it is a readable profile of colour ``space``, else None (with a warning)."""
    if not icc:
        return None
    try:
        prof = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        got = str(prof.profile.xcolor_space).strip()
    except Exception:  # noqa: BLE001 - damaged profile
        log.warning("%s: the embedded colour profile is damaged and is ignored", name)
        return None
    if got != space:
        log.warning("%s: the embedded colour profile is for %s, not %s; it is ignored",
                    name, got, space)
        return None
    return icc


def pixels_of(
    im: Image.Image, data: bytes, fmt: str, icc: bytes | None, name: str = "image",
    orientation: int = 1,
) -> tuple[np.ndarray, np.ndarray | None, int, bytes | None]:
    """Return (rgb float 0..1, alpha or None, bit depth, icc to keep)."""
    mode = im.mode
    if mode == "CMYK":
        rgb_im = cmyk_to_rgb(im, checked_icc(icc, name, "CMYK"))
        return unit(rgb_im, 255.0), None, 8, None
    grey_or_palette = mode in ("L", "LA", "I", "F", "1", "P", "PA") or mode.startswith("I;16")
    rgb_icc = None if grey_or_palette else checked_icc(icc, name, "RGB")
    if is_16_bit(im, data, fmt):
        decoded = cv2_decode_16(data, im.size, fmt, orientation)
        if decoded is not None:
            arr = unit(decoded, 65535.0)
            if arr.ndim == 2:
                return np.repeat(arr[:, :, None], 3, axis=2), None, 16, None
            if arr.shape[2] == 4:
                return arr[:, :, 2::-1], arr[:, :, 3], 16, rgb_icc
            if arr.shape[2] == 3:
                return arr[:, :, ::-1], None, 16, rgb_icc
            if arr.shape[2] == 2:
                return np.repeat(arr[:, :, :1], 3, axis=2), arr[:, :, 1], 16, None
        if mode.startswith("I;16") or mode == "I":
            arr = np.asarray(im, dtype=np.float32) / 65535.0
            return np.repeat(np.clip(arr, 0, 1)[:, :, None], 3, axis=2), None, 16, None

    if mode in ("I", "F") or mode.startswith("I;"):
        arr = np.nan_to_num(np.asarray(im, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
        hi = float(arr.max()) if arr.size else 1.0
        if mode == "F" and hi <= 1.0:
            scale = 1.0  # floating-point data already in 0..1
        else:
            scale = 65535.0 if hi > 255 else 255.0
        arr = arr / scale
        return np.repeat(np.clip(arr, 0, 1)[:, :, None], 3, axis=2), None, 8, None
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        mode in ("P", "L", "RGB", "1") and "transparency" in im.info
    )
    try:
        if has_alpha:
            arr = unit(im.convert("RGBA"), 255.0)
            return arr[:, :, :3], arr[:, :, 3], 8, rgb_icc if mode.startswith("RGB") else None
        if mode != "RGB":
            # Grey, palette, YCbCr, LAB, 1-bit: convert; a grey or palette ICC no longer applies.
            keep = rgb_icc if mode in ("RGB", "YCbCr") else None
            return unit(im.convert("RGB"), 255.0), None, 8, keep
    except ValueError as e:
        if "conversion" in str(e):
            raise ImageLoadError(f"{name}: its colour mode ({mode}) is not supported") from None
        raise
    return unit(im, 255.0), None, 8, rgb_icc


# OpenCV's TIFF reader applies the Orientation tag even with IMREAD_IGNORE_ORIENTATION;
# undoing it gives the stored layout that the common code then turns upright once.
INVERSE_ORIENTATION = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 8, 7: 7, 8: 6}


def cv2_decode_16(data: bytes, size: tuple[int, int], fmt: str = "",
                  orientation: int = 1) -> np.ndarray | None:
    """16-bit pixels (BGR order, stored layout) through OpenCV, or None if it cannot."""
    if fmt == "PNG":
        # libpng inside OpenCV prints its complaints on stderr: it gets only complete files
        # whose checksums are right and whose pixel data inflates to the image, and only the
        # chunks its pixels need
        chunks = png_chunks(data, plain=False)
        if chunks is None or not pixels_inflate_right(data, chunks):
            return None
        data = pixel_chunks_only(data, chunks)
    decoded = cv2_decode_stored(data, fmt, orientation)
    if decoded is None or decoded.dtype != np.uint16 or decoded.shape[:2] != (size[1], size[0]):
        return None
    return decoded


def cv2_decode_stored(data: bytes, fmt: str = "", orientation: int = 1) -> np.ndarray | None:
    """OpenCV's pixels of ``data`` at any depth (BGR order), in the stored layout (a TIFF's
    ``orientation``, which OpenCV applies itself, undone), or None if it cannot decode them."""
    try:
        decoded = cv2.imdecode(np.frombuffer(data, np.uint8),
                               cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    except cv2.error:
        return None
    if decoded is not None and fmt == "TIFF" and orientation != 1:
        decoded = np.ascontiguousarray(
            apply_orientation(decoded, INVERSE_ORIENTATION.get(orientation, 1)))
    return decoded


def cmyk_to_rgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    if icc:
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            dst = ImageCms.createProfile("sRGB")
            return ImageCms.profileToProfile(im, src, dst, outputMode="RGB")
        except Exception:  # noqa: BLE001 - fall back to the naive conversion below
            log.warning("CMYK ICC conversion failed; using a naive CMYK→RGB conversion")
    return im.convert("RGB")


def apply_orientation(arr: np.ndarray, orientation: int) -> np.ndarray:
    """Rotate/flip ``arr`` (h, w[, c]) so that an EXIF ``orientation`` (1..8) becomes upright."""
    if orientation == 2:
        return arr[:, ::-1]
    if orientation == 3:
        return arr[::-1, ::-1]
    if orientation == 4:
        return arr[::-1, :]
    if orientation == 5:
        return np.swapaxes(arr, 0, 1)
    if orientation == 6:
        return np.rot90(arr, k=-1)
    if orientation == 7:
        return np.swapaxes(arr, 0, 1)[::-1, ::-1]
    if orientation == 8:
        return np.rot90(arr, k=1)
    return arr

