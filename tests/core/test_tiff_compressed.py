"""Compressed TIFFs go through OpenCV's decoder (its libtiff reports to OpenCV's quiet
logger); Pillow's libtiff, which prints on stderr, never sees them. Valid files decode to the
same pixels, in every orientation; damaged ones are refused in one line and stderr stays
empty."""

from __future__ import annotations

import io

import numpy as np
import pytest
import tifffile
from PIL import Image

from matting_studio.core.errors import ImageLoadError
from matting_studio.core.io import decode_image


def _pixels(shape, dtype):
    rng = np.random.default_rng(5)
    top = 65535 if dtype == np.uint16 else 255
    return rng.integers(0, top + 1, shape, dtype=np.int64).astype(dtype)


def _tiff(arr, compression, orientation=1):
    b = io.BytesIO()
    tifffile.imwrite(b, arr, compression=compression,
                     extratags=[(274, "H", 1, orientation, False)] if orientation != 1 else None,
                     photometric="minisblack" if arr.ndim == 2 else "rgb",
                     extrasamples=("unassalpha",) if arr.ndim == 3 and arr.shape[2] == 4
                     else None)
    return b.getvalue()


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_compressed_tiffs_decode_exactly(dtype, channels, capfd):
    shape = (24, 36) if channels == 1 else (24, 36, channels)
    arr = _pixels(shape, dtype)
    img = decode_image(_tiff(arr, "deflate"), "photo.tif")
    top = 65535.0 if dtype == np.uint16 else 255.0
    assert img.bit_depth == (16 if dtype == np.uint16 else 8)
    rgb = arr if channels == 3 else (np.repeat(arr[:, :, None], 3, 2) if channels == 1
                                      else arr[:, :, :3])
    assert np.array_equal(np.rint(img.rgb * top), rgb)
    if channels == 4:
        assert np.array_equal(np.rint(img.source_alpha * top), arr[:, :, 3])
    assert capfd.readouterr().err == ""


def test_lzw_tiff_from_pillow_and_orientation(tmp_path):
    arr = _pixels((20, 30, 3), np.uint8)
    path = tmp_path / "lzw.tif"
    Image.fromarray(arr).save(path, compression="tiff_lzw")
    assert np.array_equal(np.rint(decode_image(path.read_bytes(), "lzw.tif").rgb * 255), arr)
    turned = decode_image(_tiff(arr, "deflate", orientation=6), "turned.tif")
    assert np.array_equal(np.rint(turned.rgb * 255), np.rot90(arr, k=-1))  # upright


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_damaged_compressed_tiff_is_one_line_and_silent(dtype, capfd):
    data = bytearray(_tiff(_pixels((64, 64, 3), dtype), "deflate"))
    start = 8  # tifffile writes the pixel data right after the header
    data[start + 20:start + 60] = b"\xff" * 40
    with pytest.raises(ImageLoadError) as e:
        decode_image(bytes(data), "broken.tif")
    assert "\n" not in str(e.value) and "broken.tif" in str(e.value)
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("compression", ["tiff_lzw", "packbits", "tiff_adobe_deflate"])
def test_straight_alpha_is_kept_exactly(compression, tmp_path, capfd):
    """8-bit RGBA with straight alpha, as Pillow and photo editors write it: the colours under
    partial alpha are the stored ones, not premultiplied."""
    arr = _pixels((20, 30, 4), np.uint8)
    path = tmp_path / "rgba.tif"
    Image.fromarray(arr, "RGBA").save(path, compression=compression)
    img = decode_image(path.read_bytes(), "rgba.tif")
    assert np.array_equal(np.rint(img.rgb * 255), arr[:, :, :3])
    assert np.array_equal(np.rint(img.source_alpha * 255), arr[:, :, 3])
    assert capfd.readouterr().err == ""


def test_jpeg_compressed_tiff(tmp_path):
    arr = np.zeros((32, 48, 3), np.uint8)
    arr[:, 24:] = (200, 40, 90)
    path = tmp_path / "jpeg.tif"
    Image.fromarray(arr).save(path, compression="jpeg", quality=95)
    img = decode_image(path.read_bytes(), "jpeg.tif")
    assert np.abs(np.rint(img.rgb * 255) - arr).max() <= 12  # JPEG's own loss


def test_compressed_grey_trimaps_take_the_same_way(tmp_path, capfd):
    """A trimap saved as a compressed grey TIFF is read exactly; a damaged one (an LZW code
    that is not in the table, which Pillow's libtiff reported on stderr) is decoded or refused
    in one line, without a word on stderr: the grey fast path hands it to the same decoder."""
    from matting_studio.core.io import load_grey

    t = np.zeros((40, 50), np.uint8)
    t[10:30, 10:40] = 128
    t[15:25, 15:35] = 255
    good = tmp_path / "trimap.tif"
    Image.fromarray(t).save(good, compression="tiff_lzw")
    assert np.array_equal(load_grey(good, "trimap"), t)
    noisy = io.BytesIO()
    Image.fromarray(_pixels((64, 64), np.uint8)).save(noisy, format="TIFF",
                                                      compression="tiff_lzw")
    data = bytearray(noisy.getvalue())
    data[20:30] = b"\xff" * 10
    bad = tmp_path / "broken.tif"
    bad.write_bytes(bytes(data))
    try:
        assert load_grey(bad, "trimap").shape == (64, 64)
    except ImageLoadError as e:
        assert "\n" not in str(e)
    assert capfd.readouterr().err == ""
