"""The editor's controller: a shoot of photos, the one on screen, its undo history and the
background work. No widgets here; the window calls the methods and listens to the signals.

A stroke's way from the mouse to the screen, in three files:

1. :mod:`.brush_tool` turns a drag in a view into a core :class:`~..core.trimap.Stroke`;
2. here, :meth:`EditorController.add_stroke` pushes it on the photo's undo stack (its
   document's trimap changes) and :meth:`EditorController.request_matte` hands a
   :class:`~..core.solve.SolveRequest` snapshot to the ``matter`` worker;
3. :func:`..core.solve.solve` answers with a quick preview and then the full solve; the job
   (:func:`.jobs.matte_job`) turns each into display arrays, and :meth:`_matte_preview` /
   :meth:`_matte_done` put them on screen (signal ``alphaChanged``).

Workers (latest wins, typed messages): ``loader`` opens the photo on screen at full
resolution, ``matter`` solves it, ``exporter`` writes files, ``preparer`` prepares the other
photos of the shoot when nothing else runs (the photo on screen always comes first).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoGroup, QUndoStack

from ..core.batch import collect_inputs
from ..core.document import Document, cutout_of, default_export_path, export_cutout
from ..core.edges import EdgeParams
from ..core.export import ExportOptions
from ..core.models import model_label
from ..core.settings import PipelineSettings
from ..core.shoot import Shoot, ShootPhoto, describe, union
from ..core.solve import solve
from ..core.trimap import Stroke, TrimapParams
from .commands import AddStrokeCommand, ResetStrokesCommand, SettingsCommand
from .display import Display
from .jobs import (
    FirstMatte,
    MatteImages,
    MattePatch,
    Opened,
    PreparedPhoto,
    matte_job,
    model_job,
    open_job,
    prepare_job,
    refinish_job,
)
from .qimage import GreySource, RgbSource, TintSource
from .worker import Failed, Final, Preview, Worker

log = logging.getLogger(__name__)

class EditorController(QObject):
    """Signals
    -------
    shootChanged()             photos were added or the shoot was replaced
    photoChanged(int)          a photo's state, thumbnail or quality changed
    currentChanged(int)        another photo is on screen (its pixels may still be loading)
    documentOpened(doc)        the photo on screen is loaded: editing is possible
    displayChanged()           the photo view's pixels changed (a preview or the full photo)
    trimapChanged()            the current document's trimap changed
    alphaChanged()             a new alpha was put on screen (``region`` tells where)
    alphaStateChanged(bool)    True when the alpha shown matches the trimap
    busyChanged(bool)          any background work for the photo on screen
    progress(float, str)       fraction, message of the newest job
    exported(str)              a file was written
    error(title, message)      something failed; the app keeps running
    """

    shootChanged = Signal()
    photoChanged = Signal(int)
    currentChanged = Signal(int)
    documentOpened = Signal(object)
    displayChanged = Signal()
    trimapChanged = Signal()
    alphaChanged = Signal()
    alphaStateChanged = Signal(bool)
    busyChanged = Signal(bool)
    progress = Signal(float, str)
    exported = Signal(str)
    error = Signal(str, str)

    def __init__(self, synchronous: bool = False, settings: PipelineSettings | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.settings = settings or PipelineSettings()
        """Settings for photos added from now on (the last ones chosen)."""
        self.shoot = Shoot()
        self.display = Display()
        self.undo_group = QUndoGroup(self)
        self._stacks: dict[int, QUndoStack] = {}
        self.solver = solve
        """The solve function matte jobs call (tests put a slower or gated one here)."""
        self.region: tuple[int, int, int, int] | None = None
        """Where the last ``alphaChanged`` changed the alpha (None: anywhere)."""
        self.loader = Worker("open", synchronous, self)
        self.matter = Worker("matting", synchronous, self)
        self.exporter = Worker("export", synchronous, self)
        self.preparer = Worker("prepare", synchronous, self)
        self.batcher = Worker("export-all", synchronous, self)
        self.modeller = Worker("model", synchronous, self)
        self.matte_requests = 0
        self._ready: ShootPhoto | None = None
        self._came_from = -1
        self._shut_down = False
        self._views: tuple[np.ndarray, ...] | None = None
        """The model's answers for the photo on screen, when its open ran the model."""
        self._pending_export: tuple[Path, str, ExportOptions] | None = None
        self._busy = False
        self.loader.previewed.connect(self._first_matte)
        self.loader.finished.connect(self._opened)
        self.loader.failed.connect(self._open_failed)
        self.matter.previewed.connect(self._matte_preview)
        self.matter.finished.connect(self._matte_done)
        self.matter.failed.connect(self._matte_failed)
        self.exporter.finished.connect(lambda m: self._export_done(m.payload))
        self.exporter.failed.connect(lambda m: self.error.emit("Export failed", m.message))
        self.modeller.finished.connect(self._model_answered)
        self.modeller.failed.connect(lambda m: self.error.emit("Cannot use the model",
                                                               m.message))
        self.preparer.finished.connect(self._prepared)
        self.preparer.failed.connect(self._prepare_failed)
        for w, label in ((self.loader, "Opening"), (self.matter, "Matting"),
                         (self.exporter, "Exporting"), (self.modeller, "Model")):
            w.progress.connect(functools.partial(self._progress, w, label))
            w.started.connect(self._update_busy)
            w.idle.connect(self._update_busy)
        for w in (self.loader, self.matter, self.preparer):
            w.idle.connect(self._schedule_prepare)

    # ------------------------------------------------------------------ state
    @property
    def photo(self) -> ShootPhoto | None:
        """The photo on screen (loaded or not)."""
        return self.shoot.photo

    @property
    def doc(self) -> Document | None:
        """The document of the photo on screen, once it is loaded and can be edited."""
        p = self.shoot.photo
        return p.doc if p is not None and p is self._ready and p.doc is not None else None

    @property
    def undo_stack(self) -> QUndoStack | None:
        return self.undo_group.activeStack()

    def is_busy(self) -> bool:
        return any(w.is_busy() for w in (self.loader, self.matter, self.exporter,
                                         self.modeller))

    def alpha_is_current(self) -> bool:
        return self.doc is not None and self.doc.alpha_is_current()

    def has_alpha(self) -> bool:
        return self.doc is not None and self.doc.result is not None

    def _update_busy(self, *_args) -> None:
        busy = self.is_busy()
        if busy != self._busy:
            self._busy = busy
            self.busyChanged.emit(busy)

    def _progress(self, worker: Worker, label: str, rid: int, fraction: float,
                  message: str) -> None:
        if worker.is_current(rid):
            self.progress.emit(fraction, f"{label}: {message}")

    def _stack(self, photo: ShootPhoto) -> QUndoStack:
        stack = self._stacks.get(id(photo))
        if stack is None:
            stack = QUndoStack(self.undo_group)
            self._stacks[id(photo)] = stack
        return stack

    # ------------------------------------------------------------------ the shoot
    def open(self, *paths: str | Path) -> list[str]:
        """Add photos (files, or folders of photos) to the shoot and show the first of them.
        Nothing on screen is lost: the photos already there keep their edits. Returns notes
        about files skipped in folders."""
        found = collect_inputs(paths)
        for problem in found.problems:
            self.error.emit("Nothing to open", problem)
        if not found.photos:
            return found.notes
        before = len(self.shoot)
        indices = self.shoot.add(found.photos)
        if len(self.shoot) != before:
            self.shootChanged.emit()
        self.go_to(indices[0])
        return found.notes

    def replace_shoot(self, shoot: Shoot) -> None:
        """Show another shoot (a project, recovered work); the window has asked about unsaved
        edits first."""
        self._leave_current()
        self.matter.cancel()
        self.loader.cancel()
        self.preparer.cancel()
        self._stacks.clear()
        for stack in list(self.undo_group.stacks()):
            self.undo_group.removeStack(stack)
            stack.deleteLater()
        show = min(max(shoot.current, 0), len(shoot) - 1)
        self.shoot = shoot
        self.shoot.current = -1
        self.display = Display()
        self.shootChanged.emit()
        if len(shoot):
            self.go_to(show)

    def go_to(self, index: int, reload: bool = False) -> None:
        """Put photo ``index`` on screen: its prepared cut-out at once, full resolution after
        (``reload``: even when it is on screen already, e.g. after it was located)."""
        if not 0 <= index < len(self.shoot) or self._shut_down:
            return
        if not reload and index == self.shoot.current and self.photo is not None and \
                (self.photo is self._ready or self.loader.is_busy()):
            return
        self._leave_current()
        self._came_from = self.shoot.current
        self.shoot.current = index
        photo = self.shoot.photos[index]
        self._ready = None
        self._views = None
        self.undo_group.setActiveStack(self._stack(photo) if photo.doc is not None else None)
        self.display = Display.of_prepared(photo.prepared)
        self.currentChanged.emit(index)
        if photo.missing:  # nothing to load until the user locates it (the window says so)
            return
        self.preparer.cancel()  # the photo on screen has both cores
        self.loader.submit(functools.partial(
            open_job, photo.path, self.settings, photo.edit, photo.prepared, photo.doc),
            tag=str(photo.path))
        self._update_busy()

    def next_photo(self, step: int = 1, order: list[int] | None = None) -> None:
        """The next (``step`` 1) or previous (-1) photo, in ``order`` (default: the shoot's)."""
        if not len(self.shoot):
            return
        order = order or list(range(len(self.shoot)))
        pos = order.index(self.shoot.current) if self.shoot.current in order else -1
        self.go_to(order[min(max(pos + step, 0), len(order) - 1)])

    def _leave_current(self) -> None:
        """The photo on screen goes off screen: its full-resolution pixels are let go (its
        filmstrip record was refreshed after its last full solve)."""
        photo = self.photo
        self._pending_export = None
        self.matter.cancel()
        self.loader.cancel()
        if photo is None or photo.doc is None:
            return
        photo.doc.unload()
        self._ready = None

    # ------------------------------------------------------------------ opening
    def _is_for_current(self, doc_path) -> bool:
        photo = self.photo
        return photo is not None and Path(doc_path) == Path(photo.path)

    def _install(self, doc: Document, rgb8: np.ndarray, source: RgbSource) -> None:
        photo = self.photo
        photo.doc = doc
        photo.edit = None
        photo.error = None
        if photo.state == "failed":
            photo.state = "edited" if doc.strokes else "automatic"
        self._ready = photo
        self.undo_group.setActiveStack(self._stack(photo))
        self.display.photo, self.display.photo_rgb8 = source, rgb8
        self.display.full_resolution = True
        self.display.trimap = self.display.overlay = None
        self.documentOpened.emit(doc)
        self.trimapChanged.emit()

    def _first_matte(self, message: Preview) -> None:
        first: FirstMatte = message.payload
        if not self.loader.is_current(message.request_id) or \
                not self._is_for_current(first.doc.path):
            return
        self._install(first.doc, first.photo_rgb8, first.photo_source)
        self._show_matte(first.matte)
        self.alphaStateChanged.emit(False)

    def _opened(self, message: Final) -> None:
        opened: Opened = message.payload
        if not self.loader.is_current(message.request_id) or \
                not self._is_for_current(opened.doc.path):
            return
        photo = self.photo
        if opened.fingerprint is not None:
            photo.fingerprint = opened.fingerprint
        if opened.views is not None:
            self._views = opened.views
        if opened.reloaded is not None:
            opened.doc.reload(opened.reloaded)
        if opened.answer is not None:  # completed while the first matte was on screen
            opened.doc.add_model_answer(*opened.answer)
        shown_first = self._ready is photo  # a first matte is on screen already
        if not shown_first:
            if opened.exact is not None:  # before the views ask for the trimap
                opened.doc.install_auto_trimap(*opened.exact)
            self._install(opened.doc, opened.photo_rgb8, opened.photo_source)
        elif opened.exact is not None and opened.doc.install_auto_trimap(*opened.exact):
            self.trimapChanged.emit()
        # a prepared or first cut-out is on screen: straight to the full-resolution solve
        self.request_matte(quick_preview=photo.prepared is None and not shown_first)

    def _open_failed(self, message: Failed) -> None:
        photo = self.photo
        back = -1
        if photo is not None and str(photo.path) == message.tag:
            photo.state, photo.error = "failed", message.message
            self.photoChanged.emit(self.shoot.current)
            came_from = self._came_from
            if photo.doc is None and 0 <= came_from < len(self.shoot) and \
                    came_from != self.shoot.current and \
                    self.shoot.photos[came_from].state != "failed":
                back = came_from  # the photo worked on before comes back on screen
        self.error.emit("Cannot open the photo", message.message)
        if back >= 0:
            QTimer.singleShot(0, lambda: self.go_to(back))

    # ------------------------------------------------------------------ edits
    def add_stroke(self, stroke: Stroke) -> None:
        doc = self.doc
        if doc is not None:
            self._stack(self.photo).push(AddStrokeCommand(doc, stroke, self._edited))

    def reset_trimap(self) -> None:
        doc = self.doc
        if doc is not None and doc.strokes:
            self._stack(self.photo).push(ResetStrokesCommand(doc, self._edited))

    def set_trimap_params(self, params: TrimapParams) -> None:
        """Classic erode/dilate trimap with ``params`` (kernel size, iterations); undoable."""
        self.set_trimap_settings(trimap=params, trimap_preset="classic")

    def set_trimap_preset(self, preset: str) -> None:
        """The automatic trimap's method; undoable."""
        self.set_trimap_settings(trimap_preset=preset)

    def set_trimap_settings(self, **changes) -> None:
        """Change the trimap fields of the settings (for this photo and photos added later);
        undoable."""
        self._change_settings("Change trimap settings", **changes)

    def set_edges(self, params: EdgeParams) -> None:
        """Other edge adjustments (for this photo and photos added later); undoable. The
        matte on screen is finished again without solving (:func:`.jobs.refinish_job`)."""
        self._change_settings("Adjust edges", edges=params)

    def _change_settings(self, text: str, **changes) -> None:
        self.settings = dataclasses.replace(self.settings, **changes)
        doc = self.doc
        if doc is not None:
            new = dataclasses.replace(doc.settings, **changes)
            if new != doc.settings:
                self._stack(self.photo).push(SettingsCommand(doc, new, self._edited, text))

    def use_model(self, name: str | None) -> None:
        """Run the photo on screen again with another segmentation model (a catalogue name or
        a file; None: the embedded one) and use it for photos added later. Undoable; the
        strokes stay. The model runs in the background; the switch happens when it answered."""
        self.settings = dataclasses.replace(self.settings, model_path=name, preset=None)
        doc = self.doc
        if doc is None:
            return
        new = dataclasses.replace(doc.settings, model_path=name, preset=None)
        if new == doc.settings:
            return
        if doc.has_model_answer(new):
            self._switch_model(doc, new)
            return
        self.modeller.submit(functools.partial(model_job, doc.image, new), tag=str(doc.path))
        self._update_busy()

    def _model_answered(self, message: Final) -> None:
        settings, views = message.payload
        doc = self.doc
        if doc is None or str(doc.path) != message.tag:
            return  # the photo went off screen meanwhile
        doc.add_model_answer(settings, union(views))
        self._views = views
        self._switch_model(doc, settings)

    def _switch_model(self, doc: Document, settings: PipelineSettings) -> None:
        self._stack(self.photo).push(SettingsCommand(
            doc, settings, self._edited, f"Use model {model_label(settings.model_path)}"))

    def _edited(self, doc: Document) -> None:
        photo = next((p for p in self.shoot.photos if p.doc is doc), None)
        if photo is not None:
            state = "edited" if doc.strokes or doc.settings != self.settings else photo.state
            if photo.state in ("automatic", "exported") and state == "edited":
                photo.state = "edited"
                self.photoChanged.emit(self.shoot.photos.index(photo))
        if doc is self.doc:
            self.trimapChanged.emit()
            self.request_matte()

    # ------------------------------------------------------------------ matting
    def request_matte(self, quick_preview: bool = True) -> int | None:
        """Queue a solve of the current trimap (supersedes any earlier request)."""
        doc = self.doc
        if doc is None:
            return None
        if doc.trimap_is_provisional:
            # the loader is still computing the full-resolution trimap; _opened solves then
            self.matter.cancel()
            self.alphaStateChanged.emit(False)
            self._update_busy()
            return None
        if doc.alpha_is_current():
            # e.g. a subject stroke inside sure foreground: the trimap did not change
            self.matter.cancel()
            self.alphaStateChanged.emit(True)
            self._update_busy()
            return None
        self.matte_requests += 1
        self.preparer.cancel()
        if doc.only_edges_changed():
            rid = self.matter.submit(functools.partial(
                refinish_job, doc.result, doc.image, doc.settings, self.display.photo_rgb8),
                tag=str(doc.revision))
            self.alphaStateChanged.emit(False)
            self._update_busy()
            return rid
        request = doc.solve_request(quick_preview=quick_preview)
        rid = self.matter.submit(functools.partial(matte_job, request, self.display.photo_rgb8,
                                                   self.solver), tag=str(doc.revision))
        self.alphaStateChanged.emit(False)
        self._update_busy()
        return rid

    def _matte_preview(self, message: Preview) -> None:
        doc = self.doc
        payload = message.payload
        if doc is None or not self.matter.is_current(message.request_id) or \
                payload.result.alpha.shape != doc.shape:
            return
        doc.set_result(payload.result)
        if isinstance(payload, MattePatch) and self.display.matte is not None and \
                self.display.matte.alpha8.shape == payload.result.alpha.shape:
            y0, y1, x0, x1 = payload.region
            self.display.matte.alpha8[y0:y1, x0:x1] = payload.alpha8
            self.display.matte.colours8[y0:y1, x0:x1] = payload.colours8
            self.display.matte = dataclasses.replace(self.display.matte, result=payload.result)
            self.region = payload.region
            self.alphaChanged.emit()
        elif isinstance(payload, MatteImages):
            self._show_matte(payload)
        self.alphaStateChanged.emit(False)

    def _matte_done(self, message: Final) -> None:
        doc = self.doc
        matte: MatteImages = message.payload
        if doc is None or not self.matter.is_current(message.request_id) or \
                matte.result.alpha.shape != doc.shape:
            return  # stale: a newer request (or another photo) owns the views now
        doc.set_result(matte.result)
        self._show_matte(matte)
        self._estimate_quality(matte)
        current = doc.alpha_is_current()
        self.alphaStateChanged.emit(current)
        if current and self._pending_export is not None:
            pending, self._pending_export = self._pending_export, None
            self.export(*pending)

    def _show_matte(self, matte: MatteImages) -> None:
        self.display.matte = matte
        self.region = None
        self.alphaChanged.emit()

    def _matte_failed(self, message: Failed) -> None:
        self._pending_export = None
        self.error.emit("Matting failed", message.message)

    def _estimate_quality(self, matte: MatteImages) -> None:
        """After a full solve: the photo's filmstrip record (thumbnail, display-size cut-out)
        and its quality estimate, the strokes' pixels counting as right (a few ms)."""
        photo, doc = self.photo, self.doc
        if photo is None or doc is None or self.display.photo_rgb8 is None:
            return
        views = photo.prepared.views if photo.prepared is not None and \
            photo.prepared.settings == doc.settings else self._views
        if views is None:
            return
        painted = doc.trimap() != doc.auto_trimap()
        photo.prepared = describe((doc.shape[1], doc.shape[0]), doc.settings, views,
                                  self.display.photo_rgb8, matte.alpha8, painted)
        self.photoChanged.emit(self.shoot.current)

    # ------------------------------------------------------------------ trimap display
    def trimap_sources(self) -> tuple[GreySource, TintSource] | None:
        """Sources of the trimap view and the photo's tint, brought up to date with the
        document's trimap (only the rectangle that changed is redrawn). Returns the
        sources and leaves ``self.region`` at the changed rectangle (None: all new)."""
        doc = self.doc
        if doc is None:
            return None
        trimap, overlay, self.region = self.display.show_trimap(doc.trimap())
        return trimap, overlay

    # ------------------------------------------------------------------ preparing the others
    def _schedule_prepare(self) -> None:
        """Prepare the next photo that needs it, when the photo on screen has no work."""
        busy = self.loader.is_busy() or self.matter.is_busy() or self.preparer.is_busy()
        i = None if self._shut_down or busy else self.shoot.next_to_prepare()
        if i is not None:
            p = self.shoot.photos[i]
            self.preparer.submit(functools.partial(prepare_job, p.path,
                                                   p.settings or self.settings),
                                 tag=str(p.path))

    def _prepared(self, message: Final) -> None:
        done: PreparedPhoto = message.payload
        i = self.shoot.index_of(done.path)
        if i >= 0:
            p = self.shoot.photos[i]
            p.prepared = done.prepared
            if done.fingerprint is not None and p.fingerprint is None:
                p.fingerprint = done.fingerprint
            self.shoot.slim_far()
            self.photoChanged.emit(i)

    def _prepare_failed(self, message: Failed) -> None:
        i = self.shoot.index_of(message.tag)
        if i >= 0:
            p = self.shoot.photos[i]
            p.state, p.error = "failed", message.message
            self.photoChanged.emit(i)

    # ------------------------------------------------------------------ export
    def default_export_path(self, kind: str = "cutout") -> Path | None:
        return None if self.doc is None else default_export_path(self.doc, kind)

    def export(self, path: str | Path, kind: str = "cutout",
               options: ExportOptions = ExportOptions()) -> None:
        """Write ``kind`` to ``path`` (``options``: the cut-out's format, background, canvas) in
        the background; waits for an out-of-date alpha first."""
        doc = self.doc
        if doc is None:
            self.error.emit("Nothing to export", "Open a photo first.")
            return
        path = Path(path)
        if not doc.alpha_is_current():
            self._pending_export = (path, kind, options)
            if not self.matter.is_busy():
                self.request_matte()
            self.progress.emit(0.0, "Export starts when the alpha is up to date")
            return
        image, result, photo = doc.image, doc.result, self.photo  # what the job reads, now

        def job(ctx):
            cutout = cutout_of(image, result, ctx.cancel)
            return photo, export_cutout(image, cutout, path, kind, ctx.progress, ctx.cancel,
                                        options)

        self.exporter.submit(job, tag=kind)
        self._update_busy()

    def _export_done(self, payload) -> None:
        photo, path = payload
        if photo in self.shoot.photos:
            self.mark_exported(self.shoot.photos.index(photo))
        self.exported.emit(str(path))

    def mark_exported(self, index: int) -> None:
        """Photo ``index`` was written out."""
        if 0 <= index < len(self.shoot):
            self.shoot.photos[index].state = "exported"
            self.photoChanged.emit(index)

    # ------------------------------------------------------------------ shutdown
    def shutdown(self) -> None:
        self._shut_down = True
        for w in (self.loader, self.matter, self.exporter, self.preparer, self.batcher,
                  self.modeller):
            w.shutdown(timeout=5.0)
