"""The Model menu and the model dialog: pick the segmentation model of the photo on screen,
download more of rembg's models (with progress and Cancel), remove them.

Nothing is downloaded unless the user presses Download. The embedded u2netp is always there.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from ..core.errors import MattingStudioError
from ..core.models import ModelState, list_models, model_label
from .worker import Failed, Final, Worker

log = logging.getLogger(__name__)


def current_model(win) -> str | None:
    """The model (catalogue name, file, or None for the embedded one) of the photo on screen,
    else the one photos added next will use."""
    doc = win.controller.doc
    return (doc.settings if doc is not None else win.controller.settings).model_path


def build_model_menu(win) -> QMenu:
    """The Model menu of ``win`` (filled each time it opens: what is installed may change)."""
    menu = QMenu("&Model", win)
    menu.setObjectName("modelMenu")
    menu.aboutToShow.connect(lambda: fill_model_menu(win, menu))
    return menu


def fill_model_menu(win, menu: QMenu) -> None:
    menu.clear()
    group = QActionGroup(menu)
    current = current_model(win)
    title = menu.addAction("Find the subject with:")
    title.setEnabled(False)
    for state in list_models():
        if not state.installed:
            continue
        info = state.info
        spec = None if info.embedded else info.name
        a = QAction(f"{info.name} — {info.good_for}", menu)
        a.setCheckable(True)
        a.setChecked(spec == current)
        a.setObjectName(f"model_{info.name}")
        a.triggered.connect(lambda _c=False, s=spec: win.controller.use_model(s))
        group.addAction(a)
        menu.addAction(a)
    if current is not None and not any(a.isChecked() for a in group.actions()):
        a = QAction(f"{model_label(current)} (file)", menu)
        a.setCheckable(True)
        a.setChecked(True)
        group.addAction(a)
        menu.addAction(a)
    menu.addSeparator()
    menu.addAction("Download Models…", lambda: show_model_dialog(win))
    menu.addAction("Use a Model File…", lambda: _choose_model_file(win))


def _choose_model_file(win) -> None:
    name, _ = QFileDialog.getOpenFileName(win, "Use a Model File", win.settings.last_folder(),
                                          "ONNX model (*.onnx)")
    if name:
        win.controller.use_model(name)


def show_model_dialog(win) -> ModelDialog:
    dlg = ModelDialog(win)
    win._model_dialog = dlg
    dlg.open()
    return dlg


def _status(state: ModelState) -> str:
    if state.info.embedded:
        return "built in"
    if state.installed:
        return "installed"
    if state.partial_bytes:
        return f"{state.partial_bytes / state.info.size:.0%} downloaded"
    return "not installed"


class ModelDialog(QDialog):
    """Every catalogue model: what it is good at, its size and licence, installed or not;
    Download (with progress and Cancel), Remove, Use for This Photo."""

    COLUMNS = ("Model", "Good for", "Size", "Licence", "Here")

    def __init__(self, win):
        super().__init__(win)
        self.win = win
        self.setWindowTitle("Segmentation Models")
        self.setMinimumSize(860, 460)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setObjectName("modelTable")
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for c in (0, 2, 3, 4):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.download_button = QPushButton("Download")
        self.download_button.setObjectName("downloadModel")
        self.download_button.clicked.connect(self.download)
        self.cancel_button = QPushButton("Cancel Download")
        self.cancel_button.clicked.connect(self.cancel_download)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove)
        self.use_button = QPushButton("Use for This Photo")
        self.use_button.setObjectName("useModel")
        self.use_button.clicked.connect(self.use)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setVisible(False)
        self.message = QLabel("Nothing is downloaded unless you press Download; the files come "
                              "from rembg's releases (or MATTING_STUDIO_MODEL_MIRROR) and are "
                              "checked against pinned checksums.")
        self.message.setObjectName("modelMessage")
        self.message.setWordWrap(True)
        row = QHBoxLayout()
        for b in (self.download_button, self.cancel_button, self.remove_button, self.use_button):
            row.addWidget(b)
        row.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.table, 1)
        lay.addLayout(row)
        lay.addWidget(self.progress)
        lay.addWidget(self.message)
        lay.addWidget(close)
        self.worker = Worker("download", win.controller.loader.synchronous, self)
        self.worker.progress.connect(self._progress)
        self.worker.finished.connect(self._downloaded)
        self.worker.failed.connect(self._failed)
        self.worker.idle.connect(self._update_buttons)
        self.states: list[ModelState] = []
        self.refresh()

    # ------------------------------------------------------------------ table
    def refresh(self) -> None:
        chosen = self.selected()
        self.states = list_models()
        self.table.setRowCount(len(self.states))
        for r, s in enumerate(self.states):
            licence = s.info.licence.split(" (")[0]  # the whole line is in the tooltip
            values = (s.info.name, s.info.good_for, s.info.size_text, licence, _status(s))
            tips = (s.info.name, s.info.good_for, s.info.size_text, s.info.licence, _status(s))
            for c, (text, tip) in enumerate(zip(values, tips)):
                item = QTableWidgetItem(text)
                item.setToolTip(tip)
                self.table.setItem(r, c, item)
            if chosen is not None and s.info.name == chosen.info.name:
                self.table.selectRow(r)
        self._update_buttons()

    def selected(self) -> ModelState | None:
        rows = {i.row() for i in self.table.selectedItems()}
        return self.states[min(rows)] if rows and self.states else None

    def select(self, name: str) -> None:
        for r, s in enumerate(self.states):
            if s.info.name == name:
                self.table.selectRow(r)

    def _update_buttons(self) -> None:
        s, busy = self.selected(), self.worker.is_busy()
        self.download_button.setEnabled(s is not None and not s.installed and not busy)
        self.cancel_button.setVisible(busy)
        self.remove_button.setEnabled(s is not None and s.installed and not s.info.embedded
                                      and not busy)
        self.use_button.setEnabled(s is not None and s.installed)
        self.progress.setVisible(busy)

    # ------------------------------------------------------------------ actions
    def download(self) -> None:
        s = self.selected()
        if s is None or s.installed:
            return
        from ..core.model_download import download

        name = s.info.name

        def job(ctx):
            def report(done: int, total: int, stage: str) -> None:
                ctx.cancel.check()
                ctx.progress(done / total if total else 0.0, stage)

            return name, download(name, report, ctx.cancel)

        self.message.setText(f"Downloading {name} ({s.info.size_text})…")
        self.worker.submit(job, tag=name)
        self._update_buttons()

    def cancel_download(self) -> None:
        self.worker.cancel()
        self.message.setText("Download cancelled; what was downloaded is kept and the next "
                             "Download resumes from there.")
        self.refresh()

    def _progress(self, rid: int, fraction: float, stage: str) -> None:
        self.progress.setValue(round(fraction * 1000))
        s = self.selected()
        what = "Checking" if stage == "check" else "Downloading"
        if s is not None:
            self.message.setText(f"{what} {s.info.name}: {fraction:.0%} of {s.info.size_text}")

    def _downloaded(self, message: Final) -> None:
        name, path = message.payload
        self.message.setText(f"{name} is installed ({Path(path).parent}). "
                             "“Use for This Photo” runs it on the photo on screen.")
        self.refresh()
        self.select(name)

    def _failed(self, message: Failed) -> None:
        self.message.setText(message.message)
        self.refresh()

    def remove(self) -> None:
        s = self.selected()
        if s is None:
            return
        from ..core.model_download import remove

        try:
            remove(s.info.name)
        except MattingStudioError as e:
            self.message.setText(str(e))
        else:
            self.message.setText(f"{s.info.name} was removed.")
        self.refresh()

    def use(self) -> None:
        s = self.selected()
        if s is not None and s.installed:
            self.win.controller.use_model(None if s.info.embedded else s.info.name)
            self.message.setText(f"Finding the subject with {s.info.name}…")

    def reject(self) -> None:
        if self.worker.is_busy():
            self.worker.cancel()
        super().reject()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if self.worker.is_busy():
            self.worker.cancel()
        super().closeEvent(event)
