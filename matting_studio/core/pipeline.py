"""The cut-out chain: image → soft mask → trimap (+ strokes) → alpha → foreground colours.

Both drivers (CLI and GUI) call these functions; neither holds pipeline logic of its own. The
alpha stage, with its rules, is :mod:`.solve`; writing the results is :mod:`.export`
(:func:`export_result` is re-exported here).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .export import export_result
from .io import LoadedImage
from .mask_views import ViewInputs, run_views, union, upsample_mask, view_inputs
from .progress import CancelToken, ProgressFn, no_progress, sub_progress
from .segmentation import get_model
from .settings import PipelineSettings
from .solve import SolveRequest, solve
from .trimap import Stroke, apply_strokes
from .trimap_presets import auto_trimap

__all__ = ["CutoutResult", "PipelineSettings", "auto_trimap", "compute_mask",
           "compute_small_mask", "default_output_path", "export_result", "run_cutout"]

log = logging.getLogger(__name__)


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


def inputs_of(image: LoadedImage, settings: PipelineSettings) -> ViewInputs:
    """What the settings' model will be shown of the photo (:func:`~.mask_views.view_inputs`:
    the mirror image and zoomed-out view when the settings ask for test-time augmentation)."""
    model = get_model(settings.model_path, settings.preset)
    return view_inputs(model, image.rgb, mirror=settings.mask_tta)


def model_views_of(image: LoadedImage, settings: PipelineSettings,
                   cancel: CancelToken | None = None, side_by_side: bool = True
                   ) -> tuple[np.ndarray, ...]:
    """The model's answers on the photo (:func:`~.mask_views.run_views`; their union is the
    pipeline's mask). ``side_by_side``: let a model that can run two at once do so (the photo
    on screen); False runs them one after the other (photos prepared in the background)."""
    model = get_model(settings.model_path, settings.preset)
    return run_views(model, inputs_of(image, settings), cancel, side_by_side)


def compute_small_mask(image: LoadedImage, settings: PipelineSettings,
                       cancel: CancelToken | None = None) -> np.ndarray:
    """The configured model's answer on ``image`` at the model's resolution (float32 0..1):
    the union of :func:`model_views_of`, the slow part of :func:`compute_mask`.
    :func:`upsample_mask` makes a mask of any size of it, e.g. a preview's and the photo's
    from one model run."""
    return union(model_views_of(image, settings, cancel))


def compute_mask(image: LoadedImage, settings: PipelineSettings) -> np.ndarray:
    """Salient-object mask of ``image`` with the configured model (float32 (h, w) 0..1)."""
    return upsample_mask(compute_small_mask(image, settings), image.rgb.shape[:2])


def run_cutout(
    image: LoadedImage,
    settings: PipelineSettings = PipelineSettings(),
    user_trimap: np.ndarray | None = None,
    strokes: Sequence[Stroke] = (),
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    small_mask: np.ndarray | None = None,
    consume_photo: bool = False,
) -> CutoutResult:
    """Run the whole chain. ``user_trimap`` (already normalised) replaces the automatic one;
    ``small_mask`` (the model's answer at its resolution, e.g. kept by the editor) saves
    running the model again. ``consume_photo``: the caller only exports the result, so the
    photo's pixels become its edge colours (``image.rgb`` is overwritten; no full-size copy)."""
    mask = None
    if user_trimap is None:
        progress(0.0, "finding the subject")
        if small_mask is None:
            mask = compute_mask(image, settings)
        else:
            mask = upsample_mask(small_mask, image.rgb.shape[:2])
        base = auto_trimap(image, mask, settings)
    else:
        base = user_trimap
    if cancel is not None:
        cancel.check()
    trimap = apply_strokes(base, strokes)
    result = solve(SolveRequest.of(image, trimap, settings, foreground_in_place=consume_photo),
                   sub_progress(progress, 0.1, 1.0), cancel)
    return CutoutResult(mask=mask, trimap=trimap, alpha=result.alpha,
                        foreground=result.foreground)


def default_output_path(source: str | os.PathLike[str], suffix: str = "_cutout") -> Path:
    """``<folder>/<stem>_cutout.png`` beside the source."""
    p = Path(source)
    return p.with_name(f"{p.stem}{suffix}.png")
