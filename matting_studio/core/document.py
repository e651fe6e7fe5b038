"""The editing model of one photo: its automatic trimap, the user's strokes, the last alpha.

Pure Python and numpy (no GUI toolkit), so it is usable and testable on its own. The trimap is
always *auto trimap + strokes replayed*; undo/redo, projects and re-running with other
settings or another model all work on that one representation.

The background work the editor needs is expressed as plain functions: :func:`open_document`
(path → :class:`Document`, model answer computed) or :func:`open_document_with_preview`,
which hands the document over with a first matte before its full-resolution automatic trimap
is ready; :meth:`Document.solve_request` is the snapshot that :func:`~.solve.solve` turns into
a :class:`~.solve.SolveResult`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from .errors import ExportError
from .export import ExportOptions
from .foreground import estimate_foreground
from .io import LoadedImage, load_image
from .mask_views import upsample_mask
from .pipeline import CutoutResult, compute_small_mask, default_output_path, export_result
from .progress import CancelToken, ProgressFn, no_progress
from .settings import PipelineSettings
from .solve import OPEN_PREVIEW_PIXELS, SolveRequest, SolveResult, first_matte, preview_size
from .trimap import Stroke, TrimapParams, draw_stroke
from .trimap_presets import auto_trimap

log = logging.getLogger(__name__)


def trimap_key(settings: PipelineSettings) -> tuple:
    """Hashable key of everything in ``settings`` that decides the automatic trimap."""
    return settings.trimap, settings.trimap_preset, settings.adaptive, model_key(settings)


def model_key(settings: PipelineSettings) -> tuple:
    """Hashable key of everything in ``settings`` that decides the model's answer."""
    return settings.model_path, settings.preset, settings.mask_tta


AUTO_TRIMAPS_KEPT = 2


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


class Document:
    """One photo being edited.

    Attributes
    ----------
    image : the decoded photo.
    settings : pipeline settings (trimap parameters, matting method, model).
    small_mask : the model's answer for the current model, float32 at the model's resolution.
    strokes : the user's strokes, in painting order (a tuple; change it with the methods).
    result : the last :class:`~.solve.SolveResult` accepted with :meth:`set_result`, or None.
    revision : increases on every change of the trimap.
    """

    def __init__(self, image: LoadedImage, small_mask: np.ndarray,
                 settings: PipelineSettings | None = None, complete: bool = True):
        if small_mask.ndim != 2:
            raise ValueError(f"the model's answer must be 2-D, got {small_mask.shape}")
        self.image: LoadedImage | None = image
        self._path = image.path
        self._shape: tuple[int, int] = image.rgb.shape[:2]
        self.settings = settings or PipelineSettings()
        self.result: SolveResult | None = None
        self.revision = 0
        self._strokes: list[Stroke] = []
        self._answers: dict[tuple, np.ndarray] = {model_key(self.settings): small_mask}
        self._partial: set[tuple] = set() if complete else {model_key(self.settings)}
        """Models whose answer lacks the zoomed-out view still (see :meth:`add_model_answer`)."""
        self._auto: dict[tuple, np.ndarray] = {}
        """Automatic trimaps of the last :data:`AUTO_TRIMAPS_KEPT` settings (undo of a settings
        change is then immediate)."""
        self._provisional: tuple[tuple, np.ndarray] | None = None
        self._trimap_cache: tuple[tuple, tuple[Stroke, ...], np.ndarray] | None = None

    # ----------------------------------------------------------------- properties
    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def name(self) -> str:
        return self._path.name if self._path else "untitled"

    @property
    def shape(self) -> tuple[int, int]:
        """(h, w)."""
        return self._shape

    # ----------------------------------------------------------------- pixels
    @property
    def loaded(self) -> bool:
        """True while the document holds the photo's pixels (see :meth:`unload`)."""
        return self.image is not None

    def unload(self) -> None:
        """Let go of everything the size of the photo (pixels, trimaps, the alpha) and keep the
        edits and the model's answer: a shoot keeps only the photo on screen loaded."""
        self.image = None
        self.result = None
        self._auto = {}
        self._provisional = self._trimap_cache = None

    def check_same_photo(self, image: LoadedImage) -> None:
        """Raise ValueError when ``image`` cannot be this document's photo (another size)."""
        if image.rgb.shape[:2] != self._shape:
            raise ValueError(f"{self.name}: the photo is now {image.size[0]}×{image.size[1]}, "
                             f"it was {self._shape[1]}×{self._shape[0]}")

    def reload(self, image: LoadedImage) -> None:
        """Give an unloaded document its pixels back (the same photo, decoded again)."""
        self.check_same_photo(image)
        self.image = image

    @property
    def strokes(self) -> tuple[Stroke, ...]:
        return tuple(self._strokes)

    @property
    def small_mask(self) -> np.ndarray:
        return self._answers[model_key(self.settings)]

    @property
    def mask(self) -> np.ndarray:
        """The model's soft mask at the photo's size (float32 (h, w) 0..1; made on request)."""
        return upsample_mask(self.small_mask, self.shape)

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

    def set_trimap_params(self, params: TrimapParams) -> PipelineSettings:
        """Use the classic erode/dilate trimap with ``params``; returns the old settings."""
        return self.set_settings(replace(self.settings, trimap=params, trimap_preset="classic"))

    def set_settings(self, settings: PipelineSettings) -> PipelineSettings:
        """Replace the settings; returns the old ones. A model whose answer this document does
        not hold yet needs :meth:`add_model_answer` first (ValueError otherwise)."""
        if model_key(settings) not in self._answers:
            raise ValueError("the model's answer for these settings has not been computed")
        old = self.settings
        if settings != old:
            self.settings = settings
            self._changed()
        return old

    def has_model_answer(self, settings: PipelineSettings) -> bool:
        return model_key(settings) in self._answers

    def answer_is_complete(self, settings: PipelineSettings | None = None) -> bool:
        """False while the answer of the model ``settings`` (default: the document's) lacks
        the zoomed-out view (a document made with ``complete=False``)."""
        return model_key(settings or self.settings) not in self._partial

    def add_model_answer(self, settings: PipelineSettings, small_mask: np.ndarray) -> None:
        """Keep the answer of the model ``settings`` name (computed off the GUI thread with
        :func:`~.pipeline.compute_small_mask`), so :meth:`set_settings` can switch to it and
        back (undo) without running the model again.

        Replacing the answer in use (completed: an editor makes a large photo's first matte
        from the model's answers on the photo itself, and adds the zoomed-out view's while it
        is on screen) drops the automatic trimaps made from the old one; the trimap on screen
        then counts as changed, unless it rests on the provisional trimap that the caller
        replaces next (:meth:`install_auto_trimap`)."""
        key = model_key(settings)
        old = self._answers.get(key)
        self._answers[key] = small_mask
        self._partial.discard(key)
        if old is None or old is small_mask or key != model_key(self.settings):
            return
        current = trimap_key(self.settings)
        made_from_old = current in self._auto
        self._auto.clear()
        if made_from_old:
            if self._trimap_cache is not None and self._trimap_cache[0] == current:
                self._trimap_cache = None
            self._changed()

    # ----------------------------------------------------------------- trimaps
    def auto_trimap(self) -> np.ndarray:
        """The automatic trimap (read-only uint8) of the current settings, cached; the
        provisional one while it stands in (:meth:`set_provisional_trimap`)."""
        key = trimap_key(self.settings)
        if key in self._auto:
            return self._auto[key]
        if self._provisional is not None and self._provisional[0] == key:
            return self._provisional[1]
        t = _frozen(auto_trimap(self.image, self.mask, self.settings))
        self._keep_auto(key, t)
        return t

    def _keep_auto(self, key: tuple, trimap: np.ndarray) -> None:
        self._auto.pop(key, None)
        self._auto[key] = trimap
        while len(self._auto) > AUTO_TRIMAPS_KEPT:
            del self._auto[next(iter(self._auto))]

    def compute_auto_trimap(self, settings: PipelineSettings | None = None,
                            image: LoadedImage | None = None,
                            small_mask: np.ndarray | None = None) -> tuple[tuple, np.ndarray]:
        """``(trimap_key(settings), trimap)``: the exact automatic trimap of ``image`` (default:
        the document's), computed without touching the document: a background thread passes
        its own reference to the pixels, since the GUI thread may unload the document
        meanwhile. Hand the answer to :meth:`install_auto_trimap`. ``small_mask``: the model's
        answer to use instead of the one kept (a completed answer, installed along with the
        trimap)."""
        settings = settings or self.settings
        image = image if image is not None else self.image
        small = small_mask if small_mask is not None else self._answers[model_key(settings)]
        mask = upsample_mask(small, self.shape)
        return trimap_key(settings), _frozen(auto_trimap(image, mask, settings))

    def set_provisional_trimap(self, trimap: np.ndarray) -> None:
        """Let ``trimap`` (uint8, image size) stand in for the automatic trimap of the current
        settings until :meth:`install_auto_trimap` brings the exact one: a large photo shows a
        first matte (made at preview size) while its full-resolution trimap is computed."""
        if trimap.shape != self.shape:
            raise ValueError(f"trimap {trimap.shape} does not match the image {self.shape}")
        key = trimap_key(self.settings)
        self._auto.pop(key, None)
        if trimap.dtype != np.uint8 or trimap.flags.writeable:
            trimap = _frozen(np.array(trimap, np.uint8, copy=True))
        self._provisional = (key, trimap)  # a read-only one is shared (the first matte's)
        self._trimap_cache = None

    @property
    def trimap_is_provisional(self) -> bool:
        """True while the trimap rests on a provisional automatic trimap."""
        p, key = self._provisional, trimap_key(self.settings)
        return p is not None and p[0] == key and key not in self._auto

    def install_auto_trimap(self, key: tuple, trimap: np.ndarray) -> bool:
        """Store the exact automatic trimap for the settings ``key``
        (:meth:`compute_auto_trimap`); True when it replaced the provisional trimap in use
        (the trimap changed: the revision increases and the alpha needs a new solve)."""
        if trimap.shape != self.shape:
            raise ValueError(f"trimap {trimap.shape} does not match the image {self.shape}")
        was_provisional = self.trimap_is_provisional
        self._keep_auto(key, trimap if not trimap.flags.writeable else _frozen(trimap.copy()))
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

        Cached; appending strokes only paints the new ones. Without strokes it is the
        automatic trimap itself (no copy).
        """
        key, strokes = trimap_key(self.settings), tuple(self._strokes)
        cache = self._trimap_cache
        if cache is not None and cache[0] == key and cache[1] == strokes:
            return cache[2]
        if cache is not None and cache[0] == key and strokes[:len(cache[1])] == cache[1]:
            base, todo = cache[2], strokes[len(cache[1]):]
        else:
            base, todo = self.auto_trimap(), strokes
        out = base
        if todo:
            out = np.array(base, copy=True)
            for s in todo:
                draw_stroke(out, s)
            out = _frozen(out)
        self._trimap_cache = (key, strokes, out)
        return out

    # ----------------------------------------------------------------- alpha
    def solve_request(self, with_foreground: bool = True,
                      quick_preview: bool = True) -> SolveRequest:
        """Snapshot of the current trimap for :func:`~.solve.solve` (run it off the GUI
        thread); carries the last result so that a preview can reuse it."""
        return SolveRequest(image=self.image, trimap=self.trimap(), settings=self.settings,
                            revision=self.revision, previous=self.result,
                            with_foreground=with_foreground, quick_preview=quick_preview)

    def set_result(self, result: SolveResult) -> None:
        if result.alpha.shape != self.shape:
            raise ValueError("result does not belong to this document")
        self.result = result

    def alpha_is_current(self) -> bool:
        """True when the alpha held is a full solve of exactly the current trimap, finished
        with the current edge adjustments."""
        r = self.result
        return r is not None and not r.preview and r.edges == self.settings.edges and \
            np.array_equal(r.trimap, self.trimap())

    def only_edges_changed(self) -> bool:
        """True when the alpha held was solved for the current trimap and only the edge
        adjustments differ: :func:`~.solve.refinish` brings it up to date without solving."""
        r = self.result
        return r is not None and not r.preview and r.raw_alpha is not None and \
            r.edges != self.settings.edges and np.array_equal(r.trimap, self.trimap())

    def cutout_result(self, cancel: CancelToken | None = None) -> CutoutResult | None:
        """The last result as a :class:`CutoutResult` for export (None before the first
        solve); edge colours are estimated now when the result does not carry them (the
        editor keeps display-size colours only)."""
        return None if self.result is None else cutout_of(self.image, self.result, cancel)


def cutout_of(image: LoadedImage, result: SolveResult, cancel: CancelToken | None = None
              ) -> CutoutResult:
    """``result`` on ``image`` as a :class:`CutoutResult` for export, with edge colours
    estimated now when the result does not carry them."""
    fg = result.foreground
    if fg is None:
        fg = estimate_foreground(image.rgb, result.alpha, cancel)
    return CutoutResult(mask=None, trimap=result.trimap, alpha=result.alpha, foreground=fg)


EXPORT_KINDS = {"cutout": "_cutout", "alpha": "_alpha", "trimap": "_trimap"}
"""What can be exported, and the file-name suffix each one gets by default."""


def default_export_path(doc: Document, kind: str = "cutout") -> Path:
    """``<stem>_cutout.png`` (or ``_alpha`` / ``_trimap``) beside the original."""
    source = doc.path if doc.path is not None else Path.cwd() / "untitled.png"
    return default_output_path(source, EXPORT_KINDS[kind])


def export_cutout(image: LoadedImage, result: CutoutResult | None,
                  path: str | os.PathLike[str], kind: str = "cutout",
                  progress: ProgressFn = no_progress,
                  cancel: CancelToken | None = None,
                  options: ExportOptions = ExportOptions()) -> Path:
    """Write ``result`` as ``kind`` (cutout / alpha / trimap) to ``path``; never over the original.
    ``options``: the cut-out's format, background and canvas.

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
    written = export_result(image, result, *targets, options=options)
    progress(1.0, "saved")
    return written[0]


def export_document(doc: Document, path: str | os.PathLike[str], kind: str = "cutout") -> Path:
    """:func:`export_cutout` of the document's last result."""
    return export_cutout(doc.image, doc.cutout_result(), path, kind)


def load_photo(path: str | os.PathLike[str], settings: PipelineSettings,
               progress: ProgressFn = no_progress, cancel: CancelToken | None = None,
               on_image: Callable[[LoadedImage], None] | None = None,
               ) -> tuple[LoadedImage, np.ndarray]:
    """Decode the photo and run the model: ``(image, the model's answer at its resolution)``.

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
    """Load a photo, run the model and prepare the automatic trimap (slow: run it in the
    background)."""
    settings = settings or PipelineSettings()
    image, small = load_photo(path, settings, progress, cancel)
    doc = Document(image, small, settings)
    progress(0.9, "building the trimap")
    doc.trimap()
    progress(1.0, "ready")
    log.info("opened %s (%d×%d)", doc.name, *image.size)
    return doc


def open_document_with_preview(
    path: str | os.PathLike[str], settings: PipelineSettings | None,
    on_first: Callable[[Document], None], progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None, on_image: Callable[[LoadedImage], None] | None = None,
) -> tuple[Document, tuple[tuple, np.ndarray] | None]:
    """:func:`open_document` for an editor that shows a first matte as early as it can.

    A photo larger than ``OPEN_PREVIEW_PIXELS`` is handed to ``on_first`` right after the model
    ran, with a :func:`~.solve.first_matte` as its result and that matte's trimap standing in
    for the automatic one. The document then belongs to the caller: the exact full-resolution
    trimap is computed without touching it and returned as ``(doc, (key, trimap))`` for
    :meth:`Document.install_auto_trimap`. Smaller photos return ``(doc, None)``, their trimap
    ready, as :func:`open_document` does. ``on_image``: see :func:`load_photo`.
    """
    settings = settings or PipelineSettings()
    image, small = load_photo(path, settings, progress, cancel, on_image)
    doc = Document(image, small, settings)
    progress(0.5, "computing a first matte")
    first = first_matte(image, small, settings, doc.revision, cancel)
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
