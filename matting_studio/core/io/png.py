"""Plain 8-bit PNGs through OpenCV's faster decoder, after checking every chunk ourselves."""

from __future__ import annotations

import logging
import struct
import zlib

import cv2
import numpy as np
from PIL import Image

try:
    from isal import isal_zlib as _inflate
except ImportError:  # pragma: no cover - isal is a dependency; zlib is the fallback
    _inflate = zlib

from .image import unit_rgb_alpha
from .sniff import PNG_SAMPLES, png_row_bytes

log = logging.getLogger(__name__)


_CRC_PIECE = 5120
"""CPython's ``zlib.crc32`` lets go of the GIL for buffers over 5 KiB. The photo is checked on
a loader thread while other threads run Python: letting go for each 8 KiB IDAT chunk would
make it wait up to a switch interval each time."""


def crc32_holding_gil(data: memoryview) -> int:
    crc = 0
    for start in range(0, len(data), _CRC_PIECE):
        crc = zlib.crc32(data[start:start + _CRC_PIECE], crc)
    return crc


def png_chunks(data: bytes, plain: bool = True) -> list[tuple[bytes, int, int]] | None:
    """(type, start, end) of every chunk when ``data`` is a complete PNG whose chunks all pass
    their CRC, with one IHDR, first; when ``plain``, also not animated and with nothing but
    IDAT and IEND after the first IDAT (the files :func:`fast_png` may decode). None otherwise."""
    pos, n = 8, len(data)
    seen_idat = False
    view = memoryview(data)
    chunks = []
    while pos + 12 <= n:
        length, kind = struct.unpack_from(">I4s", data, pos)
        end = pos + 12 + length
        if end > n or length > 0x7FFFFFFF:
            return None
        if plain and ((seen_idat and kind not in (b"IDAT", b"IEND")) or kind == b"acTL"):
            return None  # (animated PNGs: Pillow picks the first frame)
        if (kind == b"IHDR") != (pos == 8):
            return None  # libpng prints "IHDR: out of place" for a second one
        seen_idat = seen_idat or kind == b"IDAT"
        if crc32_holding_gil(view[pos + 4:end - 4]) != struct.unpack_from(">I", data, end - 4)[0]:
            return None
        chunks.append((kind, pos, end))
        if kind == b"IEND":
            return chunks if seen_idat and end == n else None
        pos = end
    return None


def png_chunks_ok(data: bytes) -> bool:
    """True when :func:`png_chunks` accepts ``data``."""
    return png_chunks(data) is not None


_PIXEL_CHUNKS = (b"IHDR", b"IDAT", b"IEND")


def pixel_chunks_only(data: bytes, chunks: list[tuple[bytes, int, int]]) -> bytes:
    """The PNG with only the chunks its pixels need: libpng (inside OpenCV, which installs no
    warning handler) then has no colour profile or text to print warnings about on stderr.
    Pillow has read those chunks already; OpenCV ignores gamma and profiles anyway."""
    if all(kind in _PIXEL_CHUNKS for kind, _, _ in chunks):
        return data
    view = memoryview(data)
    return b"".join([view[:8]] + [view[s:e] for kind, s, e in chunks if kind in _PIXEL_CHUNKS])


_INFLATE_PIECE = 8 << 20
"""Most bytes inflated at once while checking the pixel data (a small IDAT may inflate to a
lot)."""


def pixel_data_ok(data: bytes, chunks: list[tuple[bytes, int, int]], row_bytes: int,
                  rows: int) -> bool:
    """True when the IDAT chunks of a non-interlaced PNG inflate to exactly ``rows`` rows of
    ``row_bytes`` bytes (with their filter byte), each row's filter type valid, and nothing
    after the compressed stream: what libpng would otherwise complain about on stderr (it
    finds it only while decoding). The inflated bytes are looked at and let go piece by
    piece.

    The chunks' payloads are joined and inflated a few megabytes per call, not chunk by
    chunk: the photo is checked on a loader thread while the main thread imports the matting
    method, and each call lets the GIL go and then waits for the importing thread to give it
    back (a camera PNG has hundreds of 8–32 KiB IDAT chunks: the check took ten times
    longer than alone)."""
    idat = [(start, end) for kind, start, end in chunks if kind == b"IDAT"]
    if not idat or idat[-1][1] - idat[-1][0] == 12:
        return False  # an empty last IDAT follows the end of the stream, wherever that is
    view = memoryview(data)
    payload = b"".join(view[start + 8:end - 4] for start, end in idat)
    line = row_bytes + 1
    expected = line * rows
    stream = _inflate.decompressobj()
    done = 0
    tail, piece = payload, b""
    try:
        # a full piece may leave output inside the decompressor with no input left
        while tail or len(piece) == _INFLATE_PIECE:
            piece = stream.decompress(tail, _INFLATE_PIECE)
            tail = stream.unconsumed_tail
            if done + len(piece) > expected:
                return False  # too much image data
            first = (-done) % line  # the first row start inside this piece
            if first < len(piece) and \
                    np.frombuffer(piece, np.uint8)[first::line].max(initial=0) > 4:
                return False  # a filter type libpng does not know
            done += len(piece)
            if stream.eof:
                # nothing may follow the stream's end, and it must hold the whole image
                return not (stream.unused_data or tail) and done == expected
    except (zlib.error, getattr(_inflate, "error", zlib.error)):
        return False
    return False  # the stream does not end


def pixels_inflate_right(data: bytes, chunks: list[tuple[bytes, int, int]]) -> bool:
    """:func:`pixel_data_ok` for the size, depth and colour type the IHDR declares; False for
    an interlaced file (its passes are laid out otherwise) or an unknown colour type."""
    w, h, depth, colour, _, _, interlace = struct.unpack_from(">IIBBBBB", data, 16)
    if interlace != 0 or colour not in PNG_SAMPLES:
        return False
    return pixel_data_ok(data, chunks, png_row_bytes(w, depth, colour), h)


def fast_png(im: Image.Image, data: bytes, fmt: str, name: str
             ) -> tuple[np.ndarray, np.ndarray | None, int] | None:
    """(rgb, alpha or None, bit depth 8) of an 8-bit RGB / RGBA PNG through OpenCV, else None.

    Pillow has opened the file and checked its header; OpenCV's decoder is faster and gives an
    array without Pillow's ``tobytes()`` copy. Only plain files take this path (no tRNS, no
    chunk after the image data, every CRC right, not interlaced, pixel data that inflates to
    exactly the image: :func:`pixel_data_ok`); anything else, and any OpenCV failure, goes
    through Pillow as before.
    """
    if fmt != "PNG" or im.mode not in ("RGB", "RGBA") or "transparency" in im.info:
        return None
    chunks = png_chunks(data) if png_bit_depth(data) == 8 else None
    if chunks is None:
        return None
    w, h = im.size
    channels = 4 if im.mode == "RGBA" else 3
    if not pixels_inflate_right(data, chunks):
        log.debug("%s: interlaced or damaged pixel data; using Pillow", name)
        return None  # Pillow says what is wrong without printing (libpng would)
    try:
        arr = cv2.imdecode(np.frombuffer(pixel_chunks_only(data, chunks), np.uint8),
                           cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    except cv2.error:
        arr = None
    if arr is None or arr.dtype != np.uint8 or arr.shape != (h, w, channels):
        log.debug("%s: OpenCV did not decode the PNG; using Pillow", name)
        return None
    return (*unit_rgb_alpha(arr, 255.0), 8)


def png_bit_depth(data: bytes) -> int:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 24:
        return data[24]
    return 8
