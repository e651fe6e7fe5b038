"""Photographers' files in: HEIC / HEIF and AVIF made here with the libraries, camera RAW as DNG
files written here (tests/core/raw_files.py); orientation, bit depth, colour, metadata, and the
one-line refusals of damaged or unsupported ones."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

sys.path.insert(0, str(Path(__file__).parent))
import raw_files  # noqa: E402

from matting_studio.core.errors import ImageLoadError  # noqa: E402
from matting_studio.core.io import decode_image, load_image  # noqa: E402

pillow_heif = pytest.importorskip("pillow_heif")

W, H = 64, 48


def _scene() -> np.ndarray:
    """uint8 RGB: a yellow marker top left, red left half, blue right half."""
    s = np.zeros((H, W, 3), np.uint8)
    s[:, : W // 2] = (200, 30, 30)
    s[:, W // 2:] = (30, 40, 200)
    s[:8, :12] = (250, 240, 20)
    return s


def _exif(orientation: int | None = None) -> bytes:
    e = Image.Exif()
    e[0x010F] = "PhoneMaker"
    if orientation:
        e[0x0112] = orientation
    return e.tobytes()


SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _heic(pixels: np.ndarray, **kw) -> bytes:
    pillow_heif.register_heif_opener()
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "HEIF", quality=-1, **kw)
    return buf.getvalue()


def _marker_corner(rgb: np.ndarray) -> str:
    h, w = rgb.shape[:2]
    corners = {"top-left": rgb[:4, :4], "top-right": rgb[:4, w - 4:],
               "bottom-left": rgb[h - 4:, :4], "bottom-right": rgb[h - 4:, w - 4:]}
    yellow = {k: float(v[..., 0].mean() + v[..., 1].mean() - v[..., 2].mean())
              for k, v in corners.items()}
    return max(yellow, key=yellow.get)


def test_heic_with_profile_and_exif():
    data = _heic(_scene(), icc_profile=SRGB, exif=_exif())
    img = decode_image(data, name="phone.heic")
    assert img.format == "HEIF" and img.size == (W, H) and img.bit_depth == 8
    assert np.abs(img.rgb * 255 - _scene()).mean() < 6  # lossless-ish HEVC at quality -1
    assert img.icc_profile == SRGB
    exif = Image.Exif()
    exif.load(img.exif)
    assert exif[0x010F] == "PhoneMaker"
    assert _marker_corner(img.rgb) == "top-left"


@pytest.mark.parametrize("orientation,corner", [(3, "bottom-right"), (6, "top-right"),
                                                (8, "bottom-left")])
def test_heic_orientation_is_applied_once(orientation, corner):
    """libheif turns the picture upright (the container's rotation); the EXIF tag that repeats
    it must not turn it a second time, and is reset to 1."""
    img = decode_image(_heic(_scene(), exif=_exif(orientation)), name="rotated.heic")
    assert img.size == ((H, W) if orientation in (6, 8) else (W, H))
    assert _marker_corner(img.rgb) == corner
    exif = Image.Exif()
    exif.load(img.exif)
    assert exif.get(0x0112, 1) == 1


def test_ten_bit_heic_keeps_its_precision():
    ramp = np.linspace(0, 65535, W * H * 3).reshape(H, W, 3).astype(np.uint16)
    heif = pillow_heif.from_bytes(mode="RGB;16", size=(W, H), data=ramp.tobytes())
    buf = io.BytesIO()
    heif.save(buf, quality=-1)
    img = decode_image(buf.getvalue(), name="ten.heic")
    assert img.bit_depth == 16 and img.rgb.dtype == np.float32
    assert img.rgb.max() <= 1.0 and img.rgb.max() > 0.98
    assert len(np.unique(img.rgb[:, :, 1])) > 300  # more than 8 bits of levels survive


def test_avif_with_alpha_and_orientation():
    from PIL import features

    if not features.check("avif"):
        pytest.skip("this Pillow has no AVIF support")
    rgba = np.dstack([_scene(), np.full((H, W), 255, np.uint8)])
    rgba[:, W - 10:, 3] = 0
    buf = io.BytesIO()
    Image.fromarray(rgba).save(buf, "AVIF", quality=100, exif=_exif(6), icc_profile=SRGB)
    img = decode_image(buf.getvalue(), name="web.avif")
    assert img.size == (H, W)  # orientation 6 applied: portrait
    assert _marker_corner(img.rgb) == "top-right"
    assert img.source_alpha is not None
    # the transparent right-hand strip is now at the bottom
    assert img.source_alpha[-8:].max() < 0.05 and img.source_alpha[:30].min() > 0.95
    assert img.icc_profile == SRGB


@pytest.mark.parametrize("name,data", [
    ("corrupt.heic", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x17" * 300),
    ("cut.heic", None),
])
def test_damaged_heic_is_one_line(name, data):
    if data is None:
        full = _heic(_scene())
        data = full[: len(full) * 2 // 3]
    with pytest.raises(ImageLoadError) as e:
        decode_image(data, name=name, path=Path(name))
    msg = str(e.value)
    assert msg.startswith(f"{name}: ") and "\n" not in msg and "HEIC" in msg


# -- camera RAW --------------------------------------------------------------------------------


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_dng_is_developed_upright_in_16_bit(tmp_path, orientation):
    path = tmp_path / f"IMG_{orientation}.dng"
    path.write_bytes(raw_files.make_dng(orientation))
    img = load_image(path)
    assert img.format == "RAW" and img.bit_depth == 16
    assert img.size == (raw_files.W, raw_files.H)
    assert _marker_corner(img.rgb) == "top-left"
    ramp = img.rgb[82:94] * 255  # 16-bit output: the ramp is not on 8-bit levels
    assert np.abs(ramp - np.rint(ramp)).max() > 0.1


def test_dng_colours_and_white_balance(tmp_path):
    path = tmp_path / "colour.dng"
    path.write_bytes(raw_files.make_dng())
    rgb = load_image(path).rgb

    def mean(y0, y1, x0, x1):
        return rgb[y0:y1, x0:x1].reshape(-1, 3).mean(axis=0)

    grey = mean(80, 92, 40, 90)
    assert np.ptp(grey) < 0.02, grey  # the camera's tint (0.5, 1, 0.7) is undone
    red, green, blue = mean(36, 64, 14, 36), mean(36, 64, 54, 76), mean(36, 64, 94, 116)
    assert red[0] > 2 * max(red[1], red[2]), red
    assert green[1] > 2 * max(green[0], green[2]), green
    assert blue[2] > 2 * max(blue[0], blue[1]), blue


def test_dng_keeps_the_camera_exif(tmp_path):
    path = tmp_path / "exif.dng"
    path.write_bytes(raw_files.make_dng(6, make="Hasselblad", model="X2D"))
    exif = Image.Exif()
    exif.load(load_image(path).exif)
    assert exif[0x010F] == "Hasselblad" and exif[0x0110] == "X2D"
    assert exif.get(0x0112) == 1


def test_raw_preview_takes_the_embedded_jpeg(tmp_path):
    path = tmp_path / "with_preview.dng"
    path.write_bytes(raw_files.make_dng(6, preview=True))
    quick = load_image(path, raw_preview=True)
    assert quick.format == "RAW preview" and quick.bit_depth == 8
    assert quick.size == (raw_files.W, raw_files.H)
    assert _marker_corner(quick.rgb) == "top-left"
    full = load_image(path)
    assert full.format == "RAW" and full.size == quick.size


@pytest.mark.parametrize("orientation", [1, 6, 8])
def test_raw_preview_takes_the_embedded_jpeg_upright(tmp_path, orientation):
    path = tmp_path / "camera.dng"
    path.write_bytes(raw_files.make_dng_with_jpeg_preview(orientation))
    quick = load_image(path, raw_preview=True)
    assert quick.format == "RAW preview" and quick.bit_depth == 8
    assert quick.size == (raw_files.W, raw_files.H)
    assert _marker_corner(quick.rgb) == "top-left"
    exif = Image.Exif()
    exif.load(quick.exif)
    assert exif[0x010F] == "Matting Studio" and exif.get(0x0112) == 1
    full = load_image(path)
    assert full.format == "RAW" and full.bit_depth == 16 and full.size == quick.size
    assert _marker_corner(full.rgb) == "top-left"


def test_raw_preview_without_one_develops_the_raw_data(tmp_path):
    path = tmp_path / "no_preview.dng"
    path.write_bytes(raw_files.make_dng())
    img = load_image(path, raw_preview=True)
    assert img.format == "RAW" and img.bit_depth == 16


@pytest.mark.parametrize("name,make", [
    ("unknown.nef", lambda: b"II*\x00\x08\x00\x00\x00" + bytes(range(256)) * 8),
    ("noise.cr3", lambda: bytes(np.random.default_rng(3).integers(0, 256, 5000, np.uint8))),
    ("cut.dng", lambda: raw_files.make_dng()[:3000]),
])
def test_bad_raw_files_are_one_line(tmp_path, name, make):
    path = tmp_path / name
    path.write_bytes(make())
    with pytest.raises(ImageLoadError) as e:
        load_image(path)
    msg = str(e.value)
    assert msg.startswith(f"{name}: ") and "\n" not in msg
    assert "RAW" in msg
