"""Finished images out: every output format round-trips (alpha where the format has it, 16-bit
TIFF, JPEG on white), background colours, product canvases, and the command line end to end
with real photos in HEIC / RAW and the real model."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

sys.path.insert(0, str(Path(__file__).parent))
import raw_files  # noqa: E402

from matting_studio.core.canvas import (  # noqa: E402
    CANVAS_PRESETS,
    CanvasSpec,
    parse_canvas,
    place_on_canvas,
    subject_bounds,
)
from matting_studio.core.colours import ColourError, parse_colour  # noqa: E402
from matting_studio.core.errors import ExportError  # noqa: E402
from matting_studio.core.export import (  # noqa: E402
    OUTPUT_FORMATS,
    ExportOptions,
    output_format,
    save_alpha,
    save_cutout,
    save_trimap,
)
from matting_studio.core.limits import LimitError  # noqa: E402

SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _cutout(h=60, w=80):
    """Foreground colours (a left-to-right ramp of reds) and an alpha with a soft disc."""
    yy, xx = np.mgrid[0:h, 0:w]
    fg = np.zeros((h, w, 3), np.float32)
    fg[..., 0] = 0.3 + 0.6 * xx / w
    fg[..., 1] = 0.2
    fg[..., 2] = 0.1 + 0.2 * yy / h
    d = np.hypot(yy - h / 2, xx - w / 2)
    alpha = np.clip((20 - d) / 4 + 0.5, 0, 1).astype(np.float32)
    return fg, alpha


def _exif() -> bytes:
    e = Image.Exif()
    e[0x010F] = "Maker"
    e[0x0112] = 1
    return e.tobytes()


@pytest.mark.parametrize("suffix", [".png", ".tif", ".tiff", ".webp"])
def test_transparent_formats_keep_alpha(tmp_path, suffix):
    fg, alpha = _cutout()
    path = save_cutout(tmp_path / f"c{suffix}", fg, alpha, icc=SRGB, exif=_exif())
    with Image.open(path) as im:
        assert im.mode == "RGBA" and im.size == (80, 60)
        arr = np.asarray(im).astype(np.float32) / 255
        icc = im.info.get("icc_profile")
    assert np.abs(arr[..., 3] - alpha).max() <= 0.5 / 255 + 1e-6
    opaque = alpha > 0.99
    assert np.abs(arr[..., :3][opaque] - fg[opaque]).max() <= 0.5 / 255 + 1e-6
    assert icc == SRGB


def test_sixteen_bit_tiff_when_the_photo_has_it(tmp_path):
    import tifffile

    fg, alpha = _cutout()
    fg[..., 1] = np.linspace(0, 1, fg.shape[1], dtype=np.float32)[None, :] * 0.001
    path = save_cutout(tmp_path / "deep.tif", fg, alpha, bits=16)
    with tifffile.TiffFile(path) as t:
        page = t.pages[0]
        arr = page.asarray()
        assert arr.dtype == np.uint16 and arr.shape == (60, 80, 4)
        assert page.extrasamples == (2,)  # unassociated: straight alpha
        assert page.compression == 8 and page.predictor == 2  # deflate, horizontal
    assert np.abs(arr[..., 3] / 65535 - alpha).max() <= 0.5 / 65535 + 1e-7
    # a green ramp of 0..0.001: 66 distinct 16-bit levels, all 0 in 8 bits
    assert len(np.unique(arr[30, :, 1])) > 40
    eight = save_cutout(tmp_path / "eight.tif", fg, alpha, bits=8)
    assert tifffile.imread(eight).dtype == np.uint8
    forced = save_cutout(tmp_path / "forced.tif", fg, alpha, bits=8,
                         options=ExportOptions(bits=16))
    assert tifffile.imread(forced).dtype == np.uint16


def test_jpeg_is_composited_on_white_with_the_decontaminated_colours(tmp_path):
    fg, alpha = _cutout()
    path = save_cutout(tmp_path / "shop.jpg", fg, alpha, bits=16, icc=SRGB, exif=_exif())
    with Image.open(path) as im:
        assert im.mode == "RGB" and im.format == "JPEG"
        arr = np.asarray(im).astype(np.float32) / 255
        assert im.info.get("icc_profile") == SRGB
        assert im.getexif()[0x010F] == "Maker"
    assert arr[:5, :5].min() > 0.97  # transparent corners: white
    expect = fg * alpha[..., None] + (1 - alpha[..., None])
    assert np.abs(arr - expect).mean() < 0.01


@pytest.mark.parametrize("suffix", [".png", ".tif", ".webp", ".jpg"])
def test_background_colour_flattens_any_format(tmp_path, suffix):
    fg, alpha = _cutout()
    opts = ExportOptions(background="#3366cc")
    path = save_cutout(tmp_path / f"flat{suffix}", fg, alpha, options=opts)
    with Image.open(path) as im:
        assert im.mode == "RGB"
        arr = np.asarray(im).astype(np.float32)
    assert np.abs(arr[0, 0] - (0x33, 0x66, 0xCC)).max() <= 2
    expect = (fg * alpha[..., None] + np.array([0x33, 0x66, 0xCC]) / 255
              * (1 - alpha[..., None])) * 255
    tol = 3 if suffix == ".jpg" else 0.5 + 1e-3
    assert np.abs(arr - expect).mean() <= tol


def test_alpha_and_trimap_outputs_by_extension(tmp_path):
    _, alpha = _cutout()
    for suffix in (".png", ".tif", ".webp", ".jpg"):
        path = save_alpha(tmp_path / f"matte{suffix}", alpha)
        with Image.open(path) as im:
            got = np.asarray(im.convert("L")).astype(np.float32) / 255
        assert np.abs(got - alpha).max() <= (0.03 if suffix == ".jpg" else 0.5 / 255 + 1e-6)
    deep = save_alpha(tmp_path / "matte16.tif", alpha, bits=16)
    import tifffile

    assert tifffile.imread(deep).dtype == np.uint16
    trimap = np.where(alpha > 0.99, 255, np.where(alpha < 0.01, 0, 128)).astype(np.uint8)
    for suffix in (".png", ".tif", ".webp"):
        with Image.open(save_trimap(tmp_path / f"t{suffix}", trimap)) as im:
            assert np.array_equal(np.asarray(im.convert("L")), trimap)
    with pytest.raises(ExportError, match="trimap cannot be a .jpg"):
        save_trimap(tmp_path / "t.jpg", trimap)
    assert not (tmp_path / "t.jpg").exists()


def test_unknown_and_impossible_outputs_write_nothing(tmp_path):
    fg, alpha = _cutout()
    with pytest.raises(ExportError, match=r"x\.gif: the cut-out cannot be a \.gif file"):
        save_cutout(tmp_path / "x.gif", fg, alpha)
    wide_fg = np.zeros((2, 17000, 3), np.float32)
    with pytest.raises(ExportError, match="WebP images can be at most 16383"):
        save_cutout(tmp_path / "wide.webp", wide_fg, np.ones((2, 17000), np.float32))
    assert sorted(os.listdir(tmp_path)) == []
    assert output_format("a.JPEG").name == "JPEG" and set(OUTPUT_FORMATS) == {
        "PNG", "TIFF", "WEBP", "JPEG"}


def test_colours_by_name_and_by_number():
    assert parse_colour("white") == (255, 255, 255)
    assert parse_colour(" Light Grey ") == (211, 211, 211)
    assert parse_colour("#0a0B0c") == (10, 11, 12) and parse_colour("#abc") == (170, 187, 204)
    assert parse_colour((1, 2, 3)) == (1, 2, 3)
    with pytest.raises(ColourError, match="did you mean"):
        parse_colour("whte", "--background")
    with pytest.raises(ColourError, match="is not a colour name"):
        parse_colour("bluish")
    with pytest.raises(ColourError, match="transparency"):
        parse_colour("#ff000080")
    with pytest.raises(ColourError, match="#rrggbb"):
        parse_colour("#12345")
    with pytest.raises(LimitError):
        ExportOptions(background="nope")
    assert ExportOptions(background="red").background == (255, 0, 0)


def test_canvas_centres_and_fills():
    fg, alpha = _cutout(120, 200)
    alpha[:, :] = 0
    alpha[30:50, 20:100] = 1.0  # an 80 × 20 subject, off centre
    spec = CanvasSpec(400, 400, margin=10.0)
    cfg, ca = place_on_canvas(fg, alpha, spec)
    assert ca.shape == (400, 400) and cfg.shape == (400, 400, 3)
    y0, y1, x0, x1 = subject_bounds(ca)
    assert (x0, x1) == (40, 360)  # width fills the 320-pixel inner area
    assert abs((y0 + y1) / 2 - 200) <= 1 and abs((y1 - y0) - 80) <= 2  # centred, 4× scale
    # premultiplied scaling: the old background under α = 0 does not bleed into the edge
    fg, alpha = _cutout(120, 200)
    fg[:] = (0.0, 1.0, 0.0)
    fg[alpha > 0] = (1.0, 0.0, 0.0)
    cfg, ca = place_on_canvas(fg, alpha, spec)
    edge = (ca > 0.02) & (ca < 0.98)
    assert edge.any() and cfg[edge][:, 1].max() < 0.02
    with pytest.raises(ExportError, match="empty"):
        place_on_canvas(fg, np.zeros_like(alpha), spec)


def test_canvas_specs_and_presets_are_checked():
    assert parse_canvas("2000x1600") == (CanvasSpec(2000, 1600), None)
    assert parse_canvas("1000×1000")[0].width == 1000
    spec, background = parse_canvas("marketplace-white")
    assert spec.width == 2000 and background == (255, 255, 255)
    for bad, match in (("12x12", "canvas width"), ("2000x0", "canvas height"),
                       ("30000x30000", "larger than"), ("big", "WIDTHxHEIGHT"),
                       ("99999999999x2", "WIDTHxHEIGHT")):
        with pytest.raises(LimitError, match=match):
            parse_canvas(bad)
    with pytest.raises(LimitError, match="margin"):
        CanvasSpec(500, 500, margin=50)
    assert all(p.canvas.width >= 1000 for p in CANVAS_PRESETS.values())


# -- the command line, end to end --------------------------------------------------------------


def _run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "matting_studio", *map(os.fspath, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def heic_photo(tmp_path_factory, astronaut_small):
    import pillow_heif

    pillow_heif.register_heif_opener()
    path = tmp_path_factory.mktemp("in") / "astro.heic"
    rgb = (np.clip(astronaut_small, 0, 1) * 255).astype(np.uint8)
    Image.fromarray(rgb).save(path, "HEIF", quality=90)
    return path


@pytest.mark.slow
def test_cli_heic_to_jpeg_on_a_canvas_with_edges(tmp_path, heic_photo):
    out = tmp_path / "shop.jpg"
    r = _run("cutout", "-q", heic_photo, "-o", out, "--canvas", "300x240", "--margin", "5",
             "--background", "lightgrey", "--feather", "2", "--shift-edge", "-1")
    assert r.returncode == 0, r.stderr
    with Image.open(out) as im:
        assert im.format == "JPEG" and im.size == (300, 240)
        arr = np.asarray(im).astype(int)
    assert np.abs(arr[:3, :3] - 211).max() <= 3  # the corners are the background colour
    assert np.abs(arr - 211).max(axis=2).mean() > 20  # and the subject is there


@pytest.mark.slow
def test_cli_raw_folder_to_tiff_and_webp(tmp_path):
    shoot = tmp_path / "shoot"
    shoot.mkdir()
    (shoot / "a.dng").write_bytes(raw_files.make_dng(6))
    (shoot / "b.dng").write_bytes(raw_files.make_dng(1))
    r = _run("cutout", "-q", shoot, "-o", tmp_path / "out", "--name", "{stem}.tif")
    assert r.returncode == 0, r.stderr
    import tifffile

    for stem in ("a", "b"):
        arr = tifffile.imread(tmp_path / "out" / f"{stem}.tif")
        assert arr.dtype == np.uint16 and arr.shape == (raw_files.H, raw_files.W, 4)
    r = _run("cutout", "-q", shoot / "a.dng", "-o", tmp_path / "a.webp", "--contrast", "40")
    assert r.returncode == 0, r.stderr
    with Image.open(tmp_path / "a.webp") as im:
        assert im.mode == "RGBA" and im.size == (raw_files.W, raw_files.H)


@pytest.mark.parametrize("args,match", [
    (["--background", "bluish"], "'bluish' is not a colour name"),
    (["--background", "#12"], "#rrggbb"),
    (["--canvas", "10x10"], "canvas width must be"),
    (["--canvas", "40000x2000"], "canvas width must be"),
    (["--canvas", "2000x2000", "--margin", "60"], "argument --margin: must be"),
    (["--margin", "5"], "--margin goes with --canvas"),
    (["--feather", "-2"], "argument --feather: must be"),
    (["--shift-edge", "1.5"], "argument --shift-edge: must be a whole"),
    (["-o", "x.bmp"], "cannot be a .bmp file"),
])
def test_cli_bad_finishing_flags_are_one_line(tmp_path, heic_photo, args, match):
    r = _run("cutout", heic_photo, *args, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and match in lines[0], lines
    assert os.listdir(tmp_path) == []


@pytest.mark.slow
def test_cli_corrupt_heic_and_unsupported_raw_in_a_batch(tmp_path, heic_photo):
    bad = tmp_path / "bad"
    bad.mkdir()
    data = heic_photo.read_bytes()
    (bad / "broken.heic").write_bytes(data[: len(data) // 2])
    plain = io.BytesIO()  # a TIFF LibRaw does not know as any camera's RAW format
    Image.new("RGB", (40, 30), "red").save(plain, "TIFF")
    (bad / "mystery.nef").write_bytes(plain.getvalue())
    (bad / "good.heic").write_bytes(data)
    out = tmp_path / "out"
    r = _run("cutout", "-q", bad, "-o", out)
    assert r.returncode == 1
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 2, r.stderr
    assert any(ln.startswith("error: broken.heic: ") for ln in errors)
    assert any(ln.startswith("error: mystery.nef: ") and "not supported" in ln for ln in errors)
    assert sorted(os.listdir(out)) == ["good_cutout.png"]
    assert "Traceback" not in r.stderr


def test_export_options_is_what_the_dialog_fills_in():
    o = ExportOptions(format="jpg", background=(10, 20, 30), quality=80,
                      canvas=CanvasSpec(1000, 1000))
    assert o.format == "JPEG" and o.format_of("ignored.png").name == "JPEG"
    assert o.background_for(OUTPUT_FORMATS["PNG"]) == (10, 20, 30)
    assert ExportOptions().background_for(OUTPUT_FORMATS["JPEG"]) == (255, 255, 255)
    assert ExportOptions().background_for(OUTPUT_FORMATS["PNG"]) is None
    for bad in ({"format": "gif"}, {"bits": 12}, {"quality": 0}, {"canvas": (1, 2)}):
        with pytest.raises(LimitError):
            ExportOptions(**bad)
    buf = io.BytesIO()
    fg, alpha = _cutout()
    Image.fromarray((fg * 255).astype(np.uint8)).save(buf, "PNG")  # (the fixture is valid)
    assert buf.getvalue()
