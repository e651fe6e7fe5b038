"""Salient-object segmentation with rembg-family ONNX models.

Finding a model (names, the catalogue, the embedded file, recognising a file) lives in
:mod:`.models`; this module loads what it is given (:class:`SegmentationModel`) and caches
sessions per (file, preset) (:func:`get_model`). A file's preset comes from the user, else from
its checksum or name (:func:`.models.identify`), else from its ONNX signature
(:func:`preset_from_signature`).
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from . import models
from .errors import ModelError
from .executor import thread_budget

log = logging.getLogger(__name__)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

MIN_INPUT_EDGE = 8
MAX_INPUT_EDGE = 2048
"""Bounds of a model's square input edge. BiRefNet's high-resolution variants take 2048²; a
model declaring more (one asked for 30000², a 10.8 GB input tensor) or less is refused when it
is loaded, before anything is allocated for it."""


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


# The preprocessing of each family, as rembg's sessions (rembg/sessions/*.py) do it.
PRESETS: dict[str, ModelPreset] = {
    p.name: p
    for p in (
        ModelPreset("u2netp", 320),
        ModelPreset("u2net", 320),
        ModelPreset("u2net_human_seg", 320),
        ModelPreset("silueta", 320),
        ModelPreset("isnet-general-use", 1024, mean=(0.5, 0.5, 0.5), std=(1.0, 1.0, 1.0)),
        ModelPreset("isnet-anime", 1024, std=(1.0, 1.0, 1.0)),
        ModelPreset("birefnet", 1024, sigmoid=True),
    )
}
DEFAULT_PRESET = "u2netp"


def default_model_path() -> Path:
    """Path of the embedded ``u2netp.onnx`` (shipped inside the package)."""
    return models.embedded_model_path()


def preset_for(name: str) -> ModelPreset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ModelError(
            f"unknown model preset {name!r}; choose one of: {', '.join(sorted(PRESETS))}"
        ) from None


def guess_preset(path: Path) -> str | None:
    """Preset suggested by a model file's name (``isnet-general-use.onnx`` →
    ``isnet-general-use``); None when the name does not say."""
    return models.preset_from_name(path)


def preset_from_signature(edge: int | None, n_outputs: int) -> str:
    """Preset for a model that neither its checksum nor its name identifies, from its ONNX
    signature: a fixed 320² input is a U²-Net; a fixed 1024² (or 2048²) input is IS-Net when
    the model gives several maps (its side outputs) and BiRefNet when it gives one; anything
    else is fed like the embedded u2netp (at the model's own fixed size, if it has one)."""
    if edge == 320:
        return "u2net"
    if edge in (1024, 2048):
        return "isnet-general-use" if n_outputs > 1 else "birefnet"
    return DEFAULT_PRESET


_sessions: OrderedDict[tuple, SegmentationModel] = OrderedDict()
_sessions_lock = threading.Lock()
MAX_CACHED_MODELS = 3
"""Sessions kept for reuse, most recently used first out last: switching between big models
(a BiRefNet session holds about 1 GB) must not keep every one alive."""


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
    :func:`~.mask_views.model_answers` runs the image and its mirror image side by side."""
    return max(1, thread_budget() // 2)


_HOW = {"given": "set by the user", "checksum": "recognised by its checksum",
        "installed": "from the catalogue", "name": "recognised by its file name",
        "signature": "chosen from its input size and outputs", "unknown": "the default"}


class SegmentationModel:
    """An ONNX salient-object model plus its preset. Thread-safe ``predict``; runs from several
    threads go side by side (``parallel_runs``).

    Every failure (missing, damaged or incompatible file; an input size out of bounds; an
    execution provider that cannot start or run; an answer that is NaN, infinite or the same
    everywhere) is a :class:`ModelError` whose message starts with the model's file name.
    A GPU provider that fails is replaced by the CPU one, with a warning.

    ``preset`` None: chosen from the ONNX signature (:func:`preset_from_signature`).
    ``info``: the catalogue model the file was recognised as, if any; ``recognised_by`` says
    how the preset was chosen (``"given"``, ``"checksum"``, ``"installed"``, ``"name"``,
    ``"signature"``). ``label`` is what views and messages call the model.
    """

    def __init__(self, path: Path, preset: ModelPreset | None, providers: list[str] | None = None,
                 info: models.ModelInfo | None = None, recognised_by: str = "given"):
        self.path = Path(path)
        self.preset = preset  # type: ignore[assignment]  # set from the signature when None
        self.info = info
        self.recognised_by = recognised_by if preset is not None else "signature"
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
        # No CPU memory arena: an arena keeps the buffers of the largest run (two runs side by
        # side) for the session's life, memory the editor needs for the photo on screen;
        # without it they are given back after each run.
        opts.enable_cpu_mem_arena = False
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
        edge = None
        fixed = [d for d in (height, width) if isinstance(d, int)]
        if any(not MIN_INPUT_EDGE <= d <= MAX_INPUT_EDGE for d in fixed):
            raise ModelError(f"{name}: the model declares a {width}×{height} input; only inputs "
                             f"from {MIN_INPUT_EDGE}×{MIN_INPUT_EDGE} to "
                             f"{MAX_INPUT_EDGE}×{MAX_INPUT_EDGE} are supported")
        if len(fixed) == 2:
            if height != width:
                raise ModelError(f"{name}: the model wants {width}×{height} input; only square "
                                 "inputs are supported")
            edge = height
        if self.preset is None:
            self.preset = PRESETS[preset_from_signature(edge, len(outputs))]
            log.info("%s: preset %s chosen from the model's signature (input %s, %d outputs)",
                     name, self.preset.name, edge or "any size", len(outputs))
        if edge is not None and edge != self.preset.size:
            log.info("%s: using the model's own input size %d (preset %s says %d)",
                     name, edge, self.preset.name, self.preset.size)
            self.preset = replace(self.preset, size=edge)
        if self.preset.output >= len(outputs):
            raise ModelError(f"{name}: preset {self.preset.name} wants output "
                             f"{self.preset.output}, the model has {len(outputs)}")
        out_rank = len(outputs[self.preset.output].shape or ())
        if out_rank and out_rank not in (2, 3, 4):
            raise ModelError(f"{name}: the model's output is not a mask (rank {out_rank})")
        self._input_name = inp.name
        self.provider = self._session.get_providers()[0]
        log.info("segmentation model %s (preset %s, %s) runs on %s", self.label, self.preset.name,
                 _HOW.get(self.recognised_by, self.recognised_by), self.provider)

    @property
    def label(self) -> str:
        """What the views and messages call the model: its catalogue name, else its file name."""
        return self.info.name if self.info is not None else self.name

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
        return self.predict_input(self.preprocess(rgb))

    def predict_input(self, tensor: np.ndarray) -> np.ndarray:
        """:meth:`predict_small` of an input :meth:`preprocess` made (or its mirror image)."""
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
        if not np.isfinite(pred).all():
            raise ModelError(f"{self.name}: the model answered NaN or infinite values, not a "
                             "mask; the file is damaged or not a salient-object model")
        if self.preset.sigmoid:
            pred = 1.0 / (1.0 + np.exp(-np.clip(pred, -60.0, 60.0)))
        lo, hi = float(pred.min()), float(pred.max())
        if not hi - lo > 1e-6 * max(1.0, abs(hi)):
            flat = float(np.ptp(tensor.reshape(tensor.shape[1], -1), axis=1).max()) <= 1e-5
            if flat:  # a photo of one colour all over (or of one pixel): there is no subject
                return np.zeros_like(pred)
            raise ModelError(f"{self.name}: the model's answer is the same everywhere ({hi:g}): "
                             "it found no subject, or the file is not a salient-object model")
        return (pred - lo) / (hi - lo)

    def predict(self, rgb: np.ndarray) -> np.ndarray:
        """Soft foreground mask, float32 (h, w) in 0..1, same size as ``rgb``."""
        h, w = rgb.shape[:2]
        pred = self.predict_small(rgb)
        mask = cv2.resize(pred, (w, h), interpolation=cv2.INTER_LINEAR)
        return np.clip(mask, 0.0, 1.0).astype(np.float32).reshape(h, w)


def get_model(path: str | Path | None = None, preset: str | None = None) -> SegmentationModel:
    """Return a cached :class:`SegmentationModel`.

    ``path``: None for the embedded u2netp, a catalogue name (``"u2net"``; it must be
    installed: nothing is downloaded here) or an ONNX file. ``preset``: None to recognise it
    (checksum, then name, then the ONNX signature) or a key of :data:`PRESETS`.
    """
    given = preset_for(preset) if preset else None
    if path is None:
        model_path = default_model_path()
        ident = models.embedded_identification()
    else:
        model_path, info = models.resolve(path)
        ident = models.identify(model_path)
        if info is not None and ident.info is None:  # a damaged install: loading will say so
            ident = models.Identification(info, info.preset, "installed")
    if given is not None:
        chosen, how = given, "given"
    else:
        chosen = PRESETS[ident.preset] if ident.preset else None
        how = ident.source
    try:
        st = model_path.stat()
        stamp = (st.st_mtime_ns, st.st_size)
    except OSError:
        stamp = (0, 0)
    try:
        where = str(model_path.resolve())
    except (OSError, RuntimeError):
        where = str(model_path.absolute())
    key = (where, chosen.name if chosen else None, stamp)
    with _sessions_lock:
        model = _sessions.get(key)
        if model is None:
            model = SegmentationModel(model_path, chosen, info=ident.info, recognised_by=how)
            _sessions[key] = model
            while len(_sessions) > MAX_CACHED_MODELS:
                _sessions.popitem(last=False)
        _sessions.move_to_end(key)
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
