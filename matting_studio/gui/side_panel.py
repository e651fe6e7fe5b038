"""The right-hand panel: quick steps, brush, trimap, overlay and preview controls, export.

The controls scroll (a laptop's 720 px leave less height than they need) while Export and Copy
stay pinned below them; the quick steps fold away. No control may be narrower than its text:
the panel's minimum width follows its contents (font, style, scaling), so nothing is elided.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core import limits
from ..core.edges import EdgeParams
from ..core.pipeline import PipelineSettings
from ..core.trimap import TrimapParams
from ..core.trimap_presets import TRIMAP_PRESETS
from .brush_tool import MAX_SIZE, MIN_SIZE
from .qimage import MODE_COLORS

# (mode, label as in the toolbar, key, tooltip)
BRUSHES = (("foreground", "Subject", "F", "Paint over parts of the subject the cutout missed"),
           ("background", "Background", "B", "Paint over background the cutout kept"),
           ("unknown", "Unsure", "U",
            "Paint over hair, fur and fuzzy or see-through edges: matting decides there"))
BACKGROUND_LABELS = (("checkerboard", "Checkerboard"), ("white", "White"), ("black", "Black"),
                     ("color", "Colour…"))


STEPS = (
    "<b>1.</b> Open a photo (or drop it on the window).<br>"
    "<b>2.</b> Where the cutout is wrong, paint <span style='color:#2ecc40'><b>green</b></span> "
    "over parts of the subject, <span style='color:#e63946'><b>red</b></span> over background, "
    "<span style='color:#ffc828'><b>yellow</b></span> over hair and fuzzy edges.<br>"
    "<b>3.</b> Export the cut-out (Ctrl+E); a whole shoot with Export All."
)


def brush_icon(mode: str, size: int = 18) -> QIcon:
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QColor(20, 20, 20))
    p.setBrush(MODE_COLORS[mode])
    p.drawEllipse(1, 1, size - 2, size - 2)
    p.end()
    return QIcon(pm)


def _form(parent: QWidget) -> QFormLayout:
    """A form whose fields take the width left by the labels (no field clipped at its minimum)."""
    form = QFormLayout(parent)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
    return form


def color_icon(color: QColor, size: int = 14) -> QIcon:
    pm = QPixmap(size, size)
    pm.fill(color)
    return QIcon(pm)


class Section(QWidget):
    """A titled part of the panel whose body folds away under its header button."""

    toggled = Signal(bool)  # expanded

    def __init__(self, title: str, body: QWidget, name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.body = body
        self.header = QToolButton()
        self.header.setObjectName(f"{name}Header")
        self.header.setProperty("sectionHeader", True)  # styled as a heading (theme.py)
        self.header.setText(title)
        self.header.setCheckable(True)
        self.header.setChecked(True)
        self.header.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.header.setArrowType(Qt.ArrowType.DownArrow)
        self.header.setAutoRaise(True)
        self.header.setToolTip(f"Show or hide the {title.lower()}")
        self.header.toggled.connect(self.set_expanded)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.header)
        lay.addWidget(body)

    def is_expanded(self) -> bool:
        return self.header.isChecked()

    def set_expanded(self, on: bool) -> None:
        self.header.setChecked(on)  # no-op (and no signal) when it already is
        self.header.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        if self.body.isVisibleTo(self) != on:
            self.body.setVisible(on)
            self.toggled.emit(on)


EDGE_CONTROLS = (
    ("smooth", "Smooth", limits.EDGE_SMOOTH, " px", 1.0,
     "Round off jagged outlines up to about this size"),
    ("feather", "Feather", limits.EDGE_FEATHER, " px", 0.5,
     "Soften the edge: blur the matte over this distance"),
    ("contrast", "Contrast", limits.EDGE_CONTRAST, " %", 5.0,
     "Harden soft edges (100 %: a hard edge)"),
    ("shift", "Shift edge", limits.EDGE_SHIFT, " px", 1.0,
     "Move the edge outwards (grow the subject) or inwards (negative)"),
)
"""The edge adjustments (as in Select and Mask) and their limits, one row each."""


class SidePanel(QWidget):
    """Controls only: every change is re-emitted as a signal for the window to wire.

    ``steps_section.toggled(bool)`` tells when the user folds the quick steps away (to remember
    it); ``set_steps_expanded`` restores it.
    """

    brushSizeChanged = Signal(int)
    trimapParamsChanged = Signal(object)  # TrimapParams
    trimapPresetChanged = Signal(str)
    resetRequested = Signal()
    overlayVisibleChanged = Signal(bool)
    overlayOpacityChanged = Signal(int)
    previewBackgroundChanged = Signal(str)
    edgesChanged = Signal(object)  # EdgeParams
    exportRequested = Signal()
    copyRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("sidePanel")
        content = QWidget()
        content.setObjectName("sidePanelContent")
        lay = QVBoxLayout(content)
        lay.setContentsMargins(8, 4, 8, 8)

        steps = QLabel(STEPS)
        steps.setObjectName("steps")
        steps.setWordWrap(True)
        steps.setTextFormat(Qt.TextFormat.RichText)
        self.steps_section = Section("Quick steps", steps, "steps")
        lay.addWidget(self.steps_section)

        # Brush ---------------------------------------------------------------
        brush = QGroupBox("Brush")
        grid = QGridLayout(brush)
        self.brush_buttons: dict[str, QToolButton] = {}
        for col, (mode, label, key, tip) in enumerate(BRUSHES):
            b = QToolButton()
            b.setObjectName(f"brush_{mode}")
            b.setText(f"{label}\n({key})")
            b.setToolTip(f"{tip} ({key})")
            b.setIcon(brush_icon(mode, 22))
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            b.setCheckable(True)
            b.setAutoExclusive(True)
            # never narrower than its label (a squeezed tool button elides: "Back…und")
            b.setSizePolicy(QSizePolicy.Policy.MinimumExpanding, QSizePolicy.Policy.Preferred)
            grid.addWidget(b, 0, col)
            self.brush_buttons[mode] = b
        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setObjectName("brushSize")
        self.size_slider.setRange(MIN_SIZE, 200)
        self.size_slider.setMinimumWidth(60)
        self.size_spin = QSpinBox()
        self.size_spin.setObjectName("brushSizeValue")
        self.size_spin.setRange(MIN_SIZE, MAX_SIZE)
        self.size_spin.setSuffix(" px")
        for w in (self.size_slider, self.size_spin):
            w.setToolTip("Brush diameter on screen, as the cursor shows it: the same at every "
                         "zoom and on every photo ([ and ] change it)")
        self.size_slider.valueChanged.connect(self._slider_moved)
        self.size_spin.valueChanged.connect(self._spin_changed)
        size_label = QLabel("Size  [ ]")
        size_label.setToolTip("Brush size; [ and ] make it smaller and bigger")
        grid.addWidget(size_label, 1, 0)
        row = QHBoxLayout()
        row.addWidget(self.size_slider, 1)
        row.addWidget(self.size_spin)
        grid.addLayout(row, 1, 1, 1, 2)
        lay.addWidget(brush)

        # Trimap ----------------------------------------------------------------
        tri = QGroupBox("Automatic trimap")
        form = _form(tri)
        self.method_combo = QComboBox()
        self.method_combo.setObjectName("trimapMethod")
        self.method_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for preset in TRIMAP_PRESETS.values():
            self.method_combo.addItem(preset.label, preset.name)
        self.method_combo.setToolTip(
            "How the unknown (grey) band around the subject is drawn.\n"
            + "\n".join(f"{p.label}: {p.help}." for p in TRIMAP_PRESETS.values())
            + "\n(Changing the kernel size or iterations switches to Classic.)")
        self.method_combo.activated.connect(
            lambda i: self.trimapPresetChanged.emit(self.method_combo.itemData(i)))
        form.addRow("Method", self.method_combo)
        self.kernel_spin = QSpinBox()
        self.kernel_spin.setObjectName("kernelSize")
        self.kernel_spin.setRange(int(limits.KERNEL_SIZE.lo), int(limits.KERNEL_SIZE.hi))
        self.kernel_spin.setToolTip("Size of the erode / dilate kernel that sets the width of the "
                                    "unknown (grey) band around the subject")
        self.iter_spin = QSpinBox()
        self.iter_spin.setObjectName("iterations")
        self.iter_spin.setRange(int(limits.ITERATIONS.lo), int(limits.ITERATIONS.hi))
        self.iter_spin.setToolTip("How many times the kernel is applied (0 = hard edge)")
        form.addRow("Kernel size", self.kernel_spin)
        form.addRow("Iterations", self.iter_spin)
        self.set_trimap_params(TrimapParams())
        self.kernel_spin.valueChanged.connect(self._params_changed)
        self.iter_spin.valueChanged.connect(self._params_changed)
        self.reset_button = QPushButton("Reset to automatic trimap")
        self.reset_button.setObjectName("resetTrimap")
        self.reset_button.setToolTip("Remove every stroke (undoable)")
        self.reset_button.clicked.connect(self.resetRequested)
        form.addRow(self.reset_button)
        self.overlay_check = QCheckBox("Show trimap on the photo  (O)")
        self.overlay_check.setObjectName("overlayVisible")
        self.overlay_check.toggled.connect(self.overlayVisibleChanged)
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setObjectName("overlayOpacity")
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setMinimumWidth(60)
        self.opacity_slider.valueChanged.connect(self.overlayOpacityChanged)
        form.addRow(self.overlay_check)
        form.addRow("Overlay opacity", self.opacity_slider)
        lay.addWidget(tri)

        # Edges -----------------------------------------------------------------
        edges = QGroupBox("Edges")
        el = _form(edges)
        self.edge_spins: dict[str, QDoubleSpinBox] = {}
        for name, label, limit, suffix, step, tip in EDGE_CONTROLS:
            spin = QDoubleSpinBox()
            spin.setObjectName(f"edge_{name}")
            spin.setRange(limit.lo, limit.hi)
            spin.setDecimals(0 if limit.integer else 1)
            spin.setSingleStep(step)
            spin.setSuffix(suffix)
            spin.setKeyboardTracking(False)  # one change per value typed, not per digit
            spin.setToolTip(tip)
            spin.valueChanged.connect(self._edges_changed)
            el.addRow(label, spin)
            self.edge_spins[name] = spin
        self.edges_reset = QPushButton("Reset edges")
        self.edges_reset.setObjectName("resetEdges")
        self.edges_reset.setToolTip("Back to the matte as solved (undoable)")
        self.edges_reset.clicked.connect(lambda: self.edgesChanged.emit(EdgeParams()))
        el.addRow(self.edges_reset)
        lay.addWidget(edges)

        # Preview ---------------------------------------------------------------
        prev = QGroupBox("Cutout preview")
        pl = _form(prev)
        self.bg_combo = QComboBox()
        self.bg_combo.setObjectName("previewBackground")
        self.bg_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for key, label in BACKGROUND_LABELS:
            self.bg_combo.addItem(label, key)
        self.bg_combo.activated.connect(
            lambda i: self.previewBackgroundChanged.emit(self.bg_combo.itemData(i)))
        pl.addRow("Background", self.bg_combo)
        lay.addWidget(prev)
        lay.addStretch(1)

        legend = QLabel(
            "<small>Trimap: <b>white</b> = subject, <b>black</b> = background, "
            "<b>grey</b> = unknown (solved by matting).<br>"
            "Wheel: zoom · middle-drag or Space+drag: pan</small>")
        legend.setWordWrap(True)
        legend.setObjectName("legend")
        lay.addWidget(legend)

        self.scroll = QScrollArea()
        self.scroll.setObjectName("sidePanelScroll")
        self.scroll.setWidget(content)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.content = content

        # Export (pinned below the scrolling controls: the main action never scrolls away) ----
        self.export_button = QPushButton("Export…")
        self.export_button.setObjectName("exportButton")
        self.export_button.setToolTip("Save the cutout, the alpha matte or the trimap (Ctrl+E)")
        self.export_button.clicked.connect(self.exportRequested)
        self.copy_button = QPushButton("Copy cutout")
        self.copy_button.setObjectName("copyButton")
        self.copy_button.setToolTip("Copy the cutout to the clipboard (Ctrl+Shift+C)")
        self.copy_button.clicked.connect(self.copyRequested)
        footer = QWidget()
        footer.setObjectName("sidePanelFooter")
        fl = QVBoxLayout(footer)
        fl.setContentsMargins(8, 6, 8 + self._scrollbar_extent(), 8)
        fl.addWidget(self.export_button)
        fl.addWidget(self.copy_button)
        self.footer = footer

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self.scroll, 1)
        outer.addWidget(footer)
        self._fit_width()

    # ------------------------------------------------------------------ sizing
    def _scrollbar_extent(self) -> int:
        return self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, self)

    def _fit_width(self) -> None:
        """Wide enough for every control's text with the vertical scroll bar shown."""
        need = max(self.content.minimumSizeHint().width() + self._scrollbar_extent(),
                   self.footer.minimumSizeHint().width())
        self.scroll.setMinimumWidth(need)

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit_width()

    def event(self, e) -> bool:
        # a style sheet or font applied to the application after construction changes the
        # sizes of every child: refit when the panel is polished (shown) again
        if e.type() == QEvent.Type.Polish:
            self._fit_width()
        return super().event(e)

    def set_steps_expanded(self, on: bool) -> None:
        self.steps_section.set_expanded(on)

    # ------------------------------------------------------------------ setters (no signals)
    def set_brush_mode(self, mode: str) -> None:
        self.brush_buttons[mode].setChecked(True)

    def set_brush_size(self, size: int) -> None:
        for w in (self.size_slider, self.size_spin):
            w.blockSignals(True)
            w.setValue(size)
            w.blockSignals(False)

    def set_trimap_params(self, params: TrimapParams) -> None:
        for w, v in ((self.kernel_spin, params.kernel_size), (self.iter_spin, params.iterations)):
            w.blockSignals(True)
            w.setValue(v)
            w.blockSignals(False)

    def set_overlay(self, visible: bool, opacity: int) -> None:
        self.overlay_check.setChecked(visible)
        self.opacity_slider.setValue(opacity)

    def set_preview_background(self, key: str) -> None:
        i = self.bg_combo.findData(key)
        if i >= 0:
            self.bg_combo.setCurrentIndex(i)

    def set_edges(self, params: EdgeParams) -> None:
        for name, spin in self.edge_spins.items():
            spin.blockSignals(True)
            spin.setValue(float(getattr(params, name)))
            spin.blockSignals(False)

    def edges(self) -> EdgeParams:
        return EdgeParams(**{name: (int(spin.value()) if name == "shift" else spin.value())
                             for name, spin in self.edge_spins.items()})

    def _edges_changed(self) -> None:
        self.edgesChanged.emit(self.edges())

    def set_trimap_settings(self, settings: PipelineSettings) -> None:
        self.set_trimap_params(settings.trimap)
        i = self.method_combo.findData(settings.trimap_preset)
        if i >= 0:
            self.method_combo.setCurrentIndex(i)
        self.set_edges(settings.edges)

    def trimap_params(self) -> TrimapParams:
        return TrimapParams(kernel_size=self.kernel_spin.value(), iterations=self.iter_spin.value())

    # ------------------------------------------------------------------ internals
    def _slider_moved(self, v: int) -> None:
        self.size_spin.blockSignals(True)
        self.size_spin.setValue(v)
        self.size_spin.blockSignals(False)
        self.brushSizeChanged.emit(v)

    def _spin_changed(self, v: int) -> None:
        self.size_slider.blockSignals(True)
        self.size_slider.setValue(v)
        self.size_slider.blockSignals(False)
        self.brushSizeChanged.emit(v)

    def _params_changed(self) -> None:
        self.trimapParamsChanged.emit(self.trimap_params())
