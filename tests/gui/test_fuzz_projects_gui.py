"""Hostile project files opened through the real (offscreen) window: one error line each, in
seconds, and the shoot on screen, its strokes included, stays as it was and usable."""

from __future__ import annotations

import time

import pytest
from gui_helpers import make_window, open_and_wait, wait_alpha

from matting_studio.core.trimap import Stroke

pytestmark = pytest.mark.gui

STROKE = Stroke("background", 5.0, ((20.0, 60.0), (40.0, 62.0)))


def _photo_doc(photo_fields: str) -> str:
    return ('{"format": "matting-studio-project", "format_version": 2, "photos": [{"source": '
            '{"path": "/nowhere/p.jpg"}' + photo_fields + "}]}")


HOSTILE = {
    "iterations_1e9.msproj": _photo_doc(', "trimap": {"iterations": 1000000000}, '
                                        '"pipeline": {"trimap_preset": "classic"}'),
    "kernel_50000.msproj": _photo_doc(', "trimap": {"kernel_size": 50000}'),
    "size_400_digits.msproj": _photo_doc("").replace(
        '"/nowhere/p.jpg"}', '"/nowhere/p.jpg", "size": 1' + "0" * 400
        + ', "sha256": "' + "a" * 64 + '"}'),
    "radius_nan.msproj": _photo_doc(', "strokes": [{"mode": "unknown", "radius": NaN, '
                                    '"points": [[1, 2]]}]'),
    "band_1e300.msproj": _photo_doc(', "pipeline": {"adaptive": {"max_band": 1e300}}'),
    "bogus_preset.msproj": _photo_doc(', "model": {"path": null, "preset": "bogus"}'),
    "zoom_1e400.msproj": _photo_doc(', "view": {"zoom": 1e400}'),
    "deep.msproj": _photo_doc(', "view": ' + "[" * 100_000 + "]" * 100_000),
}


@pytest.fixture
def data(tmp_path, monkeypatch):
    d = tmp_path / "data"
    monkeypatch.setenv("MATTING_STUDIO_DATA_DIR", str(d))
    return d


def test_hostile_projects_leave_the_shoot_as_it_was(qtbot, app_settings, photo, tmp_path, data):
    from PySide6.QtWidgets import QMessageBox

    win = make_window(qtbot, app_settings, synchronous=True)
    c = win.controller
    open_and_wait(qtbot, win, photo)
    c.add_stroke(STROKE)
    wait_alpha(qtbot, win)
    files = {name: tmp_path / name for name in HOSTILE}
    for name, path in files.items():
        path.write_text(HOSTILE[name])
    files["latin1.msproj"] = tmp_path / "latin1.msproj"
    files["latin1.msproj"].write_bytes(HOSTILE["kernel_50000.msproj"].encode()[:-3] + b"\xe9\xff}")
    for name, path in files.items():
        win.last_error = None
        t0 = time.perf_counter()
        win.open_path(path)
        qtbot.waitUntil(lambda: win.last_error is not None, timeout=20_000)
        _title, message = win.last_error
        assert "\n" not in message and message.startswith(f"{name}: "), message
        assert "Traceback" not in message and "internal error" not in message
        assert time.perf_counter() - t0 < 20
        for box in win.findChildren(QMessageBox):
            box.close()
        # the shoot is untouched: same photo, same strokes, nothing running
        assert c.doc is not None and c.doc.path == photo
        assert list(c.doc.strokes) == [STROKE]
        assert not c.is_busy()
    # and still usable: one more stroke is solved
    c.add_stroke(Stroke("foreground", 4.0, ((64.0, 64.0),)))
    wait_alpha(qtbot, win)
    assert len(c.doc.strokes) == 2


def test_a_project_at_every_limit_opens_and_solves(qtbot, app_settings, photo, tmp_path, data):
    """The largest values the limits allow still open and solve in seconds."""
    import json

    doc = {"format": "matting-studio-project", "format_version": 2, "photos": [{
        "source": {"path": str(photo)},
        "trimap": {"kernel_size": 31, "iterations": 10},
        "pipeline": {"trimap_preset": "classic", "edges": {"smooth": 100.0, "feather": 250.0,
                                                           "contrast": 100.0, "shift": 100}},
        "strokes": [{"mode": "unknown", "radius": 50_000.0, "points": [[-1e6, -1e6], [64, 64]]},
                    {"mode": "foreground", "radius": 0.05,
                     "points": [[x * 0.1, 64.0] for x in range(20_000)]}]}]}
    path = tmp_path / "limits.msproj"
    path.write_text(json.dumps(doc))
    win = make_window(qtbot, app_settings, synchronous=True)
    t0 = time.perf_counter()
    win.open_path(path)
    qtbot.waitUntil(lambda: win.controller.doc is not None
                    and len(win.controller.doc.strokes) == 2, timeout=60_000)
    wait_alpha(qtbot, win, timeout=60_000)
    assert win.last_error is None
    assert time.perf_counter() - t0 < 60
