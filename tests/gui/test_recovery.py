"""Autosave → crash → restore, the close guard and projects, on a real (offscreen) window."""

from __future__ import annotations

from pathlib import Path

import pytest
from gui_helpers import make_window, open_and_wait

pytestmark = pytest.mark.gui

def _strokes():
    from matting_studio.core.trimap import Stroke

    return [Stroke("foreground", 5.0, ((60.0, 60.0), (70.0, 64.0))),
            Stroke("background", 8.0, ((5.0, 5.0), (5.0, 120.0))),
            Stroke("unknown", 3.0, ((64.0, 20.0),))]


class Answers:
    """Scripted answers for SessionKeeper.ask; records the questions."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.asked = []

    def __call__(self, title, text, info, choices):
        self.asked.append((title, text, info, choices))
        return self.answers.pop(0)


def _window(qtbot, app_settings, data_dir):
    from matting_studio.gui.recovery import install

    win = make_window(qtbot, app_settings, synchronous=True)
    keeper = install(win, data_dir=data_dir, offer=False)
    return win, keeper


def test_autosave_crash_restore_and_close_guard(qtbot, app_settings, photo, tmp_path):
    from matting_studio.core.autosave import list_recoverable
    from matting_studio.gui.recovery import CANCEL, DISCARD, RESTORE

    data = tmp_path / "data"
    win, keeper = _window(qtbot, app_settings, data)
    open_and_wait(qtbot, win, photo)
    assert not keeper.has_unsaved_changes()
    c = win.controller
    for s in _strokes():
        c.add_stroke(s)
    c.undo_stack.undo()
    assert keeper.has_unsaved_changes()
    assert keeper.autosave_now()
    assert not keeper.autosave_now()  # nothing new
    assert list_recoverable(data) == []  # the running window's autosave is not offered

    # "Crash": the lock goes away with the process; the window is simply abandoned.
    keeper.autosaver.release()
    keeper.ask = Answers(DISCARD)  # when the test tears the old window down

    win2, keeper2 = _window(qtbot, app_settings, data)
    keeper2.ask = Answers(RESTORE)
    assert keeper2.offer_recovery() == RESTORE
    qtbot.waitUntil(lambda: c2() is not None and list(c2().strokes) == _strokes()[:2],
                    timeout=90_000)
    assert "2 strokes" in keeper2.ask.asked[0][2]
    assert list_recoverable(data) == []  # handed over to the new session
    assert keeper2.has_unsaved_changes()

    # Closing asks first; Cancel keeps the window open, Don't Save closes and cleans up.
    keeper2.ask = Answers(CANCEL)
    win2.close()
    assert win2.isVisible()
    keeper2.ask = Answers(DISCARD)
    win2.close()
    assert not win2.isVisible()
    assert not keeper2.autosaver.path.exists()
    assert list_recoverable(data) == []


def c2():
    from PySide6.QtWidgets import QApplication

    wins = [w for w in QApplication.topLevelWidgets() if hasattr(w, "controller")
            and w.isVisible()]
    return wins[-1].controller.doc if wins else None


def test_save_and_reopen_project(qtbot, app_settings, photo, tmp_path):
    data = tmp_path / "data"
    win, keeper = _window(qtbot, app_settings, data)
    open_and_wait(qtbot, win, photo)
    for s in _strokes():
        win.controller.add_stroke(s)
    target = keeper.save_project(tmp_path / "edit")
    assert target == tmp_path / "edit.msproj" and target.exists()
    assert not keeper.has_unsaved_changes()
    trimap = win.controller.doc.trimap().copy()
    win.close()  # nothing unsaved: closes without asking
    assert not win.isVisible()

    win3, keeper3 = _window(qtbot, app_settings, data)
    assert keeper3.open_project(target) == ""
    qtbot.waitUntil(lambda: win3.controller.doc is not None
                    and len(win3.controller.doc.strokes) == 3, timeout=90_000)
    assert (win3.controller.doc.trimap() == trimap).all()
    assert Path(win3.controller.doc.path) == photo
    assert not keeper3.has_unsaved_changes()
    win3.close()
