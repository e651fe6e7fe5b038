"""The trimap brush: turns mouse drags in any view into core :class:`Stroke` objects."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem

from ..core.trimap import STROKE_VALUES, Stroke
from .image_views import ImageView, ViewSync
from .qimage import MODE_COLORS

log = logging.getLogger(__name__)

MIN_SIZE, MAX_SIZE = 2, 400
"""Brush diameters in screen pixels."""
MODES = tuple(STROKE_VALUES)  # foreground, background, unknown


def image_point(scene_pos: QPointF) -> tuple[float, float]:
    """Scene position → core stroke coordinates (pixel centres at integers)."""
    return scene_pos.x() - 0.5, scene_pos.y() - 0.5


class BrushTool(QObject):
    """Current brush (mode + size) and the stroke being painted.

    ``size`` is the brush diameter in *screen* pixels: the brush looks the same on every photo
    and at every zoom, as the cursor shows it. A stroke is recorded in image pixels (its radius
    is ``size / 2`` divided by the zoom when it starts), so it stays where it was painted.
    """

    modeChanged = Signal(str)
    sizeChanged = Signal(int)
    strokeFinished = Signal(object)  # core Stroke

    def __init__(self, sync: ViewSync, size: int = 24, mode: str = "foreground", parent=None):
        super().__init__(parent)
        self.sync = sync
        self._mode = mode
        self._size = int(min(max(size, MIN_SIZE), MAX_SIZE))
        self.enabled = True
        self._points: list[tuple[float, float]] = []
        self._items: list[QGraphicsPathItem] = []
        self._cursor: QPointF | None = None
        self._stroke_radius = 0.0
        for v in sync.views:
            v.tool = self
            v.cursorMoved.connect(self._cursor_moved)
        sync.zoomChanged.connect(lambda _s: self.sync.show_cursor(self._cursor, self.radius))

    # ------------------------------------------------------------------ state
    @property
    def mode(self) -> str:
        return self._mode

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(mode)
        if mode != self._mode:
            self._mode = mode
            self.modeChanged.emit(mode)

    @property
    def size(self) -> int:
        return self._size

    @property
    def radius(self) -> float:
        """The brush radius in image pixels at the current zoom."""
        return self._size / 2.0 / max(self.sync.scale, 1e-6)

    def set_size(self, size: int) -> None:
        size = int(min(max(round(float(size)), MIN_SIZE), MAX_SIZE))
        if size != self._size:
            self._size = size
            self.sizeChanged.emit(size)
            self.sync.show_cursor(self._cursor, self.radius)

    def grow(self) -> None:
        self.set_size(max(self._size + 1, round(self._size * 1.25)))

    def shrink(self) -> None:
        self.set_size(min(self._size - 1, round(self._size / 1.25)))

    def is_painting(self) -> bool:
        return bool(self._items)

    # ------------------------------------------------------------------ view callbacks
    def _cursor_moved(self, pos: QPointF | None) -> None:
        self._cursor = pos
        self.sync.show_cursor(pos, self.radius)

    def press(self, view: ImageView, pos: QPointF) -> None:
        if not self.enabled:
            return
        self._points = [image_point(pos)]
        self._stroke_radius = self.radius
        color = QColor(MODE_COLORS[self._mode])
        color.setAlpha(170)
        pen = QPen(color, 2.0 * self._stroke_radius, Qt.PenStyle.SolidLine,
                   Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
        self._items = []
        for v in self.sync.views:
            item = QGraphicsPathItem()
            item.setPen(pen)
            item.setZValue(5)
            v.scene().addItem(item)
            self._items.append(item)
        self._update_preview()

    def move(self, view: ImageView, pos: QPointF) -> None:
        if not self._items:
            return
        p = image_point(pos)
        last = self._points[-1]
        if (p[0] - last[0]) ** 2 + (p[1] - last[1]) ** 2 >= 0.25:
            self._points.append(p)
            self._update_preview()

    def release(self, view: ImageView, pos: QPointF) -> None:
        if not self._items:
            return
        p = image_point(pos)
        if p != self._points[-1]:
            self._points.append(p)
        points, self._points = tuple(self._points), []
        self.cancel()
        stroke = Stroke(self._mode, self._stroke_radius, points)
        log.debug("stroke %s r=%.1f, %d points", stroke.mode, stroke.radius, len(points))
        self.strokeFinished.emit(stroke)

    def cancel(self) -> None:
        """Drop the stroke in progress (its preview disappears)."""
        for item in self._items:
            if item.scene() is not None:
                item.scene().removeItem(item)
        self._items = []

    def _update_preview(self) -> None:
        path = QPainterPath()
        x, y = self._points[0]
        path.moveTo(x + 0.5, y + 0.5)
        if len(self._points) == 1:
            path.lineTo(x + 0.5001, y + 0.5)  # a dot: a zero-length round-capped line
        for x, y in self._points[1:]:
            path.lineTo(x + 0.5, y + 0.5)
        for item in self._items:
            item.setPath(path)
