"""Help ▸ Keyboard Shortcuts and Help ▸ About."""

from __future__ import annotations

from html import escape

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QMessageBox, QVBoxLayout, QWidget

from .. import __version__

MOUSE = (
    ("Left-drag", "Paint with the current brush (in any view)"),
    ("Mouse wheel", "Zoom around the pointer (all views together)"),
    ("Middle-drag or Space + drag", "Pan"),
    ("Esc while dragging", "Drop the stroke being painted"),
    ("Drop a file on the window", "Open it"),
)


def shortcuts_html(actions) -> str:
    rows = []
    for a in actions:
        keys = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in a.shortcuts())
        rows.append((keys, (a.property("helpText") or a.text()).replace("&", "")))
    rows += MOUSE
    body = "".join(f"<tr><td><b>{escape(k)}</b></td><td>&nbsp;&nbsp;{escape(v)}</td></tr>"
                   for k, v in rows)
    return f"<table cellspacing='4'>{body}</table>"


class ShortcutsDialog(QDialog):
    def __init__(self, parent: QWidget | None, actions):
        super().__init__(parent)
        self.setWindowTitle("Keyboard Shortcuts")
        lay = QVBoxLayout(self)
        self.label = QLabel(shortcuts_html(actions))
        lay.addWidget(self.label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)


def show_shortcuts(parent: QWidget, actions) -> ShortcutsDialog:
    dlg = ShortcutsDialog(parent, actions)
    dlg.open()
    parent._shortcuts_dialog = dlg
    return dlg


def show_about(parent: QWidget) -> None:
    QMessageBox.about(
        parent, "About Matting Studio",
        f"<h3>Matting Studio {escape(__version__)}</h3>"
        "<p>Turns a photo into a clean cutout: a salient-object model finds the subject, "
        "a trimap marks sure subject / background / unknown, and alpha matting solves the "
        "soft edges. Everything runs on this computer.</p>")
