"""Missing, damaged and incompatible ONNX models; failing execution providers."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from matting_studio import cli  # noqa: E402
from matting_studio.core import segmentation as seg  # noqa: E402
from matting_studio.core.errors import ModelError  # noqa: E402
from matting_studio.core.segmentation import (  # noqa: E402
    PRESETS,
    SegmentationModel,
    default_model_path,
    get_model,
    get_model_or_embedded,
)

onnx = pytest.importorskip("onnx")
import onnx_models as om  # noqa: E402

RGB = np.random.default_rng(0).random((30, 40, 3)).astype(np.float32)
U2 = PRESETS["u2netp"]


def _bad_files(tmp_path):
    real = default_model_path().read_bytes()
    files = {
        "empty.onnx": b"",
        "noise.onnx": bytes(np.random.default_rng(1).integers(0, 256, 5000, np.uint8)),
        "truncated.onnx": real[: len(real) // 3],
        "text.onnx": b"this is a README, not a model\n" * 10,
        "photo.onnx": b"\xff\xd8\xff\xe0" + b"\x00" * 100,
    }
    out = {}
    for name, data in files.items():
        p = tmp_path / name
        p.write_bytes(data)
        out[name] = p
    return out


def test_missing_and_folder(tmp_path):
    with pytest.raises(ModelError, match=r"^nothere\.onnx: model file not found"):
        SegmentationModel(tmp_path / "nothere.onnx", U2)
    (tmp_path / "dir.onnx").mkdir()
    with pytest.raises(ModelError, match=r"^dir\.onnx: is a folder"):
        SegmentationModel(tmp_path / "dir.onnx", U2)


def test_damaged_files_name_the_file(tmp_path):
    for name, path in _bad_files(tmp_path).items():
        with pytest.raises(ModelError) as e:
            SegmentationModel(path, U2)
        msg = str(e.value)
        assert msg.startswith(name + ":") and "\n" not in msg, msg


@pytest.mark.parametrize("maker,expect", [
    (om.rank2_model, "expected one image input"),
    (om.one_channel_model, "1-channel"),
    (om.uint8_input_model, "tensor(uint8)"),
])
def test_incompatible_models_are_refused_at_load(tmp_path, maker, expect):
    p = maker(tmp_path / f"{maker.__name__}.onnx")
    with pytest.raises(ModelError) as e:
        SegmentationModel(p, U2)
    assert str(e.value).startswith(p.name) and expect in str(e.value)


def test_not_a_mask_and_failing_run_name_the_file(tmp_path):
    vec = SegmentationModel(om.vector_output_model(tmp_path / "classifier.onnx"), U2)
    with pytest.raises(ModelError, match=r"^classifier\.onnx: .*not a mask"):
        vec.predict(RGB)
    boom = SegmentationModel(om.failing_at_run_model(tmp_path / "boom.onnx"), U2)
    with pytest.raises(ModelError, match=r"^boom\.onnx: the model failed to run"):
        boom.predict(RGB)


def test_tolerated_variants(tmp_path):
    fixed = SegmentationModel(om.fixed_size_model(tmp_path / "fixed64.onnx"), U2)
    assert fixed.preset.size == 64
    assert fixed.predict(RGB).shape == (30, 40)
    multi = SegmentationModel(om.multi_channel_output_model(tmp_path / "three.onnx"), U2)
    m = multi.predict(RGB)
    assert m.shape == (30, 40) and np.isfinite(m).all()


class _FlakyGpuSession:
    """Stands in for onnxruntime.InferenceSession: refuses (or fails to run) on CUDA."""

    real = None
    fail_create_on_gpu = True

    def __init__(self, path, sess_options=None, providers=None):
        if "CUDAExecutionProvider" in (providers or []) and self.fail_create_on_gpu:
            raise RuntimeError("CUDA failure 100: no CUDA-capable device is detected")
        self._s = self.real(path, sess_options=sess_options, providers=["CPUExecutionProvider"])
        self._providers = list(providers or [])

    def get_providers(self):
        return self._providers

    def __getattr__(self, name):
        return getattr(self._s, name)


def test_failing_gpu_provider_falls_back_to_cpu(tmp_path, monkeypatch, caplog):
    import onnxruntime as ort

    _FlakyGpuSession.real = ort.InferenceSession
    monkeypatch.setattr(ort, "InferenceSession", _FlakyGpuSession)
    monkeypatch.setattr(seg, "available_providers",
                        lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    with caplog.at_level(logging.WARNING, logger="matting_studio"):
        model = SegmentationModel(om.warm_colour_model(tmp_path / "warm.onnx"), U2)
    assert model.provider == "CPUExecutionProvider"
    assert any("falling back to the CPU" in r.getMessage() and "warm.onnx" in r.getMessage()
               for r in caplog.records)
    assert model.predict(RGB).shape == (30, 40)


def test_gpu_failing_while_running_retries_on_cpu(tmp_path, monkeypatch, caplog):
    model = SegmentationModel(om.warm_colour_model(tmp_path / "warm.onnx"), U2)
    expected = model.predict(RGB)

    class Broken:
        def run(self, *a, **k):
            raise RuntimeError("CUDA error: out of memory")

        def get_providers(self):
            return ["CUDAExecutionProvider"]

    model._session = Broken()
    model.provider = "CUDAExecutionProvider"
    with caplog.at_level(logging.WARNING, logger="matting_studio"):
        got = model.predict(RGB)
    assert model.provider == "CPUExecutionProvider"
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert any("retrying on the CPU" in r.getMessage() for r in caplog.records)


def test_provider_override(monkeypatch):
    monkeypatch.setenv("MATTING_STUDIO_PROVIDERS", "cpu")
    assert seg.available_providers() == ["CPUExecutionProvider"]
    monkeypatch.setenv("MATTING_STUDIO_PROVIDERS", "NoSuchProvider")
    assert seg.available_providers() == ["CPUExecutionProvider"]


def test_embedded_fallback_for_the_editor(tmp_path):
    bad = tmp_path / "mine.onnx"
    bad.write_bytes(b"\0" * 64)
    model, problem = get_model_or_embedded(bad)
    assert problem is not None and problem.startswith("mine.onnx:")
    assert model is get_model()
    model, problem = get_model_or_embedded(None)
    assert problem is None


def test_replaced_model_file_is_reloaded(tmp_path):
    import os

    p = om.warm_colour_model(tmp_path / "m.onnx")
    first = get_model(p, "u2netp")
    assert get_model(p, "u2netp") is first
    om.fixed_size_model(p)  # same name, new content
    st = p.stat()
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))
    second = get_model(p, "u2netp")
    assert second is not first and second.preset.size == 64


def test_cli_bad_model_one_line_each(tmp_path, capsys):
    photo = tmp_path / "p.png"
    from PIL import Image

    Image.fromarray((RGB * 255).astype(np.uint8)).save(photo)
    models = list(_bad_files(tmp_path).values()) + [
        om.rank2_model(tmp_path / "rank2.onnx"), tmp_path / "missing.onnx",
        om.vector_output_model(tmp_path / "classifier.onnx")]
    for m in models:
        code = cli.main(["cutout", "-q", str(photo), "-o", str(tmp_path / "o.png"),
                         "--model", str(m), "--preset", "u2netp"])
        err = capsys.readouterr().err
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert code == 1, m.name
        assert "Traceback" not in err and m.name in err, err
        errors = [ln for ln in lines if ln.startswith("error:")]
        assert len(errors) == 1, lines
        assert not (tmp_path / "o.png").exists()
