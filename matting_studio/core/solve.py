"""The one solve path: a request for an alpha, the preview-then-full policy, the pipeline's rules.

Every driver (the command line, the editor, cluster workers) asks for an alpha here and gets
a :class:`SolveResult` back; none of them applies a pipeline rule of its own.

* :class:`SolveRequest` is an immutable snapshot (photo, trimap, settings): safe to hand to
  another thread.
* :func:`solve` runs it: optionally a quick preview first (``on_preview``: a local re-solve
  of the region an edit changed, or the first solve of a large photo at a reduced size), then
  the deterministic full-resolution solve, then the edge colours.
* :func:`finish_alpha` holds the rules every alpha goes through, previews included: the
  edge adjustments (:mod:`.edges`), then the file's own transparency caps the matte
  (docs/adr/0001-rgba-input.md).
* :func:`first_matte` is what a newly opened large photo shows before its full-resolution
  trimap exists.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import cv2
import numpy as np

from .edges import EdgeParams, adjust_edges
from .foreground import estimate_foreground
from .io import LoadedImage, cap_alpha
from .mask_views import upsample_mask
from .matting import solve_alpha
from .matting.interactive import resolve_region
from .matting.multiscale import downscale_image, downscale_trimap
from .progress import CancelToken, ProgressFn, no_progress, sub_progress
from .settings import PipelineSettings
from .trimap import changed_bounds
from .trimap_presets import auto_trimap


@dataclass(frozen=True)
class SolveResult:
    """An alpha (float32 (h, w) 0..1, every pipeline rule applied) solved for ``trimap``,
    plus foreground colours when they were asked for."""

    trimap: np.ndarray
    alpha: np.ndarray
    foreground: np.ndarray | None
    """float32 (h, w, 3) 0..1, or uint8 when the request gave ``photo8``; None if not asked."""
    revision: int
    preview: bool = False
    """A quick approximation (a local re-solve, a reduced-size solve) a full solve replaces."""
    region: tuple[int, int, int, int] | None = None
    """(y0, y1, x0, x1) of a preview that differs from the previous result only there
    (a display may repaint just that rectangle); None: anywhere."""
    raw_alpha: np.ndarray | None = None
    """The solver's alpha before :func:`finish_alpha`'s rules (None: unknown). A preview after
    an edit starts from it, and :func:`refinish` re-applies other edge settings to it without
    solving again. The same array as ``alpha`` when the rules changed nothing."""
    edges: EdgeParams = EdgeParams()
    """The edge adjustments ``alpha`` was finished with."""


@dataclass(frozen=True)
class SolveRequest:
    """Everything one alpha solve needs: a snapshot, safe to hand to another thread.

    ``trimap`` is read-only. ``previous`` is the last result the caller holds (or None): a
    preview may reuse it outside the region the edit changed.
    """

    image: LoadedImage
    trimap: np.ndarray
    settings: PipelineSettings
    revision: int = 0
    previous: SolveResult | None = None
    with_foreground: bool = True
    quick_preview: bool = True
    """Let :func:`solve` hand over a quick preview first (False: the full solve only, e.g.
    right after a first matte was shown for the photo)."""
    photo8: np.ndarray | None = None
    """The photo in 8 bits (uint8 (h, w, 3)) for a caller that shows the edge colours rather
    than exports them: the result's foreground is then uint8, made from a copy of it,
    instead of a float copy of the photo (:func:`~.foreground.estimate_foreground`)."""
    foreground_in_place: bool = False
    """The photo's own float pixels become the edge colours (no full-size copy), for a caller
    that holds the photo only to export this result: ``image.rgb`` is overwritten."""

    @classmethod
    def of(cls, image: LoadedImage, trimap: np.ndarray, settings: PipelineSettings,
           **kwargs) -> SolveRequest:
        """A request on a read-only copy of ``trimap``."""
        t = np.array(trimap, np.uint8, copy=True)
        t.flags.writeable = False
        return cls(image=image, trimap=t, settings=settings, **kwargs)


PreviewFn = Callable[[SolveResult], None]


def finish_alpha(alpha: np.ndarray, image: LoadedImage, settings: PipelineSettings
                 ) -> np.ndarray:
    """The pipeline's rules for every alpha, previews included: the edge adjustments of
    ``settings.edges`` (smooth, feather, contrast, shift), then the file's own transparency
    caps the matte (a cut-out is never more opaque than the source pixel was). Foreground
    colours are estimated afterwards, for this alpha."""
    return cap_alpha(adjust_edges(alpha, settings.edges), image.source_alpha)


def solve(request: SolveRequest, progress: ProgressFn = no_progress,
          cancel: CancelToken | None = None, on_preview: PreviewFn | None = None
          ) -> SolveResult:
    """The request's alpha at full resolution (and edge colours if asked).

    With ``on_preview`` and ``request.quick_preview``, a quick preview (:func:`preview`) is
    handed to ``on_preview`` first, within a fraction of a second; the full solve follows in
    the same call, so a cancel token stops either. The full solve is deliberately not
    warm-started from the previous alpha: the result depends on the trimap only, never on the
    editing history, so undo, projects and autosave reproduce it exactly.
    """
    if on_preview is not None and request.quick_preview:
        quick = preview(request, cancel)
        if quick is not None:
            on_preview(quick)
    raw = solve_alpha(request.image.rgb, request.trimap, request.settings.backend,
                      progress=sub_progress(progress, 0.0, 0.85), cancel=cancel)
    alpha = finish_alpha(raw, request.image, request.settings)
    fg = None
    if request.with_foreground:
        if cancel is not None:
            cancel.check()
        progress(0.85, "estimating edge colours")
        out8 = None if request.photo8 is None else request.photo8.copy()
        fg = estimate_foreground(request.image.rgb, alpha, cancel, out8=out8,
                                 in_place=request.foreground_in_place)
    progress(1.0, "done")
    return SolveResult(trimap=request.trimap, alpha=alpha, foreground=fg,
                       revision=request.revision, raw_alpha=raw,
                       edges=request.settings.edges)


def refinish(result: SolveResult, image: LoadedImage, settings: PipelineSettings,
             cancel: CancelToken | None = None) -> SolveResult:
    """``result`` with ``settings``' rules (e.g. new edge adjustments) applied again to its
    raw alpha, and its foreground colours (if it had them) estimated for the new alpha: what
    a full solve with ``settings`` would give, without solving. For live edge sliders."""
    if result.raw_alpha is None:
        raise ValueError("this result has no raw alpha to finish again")
    alpha = finish_alpha(result.raw_alpha, image, settings)
    fg = None
    if result.foreground is not None:
        if cancel is not None:
            cancel.check()
        fg = estimate_foreground(image.rgb, alpha, cancel)
    return replace(result, alpha=alpha, foreground=fg, region=None, edges=settings.edges)


FIRST_PREVIEW_PIXELS = 1_500_000
"""A first solve of a photo larger than this shows a reduced-size preview before the full one."""


def preview(request: SolveRequest, cancel: CancelToken | None = None) -> SolveResult | None:
    """A quick approximation of the request's alpha, or None when there is nothing quick to
    show.

    After an edit (the request carries the previous result) only the changed region is
    re-solved (:func:`~.matting.interactive.resolve_region`, at preview resolution when the
    region is large) and pasted into the previous alpha. The first solve of a large photo is
    done at ``FIRST_PREVIEW_PIXELS`` and enlarged.
    """
    trimap, image, settings = request.trimap, request.image, request.settings
    h, w = trimap.shape
    prev = request.previous
    region = None
    if prev is not None and prev.trimap.shape == trimap.shape:
        bounds = changed_bounds(prev.trimap, trimap)
        if bounds is None:
            return None
        # the edge adjustments are not idempotent: re-solve and paste into the raw alpha
        base = prev.raw_alpha if prev.raw_alpha is not None else prev.alpha
        patch = resolve_region(image.rgb, trimap, base, bounds, backend=settings.backend,
                               cancel=cancel)
        alpha = patch.paste(np.array(base, np.float32, copy=True))
        region = _grow(patch.bounds, settings.edges.reach, (h, w))
    elif h * w > FIRST_PREVIEW_PIXELS:
        size = preview_size((h, w), FIRST_PREVIEW_PIXELS)
        small = solve_alpha(downscale_image(image.rgb, size), downscale_trimap(trimap, size),
                            settings.backend, cancel=cancel)
        alpha = enlarge_alpha(small, trimap)
    else:
        return None
    return SolveResult(trimap=trimap, alpha=finish_alpha(alpha, image, settings),
                       edges=settings.edges,
                       foreground=None, revision=request.revision, preview=True, region=region,
                       raw_alpha=alpha)


def _grow(bounds: tuple[int, int, int, int], by: int, shape: tuple[int, int]
          ) -> tuple[int, int, int, int]:
    """(y0, y1, x0, x1) grown by ``by`` pixels on each side, within ``shape``."""
    y0, y1, x0, x1 = bounds
    return max(y0 - by, 0), min(y1 + by, shape[0]), max(x0 - by, 0), min(x1 + by, shape[1])


OPEN_PREVIEW_PIXELS = 400_000
"""Size of the first matte of a newly opened photo (:func:`first_matte`): more than the
editor's views show of a whole photo, and solved in a fraction of a second."""
OPEN_PREVIEW_BACKEND = "cf"
"""Matting method of the first matte: the fastest one (the photo's own method follows at full
resolution)."""


def preview_size(shape: tuple[int, int], pixels: int) -> tuple[int, int]:
    """(w, h) of an image of ``shape`` = (h, w) reduced to about ``pixels`` pixels."""
    h, w = shape
    f = math.sqrt(pixels / (h * w))
    return max(3, round(w * f)), max(3, round(h * f))


def enlarge_alpha(small: np.ndarray, trimap: np.ndarray) -> np.ndarray:
    """A preview-size alpha brought to ``trimap``'s size (bilinear), known pixels set to the
    trimap's value."""
    h, w = trimap.shape
    alpha = cv2.resize(np.asarray(small, np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    np.putmask(alpha, trimap == 255, np.float32(1.0))
    np.putmask(alpha, trimap == 0, np.float32(0.0))
    return alpha


def first_matte(image: LoadedImage, small_mask: np.ndarray, settings: PipelineSettings,
                revision: int = 0, cancel: CancelToken | None = None,
                pixels: int | None = None, backend: str | None = None
                ) -> SolveResult | None:
    """A first matte of a large photo before its full-resolution trimap exists, or None for
    a photo of at most ``pixels`` pixels.

    The automatic trimap is made at preview size from the same model answer (``small_mask``,
    see :func:`~.pipeline.compute_small_mask`) and the preview-size photo, solved with
    ``backend`` and enlarged. The result (``preview=True``) carries that trimap, enlarged,
    which may stand in for the automatic trimap meanwhile. ``pixels`` and ``backend`` default
    to :data:`OPEN_PREVIEW_PIXELS` and :data:`OPEN_PREVIEW_BACKEND`.
    """
    pixels = OPEN_PREVIEW_PIXELS if pixels is None else pixels
    backend = OPEN_PREVIEW_BACKEND if backend is None else backend
    h, w = image.rgb.shape[:2]
    if h * w <= pixels:
        return None
    size = preview_size((h, w), pixels)
    small_alpha = None
    if image.source_alpha is not None:
        small_alpha = cv2.resize(image.source_alpha, size, interpolation=cv2.INTER_AREA)
    small = replace(image, rgb=downscale_image(image.rgb, size), source_alpha=small_alpha)
    trimap = auto_trimap(small, upsample_mask(small_mask, (size[1], size[0])), settings)
    if cancel is not None:
        cancel.check()
    alpha = solve_alpha(small.rgb, trimap, backend, cancel=cancel)
    big_trimap = cv2.resize(trimap, (w, h), interpolation=cv2.INTER_NEAREST)
    big_trimap.flags.writeable = False
    raw = enlarge_alpha(alpha, big_trimap)
    return SolveResult(trimap=big_trimap, alpha=finish_alpha(raw, image, settings),
                       edges=settings.edges,
                       foreground=None, revision=revision, preview=True, raw_alpha=raw)
