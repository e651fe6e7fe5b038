"""A whole shoot through the real window: open a folder, move around, edits belong to their
photo, save and reopen, export all."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from gui_helpers import make_window, paint, wait_alpha
from PIL import Image

pytestmark = pytest.mark.gui


@pytest.fixture
def shoot_folder(tmp_path, astronaut_small):
    """Four photos (crops of the astronaut) and a file that is not a photo."""
    folder = tmp_path / "shoot"
    folder.mkdir()
    img = (astronaut_small * 255).astype(np.uint8)
    for i, (y, x) in enumerate(((0, 0), (8, 16), (16, 4), (4, 24))):
        crop = cv2.resize(img[y:y + 100, x:x + 100], (96, 96), interpolation=cv2.INTER_AREA)
        Image.fromarray(crop).save(folder / f"shot_{i + 1}.png")
    (folder / "notes.txt").write_text("not a photo")
    return folder


def wait_photo(qtbot, win, index, timeout=90_000):
    c = win.controller

    def ready():
        assert c.shoot.current == index and c.doc is not None
        assert c.doc.path == c.shoot.photos[index].path
    qtbot.waitUntil(ready, timeout=timeout)
    wait_alpha(qtbot, win, timeout)


def _stroke_across_the_subject(win):
    doc = win.controller.doc
    t = doc.trimap()
    ys, xs = np.nonzero(t == 255)
    cy, cx = int(np.median(ys)), int(np.median(xs))
    win.brush.set_mode("background")
    paint(win.photo_view, [(cx - 8, cy), (cx + 8, cy)])
    return cy, cx


def test_a_shoot_through_the_window(qtbot, app_settings, tmp_path, shoot_folder, data,
                                    monkeypatch):
    win = make_window(qtbot, app_settings)
    c = win.controller
    win.open_path(shoot_folder)
    assert [p.name for p in c.shoot.photos] == [f"shot_{i}.png" for i in range(1, 5)]
    assert "skipped 1 file that are not photos" in win.status_label.text()
    assert win.filmstrip.list.count() == 4 and win.filmstrip_dock.isVisible()
    wait_photo(qtbot, win, 0)

    # photo 2: paint a stroke with the mouse
    win.actions_["next_photo"].trigger()
    wait_photo(qtbot, win, 1)
    cy, cx = _stroke_across_the_subject(win)
    assert len(c.doc.strokes) == 1 and c.shoot.photos[1].state == "edited"
    painted = c.doc.trimap().copy()
    assert painted[cy, cx] == 0
    wait_alpha(qtbot, win)

    # photo 3, then back: photo 2 kept its stroke, its trimap and its undo history
    win.actions_["next_photo"].trigger()
    wait_photo(qtbot, win, 2)
    assert not c.shoot.photos[1].doc.loaded  # only the photo on screen holds full pixels
    assert sum(p.doc is not None and p.doc.loaded for p in c.shoot.photos) == 1
    assert c.undo_stack.count() == 0
    win.actions_["previous_photo"].trigger()
    wait_photo(qtbot, win, 1)
    assert len(c.doc.strokes) == 1 and np.array_equal(c.doc.trimap(), painted)
    assert c.undo_stack.count() == 1
    win.actions_["undo"].trigger()
    assert c.doc.strokes == ()
    wait_alpha(qtbot, win)
    win.actions_["redo"].trigger()
    assert len(c.doc.strokes) == 1
    wait_alpha(qtbot, win)

    # the other photos were prepared meanwhile: thumbnails and quality estimates
    qtbot.waitUntil(lambda: all(p.prepared is not None for p in c.shoot.photos),
                    timeout=120_000)
    win.filmstrip.sort_combo.setCurrentIndex(1)  # "likely needs a fix" first
    scores = [c.shoot.photos[i].quality for i in win.filmstrip.order()]
    assert scores == sorted(scores, reverse=True)

    # save the shoot, reopen it in a new window: every photo, photo 2 with its stroke
    project = tmp_path / "shoot.msproj"
    assert win.recovery.save_project(project) == project
    doc = json.loads(project.read_text(encoding="utf-8"))
    assert doc["format_version"] == 2 and len(doc["photos"]) == 4
    assert [len(p["strokes"]) for p in doc["photos"]] == [0, 1, 0, 0]
    win2 = make_window(qtbot, app_settings)
    win2.open_path(project)
    assert len(win2.controller.shoot) == 4
    wait_photo(qtbot, win2, 1)  # the photo that was on screen when saved
    assert len(win2.controller.doc.strokes) == 1
    assert np.array_equal(win2.controller.doc.trimap(), painted)

    # export all: one cut-out per photo, each with its own edits
    from matting_studio.gui import export_all

    out = tmp_path / "out"

    def accept(dialog):
        dialog.folder_edit.setText(str(out))
        dialog.accept()
        return 1

    monkeypatch.setattr(export_all.ExportAllDialog, "exec", accept)
    win2.actions_["export_all"].trigger()
    qtbot.waitUntil(lambda: out.is_dir() and len(list(out.glob("*_cutout.png"))) == 4
                    and not win2.controller.batcher.is_busy(), timeout=120_000)
    assert sorted(p.name for p in out.iterdir()) == [f"shot_{i}_cutout.png"
                                                     for i in range(1, 5)]
    qtbot.waitUntil(lambda: all(p.state == "exported" for p in win2.controller.shoot.photos),
                    timeout=10_000)
    alpha2 = np.asarray(Image.open(out / "shot_2_cutout.png"))[:, :, 3]
    assert alpha2[cy, cx] == 0  # photo 2's stroke is in its export
    assert sorted(p.name for p in shoot_folder.iterdir()) == [
        "notes.txt", "shot_1.png", "shot_2.png", "shot_3.png", "shot_4.png"]  # originals kept


def test_page_keys_move_through_the_shoot_in_the_filmstrips_order(qtbot, app_settings,
                                                                   shoot_folder, data):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    win = make_window(qtbot, app_settings)
    win.open_path(shoot_folder)
    wait_photo(qtbot, win, 0)
    win.photo_view.setFocus()
    QTest.keyClick(win, Qt.Key.Key_PageDown)
    assert win.controller.shoot.current == 1
    QTest.keyClick(win, Qt.Key.Key_PageDown)
    QTest.keyClick(win, Qt.Key.Key_PageUp)
    assert win.controller.shoot.current == 1
    assert win.filmstrip.list.currentRow() == 1
    wait_photo(qtbot, win, 1)


def test_export_all_refuses_names_that_clash_before_writing(qtbot, app_settings, tmp_path,
                                                             shoot_folder, data, monkeypatch):
    from matting_studio.gui import export_all

    win = make_window(qtbot, app_settings)
    win.open_path(shoot_folder)
    wait_photo(qtbot, win, 0)
    problems = []

    def try_template(dialog):
        dialog.folder_edit.setText(str(tmp_path / "out"))
        dialog.name_edit.setText("cutout.png")  # every photo would get the same name
        dialog.accept()
        problems.append(dialog.error.text())
        return 0

    monkeypatch.setattr(export_all.ExportAllDialog, "exec", try_template)
    win.actions_["export_all"].trigger()
    assert "would both be written to cutout.png" in problems[0]
    assert not (tmp_path / "out").exists()
