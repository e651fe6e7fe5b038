"""A dark, photo-friendly look (Fusion style + palette + a few style-sheet rules)."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

STYLE_SHEET = """
QFrame#viewPanel { border: 1px solid #3c3f44; border-radius: 4px; background: #2d2d30; }
QWidget#viewHeader { background: #33363b; border-bottom: 1px solid #3c3f44; }
QLabel#viewHint { color: #9aa0a6; }
QLabel#viewBadge { border-radius: 8px; padding: 1px 8px; font-weight: bold; }
QLabel#viewBadge[kind="ok"] { background: #1f6f3d; color: #e8ffe8; }
QLabel#viewBadge[kind="stale"] { background: #b86e00; color: #fff5e0; }
QLabel#alphaState[kind="ok"] { color: #5fd38d; }
QLabel#alphaState[kind="stale"] { color: #ffb347; font-weight: bold; }
QLabel#steps { background: #2b3a4a; border: 1px solid #3d5a78; border-radius: 4px; padding: 6px; }
QLabel#legend { color: #9aa0a6; }
QGroupBox { font-weight: bold; border: 1px solid #3c3f44; border-radius: 4px; margin-top: 14px;
            padding-top: 6px; }
QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 3px; }
QToolButton:checked { background: #3d5a78; border: 1px solid #6fa8dc; border-radius: 3px; }
QPushButton#exportButton { background: #2f7d4a; color: white; font-weight: bold; padding: 7px;
                           border-radius: 4px; }
QPushButton#exportButton:disabled { background: #3a3a3a; color: #777; }
QWidget#welcome QPushButton { padding: 8px; }
"""


def apply_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    p = QPalette()
    base, window, text = QColor(37, 37, 40), QColor(45, 45, 48), QColor(228, 228, 228)
    p.setColor(QPalette.ColorRole.Window, window)
    p.setColor(QPalette.ColorRole.WindowText, text)
    p.setColor(QPalette.ColorRole.Base, base)
    p.setColor(QPalette.ColorRole.AlternateBase, window)
    p.setColor(QPalette.ColorRole.ToolTipBase, QColor(60, 60, 64))
    p.setColor(QPalette.ColorRole.ToolTipText, text)
    p.setColor(QPalette.ColorRole.Text, text)
    p.setColor(QPalette.ColorRole.Button, QColor(55, 57, 61))
    p.setColor(QPalette.ColorRole.ButtonText, text)
    p.setColor(QPalette.ColorRole.Highlight, QColor(61, 126, 200))
    p.setColor(QPalette.ColorRole.HighlightedText, QColor(255, 255, 255))
    p.setColor(QPalette.ColorRole.Link, QColor(111, 168, 220))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 120, 120))
    app.setPalette(p)
    app.setStyleSheet(STYLE_SHEET)
