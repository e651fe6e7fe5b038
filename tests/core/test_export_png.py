"""Our PNG writer: strips deflated in parallel threads into one valid zlib stream."""

from __future__ import annotations

import io
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from matting_studio.core import export
from matting_studio.core.export import adler32_combine, encode_cutout, encode_png, save_trimap


def _chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, out = 8, []
    while pos < len(png):
        (n,) = struct.unpack(">I", png[pos:pos + 4])
        kind, data = png[pos + 4:pos + 8], png[pos + 8:pos + 8 + n]
        (crc,) = struct.unpack(">I", png[pos + 8 + n:pos + 12 + n])
        assert crc == zlib.crc32(kind + data), kind
        out.append((kind, data))
        pos += 12 + n
    assert out[-1][0] == b"IEND"
    return out


def _stream(png: bytes) -> bytes:
    return b"".join(d for k, d in _chunks(png) if k == b"IDAT")


@pytest.mark.parametrize("deflate", ["isal", "zlib"])
@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("bits", [8, 16])
@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_round_trip_over_several_strips(monkeypatch, set_budget, threads, bits, channels,
                                       deflate):
    if deflate == "zlib":  # the fallback where ISA-L is not installed
        monkeypatch.setattr(export, "_deflate", None)
    else:
        assert export._deflate is not None, "isal is a dependency"
    monkeypatch.setattr(export, "STRIP", 16)
    set_budget(threads)
    rng = np.random.default_rng(channels * bits)
    shape = (53, 37) + ((channels,) if channels > 1 else ())
    px = rng.random(shape, dtype=np.float32) * 1.2 - 0.1  # out-of-range values are clipped
    px[10:30] = 0.25  # constant rows (Up filter gives zeros)
    png = encode_png(px, bits)
    zlib.decompress(_stream(png))  # one zlib stream, adler32 right
    planes = [px] if channels == 1 else [px[:, :, c] for c in range(channels)]
    want = export._quantize_rows(planes, bits, 0, px.shape[0])
    got = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    assert got.dtype == want.dtype
    if channels == 1:
        np.testing.assert_array_equal(got, want[:, :, 0])
    elif channels in (3, 4):
        np.testing.assert_array_equal(got[:, :, 2::-1], want[:, :, :3])
        if channels == 4:
            np.testing.assert_array_equal(got[:, :, 3], want[:, :, 3])
    im = Image.open(io.BytesIO(png))
    im.load()
    assert im.size == (37, 53)
    if bits == 8:
        pil = np.asarray(im)
        np.testing.assert_array_equal(pil.reshape(want.shape), want)


def test_one_pixel_and_one_row():
    for shape in [(1, 1), (1, 300), (300, 1)]:
        a = np.full(shape, 0.5, np.float32)
        got = cv2.imdecode(np.frombuffer(encode_png(a), np.uint8), cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(got, np.full(shape, 128, np.uint8))


def test_metadata_chunks_follow_ihdr(monkeypatch):
    monkeypatch.setattr(export, "STRIP", 8)
    fg = np.random.default_rng(0).random((40, 20, 3), dtype=np.float32)
    alpha = np.linspace(0, 1, 800, dtype=np.float32).reshape(40, 20)
    icc = b"\x00" * 128
    exif = b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x00\x00"
    kinds = [k for k, _ in _chunks(encode_cutout(fg, alpha, 8, icc, exif))]
    assert kinds[:3] == [b"IHDR", b"iCCP", b"eXIf"]
    assert set(kinds[3:-1]) == {b"IDAT"} and len(kinds[3:-1]) == 5


def test_trimap_written_exactly(tmp_path):
    t = np.zeros((300, 200), np.uint8)
    t[50:250, 40:160] = 128
    t[100:200, 80:120] = 255
    path = save_trimap(tmp_path / "t.png", t)
    np.testing.assert_array_equal(cv2.imread(str(path), cv2.IMREAD_UNCHANGED), t)


def test_adler32_combine():
    rng = np.random.default_rng(1)
    for n1, n2 in [(0, 5), (5, 0), (1000, 70000), (65521, 65521 * 3 + 7)]:
        a, b = rng.bytes(n1), rng.bytes(n2)
        assert adler32_combine(zlib.adler32(a), zlib.adler32(b), n2) == zlib.adler32(a + b)
