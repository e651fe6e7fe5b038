"""File ▸ Save Project / Open Project through the window (and ``open_path`` of a .msproj)."""

from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import make_window, open_and_wait, wait_alpha

pytestmark = pytest.mark.gui


def test_save_project_then_reopen_in_a_new_window(qtbot, app_settings, photo, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from matting_studio.core.trimap import Stroke

    win = make_window(qtbot, app_settings, synchronous=True)
    open_and_wait(qtbot, win, photo)
    win.controller.add_stroke(Stroke("background", 6.0, ((64.0, 10.0), (64.0, 40.0))))
    wait_alpha(qtbot, win)
    trimap = win.controller.doc.trimap().copy()
    alpha = win.controller.doc.result.alpha.copy()

    target = tmp_path / "edit.msproj"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    assert win.actions_["save_project"].isEnabled()
    win.actions_["save_project"].trigger()
    assert target.is_file()
    assert "Project saved" in win.status_label.text()

    other = make_window(qtbot, app_settings, synchronous=True)
    other.open_path(target)
    qtbot.waitUntil(lambda: other.controller.doc is not None
                    and len(other.controller.doc.strokes) == 1, timeout=90_000)
    wait_alpha(qtbot, other)
    np.testing.assert_array_equal(other.controller.doc.trimap(), trimap)
    np.testing.assert_allclose(other.controller.doc.result.alpha, alpha, atol=1e-5)


def test_opening_a_broken_project_shows_one_error(qtbot, app_settings, tmp_path):
    bad = tmp_path / "broken.msproj"
    bad.write_text("{ not json")
    win = make_window(qtbot, app_settings, synchronous=True)
    win.open_path(bad)
    assert win.last_error is not None
    assert "broken.msproj" in win.last_error[1]
    assert win.controller.doc is None
