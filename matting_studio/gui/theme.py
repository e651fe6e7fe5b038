"""The editor's look: Fusion style + palette + a few style-sheet rules, dark (the default,
photo-friendly) or light. Both schemes share one style sheet filled from a colour table, so a
rule never looks right in one and unreadable in the other."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

SCHEMES = ("dark", "light")

# palette roles and the style sheet's own colours, per scheme
COLORS = {
    "dark": {
        "window": "#2d2d30", "base": "#252528", "text": "#e4e4e4", "button": "#37393d",
        "tooltip": "#3c3c40", "highlight": "#3d7ec8", "highlighted_text": "#ffffff",
        "link": "#6fa8dc", "disabled": "#787878", "mid": "#3c3f44", "header": "#33363b",
        "hint": "#9aa0a6", "steps_bg": "#2b3a4a", "steps_border": "#3d5a78",
        "checked_bg": "#3d5a78", "checked_border": "#6fa8dc", "ok_fg": "#5fd38d",
        "stale_fg": "#ffb347",
    },
    "light": {
        "window": "#efeff1", "base": "#ffffff", "text": "#1f1f22", "button": "#e2e3e6",
        "tooltip": "#ffffe1", "highlight": "#2f6fba", "highlighted_text": "#ffffff",
        "link": "#1f5fa8", "disabled": "#9a9a9a", "mid": "#c4c7cc", "header": "#e2e4e8",
        "hint": "#5f6368", "steps_bg": "#e3eef9", "steps_border": "#9cbfe3",
        "checked_bg": "#cfe2f7", "checked_border": "#2f6fba", "ok_fg": "#1e7d44",
        "stale_fg": "#a35a00",
    },
}

STYLE_TEMPLATE = """
QFrame#viewPanel {{ border: 1px solid {mid}; border-radius: 4px; background: {window}; }}
QWidget#viewHeader {{ background: {header}; border-bottom: 1px solid {mid}; }}
QLabel#viewHint {{ color: {hint}; }}
QLabel#viewBadge {{ border-radius: 8px; padding: 1px 8px; font-weight: bold; }}
QLabel#viewBadge[kind="ok"] {{ background: #1f6f3d; color: #e8ffe8; }}
QLabel#viewBadge[kind="stale"] {{ background: #b86e00; color: #fff5e0; }}
QLabel#alphaState[kind="ok"] {{ color: {ok_fg}; }}
QLabel#alphaState[kind="stale"] {{ color: {stale_fg}; font-weight: bold; }}
QLabel#steps {{ background: {steps_bg}; border: 1px solid {steps_border}; border-radius: 4px;
               padding: 6px; }}
QLabel#legend {{ color: {hint}; }}
QGroupBox {{ font-weight: bold; border: 1px solid {mid}; border-radius: 4px; margin-top: 14px;
            padding-top: 6px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 8px; padding: 0 3px; }}
QToolButton:checked {{ background: {checked_bg}; border: 1px solid {checked_border};
                      border-radius: 3px; }}
QToolButton[sectionHeader="true"], QToolButton[sectionHeader="true"]:checked {{
    background: transparent; border: none; font-weight: bold; padding: 2px 0; }}
QToolButton[sectionHeader="true"]:hover {{ color: {link}; }}
QPushButton#exportButton {{ background: #2f7d4a; color: white; font-weight: bold; padding: 7px;
                           border-radius: 4px; }}
QPushButton#exportButton:disabled {{ background: {button}; color: {disabled}; }}
QWidget#welcome QPushButton {{ padding: 8px; }}
"""


def style_sheet(scheme: str = "dark") -> str:
    return STYLE_TEMPLATE.format(**COLORS[scheme])


STYLE_SHEET = style_sheet("dark")


def palette(scheme: str = "dark") -> QPalette:
    c = {k: QColor(v) for k, v in COLORS[scheme].items()}
    p = QPalette()
    role = QPalette.ColorRole
    for r, key in ((role.Window, "window"), (role.WindowText, "text"), (role.Base, "base"),
                   (role.AlternateBase, "window"), (role.ToolTipBase, "tooltip"),
                   (role.ToolTipText, "text"), (role.Text, "text"), (role.Button, "button"),
                   (role.ButtonText, "text"), (role.Highlight, "highlight"),
                   (role.HighlightedText, "highlighted_text"), (role.Link, "link"),
                   (role.PlaceholderText, "hint")):
        p.setColor(r, c[key])
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, r, c["disabled"])
    return p


def apply_theme(app: QApplication, scheme: str = "dark") -> None:
    """Fusion with the ``scheme`` palette ("dark" or "light") and its style sheet."""
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}")
    app.setStyle("Fusion")
    app.setPalette(palette(scheme))
    app.setStyleSheet(style_sheet(scheme))
