"""The export dialog: what to write (cutout / alpha / trimap) and where.

Layout, top to bottom: "What to export" (one card per kind, the chosen one outlined and tinted in
the palette's highlight colour), any option groups (``add_group``: format, background, canvas),
"Save as" (path + Browse…), the error line and the buttons. Enter anywhere but on Browse… and
Cancel exports.
"""

from __future__ import annotations

import logging
import os
import sys
import sysconfig
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QEvent, QStandardPaths, Qt
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFrame,
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

from ..core.export import OUTPUT_SUFFIXES, ExportOptions
from ..core.io import same_file
from .export_options import ExportOptionsBox

log = logging.getLogger(__name__)

# (kind, title, what it is)
KINDS = (
    ("cutout", "Cutout", "The photo with a transparent background (or on a colour)"),
    ("alpha", "Alpha matte", "Greyscale PNG: white = subject, black = background"),
    ("trimap", "Trimap", "Greyscale PNG: white subject, grey unknown, black background"),
)


@dataclass(frozen=True)
class ExportChoice:
    kind: str
    path: Path
    options: ExportOptions = ExportOptions()


def ask_overwrite(parent: QWidget, path: Path) -> bool:
    answer = QMessageBox.question(
        parent, "Replace file?",
        f"“{path.name}” already exists in {path.parent}.\nDo you want to replace it?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Cancel)
    return answer == QMessageBox.StandardButton.Yes


# ---------------------------------------------------------------------------- where to propose
def _app_folders() -> list[Path]:
    """Folders that belong to the installation: the package, its bundled resources,
    site-packages, a PyInstaller bundle."""
    import matting_studio

    folders = [Path(matting_studio.__file__).resolve().parent]
    try:
        from ..resources_path import APP_ICON, resource_path

        folders.append(resource_path(APP_ICON).resolve().parent)
    except FileNotFoundError:
        pass
    for key in ("purelib", "platlib"):
        folders.append(Path(sysconfig.get_paths()[key]).resolve())
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        folders.append(Path(bundle).resolve())
    return folders


def is_app_folder(folder: Path) -> bool:
    folder = folder.resolve()
    return any(folder == f or f in folder.parents for f in _app_folders())


def user_pictures_folder() -> Path:
    """The user's Pictures folder when it exists and is writable, else their home folder."""
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
    if location:
        pictures = Path(location)
        if pictures.is_dir() and os.access(pictures, os.W_OK):
            return pictures
    return Path.home()


def export_folder(folder: Path) -> tuple[Path, str | None]:
    """Where to propose saving next to ``folder`` (the photo's): ``folder`` itself, or the
    user's Pictures folder when ``folder`` is part of the installation (the bundled sample),
    read-only or gone; with the reason to show, or None."""
    if is_app_folder(folder):
        why = "The photo ships with Matting Studio"
    elif not folder.is_dir():
        why = f"{folder} no longer exists"
    elif not os.access(folder, os.W_OK):
        why = f"{folder} is read-only"
    else:
        return folder, None
    target = user_pictures_folder()
    return target, f"{why}; proposing {target} instead."


# ---------------------------------------------------------------------------- the dialog
class KindCard(QFrame):
    """One export kind: a radio button with its title and a line saying what it is.

    Clicking anywhere on the card chooses it; the chosen card is outlined and tinted in the
    palette's highlight colour and its title is bold, so it stands out in light and dark."""

    def __init__(self, kind: str, title: str, text: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(f"card_{kind}")
        self.setProperty("exportKind", True)
        self.radio = QRadioButton(title)
        self.radio.setObjectName(f"kind_{kind}")
        self.description = QLabel(text)
        self.description.setObjectName(f"kindText_{kind}")
        self.description.setWordWrap(True)
        style = self.radio.style()
        self.description.setIndent(  # under the radio button's text
            style.pixelMetric(style.PixelMetric.PM_ExclusiveIndicatorWidth, None, self.radio)
            + style.pixelMetric(style.PixelMetric.PM_RadioButtonLabelSpacing, None, self.radio))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 6)
        lay.setSpacing(1)
        lay.addWidget(self.radio)
        lay.addWidget(self.description)
        self.radio.toggled.connect(self._update)
        self._update(False)

    def mousePressEvent(self, event) -> None:
        self.radio.setChecked(True)
        self.radio.setFocus(Qt.FocusReason.MouseFocusReason)
        super().mousePressEvent(event)

    def _update(self, on: bool) -> None:
        self.setProperty("selected", on)
        font = QFont(self.radio.font())
        font.setBold(on)
        self.radio.setFont(font)
        self.style().unpolish(self)
        self.style().polish(self)


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    """``a`` moved a share ``t`` of the way towards ``b``."""
    return QColor.fromRgbF(*(x + (y - x) * t for x, y in zip(a.getRgbF()[:3], b.getRgbF()[:3])))


def _luminance(c: QColor) -> float:
    def lin(v: float) -> float:
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4
    return 0.2126 * lin(c.redF()) + 0.7152 * lin(c.greenF()) + 0.0722 * lin(c.blueF())


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two colours (1 … 21)."""
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def card_style(palette: QPalette) -> str:
    """Style of the kind cards from ``palette``: a faint outline for all; for the chosen one a
    2 px outline in the highlight colour (lifted towards the text colour until it stands out
    4.5:1 against the window) and a highlight tint."""
    hl = palette.color(QPalette.ColorRole.Highlight)
    window = palette.color(QPalette.ColorRole.Window)
    text = palette.color(QPalette.ColorRole.WindowText)
    chosen = hl
    for step in range(1, 6):
        if contrast_ratio(chosen, window) >= 4.5:
            break
        chosen = _mix(hl, text, 0.12 * step)
    tint = _mix(window, hl, 0.28)
    outline = _mix(window, text, 0.2)
    return (f"QFrame[exportKind=\"true\"] {{ border: 1px solid {outline.name()}; "
            "border-radius: 5px; margin: 1px; }\n"
            f"QFrame[exportKind=\"true\"][selected=\"true\"] {{ border: 2px solid "
            f"{chosen.name()}; background: {tint.name()}; margin: 0px; }}")


class ExportDialog(QDialog):
    """Pick the export kind and file. ``choice()`` is valid after ``accept()``.

    ``default_paths`` maps each kind to its default file (``<stem>_cutout.png`` …); a default
    inside the installation or a read-only folder is moved to the user's Pictures folder.
    ``original`` is the source photo, which can never be chosen; ``confirm_overwrite(path)``
    asks before replacing an existing file (tests pass a stub). ``add_group(box)`` inserts an
    option group between the kinds and the file.
    """

    def __init__(self, default_paths: dict[str, Path], original: Path | None,
                 kind: str = "cutout", parent: QWidget | None = None,
                 confirm_overwrite: Callable[[QWidget, Path], bool] = ask_overwrite):
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.setMinimumWidth(560)
        self.original = original
        self.confirm_overwrite = confirm_overwrite
        self._edited = False
        self._sized = False
        self._choice: ExportChoice | None = None
        self.default_paths, notes = self._writable_defaults(default_paths)
        self.options_box = ExportOptionsBox()
        self.options_box.changed.connect(self._format_changed)

        self.kind_box = QGroupBox("What to export")
        bl = QVBoxLayout(self.kind_box)
        bl.setSpacing(4)
        self.group = QButtonGroup(self)
        self.cards: dict[str, KindCard] = {}
        self.radios: dict[str, QRadioButton] = {}
        for k, title, text in KINDS:
            card = KindCard(k, title, text)
            self.group.addButton(card.radio)
            self.cards[k] = card
            self.radios[k] = card.radio
            bl.addWidget(card)
            card.radio.toggled.connect(lambda on, k=k: on and self._kind_changed(k))

        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("exportPath")
        self.path_edit.textEdited.connect(self._path_edited)
        self.browse_button = QPushButton("Browse…")
        self.browse_button.setObjectName("browseButton")
        self.browse_button.clicked.connect(self._browse)
        self._file_dialog: QFileDialog | None = None
        self.file_box = QGroupBox("Save as")
        fl = QVBoxLayout(self.file_box)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(self.browse_button)
        fl.addLayout(row)
        self.note = QLabel(" ".join(dict.fromkeys(notes)))
        self.note.setObjectName("exportNote")
        self.note.setWordWrap(True)
        self.note.setVisible(bool(notes))
        fl.addWidget(self.note)

        self.error = QLabel("")
        self.error.setObjectName("exportError")
        self.error.setStyleSheet("color: #e5534b;")
        self.error.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = self.buttons.addButton("Export",
                                                    QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        self.body = QVBoxLayout(self)
        self.body.addWidget(self.kind_box)
        self.body.addWidget(self.file_box)
        self.body.addWidget(self.error)
        self.body.addWidget(self.buttons)
        # Only a button already inside the dialog becomes its default (set earlier, the first
        # auto-default button, Browse…, took Enter in the file field).
        self.export_button.setDefault(True)
        self.add_group(self.options_box)
        self._restyle()
        self.radios.get(kind, self.radios["cutout"]).setChecked(True)
        self._kind_changed(self.kind())
        self.path_edit.setFocus()

    @staticmethod
    def _writable_defaults(paths: dict[str, Path]) -> tuple[dict[str, Path], list[str]]:
        out, notes = {}, []
        for k, p in paths.items():
            if p is None:
                continue
            p = Path(p)
            folder, why = export_folder(p.parent)
            out[k] = folder / p.name
            if why:
                notes.append(why)
        return out, notes

    def add_group(self, box: QWidget) -> None:
        """Insert an option group (format, background …) above "Save as"."""
        self.body.insertWidget(self.body.indexOf(self.file_box), box)

    # ------------------------------------------------------------------ look
    def _restyle(self) -> None:
        self.kind_box.setStyleSheet(card_style(self.palette()))

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._restyle()

    def showEvent(self, event) -> None:
        # the size hint wraps the descriptions at a narrower width than the dialog's minimum,
        # which would leave a gap above the buttons: as high as the content at its real width
        if not self._sized:
            self._sized = True
            width = max(self.width(), self.minimumWidth())
            self.resize(width, max(self.heightForWidth(width), self.minimumSizeHint().height()))
        super().showEvent(event)

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

    def suffix(self) -> str:
        """The file suffix the chosen options write (added when the name has another)."""
        return self.options_box.suffix() if self.kind() == "cutout" else ".png"

    def _format_changed(self) -> None:
        """Another format: the file name follows (its extension), whatever typed before it."""
        text = self.path_edit.text().strip()
        p = Path(text)
        if text and p.suffix.lower() in OUTPUT_SUFFIXES and p.suffix.lower() != self.suffix():
            self.path_edit.setText(str(p.with_suffix(self.suffix())))

    def path(self) -> Path:
        text = self.path_edit.text().strip()
        p = Path(text).expanduser()
        if text and p.suffix.lower() != self.suffix():
            p = p.with_name(p.name + self.suffix())
        return p

    def choice(self) -> ExportChoice | None:
        return self._choice

    def _path_edited(self, _text: str) -> None:
        self._edited = True
        self.error.clear()

    def _kind_changed(self, kind: str) -> None:
        self.options_box.setVisible(kind == "cutout")
        if not self._edited and kind in self.default_paths:
            self.path_edit.setText(str(self.default_paths[kind]))
        self._format_changed()

    def _browse(self) -> None:
        current = self.path()
        dlg = QFileDialog(self, "Export", str(current), f"Image (*{self.suffix()})")
        dlg.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dlg.setDefaultSuffix(self.suffix().lstrip("."))
        dlg.selectFile(str(current))
        dlg.fileSelected.connect(self.set_path)
        self._file_dialog = dlg
        dlg.open()

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
        if not os.access(p.parent, os.W_OK):
            return f"The folder {p.parent} is read-only; choose another one."
        if is_app_folder(p.parent):
            return "That folder belongs to the Matting Studio installation; choose another one."
        return None

    def accept(self) -> None:
        problem = self.validate()
        if problem:
            self.error.setText(problem)
            return
        p = self.path()
        if p.exists() and not self.confirm_overwrite(self, p):
            return
        options = self.options_box.options() if self.kind() == "cutout" else ExportOptions()
        self._choice = ExportChoice(self.kind(), p, options)
        super().accept()
