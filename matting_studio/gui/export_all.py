"""Export All / Export Selected: every chosen photo of the shoot, with its own edits, into a
folder, in the background, with a progress bar, Cancel and a summary of what failed."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..core.batch import DEFAULT_NAME, BatchItem, PlanError, cutout_item, plan_batch
from ..core.document import cutout_of, export_cutout
from ..core.errors import MattingStudioError
from ..core.export import OUTPUT_SUFFIXES, ExportOptions
from ..core.settings import PipelineSettings
from ..core.trimap import Stroke
from .export_options import ExportOptionsBox
from .worker import Failed, Final, JobContext, Preview

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PhotoJob:
    """One photo to export, as the GUI thread saw it when Export was pressed."""

    index: int
    item: BatchItem
    settings: PipelineSettings
    strokes: tuple[Stroke, ...]
    small_mask: object = None
    options: ExportOptions = ExportOptions()
    loaded: tuple | None = None
    """(image, result) of the photo on screen when its alpha is up to date: nothing to solve."""


@dataclass(frozen=True)
class Summary:
    written: list[Path]
    failed: list[tuple[str, str]]
    cancelled: bool = False


class ExportAllDialog(QDialog):
    """Where to and under which names; ``plan()`` after ``accept()``."""

    def __init__(self, paths: list[Path], folder: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.paths = paths
        n = len(paths)
        self.setWindowTitle(f"Export {n} Photo{'s' if n != 1 else ''}")
        self.setMinimumWidth(560)
        self.folder_edit = QLineEdit(str(folder))
        self.folder_edit.setObjectName("exportFolder")
        browse = QPushButton("Browse…")
        browse.setAutoDefault(False)
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.folder_edit, 1)
        row.addWidget(browse)
        self.name_edit = QLineEdit(DEFAULT_NAME)
        self.name_edit.setObjectName("exportTemplate")
        self.name_edit.setToolTip("{stem}: the photo's name without its extension, {ext}: its "
                                  "extension, {n}: its number (1, 2, …)")
        self.options_box = ExportOptionsBox()
        self.options_box.changed.connect(self._format_changed)
        form = QFormLayout()
        form.addRow("Folder:", row)
        form.addRow("File names:", self.name_edit)
        self.example = QLabel("")
        self.example.setObjectName("exportExample")
        form.addRow("", self.example)
        self.error = QLabel("")
        self.error.setObjectName("exportError")
        self.error.setStyleSheet("color: #e5534b;")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        ok = buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        ok.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Each photo is exported with its own strokes and settings; photos "
                             "you have not edited get their automatic cut-out."))
        lay.addLayout(form)
        lay.addWidget(self.options_box)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self.name_edit.textChanged.connect(self._update_example)
        self.folder_edit.textChanged.connect(self._update_example)
        self._plan: list[BatchItem] | None = None
        self._update_example()

    def options(self) -> ExportOptions:
        return self.options_box.options()

    def _format_changed(self) -> None:
        """Another format: the names' extension follows."""
        name = Path(self.name_edit.text())
        if name.suffix.lower() in OUTPUT_SUFFIXES and name.suffix.lower() != \
                self.options_box.suffix():
            self.name_edit.setText(str(name.with_suffix(self.options_box.suffix())))

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export to", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    def _update_example(self) -> None:
        try:
            items = plan_batch(self.paths[:1], self.folder_edit.text().strip() + "/",
                               template=self.name_edit.text())
            self.example.setText(f"e.g. {items[0].outputs.cutout}")
        except PlanError as e:
            self.example.setText(str(e))

    def plan(self) -> list[BatchItem] | None:
        return self._plan

    def accept(self) -> None:
        folder = self.folder_edit.text().strip()
        if not folder:
            self.error.setText("Choose a folder.")
            return
        try:
            self._plan = plan_batch(self.paths, folder.rstrip("/") + "/",
                                    template=self.name_edit.text())
        except PlanError as e:
            self.error.setText(str(e))
            return
        super().accept()


def export_job(jobs: list[PhotoJob], ctx: JobContext) -> Summary:
    """Export every photo (one failure does not stop the others); ``ctx.preview(index)`` after
    each photo written."""
    written, failed = [], []
    n = len(jobs)
    for k, job in enumerate(jobs):
        if ctx.cancel.cancelled:
            return Summary(written, failed, cancelled=True)
        name = job.item.source.name
        ctx.progress(k / n, f"{name} ({k + 1} of {n})")
        try:
            if job.loaded is not None:
                image, result = job.loaded
                written.append(export_cutout(image, cutout_of(image, result, ctx.cancel),
                                             job.item.outputs.cutout, options=job.options))
            else:
                written.extend(cutout_item(job.item, job.settings, cancel=ctx.cancel,
                                           strokes=job.strokes, small_mask=job.small_mask,
                                           options=job.options))
            ctx.preview(job.index)
        except MattingStudioError as e:
            failed.append((name, " ".join(str(e).split())))
        except MemoryError:
            failed.append((name, "not enough memory for this photo"))
    ctx.progress(1.0, "done")
    return Summary(written, failed)


def run_export_all(win, indices: list[int]) -> None:
    """Ask where, then export the photos ``indices`` of the window's shoot in the background."""
    c = win.controller
    photos = [c.shoot.photos[i] for i in indices]
    if not photos:
        return
    first = photos[0].path
    folder = Path(win.settings.last_folder()) if not first.parent.is_dir() else \
        first.parent / "cutouts"
    dlg = ExportAllDialog([p.path for p in photos], folder, win)
    win._export_all_dlg = dlg
    if not dlg.exec() or dlg.plan() is None:
        return
    jobs = []
    for i, photo, item in zip(indices, photos, dlg.plan()):
        doc = photo.doc
        loaded = None
        if doc is not None and doc is c.doc and doc.alpha_is_current():
            loaded = (doc.image, doc.result)
        small = photo.prepared.small_mask if photo.prepared is not None and \
            photo.prepared.settings == (photo.settings or c.settings) else None
        jobs.append(PhotoJob(i, item, photo.settings or c.settings, tuple(photo.strokes),
                             small, dlg.options(), loaded))
    win.settings.set_last_folder(dlg.plan()[0].outputs.cutout.parent)
    win._export_all_run = ExportRun(win, jobs)


class ExportRun(QObject):
    """One Export All in the background: its progress dialog (with Cancel), the photos marked
    exported as they are written, and the summary at the end. Messages of other runs of the
    same worker are ignored (request ids)."""

    def __init__(self, win, jobs: list[PhotoJob]):
        super().__init__(win)
        self.win, self.worker = win, win.controller.batcher
        self.dialog = QProgressDialog("Exporting…", "Cancel", 0, 100, win)
        self.dialog.setWindowTitle("Export")
        self.dialog.setWindowModality(Qt.WindowModality.NonModal)
        self.dialog.setMinimumDuration(0)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.canceled.connect(self.cancel)
        self.worker.progress.connect(self._progress)
        self.worker.previewed.connect(self._photo_done)
        self.worker.finished.connect(self._finished)
        self.worker.failed.connect(self._failed)
        self.rid = self.worker.submit(lambda ctx: export_job(jobs, ctx), tag="export-all")

    def _mine(self, rid: int) -> bool:
        return rid == self.rid

    def _progress(self, rid: int, fraction: float, message: str) -> None:
        if self._mine(rid):
            self.dialog.setValue(round(fraction * 100))
            self.dialog.setLabelText(f"Exporting {message}")

    def _photo_done(self, message: Preview) -> None:
        if self._mine(message.request_id):
            self.win.controller.mark_exported(message.payload)

    def _finished(self, message: Final) -> None:
        if self._mine(message.request_id):
            self._end()
            _summarise(self.win, message.payload)

    def _failed(self, message: Failed) -> None:
        if self._mine(message.request_id):
            self._end()
            self.win.show_error("Export failed", message.message)

    def cancel(self) -> None:
        self.worker.cancel()
        self._end()
        self.win.status_label.setText("Export cancelled: the photos written so far are kept")

    def _end(self) -> None:
        self.dialog.close()
        self.deleteLater()  # its connections go with it


def _summarise(win, summary: Summary) -> None:
    n_ok, n_bad = len(summary.written), len(summary.failed)
    win.last_export = str(summary.written[-1]) if summary.written else win.last_export
    if not n_bad:
        win.status_label.setText(f"Exported {n_ok} photo{'s' if n_ok != 1 else ''} to "
                                 f"{summary.written[0].parent if summary.written else ''}")
        return
    details = "\n".join(f"{name}: {why}" for name, why in summary.failed[:20])
    box = QMessageBox(QMessageBox.Icon.Warning, "Export finished with problems",
                      f"{n_ok} exported, {n_bad} failed.", QMessageBox.StandardButton.Ok, win)
    box.setDetailedText(details)
    box.setInformativeText(details if n_bad <= 5 else f"{details.splitlines()[0]} …")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    win.export_summary = (n_ok, summary.failed)
    box.open()
