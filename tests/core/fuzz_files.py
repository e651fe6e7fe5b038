"""Seed photos and a seeded mutator for the file fuzz (:mod:`test_fuzz_files`).

:func:`seed_files` makes small valid JPEG, PNG, TIFF and WebP files of many kinds (8/16-bit,
alpha, palette, EXIF orientation, progressive, multi-page, animated, …); :func:`mutate` damages
one of them the way hostile or broken files are damaged: bit flips, byte runs, truncation,
chunks / markers / IFD entries duplicated or deleted, length fields set to huge values, the
declared size patched to extremes (100000×64, 14000×14000, 0×N, …), garbage inserted, two files
spliced. Every case is a pure function of (seed, index), so a failure can be written out again:
``python tests/core/fuzz_files.py DIR [N] [SEED]``.
"""

from __future__ import annotations

import io
import itertools
import struct
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
import hostile_files as hf

W, H = 24, 16

EXTREME_SIZES = [(100_000, 64), (64, 100_000), (14_000, 14_000), (40_000, 3), (3, 40_000),
                 (0, 16), (24, 0), (1, 1), (65_535, 65_535), (65_536, 2), (2**31 - 1, 1),
                 (2**32 - 1, 2**32 - 1), (W + 1, H), (W, H * 2), (1, 20_000)]
HUGE_LENGTHS = [0, 1, 2, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFF0]


def _rgba(base: np.ndarray) -> np.ndarray:
    alpha = np.full(base.shape[:2], 255, np.uint8)
    alpha[:, : base.shape[1] // 4] = 0
    alpha[:, base.shape[1] // 4: base.shape[1] // 3] = 128
    return np.dstack([base, alpha])


def _save_all(frames: list[Image.Image], fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    frames[0].save(buf, fmt, save_all=True, append_images=frames[1:], **kw)
    return buf.getvalue()


def seed_files() -> dict[str, bytes]:
    """name → bytes of every valid seed photo (W×H, a warm subject on a cool background)."""
    base = hf.subject(W, H)
    rgba = _rgba(base)
    deep = base.astype(np.uint16) * 257
    frames = [Image.fromarray(np.roll(base, 5 * k, axis=1)) for k in range(3)]
    exif6 = hf.exif_with_orientation(6)
    stored6 = np.ascontiguousarray(hf.stored_for_orientation(base, 6))
    enc = hf.encode
    s: dict[str, bytes] = {}
    # JPEG
    s["baseline.jpg"] = enc(base, "JPEG", quality=90)
    s["q30_420.jpg"] = enc(base, "JPEG", quality=30, subsampling=2)
    s["grey.jpg"] = enc(base[:, :, 1], "JPEG")
    s["progressive.jpg"] = enc(base, "JPEG", progressive=True)
    s["optimized.jpg"] = enc(base, "JPEG", optimize=True, quality=80)
    s["restarts.jpg"] = enc(base, "JPEG", restart_marker_blocks=1)
    s["exif6.jpg"] = enc(stored6, "JPEG", exif=exif6)
    s["icc.jpg"] = enc(base, "JPEG", icc_profile=hf.ImageCms.ImageCmsProfile(
        hf.ImageCms.createProfile("sRGB")).tobytes())
    s["cmyk.jpg"] = enc(Image.fromarray(base).convert("CMYK"), "JPEG")
    # PNG
    s["rgb.png"] = enc(base, "PNG")
    s["rgba.png"] = enc(rgba, "PNG")
    s["rgb16.png"] = cv2.imencode(".png", deep[:, :, ::-1])[1].tobytes()
    s["rgba16.png"] = cv2.imencode(".png", np.dstack([deep[:, :, ::-1],
                                                      rgba[:, :, 3].astype(np.uint16) * 257]))[1]\
        .tobytes()
    s["grey16.png"] = enc(Image.fromarray(deep[:, :, 0]), "PNG")
    pal = Image.fromarray(base).quantize(16)
    s["palette_trns.png"] = enc(pal, "PNG", transparency=0)
    s["palette4.png"] = enc(pal, "PNG", bits=4)
    s["grey_alpha.png"] = enc(Image.fromarray(np.dstack([base[:, :, 1], rgba[:, :, 3]]), "LA"),
                              "PNG")
    s["bilevel.png"] = enc(Image.fromarray(base[:, :, 0] > 128), "PNG")
    s["exif6.png"] = enc(stored6, "PNG", exif=exif6)
    s["apng.png"] = _save_all(frames, "PNG", duration=40, loop=0)
    # TIFF
    s["plain.tif"] = enc(base, "TIFF")
    s["lzw.tif"] = enc(base, "TIFF", compression="tiff_lzw")
    s["deflate.tif"] = enc(base, "TIFF", compression="tiff_adobe_deflate")
    s["jpeg.tif"] = enc(base, "TIFF", compression="jpeg")
    s["packbits_rgba.tif"] = enc(rgba, "TIFF", compression="packbits")
    s["rgb16.tif"] = cv2.imencode(".tif", deep[:, :, ::-1])[1].tobytes()
    s["float.tif"] = cv2.imencode(".tif", (base.astype(np.float32) / 255)[:, :, ::-1])[1]\
        .tobytes()
    s["grey16_orient6.tif"] = enc(Image.fromarray(np.ascontiguousarray(
        hf.stored_for_orientation(deep[:, :, 0], 6))), "TIFF", tiffinfo={0x0112: 6})
    s["cmyk.tif"] = enc(Image.fromarray(base).convert("CMYK"), "TIFF")
    s["multipage.tif"] = _save_all(frames, "TIFF")
    # WebP
    s["lossy.webp"] = enc(base, "WEBP", quality=80)
    s["lossless.webp"] = enc(base, "WEBP", lossless=True)
    s["alpha.webp"] = enc(rgba, "WEBP", quality=80)
    s["alpha_lossless.webp"] = enc(rgba, "WEBP", lossless=True)
    s["exif.webp"] = enc(stored6, "WEBP", exif=exif6)
    s["animated.webp"] = _save_all(frames, "WEBP", duration=40, loop=0)
    return s


def kind_of(name: str) -> str:
    return {"jpg": "jpeg", "png": "png", "tif": "tiff", "webp": "webp"}[name.rsplit(".", 1)[1]]


# -- structure: PNG chunks, JPEG segments, RIFF chunks, TIFF IFD0 --------------------------------

def png_chunks(data: bytes) -> list[list]:
    """[[length_field, type, payload, crc]] of a PNG (stops at the first inconsistency)."""
    out, i = [], 8
    while i + 12 <= len(data):
        n = struct.unpack(">I", data[i:i + 4])[0]
        if i + 12 + n > len(data):
            break
        out.append([n, data[i + 4:i + 8], data[i + 8:i + 8 + n], data[i + 8 + n:i + 12 + n]])
        i += 12 + n
    return out


def png_join(chunks: list[list], fix_crc: bool) -> bytes:
    parts = [b"\x89PNG\r\n\x1a\n"]
    for n, kind, payload, crc in chunks:
        if fix_crc:
            crc = struct.pack(">I", zlib.crc32(kind + payload))
        parts.append(struct.pack(">I", n) + kind + payload + crc)
    return b"".join(parts)


def jpeg_segments(data: bytes) -> list[bytes]:
    """The JPEG split before every marker (entropy-coded data stays with its SOS / RST)."""
    cuts = [0]
    i = 2
    while i < len(data) - 1:
        if data[i] == 0xFF and data[i + 1] not in (0x00, 0xFF) and not 0xD0 <= data[i + 1] <= 0xD7:
            cuts.append(i)
        i += 1
    cuts.append(len(data))
    return [data[a:b] for a, b in itertools.pairwise(cuts) if b > a]


def riff_chunks(data: bytes) -> list[list]:
    """[[fourcc, size_field, payload]] of a RIFF/WEBP file."""
    out, i = [], 12
    while i + 8 <= len(data):
        kind = data[i:i + 4]
        n = struct.unpack("<I", data[i + 4:i + 8])[0]
        payload = data[i + 8:i + 8 + n]
        out.append([kind, n, payload])
        i += 8 + n + (n & 1)
    return out


def riff_join(chunks: list[list], fix_sizes: bool = True) -> bytes:
    body = b"WEBP"
    for kind, n, payload in chunks:
        size = len(payload) if fix_sizes else n
        body += kind + struct.pack("<I", size) + payload + (b"\x00" if len(payload) & 1 else b"")
    return b"RIFF" + struct.pack("<I", len(body)) + body


def tiff_entries(data: bytes) -> tuple[str, int, int]:
    """(byte order '<' or '>', IFD0 offset, entry count), or raises ValueError."""
    e = "<" if data[:2] == b"II" else ">"
    off = struct.unpack(e + "I", data[4:8])[0]
    n = struct.unpack(e + "H", data[off:off + 2])[0]
    return e, off, n


# -- mutations -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Mutant:
    name: str
    data: bytes
    how: str


def _flip_bits(rng, b: bytearray) -> str:
    k = int(rng.integers(1, 9))
    for _ in range(k):
        i = int(rng.integers(0, len(b)))
        b[i] ^= 1 << int(rng.integers(0, 8))
    return f"{k} bit flips"


def _byte_run(rng, b: bytearray) -> str:
    n = int(rng.integers(1, min(64, len(b)) + 1))
    at = int(rng.integers(0, len(b) - n + 1))
    fill = [0x00, 0xFF, 0x7F, 0x80][int(rng.integers(0, 4))] if rng.random() < 0.6 else None
    b[at:at + n] = bytes([fill]) * n if fill is not None else rng.bytes(n)
    return f"run of {n} bytes at {at} ({'random' if fill is None else hex(fill)})"


def _truncate(rng, data: bytes) -> tuple[bytes, str]:
    cut = int(rng.integers(1, len(data)))
    return data[:cut], f"truncated to {cut} of {len(data)} bytes"


def _insert(rng, data: bytes) -> tuple[bytes, str]:
    at = int(rng.integers(0, len(data) + 1))
    n = int(rng.integers(1, 200))
    return data[:at] + rng.bytes(n) + data[at:], f"{n} garbage bytes inserted at {at}"


def _splice(rng, data: bytes, other: bytes, other_name: str) -> tuple[bytes, str]:
    a = int(rng.integers(1, len(data)))
    b = int(rng.integers(0, len(other)))
    return data[:a] + other[b:], f"first {a} bytes + {other_name} from byte {b}"


def _structural(rng, kind: str, data: bytes) -> tuple[bytes, str] | None:
    """A format-aware mutation, or None if the file does not parse."""
    op = ["duplicate", "delete", "length", "size", "swap"][int(rng.integers(0, 5))]
    if kind == "png":
        chunks = png_chunks(data)
        if len(chunks) < 2:
            return None
        i = int(rng.integers(0, len(chunks)))
        label = chunks[i][1].decode("latin1")
        fix = bool(rng.random() < 0.7)  # usually valid checksums, so the damage goes deeper
        if op == "duplicate":
            chunks.insert(i, list(chunks[i]))
        elif op == "delete":
            del chunks[i]
        elif op == "length":
            chunks[i][0] = HUGE_LENGTHS[int(rng.integers(0, len(HUGE_LENGTHS)))]
            fix = False
            return png_join(chunks, fix), f"{label} length field {chunks[i][0]}"
        elif op == "size":
            w, h = EXTREME_SIZES[int(rng.integers(0, len(EXTREME_SIZES)))]
            ihdr = chunks[0]
            ihdr[2] = struct.pack(">II", w & 0xFFFFFFFF, h & 0xFFFFFFFF) + ihdr[2][8:]
            return png_join(chunks, fix), f"IHDR says {w}x{h}"
        else:
            j = int(rng.integers(0, len(chunks)))
            chunks[i], chunks[j] = chunks[j], chunks[i]
        return png_join(chunks, fix), f"PNG chunk {op} at {i} ({label}), crc fixed={fix}"
    if kind == "jpeg":
        segs = jpeg_segments(data)
        if len(segs) < 3:
            return None
        i = int(rng.integers(1, len(segs)))
        marker = f"FF{segs[i][1]:02X}" if len(segs[i]) > 1 else "?"
        if op == "duplicate":
            segs.insert(i, segs[i] * int(rng.integers(1, 4)))
        elif op == "delete":
            del segs[i]
        elif op == "length":
            seg = bytearray(segs[i])
            if len(seg) >= 4:
                seg[2:4] = struct.pack(">H", HUGE_LENGTHS[int(rng.integers(0, 5))] & 0xFFFF)
            segs[i] = bytes(seg)
        elif op == "size":
            w, h = EXTREME_SIZES[int(rng.integers(0, len(EXTREME_SIZES)))]
            for k, seg in enumerate(segs):
                if len(seg) >= 9 and seg[1] in (0xC0, 0xC1, 0xC2):
                    seg = bytearray(seg)
                    seg[5:9] = struct.pack(">HH", h & 0xFFFF, w & 0xFFFF)
                    segs[k] = bytes(seg)
            return b"".join(segs), f"SOF says {w & 0xFFFF}x{h & 0xFFFF}"
        else:
            j = int(rng.integers(1, len(segs)))
            segs[i], segs[j] = segs[j], segs[i]
        return b"".join(segs), f"JPEG segment {marker} {op} at {i}"
    if kind == "webp":
        if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
            return None
        chunks = riff_chunks(data)
        if not chunks:
            return None
        i = int(rng.integers(0, len(chunks)))
        name = chunks[i][0].decode("latin1")
        if op == "duplicate":
            chunks.insert(i, list(chunks[i]))
        elif op == "delete" and len(chunks) > 1:
            del chunks[i]
        elif op == "length":
            chunks[i][1] = HUGE_LENGTHS[int(rng.integers(0, len(HUGE_LENGTHS)))]
            b = bytearray(riff_join(chunks, fix_sizes=False))
            if rng.random() < 0.5:
                b[4:8] = struct.pack("<I", 0xFFFFFFFF)
            return bytes(b), f"RIFF chunk {name} size field {chunks[i][1]}"
        elif op == "size":
            w, h = EXTREME_SIZES[int(rng.integers(0, len(EXTREME_SIZES)))]
            for c in chunks:
                p = bytearray(c[2])
                if c[0] == b"VP8X" and len(p) >= 10:
                    p[4:10] = struct.pack("<I", (w - 1) & 0xFFFFFF)[:3] + \
                        struct.pack("<I", (h - 1) & 0xFFFFFF)[:3]
                elif c[0] == b"VP8 " and len(p) >= 10:
                    p[6:10] = struct.pack("<HH", w & 0x3FFF, h & 0x3FFF)
                elif c[0] == b"VP8L" and len(p) >= 5:
                    bits = struct.unpack("<I", p[1:5])[0] & ~0xFFFFFFF
                    bits |= ((w - 1) & 0x3FFF) | (((h - 1) & 0x3FFF) << 14)
                    p[1:5] = struct.pack("<I", bits)
                elif c[0] == b"ANMF" and len(p) >= 12:
                    p[6:12] = struct.pack("<I", (w - 1) & 0xFFFFFF)[:3] + \
                        struct.pack("<I", (h - 1) & 0xFFFFFF)[:3]
                c[2] = bytes(p)
            return riff_join(chunks), f"WebP declares {w}x{h}"
        else:
            j = int(rng.integers(0, len(chunks)))
            chunks[i], chunks[j] = chunks[j], chunks[i]
        return riff_join(chunks), f"RIFF chunk {name} {op} at {i}"
    if kind == "tiff":
        try:
            e, off, n = tiff_entries(data)
        except (struct.error, ValueError):
            return None
        if n == 0 or off + 2 + 12 * n + 4 > len(data):
            return None
        b = bytearray(data)
        k = int(rng.integers(0, n))
        at = off + 2 + 12 * k
        tag = struct.unpack(e + "H", b[at:at + 2])[0]
        if op == "duplicate":  # IFD0 points to itself, or to a copy of itself: a loop
            end = off + 2 + 12 * n
            b[end:end + 4] = struct.pack(e + "I", off)
            return bytes(b), "IFD0's next-IFD offset points to itself"
        if op == "delete":
            del b[at:at + 12]
            b[off:off + 2] = struct.pack(e + "H", n - 1)
            b[off + 2 + 12 * (n - 1) + 4: off + 2 + 12 * (n - 1) + 4] = bytes(12)  # keep offsets
            return bytes(b), f"TIFF tag {tag} removed"
        if op == "length":
            b[at + 4:at + 8] = struct.pack(e + "I", HUGE_LENGTHS[int(rng.integers(0, 9))])
            return bytes(b), f"TIFF tag {tag} count {struct.unpack(e + 'I', b[at + 4:at + 8])[0]}"
        if op == "size":
            w, h = EXTREME_SIZES[int(rng.integers(0, len(EXTREME_SIZES)))]
            for k2 in range(n):
                a2 = off + 2 + 12 * k2
                t2, typ = struct.unpack(e + "HH", b[a2:a2 + 4])
                if t2 in (256, 257):
                    v = w if t2 == 256 else h
                    if typ == 3:
                        b[a2 + 8:a2 + 12] = struct.pack(e + "HH", v & 0xFFFF, 0)
                    else:
                        b[a2 + 8:a2 + 12] = struct.pack(e + "I", v & 0xFFFFFFFF)
            return bytes(b), f"TIFF says {w}x{h}"
        # swap: a random value into a random entry (offsets, counts, types)
        field = int(rng.integers(0, 3))
        span = [(2, 4), (4, 8), (8, 12)][field]
        b[at + span[0]:at + span[1]] = rng.bytes(span[1] - span[0])
        return bytes(b), f"TIFF tag {tag} {['type', 'count', 'value'][field]} randomised"
    return None


SHAPES = {  # (w, h) of valid photos of extreme shapes, within each format's limits
    "png": [(100_000, 64), (64, 100_000), (40_000, 3), (3, 40_000), (1, 30_000), (30_000, 1),
            (1, 1), (2, 2), (65_500, 20)],
    "tiff": [(100_000, 64), (64, 100_000), (40_000, 3), (3, 40_000), (1, 30_000), (30_000, 1),
             (1, 1), (3, 2)],
    "jpeg": [(65_500, 64), (64, 65_500), (40_000, 3), (3, 40_000), (1, 30_000), (30_000, 1),
             (1, 1), (2, 3)],
    "webp": [(16_383, 64), (64, 16_383), (16_383, 1), (1, 16_383), (1, 1), (2, 2)],
}


def reshaped(rng, name: str, data: bytes) -> tuple[bytes, str] | None:
    """The seed's first frame tiled to an extreme shape and saved again in its own format
    and mode (a valid file, so the whole pipeline runs on the shape), or None."""
    kind = kind_of(name)
    w, h = SHAPES[kind][int(rng.integers(0, len(SHAPES[kind])))]
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.seek(0)
            im.load()
            tile = im.copy()
            info = dict(im.info)
    except Exception:  # noqa: BLE001 - e.g. a float TIFF Pillow cannot read
        return None
    row = Image.new(tile.mode, (w, tile.height))
    big = Image.new(tile.mode, (w, h))
    if tile.mode == "P":
        row.putpalette(tile.getpalette())
        big.putpalette(tile.getpalette())
    for x in range(0, w, tile.width):
        row.paste(tile, (x, 0))
    for y in range(0, h, tile.height):
        big.paste(row, (0, y))
    kw: dict = {}
    if info.get("exif"):
        kw["exif"] = info["exif"]
    if kind == "jpeg":
        kw.update(quality=85, progressive="progressive" in info)
    elif kind == "png" and "transparency" in info:
        kw["transparency"] = info["transparency"]
    elif kind == "tiff":
        # Pillow's libtiff JPEG writer corrupts the heap on strips of other than 8k rows
        kw["compression"] = {"jpeg": "tiff_lzw"}.get(info.get("compression", "raw"),
                                                     info.get("compression", "raw"))
        kw.pop("exif", None)
    elif kind == "webp":
        kw["lossless"] = b"VP8L" in data[:64]
    buf = io.BytesIO()
    try:
        big.save(buf, {"jpeg": "JPEG", "png": "PNG", "tiff": "TIFF", "webp": "WEBP"}[kind], **kw)
    except Exception:  # noqa: BLE001 - a mode the format cannot save at this size
        return None
    return buf.getvalue(), f"tiled to {w}x{h}"


def mutate(seeds: dict[str, bytes], index: int, seed: int) -> Mutant:
    """Case ``index`` of run ``seed``: one seed file damaged in one or two ways, or tiled to
    an extreme shape (and maybe damaged too)."""
    rng = np.random.default_rng([seed, index])
    names = sorted(seeds)
    src = names[int(rng.integers(0, len(names)))]
    data = seeds[src]
    kind = kind_of(src)
    steps = []
    if rng.random() < 0.05:
        done = reshaped(rng, src, data)
        if done is not None:
            data = done[0]
            steps.append(done[1])
    for _ in range(0 if steps and rng.random() < 0.6 else 1 if rng.random() < 0.75 else 2):
        op = int(rng.integers(0, 8))
        if op == 0:
            b = bytearray(data)
            steps.append(_flip_bits(rng, b))
            data = bytes(b)
        elif op == 1:
            b = bytearray(data)
            steps.append(_byte_run(rng, b))
            data = bytes(b)
        elif op == 2:
            data, how = _truncate(rng, data)
            steps.append(how)
        elif op == 3:
            data, how = _insert(rng, data)
            steps.append(how)
        elif op == 4:
            other = names[int(rng.integers(0, len(names)))]
            data, how = _splice(rng, data, seeds[other], other)
            steps.append(how)
        else:  # structure-aware, the most productive: 3 of 8
            done = _structural(rng, kind, data)
            if done is None:
                b = bytearray(data)
                steps.append(_flip_bits(rng, b))
                data = bytes(b)
            else:
                data, how = done
                steps.append(how)
        if len(data) < 2:
            data = seeds[src][:2]
    stem, ext = src.rsplit(".", 1)
    return Mutant(f"c{index:05d}_{stem}.{ext}", data, f"{src}: " + "; ".join(steps))


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "fuzz")
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    run_seed = int(sys.argv[3]) if len(sys.argv) > 3 else 19
    target.mkdir(parents=True, exist_ok=True)
    all_seeds = seed_files()
    for i in range(count):
        m = mutate(all_seeds, i, run_seed)
        (target / m.name).write_bytes(m.data)
        print(f"{m.name}  {m.how}")
