"""GUI test fixtures: a real MainWindow (offscreen), settings redirected into tmp_path, small photos."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from gui_helpers import make_window


@pytest.fixture(autouse=True)
def _isolated_qsettings(tmp_path, monkeypatch):
    """No test reads or writes the real user's settings."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir(exist_ok=True)
    from PySide6.QtCore import QSettings

    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp_path / "qsettings"))


@pytest.fixture
def data(tmp_path, monkeypatch):
    """The per-user data folder (autosave, downloaded models), here a fresh one per test."""
    d = tmp_path / "data"
    monkeypatch.setenv("MATTING_STUDIO_DATA_DIR", str(d))
    return d


@pytest.fixture
def app_settings(tmp_path):
    from matting_studio.gui.settings import AppSettings

    return AppSettings(tmp_path / "settings.ini")


def write_photo(path: Path, rgb_float: np.ndarray) -> Path:
    bgr = cv2.cvtColor(np.rint(rgb_float * 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
    assert cv2.imwrite(str(path), bgr)
    return path


@pytest.fixture
def photo(tmp_path, astronaut_small) -> Path:
    """The astronaut, 128×128, as a PNG file in its own folder."""
    folder = tmp_path / "photos"
    folder.mkdir()
    return write_photo(folder / "astronaut.png", astronaut_small)


@pytest.fixture
def photo160(tmp_path) -> Path:
    from skimage import data

    img = data.astronaut().astype(np.float32) / 255.0
    img = cv2.resize(img, (160, 160), interpolation=cv2.INTER_AREA)
    folder = tmp_path / "photos160"
    folder.mkdir()
    return write_photo(folder / "astronaut160.png", img)


@pytest.fixture
def window(qtbot, app_settings):
    win = make_window(qtbot, app_settings)
    yield win
    win.close()


