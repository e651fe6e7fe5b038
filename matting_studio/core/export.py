"""Encode cut-outs as PNG (straight alpha, 8 or 16 bit, ICC and EXIF kept) and write them atomically.

The PNG writer is our own (numpy Up filter + ISA-L deflate, or zlib without it, strips deflated in
parallel threads): at 4 MP it writes a cut-out several times faster than ``cv2.imencode``.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .errors import ExportError
from .executor import parallel_map
from .image_io import write_atomic

OUTPUT_SUFFIXES = {".png": "PNG"}
"""The file formats outputs can be written in, by file name extension."""


def check_output_suffix(path: str | os.PathLike[str], what: str = "the output") -> None:
    """:class:`ExportError` unless ``path`` names a format outputs can be written in."""
    suffix = Path(path).suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        kinds = ", ".join(sorted(OUTPUT_SUFFIXES))
        raise ExportError(f"{Path(path).name}: {what} must be a {kinds} file (cut-outs need "
                          "an alpha channel)")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _metadata_chunks(icc: bytes | None = None, exif: bytes | None = None) -> bytes:
    """iCCP and eXIf chunks (either may be empty)."""
    extra = b""
    if icc:
        extra += _chunk(b"iCCP", b"ICC profile\x00\x00" + zlib.compress(icc))
    if exif:
        tiff = exif[6:] if exif.startswith(b"Exif\x00\x00") else exif
        if tiff[:2] in (b"II", b"MM"):
            extra += _chunk(b"eXIf", tiff)
    return extra


try:  # ISA-L's deflate: the same format, about three times faster than zlib's
    from isal import isal_zlib as _deflate
except ImportError:  # pragma: no cover - isal is a dependency; zlib is the fallback
    _deflate = None

PNG_COMPRESSION = 1
"""zlib level (the fallback): 1 writes a 24 MP cut-out about twice as fast as 3, for files a
few % larger."""
PNG_STRATEGY = zlib.Z_RLE
"""With the Up filter, run-length matches alone give files ~7 % smaller than libpng's adaptive
filters at zlib level 1 (4.15 vs 4.44 MB for a 4 MP photo cut-out), and deflate them faster."""
ISAL_LEVEL = 2
"""ISA-L level (0–3). A 4 MP cut-out (GT01): zlib 1 + RLE 150 ms, 290 CPU-ms, 4.71 MB; ISA-L 2
49 ms, 86 CPU-ms, 4.84 MB (level 1 is no faster and larger, 3 twice as slow)."""


def _compressor():
    """(library, raw-deflate compressor) for one strip (window 32 KiB: a PNG decoder's limit);
    the library also gives the strip's flush modes and Adler-32."""
    if _deflate is not None:
        return _deflate, _deflate.compressobj(ISAL_LEVEL, _deflate.DEFLATED, -15)
    return zlib, zlib.compressobj(PNG_COMPRESSION, zlib.DEFLATED, -15, 9, PNG_STRATEGY)


STRIP = 256
"""Rows converted and deflated at a time: no full-size float temporary is made, and strips are
compressed in parallel threads (ISA-L, zlib and numpy release the GIL)."""

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}
"""PNG colour type by channel count: grey, grey + alpha, RGB, RGBA."""
_ZLIB_HEADER = b"\x78\x01"
"""zlib stream header: deflate, 32 KiB window, fastest level (FCHECK makes it a multiple of 31)."""
_ADLER_BASE = 65521
_IDAT_CRC = zlib.crc32(b"IDAT")


def _quantize_rows(planes: list[np.ndarray], bits: int, y0: int, y1: int) -> np.ndarray:
    """Rows y0:y1 of float (h, w) planes as one uint8/uint16 (y1 - y0, w, n) array."""
    w = planes[0].shape[1]
    hi = np.float32(65535.0 if bits == 16 else 255.0)
    out = np.empty((y1 - y0, w, len(planes)), np.uint16 if bits == 16 else np.uint8)
    for c, plane in enumerate(planes):
        v = np.clip(np.asarray(plane[y0:y1], np.float32), 0.0, 1.0)
        v *= hi
        v += np.float32(0.5)
        out[:, :, c] = v  # truncation after +0.5: round half up
    return out


def adler32_combine(adler1: int, adler2: int, len2: int) -> int:
    """Adler-32 of A + B from those of A and B (``len2`` = len(B)); zlib's adler32_combine."""
    rem = len2 % _ADLER_BASE
    sum1 = adler1 & 0xFFFF
    sum2 = (rem * sum1) % _ADLER_BASE
    sum1 += (adler2 & 0xFFFF) + _ADLER_BASE - 1
    sum2 += (adler1 >> 16) + (adler2 >> 16) + _ADLER_BASE - rem
    sum1 %= _ADLER_BASE
    sum2 %= _ADLER_BASE
    return sum1 | (sum2 << 16)


def encode_png_rows(rows_of: Callable[[int, int], np.ndarray], height: int, width: int,
                    channels: int, bits: int, icc: bytes | None = None,
                    exif: bytes | None = None) -> bytes:
    """PNG bytes of an image given as a function of a row range.

    ``rows_of(y0, y1)`` returns rows y0:y1 as uint8 (8 bits) or uint16 (16 bits), shape
    (y1 - y0, width, channels) or (y1 - y0, width) for grey, channels in PNG order (RGB[A]).
    Strips of :data:`STRIP` rows are filtered (Up) and deflated in parallel threads into one
    zlib stream (sync-flushed raw deflate pieces, as pigz does), so ``rows_of`` must be
    thread-safe. iCCP and eXIf chunks follow IHDR.
    """
    if bits not in (8, 16):
        raise ValueError("bits must be 8 or 16")
    if channels not in _COLOUR_TYPES:
        raise ValueError(f"cannot write {channels} channels as PNG")
    if height <= 0 or width <= 0:
        raise ExportError("the image to write has no pixels")
    row_bytes = width * channels * bits // 8
    starts = list(range(0, height, STRIP))

    def piece(y0: int) -> tuple[bytes, int, int, int]:
        y1 = min(y0 + STRIP, height)
        above = max(y0 - 1, 0)  # the row above the strip, for the Up filter
        q = np.asarray(rows_of(above, y1))
        if bits == 16:
            q = q.astype(">u2", copy=False)  # PNG samples are big-endian
        src = np.ascontiguousarray(q).view(np.uint8).reshape(y1 - above, row_bytes)
        raw = np.empty((y1 - y0, row_bytes + 1), np.uint8)
        raw[:, 0] = 2  # filter type Up: each byte minus the one above (mod 256)
        if y0 == 0:
            raw[0, 0] = 0  # the first row has nothing above: no filter
            raw[0, 1:] = src[0]
            np.subtract(src[1:], src[:-1], out=raw[1:, 1:])
        else:
            np.subtract(src[1:], src[:-1], out=raw[:, 1:])
        lib, comp = _compressor()
        last = y1 == height
        data = comp.compress(raw) + comp.flush(lib.Z_FINISH if last else lib.Z_SYNC_FLUSH)
        if y0 == 0:
            data = _ZLIB_HEADER + data
        return data, lib.adler32(raw), raw.size, zlib.crc32(data, _IDAT_CRC)

    pieces = parallel_map(piece, starts)
    adler = 1
    for _, a, n, _ in pieces:
        adler = adler32_combine(adler, a, n)
    ihdr = struct.pack(">IIBBBBB", width, height, bits, _COLOUR_TYPES[channels], 0, 0, 0)
    out = [_PNG_SIGNATURE, _chunk(b"IHDR", ihdr), _metadata_chunks(icc, exif)]
    for i, (data, _, _, crc) in enumerate(pieces):
        if i == len(pieces) - 1:  # the zlib stream ends with the Adler-32 of all the rows
            tail = struct.pack(">I", adler)
            out += [struct.pack(">I", len(data) + 4), b"IDAT", data, tail,
                    struct.pack(">I", zlib.crc32(tail, crc))]
        else:  # chunks are assembled once, by the join below (no copy per chunk)
            out += [struct.pack(">I", len(data)), b"IDAT", data, struct.pack(">I", crc)]
    out.append(_chunk(b"IEND", b""))
    return b"".join(out)


def _encode_planes(planes: list[np.ndarray], bits: int, icc: bytes | None,
                   exif: bytes | None) -> bytes:
    h, w = planes[0].shape
    return encode_png_rows(lambda y0, y1: _quantize_rows(planes, bits, y0, y1), h, w,
                           len(planes), bits, icc, exif)


def encode_png(pixels: np.ndarray, bits: int = 8, icc: bytes | None = None,
               exif: bytes | None = None) -> bytes:
    """PNG bytes for float 0..1 pixels: (h, w) grey, (h, w, 3) RGB or (h, w, 4) RGBA."""
    if bits not in (8, 16):
        raise ValueError("bits must be 8 or 16")
    if pixels.ndim == 2:
        return _encode_planes([pixels], bits, icc, exif)
    return _encode_planes([pixels[:, :, c] for c in range(pixels.shape[2])], bits, icc, exif)


def cutout_rgba(foreground: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Straight-alpha RGBA float array from foreground colours and alpha."""
    return np.concatenate([np.clip(foreground, 0, 1), np.clip(alpha, 0, 1)[:, :, None]], axis=2)


def encode_cutout(foreground: np.ndarray, alpha: np.ndarray, bits: int = 8,
                  icc: bytes | None = None, exif: bytes | None = None) -> bytes:
    """PNG bytes of the straight-alpha cut-out, without a full-size float RGBA copy."""
    if bits not in (8, 16):
        raise ValueError("bits must be 8 or 16")
    return _encode_planes([foreground[:, :, 0], foreground[:, :, 1], foreground[:, :, 2], alpha],
                          bits, icc, exif)


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
    t = np.asarray(trimap, np.uint8)
    png = encode_png_rows(lambda y0, y1: t[y0:y1], t.shape[0], t.shape[1], 1, 8)
    return write_atomic(path, png, protect)
