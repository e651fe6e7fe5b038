"""The editor window fed the hostile-file set: a clear message per bad file, no exception,
the window stays usable, the files stay byte-identical."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest
from gui_helpers import make_window

sys.path.insert(0, str(Path(__file__).parents[1] / "core"))
import hostile_files as hf  # noqa: E402

pytestmark = [pytest.mark.gui, pytest.mark.slow]

# A representative sample of the files that must open (each open runs a solve).
OK_SAMPLE = ["tiny_1x1.png", "thin_1x5000.png", "rgb16.png", "rgba16.png", "cmyk.jpg",
             "rgba.png", "exif_orient_6.jpg", "animated_webp.webp", "float32_rgb.tif",
             "palette_transparency_gif.gif", "Fotó Ünïcødé 日本語 🌸.jpg", "all_transparent.png"]


def _digest(folder: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.rglob("*") if p.is_file() and not p.is_symlink()}


def test_every_hostile_file_in_the_editor(qtbot, app_settings, tmp_path):
    pytest.importorskip("onnx")
    import onnx_models
    from PySide6.QtWidgets import QMessageBox

    from matting_studio.core.io import display_name
    from matting_studio.core.pipeline import PipelineSettings

    folder = tmp_path / "hostile"
    cases = hf.make_hostile_files(folder)
    before = _digest(folder)
    model = onnx_models.warm_colour_model(tmp_path / "warm.onnx")

    win = make_window(qtbot, app_settings, synchronous=True)
    c = win.controller
    c.settings = PipelineSettings(model_path=str(model), preset="u2netp")
    by_name = {case.name: case for case in cases}
    refused = opened = 0
    for case in cases:
        if case.expect == "ok" and case.name not in OK_SAMPLE:
            continue
        path = case.path(folder)
        win.last_error = None
        win.open_path(path)
        if case.expect == "error" and case.stage == "load":
            qtbot.waitUntil(lambda: win.last_error is not None, timeout=30_000)
            title, message = win.last_error
            assert display_name(path) in message and "Traceback" not in message, message
            assert "\n" not in message
            refused += 1
        elif case.expect == "ok":
            qtbot.waitUntil(lambda p=path: c.doc is not None and Path(c.doc.path) == p,
                            timeout=60_000)
            assert c.doc.image.size == by_name[case.name].size
            qtbot.waitUntil(lambda: not c.is_busy() and c.alpha_is_current(), timeout=60_000)
            assert win.last_error is None, win.last_error
            opened += 1
        else:  # "either" files: whatever happens, it must settle without an exception
            qtbot.waitUntil(lambda: not c.is_busy(), timeout=60_000)
        for box in win.findChildren(QMessageBox):
            box.close()
    assert refused >= 45 and opened == len(OK_SAMPLE)
    assert _digest(folder) == before
    # still usable: a good photo opens and solves after all that
    good = folder / "exif_orient_1.jpg"
    win.open_path(good)
    qtbot.waitUntil(lambda: c.doc is not None and Path(c.doc.path) == good
                    and c.alpha_is_current() and not c.is_busy(), timeout=60_000)
    win.close()
