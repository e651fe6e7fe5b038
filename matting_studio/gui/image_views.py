"""Image views with synchronised zoom and pan, a brush cursor and titled panels.

Scene coordinates are image pixel coordinates: pixel (row i, column j) covers the square
[j, j+1) × [i, i+1) of the scene, so every view shows the same image geometry. Each view draws
:class:`~.layers.Layer` items (a base image and tints over it) from shared pixel sources.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QFrame,
    QGraphicsEllipseItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from .layers import Layer
from .qimage import PixelSource

log = logging.getLogger(__name__)

MIN_SCALE, MAX_SCALE = 0.02, 32.0
WHEEL_STEP = 1.25


def checker_brush(cell: int = 8) -> QBrush:
    pm = QPixmap(2 * cell, 2 * cell)
    pm.fill(QColor(250, 250, 250))
    p = QPainter(pm)
    p.fillRect(0, 0, cell, cell, QColor(204, 204, 204))
    p.fillRect(cell, cell, cell, cell, QColor(204, 204, 204))
    p.end()
    return QBrush(pm)


class ImageView(QGraphicsView):
    """One view: a photo-sized scene with a base image, an optional overlay and a brush cursor."""

    cursorMoved = Signal(object)  # QPointF in scene coordinates, or None when the mouse left

    def __init__(self, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = title
        self.setObjectName(f"view_{title.lower().replace(' ', '_')}")
        self.sync: ViewSync | None = None
        self.tool = None  # object with press/move/release(view, scene_pos)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setDragMode(QGraphicsView.DragMode.NoDrag)
        self.setMouseTracking(True)
        self.setAcceptDrops(False)  # file drops go to the main window
        self.viewport().setAcceptDrops(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setBackgroundBrush(QColor(45, 45, 48))
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.backdrop = QGraphicsRectItem()
        self.backdrop.setPen(Qt.PenStyle.NoPen)
        self.backdrop.setVisible(False)
        self.backdrop.setZValue(-1)
        self.base = Layer()
        self.overlay = Layer()
        self.overlay.setZValue(1)
        self.overlay.setVisible(False)
        self.marks = Layer()
        """A second tint: the "check here" regions of a photo's quality estimate."""
        self.marks.setZValue(2)
        self.marks.setVisible(False)
        self.cursor_outer = QGraphicsEllipseItem()
        self.cursor_inner = QGraphicsEllipseItem()
        pen = QPen(QColor(0, 0, 0, 200), 2.5)
        pen.setCosmetic(True)
        self.cursor_outer.setPen(pen)
        pen = QPen(QColor(255, 255, 255), 1.2)
        pen.setCosmetic(True)
        self.cursor_inner.setPen(pen)
        for z, item in enumerate((self.cursor_outer, self.cursor_inner)):
            item.setZValue(10 + z)
            item.setVisible(False)
        for item in (self.backdrop, self.base, self.overlay, self.marks, self.cursor_outer,
                     self.cursor_inner):
            self.scene().addItem(item)
        self._pan_from: QPointF | None = None
        self._space = False
        self._painting = False
        self.horizontalScrollBar().valueChanged.connect(self._scrolled)
        self.verticalScrollBar().valueChanged.connect(self._scrolled)

    # ------------------------------------------------------------------ content
    def set_source(self, source: PixelSource | None) -> None:
        """The view's image (None: empty). The scene takes the photo's size."""
        self.base.set_source(source)
        if source is None:
            self.backdrop.setVisible(False)
            return
        rect = QRectF(0, 0, *source.image_size)
        self.backdrop.setRect(rect)
        self.scene().setSceneRect(rect)

    def set_backdrop(self, brush: QBrush | None) -> None:
        self.backdrop.setVisible(brush is not None)
        if brush is not None:
            self.backdrop.setBrush(brush)

    def has_image(self) -> bool:
        return self.base.has_source()

    def image_size(self) -> tuple[int, int]:
        """(w, h) of the photo shown (0, 0 when empty)."""
        return self.base.source.image_size if self.base.source is not None else (0, 0)

    # ------------------------------------------------------------------ cursor
    def show_cursor(self, pos: QPointF | None, radius: float) -> None:
        visible = pos is not None and radius > 0 and self.has_image()
        for item in (self.cursor_outer, self.cursor_inner):
            item.setVisible(visible)
            if visible:
                item.setRect(QRectF(pos.x() - radius, pos.y() - radius, 2 * radius, 2 * radius))

    # ------------------------------------------------------------------ zoom
    def scale_factor(self) -> float:
        return self.transform().m11()

    def center_scene(self) -> QPointF:
        return self.mapToScene(self.viewport().rect().center())

    def _scrolled(self) -> None:
        if self.sync is not None:
            self.sync.view_scrolled(self)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.sync is not None:
            self.sync.view_resized(self)

    def wheelEvent(self, event) -> None:
        if self.sync is None or not self.has_image():
            return super().wheelEvent(event)
        steps = event.angleDelta().y() / 120.0
        if steps == 0:
            return
        self.sync.zoom_at(self, WHEEL_STEP ** steps, event.position())
        event.accept()

    # ------------------------------------------------------------------ mouse
    def _to_image(self, pos: QPointF) -> QPointF:
        """Viewport position (sub-pixel) → scene = image coordinates."""
        inverse, _ok = self.viewportTransform().inverted()
        return inverse.map(QPointF(pos))

    def mousePressEvent(self, event) -> None:
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self._space):
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        if button == Qt.MouseButton.LeftButton and self.tool is not None and self.has_image():
            self._painting = True
            self.tool.press(self, self._to_image(event.position()))
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        pos = event.position()
        if self._pan_from is not None:
            delta = pos - self._pan_from
            self._pan_from = pos
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - round(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - round(delta.y()))
            event.accept()
            return
        scene_pos = self._to_image(pos)
        self.cursorMoved.emit(scene_pos)
        if self._painting and self.tool is not None:
            self.tool.move(self, scene_pos)
        event.accept()

    def mouseReleaseEvent(self, event) -> None:
        if self._pan_from is not None and event.button() in (Qt.MouseButton.MiddleButton,
                                                             Qt.MouseButton.LeftButton):
            self._pan_from = None
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor if self._space
                                      else Qt.CursorShape.CrossCursor)
            event.accept()
            return
        if self._painting and event.button() == Qt.MouseButton.LeftButton:
            self._painting = False
            if self.tool is not None:
                self.tool.release(self, self._to_image(event.position()))
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def enterEvent(self, event) -> None:
        self.viewport().setCursor(Qt.CursorShape.CrossCursor)
        focus = QApplication.focusWidget()
        if not isinstance(focus, (QAbstractSpinBox, QLineEdit)):
            self.setFocus()  # so Space (pan) and Esc (drop stroke) reach this view
        super().enterEvent(event)

    def leaveEvent(self, event) -> None:
        self.cursorMoved.emit(None)
        super().leaveEvent(event)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape and self._painting:
            self._painting = False
            if self.tool is not None:
                self.tool.cancel()  # the stroke in progress is dropped
            event.accept()
            return
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self._pan_from = None
            self.viewport().setCursor(Qt.CursorShape.CrossCursor)
            event.accept()
            return
        super().keyReleaseEvent(event)

    def event(self, event) -> bool:
        # Space is ours (hold to pan), not a shortcut of some button.
        if event.type() == QEvent.Type.ShortcutOverride and event.key() == Qt.Key.Key_Space:
            event.accept()
            return True
        return super().event(event)


class ViewSync(QObject):
    """Keeps zoom and the visible centre identical across views; 'fit' follows resizes."""

    zoomChanged = Signal(float)

    def __init__(self, views: list[ImageView], parent=None):
        super().__init__(parent)
        self.views = list(views)
        self.fit_mode = True
        self._busy = False
        for v in self.views:
            v.sync = self

    @property
    def scale(self) -> float:
        return self.views[0].scale_factor() if self.views else 1.0

    def _apply(self, scale: float, center: QPointF, source: ImageView | None = None) -> None:
        self._busy = True
        try:
            for v in self.views:
                if v is not source:
                    v.resetTransform()
                    v.scale(scale, scale)
                    v.centerOn(center)
        finally:
            self._busy = False
        self.zoomChanged.emit(scale)

    def set_scale(self, scale: float, center: QPointF | None = None) -> None:
        if not self.views:
            return
        scale = min(max(scale, MIN_SCALE), MAX_SCALE)
        self.fit_mode = False
        self._apply(scale, center if center is not None else self.views[0].center_scene())

    def zoom_at(self, view: ImageView, factor: float, viewport_pos: QPointF) -> None:
        """Zoom by ``factor`` keeping the scene point under ``viewport_pos`` of ``view`` in place."""
        old = view.scale_factor()
        new = min(max(old * factor, MIN_SCALE), MAX_SCALE)
        if new == old:
            return
        self.fit_mode = False
        anchor = view.mapToScene(viewport_pos.toPoint())
        self._busy = True
        try:
            view.resetTransform()
            view.scale(new, new)
            moved = view.mapFromScene(anchor)
            d = moved - viewport_pos.toPoint()
            view.horizontalScrollBar().setValue(view.horizontalScrollBar().value() + d.x())
            view.verticalScrollBar().setValue(view.verticalScrollBar().value() + d.y())
        finally:
            self._busy = False
        self._apply(new, view.center_scene(), source=view)

    def zoom_by(self, factor: float) -> None:
        if self.views:
            v = self.views[0]
            self.zoom_at(v, factor, QPointF(v.viewport().rect().center()))

    def actual_size(self) -> None:
        self.set_scale(1.0)

    def fit(self) -> None:
        shown = [v for v in self.views if v.has_image() and v.isVisible()] or \
                [v for v in self.views if v.has_image()]
        if not shown:
            return
        w, h = shown[0].image_size()
        scale = min(min((v.viewport().width() - 4) / w, (v.viewport().height() - 4) / h)
                    for v in shown)
        scale = min(max(scale, MIN_SCALE), MAX_SCALE)
        self._apply(scale, QPointF(w / 2, h / 2))
        self.fit_mode = True

    def view_resized(self, view: ImageView) -> None:
        if self._busy:
            return
        if self.fit_mode:
            self.fit()

    def view_scrolled(self, view: ImageView) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            center = view.center_scene()
            for v in self.views:
                if v is not view:
                    v.centerOn(center)
        finally:
            self._busy = False

    def show_cursor(self, pos: QPointF | None, radius: float) -> None:
        for v in self.views:
            v.show_cursor(pos, radius)

    def zoom_percent(self) -> int:
        return round(self.scale * 100)


class ViewPanel(QFrame):
    """A titled frame around one :class:`ImageView` with a status badge on the right."""

    def __init__(self, view: ImageView, hint: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.view = view
        self.setObjectName("viewPanel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        header = QWidget()
        header.setObjectName("viewHeader")
        hl = QHBoxLayout(header)
        hl.setContentsMargins(8, 3, 8, 3)
        self.title = QLabel(f"<b>{view.title}</b>")
        self.hint = QLabel(hint)
        self.hint.setObjectName("viewHint")
        self.hint.setToolTip(hint)
        # a secondary line: it gives way (cut at the right) before the window grows
        self.hint.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.hint.setMinimumWidth(0)
        self.badge = QLabel("")
        self.badge.setObjectName("viewBadge")
        self.badge.setVisible(False)
        hl.addWidget(self.title)
        hl.addWidget(self.hint)
        hl.addStretch(1)
        hl.addWidget(self.badge)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(header)
        lay.addWidget(view, 1)

    def set_badge(self, text: str, kind: str = "info") -> None:
        self.badge.setText(text)
        self.badge.setProperty("kind", kind)
        self.badge.style().unpolish(self.badge)
        self.badge.style().polish(self.badge)
        self.badge.setVisible(bool(text))

