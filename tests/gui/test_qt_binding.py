"""The Qt binding must not corrupt Python's reference counts (PySide6 6.12.0 on Python < 3.12 does)."""

import sys

import pytest

pytestmark = pytest.mark.gui


def test_void_qt_calls_keep_none_alive(qtbot):
    from PySide6.QtGui import QImage, QPixmap
    from PySide6.QtWidgets import QGraphicsPixmapItem, QLabel

    label = QLabel()
    qtbot.addWidget(label)
    item = QGraphicsPixmapItem()
    pixmap = QPixmap(4, 4)
    image = QImage(4, 4, QImage.Format.Format_Indexed8)
    calls = [lambda: label.setText("x"), lambda: item.setPixmap(pixmap),
             lambda: image.setColorTable([0] * 256), lambda: label.setVisible(False)]
    before = sys.getrefcount(None)
    for call in calls:
        for _ in range(200):
            call()
    lost = before - sys.getrefcount(None)
    # a correct binding loses nothing (allow noise from the interpreter itself)
    assert lost < 100, f"{lost} references to None lost in 800 Qt calls: broken PySide6 build"
