"""No stroke lost, no hang, no silent failure: every route that used to drop work, through the
real (offscreen) window."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from gui_helpers import make_window, open_and_wait, paint, wait_alpha
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from matting_studio.core.trimap import Stroke

pytestmark = pytest.mark.gui

STROKE = Stroke("background", 5.0, ((20.0, 60.0), (40.0, 62.0)))


def _edited(qtbot, win, photo):
    open_and_wait(qtbot, win, photo)
    win.controller.add_stroke(STROKE)
    wait_alpha(qtbot, win)
    return win.controller.shoot.photos[win.controller.shoot.index_of(photo)]


def _back_to(qtbot, win, photo):
    c = win.controller
    c.go_to(c.shoot.index_of(photo))
    qtbot.waitUntil(lambda: c.doc is not None and c.doc.path == photo, timeout=90_000)
    return c.doc


def _drop(win, path):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    pos = QPointF(win.width() / 2, win.height() / 2)
    enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(win, enter)
    QApplication.sendEvent(win, QDropEvent(pos, Qt.DropAction.CopyAction, mime,
                                           Qt.MouseButton.NoButton,
                                           Qt.KeyboardModifier.NoModifier))


@pytest.mark.parametrize("route", ["ctrl_o", "drop", "recent", "command_line"])
def test_opening_another_photo_by_any_route_keeps_the_strokes(qtbot, app_settings, photo,
                                                              photo160, data, monkeypatch,
                                                              route):
    """Another photo joins the shoot: the edited one keeps its strokes (and its undo), and
    the autosave holds them; nothing needs asking."""
    win = make_window(qtbot, app_settings)
    if route == "recent":  # the photo must be in Open Recent first
        open_and_wait(qtbot, win, photo160)
    edited = _edited(qtbot, win, photo)
    if route == "ctrl_o":
        monkeypatch.setattr(QFileDialog, "getOpenFileNames",
                            lambda *a, **k: ([str(photo160)], ""))
        win.actions_["open"].trigger()
    elif route == "drop":
        _drop(win, photo160)
    elif route == "recent":
        win.recent_menu.aboutToShow.emit()
        [a for a in win.recent_menu.actions() if a.text() == photo160.name][0].trigger()
    else:
        win.open_path(photo160)
    qtbot.waitUntil(lambda: win.controller.doc is not None
                    and win.controller.doc.path == photo160, timeout=90_000)
    assert win.recovery.ask.asked == []
    assert edited.strokes == (STROKE,) and edited.state == "edited"
    win.recovery.autosave_now()
    saved = json.loads(win.recovery.autosaver.path.read_text(encoding="utf-8"))
    entry = [p for p in saved["photos"] if p["source"]["path"] == str(photo)][0]
    assert len(entry["strokes"]) == 1
    doc = _back_to(qtbot, win, photo)
    assert doc.strokes == (STROKE,) and win.controller.undo_stack.count() == 1


@pytest.mark.parametrize("answer", ["cancel", "discard", "save"])
def test_opening_a_project_over_unsaved_strokes_asks(qtbot, app_settings, photo, photo160,
                                                     tmp_path, data, answer):
    other = make_window(qtbot, app_settings)
    open_and_wait(qtbot, other, photo160)
    project = other.recovery.save_project(tmp_path / "other.msproj")
    other.close()

    win = make_window(qtbot, app_settings, answers=[answer])
    edited = _edited(qtbot, win, photo)
    saved_to = tmp_path / "mine.msproj"
    win.recovery.choose_file = lambda *a: saved_to
    win.open_path(project)
    (title, text, info, choices), = win.recovery.ask.asked
    assert title == "Unsaved changes" and choices == ("save", "discard", "cancel")
    if answer == "cancel":
        assert win.controller.shoot.photos[0] is edited and edited.strokes == (STROKE,)
        assert not saved_to.exists()
        return
    qtbot.waitUntil(lambda: win.controller.doc is not None
                    and win.controller.doc.path == photo160, timeout=90_000)
    if answer == "save":
        kept = json.loads(saved_to.read_text(encoding="utf-8"))
        assert len(kept["photos"][0]["strokes"]) == 1
    else:
        assert not saved_to.exists()


def test_no_painting_while_the_photo_on_screen_loads(qtbot, app_settings, photo, photo160,
                                                     data, monkeypatch):
    """While the next photo loads, its view says so and takes no stroke; the photo that was
    on screen keeps its own."""
    from matting_studio.gui import editor

    win = make_window(qtbot, app_settings)
    edited = _edited(qtbot, win, photo)
    gate = threading.Event()
    real = editor.open_job

    def slow_open(*args):
        gate.wait(30)
        return real(*args)

    monkeypatch.setattr(editor, "open_job", slow_open)
    win.open_path(photo160)
    assert win.controller.doc is None and not win.brush.enabled
    assert "loading" in win.panels["photo"].badge.text()
    win.sync.fit()
    paint(win.photo_view, [(30, 30), (50, 40)])
    gate.set()
    qtbot.waitUntil(lambda: win.controller.doc is not None
                    and win.controller.doc.path == photo160, timeout=90_000)
    assert win.controller.doc.strokes == ()  # nothing was painted on a photo not shown
    assert edited.strokes == (STROKE,)
    assert win.brush.enabled and win.panels["photo"].badge.text() == ""


def test_autosave_keeps_up_with_painting_without_pause(qtbot, app_settings, photo, data):
    """A stroke about every 0.15 s for 2.5 s: autosaves happen while painting (a maximum
    delay, not only a debounce), so at most that delay's worth of work is ever at risk."""
    win = make_window(qtbot, app_settings)
    keeper = win.recovery
    keeper._timer.setInterval(400)
    keeper.max_delay_ms = 900
    open_and_wait(qtbot, win, photo)
    saves = []
    real = keeper.autosaver.save

    def record(project):
        saves.append((time.monotonic(), sum(len(p.strokes) for p in project.photos)))
        return real(project)

    keeper.autosaver.save = record
    start = time.monotonic()
    for i in range(16):
        win.controller.add_stroke(Stroke("unknown", 2.0, ((10.0 + i, 10.0),)))
        qtbot.wait(150)
    assert len(saves) >= 2, saves  # a debounce alone would not have saved once by now
    assert saves[0][0] - start < 1.5
    gaps = np.diff([start] + [t for t, _ in saves])
    assert gaps.max() < 1.6, gaps
    qtbot.waitUntil(lambda: saves and saves[-1][1] == 16, timeout=5_000)


def test_a_failing_autosave_is_shown_and_told_once(qtbot, app_settings, photo, tmp_path,
                                                   monkeypatch):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    monkeypatch.setenv("MATTING_STUDIO_DATA_DIR", str(blocker))
    win = make_window(qtbot, app_settings)
    open_and_wait(qtbot, win, photo)
    for i in range(3):
        win.controller.add_stroke(Stroke("unknown", 2.0, ((10.0 + i, 10.0),)))
        assert not win.recovery.autosave_now()
    assert win.autosave_label.isVisible() and "Not autosaved" in win.autosave_label.text()
    told = [a for a in win.recovery.ask.asked if a[0] == "Autosave is not working"]
    assert len(told) == 1 and "autosave failed" in told[0][2]
    assert told[0][2].count("autosave failed") == 1
    # the disk is fine again: the warning goes away
    fixed = tmp_path / "fixed"
    keeper = win.recovery
    keeper.autosaver.dir = fixed / "autosave"
    keeper.autosaver.path = keeper.autosaver.dir / "x.msproj"
    keeper.autosaver.lock_path = keeper.autosaver.dir / "x.lock"
    win.controller.add_stroke(Stroke("unknown", 2.0, ((30.0, 10.0),)))
    assert keeper.autosave_now()
    assert not win.autosave_label.isVisible()


def test_a_moved_photo_is_kept_and_located_by_its_content(qtbot, app_settings, photo,
                                                          tmp_path, data):
    win = make_window(qtbot, app_settings)
    _edited(qtbot, win, photo)
    project = win.recovery.save_project(tmp_path / "projects" / "edit.msproj") \
        if (tmp_path / "projects").mkdir() is None else None
    win.close()
    hidden = tmp_path / "elsewhere" / "renamed.png"
    hidden.parent.mkdir()
    shutil.move(photo, hidden)  # out of reach of the automatic search

    win2 = make_window(qtbot, app_settings, answers=["cancel"])
    win2.open_path(project)
    c = win2.controller
    p = c.shoot.photos[0]
    assert p.state == "failed" and "cannot be found" in p.error and p.strokes == (STROKE,)
    assert "Locate Photo" in win2.status_label.text()
    # another photo is refused unless the user agrees
    impostor = tmp_path / "impostor.png"
    Image.new("RGB", (128, 128), (10, 200, 30)).save(impostor)
    win2.recovery.choose_file = lambda *a: impostor
    assert not win2.recovery.locate_current()
    assert "is not the photo" in win2.recovery.ask.asked[-1][1]
    # the right one, wherever and however named: loaded with its strokes
    win2.recovery.choose_file = lambda *a: hidden
    assert win2.recovery.locate_current()
    qtbot.waitUntil(lambda: c.doc is not None and c.doc.path == hidden, timeout=90_000)
    assert c.doc.strokes == (STROKE,)
    wait_alpha(qtbot, win2)


def test_save_project_as_the_photos_name_never_touches_the_photo(qtbot, app_settings, photo,
                                                                 data):
    win = make_window(qtbot, app_settings)
    _edited(qtbot, win, photo)
    before = photo.read_bytes()
    win.recovery.choose_file = lambda *a: Path(photo)  # the user typed the photo's own name
    saved = win.recovery.save_project_interactive(save_as=True)
    assert saved == photo.with_name(photo.name + ".msproj") and saved.is_file()
    assert photo.read_bytes() == before
    assert win.recovery.ask.asked == []  # no "replace?" about the photo


def test_quit_with_unsaved_strokes_asks(qtbot, app_settings, photo, data):
    win = make_window(qtbot, app_settings, answers=["cancel", "discard"])
    _edited(qtbot, win, photo)
    win.close()
    assert win.isVisible()
    win.close()
    assert not win.isVisible()
    assert [a[0] for a in win.recovery.ask.asked] == ["Unsaved changes"] * 2
