"""8-bit RGB/RGBA PNGs decode through OpenCV; every other shape of file keeps Pillow's path,
and both give the same LoadedImage."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image, ImageCms

from matting_studio.core.errors import ImageLoadError
from matting_studio.core.io import decode as io_decode
from matting_studio.core.io import decode_image
from matting_studio.core.io import png as io_png


def _png(mode: str, exif_orientation: int | None = None, icc: bool = False) -> bytes:
    rng = np.random.default_rng(len(mode))
    arr = rng.integers(0, 256, (23, 31, len(mode)), dtype=np.uint8)
    im = Image.fromarray(arr, mode)
    kw = {}
    if exif_orientation:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        kw["exif"] = exif.tobytes()
    if icc:
        kw["icc_profile"] = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buf = io.BytesIO()
    im.save(buf, "PNG", **kw)
    return buf.getvalue()


def _chunks(data: bytes) -> list[bytes]:
    pos, out = 8, []
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        out.append(data[pos:pos + 12 + n])
        pos += 12 + n
    return out


def _both(data: bytes, monkeypatch):
    fast = decode_image(data, "x.png")
    with monkeypatch.context() as m:
        m.setattr(io_decode, "fast_png", lambda *a: None)
        slow = decode_image(data, "x.png")
    return fast, slow


def _same(a, b):
    np.testing.assert_array_equal(a.rgb, b.rgb)
    assert (a.source_alpha is None) == (b.source_alpha is None)
    if a.source_alpha is not None:
        np.testing.assert_array_equal(a.source_alpha, b.source_alpha)
    assert (a.bit_depth, a.icc_profile, a.exif, a.format) == \
        (b.bit_depth, b.icc_profile, b.exif, b.format)


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
@pytest.mark.parametrize("orientation", [None, 6])
def test_fast_path_equals_pillow(monkeypatch, mode, orientation):
    data = _png(mode, orientation, icc=True)
    assert io_png.fast_png(Image.open(io.BytesIO(data)), data, "PNG", "x") is not None
    fast, slow = _both(data, monkeypatch)
    _same(fast, slow)
    assert fast.icc_profile is not None
    if orientation:
        assert fast.rgb.shape[:2] == (31, 23)  # turned upright
        exif = Image.Exif()
        exif.load(fast.exif)
        assert exif[0x0112] == 1  # reset: the pixels are upright


def test_exif_after_the_image_data_is_still_read(monkeypatch):
    chunks = _chunks(_png("RGB", exif_orientation=6))
    exif = [c for c in chunks if c[4:8] == b"eXIf"]
    rest = [c for c in chunks if c[4:8] != b"eXIf"]
    data = b"\x89PNG\r\n\x1a\n" + b"".join(rest[:-1] + exif + rest[-1:])  # eXIf before IEND
    assert io_png.fast_png(Image.open(io.BytesIO(data)), data, "PNG", "x") is None
    img = decode_image(data, "x.png")
    assert img.rgb.shape[:2] == (31, 23)


def test_bad_crc_and_truncation_take_pillows_path(monkeypatch):
    data = bytearray(_png("RGB"))
    idat = data.index(b"IDAT")
    data[idat + 6] ^= 0xFF  # damage the image data: its CRC no longer matches
    assert not io_png.png_chunks_ok(bytes(data))
    with pytest.raises(ImageLoadError) as fast:
        decode_image(bytes(data), "x.png")
    with monkeypatch.context() as m:
        m.setattr(io_decode, "fast_png", lambda *a: None)
        with pytest.raises(ImageLoadError) as slow:
            decode_image(bytes(data), "x.png")
    assert str(fast.value) == str(slow.value)
    good = _png("RGB")
    assert io_png.png_chunks_ok(good)
    assert not io_png.png_chunks_ok(good[:-12])  # no IEND
    assert not io_png.png_chunks_ok(good + b"junk")


def test_transparency_chunk_keeps_pillows_path(monkeypatch):
    im = Image.fromarray(np.zeros((5, 6, 3), np.uint8))
    buf = io.BytesIO()
    im.save(buf, "PNG", transparency=(0, 0, 0))
    data = buf.getvalue()
    assert io_png.fast_png(Image.open(io.BytesIO(data)), data, "PNG", "x") is None
    img = decode_image(data, "x.png")
    assert img.source_alpha is not None and float(img.source_alpha.max()) == 0.0


def test_animated_png_keeps_pillows_path(monkeypatch):
    frames = [Image.fromarray(np.full((8, 9, 3), v, np.uint8)) for v in (10, 200)]
    buf = io.BytesIO()
    frames[0].save(buf, "PNG", save_all=True, append_images=frames[1:], default_image=False)
    data = buf.getvalue()
    assert not io_png.png_chunks_ok(data)
    fast, slow = _both(data, monkeypatch)
    _same(fast, slow)


@pytest.mark.parametrize("size", [0, 1, 5119, 5120, 5121, 8192, 3 * 5120 + 7])
def test_piecewise_crc_equals_zlib(size):
    import zlib

    data = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()
    assert io_png.crc32_holding_gil(memoryview(data)) == zlib.crc32(data)
