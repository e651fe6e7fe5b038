"""Damaged pixel data inside otherwise valid 8-bit PNGs (every chunk's CRC right): the fast
OpenCV path is not taken, so libpng prints nothing on stderr, and the file is either decoded
by Pillow or refused in one line."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from matting_studio.core.errors import ImageLoadError
from matting_studio.core.io import decode_image
from matting_studio.core.io.png import pixel_data_ok, png_chunks

W, H = 40, 30


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(
        ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png(pixels: np.ndarray, *, filters: int = 0, height: int | None = None,
        extra: bytes = b"", interlace: int = 0, split: int = 0) -> bytes:
    """A PNG written by hand from ``pixels`` (uint8 (h, w, c)), with the damage asked for."""
    h, w, c = pixels.shape
    depth = 16 if pixels.dtype == np.uint16 else 8
    big = pixels.astype(">u2") if depth == 16 else pixels
    rows = b"".join(bytes([filters if y == 3 else 0]) + big[y].tobytes() for y in range(h))
    data = zlib.compress(rows) + extra
    ihdr = struct.pack(">IIBBBBB", w, height or h, depth, {3: 2, 4: 6}[c], 0, 0, interlace)
    idats = [data] if not split else [data[i:i + split] for i in range(0, len(data), split)]
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + b"".join(chunk(b"IDAT", d) for d in idats) + chunk(b"IEND", b""))


@pytest.fixture
def pixels():
    rng = np.random.default_rng(3)
    return rng.integers(0, 256, (H, W, 3), dtype=np.uint8)


def _row_check(data: bytes) -> bool:
    """:func:`pixel_data_ok` with the size and channels the header declares."""
    w, h, depth, colour = struct.unpack_from(">IIBB", data, 16)
    return pixel_data_ok(data, png_chunks(data), w * {2: 3, 6: 4}[colour] * depth // 8, h)


def test_good_pixel_data_passes_in_one_or_many_chunks(pixels):
    for split in (0, 7, 100):
        data = png(pixels, split=split)
        assert _row_check(data)
        img = decode_image(data, "good.png")
        assert np.array_equal(np.rint(img.rgb * 255).astype(np.uint8), pixels)
    rgba = np.dstack([pixels, pixels[:, :, :1]])
    assert _row_check(png(rgba))
    deep = pixels.astype(np.uint16) * 257
    assert _row_check(png(deep))
    img = decode_image(png(deep), "deep.png")
    assert img.bit_depth == 16 and np.array_equal(np.rint(img.rgb * 65535), deep)


def test_output_left_in_the_decompressor_is_read_to_the_end(monkeypatch):
    # flat rows deflate to a few bytes: the whole input is consumed by the first calls while
    # most of the output is still to come, one small piece per call
    import matting_studio.core.io.png as png_mod

    monkeypatch.setattr(png_mod, "_INFLATE_PIECE", 64)
    flat = np.full((H, W, 3), 90, np.uint8)
    for split in (0, 5):
        assert _row_check(png(flat, split=split))
        assert not _row_check(png(flat, split=split, height=H + 1))
        assert not _row_check(png(flat, split=split, extra=b"\x00"))
        assert not _row_check(png(flat, split=split, filters=9))


@pytest.mark.parametrize("depth", [8, 16])
@pytest.mark.parametrize("damage", ["taller", "shorter", "filter", "extra"])
def test_damage_is_found_and_nothing_reaches_stderr(pixels, damage, depth, capfd):
    if depth == 16:
        pixels = pixels.astype(np.uint16) * 257
    data = {"taller": lambda: png(pixels, height=H + 1),
            "shorter": lambda: png(pixels, height=H - 1),
            "filter": lambda: png(pixels, filters=7),
            "extra": lambda: png(pixels, extra=zlib.compress(b"more"))}[damage]()
    assert not _row_check(data)
    try:
        img = decode_image(data, f"{damage}.png")
        assert img.rgb.shape[1] == W  # Pillow decoded what it could
    except ImageLoadError as e:
        assert "\n" not in str(e)
    out = capfd.readouterr()
    assert out.err == "", out.err


def test_interlaced_png_is_not_checked_row_by_row(pixels, capfd):
    """Adam7 rows are laid out otherwise: such a file goes to Pillow without the check (here
    a file declaring Adam7 over plain rows: Pillow decodes or refuses it, libpng is silent)."""
    data = png(pixels, interlace=1)
    try:
        decode_image(data, "adam7.png")
    except ImageLoadError as e:
        assert "\n" not in str(e)
    assert capfd.readouterr().err == ""
