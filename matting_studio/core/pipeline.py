"""The cut-out chain: image → soft mask → trimap (+ strokes) → alpha → foreground colours.

Both drivers (CLI and GUI) call these functions; neither holds pipeline logic of its own.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .auto_trimap import AdaptiveTrimapParams, automatic_trimap, model_answers, upsample_mask
from .export import save_alpha, save_cutout, save_trimap
from .foreground import estimate_foreground
from .image_io import LoadedImage
from .matting import DEFAULT_BACKEND, solve_alpha
from .progress import CancelToken, ProgressFn, no_progress, sub_progress
from .segmentation import get_model
from .trimap import BACKGROUND, Stroke, TrimapParams, apply_strokes, make_trimap

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineSettings:
    """Everything that decides the result, besides the image and the strokes."""

    trimap: TrimapParams = field(default_factory=TrimapParams)
    """Parameters of the classic erode/dilate trimap (used when ``trimap_preset`` is "classic")."""
    backend: str = DEFAULT_BACKEND
    trimap_preset: str = "adaptive"
    """Automatic trimap: "adaptive" (band shaped by mask confidence and image edges,
    :mod:`.auto_trimap`) or "classic" (fixed erode/dilate kernel, ``trimap``)."""
    adaptive: AdaptiveTrimapParams = field(default_factory=AdaptiveTrimapParams)
    mask_tta: bool = True
    """Run the model on the image and its mirror image and combine the answers."""
    model_path: str | None = None
    preset: str | None = None


@dataclass(frozen=True)
class CutoutResult:
    mask: np.ndarray | None
    """Soft model mask (float32 0..1) or None when the user supplied the trimap."""
    trimap: np.ndarray
    """Final trimap, strokes applied (uint8 0/128/255)."""
    alpha: np.ndarray
    """float32 (h, w) 0..1."""
    foreground: np.ndarray
    """float32 (h, w, 3) 0..1 decontaminated colours."""


def compute_small_mask(image: LoadedImage, settings: PipelineSettings,
                       cancel: CancelToken | None = None) -> np.ndarray:
    """The configured model's answer on ``image`` at the model's resolution (float32 0..1):
    the slow part of :func:`compute_mask`. :func:`upsample_mask` makes a mask of any size of
    it, e.g. a preview's and the photo's from one model run."""
    model = get_model(settings.model_path, settings.preset)
    if settings.mask_tta:
        return model_answers(model, image.rgb, cancel=cancel)
    return model.predict_small(image.rgb)


def compute_mask(image: LoadedImage, settings: PipelineSettings) -> np.ndarray:
    """Salient-object mask of ``image`` with the configured model (float32 (h, w) 0..1)."""
    return upsample_mask(compute_small_mask(image, settings), image.rgb.shape[:2])


def auto_trimap(image: LoadedImage, mask: np.ndarray, settings: PipelineSettings) -> np.ndarray:
    """Automatic trimap from the model mask (plus the file's own transparency, if any).

    Pixels that are fully transparent in an RGBA source are sure background: whatever colour
    they hold was never meant to be seen.
    """
    if settings.trimap_preset == "classic":
        trimap = make_trimap(mask, settings.trimap)
    elif settings.trimap_preset == "adaptive":
        trimap = automatic_trimap(mask, image.rgb, settings.adaptive)
    else:
        raise ValueError(f"unknown trimap preset {settings.trimap_preset!r}")
    if image.source_alpha is not None:
        trimap[image.source_alpha <= 1.0 / 255.0] = BACKGROUND
    return trimap


def compute_alpha(image: LoadedImage, trimap: np.ndarray, settings: PipelineSettings,
                  progress: ProgressFn = no_progress,
                  cancel: CancelToken | None = None) -> np.ndarray:
    return solve_alpha(image.rgb, trimap, settings.backend, progress=progress, cancel=cancel)


def run_cutout(
    image: LoadedImage,
    settings: PipelineSettings = PipelineSettings(),
    user_trimap: np.ndarray | None = None,
    strokes: Sequence[Stroke] = (),
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> CutoutResult:
    """Run the whole chain. ``user_trimap`` (already normalised) replaces the automatic one."""
    mask = None
    if user_trimap is None:
        progress(0.0, "finding the subject")
        mask = compute_mask(image, settings)
        base = auto_trimap(image, mask, settings)
    else:
        base = user_trimap
    if cancel is not None:
        cancel.check()
    trimap = apply_strokes(base, strokes)
    alpha = compute_alpha(image, trimap, settings, sub_progress(progress, 0.1, 0.85), cancel)
    progress(0.85, "estimating edge colours")
    fg = estimate_foreground(image.rgb, alpha, cancel)
    progress(1.0, "done")
    return CutoutResult(mask=mask, trimap=trimap, alpha=alpha, foreground=fg)


def default_output_path(source: str | os.PathLike[str], suffix: str = "_cutout") -> Path:
    """``<folder>/<stem>_cutout.png`` beside the source."""
    p = Path(source)
    return p.with_name(f"{p.stem}{suffix}.png")


def export_result(
    image: LoadedImage, result: CutoutResult, cutout_path: str | os.PathLike[str] | None,
    alpha_path: str | os.PathLike[str] | None = None,
    trimap_path: str | os.PathLike[str] | None = None,
) -> list[Path]:
    """Write the requested outputs; the source photo is never overwritten."""
    protect = (image.path,) if image.path is not None else ()
    written = []
    if cutout_path is not None:
        written.append(save_cutout(cutout_path, result.foreground, result.alpha,
                                   bits=image.bit_depth, icc=image.icc_profile, exif=image.exif,
                                   protect=protect))
    if alpha_path is not None:
        written.append(save_alpha(alpha_path, result.alpha, bits=image.bit_depth, protect=protect))
    if trimap_path is not None:
        written.append(save_trimap(trimap_path, result.trimap, protect=protect))
    return written
