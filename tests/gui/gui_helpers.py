"""Helpers for GUI tests: a window, waiting for the alpha, simulated painting in image coordinates."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

ALPHA_TIMEOUT_MS = 90_000


def viewport_pos(view, x: float, y: float) -> QPoint:
    """Viewport position of the centre of image pixel (x, y)."""
    return view.mapFromScene(QPointF(x + 0.5, y + 0.5))


def paint(view, points, steps: int = 4) -> None:
    """Press at the first point, drag through the others (with intermediate moves), release."""
    vp = view.viewport()
    pts = [viewport_pos(view, x, y) for x, y in points]
    QTest.mouseMove(vp, pts[0])
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[0])
    for a, b in zip(pts, pts[1:]):
        for i in range(1, steps + 1):
            p = QPoint(round(a.x() + (b.x() - a.x()) * i / steps), round(a.y() + (b.y() - a.y()) * i / steps))
            QTest.mouseMove(vp, p)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[-1])


class Answers:
    """A stand-in for the session keeper's dialogs: answers in turn (then "discard", or the
    last choice offered), and remembers what was asked."""

    def __init__(self, answers=()):
        self.answers = list(answers)
        self.asked: list[tuple] = []

    def __call__(self, title, text, info, choices):
        self.asked.append((title, text, info, choices))
        if self.answers:
            return self.answers.pop(0)
        return "discard" if "discard" in choices else choices[-1]


def make_window(qtbot, app_settings, synchronous=False, **kw):
    from matting_studio.gui.main_window import MainWindow

    win = MainWindow(settings=app_settings, synchronous=synchronous,
                     confirm_overwrite=kw.pop("confirm_overwrite", lambda _parent, _path: True))
    win.recovery.ask = Answers(kw.pop("answers", ()))
    qtbot.addWidget(win)
    win.resize(1100, 760)
    win.show()
    qtbot.waitExposed(win)
    return win


def wait_alpha(qtbot, win, timeout=ALPHA_TIMEOUT_MS):
    """Until the alpha shown was solved for the current trimap and nothing is running."""
    c = win.controller

    def ready():
        assert c.doc is not None
        assert not c.is_busy()
        assert c.alpha_is_current()
        assert win.shown_alpha is c.doc.result.alpha

    qtbot.waitUntil(ready, timeout=timeout)


def open_and_wait(qtbot, win, path, timeout=ALPHA_TIMEOUT_MS):
    win.open_path(path)
    qtbot.waitUntil(lambda: win.controller.doc is not None
                    and Path(win.controller.doc.path) == Path(path), timeout=timeout)
    wait_alpha(qtbot, win, timeout)


def view_pixels(view, layer: str = "base"):
    """The full-resolution pixels of a view's layer as (h, w, 4) uint8 RGBA (straight)."""
    from matting_studio.gui.qimage import qimage_to_array

    source = getattr(view, layer).source
    h, w = source.arrays[0].shape[:2]
    return qimage_to_array(source.region(0, h, 0, w))
