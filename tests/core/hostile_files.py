"""A generator of hostile and unusual input files, for the loader and the ``cutout`` command.

``make_hostile_files(folder)`` writes every case into ``folder`` and returns a list of
:class:`Case`. Each case says what a correct program does with it:

* ``"ok"``: decodes; the cut-out is an RGBA PNG of ``size`` (width, height, upright);
* ``"error"``: refused with one clear message naming the file;
* ``"either"``: a damaged file some decoders can partly read (e.g. a JPEG cut just before its
  end marker); either answer is fine, but an "ok" output must still have ``size``.

Everything is built here from numpy / Pillow / OpenCV (no downloads), deterministically.
Run ``python tests/core/hostile_files.py DIR`` to write the set for manual tries (GUI, CLI).
"""

from __future__ import annotations

import io
import os
import struct
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageCms


@dataclass(frozen=True)
class Case:
    name: str  # file name inside the folder (str; may be non-ASCII)
    expect: str  # "ok" | "error" | "either"
    size: tuple[int, int] | None = None  # expected (w, h) of an "ok" output
    note: str = ""
    raw_name: bytes | None = None  # set when the name is not valid UTF-8 (POSIX only)
    stage: str = "load"  # where an "error" happens: "load" (reading) or "write" (the output)

    def path(self, folder: Path) -> Path:
        if self.raw_name is not None:
            return Path(os.fsdecode(os.path.join(os.fsencode(folder), self.raw_name)))
        return folder / self.name


W, H = 40, 32


def subject(w: int = W, h: int = H, seed: int = 0) -> np.ndarray:
    """A warm disc on a cool textured background, uint8 RGB (h, w, 3); asymmetric marks."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    d = np.hypot((yy - h / 2) / max(h, 1), (xx - w / 2) / max(w, 1))
    img = np.empty((h, w, 3), np.float32)
    img[:] = (40, 90, 170)
    img[d < 0.3] = (220, 120, 60)
    img += rng.normal(0, 6, img.shape)
    img[: max(h // 8, 1), : max(w // 4, 1)] = (255, 255, 0)  # top-left marker: shows rotations
    return np.clip(img, 0, 255).astype(np.uint8)


def encode(arr: np.ndarray | Image.Image, fmt: str, **kw) -> bytes:
    im = arr if isinstance(arr, Image.Image) else Image.fromarray(arr)
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def raw_png(width: int, height: int, bit_depth: int, colour_type: int, rows: bytes | None,
            idat: bytes | None = None) -> bytes:
    """A PNG from raw filtered scanlines (or a given IDAT payload); no size checks at all."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    payload = idat if idat is not None else zlib.compress(rows or b"", 9)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", payload)
            + _chunk(b"IEND", b""))


def jpeg_with_sof_size(data: bytes, width: int, height: int) -> bytes:
    """Patch the frame size in a baseline JPEG's SOF0 marker."""
    i = data.index(b"\xff\xc0")
    b = bytearray(data)
    b[i + 5:i + 7] = struct.pack(">H", height)
    b[i + 7:i + 9] = struct.pack(">H", width)
    return bytes(b)


def exif_with_orientation(o: int) -> bytes:
    ex = Image.Exif()
    ex[0x0112] = o
    return ex.tobytes()


def stored_for_orientation(upright: np.ndarray, o: int) -> np.ndarray:
    """The pixels a camera stores so that EXIF orientation ``o`` displays ``upright``."""
    if o == 2:
        return upright[:, ::-1]
    if o == 3:
        return upright[::-1, ::-1]
    if o == 4:
        return upright[::-1, :]
    if o == 5:
        return np.swapaxes(upright, 0, 1)
    if o == 6:
        return np.rot90(upright, k=1)
    if o == 7:
        return np.swapaxes(upright[::-1, ::-1], 0, 1)
    if o == 8:
        return np.rot90(upright, k=-1)
    return upright


def cmyk_jpeg() -> bytes:
    return encode(Image.fromarray(subject()).convert("CMYK"), "JPEG", quality=90)


def make_hostile_files(folder: str | os.PathLike[str], posix_extras: bool = True) -> list[Case]:
    """Write the whole set into ``folder`` (created if needed); return the cases."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []
    base = subject()

    def add(name: str, data: bytes, expect: str, size=None, note: str = "",
            stage: str = "load") -> None:
        (folder / name).write_bytes(data)
        cases.append(Case(name, expect, size, note, stage=stage))

    jpg = encode(base, "JPEG", quality=90)
    png = encode(base, "PNG")
    webp = encode(base, "WEBP", quality=90)
    tif = encode(base, "TIFF")
    tif_lzw = encode(base, "TIFF", compression="tiff_lzw")

    # --- not images at all / empty -------------------------------------------------------
    add("empty.jpg", b"", "error", note="zero bytes")
    add("empty_png.png", b"", "error")
    add("text_renamed.jpg", b"Dear client,\nhere are the photos.\n" * 20, "error")
    add("page.jpg", b"<!DOCTYPE html><html><head><title>x</title></head><body>404</body></html>",
        "error", note="an HTML error page saved as .jpg")
    add("doc.pdf", b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "error")
    add("doc_renamed.jpg", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "error")
    add("logo.svg", b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
        b'width="10" height="10"><rect width="10" height="10"/></svg>\n', "error")
    add("logo_renamed.png", b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>',
        "error")
    add("iphone.heic", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200,
        "error", note="HEIC-like header")
    add("iphone_renamed.jpg", b"\x00\x00\x00\x1cftypheix\x00\x00\x00\x00mif1heixmiaf" + b"\x01" * 64,
        "error")
    add("photo.avif", b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + b"\x00" * 64,
        "error")
    add("layers.psd", b"8BPS\x00\x01" + b"\x00" * 200, "error")
    add("archive.jpg", b"PK\x03\x04" + b"\x00" * 100, "error")
    add("binary_noise.png", bytes(np.random.default_rng(1).integers(0, 256, 4096, np.uint8)),
        "error")
    add("camera.cr2", b"II*\x00\x10\x00\x00\x00CR\x02\x00" + b"\x00" * 256, "error",
        note="camera RAW")
    add("camera_dng.dng", tif, "error", note="a plain TIFF named .dng: LibRaw refuses it")
    add("icon.ico", encode(Image.fromarray(base[:16, :16]), "ICO"), "error",
        note="well-formed, unsupported")
    add("soi_eoi.jpg", b"\xff\xd8\xff\xd9", "error")
    add("gif_header_only.gif", b"GIF89a", "error")
    add("riff_junk.webp", b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 8, "error")
    add("png_signature_only.png", b"\x89PNG\r\n\x1a\n", "error")

    # --- truncated at several cut points ----------------------------------------------
    for fmt, data in (("jpg", jpg), ("png", png), ("webp", webp), ("tif", tif_lzw)):
        n = len(data)
        for cut in sorted({3, 12, 40, n // 4, n // 2, (3 * n) // 4, n - 2}):
            if 0 < cut < n:
                # The last few bytes of a JPEG/PNG are markers after the pixels: some decoders
                # recover a whole image from them.
                expect = "either" if cut >= n // 2 else "error"
                add(f"trunc_{fmt}_{cut:05d}.{fmt}", data[:cut], expect, (W, H))

    # A PNG whose IDAT checksum is wrong, and one whose compressed stream is cut short.
    b = bytearray(png)
    i = b.index(b"IDAT")
    b[i + 10] ^= 0xFF
    add("bad_crc.png", bytes(b), "either", (W, H))

    # --- decompression bombs: huge declared sizes, tiny files --------------------------
    add("bomb_ihdr.png", raw_png(100_000, 100_000, 8, 2, None,
                                 idat=zlib.compress(b"\x00" * 300_001, 9)), "error",
        note="10 gigapixel IHDR")
    add("bomb_ihdr_16bit.png", raw_png(65_000, 65_000, 16, 6, None,
                                       idat=zlib.compress(b"\x00" * 1000, 9)), "error")
    add("bomb_sof.jpg", jpeg_with_sof_size(jpg, 65_000, 65_000), "error",
        note="4 gigapixel SOF0")
    gif = bytearray(encode(base, "GIF"))
    gif[6:10] = struct.pack("<HH", 65_535, 65_535)
    add("bomb_screen.gif", bytes(gif), "error")
    bmp = bytearray(encode(base, "BMP"))
    bmp[18:26] = struct.pack("<ii", 100_000, 100_000)
    add("bomb_header.bmp", bytes(bmp), "error")
    tb = bytearray(tif)
    # Patch ImageWidth / ImageLength (tags 256/257) in the first IFD.
    ifd = struct.unpack("<I", tb[4:8])[0]
    for k in range(struct.unpack("<H", tb[ifd:ifd + 2])[0]):
        e = ifd + 2 + 12 * k
        tag, typ = struct.unpack("<HH", tb[e:e + 4])
        if tag in (256, 257):
            if typ == 3:
                tb[e + 8:e + 10] = struct.pack("<H", 60_000)
            else:
                tb[e + 8:e + 12] = struct.pack("<I", 60_000)
    add("bomb_tags.tif", bytes(tb), "error")

    prog = encode(base, "JPEG", progressive=True)
    last_sos = prog.rindex(b"\xff\xda")
    add("scan_bomb.jpg", prog[:last_sos] + prog[last_sos:-2] * 2000 + b"\xff\xd9", "error",
        note="thousands of progressive scans: minutes of CPU in a naive decoder")

    # --- tiny and thin ------------------------------------------------------------------
    add("tiny_1x1.png", encode(base[:1, :1], "PNG"), "ok", (1, 1))
    add("tiny_1x1_jpg.jpg", encode(base[:1, :1], "JPEG"), "ok", (1, 1))
    add("tiny_2x3.png", encode(base[:3, :2], "PNG"), "ok", (2, 3))
    add("thin_1x5000.png", encode(np.repeat(base[:, :1], 157, axis=0)[:5000], "PNG"), "ok",
        (1, 5000))
    add("thin_5000x1.png", encode(np.repeat(base[:1], 125, axis=1)[:, :5000], "PNG"), "ok",
        (5000, 1))
    add("thin_3x800.jpg", encode(np.ascontiguousarray(
        cv2.resize(base, (3, 800), interpolation=cv2.INTER_NEAREST)), "JPEG"), "ok", (3, 800))

    # --- bit depths and colour modes ----------------------------------------------------
    deep = (base.astype(np.uint16) * 257)
    ok, buf = cv2.imencode(".png", deep[:, :, ::-1])
    add("rgb16.png", buf.tobytes(), "ok", (W, H))
    rgba16 = np.dstack([deep[:, :, ::-1], np.full((H, W), 65535, np.uint16)])
    rgba16[:4, :4, 3] = 0
    ok, buf = cv2.imencode(".png", rgba16)
    add("rgba16.png", buf.tobytes(), "ok", (W, H))
    grey16 = deep[:, :, 0]
    add("grey16.png", encode(Image.fromarray(grey16), "PNG"), "ok", (W, H), "I;16")
    la16_rows = b"".join(b"\x00" + np.dstack([grey16[y], np.full(W, 65535, np.uint16)])
                         .astype(">u2").tobytes() for y in range(H))
    add("grey_alpha16.png", raw_png(W, H, 16, 4, la16_rows), "ok", (W, H))
    ok, buf = cv2.imencode(".tif", deep[:, :, ::-1])
    add("rgb16_tif.tif", buf.tobytes(), "ok", (W, H))
    add("grey16_tif.tif", encode(Image.fromarray(grey16), "TIFF"), "ok", (W, H))
    add("float32.tif", encode(Image.fromarray(base[:, :, 0].astype(np.float32) / 255.0, "F"),
                              "TIFF"), "ok", (W, H))
    ok, buf = cv2.imencode(".tif", (base.astype(np.float32) / 255.0)[:, :, ::-1])
    add("float32_rgb.tif", buf.tobytes(), "ok", (W, H), "HDR-merge style; Pillow cannot read it")
    hdr = np.ascontiguousarray(stored_for_orientation(base.astype(np.float32) / 100.0, 8))
    ok, buf = cv2.imencode(".tif", hdr[:, :, ::-1])
    tb8 = bytearray(buf.tobytes())
    add("float32_hdr_orient8.tif", _tiff_with_orientation(bytes(tb8), 8), "ok", (W, H),
        "values above 1.0, orientation 8")
    add("int32.tif", encode(Image.fromarray(base[:, :, 0].astype(np.int32) * 1000, "I"), "TIFF"),
        "ok", (W, H))
    add("lab.tif", encode(Image.fromarray(base).convert("LAB"), "TIFF"), "ok", (W, H))
    add("group4_bilevel.tif", encode(Image.fromarray(base[:, :, 0] > 100), "TIFF",
                                     compression="group4"), "ok", (W, H))
    add("rgba32.bmp", encode(np.dstack([base, np.full((H, W), 200, np.uint8)]), "BMP"), "ok",
        (W, H))
    add("palette4.png", encode(Image.fromarray(base).quantize(16), "PNG", bits=4), "ok", (W, H))
    rows16 = b"".join(b"\x00" + (base[y].astype(">u2") * 257).tobytes() for y in range(H))
    png16 = raw_png(W, H, 16, 2, rows16)
    at = png16.index(b"IDAT") - 4
    add("rgb16_trns.png", png16[:at] + _chunk(b"tRNS", struct.pack(">HHH", 0, 0, 0)) + png16[at:],
        "ok", (W, H), "16-bit RGB with a transparent colour")
    jb = bytearray(jpg)
    k = jb.index(b"\xff\xc0")
    jb[k + 1] = 0xC3
    add("lossless_sof3.jpg", bytes(jb), "error", note="lossless JPEG: not supported")
    jb = bytearray(jpg)
    jb[k + 4] = 12
    add("twelve_bit.jpg", bytes(jb), "error", note="12-bit JPEG: not supported")
    add("cmyk.jpg", cmyk_jpeg(), "ok", (W, H))
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    add("cmyk_with_rgb_icc.jpg", encode(Image.fromarray(base).convert("CMYK"), "JPEG",
                                        icc_profile=srgb), "ok", (W, H),
        "CMYK pixels with a (wrong) RGB profile")
    add("cmyk_tif.tif", encode(Image.fromarray(base).convert("CMYK"), "TIFF"), "ok", (W, H))
    add("grey_jpg.jpg", encode(base[:, :, 1], "JPEG"), "ok", (W, H))
    add("grey.png", encode(base[:, :, 1], "PNG"), "ok", (W, H))
    add("bilevel.png", encode(Image.fromarray(base[:, :, 0] > 128), "PNG"), "ok", (W, H))
    pal = Image.fromarray(base).quantize(16)
    pal.info["transparency"] = 0
    add("palette_transparency.png", encode(pal, "PNG", transparency=0), "ok", (W, H))
    add("palette_transparency_gif.gif", encode(pal, "GIF", transparency=0), "ok", (W, H))
    add("palette.bmp", encode(Image.fromarray(base).quantize(8), "BMP"), "ok", (W, H))
    la = Image.fromarray(np.dstack([base[:, :, 1], np.full((H, W), 255, np.uint8)]), "LA")
    add("grey_alpha.png", encode(la, "PNG"), "ok", (W, H))
    rgba = np.dstack([base, np.full((H, W), 255, np.uint8)])
    rgba[:, : W // 4, 3] = 0
    rgba[:, W // 4: W // 4 + 3, 3] = 128
    add("rgba.png", encode(rgba, "PNG"), "ok", (W, H))
    add("rgba_webp.webp", encode(rgba, "WEBP", lossless=True), "ok", (W, H))
    add("rgba_tif.tif", encode(rgba, "TIFF"), "ok", (W, H))
    add("all_transparent.png", encode(np.zeros((H, W, 4), np.uint8), "PNG"), "ok", (W, H))
    add("progressive.jpg", encode(base, "JPEG", progressive=True), "ok", (W, H))
    add("tiff_jpeg.tif", encode(base, "TIFF", compression="jpeg"), "ok", (W, H))
    add("plain.bmp", encode(base, "BMP"), "ok", (W, H))
    add("uniform_white.png", encode(np.full((H, W, 3), 255, np.uint8), "PNG"), "ok", (W, H))
    add("uniform_black.jpg", encode(np.zeros((H, W, 3), np.uint8), "JPEG"), "ok", (W, H))

    # --- EXIF orientation 1..8, plus nonsense values and damaged blocks ------------------
    for o in range(1, 9):
        stored = np.ascontiguousarray(stored_for_orientation(base, o))
        add(f"exif_orient_{o}.jpg", encode(stored, "JPEG", quality=92,
                                           exif=exif_with_orientation(o)), "ok", (W, H))
    add("exif_orient_6_png.png", encode(np.ascontiguousarray(stored_for_orientation(base, 6)), "PNG",
                                    exif=exif_with_orientation(6)), "ok", (W, H))
    stored6 = np.ascontiguousarray(stored_for_orientation(deep, 6))
    t16 = Image.fromarray(stored6[:, :, 0])
    add("exif_orient_6_grey16.tif", encode(t16, "TIFF", tiffinfo={0x0112: 6}), "ok", (W, H))
    add("exif_orient_0.jpg", encode(base, "JPEG", exif=exif_with_orientation(0)), "ok", (W, H))
    add("exif_orient_99.jpg", encode(base, "JPEG", exif=exif_with_orientation(99)), "ok", (W, H))
    bad_exif = b"Exif\x00\x00II*\x00\x08\x00\x00\x00\xff\xff" + b"\xde\xad" * 20
    add("exif_garbage.jpg", _jpeg_with_app1(jpg, bad_exif), "ok", (W, H))
    add("exif_garbage_tiff_header.jpg", _jpeg_with_app1(jpg, b"Exif\x00\x00MM\x00*\xff\xff\xff\xff"),
        "ok", (W, H))
    add("icc_garbage.jpg", encode(base, "JPEG", icc_profile=b"\x00garbage profile" * 10), "ok",
        (W, H))
    add("icc_garbage_png.png", encode(base, "PNG", icc_profile=b"not a profile at all"), "ok", (W, H))

    # --- animations: first frame --------------------------------------------------------
    frames = [Image.fromarray(np.roll(base, 7 * k, axis=1)) for k in range(4)]
    gbuf = io.BytesIO()
    frames[0].save(gbuf, "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    add("animated.gif", gbuf.getvalue(), "ok", (W, H))
    wbuf = io.BytesIO()
    frames[0].save(wbuf, "WEBP", save_all=True, append_images=frames[1:], duration=50)
    add("animated_webp.webp", wbuf.getvalue(), "ok", (W, H))
    pbuf = io.BytesIO()
    frames[0].save(pbuf, "PNG", save_all=True, append_images=frames[1:], duration=50)
    add("animated_apng.png", pbuf.getvalue(), "ok", (W, H))
    tbuf = io.BytesIO()
    frames[0].save(tbuf, "TIFF", save_all=True, append_images=frames[1:])
    add("multipage.tif", tbuf.getvalue(), "ok", (W, H))

    # --- names ----------------------------------------------------------------------------
    add("Fotó Ünïcødé 日本語 🌸.jpg", jpg, "ok", (W, H))
    add("ελληνικά και κενά.png", png, "ok", (W, H))
    add("UPPER.JPG", jpg, "ok", (W, H))
    add("a" * 236 + ".jpg", jpg, "ok", (W, H), "240-char name; its cut-out name still fits")
    add("b" * 250 + ".jpg", jpg, "error", (W, H), "254-char name: the cut-out name cannot fit",
        stage="write")
    add("-dash-start.png", png, "ok", (W, H))
    add("wrong_suffix.png", jpg, "ok", (W, H), "a JPEG named .png")
    add("no_suffix", png, "ok", (W, H))

    dir_case = folder / "folder.png"
    dir_case.mkdir(exist_ok=True)
    cases.append(Case("folder.png", "error", note="a directory named .png"))

    if posix_extras and os.name == "posix":
        raw = b"latin1_caf\xe9.jpg"
        (Path(os.fsdecode(os.path.join(os.fsencode(folder), raw)))).write_bytes(jpg)
        cases.append(Case(os.fsdecode(raw), "ok", (W, H), "name is not valid UTF-8", raw))
        os.symlink(folder / "does-not-exist.jpg", folder / "dangling.jpg")
        cases.append(Case("dangling.jpg", "error", note="dangling symlink"))
        os.mkfifo(folder / "pipe.jpg")
        cases.append(Case("pipe.jpg", "error", note="a FIFO: reading it would hang"))
        if os.geteuid() != 0:
            p = folder / "no_permission.jpg"
            p.write_bytes(jpg)
            p.chmod(0)
            cases.append(Case("no_permission.jpg", "error"))
    stems = [c.name.rsplit(".", 1)[0] for c in cases]
    assert len(stems) == len(set(stems)), "cut-out names must not collide"
    return cases


def _tiff_with_orientation(tif: bytes, o: int) -> bytes:
    """Set (or add nothing if absent) the Orientation tag of a little-endian TIFF's IFD0."""
    b = bytearray(tif)
    e = "<" if b[:2] == b"II" else ">"
    off = struct.unpack(e + "I", b[4:8])[0]
    n = struct.unpack(e + "H", b[off:off + 2])[0]
    for k in range(n):
        at = off + 2 + 12 * k
        if struct.unpack(e + "H", b[at:at + 2])[0] == 0x0112:
            b[at + 8:at + 10] = struct.pack(e + "H", o)
            return bytes(b)
    # no Orientation tag: rewrite IFD0 at the end with one more entry (tags stay sorted)
    entries = [bytes(b[off + 2 + 12 * k: off + 14 + 12 * k]) for k in range(n)]
    entries.append(struct.pack(e + "HHIHH", 0x0112, 3, 1, o, 0))
    entries.sort(key=lambda x: struct.unpack(e + "H", x[:2])[0])
    next_ifd = b[off + 2 + 12 * n: off + 6 + 12 * n]
    new_off = len(b) + (len(b) % 2)
    b += b"\x00" * (new_off - len(b))
    b += struct.pack(e + "H", len(entries)) + b"".join(entries) + bytes(next_ifd)
    b[4:8] = struct.pack(e + "I", new_off)
    return bytes(b)


def _jpeg_with_app1(jpg: bytes, payload: bytes) -> bytes:
    seg = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return jpg[:2] + seg + jpg[2:]


def trimap_cases(folder: str | os.PathLike[str]) -> list[Case]:
    """User trimaps for a W×H photo: right, resized, wrong shape, odd values, broken."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    t = np.zeros((H, W), np.uint8)
    t[4:28, 6:34] = 128
    t[10:22, 14:26] = 255
    out = []

    def add(name, data, expect, note=""):
        (folder / name).write_bytes(data)
        out.append(Case(name, expect, (W, H) if expect == "ok" else None, note))

    add("tri_exact.png", encode(t, "PNG"), "ok")
    add("tri_double.png", encode(cv2.resize(t, (2 * W, 2 * H), interpolation=cv2.INTER_NEAREST),
                                 "PNG"), "ok", "same aspect, twice the size: resized")
    add("tri_wrong_aspect.png", encode(np.zeros((H, 2 * W), np.uint8), "PNG"), "error")
    add("tri_gradient.png", encode(np.tile(np.linspace(0, 255, W).astype(np.uint8), (H, 1)),
                                   "PNG"), "ok", "every value 0..255")
    add("tri_rgb.png", encode(np.dstack([t, t, t]), "PNG"), "ok")
    add("tri_16bit.png", encode(Image.fromarray(t.astype(np.uint16) * 257), "PNG"), "ok")
    add("tri_all_unknown.png", encode(np.full((H, W), 128, np.uint8), "PNG"), "ok")
    add("tri_all_fg.png", encode(np.full((H, W), 255, np.uint8), "PNG"), "ok")
    add("tri_jpeg_noise.jpg", encode(t, "JPEG", quality=40), "ok", "JPEG ringing around 0/128/255")
    add("tri_empty.png", b"", "error")
    add("tri_text.png", b"not a trimap", "error")
    return out


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile")
    made = make_hostile_files(target) + trimap_cases(target / "trimaps")
    for c in made:
        print(f"{c.expect:6} {c.name[:70]}  {c.note}")
    print(f"{len(made)} files in {target}")
