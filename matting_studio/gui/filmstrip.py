"""The filmstrip: every photo of the shoot as a thumbnail with its state, in shoot order or
"likely needs a fix" first, with several selectable for Export Selected."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.shoot import Shoot, ShootPhoto
from .image_views import checker_brush
from .qimage import to_qimage

ICON = QSize(112, 84)
STATE_STYLE = {
    "automatic": ("auto", QColor(120, 130, 140)),
    "edited": ("edited", QColor(52, 120, 246)),
    "exported": ("exported ✓", QColor(46, 160, 67)),
    "failed": ("failed", QColor(218, 54, 51)),
}
SORTS = (("order", "Shoot order"), ("quality", "Likely needs a fix first"))


def quality_text(photo: ShootPhoto) -> str:
    """How likely the cut-out is wrong, in words ("≈ 4 % may be wrong")."""
    q = photo.quality
    if q is None:
        return "not estimated yet"
    return f"≈ {q * 100:.1f} % may be wrong" if q < 0.1 else f"≈ {q * 100:.0f} % may be wrong"


def photo_icon(photo: ShootPhoto) -> QIcon:
    """The thumbnail on a checkerboard, with the state as a coloured band at the bottom."""
    pm = QPixmap(ICON)
    pm.fill(QColor(60, 60, 64))
    p = QPainter(pm)
    thumb = photo.prepared.thumbnail if photo.prepared is not None else None
    if thumb is not None:
        img = to_qimage(thumb).scaled(ICON, Qt.AspectRatioMode.KeepAspectRatio,
                                      Qt.TransformationMode.SmoothTransformation)
        x, y = (ICON.width() - img.width()) // 2, (ICON.height() - img.height()) // 2
        p.fillRect(x, y, img.width(), img.height(), checker_brush(6))
        p.drawImage(x, y, img)
    label, color = STATE_STYLE.get(photo.state, STATE_STYLE["automatic"])
    p.fillRect(0, ICON.height() - 16, ICON.width(), 16, QBrush(color))
    p.setPen(QColor(255, 255, 255))
    font = QFont(p.font())
    font.setPointSizeF(max(font.pointSizeF() * 0.8, 6.5))
    p.setFont(font)
    p.drawText(4, ICON.height() - 16, ICON.width() - 8, 16,
               Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, label)
    if photo.quality is not None:
        p.drawText(4, ICON.height() - 16, ICON.width() - 8, 16,
                   Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                   f"{photo.quality * 100:.0f} %")
    p.end()
    return QIcon(pm)


class Filmstrip(QWidget):
    """Signals: photoActivated(index) — the user picked a photo; sortChanged(key)."""

    photoActivated = Signal(int)
    sortChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("filmstrip")
        self.list = QListWidget()
        self.list.setObjectName("filmstripList")
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setFlow(QListWidget.Flow.LeftToRight)
        self.list.setWrapping(False)
        self.list.setMovement(QListWidget.Movement.Static)
        self.list.setIconSize(ICON)
        self.list.setGridSize(QSize(ICON.width() + 16, ICON.height() + 34))
        self.list.setUniformItemSizes(True)
        self.list.setWordWrap(False)
        self.list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setFixedHeight(ICON.height() + 56)
        self.list.itemClicked.connect(lambda item: self.photoActivated.emit(self._index(item)))
        self.list.itemActivated.connect(lambda item: self.photoActivated.emit(self._index(item)))
        self.sort_combo = QComboBox()
        self.sort_combo.setObjectName("filmstripSort")
        for key, label in SORTS:
            self.sort_combo.addItem(label, key)
        self.sort_combo.setToolTip("Order of the photos: as added, or the photos whose "
                                   "cut-out most likely needs a fix first")
        self.sort_combo.currentIndexChanged.connect(
            lambda _i: self.sortChanged.emit(self.sort_key()))
        self.summary = QLabel("")
        self.summary.setObjectName("filmstripSummary")
        top = QHBoxLayout()
        top.setContentsMargins(6, 2, 6, 0)
        top.addWidget(QLabel("Sort:"))
        top.addWidget(self.sort_combo)
        top.addStretch(1)
        top.addWidget(self.summary)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(top)
        lay.addWidget(self.list)
        self._order: list[int] = []

    # ------------------------------------------------------------------ state
    def sort_key(self) -> str:
        return self.sort_combo.currentData() or "order"

    def order(self) -> list[int]:
        """Photo indices in the order shown."""
        return list(self._order)

    def selected(self) -> list[int]:
        """Indices of the selected photos, in the order shown."""
        rows = sorted(self.list.row(i) for i in self.list.selectedItems())
        return [self._order[r] for r in rows]

    @staticmethod
    def _index(item: QListWidgetItem) -> int:
        return int(item.data(Qt.ItemDataRole.UserRole))

    # ------------------------------------------------------------------ filling
    def rebuild(self, shoot: Shoot) -> None:
        """Show every photo of ``shoot`` in the chosen order."""
        self._order = shoot.by_quality() if self.sort_key() == "quality" else \
            list(range(len(shoot)))
        self.list.blockSignals(True)
        self.list.clear()
        for i in self._order:
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, i)
            self._fill(item, shoot.photos[i])
            self.list.addItem(item)
        self.list.blockSignals(False)
        self.set_current(shoot.current)
        self._summarise(shoot)

    def refresh(self, shoot: Shoot, index: int) -> None:
        """Photo ``index`` changed (state, thumbnail, quality)."""
        if index in self._order:
            self._fill(self.list.item(self._order.index(index)), shoot.photos[index])
        self._summarise(shoot)

    def set_current(self, index: int) -> None:
        if index in self._order:
            item = self.list.item(self._order.index(index))
            self.list.blockSignals(True)
            self.list.setCurrentItem(item)
            self.list.blockSignals(False)
            self.list.scrollToItem(item)

    def _fill(self, item: QListWidgetItem, photo: ShootPhoto) -> None:
        item.setIcon(photo_icon(photo))
        item.setText(photo.name)
        tip = f"{photo.path}\n{STATE_STYLE.get(photo.state, ('', None))[0]} · " \
              f"{quality_text(photo)}"
        if photo.error:
            tip += f"\n{photo.error}"
        item.setToolTip(tip)

    def _summarise(self, shoot: Shoot) -> None:
        n = len(shoot)
        counts = {s: sum(p.state == s for p in shoot.photos) for s in STATE_STYLE}
        parts = [f"{n} photo{'s' if n != 1 else ''}"]
        parts += [f"{counts[s]} {STATE_STYLE[s][0].rstrip(' ✓')}" for s in
                  ("edited", "exported", "failed") if counts[s]]
        self.summary.setText(" · ".join(parts))
