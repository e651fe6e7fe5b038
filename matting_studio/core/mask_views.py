"""What the salient-object model says about a photo: its answers on the photo, on its mirror
image and on a zoomed-out view, at the model's own resolution.

Test-time augmentation. Salient-object models at 320 px mostly fail by *missing* parts of the
subject, and a part one view misses the mirror view often finds, so a pixel counts as much
subject as the more confident of the two says (their union, :func:`union`). The union also
barely moves between thresholds 0.5 and 0.6, so the trimap's decision is stable
(``benchmarks/bench_quality.py`` compares it with one view and with the mean of the views).

Two steps, so that a photo's full-size pixels can be let go before the model runs (the
editor prepares other photos of a shoot while one is on screen): :func:`view_inputs` makes
everything the model will be shown (small: the model's input tensors, built from the photo
once; the mirror image is the mirrored input, never a mirrored copy of the photo), and
:func:`run_views` runs the model on them.

A model is a :class:`~.segmentation.SegmentationModel`, or any object with
``predict_small(rgb)`` (the input is then the photo itself; tests use such stand-ins).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .executor import spawn, wait_quietly
from .progress import CancelToken

ZOOM_MARGIN = 0.2
"""Margin added on every side of the zoomed-out view, as a fraction of the photo's longer
side."""
ZOOM_CONFIDENCE = 0.8
"""Level from which the zoomed-out views' answer adds to the subject (ramping up to
``ZOOM_WEIGHT`` at 1)."""
ZOOM_WEIGHT = 0.9
"""Most that the zoomed-out views can say: a part only they see is subject, but never as sure
as what the model finds in the photo itself (:mod:`.refine` keeps the sure parts as they are
and re-examines the rest)."""
ZOOM_FRAME = 0.5
"""A zoomed-out answer that is sure of the subject along at least this fraction of every one
of the photo's four sides took the photo itself for the subject (a picture on a plain wall)
and adds nothing."""
ZOOM_CANVAS = 1024
"""Longer side of the zoomed-out canvas handed to the model (it shrinks it further): a 24 MP
photo is reduced once, not padded at full size."""


@dataclass(frozen=True)
class ViewInputs:
    """Everything the model will be shown of one photo (see :func:`view_inputs`)."""

    photo: np.ndarray
    """The model's input for the photo (for a stand-in model: the photo itself)."""
    mirror: bool
    """Also show the mirror image (test-time augmentation)."""
    zoomed: np.ndarray | None = None
    """The model's input for the zoomed-out canvas, when there is one."""
    box: tuple[int, int, int, int] | None = None
    """Where the photo lies on that canvas: (y0, y1, x0, x1)."""
    canvas: tuple[int, int] | None = None
    """The canvas's (h, w)."""


def view_inputs(model, rgb: np.ndarray, mirror: bool = True,
                zoom_margin: float = ZOOM_MARGIN) -> ViewInputs:
    """The model's inputs for ``rgb`` (and, with ``mirror`` and ``zoom_margin`` > 0, for a
    zoomed-out canvas); nothing here keeps a reference to ``rgb``."""
    photo = _input_of(model, rgb)
    if not mirror or zoom_margin <= 0:
        return ViewInputs(photo, mirror)
    canvas, box = _zoomed_out(rgb, zoom_margin)
    return ViewInputs(photo, mirror, _input_of(model, canvas), box, canvas.shape[:2])


def run_views(model, inputs: ViewInputs, cancel: CancelToken | None = None,
              side_by_side: bool = True) -> tuple[np.ndarray, ...]:
    """The model's answers, float32 at the model's resolution: ``(answer,)`` without the mirror
    image, else ``(on the photo, on its mirror image flipped back)``, uncombined (their
    disagreement is evidence for :mod:`.triage`).

    The zoomed-out view: salient-object models trained on centred subjects often miss a part
    that runs into the frame's edge (a body cut off by the bottom edge); seen smaller, with a
    margin of the photo's mean colour around it, the whole subject is found. That view is
    coarser and sometimes takes in background, so it only *adds*, to both views alike, where
    both of its mirror views agree with confidence (their minimum, ramped from
    ``ZOOM_CONFIDENCE`` to 1, and then to at most ``ZOOM_WEIGHT``), and nothing at all when it
    took the whole photo, framed by the margin, for the subject (:func:`_fills_the_frame`).

    ``side_by_side``: run an input and its mirror image at once when the model allows
    (``parallel_runs``); False runs one after the other (half the model's working memory,
    for background work). ``cancel`` is checked between runs.
    """
    answers = photo_answers(model, inputs, cancel, side_by_side)
    return add_zoomed(model, inputs, answers, cancel, side_by_side)


def photo_answers(model, inputs: ViewInputs, cancel: CancelToken | None = None,
                  side_by_side: bool = True) -> tuple[np.ndarray, ...]:
    """The first step of :func:`run_views`: the model's answers on the photo (and its mirror
    image), without the zoomed-out view. An editor shows a first matte from these while the
    zoomed-out view runs (:func:`add_zoomed`)."""
    if not inputs.mirror:
        return (_answer(model, inputs.photo),)
    return _mirror_pair(model, inputs.photo, cancel, side_by_side)


def add_zoomed(model, inputs: ViewInputs, answers: tuple[np.ndarray, ...],
               cancel: CancelToken | None = None, side_by_side: bool = True
               ) -> tuple[np.ndarray, ...]:
    """The second step of :func:`run_views`: ``answers`` (:func:`photo_answers`) with what the
    zoomed-out view adds (``answers`` as they are when there is no zoomed-out view)."""
    if len(answers) != 2:
        return answers
    zoomed = zoomed_answer(model, inputs, answers[0].shape, cancel, side_by_side)
    return answers if zoomed is None else tuple(np.maximum(a, zoomed) for a in answers)


def zoomed_answer(model, inputs: ViewInputs, shape: tuple[int, int],
                  cancel: CancelToken | None = None, side_by_side: bool = True
                  ) -> np.ndarray | None:
    """What the zoomed-out view adds to the photo's answers (float32 ``shape`` at the model's
    resolution, to be combined by maximum), or None when there is none or it adds nothing."""
    if inputs.zoomed is None or not inputs.mirror:
        return None
    if cancel is not None:
        cancel.check()
    za, zb = _mirror_pair(model, inputs.zoomed, cancel, side_by_side)
    zoomed = np.minimum(_crop_answer(za, inputs.box, inputs.canvas, shape),
                        _crop_answer(zb, inputs.box, inputs.canvas, shape))
    if _fills_the_frame(zoomed):
        return None
    zoomed -= ZOOM_CONFIDENCE
    zoomed *= ZOOM_WEIGHT / (1.0 - ZOOM_CONFIDENCE)
    np.clip(zoomed, 0.0, ZOOM_WEIGHT, out=zoomed)
    return zoomed


def model_views(model, rgb: np.ndarray, cancel: CancelToken | None = None,
                zoom_margin: float = ZOOM_MARGIN, side_by_side: bool = True
                ) -> tuple[np.ndarray, np.ndarray]:
    """The model's answers on ``rgb`` and on its mirror image (flipped back), with what the
    zoomed-out view adds: :func:`view_inputs` then :func:`run_views`."""
    return run_views(model, view_inputs(model, rgb, True, zoom_margin), cancel, side_by_side)


def union(views: tuple[np.ndarray, ...]) -> np.ndarray:
    """The pipeline's mask from the views: a pixel is as much subject as the surest view says."""
    return np.maximum.reduce(views) if len(views) > 1 else views[0]


def model_answers(model, rgb: np.ndarray, combine: str = "max",
                  cancel: CancelToken | None = None, zoom_margin: float = ZOOM_MARGIN
                  ) -> np.ndarray:
    """:func:`model_views` combined by ``combine``: "max" (:func:`union`, the pipeline's) or
    "mean"; float32 at the model's resolution (see :func:`upsample_mask`), so masks at any
    size, e.g. a preview's and the photo's, come from one call."""
    if combine not in ("max", "mean"):
        raise ValueError(f"combine must be 'max' or 'mean', got {combine!r}")
    a, b = model_views(model, rgb, cancel, zoom_margin)
    small = union((a, b)) if combine == "max" else 0.5 * (a + b)
    return np.ascontiguousarray(small, np.float32)


def upsample_mask(small: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A model-resolution mask resized to ``shape`` = (h, w): float32 0..1."""
    h, w = shape
    mask = cv2.resize(np.ascontiguousarray(small, np.float32), (w, h),
                      interpolation=cv2.INTER_LINEAR)
    return np.clip(mask, 0.0, 1.0, out=mask)


def predict_mask_tta(model, rgb: np.ndarray, combine: str = "max") -> np.ndarray:
    """Soft mask (float32 (h, w) 0..1) from the model's answers on ``rgb`` and its mirror image,
    combined by ``combine``: "max" (union, default) or "mean"."""
    return upsample_mask(model_answers(model, rgb, combine), rgb.shape[:2])


# ------------------------------------------------------------------------------ running
def _input_of(model, rgb: np.ndarray) -> np.ndarray:
    preprocess = getattr(model, "preprocess", None)
    return preprocess(rgb) if preprocess is not None and hasattr(model, "predict_input") \
        else rgb


def _answer(model, x: np.ndarray) -> np.ndarray:
    run = getattr(model, "predict_input", None)
    return run(x) if run is not None else model.predict_small(x)


def _mirrored(x: np.ndarray) -> np.ndarray:
    """The mirror image of a model input: NCHW tensors and (h, w[, c]) images alike."""
    if x.ndim == 3 and x.shape[2] <= 4 and x.dtype in (np.float32, np.float64, np.uint8):
        return cv2.flip(np.ascontiguousarray(x), 1)  # a photo given as it is: OpenCV is faster
    return np.ascontiguousarray(x[..., ::-1] if x.ndim == 4 else x[:, ::-1])


def _mirror_pair(model, x: np.ndarray, cancel: CancelToken | None, side_by_side: bool
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The model's answers on input ``x`` and on its mirror image (flipped back)."""
    if side_by_side and getattr(model, "parallel_runs", False):
        mirrored = spawn(lambda: _answer(model, _mirrored(x)))
        try:
            a = _answer(model, x)
        except BaseException:
            if not mirrored.cancel():  # leave no run behind
                wait_quietly(mirrored)
            raise
        return a, mirrored.result()[:, ::-1]
    a = _answer(model, x)
    if cancel is not None:
        cancel.check()
    return a, _answer(model, _mirrored(x))[:, ::-1]


# ------------------------------------------------------------------------------ zooming out
def _fills_the_frame(zoomed: np.ndarray) -> bool:
    """Whether a zoomed-out answer (on the photo's grid) is sure of the subject along
    ``ZOOM_FRAME`` or more of each side of the photo (looked at a little inside the edge,
    where the resampling has settled)."""
    h, w = zoomed.shape
    iy, ix = min(h - 1, max(1, h // 100)), min(w - 1, max(1, w // 100))
    sides = (zoomed[iy], zoomed[h - 1 - iy], zoomed[:, ix], zoomed[:, w - 1 - ix])
    return all(float((side >= ZOOM_CONFIDENCE).mean()) >= ZOOM_FRAME for side in sides)


def _zoomed_out(rgb: np.ndarray, margin: float) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The photo reduced to fit ``ZOOM_CANVAS`` with ``margin`` × its longer side of mean colour
    on every side, and the box (y0, y1, x0, x1) the photo occupies on that canvas."""
    h, w = rgb.shape[:2]
    scale = min(1.0, ZOOM_CANVAS / ((1.0 + 2.0 * margin) * max(h, w)))
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    img = np.asarray(rgb, np.float32)
    small = img if (sw, sh) == (w, h) else cv2.resize(img, (sw, sh), interpolation=cv2.INTER_AREA)
    pad = max(1, round(margin * max(sw, sh)))
    fill = [float(c) for c in small.reshape(-1, small.shape[-1]).mean(axis=0)]
    canvas = cv2.copyMakeBorder(np.ascontiguousarray(small), pad, pad, pad, pad,
                                cv2.BORDER_CONSTANT, value=fill)
    return canvas, (pad, pad + sh, pad, pad + sw)


def _crop_answer(answer: np.ndarray, box: tuple[int, int, int, int], canvas: tuple[int, int],
                 shape: tuple[int, int]) -> np.ndarray:
    """The part of a zoomed-out ``answer`` (covering the whole ``canvas`` (h, w)) that shows the
    photo's ``box``, resampled onto a grid of ``shape`` covering the photo (pixel centres
    aligned, bilinear)."""
    y0, y1, x0, x1 = box
    ah, aw = answer.shape
    rows, cols = shape
    # output pixel i covers photo fraction (i + ½)/rows; on the canvas answer's grid that is
    # ((y0 + (i + ½)·(y1 − y0)/rows) / canvas_h)·ah − ½
    sy = (y1 - y0) / rows * ah / canvas[0]
    sx = (x1 - x0) / cols * aw / canvas[1]
    oy = (y0 + 0.5 * (y1 - y0) / rows) * ah / canvas[0] - 0.5
    ox = (x0 + 0.5 * (x1 - x0) / cols) * aw / canvas[1] - 0.5
    m = np.array([[sx, 0.0, ox], [0.0, sy, oy]], np.float64)
    return cv2.warpAffine(np.ascontiguousarray(answer, np.float32), m, (cols, rows),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)
