"""TIFFs through OpenCV: the ones Pillow cannot read (32-bit float HDR merges and the like),
and compressed 8/16-bit ones, whose damage Pillow's libtiff would report on stderr."""

from __future__ import annotations

import logging
import struct
from pathlib import Path

import numpy as np

from ..errors import ImageLoadError
from .image import LoadedImage, too_large_message, unit, unit_rgb_alpha
from .pixels import ORIENTATION_TAG, cv2_decode_stored
from .sniff import min_file_bytes

log = logging.getLogger(__name__)


def _ifd0_entries(data: bytes) -> tuple[str, list[tuple[int, int, int, int]]]:
    """Byte order (``"<"`` or ``">"``) of a classic TIFF and ``(tag, type, count, offset of the
    entry)`` of the entries of its first IFD, as far as they can be read; ``("", [])`` for
    anything else."""
    if data[:4] == b"II*\x00":
        e = "<"
    elif data[:4] == b"MM\x00*":
        e = ">"
    else:
        return "", []
    entries = []
    try:
        off = struct.unpack_from(e + "I", data, 4)[0]
        count = struct.unpack_from(e + "H", data, off)[0]
        for k in range(min(count, 1024)):
            pos = off + 2 + 12 * k
            entries.append((*struct.unpack_from(e + "HHI", data, pos), pos))
    except struct.error:
        pass
    return e, entries


def tiff_ifd0(data: bytes) -> dict[int, int]:
    """First-IFD scalar tags of a classic TIFF (width 256, height 257, orientation 274, ...)."""
    e, entries = _ifd0_entries(data)
    tags: dict[int, int] = {}
    try:
        for tag, typ, _, pos in entries:
            if typ == 3:
                tags[tag] = struct.unpack_from(e + "H", data, pos + 8)[0]
            elif typ == 4:
                tags[tag] = struct.unpack_from(e + "I", data, pos + 8)[0]
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
    if len(data) < min_file_bytes(data, "TIFF", w, h):
        return None  # far too short for its pixels: decoding would fill gigabytes with grey
    try:
        arr = cv2_decode_stored(data)  # upright: OpenCV has applied the orientation tag
    except MemoryError:
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


_FAST_TIFF_MODES = {"L": 1, "RGB": 3, "RGBA": 4}
_FAST_TIFF_PHOTOMETRIC = (1, 2, 6)  # black is zero, RGB, YCbCr (JPEG-compressed photos)


def fast_tiff(im, data: bytes, fmt: str, name: str, orientation: int
              ) -> tuple[np.ndarray, np.ndarray | None, int] | None:
    """(rgb, alpha or None, bit depth) of a compressed 8- or 16-bit TIFF with interleaved
    samples (grey, RGB, RGBA with straight alpha) through OpenCV, in the stored layout; None
    for any other TIFF.

    Pillow hands compressed TIFFs to its bundled libtiff, whose messages about damaged strips
    and tags go straight to stderr; OpenCV's libtiff reports to OpenCV's logger, which is
    quiet (:func:`.quiet.quiet_opencv`). So these files are decoded by OpenCV only, and one it
    cannot decode is refused in one line rather than handed to Pillow's libtiff. Pillow has
    read the tags (size, profile, EXIF) without decoding a pixel.
    """
    if fmt != "TIFF" or im.info.get("compression", "raw") == "raw":
        return None
    tags = getattr(im, "tag_v2", {})
    bits = tags.get(258, (8,))
    bits = set(bits) if isinstance(bits, tuple) else {bits}
    depth = bits.pop() if len(bits) == 1 else None
    channels = 1 if im.mode.startswith("I;16") else _FAST_TIFF_MODES.get(im.mode)
    if channels is None or depth not in (8, 16) or tags.get(284, 1) == 2 or \
            tags.get(262, 2) not in _FAST_TIFF_PHOTOMETRIC or getattr(im, "n_frames", 1) != 1:
        return None  # planar, other depths, unusual colours or several pages: Pillow's way
    if channels == 4 and depth == 8:
        # OpenCV reads 8-bit RGBA through libtiff's RGBA interface, which premultiplies
        # straight ("unassociated") colours; told they are premultiplied already, it hands
        # over the stored samples as they are
        data = _alpha_marked_associated(data)
        if data is None:  # Pillow says straight alpha, the tag says otherwise: damaged
            raise ImageLoadError(f"{name}: the TIFF file is damaged (its alpha channel is "
                                 "not described properly)")
    arr = cv2_decode_stored(data, "TIFF", orientation)  # the caller turns it upright once
    w, h = im.size
    got = None if arr is None else (arr.shape[2] if arr.ndim == 3 else 1)
    if arr is None or arr.dtype != (np.uint16 if depth == 16 else np.uint8) or \
            arr.shape[:2] != (h, w) or got != channels:
        raise ImageLoadError(f"{name}: the TIFF file is damaged (its compressed pixel data "
                             "cannot be decoded)")
    return (*unit_rgb_alpha(arr, 65535.0 if depth == 16 else 255.0), depth)


def _alpha_marked_associated(data: bytes) -> bytes | None:
    """A copy of a classic TIFF whose first IFD's ExtraSamples (338, one SHORT) says 2
    (straight alpha) with the value changed to 1 (premultiplied); None when the tag is not
    stored that way."""
    e, entries = _ifd0_entries(data)
    for tag, typ, n, pos in entries:
        if tag == 338:
            if typ != 3 or n != 1 or struct.unpack_from(e + "H", data, pos + 8)[0] != 2:
                return None
            out = bytearray(data)
            struct.pack_into(e + "H", out, pos + 8, 1)
            return bytes(out)
    return None
