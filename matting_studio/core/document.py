"""The editing model behind the editor window: one photo, its automatic trimap and the user's strokes.

Pure Python and numpy (no GUI toolkit), so it is usable and testable on its own. The trimap is
always *auto trimap + strokes replayed*; undo/redo, sessions and re-running with other settings
all work on that one representation.

The background work the editor needs is expressed as plain callables:

* :func:`open_document` (path → :class:`Document`, model mask computed) for the loader, or
  :func:`open_document_with_preview`, which hands over the document with a first matte (solved
  at preview size) before the full-resolution automatic trimap is ready;
* :meth:`Document.matting_request` builds an immutable :class:`MattingRequest` snapshot and
  :attr:`Document.solver` (default :func:`interactive_solve`) turns it into a
  :class:`MattingResult`: first a quick preview (a local re-solve of the region the edit
  changed, found as ``changed_bounds(request.previous_trimap, request.trimap)``), then the
  full-resolution solve.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from .auto_trimap import upsample_mask
from .errors import ExportError
from .foreground import estimate_foreground
from .image_io import LoadedImage, cap_alpha, load_image
from .matting import solve_alpha
from .matting.interactive import resolve_region
from .matting.multiscale import downscale_image, downscale_trimap
from .pipeline import (
    CutoutResult,
    PipelineSettings,
    auto_trimap,
    compute_small_mask,
    default_output_path,
    export_result,
)
from .progress import CancelToken, ProgressFn, no_progress, sub_progress
from .trimap import Stroke, TrimapParams, changed_bounds, draw_stroke

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MattingRequest:
    """Everything one alpha solve needs: a snapshot, safe to hand to another thread.

    ``trimap`` is read-only. ``previous_alpha`` / ``previous_trimap`` are the last result the
    document holds (or None): a local re-solve may reuse them outside the changed region.
    """

    rgb: np.ndarray
    trimap: np.ndarray
    backend: str
    revision: int
    previous_alpha: np.ndarray | None = None
    previous_trimap: np.ndarray | None = None
    with_foreground: bool = True
    source_alpha: np.ndarray | None = None
    """The file's own alpha (RGBA sources): the matte is capped by it (docs/adr/0001)."""
    quick_preview: bool = True
    """Let :func:`interactive_solve` hand over a quick preview first (False: the full solve
    only, e.g. right after a first matte was shown for the photo)."""


@dataclass(frozen=True)
class MattingResult:
    """Alpha (float32 (h, w) 0..1) solved for ``trimap``, plus foreground colours if asked."""

    trimap: np.ndarray
    alpha: np.ndarray
    foreground: np.ndarray | None
    revision: int
    preview: bool = False
    """A quick approximation (e.g. a local re-solve) that a full solve will replace."""
    region: tuple[int, int, int, int] | None = None
    """(y0, y1, x0, x1) of a preview that differs from the previous result only there
    (a display may repaint just that rectangle); None: anywhere."""


MattingSolver = Callable[[MattingRequest, ProgressFn, "CancelToken | None"], MattingResult]
"""``solver(request, progress, cancel) -> MattingResult``; must honour ``cancel``.

A solver may hand over a quick preview before its final answer: if ``progress`` has a
``partial`` attribute, ``progress.partial(MattingResult(..., preview=True))`` shows it at once
(see :func:`report_preview`)."""


def report_preview(progress: ProgressFn, result: MattingResult) -> None:
    """Hand a preview result to whoever runs the solver (no-op when nobody listens)."""
    partial = getattr(progress, "partial", None)
    if partial is not None:
        partial(result)


def solve_request(request: MattingRequest, progress: ProgressFn = no_progress,
                  cancel: CancelToken | None = None) -> MattingResult:
    """A full solve of the request's trimap, then edge colours.

    Deliberately not warm-started from the previous alpha: the result depends on the trimap
    only, never on the editing history, so undo, projects and autosave reproduce it exactly.
    """
    alpha = solve_alpha(request.rgb, request.trimap, request.backend,
                        progress=sub_progress(progress, 0.0, 0.85), cancel=cancel)
    alpha = cap_alpha(alpha, request.source_alpha)
    fg = None
    if request.with_foreground:
        if cancel is not None:
            cancel.check()
        progress(0.85, "estimating edge colours")
        fg = estimate_foreground(request.rgb, alpha, cancel)
    progress(1.0, "done")
    return MattingResult(trimap=request.trimap, alpha=alpha, foreground=fg,
                         revision=request.revision)


FIRST_PREVIEW_PIXELS = 1_500_000
"""A first solve of a photo larger than this shows a reduced-size preview before the full one."""


def preview_alpha(request: MattingRequest, cancel: CancelToken | None = None
                  ) -> tuple[np.ndarray, tuple[int, int, int, int] | None] | None:
    """A quick approximation of the request's alpha and the region where it differs from the
    previous alpha (None: anywhere), or None when there is nothing quick to show.

    After an edit (the request carries the previous trimap and alpha) only the changed region
    is re-solved (:func:`~.matting.interactive.resolve_region`, at preview resolution when the
    region is large) and pasted into the previous alpha. The first solve of a large photo is
    done at ``FIRST_PREVIEW_PIXELS`` and upsampled.
    """
    trimap = request.trimap
    h, w = trimap.shape
    prev_a, prev_t = request.previous_alpha, request.previous_trimap
    if prev_a is not None and prev_t is not None and prev_t.shape == trimap.shape:
        bounds = changed_bounds(prev_t, trimap)
        if bounds is None:
            return None
        region = resolve_region(request.rgb, trimap, prev_a, bounds, backend=request.backend,
                                cancel=cancel)
        alpha = region.paste(np.array(prev_a, np.float32, copy=True))
        return cap_alpha(alpha, request.source_alpha), region.bounds
    if h * w <= FIRST_PREVIEW_PIXELS:
        return None
    size = preview_size((h, w), FIRST_PREVIEW_PIXELS)
    small = solve_alpha(downscale_image(request.rgb, size), downscale_trimap(trimap, size),
                        request.backend, cancel=cancel)
    alpha = enlarge_alpha(small, trimap)
    return cap_alpha(alpha, request.source_alpha), None


def interactive_solve(request: MattingRequest, progress: ProgressFn = no_progress,
                      cancel: CancelToken | None = None) -> MattingResult:
    """The editor's solver: hand over a quick preview (:func:`preview_alpha`), then solve fully.

    The preview reaches the window through :func:`report_preview` within a fraction of a
    second; the full-resolution solve follows in the same job, so the next stroke's
    ``cancel`` stops it.
    """
    quick = preview_alpha(request, cancel) if request.quick_preview else None
    if quick is not None:
        alpha, region = quick
        report_preview(progress, MattingResult(trimap=request.trimap, alpha=alpha, foreground=None,
                                               revision=request.revision, preview=True,
                                               region=region))
    return solve_request(request, progress, cancel)


def build_matting_request(image: LoadedImage, trimap: np.ndarray, settings: PipelineSettings,
                          revision: int = 0, previous: MattingResult | None = None,
                          with_foreground: bool = True, quick_preview: bool = True
                          ) -> MattingRequest:
    """Pure function: the request for solving ``trimap`` on ``image`` with ``settings``."""
    t = np.array(trimap, np.uint8, copy=True)
    t.flags.writeable = False
    return MattingRequest(
        rgb=image.rgb, trimap=t, backend=settings.backend, revision=revision,
        previous_alpha=None if previous is None else previous.alpha,
        previous_trimap=None if previous is None else previous.trimap,
        with_foreground=with_foreground, source_alpha=image.source_alpha,
        quick_preview=quick_preview,
    )


def trimap_key(settings: PipelineSettings) -> tuple:
    """Hashable key of everything in ``settings`` that decides the automatic trimap."""
    return settings.trimap, settings.trimap_preset, settings.adaptive


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


class Document:
    """One photo being edited.

    Attributes
    ----------
    image : the decoded photo.
    settings : pipeline settings (trimap parameters, matting backend, model).
    mask : the model's soft mask, float32 (h, w) 0..1.
    strokes : the user's strokes, in painting order (a tuple; change it with the methods).
    result : the last :class:`MattingResult` accepted with :meth:`set_result`, or None.
    solver : the callable background workers run for a :class:`MattingRequest`.
    revision : increases on every change of the trimap.
    """

    def __init__(self, image: LoadedImage, mask: np.ndarray,
                 settings: PipelineSettings | None = None,
                 solver: MattingSolver | None = None):
        h, w = image.rgb.shape[:2]
        if mask.shape != (h, w):
            raise ValueError(f"mask {mask.shape} does not match the image {(h, w)}")
        self.image = image
        self.mask = mask
        self.settings = settings or PipelineSettings()
        self.solver: MattingSolver = solver or interactive_solve
        self.result: MattingResult | None = None
        self.revision = 0
        self._strokes: list[Stroke] = []
        self._auto_cache: dict[tuple, np.ndarray] = {}
        self._provisional: tuple[tuple, np.ndarray] | None = None
        self._trimap_cache: tuple[tuple, tuple[Stroke, ...], np.ndarray] | None = None

    # ----------------------------------------------------------------- properties
    @property
    def path(self) -> Path | None:
        return self.image.path

    @property
    def name(self) -> str:
        return self.image.path.name if self.image.path else "untitled"

    @property
    def shape(self) -> tuple[int, int]:
        """(h, w)."""
        return self.image.rgb.shape[:2]

    @property
    def strokes(self) -> tuple[Stroke, ...]:
        return tuple(self._strokes)

    @property
    def trimap_params(self) -> TrimapParams:
        return self.settings.trimap

    # ----------------------------------------------------------------- edits
    def _changed(self) -> None:
        self.revision += 1

    def add_stroke(self, stroke: Stroke) -> int:
        """Append a stroke; returns its index."""
        self._strokes.append(stroke)
        self._changed()
        return len(self._strokes) - 1

    def insert_stroke(self, index: int, stroke: Stroke) -> None:
        self._strokes.insert(index, stroke)
        self._changed()

    def remove_stroke(self, index: int = -1) -> Stroke:
        """Remove and return the stroke at ``index`` (default: the last one)."""
        stroke = self._strokes.pop(index)
        self._changed()
        return stroke

    def replace_strokes(self, strokes: Sequence[Stroke]) -> tuple[Stroke, ...]:
        """Set the whole stroke list; returns the old one."""
        old = tuple(self._strokes)
        self._strokes = list(strokes)
        self._changed()
        return old

    def reset(self) -> tuple[Stroke, ...]:
        """Back to the automatic trimap (drops every stroke); returns the dropped strokes."""
        return self.replace_strokes(())

    @property
    def trimap_preset(self) -> str:
        """"classic" (erode/dilate with :attr:`trimap_params`) or another automatic method."""
        return self.settings.trimap_preset

    def set_trimap_params(self, params: TrimapParams) -> PipelineSettings:
        """Use the classic erode/dilate trimap with ``params``; returns the old settings."""
        return self.set_settings(replace(self.settings, trimap=params, trimap_preset="classic"))

    def set_settings(self, settings: PipelineSettings) -> PipelineSettings:
        """Replace the settings (same model); returns the old ones."""
        if settings.model_path != self.settings.model_path or settings.preset != self.settings.preset:
            raise ValueError("a new model needs a new document (the mask would change)")
        old = self.settings
        if settings != old:
            self.settings = settings
            self._changed()
        return old

    # ----------------------------------------------------------------- trimaps
    def auto_trimap(self, settings: PipelineSettings | None = None) -> np.ndarray:
        """The automatic trimap (read-only uint8) of :func:`pipeline.auto_trimap`, cached per
        trimap settings (see :func:`trimap_key`); the provisional one while it stands in
        (:meth:`set_provisional_trimap`)."""
        settings = settings or self.settings
        key = trimap_key(settings)
        t = self._auto_cache.get(key)
        if t is None and self._provisional is not None and self._provisional[0] == key:
            return self._provisional[1]
        if t is None:
            t = _frozen(auto_trimap(self.image, self.mask, settings))
            self._auto_cache[key] = t
        return t

    def compute_auto_trimap(self, settings: PipelineSettings | None = None
                            ) -> tuple[tuple, np.ndarray]:
        """``(trimap_key(settings), trimap)``: the exact automatic trimap, computed without
        touching the document (safe in a background thread while the GUI thread edits it);
        hand it to :meth:`install_auto_trimap`."""
        settings = settings or self.settings
        return trimap_key(settings), _frozen(auto_trimap(self.image, self.mask, settings))

    def set_provisional_trimap(self, trimap: np.ndarray) -> None:
        """Let ``trimap`` (uint8, image size) stand in for the automatic trimap of the current
        settings until :meth:`install_auto_trimap` brings the exact one: a large photo shows a
        first matte (made at preview size) while its full-resolution trimap is computed."""
        if trimap.shape != self.shape:
            raise ValueError(f"trimap {trimap.shape} does not match the image {self.shape}")
        key = trimap_key(self.settings)
        self._auto_cache.pop(key, None)
        self._provisional = (key, _frozen(np.array(trimap, np.uint8, copy=True)))
        self._trimap_cache = None

    @property
    def trimap_is_provisional(self) -> bool:
        """True while the trimap rests on a provisional automatic trimap."""
        p = self._provisional
        key = trimap_key(self.settings)
        return p is not None and p[0] == key and key not in self._auto_cache

    def install_auto_trimap(self, key: tuple, trimap: np.ndarray) -> bool:
        """Store the exact automatic trimap for the trimap settings ``key``
        (:meth:`compute_auto_trimap`); True when it replaced the provisional trimap in use
        (the trimap changed: the revision increases and the alpha needs a new solve)."""
        if trimap.shape != self.shape:
            raise ValueError(f"trimap {trimap.shape} does not match the image {self.shape}")
        was_provisional = self.trimap_is_provisional
        self._auto_cache[key] = trimap if not trimap.flags.writeable else _frozen(trimap.copy())
        if self._provisional is not None and self._provisional[0] == key:
            self._provisional = None
            if self._trimap_cache is not None and self._trimap_cache[0] == key:
                self._trimap_cache = None  # it was painted on the provisional trimap
        if was_provisional and key == trimap_key(self.settings):
            self._changed()
            return True
        return False

    def trimap(self) -> np.ndarray:
        """Auto trimap + strokes replayed in order (read-only uint8 0/128/255).

        Cached; appending strokes only paints the new ones.
        """
        key, strokes = trimap_key(self.settings), tuple(self._strokes)
        cache = self._trimap_cache
        if cache is not None and cache[0] == key and cache[1] == strokes:
            return cache[2]
        if cache is not None and cache[0] == key and strokes[:len(cache[1])] == cache[1]:
            base, todo = cache[2], strokes[len(cache[1]):]
        else:
            base, todo = self.auto_trimap(), strokes
        out = np.array(base, copy=True)
        for s in todo:
            draw_stroke(out, s)
        out = _frozen(out)
        self._trimap_cache = (key, strokes, out)
        return out

    # ----------------------------------------------------------------- matting
    def matting_request(self, with_foreground: bool = True,
                        quick_preview: bool = True) -> MattingRequest:
        """Snapshot of the current trimap for :attr:`solver` (run it off the GUI thread)."""
        return build_matting_request(self.image, self.trimap(), self.settings, self.revision,
                                     self.result, with_foreground, quick_preview)

    def matting_job(self, with_foreground: bool = True, quick_preview: bool = True
                    ) -> Callable[[ProgressFn, CancelToken | None], MattingResult]:
        """A ``job(progress, cancel)`` callable for a background worker."""
        request, solver = self.matting_request(with_foreground, quick_preview), self.solver

        def job(progress: ProgressFn = no_progress, cancel: CancelToken | None = None) -> MattingResult:
            return solver(request, progress, cancel)

        return job

    def set_result(self, result: MattingResult) -> None:
        if result.alpha.shape != self.shape:
            raise ValueError("result does not belong to this document")
        self.result = result

    def alpha_is_current(self) -> bool:
        """True when the alpha held is a full solve of exactly the current trimap."""
        r = self.result
        return r is not None and not r.preview and np.array_equal(r.trimap, self.trimap())

    def cutout_result(self) -> CutoutResult | None:
        """The last result as a :class:`CutoutResult` for export (None before the first solve)."""
        r = self.result
        if r is None:
            return None
        fg = r.foreground if r.foreground is not None else self.image.rgb
        return CutoutResult(mask=self.mask, trimap=r.trimap, alpha=r.alpha, foreground=fg)


EXPORT_KINDS = {"cutout": "_cutout", "alpha": "_alpha", "trimap": "_trimap"}
"""What can be exported, and the file-name suffix each one gets by default."""


def default_export_path(doc: Document, kind: str = "cutout") -> Path:
    """``<stem>_cutout.png`` (or ``_alpha`` / ``_trimap``) beside the original."""
    source = doc.path if doc.path is not None else Path.cwd() / "untitled.png"
    return default_output_path(source, EXPORT_KINDS[kind])


def export_cutout(image: LoadedImage, result: CutoutResult | None,
                  path: str | os.PathLike[str], kind: str = "cutout",
                  progress: ProgressFn = no_progress,
                  cancel: CancelToken | None = None) -> Path:
    """Write ``result`` as ``kind`` (cutout / alpha / trimap) to ``path``; never over the original.

    Raises :class:`~matting_studio.core.errors.ExportError` when there is nothing to export yet
    or the file cannot be written.
    """
    if kind not in EXPORT_KINDS:
        raise ValueError(f"kind must be one of {sorted(EXPORT_KINDS)}")
    if result is None:
        raise ExportError("there is no matte to export yet; wait until the alpha is computed")
    if cancel is not None:
        cancel.check()
    progress(0.1, "writing " + Path(path).name)
    targets = {"cutout": (path, None, None), "alpha": (None, path, None),
               "trimap": (None, None, path)}[kind]
    written = export_result(image, result, *targets)
    progress(1.0, "saved")
    return written[0]


def export_document(doc: Document, path: str | os.PathLike[str], kind: str = "cutout") -> Path:
    """:func:`export_cutout` of the document's last result."""
    return export_cutout(doc.image, doc.cutout_result(), path, kind)


def load_photo(path: str | os.PathLike[str], settings: PipelineSettings,
               progress: ProgressFn = no_progress, cancel: CancelToken | None = None,
               on_image: Callable[[LoadedImage], None] | None = None,
               ) -> tuple[LoadedImage, np.ndarray]:
    """Decode the photo and run the model: ``(image, mask at the model's resolution)``.

    ``on_image(image)`` is called between the two (e.g. to start display work meanwhile)."""
    progress(0.0, "loading the photo")
    image = load_image(path)
    if cancel is not None:
        cancel.check()
    if on_image is not None:
        on_image(image)
    progress(0.1, "finding the subject")
    small = compute_small_mask(image, settings, cancel)
    if cancel is not None:
        cancel.check()
    return image, small


def open_document(path: str | os.PathLike[str], settings: PipelineSettings | None = None,
                  progress: ProgressFn = no_progress,
                  cancel: CancelToken | None = None) -> Document:
    """Load a photo, run the model and prepare the automatic trimap (slow: run it in the background)."""
    settings = settings or PipelineSettings()
    image, small = load_photo(path, settings, progress, cancel)
    doc = Document(image, upsample_mask(small, image.rgb.shape[:2]), settings)
    progress(0.9, "building the trimap")
    doc.trimap()
    progress(1.0, "ready")
    log.info("opened %s (%d×%d)", doc.name, *image.size)
    return doc


OPEN_PREVIEW_PIXELS = 400_000
"""Size of the first matte of a newly opened photo (:func:`first_matte`): more than the editor's
views show of a whole photo, and solved in a fraction of a second."""
OPEN_PREVIEW_BACKEND = "cf"
"""Matting method of the first matte: the fastest one (the document's own method follows at
full resolution)."""


def preview_size(shape: tuple[int, int], pixels: int) -> tuple[int, int]:
    """(w, h) of an image of ``shape`` = (h, w) reduced to about ``pixels`` pixels."""
    h, w = shape
    f = math.sqrt(pixels / (h * w))
    return max(3, round(w * f)), max(3, round(h * f))


def enlarge_alpha(small: np.ndarray, trimap: np.ndarray) -> np.ndarray:
    """A preview-size alpha brought to ``trimap``'s size (bilinear), known pixels set to the
    trimap's value."""
    h, w = trimap.shape
    alpha = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    np.putmask(alpha, trimap == 255, np.float32(1.0))
    np.putmask(alpha, trimap == 0, np.float32(0.0))
    return alpha


def first_matte(doc: Document, small_mask: np.ndarray, cancel: CancelToken | None = None,
                pixels: int | None = None, backend: str | None = None
                ) -> MattingResult | None:
    """A first matte of a large photo before its full-resolution trimap exists, or None for a
    photo of at most ``pixels`` pixels.

    The automatic trimap is made at preview size from the same model answer
    (``small_mask``, see :func:`~.pipeline.compute_small_mask`) and the preview-size photo,
    solved with ``backend`` and enlarged. The result (``preview=True``) carries that trimap,
    enlarged, which may stand in for the automatic trimap meanwhile
    (:meth:`Document.set_provisional_trimap`). ``pixels`` and ``backend`` default to
    ``OPEN_PREVIEW_PIXELS`` and ``OPEN_PREVIEW_BACKEND``.
    """
    pixels = OPEN_PREVIEW_PIXELS if pixels is None else pixels
    backend = OPEN_PREVIEW_BACKEND if backend is None else backend
    h, w = doc.shape
    if h * w <= pixels:
        return None
    size = preview_size((h, w), pixels)
    image = doc.image
    small_alpha = None
    if image.source_alpha is not None:
        small_alpha = cv2.resize(image.source_alpha, size, interpolation=cv2.INTER_AREA)
    small = replace(image, rgb=downscale_image(image.rgb, size), source_alpha=small_alpha)
    trimap = auto_trimap(small, upsample_mask(small_mask, (size[1], size[0])), doc.settings)
    if cancel is not None:
        cancel.check()
    alpha = solve_alpha(small.rgb, trimap, backend, cancel=cancel)
    big_trimap = cv2.resize(trimap, (w, h), interpolation=cv2.INTER_NEAREST)
    alpha = enlarge_alpha(alpha, big_trimap)
    return MattingResult(trimap=_frozen(big_trimap), alpha=cap_alpha(alpha, image.source_alpha),
                         foreground=None, revision=doc.revision, preview=True)


def open_document_with_preview(
    path: str | os.PathLike[str], settings: PipelineSettings | None,
    on_first: Callable[[Document], None], progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None, on_image: Callable[[LoadedImage], None] | None = None,
) -> tuple[Document, tuple[tuple, np.ndarray] | None]:
    """:func:`open_document` for an editor that shows a first matte as early as it can.

    A photo larger than ``OPEN_PREVIEW_PIXELS`` is handed to ``on_first`` right after the model
    ran, with a :func:`first_matte` as its result and that matte's trimap standing in for the
    automatic one (:meth:`Document.set_provisional_trimap`). The document then belongs to the
    caller: the exact full-resolution trimap is computed without touching it and returned as
    ``(doc, (key, trimap))`` for :meth:`Document.install_auto_trimap`. Smaller photos return
    ``(doc, None)``, their trimap ready, as :func:`open_document` does. ``on_image``: see
    :func:`load_photo`.
    """
    settings = settings or PipelineSettings()
    image, small = load_photo(path, settings, progress, cancel, on_image)
    doc = Document(image, upsample_mask(small, image.rgb.shape[:2]), settings)
    progress(0.5, "computing a first matte")
    first = first_matte(doc, small, cancel)
    if first is None:
        progress(0.9, "building the trimap")
        doc.trimap()
        progress(1.0, "ready")
        log.info("opened %s (%d×%d)", doc.name, *image.size)
        return doc, None
    doc.set_provisional_trimap(first.trimap)
    doc.set_result(first)
    doc.trimap()  # cached: the caller may prepare its display along with the first matte
    if cancel is not None:
        cancel.check()
    on_first(doc)
    progress(0.7, "building the full-resolution trimap")
    exact = doc.compute_auto_trimap(settings)
    if cancel is not None:
        cancel.check()
    progress(1.0, "ready")
    log.info("opened %s (%d×%d), first matte at %d×%d", doc.name, *image.size,
             *preview_size(doc.shape, OPEN_PREVIEW_PIXELS))
    return doc, exact
