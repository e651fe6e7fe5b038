"""The format options of an export (file format, background, product canvas), shared by the
single export dialog and Export All: they make the core's
:class:`~..core.export.ExportOptions`, the one description the command line uses too."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QColorDialog,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QWidget,
)

from ..core import limits
from ..core.canvas import CANVAS_PRESETS
from ..core.export import OUTPUT_FORMATS, ExportOptions

FORMAT_LABELS = {"PNG": "PNG (transparent, lossless)", "TIFF": "TIFF (transparent, 16-bit)",
                 "WEBP": "WebP (transparent, lossless)", "JPEG": "JPEG (on a colour)"}
BACKGROUNDS = (("transparent", "Transparent"), ("white", "White"), ("black", "Black"),
               ("color", "Colour…"))


class ExportOptionsBox(QGroupBox):
    """Format, background and canvas. ``options()`` → ExportOptions; ``suffix()`` the file
    suffix of the chosen format; ``changed`` when anything changes."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Format", parent)
        self.setObjectName("exportOptions")
        self.format_combo = QComboBox()
        self.format_combo.setObjectName("exportFormat")
        for name in OUTPUT_FORMATS:
            self.format_combo.addItem(FORMAT_LABELS.get(name, name), name)
        self.background_combo = QComboBox()
        self.background_combo.setObjectName("exportBackground")
        for key, label in BACKGROUNDS:
            self.background_combo.addItem(label, key)
        self.colour = QColor(255, 255, 255)
        self.colour_button = QPushButton("")
        self.colour_button.setObjectName("exportColour")
        self.colour_button.setToolTip("The background colour")
        self.colour_button.clicked.connect(self._pick_colour)
        self.canvas_combo = QComboBox()
        self.canvas_combo.setObjectName("exportCanvas")
        self.canvas_combo.addItem("Photo size (no canvas)", None)
        for preset in CANVAS_PRESETS.values():
            self.canvas_combo.addItem(preset.label, preset.name)
            self.canvas_combo.setItemData(self.canvas_combo.count() - 1, preset.note,
                                          Qt.ItemDataRole.ToolTipRole)
        self.margin_spin = QDoubleSpinBox()
        self.margin_spin.setObjectName("exportMargin")
        self.margin_spin.setRange(limits.CANVAS_MARGIN.lo, limits.CANVAS_MARGIN.hi)
        self.margin_spin.setDecimals(1)
        self.margin_spin.setSuffix(" % margin")
        self.margin_spin.setToolTip("Free space on each side of the subject, as a share of the "
                                    "canvas")
        form = QFormLayout(self)
        form.addRow("File", self.format_combo)
        row = QHBoxLayout()
        row.addWidget(self.background_combo, 1)
        row.addWidget(self.colour_button)
        form.addRow("Background", row)
        row = QHBoxLayout()
        row.addWidget(self.canvas_combo, 1)
        row.addWidget(self.margin_spin)
        form.addRow("Canvas", row)
        for w in (self.format_combo, self.background_combo, self.canvas_combo):
            w.currentIndexChanged.connect(self._update)
        self.margin_spin.valueChanged.connect(self.changed)
        self._update()

    # ------------------------------------------------------------------ state
    def format(self) -> str:
        return self.format_combo.currentData()

    def suffix(self) -> str:
        return OUTPUT_FORMATS[self.format()].suffixes[0]

    def set_format(self, name: str) -> None:
        i = self.format_combo.findData(name)
        if i >= 0:
            self.format_combo.setCurrentIndex(i)

    def options(self) -> ExportOptions:
        """The chosen options (LimitError for a value out of range, which the spin box
        already prevents)."""
        key = self.background_combo.currentData()
        background = {"transparent": None, "white": (255, 255, 255), "black": (0, 0, 0),
                      "color": (self.colour.red(), self.colour.green(),
                                self.colour.blue())}[key]
        preset = CANVAS_PRESETS.get(self.canvas_combo.currentData() or "")
        canvas = None
        if preset is not None:
            canvas = replace(preset.canvas, margin=self.margin_spin.value())
        return ExportOptions(format=self.format(), background=background, canvas=canvas)

    # ------------------------------------------------------------------ reacting
    def _update(self) -> None:
        fmt = OUTPUT_FORMATS[self.format()]
        if not fmt.alpha and self.background_combo.currentData() == "transparent":
            self.background_combo.setCurrentIndex(1)  # JPEG has no transparency: white
        item = self.background_combo.model().item(0)
        item.setEnabled(fmt.alpha)
        preset = CANVAS_PRESETS.get(self.canvas_combo.currentData() or "")
        self.margin_spin.setEnabled(preset is not None)
        if preset is not None and self.sender() is self.canvas_combo:
            self.margin_spin.setValue(preset.canvas.margin)
            if preset.background is not None and self.background_combo.currentData() == \
                    "transparent":
                self.background_combo.setCurrentIndex(1)
        self.colour_button.setVisible(self.background_combo.currentData() == "color")
        self.colour_button.setStyleSheet(f"background: {self.colour.name()}; min-width: 2em;")
        self.changed.emit()

    def _pick_colour(self) -> None:
        colour = QColorDialog.getColor(self.colour, self, "Background colour")
        if colour.isValid():
            self.colour = colour
            self._update()
