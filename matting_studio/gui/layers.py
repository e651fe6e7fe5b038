"""A view's layer: draws a :class:`~.qimage.PixelSource` at any zoom without full-size pixmaps.

Zoomed out, the layer draws the source's display-size copy (smoothly scaled); zoomed in beyond
it, it converts only the rectangle of full-resolution pixels that is exposed, and keeps that
conversion until the view moves away or the pixels change. A 24 MP photo thus costs its uint8
arrays (shared with the core and the other views) plus a few display-size images, not five
32-bit copies of itself.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QRect, QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem

from .qimage import PixelSource

CACHE_MARGIN = 0.25
"""A converted full-resolution rectangle is this much larger than the exposed one on each side,
so small pans reuse it."""


class Layer(QGraphicsItem):
    """One layer of a view (the base image or a tint over it)."""

    def __init__(self, parent: QGraphicsItem | None = None):
        super().__init__(parent)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self.source: PixelSource | None = None
        self._cache: tuple[QRect, QImage] | None = None

    # ------------------------------------------------------------------ content
    def set_source(self, source: PixelSource | None) -> None:
        if source is not None and self.source is not None and \
                source.image_size == self.source.image_size:
            self.source, self._cache = source, None
            self.update()
            return
        self.prepareGeometryChange()
        self.source, self._cache = source, None
        self.update()

    def has_source(self) -> bool:
        return self.source is not None

    def pixels_changed(self, y0: int, y1: int, x0: int, x1: int) -> None:
        """The source's arrays changed inside the rectangle (image pixels): repaint it."""
        if self.source is None:
            return
        self.source.update(y0, y1, x0, x1)
        if self._cache is not None and self._cache[0].intersects(QRect(x0, y0, x1 - x0,
                                                                      y1 - y0)):
            self._cache = None
        self.update(QRectF(x0, y0, x1 - x0, y1 - y0))

    # ------------------------------------------------------------------ QGraphicsItem
    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        if self.source is None:
            return QRectF()
        w, h = self.source.image_size
        return QRectF(0, 0, w, h)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        s = self.source
        if s is None:
            return
        scale = math.hypot(painter.worldTransform().m11(), painter.worldTransform().m12())
        if not s.full_resolution or scale <= s.display_scale * 1.0001:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform,
                                  scale < s.display_scale)
            painter.drawImage(self.boundingRect(), s.display, QRectF(s.display_rect()))
            return
        w, h = s.image_size
        exposed = option.exposedRect.intersected(QRectF(0, 0, w, h))
        if exposed.isEmpty():
            return
        need = exposed.toAlignedRect()
        if self._cache is None or not self._cache[0].contains(need):
            mx, my = int(need.width() * CACHE_MARGIN), int(need.height() * CACHE_MARGIN)
            area = need.adjusted(-mx, -my, mx, my).intersected(QRect(0, 0, w, h))
            self._cache = (area, s.region(area.top(), area.bottom() + 1, area.left(),
                                          area.right() + 1))
        area, image = self._cache
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(QRectF(area), image)
