"""Autosave → crash → restore, the close guard and projects, on a real (offscreen) window."""

from __future__ import annotations

from pathlib import Path

import pytest
from gui_helpers import Answers, make_window, open_and_wait

pytestmark = pytest.mark.gui


def _strokes():
    from matting_studio.core.trimap import Stroke

    return [Stroke("foreground", 5.0, ((60.0, 60.0), (70.0, 64.0))),
            Stroke("background", 8.0, ((5.0, 5.0), (5.0, 120.0))),
            Stroke("unknown", 3.0, ((64.0, 20.0),))]


def test_autosave_crash_restore_and_close_guard(qtbot, app_settings, photo, data):
    from matting_studio.core.autosave import list_recoverable
    from matting_studio.gui.recovery import CANCEL, DISCARD, RESTORE

    win = make_window(qtbot, app_settings, synchronous=True)
    keeper = win.recovery
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
    keeper.ask = Answers([DISCARD])  # when the test tears the old window down

    win2 = make_window(qtbot, app_settings, synchronous=True)
    keeper2 = win2.recovery
    keeper2.ask = Answers([RESTORE])
    assert keeper2.offer_recovery() == RESTORE
    # the recovered work is this session's autosave before the old file is gone
    assert keeper2.autosaver.path.exists()
    qtbot.waitUntil(lambda: win2.controller.doc is not None
                    and list(win2.controller.doc.strokes) == _strokes()[:2], timeout=90_000)
    assert "2 strokes" in keeper2.ask.asked[0][2]
    assert list_recoverable(data) == []  # handed over to the new session
    assert keeper2.has_unsaved_changes()

    # Closing asks first; Cancel keeps the window open, Don't Save closes and cleans up.
    keeper2.ask = Answers([CANCEL])
    win2.close()
    assert win2.isVisible()
    keeper2.ask = Answers([DISCARD])
    win2.close()
    assert not win2.isVisible()
    assert not keeper2.autosaver.path.exists()
    assert list_recoverable(data) == []


def test_save_and_reopen_project(qtbot, app_settings, photo, tmp_path, data):
    win = make_window(qtbot, app_settings, synchronous=True)
    keeper = win.recovery
    open_and_wait(qtbot, win, photo)
    for s in _strokes():
        win.controller.add_stroke(s)
    target = keeper.save_project(tmp_path / "edit")
    assert target == tmp_path / "edit.msproj" and target.exists()
    assert not keeper.has_unsaved_changes()
    trimap = win.controller.doc.trimap().copy()
    win.recovery.ask = Answers(["cancel"])  # would keep the window open, if it were asked
    win.close()  # nothing unsaved: closes without asking
    assert not win.isVisible() and win.recovery.ask.asked == []

    win3 = make_window(qtbot, app_settings, synchronous=True)
    assert win3.recovery.open_project(target)
    qtbot.waitUntil(lambda: win3.controller.doc is not None
                    and len(win3.controller.doc.strokes) == 3, timeout=90_000)
    assert (win3.controller.doc.trimap() == trimap).all()
    assert Path(win3.controller.doc.path) == photo
    assert not win3.recovery.has_unsaved_changes()
    win3.close()
