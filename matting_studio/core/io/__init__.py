"""Photos in, files out: decoding (sniffing, PNG / TIFF paths, colour modes, orientation) and
atomic writing. One job per module; the names the rest of the application uses are here.

* :mod:`.image` — :class:`LoadedImage`, the pixel limit, the source-alpha cap
* :mod:`.sniff` — what a file is from its first bytes; the messages that refuse it
* :mod:`.decode` — :func:`load_image`, :func:`decode_image`, :func:`load_grey`
* :mod:`.pixels` — Pillow images to float arrays (bit depth, colour modes, ICC, orientation)
* :mod:`.png`, :mod:`.tiff` — OpenCV fast path for plain PNGs; TIFFs Pillow cannot read
* :mod:`.heif`, :mod:`.raw` — HEIC / HEIF (pillow-heif), camera RAW (rawpy / LibRaw)
* :mod:`.quiet` — native libraries' warnings logged at debug, not printed
* :mod:`.atomic` — :func:`write_atomic`, :func:`same_file`, leftovers of killed runs
* :mod:`.names` — :func:`display_name`
"""

from __future__ import annotations

from .atomic import remove_stale_parts, same_file, write_atomic
from .decode import (
    MAX_FILE_BYTES,
    PIL_FORMATS,
    decode_image,
    load_grey,
    load_image,
    read_errors,
)
from .image import DEFAULT_MAX_PIXELS, LoadedImage, cap_alpha, max_pixels
from .names import display_name
from .pixels import apply_orientation
from .sniff import RAW_SUFFIXES, SUPPORTED_SUFFIXES, SUPPORTED_TEXT, sniff_kind

__all__ = [
    "DEFAULT_MAX_PIXELS", "MAX_FILE_BYTES", "PIL_FORMATS", "RAW_SUFFIXES", "SUPPORTED_SUFFIXES",
    "SUPPORTED_TEXT", "LoadedImage", "apply_orientation", "cap_alpha", "decode_image",
    "display_name", "load_grey", "load_image", "max_pixels", "read_errors", "remove_stale_parts",
    "same_file", "sniff_kind", "write_atomic",
]
