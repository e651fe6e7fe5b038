"""Real u2netp model, real matting, real PNG round trips."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from matting_studio.core.errors import ModelError
from matting_studio.core.export import encode_png, save_cutout
from matting_studio.core.io import LoadedImage, load_image
from matting_studio.core.pipeline import PipelineSettings, export_result, run_cutout
from matting_studio.core.segmentation import (
    PRESETS,
    SegmentationModel,
    default_model_path,
    get_model,
    guess_preset,
    preset_for,
)


def test_embedded_model_ships_inside_our_package():
    import sys

    import matting_studio
    p = default_model_path()
    assert p.name == "u2netp.onnx" and p.stat().st_size == 4_574_861
    assert p.parent == Path(matting_studio.__file__).resolve().parent / "models"
    assert "rembg" not in sys.modules


def test_model_finds_the_astronaut(astronaut_small):
    mask = get_model().predict(astronaut_small)
    assert mask.shape == (128, 128) and mask.dtype == np.float32
    assert 0.0 <= mask.min() and mask.max() <= 1.0
    # the astronaut fills the lower middle; the top-right corner is sky/background
    assert mask[90:120, 40:90].mean() > 0.7
    assert mask[:15, 110:].mean() < 0.3


def test_sessions_are_reused():
    assert get_model() is get_model()


def test_bad_model_files(tmp_path):
    bad = tmp_path / "garbage.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="garbage.onnx"):
        SegmentationModel(bad, PRESETS["u2netp"])
    with pytest.raises(ModelError, match="not found"):
        SegmentationModel(tmp_path / "missing.onnx", PRESETS["u2netp"])
    with pytest.raises(ModelError, match="unknown model preset"):
        preset_for("nonsense")


def test_preset_guess_from_file_name(tmp_path):
    from pathlib import Path
    assert guess_preset(Path("isnet-general-use.onnx")) == "isnet-general-use"
    assert guess_preset(Path("BiRefNet-general-epoch_244.onnx")) == "birefnet"
    assert guess_preset(Path("u2net.onnx")) == "u2net"
    assert guess_preset(Path("mystery.onnx")) is None  # then the ONNX signature decides


def _loaded(rgb, path=None, bits=8, icc=None, exif=None):
    return LoadedImage(rgb=rgb.astype(np.float32), source_alpha=None, bit_depth=bits,
                       icc_profile=icc, exif=exif, path=path)


def test_automatic_pipeline_on_a_real_photo(astronaut_small):
    res = run_cutout(_loaded(astronaut_small))
    a = res.alpha
    assert a.shape == (128, 128)
    soft = ((a > 0.05) & (a < 0.95)).sum()
    assert soft > 50  # real soft edges, not a binary mask
    assert a[res.trimap == 255].min() == 1.0 and a[res.trimap == 0].max() == 0.0
    assert a[res.mask > 0.95].mean() > 0.9 and a[res.mask < 0.05].mean() < 0.1
    assert 0.1 < a.mean() < 0.7  # a subject, not everything or nothing
    assert set(np.unique(res.trimap)) <= {0, 128, 255}


def test_foreground_colours_remove_the_old_background(disc):
    image, gt, trimap = disc
    res = run_cutout(_loaded(image), user_trimap=trimap)
    edge = (res.alpha > 0.2) & (res.alpha < 0.8)
    # the disc is red (0.9, 0.3, 0.2) on blue: decontaminated edges are red, not purple
    assert res.foreground[edge][:, 0].mean() > 0.7
    assert res.foreground[edge][:, 2].mean() < 0.4


def test_export_round_trip_16_bit_with_metadata(tmp_path, disc):
    from PIL import ImageCms
    image, gt, trimap = disc
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    src = _loaded(image, path=tmp_path / "src.png", bits=16, icc=icc, exif=exif.tobytes())
    res = run_cutout(src, user_trimap=trimap)
    written = export_result(src, res, tmp_path / "cut.png", tmp_path / "a.png", tmp_path / "t.png")
    assert len(written) == 3
    import cv2
    raw = cv2.imread(str(tmp_path / "cut.png"), cv2.IMREAD_UNCHANGED)
    assert raw.dtype == np.uint16 and raw.shape == (64, 64, 4)
    np.testing.assert_allclose(raw[:, :, 3] / 65535.0, res.alpha, atol=2e-5)
    with Image.open(tmp_path / "cut.png") as im:
        assert im.info.get("icc_profile") == icc
        assert im.getexif().get(0x010F) == "TestCam"
    assert set(np.unique(np.asarray(Image.open(tmp_path / "t.png")))) <= {0, 128, 255}


def test_cutout_refuses_to_overwrite_source(tmp_path, disc):
    from matting_studio.core.errors import ExportError
    src = tmp_path / "photo.png"
    src.write_bytes(b"original bytes")
    with pytest.raises(ExportError):
        save_cutout(src, disc[0], disc[1], protect=(src,))
    assert src.read_bytes() == b"original bytes"


def test_encode_png_grey_and_rgba_8bit():
    a = np.linspace(0, 1, 12).reshape(3, 4)
    import io
    im = Image.open(io.BytesIO(encode_png(a)))
    assert im.mode == "L" and im.size == (4, 3)
    rgba = np.dstack([np.ones((3, 4, 3)) * 0.5, a])
    im = Image.open(io.BytesIO(encode_png(rgba)))
    assert im.mode == "RGBA"
    assert np.asarray(im)[2, 3, 3] == 255


def test_load_then_cutout_from_file(tmp_path, astronaut_small):
    p = tmp_path / "astro.jpg"
    Image.fromarray((astronaut_small * 255).astype(np.uint8)).save(p, quality=95)
    img = load_image(p)
    res = run_cutout(img, PipelineSettings(backend="knn"))
    assert res.alpha.shape == (128, 128)
