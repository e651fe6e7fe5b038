"""Write cut-outs, mattes and trimaps: PNG, TIFF, WebP or JPEG, chosen by the file's extension.

:class:`ExportOptions` (shared by the command line and the editor's export dialog) says what
is made of the finished foreground colours and alpha: a transparent cut-out (PNG, TIFF, WebP),
or one composited on a background colour (any format; JPEG has no alpha and defaults to
white), optionally placed on a product canvas (:mod:`.canvas`). 16 bits per channel when the
photo had them and the format has them (PNG, TIFF). Files are written atomically.

The PNG writer is our own (numpy Up filter + ISA-L deflate, or zlib without it, strips deflated
in parallel threads): at 4 MP it writes a cut-out several times faster than ``cv2.imencode``.
The others are in :mod:`.encoders`.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import limits
from .canvas import CanvasSpec, place_on_canvas
from .colours import RGB8, WHITE, parse_colour
from .errors import ExportError
from .executor import parallel_map
from .io import write_atomic

if TYPE_CHECKING:
    from .io import LoadedImage


@dataclass(frozen=True)
class OutputFormat:
    """A file format outputs can be written in."""

    name: str
    suffixes: tuple[str, ...]
    alpha: bool
    """Has an alpha channel (else a cut-out is composited on a colour)."""
    max_bits: int
    lossless: bool


OUTPUT_FORMATS: dict[str, OutputFormat] = {f.name: f for f in (
    OutputFormat("PNG", (".png",), alpha=True, max_bits=16, lossless=True),
    OutputFormat("TIFF", (".tif", ".tiff"), alpha=True, max_bits=16, lossless=True),
    OutputFormat("WEBP", (".webp",), alpha=True, max_bits=8, lossless=True),
    OutputFormat("JPEG", (".jpg", ".jpeg"), alpha=False, max_bits=8, lossless=False),
)}

OUTPUT_SUFFIXES = {s: f.name for f in OUTPUT_FORMATS.values() for s in f.suffixes}
"""The file formats outputs can be written in, by file name extension."""


def output_format(path: str | os.PathLike[str], what: str = "the output",
                  lossless: bool = False) -> OutputFormat:
    """The format of ``path`` by its extension; :class:`ExportError` naming ``what`` when
    there is none we write (or it is lossy and ``lossless`` is asked for, e.g. a trimap)."""
    suffix = Path(path).suffix.lower()
    fmt = OUTPUT_FORMATS.get(OUTPUT_SUFFIXES.get(suffix, ""))
    allowed = [s for f in OUTPUT_FORMATS.values() if f.lossless or not lossless
               for s in f.suffixes]
    if fmt is None or (lossless and not fmt.lossless):
        got = f"a {suffix} file" if suffix else "a name without an extension"
        raise ExportError(f"{Path(path).name}: {what} cannot be {got}; use "
                          f"{', '.join(allowed[:-1])} or {allowed[-1]}")
    return fmt


def check_output_suffix(path: str | os.PathLike[str], what: str = "the output",
                        lossless: bool = False) -> None:
    """:class:`ExportError` unless ``path`` names a format outputs can be written in."""
    output_format(path, what, lossless)


@dataclass(frozen=True)
class ExportOptions:
    """What a cut-out file is made of; one path for the command line and the editor.

    ``format``: "PNG", "TIFF", "WEBP" or "JPEG"; None: from the file name's extension.
    ``background``: composite on this colour (an (r, g, b) of 0–255, or text such as
    ``"#ffffff"`` / ``"white"``); None: keep transparency (JPEG: white). ``bits``: 8 or 16;
    None: the photo's own depth where the format has it. ``quality``: JPEG quality.
    ``canvas``: place the subject on a product canvas. ``keep_metadata``: copy the photo's
    ICC profile and EXIF.
    """

    format: str | None = None
    background: RGB8 | None = None
    bits: int | None = None
    quality: int = 95
    canvas: CanvasSpec | None = None
    keep_metadata: bool = True

    def __post_init__(self) -> None:
        if self.format is not None:
            name = str(self.format).upper().lstrip(".")
            name = OUTPUT_SUFFIXES.get("." + name.lower(), name)
            if name not in OUTPUT_FORMATS:
                raise limits.LimitError(f"format must be one of {', '.join(OUTPUT_FORMATS)}")
            object.__setattr__(self, "format", name)
        if self.background is not None:
            object.__setattr__(self, "background", parse_colour(self.background, "background"))
        if self.bits not in (None, 8, 16):
            raise limits.LimitError("bits must be 8 or 16")
        object.__setattr__(self, "quality", limits.JPEG_QUALITY.check(self.quality, "quality"))
        if self.canvas is not None and not isinstance(self.canvas, CanvasSpec):
            raise limits.LimitError("canvas must be a CanvasSpec")

    def format_of(self, path: str | os.PathLike[str] | None) -> OutputFormat:
        """The explicit ``format``, else the one of ``path``'s extension."""
        if self.format is not None:
            return OUTPUT_FORMATS[self.format]
        return output_format(path if path is not None else "", "the cut-out")

    def background_for(self, fmt: OutputFormat) -> RGB8 | None:
        """The colour the cut-out is composited on in ``fmt`` (None: transparent)."""
        if self.background is not None:
            return self.background
        return None if fmt.alpha else WHITE


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
"""zlib level (the fallback): the fastest, for files a few % larger than level 3."""
PNG_STRATEGY = zlib.Z_RLE
"""With the Up filter, run-length matches alone give smaller files than libpng's adaptive
filters at zlib level 1, and deflate them faster."""
ISAL_LEVEL = 2
"""ISA-L level (0–3): about three times faster than the zlib fallback for files a few % larger
(level 1 is no faster, 3 twice as slow; ADR 0010)."""


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


# --------------------------------------------------------------------------------------------
# Cut-outs in any output format


@dataclass(frozen=True)
class Rendered:
    """A cut-out ready to encode: ``rows_of(y0, y1)`` gives rows of uint8 / uint16 pixels,
    (n, width, channels), RGB or RGBA (straight alpha)."""

    rows_of: Callable[[int, int], np.ndarray]
    height: int
    width: int
    channels: int
    bits: int

    def pixels(self) -> np.ndarray:
        """The whole image as one array (built strip by strip on the thread budget)."""
        out = np.empty((self.height, self.width, self.channels),
                       np.uint16 if self.bits == 16 else np.uint8)

        def fill(y0: int) -> None:
            y1 = min(y0 + STRIP, self.height)
            out[y0:y1] = self.rows_of(y0, y1)

        parallel_map(fill, range(0, self.height, STRIP))
        return out


def render_cutout(foreground: np.ndarray, alpha: np.ndarray, fmt: OutputFormat,
                  options: ExportOptions = ExportOptions(), source_bits: int = 8) -> Rendered:
    """The cut-out as ``fmt`` will hold it: on the canvas if asked, composited on the
    background colour if there is one (``fg·α + bg·(1 − α)`` of the decontaminated colours,
    in the photo's own encoded values, as an editor shows a layer over a colour), else RGBA."""
    if options.canvas is not None:
        foreground, alpha = place_on_canvas(foreground, alpha, options.canvas)
    bits = min(options.bits or source_bits, fmt.max_bits)
    bits = 16 if bits == 16 else 8
    bg = options.background_for(fmt)
    h, w = alpha.shape
    hi = np.float32(65535.0 if bits == 16 else 255.0)
    dtype = np.uint16 if bits == 16 else np.uint8
    if bg is None:
        planes = [foreground[:, :, 0], foreground[:, :, 1], foreground[:, :, 2], alpha]
        return Rendered(lambda y0, y1: _quantize_rows(planes, bits, y0, y1), h, w, 4, bits)
    bg_unit = np.asarray(bg, np.float32) / np.float32(255.0)

    def composite(y0: int, y1: int) -> np.ndarray:
        a = np.clip(np.asarray(alpha[y0:y1], np.float32), 0.0, 1.0)[:, :, None]
        f = np.clip(np.asarray(foreground[y0:y1], np.float32), 0.0, 1.0)
        c = f * a
        c += bg_unit * (np.float32(1.0) - a)
        c *= hi
        c += np.float32(0.5)
        return c.astype(dtype)  # truncation after +0.5: round half up, as for PNG

    return Rendered(composite, h, w, 3, bits)


def encode_rendered(r: Rendered, fmt: OutputFormat, icc: bytes | None = None,
                    exif: bytes | None = None, quality: int = 95) -> bytes:
    """The file bytes of a rendered cut-out in ``fmt``."""
    from . import encoders

    if fmt.name == "PNG":
        return encode_png_rows(r.rows_of, r.height, r.width, r.channels, r.bits, icc, exif)
    pixels = r.pixels()
    if fmt.name == "TIFF":
        return encoders.encode_tiff(pixels, icc)
    if fmt.name == "WEBP":
        return encoders.encode_webp(pixels, icc, exif)
    return encoders.encode_jpeg(pixels, quality, icc, exif)


def encode_cutout_file(path: str | os.PathLike[str], foreground: np.ndarray,
                       alpha: np.ndarray, *, bits: int = 8, icc: bytes | None = None,
                       exif: bytes | None = None,
                       options: ExportOptions = ExportOptions()) -> bytes:
    """The bytes :func:`save_cutout` writes (the format of ``path`` or ``options.format``)."""
    fmt = options.format_of(path)
    if not options.keep_metadata:
        icc = exif = None
    rendered = render_cutout(foreground, alpha, fmt, options, bits)
    return encode_rendered(rendered, fmt, icc, exif, options.quality)


def save_cutout(path: str | os.PathLike[str], foreground: np.ndarray, alpha: np.ndarray, *,
                bits: int = 8, icc: bytes | None = None, exif: bytes | None = None,
                protect: tuple[str | os.PathLike[str], ...] = (),
                options: ExportOptions = ExportOptions()) -> Path:
    """Write the cut-out atomically in the format of ``path`` (or ``options.format``), never
    over a file in ``protect``. ``bits`` is the photo's depth (used unless ``options.bits``)."""
    data = encode_cutout_file(path, foreground, alpha, bits=bits, icc=icc, exif=exif,
                              options=options)
    return write_atomic(path, data, protect)


def _grey_file(path: str | os.PathLike[str], grey: np.ndarray, bits: int, what: str,
               lossless: bool) -> bytes:
    """Bytes of a one-channel uint8 / uint16 image in the format of ``path``."""
    from . import encoders

    fmt = output_format(path, what, lossless)
    if fmt.name == "PNG":
        return encode_png_rows(lambda y0, y1: grey[y0:y1], grey.shape[0], grey.shape[1], 1,
                               bits)
    if fmt.name == "TIFF":
        return encoders.encode_tiff(grey)
    g8 = grey if bits == 8 else (grey >> 8).astype(np.uint8)
    if fmt.name == "WEBP":
        return encoders.encode_webp(g8)
    return encoders.encode_jpeg(g8)


def encode_alpha_file(path: str | os.PathLike[str], alpha: np.ndarray, *,
                      bits: int = 8) -> bytes:
    """The bytes :func:`save_alpha` writes."""
    if bits not in (8, 16):
        raise ValueError("bits must be 8 or 16")
    if output_format(path, "the alpha matte").name == "PNG":
        return encode_png(alpha, bits)
    q = _quantize_rows([alpha], bits, 0, alpha.shape[0])[:, :, 0]
    return _grey_file(path, q, bits, "the alpha matte", False)


def save_alpha(path: str | os.PathLike[str], alpha: np.ndarray, *, bits: int = 8,
               protect: tuple[str | os.PathLike[str], ...] = ()) -> Path:
    """Write the alpha matte as a grey image atomically (PNG / TIFF: 8 or 16 bits)."""
    return write_atomic(path, encode_alpha_file(path, alpha, bits=bits), protect)


def encode_trimap_file(path: str | os.PathLike[str], trimap: np.ndarray) -> bytes:
    """The bytes :func:`save_trimap` writes."""
    t = np.ascontiguousarray(trimap, np.uint8)
    return _grey_file(path, t, 8, "the trimap", True)


def save_trimap(path: str | os.PathLike[str], trimap: np.ndarray, *,
                protect: tuple[str | os.PathLike[str], ...] = ()) -> Path:
    """Write a trimap (uint8 0/128/255) as an 8-bit grey image atomically (lossless only)."""
    return write_atomic(path, encode_trimap_file(path, trimap), protect)


def export_result(
    image: LoadedImage, result, cutout_path: str | os.PathLike[str] | None,
    alpha_path: str | os.PathLike[str] | None = None,
    trimap_path: str | os.PathLike[str] | None = None,
    options: ExportOptions = ExportOptions(),
) -> list[Path]:
    """Write the requested outputs of a cut-out ``result`` (foreground, alpha, trimap) of
    ``image``; the source photo is never overwritten. The matte and trimap keep the photo's
    size (no canvas, no background)."""
    protect = (image.path,) if image.path is not None else ()
    written = []
    if cutout_path is not None:
        written.append(save_cutout(cutout_path, result.foreground, result.alpha,
                                   bits=image.bit_depth, icc=image.icc_profile, exif=image.exif,
                                   protect=protect, options=options))
    if alpha_path is not None:
        written.append(save_alpha(alpha_path, result.alpha, bits=image.bit_depth, protect=protect))
    if trimap_path is not None:
        written.append(save_trimap(trimap_path, result.trimap, protect=protect))
    return written
