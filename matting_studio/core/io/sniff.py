"""What a file is, from its first bytes and its name, and the messages that refuse it."""

from __future__ import annotations

from .names import short

RAW_SUFFIXES = frozenset((
    ".3fr", ".arw", ".cr2", ".cr3", ".crw", ".dcr", ".dng", ".erf", ".iiq", ".k25", ".kdc",
    ".mef", ".mos", ".mrw", ".nef", ".nrw", ".orf", ".pef", ".raf", ".raw", ".rw2", ".rwl",
    ".sr2", ".srf", ".srw", ".x3f",
))
"""Camera RAW files by name: developed through LibRaw (:mod:`.raw`)."""

SUPPORTED_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp", ".gif",
                      ".heic", ".heif", ".hif", ".avif") + tuple(sorted(RAW_SUFFIXES))
SUPPORTED_TEXT = "JPEG, PNG, TIFF, WebP, BMP, GIF, HEIC, AVIF or camera RAW"

MAX_JPEG_SCANS = 300
"""More start-of-scan markers than this is a CPU-exhaustion attack, not a photo."""


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
                "WEBP": "WebP", "an AVIF image": "AVIF"}


def unidentified_message(name: str, data: bytes, kind: str | None) -> str:
    variant = jpeg_variant(data) if kind == "JPEG" else None
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


def damaged_message(name: str, kind: str | None, e: BaseException, data: bytes = b"") -> str:
    if kind == "JPEG":
        variant = jpeg_variant(data)
        if variant:
            return (f"{name}: {variant} JPEG files are not supported; save it as an ordinary "
                    "(8-bit) JPEG, a PNG or a TIFF")
    what = f"the {_IMAGE_KINDS[kind]} file" if kind in _IMAGE_KINDS else "the file"
    msg = str(e).lower()
    if isinstance(e, EOFError) or any(
            w in msg for w in ("truncated", "broken", "premature", "decoder", "unexpected end")):
        return f"{name}: {what} is truncated or damaged"
    return f"{name}: {what} is damaged or unreadable ({short(e)})"


def jpeg_variant(data: bytes) -> str | None:
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



AVIF_KIND = "an AVIF image"


def min_file_bytes(data: bytes, fmt: str, w: int, h: int) -> int:
    """The fewest bytes a file of this format can hold ``w`` × ``h`` pixels in (0: no bound).

    A shorter file is truncated: decoding it would allocate the whole picture (gigabytes for a
    header declaring 14000 × 14000) to fill it with grey. Huffman-coded JPEG spends at least
    one bit per 8 × 8 block of luma (the DC code of every block); deflate (PNG) compresses at
    most 1032 : 1. A TIFF holds at least one bit per sample, divided by its compression's
    best ratio (PackBits 64 : 1, deflate 1032 : 1, LZW under 4096 : 1, JPEG as above).
    Arithmetic-coded JPEG and the other formats have no useful bound.
    """
    if fmt == "JPEG":
        sof = _jpeg_sof(data)
        if sof is None or sof in (0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            return 0
        return (w // 8) * (h // 8) // 8
    if fmt == "PNG" and len(data) > 25 and data[:8] == b"\x89PNG\r\n\x1a\n":
        depth, colour = data[24], data[25]
        return h * (1 + png_row_bytes(w, depth, colour)) // 1032
    if fmt == "TIFF":
        return _tiff_min_bytes(data, w, h)
    return 0


_TIFF_RATIO = {1: 1, 32773: 64, 8: 1032, 32946: 1032, 5: 4096}
"""Best compression ratio of a TIFF compression scheme (tag 259), from one bit per sample."""


def _tiff_min_bytes(data: bytes, w: int, h: int) -> int:
    from .tiff import tiff_ifd0

    tags = tiff_ifd0(data)
    if not tags:  # BigTIFF, or a header we cannot read: no bound
        return 0
    compression = tags.get(259, 1)
    if compression in (6, 7):  # JPEG: one bit per 8 × 8 block
        return (w // 8) * (h // 8) // 8
    ratio = _TIFF_RATIO.get(compression)
    if ratio is None:
        return 0
    samples = tags.get(277, 1)
    samples = samples if 1 <= samples <= 16 else 1
    return w * h * samples // 8 // ratio


PNG_SAMPLES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
"""Samples per pixel of each PNG colour type (grey, RGB, palette, grey + alpha, RGBA)."""


def png_row_bytes(w: int, depth: int, colour: int) -> int:
    """Bytes of one PNG row of ``w`` pixels, without its filter byte (an unknown colour type
    counts as one sample)."""
    return (w * PNG_SAMPLES.get(colour, 1) * depth + 7) // 8


def _jpeg_sof(data: bytes) -> int | None:
    """The start-of-frame marker (0xC0–0xCF) of a JPEG, or None."""
    i, n = 2, len(data)
    while i + 4 < n and data[i] == 0xFF:
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return marker
        if marker == 0xDA:
            return None
        i += 2 + int.from_bytes(data[i + 2:i + 4], "big")
    return None
