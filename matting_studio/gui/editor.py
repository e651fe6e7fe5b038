"""The editor's controller: one :class:`Document`, its undo stack and its background workers.

No widgets here. The window calls :meth:`open`, :meth:`add_stroke`, … and listens to the signals.
Three latest-wins workers keep the GUI thread free: ``loader`` (decode + model; a large photo
is handed over with a first matte solved at preview size while its full-resolution trimap is
still being computed, see :func:`open_job`), ``matter`` (alpha re-solves; a new stroke
supersedes the previous request and cancels a running solve) and ``exporter`` (PNG encode +
write).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage, QUndoStack

from ..core.document import (
    Document,
    MattingResult,
    default_export_path,
    export_cutout,
    open_document_with_preview,
)
from ..core.pipeline import PipelineSettings
from ..core.trimap import Stroke, TrimapParams
from .commands import AddStrokeCommand, ResetStrokesCommand, TrimapSettingsCommand
from .qimage import OVERLAY_TABLE, cutout_rgba, float_to_u8, to_qimage
from .worker import Worker

log = logging.getLogger(__name__)


class EditorController(QObject):
    """Signals
    -------
    opening(path)              a photo started loading
    documentOpened(doc)        a new document replaced the old one
    trimapChanged()            the document's trimap changed (strokes, undo, parameters)
    alphaChanged()             a new alpha (for the current or an older trimap) was accepted
    alphaStateChanged(bool)    True when the alpha shown matches the trimap
    busyChanged(bool)          any background work running
    progress(float, str)       fraction, message of the newest job
    exported(path)             a file was written
    error(title, message)      something failed; the app keeps running
    """

    opening = Signal(str)
    documentOpened = Signal(object)
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
        self.doc: Document | None = None
        # display images made by the workers (QImage is safe off the GUI thread, QPixmap is not)
        self.photo_image: QImage | None = None
        self.alpha_image: QImage | None = None
        self.cutout_image: QImage | None = None
        self.patch: tuple[tuple[int, int, int, int], QImage, QImage] | None = None
        """A preview that changed only a rectangle: (region, alpha patch, cutout patch)."""
        self.trimap_images: tuple[np.ndarray, QImage, QImage] | None = None
        """(trimap, grey image, overlay image) made by the loader for a first matte's trimap."""
        self.undo_stack = QUndoStack(self)
        self.loader = Worker("open", synchronous, self)
        self.matter = Worker("matting", synchronous, self)
        self.exporter = Worker("export", synchronous, self)
        self.matte_requests = 0
        self._opening: str | None = None
        self._pending_export: tuple[Path, str] | None = None
        self._busy = False
        self.loader.finished.connect(self._opened)
        self.loader.partial.connect(self._first_matte)
        self.loader.failed.connect(self._open_failed)
        self.matter.finished.connect(self._matte_done)
        self.matter.partial.connect(self._matte_done)
        self.matter.failed.connect(self._matte_failed)
        self.exporter.finished.connect(self._export_done)
        self.exporter.failed.connect(lambda _r, _t, msg: self.error.emit("Export failed", msg))
        for w, label in ((self.loader, "Opening"), (self.matter, "Matting"),
                         (self.exporter, "Exporting")):
            w.progress.connect(functools.partial(self._progress, w, label))
            w.started.connect(self._update_busy)
            w.idle.connect(self._update_busy)

    # ------------------------------------------------------------------ state
    def is_busy(self) -> bool:
        return self.loader.is_busy() or self.matter.is_busy() or self.exporter.is_busy()

    def alpha_is_current(self) -> bool:
        return self.doc is not None and self.doc.alpha_is_current()

    def has_alpha(self) -> bool:
        return self.doc is not None and self.doc.result is not None

    def _update_busy(self, *_args) -> None:
        busy = self.is_busy()
        if busy != self._busy:
            self._busy = busy
            self.busyChanged.emit(busy)

    def _progress(self, worker: Worker, label: str, rid: int, fraction: float, message: str) -> None:
        if worker.is_current(rid):
            self.progress.emit(fraction, f"{label}: {message}")

    # ------------------------------------------------------------------ open
    def open(self, path: str | Path) -> None:
        path = str(path)
        self._opening = path
        self.opening.emit(path)
        # The new photo gets both cores: a solve for the old one stops (resumed if the open fails).
        self.matter.cancel()
        self.loader.submit(functools.partial(open_job, path, self.settings), tag=path)
        self._update_busy()

    def _show_document(self, doc: Document, photo: QImage) -> None:
        self.photo_image = photo
        self._opening = None
        self.matter.cancel()
        self.exporter.cancel()
        self._pending_export = None
        self.undo_stack.clear()
        self.doc = doc
        self.documentOpened.emit(doc)
        self.trimapChanged.emit()

    def _first_matte(self, rid: int, tag: str, payload: tuple) -> None:
        """A large photo, shown with its first matte before its full-resolution trimap."""
        if not self.loader.is_current(rid):
            return
        doc, photo, self.alpha_image, self.cutout_image, self.trimap_images = payload
        self._show_document(doc, photo)
        self.trimap_images = None
        self.patch = None
        self.alphaChanged.emit()
        self.alphaStateChanged.emit(False)

    def _opened(self, rid: int, tag: str, payload: tuple) -> None:
        if not self.loader.is_current(rid):
            return
        doc, photo, exact = payload
        if doc is not self.doc:
            self._show_document(doc, photo)
        if exact is None:
            self.request_matte()
        elif doc.install_auto_trimap(*exact):
            self.trimapChanged.emit()
            # the first matte was the preview: straight to the full-resolution solve
            self.request_matte(quick_preview=False)

    def _open_failed(self, rid: int, tag: str, message: str) -> None:
        self._opening = None
        self.error.emit("Cannot open the photo", message)
        doc = self.doc  # the photo that stays open: finish the work open() stopped
        if doc is None:
            return
        if doc.trimap_is_provisional:  # its own open was superseded after its first matte
            self.loader.submit(functools.partial(exact_trimap_job, doc, self.photo_image,
                                                 doc.settings), tag=str(doc.path))
        elif not doc.alpha_is_current() and not self.matter.is_busy():
            self.request_matte()

    # ------------------------------------------------------------------ edits
    def add_stroke(self, stroke: Stroke) -> None:
        if self.doc is not None:
            self.undo_stack.push(AddStrokeCommand(self.doc, stroke, self._edited))

    def reset_trimap(self) -> None:
        if self.doc is not None and self.doc.strokes:
            self.undo_stack.push(ResetStrokesCommand(self.doc, self._edited))

    def set_trimap_params(self, params: TrimapParams) -> None:
        """Classic erode/dilate trimap with ``params`` (kernel size, iterations); undoable."""
        self.set_trimap_settings(trimap=params, trimap_preset="classic")

    def set_trimap_preset(self, preset: str) -> None:
        """Automatic trimap method ("adaptive", "classic", … as the core offers); undoable."""
        self.set_trimap_settings(trimap_preset=preset)

    def set_trimap_settings(self, **changes) -> None:
        """Change the trimap fields of the settings (for this and later photos); undoable."""
        self.settings = dataclasses.replace(self.settings, **changes)
        if self.doc is not None:
            new = dataclasses.replace(self.doc.settings, **changes)
            if new != self.doc.settings:
                self.undo_stack.push(TrimapSettingsCommand(self.doc, new, self._edited))

    def _edited(self) -> None:
        self.trimapChanged.emit()
        self.request_matte()

    # ------------------------------------------------------------------ matting
    def request_matte(self, quick_preview: bool = True) -> int | None:
        """Queue a solve of the current trimap (supersedes any earlier request)."""
        if self.doc is None:
            return None
        if self.doc.trimap_is_provisional:
            # the loader is still computing the full-resolution trimap; _opened solves then
            self.matter.cancel()
            self.alphaStateChanged.emit(False)
            self._update_busy()
            return None
        if self.doc.alpha_is_current():
            # e.g. a subject stroke inside sure foreground: the trimap did not change
            self.matter.cancel()  # anything still running was for an older trimap
            self.alphaStateChanged.emit(True)
            self._update_busy()
            return None
        self.matte_requests += 1
        job = self.doc.matting_job(quick_preview=quick_preview)
        rid = self.matter.submit(functools.partial(matte_job, job, self.doc.image.rgb),
                                 tag=str(self.doc.revision))
        self.alphaStateChanged.emit(self.doc.alpha_is_current())
        self._update_busy()
        return rid

    def _matte_done(self, rid: int, tag: str,
                    payload: tuple) -> None:
        result = payload[0]
        doc = self.doc
        if doc is None or not self.matter.is_current(rid) or result.alpha.shape != doc.shape:
            return  # stale: a newer request (or another photo) owns the views now
        doc.set_result(result)
        if len(payload) > 3 and payload[3] is not None:
            self.patch = (payload[3], payload[1], payload[2])  # full images stay as they were
        else:
            self.patch = None
            self.alpha_image, self.cutout_image = payload[1], payload[2]
        self.alphaChanged.emit()
        current = doc.alpha_is_current()
        self.alphaStateChanged.emit(current)
        if current and self._pending_export is not None:
            path, kind = self._pending_export
            self._pending_export = None
            self.export(path, kind)

    def _matte_failed(self, rid: int, tag: str, message: str) -> None:
        self._pending_export = None
        self.error.emit("Matting failed", message)

    # ------------------------------------------------------------------ export
    def default_export_path(self, kind: str = "cutout") -> Path | None:
        return None if self.doc is None else default_export_path(self.doc, kind)

    def export(self, path: str | Path, kind: str = "cutout") -> None:
        """Write ``kind`` to ``path`` in the background; waits for an out-of-date alpha first."""
        if self.doc is None:
            self.error.emit("Nothing to export", "Open a photo first.")
            return
        path = Path(path)
        if not self.doc.alpha_is_current():
            self._pending_export = (path, kind)
            if not self.matter.is_busy():
                self.request_matte()
            self.progress.emit(0.0, "Export starts when the alpha is up to date")
            return
        job = functools.partial(export_cutout, self.doc.image, self.doc.cutout_result(), path, kind)
        self.exporter.submit(job, tag=kind)  # job(progress, cancel)
        self._update_busy()

    def _export_done(self, rid: int, tag: str, path: Path) -> None:
        self.exported.emit(str(path))

    # ------------------------------------------------------------------ shutdown
    def shutdown(self) -> None:
        for w in (self.loader, self.matter, self.exporter):
            w.shutdown(timeout=5.0)


def open_job(path: str, settings: PipelineSettings, progress, cancel) -> tuple:
    """Loader job: ``(document, photo as a display image, exact trimap or None)``, all made off
    the GUI thread (:func:`~matting_studio.core.document.open_document_with_preview`).

    A large photo is handed over earlier through ``progress.partial`` as ``(document, photo,
    alpha image, cutout image, (trimap, trimap image, overlay image))`` with its first matte;
    the job then computes the exact full-resolution trimap, which the controller installs in
    the document. The photo's display image is made while the model runs, the trimap's while
    the alpha's are made.
    """
    forward = getattr(progress, "partial", None)
    helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ms-open-display")
    photo: dict = {}

    def on_image(image) -> None:
        photo["job"] = helper.submit(photo_display, image.rgb)

    def on_first(doc: Document) -> None:
        rgb8, photo["image"], bgra = photo["job"].result()
        if forward is not None:
            trimap = doc.trimap()
            trimap_job = helper.submit(trimap_display, trimap)
            alpha, cutout = first_matte_display(rgb8, bgra, doc.result.alpha)
            forward((doc, photo["image"], alpha, cutout, (trimap,) + trimap_job.result()))

    try:
        doc, exact = open_document_with_preview(path, settings, on_first, progress, cancel,
                                                on_image)
        cancel.check()
        if "image" not in photo:
            photo["image"] = photo["job"].result()[1]
    finally:
        helper.shutdown(wait=False, cancel_futures=True)
    return doc, photo["image"], exact


def exact_trimap_job(doc: Document, photo: QImage, settings: PipelineSettings, progress,
                     cancel) -> tuple:
    """Loader job finishing an open that was superseded after its first matte: the payload of
    :func:`open_job` for ``doc`` (reads the document's image and mask only)."""
    progress(0.5, "building the full-resolution trimap")
    exact = doc.compute_auto_trimap(settings)
    cancel.check()
    return doc, photo, exact


# Display images in the formats QPixmap keeps (RGB32 / ARGB32_Premultiplied on a little-endian
# machine), written by OpenCV into the images' own pixels in the loader: QPixmap.fromImage in
# the GUI thread then converts nothing (five 12 MP conversions were ~0.25 s there).
_NATIVE = sys.byteorder == "little"
_RGB32 = QImage.Format.Format_RGB32
_PREMULTIPLIED = QImage.Format.Format_ARGB32_Premultiplied


def _native_image(h: int, w: int, fmt: QImage.Format) -> tuple[QImage, np.ndarray]:
    """A new 32-bit image and a (h, w, 4) uint8 view of its pixels (B, G, R, A bytes)."""
    img = QImage(w, h, fmt)
    if img.isNull():
        raise MemoryError
    view = np.ndarray((h, img.bytesPerLine() // 4, 4), np.uint8, buffer=img.bits())
    return img, view[:, :w]


def photo_display(rgb: np.ndarray) -> tuple[np.ndarray, QImage, np.ndarray | None]:
    """(RGB bytes, photo image, the image's BGRA pixels or None) of a float photo."""
    rgb8 = float_to_u8(rgb)
    if not _NATIVE:
        return rgb8, to_qimage(rgb8), None
    img, bgra = _native_image(*rgb8.shape[:2], _RGB32)
    cv2.cvtColor(rgb8, cv2.COLOR_RGB2BGRA, dst=bgra)
    return rgb8, img, bgra


def first_matte_display(rgb8: np.ndarray, bgra: np.ndarray | None, alpha: np.ndarray
                        ) -> tuple[QImage, QImage]:
    """Alpha and cutout images (as :func:`display_payload` shows them, the cutout premultiplied)
    of a first matte, from the photo's bytes (:func:`photo_display`)."""
    a8 = float_to_u8(alpha)
    if bgra is None:
        return to_qimage(a8), to_qimage(np.dstack([rgb8, a8]))
    h, w = a8.shape
    alpha_img, view = _native_image(h, w, _RGB32)
    cv2.cvtColor(a8, cv2.COLOR_GRAY2BGRA, dst=view)
    cutout_img, view = _native_image(h, w, _PREMULTIPLIED)
    cv2.multiply(bgra, cv2.merge([a8, a8, a8, a8]), dst=view, scale=1.0 / 255.0)
    return alpha_img, cutout_img


_OVERLAY_LUTS = [np.array([round(v * (c >> 24) / 255) for c in OVERLAY_TABLE
                           for v in ((c & 255, (c >> 8) & 255, (c >> 16) & 255, 255)[k],)],
                          np.uint8) for k in range(4)]
"""OVERLAY_TABLE as premultiplied B, G, R, A tables for cv2.LUT."""


def trimap_display(trimap: np.ndarray) -> tuple[QImage | None, QImage | None]:
    """Trimap (grey) and overlay (tint) images, the pixels the window makes from the trimap
    with GREY_TABLE and OVERLAY_TABLE (None, None: let the window make them)."""
    if not _NATIVE:
        return None, None
    t = np.ascontiguousarray(trimap)
    h, w = t.shape
    grey, view = _native_image(h, w, _RGB32)
    cv2.cvtColor(t, cv2.COLOR_GRAY2BGRA, dst=view)
    tint, view = _native_image(h, w, _PREMULTIPLIED)
    cv2.merge([cv2.LUT(t, lut) for lut in _OVERLAY_LUTS], dst=view)
    return grey, tint


def display_payload(result: MattingResult, rgb, patch_ok: bool = False) -> tuple:
    """A result plus its alpha and cutout display images (made in the worker thread).

    With ``patch_ok`` a preview that changed only ``result.region`` gets display images of that
    rectangle alone, plus the region: ``(result, alpha, cutout, region)``; repainting a stroke's
    neighbourhood of a 24 MP photo then costs a few milliseconds instead of a second.
    """
    fg = result.foreground if result.foreground is not None else rgb
    region = result.region if patch_ok and result.preview else None
    if region is not None:
        y0, y1, x0, x1 = region
        a = result.alpha[y0:y1, x0:x1]
        return (result, to_qimage(float_to_u8(a)), to_qimage(cutout_rgba(fg[y0:y1, x0:x1], a)),
                region)
    return (result, to_qimage(float_to_u8(result.alpha)),
            to_qimage(cutout_rgba(fg, result.alpha)), None)


def matte_job(job, rgb, progress, cancel) -> tuple:
    """Matting job: the document's solver, then the display images.

    Previews the solver hands over (``report_preview``) are shown while it keeps working.
    """

    def report(fraction: float, message: str) -> None:
        progress(fraction, message)

    forward = getattr(progress, "partial", None)
    if forward is not None:
        report.partial = lambda result: forward(display_payload(result, rgb, patch_ok=True))  # type: ignore[attr-defined]
    result = job(report, cancel)
    cancel.check()
    return display_payload(result, rgb)
