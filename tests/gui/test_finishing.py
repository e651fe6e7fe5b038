"""Finishing a cut-out in the window: another model for the photo (undoable, strokes kept),
models downloaded with progress and Cancel, edge adjustments with a live preview, export
formats — the same results as the command line."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from gui_helpers import make_window, open_and_wait, wait_alpha
from PIL import Image

from matting_studio import cli
from matting_studio.core.edges import EdgeParams
from matting_studio.core.trimap import Stroke

sys.path.insert(0, str(Path(__file__).parents[1] / "core"))
import model_server as ms  # noqa: E402
import onnx_models as om  # noqa: E402

pytestmark = pytest.mark.gui

STROKE = Stroke("background", 4.0, ((20.0, 60.0), (40.0, 62.0)))


def test_another_model_for_the_photo_keeps_the_strokes_and_undoes(qtbot, app_settings, photo,
                                                                  tmp_path, data):
    from matting_studio.core.mask_views import upsample_mask
    from matting_studio.core.models import model_label
    from matting_studio.core.segmentation import get_model

    model = om.warm_colour_model(tmp_path / "warm.onnx")
    win = make_window(qtbot, app_settings)
    open_and_wait(qtbot, win, photo)
    c = win.controller
    c.add_stroke(STROKE)
    wait_alpha(qtbot, win)
    before = c.doc.trimap().copy()
    c.use_model(str(model))
    qtbot.waitUntil(lambda: c.doc.settings.model_path == str(model), timeout=60_000)
    wait_alpha(qtbot, win)
    assert c.doc.strokes == (STROKE,)  # the strokes stay, replayed on the new model's trimap
    expected_mask = upsample_mask(get_model(str(model)).predict_small(c.doc.image.rgb),
                                  c.doc.shape)
    assert not np.array_equal(c.doc.trimap(), before)
    assert np.abs(c.doc.mask - np.maximum(expected_mask, c.doc.mask)).max() < 1e-6
    assert "warm.onnx" in win.panels["trimap"].hint.text()
    assert c.undo_stack.undoText() == "Use model warm.onnx"
    c.undo_stack.undo()  # back to the embedded model, without running it again
    assert c.doc.settings.model_path is None and np.array_equal(c.doc.trimap(), before)
    assert model_label(None) in win.panels["trimap"].hint.text()
    wait_alpha(qtbot, win)
    assert c.settings.model_path == str(model)  # photos added later use the chosen model


def test_a_model_downloaded_from_the_dialog_with_progress_and_cancel(qtbot, app_settings,
                                                                    photo, tmp_path, data,
                                                                    monkeypatch):
    from matting_studio.core import model_download as dl
    from matting_studio.core import models
    from matting_studio.gui.model_menu import ModelDialog, fill_model_menu

    src = om.u2net_like_model(tmp_path / "src.onnx", padding=4 * dl.CHUNK)
    info = ms.entry_for(src, "tiny-u2net", preset="u2net", file_name="Tiny.onnx")
    monkeypatch.setitem(models.CATALOGUE, info.name, info)
    with ms.ModelMirror() as mirror:
        monkeypatch.setenv(dl.MIRROR_ENV, mirror.url + "/models/")
        mirror.add(f"models/{info.file_name}", src.read_bytes())
        win = make_window(qtbot, app_settings)
        open_and_wait(qtbot, win, photo)
        fill_model_menu(win, win.model_menu)
        names = [a.text() for a in win.model_menu.actions()]
        assert not any("tiny-u2net" in n for n in names)  # not installed: not offered
        dlg = ModelDialog(win)
        qtbot.addWidget(dlg)
        dlg.select("tiny-u2net")
        assert dlg.download_button.isEnabled() and not dlg.use_button.isEnabled()
        # a slow server: Cancel keeps the bytes so far, the next Download resumes
        gate = threading.Event()
        real_copy = dl._copy

        def slow_copy(*a, **k):
            gate.wait(10)
            return real_copy(*a, **k)

        monkeypatch.setattr(dl, "_copy", slow_copy)
        dlg.download()
        assert dlg.worker.is_busy() and not dlg.progress.isHidden()
        dlg.cancel_download()
        gate.set()
        qtbot.waitUntil(lambda: not dlg.worker.is_busy(), timeout=30_000)
        assert not (data / "models" / info.install_name).exists()
        monkeypatch.setattr(dl, "_copy", real_copy)
        dlg.select("tiny-u2net")
        dlg.download()
        qtbot.waitUntil(lambda: (data / "models" / info.install_name).exists()
                        and not dlg.worker.is_busy(), timeout=60_000)
        assert "installed" in dlg.message.text()
        fill_model_menu(win, win.model_menu)
        assert any("tiny-u2net" in a.text() for a in win.model_menu.actions())
        dlg.select("tiny-u2net")
        dlg.use()
        qtbot.waitUntil(lambda: win.controller.doc.settings.model_path == "tiny-u2net",
                        timeout=60_000)
        wait_alpha(qtbot, win)
        assert "tiny-u2net" in win.panels["trimap"].hint.text()
        dlg.close()


def test_edge_adjustments_update_the_matte_without_solving_and_match_the_cli(
        qtbot, app_settings, photo, tmp_path, data):
    from matting_studio.core.solve import finish_alpha

    win = make_window(qtbot, app_settings)
    open_and_wait(qtbot, win, photo)
    c = win.controller
    solved = c.doc.result.alpha.copy()
    raw = c.doc.result.raw_alpha
    calls = []
    real = c.solver
    c.solver = lambda *a, **k: (calls.append(1), real(*a, **k))[1]
    win.panel.edge_spins["feather"].setValue(3.0)
    win.panel.edge_spins["shift"].setValue(2)
    wait_alpha(qtbot, win)
    assert calls == []  # finished again, not solved again
    edges = EdgeParams(feather=3.0, shift=2)
    assert c.doc.settings.edges == edges and c.doc.result.edges == edges
    np.testing.assert_allclose(c.doc.result.alpha,
                               finish_alpha(raw, c.doc.image, c.doc.settings), atol=1e-6)
    assert not np.array_equal(c.doc.result.alpha, solved)
    # the same photo with the same edges through the command line: the same matte
    out, alpha_out = tmp_path / "cli.png", tmp_path / "cli_alpha.png"
    assert cli.main(["cutout", str(photo), "-o", str(out), "--alpha-out", str(alpha_out),
                     "--feather", "3", "--shift-edge", "2", "-q"]) == 0
    cli_alpha = np.asarray(Image.open(alpha_out)).astype(int)
    assert np.abs(cli_alpha - np.rint(c.doc.result.alpha * 255).astype(int)).max() <= 1
    c.undo_stack.undo()  # both edge changes merge into one step
    wait_alpha(qtbot, win)
    assert c.doc.settings.edges == EdgeParams()
    np.testing.assert_allclose(c.doc.result.alpha, solved, atol=1e-6)
    assert win.panel.edges() == EdgeParams()


def test_export_a_jpeg_on_white_and_a_product_canvas(qtbot, app_settings, photo, tmp_path,
                                                     data):
    from matting_studio.core.canvas import CANVAS_PRESETS
    from matting_studio.gui.export_dialog import ExportDialog

    win = make_window(qtbot, app_settings)
    open_and_wait(qtbot, win, photo)
    c = win.controller
    dlg = ExportDialog({"cutout": tmp_path / "astro_cutout.png"}, photo, parent=win,
                       confirm_overwrite=lambda *a: True)
    qtbot.addWidget(dlg)
    dlg.options_box.set_format("JPEG")
    assert dlg.path_edit.text().endswith("astro_cutout.jpg")
    assert dlg.options_box.background_combo.currentData() == "white"
    dlg.accept()
    choice = dlg.choice()
    assert choice.path.suffix == ".jpg" and choice.options.format == "JPEG"
    with qtbot.waitSignal(c.exported, timeout=60_000):
        c.export(choice.path, choice.kind, choice.options)
    jpeg = np.asarray(Image.open(choice.path).convert("RGB")).astype(int)
    transparent = c.doc.result.alpha < 0.01
    assert jpeg[transparent].mean() > 245  # composited on white
    # a square canvas preset: the cut-out centred on a canvas of that size
    preset = next(iter(CANVAS_PRESETS.values()))
    dlg2 = ExportDialog({"cutout": tmp_path / "canvas.png"}, photo, parent=win,
                        confirm_overwrite=lambda *a: True)
    qtbot.addWidget(dlg2)
    box = dlg2.options_box
    box.canvas_combo.setCurrentIndex(box.canvas_combo.findData(preset.name))
    dlg2.accept()
    with qtbot.waitSignal(c.exported, timeout=60_000):
        c.export(dlg2.choice().path, "cutout", dlg2.choice().options)
    assert Image.open(dlg2.choice().path).size == (preset.canvas.width, preset.canvas.height)
