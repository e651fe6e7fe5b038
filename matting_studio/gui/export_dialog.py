"""The export dialog: what to write (cutout / alpha / trimap) and where."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from ..core.io import same_file

log = logging.getLogger(__name__)

KIND_LABELS = (
    ("cutout", "Cutout: the photo with a transparent background (RGBA PNG)"),
    ("alpha", "Alpha matte only (greyscale PNG, white = subject)"),
    ("trimap", "Trimap (greyscale PNG: white / grey / black)"),
)


@dataclass(frozen=True)
class ExportChoice:
    kind: str
    path: Path


def ask_overwrite(parent: QWidget, path: Path) -> bool:
    answer = QMessageBox.question(
        parent, "Replace file?",
        f"“{path.name}” already exists in {path.parent}.\nDo you want to replace it?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Cancel)
    return answer == QMessageBox.StandardButton.Yes


class ExportDialog(QDialog):
    """Pick the export kind and file. ``choice()`` is valid after ``accept()``.

    ``default_paths`` maps each kind to its default file (``<stem>_cutout.png`` …);
    ``original`` is the source photo, which can never be chosen; ``confirm_overwrite(path)``
    asks before replacing an existing file (tests pass a stub).
    """

    def __init__(self, default_paths: dict[str, Path], original: Path | None,
                 kind: str = "cutout", parent: QWidget | None = None,
                 confirm_overwrite: Callable[[QWidget, Path], bool] = ask_overwrite):
        super().__init__(parent)
        self.setWindowTitle("Export PNG")
        self.setMinimumWidth(560)
        self.default_paths = default_paths
        self.original = original
        self.confirm_overwrite = confirm_overwrite
        self._edited = False
        self._choice: ExportChoice | None = None

        box = QGroupBox("What to export")
        bl = QVBoxLayout(box)
        self.group = QButtonGroup(self)
        self.radios: dict[str, QRadioButton] = {}
        for k, label in KIND_LABELS:
            r = QRadioButton(label)
            r.setObjectName(f"kind_{k}")
            self.group.addButton(r)
            self.radios[k] = r
            bl.addWidget(r)
            r.toggled.connect(lambda on, k=k: on and self._kind_changed(k))

        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("exportPath")
        self.path_edit.textEdited.connect(lambda _t: setattr(self, "_edited", True))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)

        self.error = QLabel("")
        self.error.setObjectName("exportError")
        self.error.setStyleSheet("color: #e5534b;")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        lay = QVBoxLayout(self)
        lay.addWidget(box)
        lay.addWidget(QLabel("Save as:"))
        lay.addLayout(row)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self.radios.get(kind, self.radios["cutout"]).setChecked(True)
        self._kind_changed(self.kind())

    # ------------------------------------------------------------------ state
    def kind(self) -> str:
        for k, r in self.radios.items():
            if r.isChecked():
                return k
        return "cutout"

    def set_kind(self, kind: str) -> None:
        self.radios[kind].setChecked(True)

    def set_path(self, path: str | Path) -> None:
        self.path_edit.setText(str(path))
        self._edited = True

    def path(self) -> Path:
        text = self.path_edit.text().strip()
        p = Path(text).expanduser()
        if text and p.suffix.lower() != ".png":
            p = p.with_name(p.name + ".png")
        return p

    def choice(self) -> ExportChoice | None:
        return self._choice

    def _kind_changed(self, kind: str) -> None:
        if not self._edited and kind in self.default_paths:
            self.path_edit.setText(str(self.default_paths[kind]))

    def _browse(self) -> None:
        current = self.path()
        name, _ = QFileDialog.getSaveFileName(self, "Export PNG", str(current), "PNG image (*.png)")
        if name:
            self.set_path(name)

    # ------------------------------------------------------------------ validation
    def validate(self) -> str | None:
        """Problem with the chosen path as a sentence, or None when it is fine."""
        if not self.path_edit.text().strip():
            return "Choose a file name."
        p = self.path()
        if self.original is not None and same_file(p, self.original):
            return "That is the original photo; it is never overwritten. Choose another name."
        if not p.parent.is_dir():
            return f"The folder {p.parent} does not exist."
        if p.is_dir():
            return f"{p} is a folder; add a file name."
        return None

    def accept(self) -> None:
        problem = self.validate()
        if problem:
            self.error.setText(problem)
            return
        p = self.path()
        if p.exists() and not self.confirm_overwrite(self, p):
            return
        self._choice = ExportChoice(self.kind(), p)
        super().accept()
