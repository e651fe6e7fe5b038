import io

import numpy as np
import pytest
from PIL import Image

from matting_studio.core.errors import ExportError, ImageLoadError
from matting_studio.core.io import load_image, write_atomic


def _rgb(h=20, w=30, seed=0):
    return (np.random.default_rng(seed).random((h, w, 3)) * 255).astype(np.uint8)


@pytest.mark.parametrize("fmt,suffix", [("PNG", ".png"), ("JPEG", ".jpg"), ("TIFF", ".tif"),
                                        ("WEBP", ".webp"), ("BMP", ".bmp")])
def test_formats_load_as_float_rgb(tmp_path, fmt, suffix):
    arr = _rgb()
    p = tmp_path / f"img{suffix}"
    Image.fromarray(arr).save(p, fmt, **({"quality": 95} if fmt in ("JPEG", "WEBP") else {}))
    img = load_image(p)
    assert img.rgb.shape == (20, 30, 3) and img.rgb.dtype == np.float32
    assert img.bit_depth == 8 and img.source_alpha is None
    tol = 0.002 if fmt in ("PNG", "TIFF", "BMP") else 0.2
    assert np.abs(img.rgb - arr / 255.0).mean() < tol


def test_16_bit_png_keeps_precision(tmp_path):
    import cv2
    ramp = np.linspace(0, 65535, 40 * 50 * 3).reshape(40, 50, 3).astype(np.uint16)
    p = tmp_path / "deep.png"
    cv2.imwrite(str(p), ramp[:, :, ::-1])
    img = load_image(p)
    assert img.bit_depth == 16
    np.testing.assert_allclose(img.rgb, ramp / 65535.0, atol=1e-6)


def test_16_bit_grey_png(tmp_path):
    grey = (np.arange(30 * 20).reshape(20, 30) * 100).astype(np.uint16)
    p = tmp_path / "g16.png"
    Image.fromarray(grey).save(p)
    img = load_image(p)
    assert img.bit_depth == 16
    np.testing.assert_allclose(img.rgb[:, :, 1], grey / 65535.0, atol=1e-6)


def test_palette_with_transparency_gives_alpha(tmp_path):
    im = Image.new("P", (10, 10), 0)
    im.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    im.paste(1, (0, 0, 5, 10))
    p = tmp_path / "pal.png"
    im.save(p, transparency=1)
    img = load_image(p)
    assert img.source_alpha is not None
    assert img.source_alpha[:, :5].max() == 0 and img.source_alpha[:, 5:].min() == 1


def test_grey_and_cmyk(tmp_path):
    Image.fromarray(_rgb()[:, :, 0]).save(tmp_path / "g.png")
    assert load_image(tmp_path / "g.png").rgb.shape == (20, 30, 3)
    Image.new("CMYK", (12, 8), (0, 255, 255, 0)).save(tmp_path / "c.jpg")
    rgb = load_image(tmp_path / "c.jpg").rgb
    assert rgb.shape == (8, 12, 3)
    assert rgb[..., 0].mean() > 0.8 and rgb[..., 1].mean() < 0.2  # CMYK (0,1,1,0) is red


def test_exif_orientation_applied_and_reset(tmp_path):
    arr = _rgb(10, 20)
    im = Image.fromarray(arr)
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    p = tmp_path / "rot.jpg"
    im.save(p, quality=100, exif=exif.tobytes())
    img = load_image(p)
    assert img.rgb.shape == (20, 10, 3)
    e = Image.Exif()
    e.load(img.exif)
    assert e[0x0112] == 1


def test_icc_profile_is_kept(tmp_path):
    from PIL import ImageCms
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    p = tmp_path / "icc.png"
    Image.fromarray(_rgb()).save(p, icc_profile=icc)
    assert load_image(p).icc_profile == icc


def test_animated_gif_first_frame(tmp_path):
    frames = [Image.new("RGB", (8, 6), c) for c in ((255, 0, 0), (0, 0, 255))]
    p = tmp_path / "anim.gif"
    frames[0].save(p, save_all=True, append_images=frames[1:])
    rgb = load_image(p).rgb
    assert rgb[..., 0].mean() > 0.9 and rgb[..., 2].mean() < 0.1


@pytest.mark.parametrize("content,expect", [
    (b"", "empty"),
    (b"this is not a picture\n" * 5, "not an image"),
])
def test_bad_files_have_one_clear_message(tmp_path, content, expect):
    p = tmp_path / "photo.jpg"
    p.write_bytes(content)
    with pytest.raises(ImageLoadError) as e:
        load_image(p)
    msg = str(e.value)
    assert "photo.jpg" in msg and expect in msg and "\n" not in msg


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_files(tmp_path, fmt):
    buf = io.BytesIO()
    Image.fromarray(_rgb(200, 200)).save(buf, fmt)
    p = tmp_path / f"cut.{fmt.lower()}"
    p.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(ImageLoadError, match="truncated|damaged"):
        load_image(p)


def test_missing_file(tmp_path):
    with pytest.raises(ImageLoadError, match="not found"):
        load_image(tmp_path / "nope.png")


def test_pixel_limit_refuses_bombs(tmp_path):
    p = tmp_path / "big.png"
    Image.new("L", (3000, 3000)).save(p)
    with pytest.raises(ImageLoadError, match="too large"):
        load_image(p, limit=1_000_000)


def test_write_atomic_never_replaces_the_original(tmp_path):
    orig = tmp_path / "orig.png"
    orig.write_bytes(b"precious")
    with pytest.raises(ExportError, match="original"):
        write_atomic(orig, b"new", protect=(orig,))
    assert orig.read_bytes() == b"precious"
    out = write_atomic(tmp_path / "out.png", b"data", protect=(orig,))
    assert out.read_bytes() == b"data"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["orig.png", "out.png"]


def test_write_atomic_unwritable_folder_leaves_nothing(tmp_path):
    import os
    if os.geteuid() == 0:
        # root ignores permissions: use a folder that does not exist instead
        with pytest.raises(ExportError, match="does not exist"):
            write_atomic(tmp_path / "missing" / "x.png", b"x")
        return
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(ExportError, match="permission"):
            write_atomic(ro / "x.png", b"x")
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o700)
