"""Load photos into float32 RGB (EXIF orientation applied, metadata kept) and write files atomically.

Every failure is an :class:`ImageLoadError` (reading) or :class:`ExportError` (writing) whose
message names the file and says what is wrong in words a photographer understands.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import stat
import struct
import tempfile
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError

from .errors import ExportError, ImageLoadError

log = logging.getLogger(__name__)

DEFAULT_MAX_PIXELS = 200_000_000
"""Largest image we decode (200 MP, beyond any current camera). Protects against decompression bombs."""

SUPPORTED_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp", ".gif")
SUPPORTED_TEXT = "JPEG, PNG, TIFF, WebP, BMP or GIF"

PIL_FORMATS = ("JPEG", "PNG", "TIFF", "WEBP", "BMP", "GIF")
"""The only Pillow decoders we let near a file. Others (EPS runs Ghostscript, PSD, ICO, ...)
are refused with a "not supported" message rather than half-supported."""

MAX_FILE_BYTES = 4 << 30
"""Files larger than this are refused before reading (no photo format needs more)."""

MAX_JPEG_SCANS = 300
"""More start-of-scan markers than this is a CPU-exhaustion attack, not a photo."""

RAW_SUFFIXES = frozenset((
    ".3fr", ".arw", ".cr2", ".cr3", ".crw", ".dcr", ".dng", ".erf", ".iiq", ".k25", ".kdc",
    ".mef", ".mos", ".mrw", ".nef", ".nrw", ".orf", ".pef", ".raf", ".raw", ".rw2", ".rwl",
    ".sr2", ".srf", ".srw", ".x3f",
))

# Pillow's own bomb check would fire before ours with a less helpful message.
Image.MAX_IMAGE_PIXELS = None

_ORIENTATION_TAG = 0x0112


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
    """``min(alpha, source_alpha)`` as float32; ``alpha`` unchanged when there is no source alpha."""
    if source_alpha is None:
        return alpha
    return np.minimum(alpha, source_alpha).astype(np.float32, copy=False)


def max_pixels() -> int:
    """Pixel limit, overridable with the ``MATTING_STUDIO_MAX_PIXELS`` environment variable."""
    try:
        return int(os.environ.get("MATTING_STUDIO_MAX_PIXELS", DEFAULT_MAX_PIXELS))
    except ValueError:
        return DEFAULT_MAX_PIXELS


def load_image(path: str | os.PathLike[str], limit: int | None = None) -> LoadedImage:
    """Read an image file (JPEG, PNG 8/16-bit, TIFF, WebP, BMP, first frame of GIF/WebP/APNG).

    The file is only read, never modified. Images larger than ``limit`` pixels (default
    :func:`max_pixels`) are refused from their header, before any pixel memory is allocated.

    Raises
    ------
    ImageLoadError
        With a one-line message naming the file.
    """
    path = Path(path)
    name = display_name(path)
    data = _read_bytes(path, name)
    return decode_image(data, name=name, path=path, limit=limit)


def display_name(path: str | os.PathLike[str]) -> str:
    """The file name as shown in messages: one line, undecodable bytes and controls escaped."""
    p = Path(path)
    text = p.name or str(p)
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape", "backslashreplace").decode("ascii")
        for c in text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    )


def decode_image(
    data: bytes, name: str = "image", path: Path | None = None, limit: int | None = None
) -> LoadedImage:
    """Decode image bytes; see :func:`load_image`."""
    limit = max_pixels() if limit is None else limit
    if not data:
        raise ImageLoadError(f"{name}: the file is empty (0 bytes)")
    suffix = path.suffix.lower() if path is not None else ""
    kind = sniff_kind(data)
    if suffix in RAW_SUFFIXES and kind not in ("JPEG", "PNG"):
        raise ImageLoadError(
            f"{name}: camera RAW files are not supported; export a JPEG, PNG or 16-bit TIFF "
            "from your RAW converter and open that"
        )
    if kind == "JPEG" and data.count(b"\xff\xda") > MAX_JPEG_SCANS:
        # Each start-of-scan re-decodes the whole picture: a small file with thousands of
        # scans keeps a decoder busy for minutes. Real progressive JPEGs use about ten.
        raise ImageLoadError(f"{name}: the JPEG file is damaged (far too many scans)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            im = Image.open(io.BytesIO(data), formats=PIL_FORMATS)
        except UnidentifiedImageError:
            if kind == "TIFF":
                fallback = _decode_tiff_with_opencv(data, name, path, limit)
                if fallback is not None:
                    return fallback
            raise ImageLoadError(_unidentified_message(name, data, kind)) from None
        except MemoryError:
            raise ImageLoadError(f"{name}: not enough memory to open this file") from None
        except Exception as e:  # noqa: BLE001 - decoders raise anything on hostile bytes
            log.debug("%s: open failed", name, exc_info=True)
            fallback = _decode_tiff_with_opencv(data, name, path, limit) if kind == "TIFF" \
                else None
            if fallback is not None:
                return fallback
            raise ImageLoadError(_damaged_message(name, kind, e, data)) from None
        try:
            with im:
                return _decode_opened(im, data, name, path, limit)
        except ImageLoadError:
            if kind != "TIFF":
                raise
            fallback = _decode_tiff_with_opencv(data, name, path, limit)
            if fallback is None:
                raise
            return fallback


def _decode_opened(im: Image.Image, data: bytes, name: str, path: Path | None,
                   limit: int) -> LoadedImage:
    w, h = im.size
    if w <= 0 or h <= 0:
        raise ImageLoadError(f"{name}: the image has no pixels ({w}×{h})")
    if w * h > limit:
        raise ImageLoadError(
            f"{name}: the image is too large ({w}×{h} = {w * h / 1e6:.0f} MP; the limit is "
            f"{limit / 1e6:.0f} MP)"
        )
    fmt = (im.format or "").upper()
    try:
        fast = _fast_png(im, data, fmt, name)
        if fast is None:
            im.load()
            exif = _safe_exif(im, name)
        else:  # every chunk is before IDAT, so Pillow's parse of them is already complete
            exif = _safe_exif(im, name, loaded=False)
        orientation = _orientation(exif)
        icc = im.info.get("icc_profile") or None
        if fast is not None:
            pixels, alpha, depth = fast[0], fast[1], 8
            icc = _checked_icc(icc, name, "RGB")
        else:
            pixels, alpha, depth, icc = _pixels(im, data, fmt, icc, name, orientation)
        if pixels.shape[:2] != (h, w):
            raise ValueError(f"decoded {pixels.shape[1]}×{pixels.shape[0]}, header says {w}×{h}")
    except ImageLoadError:
        raise
    except MemoryError:
        raise ImageLoadError(f"{name}: not enough memory to open this image ({w}×{h})") from None
    except Exception as e:  # noqa: BLE001 - decoders raise anything on hostile bytes
        log.debug("%s: decode failed", name, exc_info=True)
        raise ImageLoadError(_damaged_message(name, fmt, e, data)) from None

    pixels = apply_orientation(pixels, orientation)
    if alpha is not None:
        alpha = apply_orientation(alpha, orientation)
    exif_bytes = None
    if len(exif):
        try:
            exif[_ORIENTATION_TAG] = 1
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


_CRC_PIECE = 5120
"""CPython's ``zlib.crc32`` lets go of the GIL for buffers over 5 KiB. The photo is checked on
the loader thread while the main thread imports (GIL-bound): letting go for each 8 KiB IDAT
chunk made it wait up to a switch interval (5 ms) each time, 45 ms for a 4 MP PNG instead of 4."""


def _crc32_holding_gil(data: memoryview) -> int:
    crc = 0
    for start in range(0, len(data), _CRC_PIECE):
        crc = zlib.crc32(data[start:start + _CRC_PIECE], crc)
    return crc


def _png_chunks_ok(data: bytes) -> bool:
    """True when ``data`` is a complete, not animated PNG whose chunks all pass their CRC and
    nothing but IDAT and IEND follows the first IDAT (the files :func:`_fast_png` may decode)."""
    pos, n = 8, len(data)
    seen_idat = False
    view = memoryview(data)
    while pos + 12 <= n:
        length, kind = struct.unpack_from(">I4s", data, pos)
        end = pos + 12 + length
        if end > n or length > 0x7FFFFFFF:
            return False
        if (seen_idat and kind not in (b"IDAT", b"IEND")) or kind == b"acTL":
            return False  # (animated PNGs: Pillow picks the first frame)
        seen_idat = seen_idat or kind == b"IDAT"
        if _crc32_holding_gil(view[pos + 4:end - 4]) != struct.unpack_from(">I", data, end - 4)[0]:
            return False
        if kind == b"IEND":
            return seen_idat and end == n
        pos = end
    return False


def _fast_png(im: Image.Image, data: bytes, fmt: str, name: str
              ) -> tuple[np.ndarray, np.ndarray | None] | None:
    """(rgb, alpha or None) of an 8-bit RGB / RGBA PNG through OpenCV, else None.

    Pillow has opened the file and checked its header; OpenCV's decoder is faster and gives an
    array without Pillow's ``tobytes()`` copy (a 4 MP photo loads ~40 % faster). Only plain
    files take this path (no tRNS, no chunk after the image data, every CRC right); anything
    else, and any OpenCV failure, goes through Pillow as before.
    """
    if fmt != "PNG" or im.mode not in ("RGB", "RGBA") or "transparency" in im.info:
        return None
    if _png_bit_depth(data) != 8 or not _png_chunks_ok(data):
        return None
    w, h = im.size
    channels = 4 if im.mode == "RGBA" else 3
    try:
        arr = cv2.imdecode(np.frombuffer(data, np.uint8),
                           cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    except cv2.error:
        arr = None
    if arr is None or arr.dtype != np.uint8 or arr.shape != (h, w, channels):
        log.debug("%s: OpenCV did not decode the PNG; using Pillow", name)
        return None
    rgb = _unit(cv2.cvtColor(arr, cv2.COLOR_BGRA2RGB if channels == 4 else cv2.COLOR_BGR2RGB),
                255.0)
    alpha = _unit(arr[:, :, 3], 255.0) if channels == 4 else None
    return rgb, alpha


def _safe_exif(im: Image.Image, name: str, loaded: bool = True) -> Image.Exif:
    try:
        # PngImageFile.getexif() decodes the pixels to look for chunks after IDAT;
        # the base method reads what was parsed already
        exif = im.getexif() if loaded else Image.Image.getexif(im)
        len(exif)
        return exif
    except Exception:  # noqa: BLE001 - a damaged EXIF block must not stop the photo
        log.warning("%s: the EXIF block is damaged and is ignored", name)
        return Image.Exif()


def _orientation(exif: Image.Exif) -> int:
    try:
        value = exif.get(_ORIENTATION_TAG, 1)
        if isinstance(value, (tuple, list)):
            value = value[0] if value else 1
        value = int(value or 1)
    except Exception:  # noqa: BLE001
        return 1
    return value if 1 <= value <= 8 else 1


# Signatures of files people mistake for photos, to say what they are instead of "unreadable".
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "JPEG"),
    (b"\x89PNG\r\n\x1a\n", 0, "PNG"),
    (b"GIF87a", 0, "GIF"),
    (b"GIF89a", 0, "GIF"),
    (b"II*\x00", 0, "TIFF"),
    (b"MM\x00*", 0, "TIFF"),
    (b"BM", 0, "BMP"),
    (b"%PDF", 0, "a PDF document"),
    (b"%!PS", 0, "a PostScript/EPS file"),
    (b"\xc5\xd0\xd3\xc6", 0, "an EPS file"),
    (b"8BPS", 0, "a Photoshop document (PSD)"),
    (b"\x00\x00\x01\x00", 0, "an icon file (ICO)"),
    (b"PK\x03\x04", 0, "a ZIP archive or office document"),
    (b"\x1f\x8b", 0, "a gzip archive"),
    (b"7z\xbc\xaf", 0, "a 7-Zip archive"),
    (b"Rar!", 0, "a RAR archive"),
    (b"\x7fELF", 0, "a program"),
    (b"MZ", 0, "a Windows program"),
    (b"\xff\x0a", 0, "a JPEG XL image"),
    (b"\x00\x00\x00\x0cJXL ", 0, "a JPEG XL image"),
    (b"\x00\x00\x00\x0cjP  ", 0, "a JPEG 2000 image"),
    (b"\xff\x4f\xff\x51", 0, "a JPEG 2000 image"),
    (b"FUJIFILMCCD-RAW", 0, "a camera RAW file"),
    (b"IIRO", 0, "a camera RAW file"),
    (b"IIU\x00", 0, "a camera RAW file"),
    (b"OggS", 0, "an audio/video file"),
    (b"ID3", 0, "an audio file"),
)
_FTYP_BRANDS = {b"heic": "a HEIC/HEIF photo", b"heix": "a HEIC/HEIF photo",
                b"hevc": "a HEIC/HEIF photo", b"heim": "a HEIC/HEIF photo",
                b"heis": "a HEIC/HEIF photo", b"mif1": "a HEIC/HEIF photo",
                b"msf1": "a HEIC/HEIF photo", b"avif": "an AVIF image",
                b"avis": "an AVIF image", b"crx ": "a camera RAW file (CR3)"}


def sniff_kind(data: bytes) -> str | None:
    """Name what ``data`` looks like from its first bytes ("JPEG", "a PDF document", ...)."""
    head = data[:1024]
    for magic, offset, kind in _SIGNATURES:
        if head[offset:offset + len(magic)] == magic:
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp":
        return _FTYP_BRANDS.get(head[8:12], "a video or HEIF container file")
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text):
        return "an SVG drawing"
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "a web page (HTML)"
    if text.startswith(b"<?xml"):
        return "an XML file"
    if text.startswith((b"{", b"[")):
        return "a text file"
    if len(head) >= 32 and all(b in b"\t\n\r\x0c" or 32 <= b < 127 or b >= 128
                               for b in head[:256]):
        try:
            head[:256].decode("utf-8")
            return "a text file"
        except UnicodeDecodeError:
            pass
    return None


_IMAGE_KINDS = {"JPEG": "JPEG", "PNG": "PNG", "GIF": "GIF", "TIFF": "TIFF", "BMP": "BMP",
                "WEBP": "WebP"}


def _unidentified_message(name: str, data: bytes, kind: str | None) -> str:
    variant = _jpeg_variant(data) if kind == "JPEG" else None
    if variant:
        return (f"{name}: {variant} JPEG files are not supported; save it as an ordinary "
                "(8-bit) JPEG, a PNG or a TIFF")
    if kind in _IMAGE_KINDS:
        return f"{name}: the {_IMAGE_KINDS[kind]} file is truncated or damaged"
    if kind in ("a text file", "a web page (HTML)", "an XML file"):
        return f"{name}: not an image (this is {kind}); supported: {SUPPORTED_TEXT}"
    if kind is not None:
        return (f"{name}: this is {kind}, a format that is not supported; "
                f"open a {SUPPORTED_TEXT} file")
    return f"{name}: not an image file Matting Studio can read (supported: {SUPPORTED_TEXT})"


def _damaged_message(name: str, kind: str | None, e: BaseException, data: bytes = b"") -> str:
    if kind == "JPEG":
        variant = _jpeg_variant(data)
        if variant:
            return (f"{name}: {variant} JPEG files are not supported; save it as an ordinary "
                    "(8-bit) JPEG, a PNG or a TIFF")
    what = f"the {_IMAGE_KINDS[kind]} file" if kind in _IMAGE_KINDS else "the file"
    msg = str(e).lower()
    if isinstance(e, EOFError) or any(
            w in msg for w in ("truncated", "broken", "premature", "decoder", "unexpected end")):
        return f"{name}: {what} is truncated or damaged"
    return f"{name}: {what} is damaged or unreadable ({_short(e)})"


def _jpeg_variant(data: bytes) -> str | None:
    """"lossless" / "12-bit" / "hierarchical" for JPEG kinds our decoder cannot read, else None."""
    i = 2
    n = len(data)
    while i + 9 < n and data[i] == 0xFF:
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if marker in (0xC3, 0xC7, 0xCB, 0xCF):
                return "lossless"
            if marker in (0xC5, 0xC6, 0xCD, 0xCE):
                return "hierarchical"
            return f"{data[i + 4]}-bit" if data[i + 4] != 8 else None
        if marker == 0xDA:
            return None
        i += 2 + int.from_bytes(data[i + 2:i + 4], "big")
    return None


def _tiff_ifd0(data: bytes) -> dict[int, int]:
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


def _decode_tiff_with_opencv(data: bytes, name: str, path: Path | None,
                             limit: int) -> LoadedImage | None:
    """TIFFs Pillow cannot read (32-bit float RGB from HDR merges, ...) through OpenCV."""
    tags = _tiff_ifd0(data)
    w, h = tags.get(256, 0), tags.get(257, 0)
    if w <= 0 or h <= 0:
        return None
    if w * h > limit:
        raise ImageLoadError(
            f"{name}: the image is too large ({w}×{h} = {w * h / 1e6:.0f} MP; the limit is "
            f"{limit / 1e6:.0f} MP)")
    try:
        arr = cv2.imdecode(np.frombuffer(data, np.uint8),
                           cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    except (cv2.error, MemoryError):
        return None
    orientation = tags.get(_ORIENTATION_TAG, 1)
    orientation = orientation if 1 <= orientation <= 8 else 1
    upright = (h, w) if orientation < 5 else (w, h)  # OpenCV applies the tag itself
    if arr is None or arr.shape[:2] != upright or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        return None
    scale = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0,
             np.dtype(np.float32): 1.0, np.dtype(np.float64): 1.0}.get(arr.dtype)
    if scale is None:
        return None
    depth = 8 if arr.dtype == np.uint8 else 16
    px = _unit(arr, scale)
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


def _read_bytes(path: Path, name: str) -> bytes:
    try:
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
    except FileNotFoundError:
        raise ImageLoadError(f"{name}: file not found ({display_name(path.parent)})") from None
    except PermissionError:
        raise ImageLoadError(f"{name}: permission denied (cannot read the file)") from None
    except IsADirectoryError:
        raise ImageLoadError(f"{name}: is a folder, not an image file") from None
    except OSError as e:
        if e.errno == errno.ENAMETOOLONG:
            raise ImageLoadError(f"{name}: the file name or path is too long") from None
        raise ImageLoadError(f"{name}: cannot be read ({_short(e)})") from None
    except MemoryError:
        raise ImageLoadError(f"{name}: not enough memory to read the file") from None


def _png_bit_depth(data: bytes) -> int:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 24:
        return data[24]
    return 8


def _is_16_bit(im: Image.Image, data: bytes, fmt: str) -> bool:
    if im.mode.startswith("I;16"):
        return True
    if fmt == "PNG":
        return _png_bit_depth(data) == 16 and im.mode in ("RGB", "RGBA", "I", "LA", "L")
    if fmt == "TIFF":
        bits = im.tag_v2.get(258) if hasattr(im, "tag_v2") else None
        if isinstance(bits, tuple):
            bits = bits[0] if bits else None
        return bits == 16
    return False


def _checked_icc(icc: bytes | None, name: str, space: str = "RGB") -> bytes | None:
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


def _pixels(
    im: Image.Image, data: bytes, fmt: str, icc: bytes | None, name: str = "image",
    orientation: int = 1,
) -> tuple[np.ndarray, np.ndarray | None, int, bytes | None]:
    """Return (rgb float 0..1, alpha or None, bit depth, icc to keep)."""
    mode = im.mode
    if mode == "CMYK":
        rgb_im = _cmyk_to_rgb(im, _checked_icc(icc, name, "CMYK"))
        return _unit(rgb_im, 255.0), None, 8, None
    grey_or_palette = mode in ("L", "LA", "I", "F", "1", "P", "PA") or mode.startswith("I;16")
    rgb_icc = None if grey_or_palette else _checked_icc(icc, name, "RGB")
    if _is_16_bit(im, data, fmt):
        decoded = _cv2_decode_16(data, im.size, fmt, orientation)
        if decoded is not None:
            arr = _unit(decoded, 65535.0)
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
            arr = _unit(im.convert("RGBA"), 255.0)
            return arr[:, :, :3], arr[:, :, 3], 8, rgb_icc if mode.startswith("RGB") else None
        if mode != "RGB":
            # Grey, palette, YCbCr, LAB, 1-bit: convert; a grey or palette ICC no longer applies.
            keep = rgb_icc if mode in ("RGB", "YCbCr") else None
            return _unit(im.convert("RGB"), 255.0), None, 8, keep
    except ValueError as e:
        if "conversion" in str(e):
            raise ImageLoadError(f"{name}: its colour mode ({mode}) is not supported") from None
        raise
    return _unit(im, 255.0), None, 8, rgb_icc


def _unit(pixels, scale: float) -> np.ndarray:
    """float32 copy of ``pixels`` divided by ``scale``: one pass, one float buffer (the same
    values as converting first and dividing after).

    ``np.asarray`` first: asking numpy for float32 straight from a Pillow image goes through
    ``tobytes()`` and a generic conversion, three times slower at 4 MP."""
    return np.divide(np.asarray(pixels), np.float32(scale), dtype=np.float32)


# OpenCV's TIFF reader applies the Orientation tag even with IMREAD_IGNORE_ORIENTATION;
# undoing it gives the stored layout that the common code then turns upright once.
_INVERSE_ORIENTATION = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 8, 7: 7, 8: 6}


def _cv2_decode_16(data: bytes, size: tuple[int, int], fmt: str = "",
                   orientation: int = 1) -> np.ndarray | None:
    """16-bit pixels (BGR order, stored layout) through OpenCV, or None if it cannot."""
    try:
        decoded = cv2.imdecode(np.frombuffer(data, np.uint8),
                               cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    except cv2.error:
        return None
    if decoded is None or decoded.dtype != np.uint16:
        return None
    if fmt == "TIFF" and orientation != 1:
        decoded = np.ascontiguousarray(
            apply_orientation(decoded, _INVERSE_ORIENTATION.get(orientation, 1)))
    if decoded.shape[:2] != (size[1], size[0]):
        return None
    return decoded


def _cmyk_to_rgb(im: Image.Image, icc: bytes | None) -> Image.Image:
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


def _short(e: BaseException) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return text[:160]


# --------------------------------------------------------------------------------------------
# Writing


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True when both paths name the same file (resolving links; missing files compare by path)."""
    pa, pb = Path(a), Path(b)
    try:
        if pa.exists() and pb.exists():
            return os.path.samefile(pa, pb)
    except OSError:
        pass
    return pa.resolve() == pb.resolve()


def write_atomic(
    path: str | os.PathLike[str], data: bytes, protect: tuple[str | os.PathLike[str], ...] = ()
) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder and an atomic rename.

    ``protect`` lists files (the user's originals) that must never be replaced. On any failure
    no partial file is left behind and :class:`ExportError` explains why. A replaced file keeps
    its permission bits; a new one gets the usual ``0666 & ~umask``.
    """
    path = Path(path)
    name = display_name(path)
    for p in protect:
        if p is not None and same_file(path, p):
            raise ExportError(f"{name}: refusing to overwrite the original photo; choose another name")
    folder = path.parent if str(path.parent) else Path(".")
    tmp_name = None
    try:
        if not folder.is_dir():
            raise ExportError(f"{name}: the folder {display_name(folder)} does not exist")
        if path.is_dir():
            raise ExportError(f"{name}: a folder of that name is in the way; choose another name")
        mode = _target_mode(path)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem[:40]}.", suffix=".part", dir=folder)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if path.exists() and not os.access(path, os.W_OK):
            raise PermissionError(errno.EACCES, "file is read-only")
        try:
            os.chmod(tmp_name, mode)
        except OSError:  # e.g. FAT / network shares: permissions are not ours to keep
            pass
        os.replace(tmp_name, path)
        tmp_name = None
        _fsync_folder(folder)
    except PermissionError:
        raise ExportError(f"{name}: cannot write here, permission denied ({folder})") from None
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise ExportError(f"{name}: the disk is full; nothing was written") from None
        if e.errno == errno.EROFS:
            raise ExportError(f"{name}: the folder is on a read-only disk") from None
        if e.errno == errno.ENAMETOOLONG:
            raise ExportError(f"{name}: the file name is too long") from None
        raise ExportError(f"{name}: could not be written ({_short(e)})") from None
    finally:
        if tmp_name is not None:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass
    return path


_UMASK: int | None = None


def _target_mode(path: Path) -> int:
    global _UMASK
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        pass
    if _UMASK is None:
        _UMASK = os.umask(0o022)
        os.umask(_UMASK)
    return 0o666 & ~_UMASK


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable (POSIX); best effort."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load_grey(path: str | os.PathLike[str], what: str = "image") -> np.ndarray:
    """Read a single-channel uint8 image (a trimap or mask), EXIF orientation applied.

    Same checks as :func:`load_image` (regular file, size, decoders, bombs); 8-bit grey files
    are decoded straight to uint8, without a float RGB copy (288 MB at 24 MP).
    """
    path = Path(path)
    name = display_name(path)
    data = _read_bytes(path, name)
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
    if kind == "JPEG" and data.count(b"\xff\xda") > MAX_JPEG_SCANS:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data), formats=("PNG", "TIFF", "BMP", "JPEG")) as im:
                w, h = im.size
                if im.mode != "L" or w * h > max_pixels() or w <= 0 or h <= 0:
                    return None
                im.load()
                orientation = _orientation(_safe_exif(im, name))
                grey = np.asarray(im, dtype=np.uint8)
        if grey.shape != (h, w):
            return None
        return np.ascontiguousarray(apply_orientation(grey, orientation))
    except Exception:  # noqa: BLE001 - anything unusual goes through decode_image's checks
        return None
