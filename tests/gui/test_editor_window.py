"""The editor window driven like a user: open, paint at a zoom, undo, drop, export, bursts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gui_helpers import make_window, open_and_wait, paint, view_pixels, wait_alpha
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from matting_studio.core.matting import solve_alpha
from matting_studio.core.pipeline import auto_trimap
from matting_studio.core.trimap import BACKGROUND, FOREGROUND, make_trimap

pytestmark = pytest.mark.gui


def view_array(view) -> np.ndarray:
    """The full-resolution pixels a view shows (grey), as uint8."""
    return view_pixels(view)[:, :, 0]


def test_open_shows_photo_trimap_alpha_and_cutout(qtbot, window, photo):
    open_and_wait(qtbot, window, photo)
    doc = window.controller.doc
    assert doc.image.size == (128, 128)
    # the trimap view shows the document's trimap, the alpha view its alpha
    assert np.array_equal(view_array(window.trimap_view), doc.trimap())
    assert np.abs(view_array(window.alpha_view).astype(int)
                  - np.rint(doc.result.alpha * 255).astype(int)).max() <= 1
    assert window.cutout_view.has_image() and window.photo_view.has_image()
    # a real matte: soft values exist, and it is the solve of the automatic trimap
    assert ((doc.result.alpha > 0.05) & (doc.result.alpha < 0.95)).any()
    assert np.array_equal(doc.auto_trimap(), auto_trimap(doc.image, doc.mask, doc.settings))
    expected = solve_alpha(doc.image.rgb, doc.auto_trimap())
    np.testing.assert_allclose(doc.result.alpha, expected, atol=1e-4)
    assert "up to date" in window.panels["alpha"].badge.text()
    assert "astronaut.png" in window.windowTitle()
    assert str(Path(photo).resolve()) in window.settings.recent_files()


def _paint_background_stroke_at_zoom(qtbot, window, zoom=2.5):
    doc = window.controller.doc
    before = doc.trimap().copy()
    ys, xs = np.nonzero(before == FOREGROUND)
    cy, cx = int(np.median(ys)), int(np.median(xs))
    window.sync.set_scale(zoom, QPointF(cx, cy))
    assert window.sync.scale == pytest.approx(zoom)
    assert window.trimap_view.scale_factor() == pytest.approx(zoom)
    window.brush.set_mode("background")
    window.brush.set_size(round(8 * zoom))  # screen pixels: 8 image pixels at this zoom
    p0, p1 = (cx - 6, cy), (cx + 6, cy)
    paint(window.trimap_view, [p0, p1])
    return before, (cx, cy), p0, p1


def test_stroke_at_zoom_paints_trimap_in_image_pixels_and_rematts(qtbot, window, photo):
    open_and_wait(qtbot, window, photo)
    doc = window.controller.doc
    old_alpha = window.shown_alpha
    requests = window.controller.matte_requests
    before, (cx, cy), p0, p1 = _paint_background_stroke_at_zoom(qtbot, window)
    assert len(doc.strokes) == 1
    s = doc.strokes[0]
    assert s.mode == "background" and s.radius == pytest.approx(4.0)
    # the stroke lands where the mouse was, in image coordinates (within a screen pixel)
    assert abs(s.points[0][0] - p0[0]) < 0.5 and abs(s.points[0][1] - p0[1]) < 0.5
    assert abs(s.points[-1][0] - p1[0]) < 0.5 and abs(s.points[-1][1] - p1[1]) < 0.5
    assert len(s.points) > 2  # the drag's moves were recorded, not just press and release
    after = doc.trimap()
    # pixels under the stroke now hold the brush value ...
    for x in range(p0[0], p1[0] + 1):
        for y in range(cy - 3, cy + 4):
            assert after[y, x] == BACKGROUND, (x, y)
    # ... and the brush is what the cursor showed: 20 screen pixels = 8 image pixels at 250 %
    assert before[cy - 7, cx] == after[cy - 7, cx] and before[cy + 7, cx] == after[cy + 7, cx]
    assert (before != after).sum() >= 12 * 7
    assert window.trimap_view.image_size() == (128, 128)
    assert np.array_equal(view_array(window.trimap_view), after)
    # the tint over the photo follows: red (background) under the stroke
    from matting_studio.gui.qimage import MODE_COLORS

    tint = view_pixels(window.photo_view, "overlay")[cy, cx]
    red = MODE_COLORS["background"]
    assert abs(int(tint[0]) - red.red()) <= 3 and abs(int(tint[1]) - red.green()) <= 3
    assert abs(int(tint[2]) - red.blue()) <= 3  # (premultiplied storage rounds)
    # a new matte was requested and shown: solved for the new trimap
    assert window.controller.matte_requests == requests + 1
    wait_alpha(qtbot, window)
    assert window.shown_alpha is not old_alpha
    np.testing.assert_allclose(window.shown_alpha, solve_alpha(doc.image.rgb, after), atol=1e-4)
    assert window.shown_alpha[cy, cx] == 0.0


def test_undo_restores_previous_trimap_and_redo_reapplies(qtbot, window, photo):
    open_and_wait(qtbot, window, photo)
    doc = window.controller.doc
    before, *_ = _paint_background_stroke_at_zoom(qtbot, window, zoom=1.75)
    painted = doc.trimap().copy()
    assert not np.array_equal(before, painted)
    wait_alpha(qtbot, window)
    window.trimap_view.setFocus()
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(doc.trimap(), before)
    assert np.array_equal(view_array(window.trimap_view), before)
    wait_alpha(qtbot, window)
    np.testing.assert_allclose(window.shown_alpha, solve_alpha(doc.image.rgb, before), atol=1e-4)
    QTest.keyClick(window, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert np.array_equal(doc.trimap(), painted)
    wait_alpha(qtbot, window)


def test_reset_to_automatic_trimap_is_undoable(qtbot, window, photo):
    open_and_wait(qtbot, window, photo)
    doc = window.controller.doc
    before, *_ = _paint_background_stroke_at_zoom(qtbot, window)
    painted = doc.trimap().copy()
    assert window.panel.reset_button.isEnabled()
    window.panel.reset_button.click()
    assert doc.strokes == () and np.array_equal(doc.trimap(), before)
    window.controller.undo_stack.undo()
    assert np.array_equal(doc.trimap(), painted)
    wait_alpha(qtbot, window)


def test_trimap_parameters_rerun_the_automatic_trimap(qtbot, window, photo):
    open_and_wait(qtbot, window, photo)
    doc = window.controller.doc
    window.panel.kernel_spin.setValue(11)
    window.panel.iter_spin.setValue(2)
    assert doc.settings.trimap.kernel_size == 11 and doc.settings.trimap.iterations == 2
    assert np.array_equal(doc.trimap(), make_trimap(doc.mask, doc.settings.trimap))
    wait_alpha(qtbot, window)
    np.testing.assert_allclose(window.shown_alpha, solve_alpha(doc.image.rgb, doc.trimap()), atol=1e-4)
    assert doc.settings.trimap_preset == "classic"
    window.controller.undo_stack.undo()  # both spin-box changes merge into one step
    assert doc.settings.trimap.kernel_size == 7 and window.panel.kernel_spin.value() == 7
    assert np.array_equal(doc.trimap(), auto_trimap(doc.image, doc.mask, doc.settings))
    wait_alpha(qtbot, window)


def _drop(window, path: Path) -> QDropEvent:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    pos = QPointF(window.width() // 2, window.height() // 2)
    actions = Qt.DropAction.CopyAction
    enter = QDragEnterEvent(pos.toPoint(), actions, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(pos, actions, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    return drop


def test_drop_of_a_file_url_opens_it(qtbot, window, photo, photo160):
    open_and_wait(qtbot, window, photo)
    drop = _drop(window, photo160)
    assert drop.isAccepted()
    qtbot.waitUntil(lambda: window.controller.doc is not None
                    and window.controller.doc.path == photo160, timeout=60_000)
    wait_alpha(qtbot, window)
    assert window.controller.doc.image.size == (160, 160)
    assert window.trimap_view.image_size() == (160, 160)
    assert window.controller.undo_stack.count() == 0


def test_drop_without_files_is_refused(qtbot, window):
    mime = QMimeData()
    mime.setText("not a file")
    enter = QDragEnterEvent(QPoint(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()


def test_export_dialog_writes_a_valid_rgba_png_beside_the_original(qtbot, window, photo):
    open_and_wait(qtbot, window, photo)
    out = photo.with_name("astronaut_cutout.png")

    def accept_dialog():
        dlg = window._export_dlg
        assert dlg.path() == out  # default: <stem>_cutout.png beside the original
        dlg.accept()

    QTimer.singleShot(50, accept_dialog)
    with qtbot.waitSignal(window.controller.exported, timeout=30_000) as blocker:
        window.actions_["export"].trigger()
    assert blocker.args == [str(out)]
    im = Image.open(out)
    assert im.format == "PNG" and im.mode == "RGBA" and im.size == (128, 128)
    alpha = np.asarray(im)[:, :, 3]
    expected = np.rint(window.controller.doc.result.alpha * 255).astype(np.uint8)
    assert np.abs(alpha.astype(int) - expected).max() <= 1
    assert 0 < (alpha == 255).mean() < 1 and (alpha == 0).any()
    assert Image.open(photo).mode == "RGB"  # the original is untouched


def test_export_alpha_and_trimap_kinds(qtbot, window, photo, tmp_path):
    open_and_wait(qtbot, window, photo)
    c = window.controller
    for kind in ("alpha", "trimap"):
        out = tmp_path / f"x_{kind}.png"
        with qtbot.waitSignal(c.exported, timeout=30_000):
            c.export(out, kind)
        im = Image.open(out)
        assert im.mode in ("L", "I;16") and im.size == (128, 128)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "x_trimap.png")), c.doc.trimap())


def test_export_dialog_refuses_the_original_and_asks_before_overwriting(qtbot, photo):
    from matting_studio.gui.export_dialog import ExportDialog

    asked = []
    defaults = {"cutout": photo.with_name("astronaut_cutout.png"),
                "alpha": photo.with_name("astronaut_alpha.png"),
                "trimap": photo.with_name("astronaut_trimap.png")}
    dlg = ExportDialog(defaults, photo, confirm_overwrite=lambda _p, path: asked.append(path) or False)
    qtbot.addWidget(dlg)
    dlg.set_kind("alpha")
    assert dlg.path() == defaults["alpha"]
    dlg.set_path(photo)
    dlg.accept()
    assert dlg.choice() is None and "original" in dlg.error.text()
    existing = photo.with_name("exists.png")
    existing.write_bytes(b"x")
    dlg.set_path(existing.with_suffix(""))  # ".png" is added
    dlg.accept()
    assert asked == [existing] and dlg.choice() is None
    dlg.confirm_overwrite = lambda _p, _path: True
    dlg.accept()
    assert dlg.choice() is not None and dlg.choice().path == existing and dlg.choice().kind == "alpha"


def test_burst_of_50_strokes_during_a_solve_ends_with_the_final_alpha(qtbot, window, photo160):
    open_and_wait(qtbot, window, photo160)
    c = window.controller
    doc = c.doc
    window.sync.set_scale(1.5, QPointF(80, 80))
    window.brush.set_size(6)
    rng = np.random.default_rng(1)
    modes = ("foreground", "background", "unknown")
    saw_busy = False
    for i in range(50):
        window.brush.set_mode(modes[i % 3])
        x, y = (int(v) for v in rng.integers(40, 120, 2))
        paint(window.trimap_view, [(x, y), (x + 5, y + 3)], steps=2)
        saw_busy = saw_busy or c.matter.is_busy()
    assert len(doc.strokes) == 50
    assert saw_busy  # strokes kept coming while a solve was running
    wait_alpha(qtbot, window)
    final = doc.trimap()
    assert np.array_equal(c.doc.result.trimap, final)
    np.testing.assert_allclose(window.shown_alpha, solve_alpha(doc.image.rgb, final), atol=1e-4)
    # superseded requests were cancelled or dropped instead of all being solved and shown
    assert c.matter.cancelled_count + c.matter.stale_dropped > 0
    assert window.isVisible()


def test_alpha_shown_as_out_of_date_while_a_solve_runs_and_painting_continues(qtbot, window, photo):
    import threading

    open_and_wait(qtbot, window, photo)
    doc = window.controller.doc
    gate = threading.Event()
    real = window.controller.solver
    shown = view_pixels(window.alpha_view)

    def slow_solver(request, progress, cancel, on_preview=None):
        while not gate.is_set():
            if cancel is not None:
                cancel.check()
            gate.wait(0.01)
        return real(request, progress, cancel)

    window.controller.solver = slow_solver
    _paint_background_stroke_at_zoom(qtbot, window)
    qtbot.waitUntil(lambda: window.controller.matter.is_busy(), timeout=5000)
    assert "updating" in window.panels["alpha"].badge.text()
    assert "out of date" in window.alpha_label.text()
    # the last alpha stays on screen as it was (not greyed out) while the new one is solved
    assert window.alpha_view.base.opacity() == 1
    assert np.array_equal(view_pixels(window.alpha_view), shown)
    window.brush.set_mode("foreground")
    paint(window.trimap_view, [(30, 30), (40, 30)])  # painting is not blocked
    assert len(doc.strokes) == 2
    gate.set()
    wait_alpha(qtbot, window)
    assert "up to date" in window.panels["alpha"].badge.text()
    assert window.alpha_view.base.opacity() == 1


def test_a_bad_file_shows_an_error_and_the_app_keeps_running(qtbot, window, photo, tmp_path):
    open_and_wait(qtbot, window, photo)
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"this is not a jpeg")
    with qtbot.waitSignal(window.controller.error, timeout=30_000):
        window.open_path(bad)
    _title, message = window.last_error
    assert "broken.jpg" in message
    # the photo worked on comes back on screen; the bad one is marked in the filmstrip
    qtbot.waitUntil(lambda: window.controller.doc is not None
                    and window.controller.doc.path == photo, timeout=60_000)
    bad_photo = window.controller.shoot.photos[window.controller.shoot.index_of(bad)]
    assert bad_photo.state == "failed" and "broken.jpg" in bad_photo.error
    assert window.isVisible()
    QApplication.processEvents()


def test_shortcuts_switch_brushes_and_sizes_and_settings_persist(qtbot, app_settings, photo):
    win = make_window(qtbot, app_settings)
    open_and_wait(qtbot, win, photo)
    win.trimap_view.setFocus()
    for key, mode in ((Qt.Key.Key_B, "background"), (Qt.Key.Key_U, "unknown"),
                      (Qt.Key.Key_F, "foreground")):
        QTest.keyClick(win, key)
        assert win.brush.mode == mode
        assert win.panel.brush_buttons[mode].isChecked()
    size = win.brush.size
    QTest.keyClick(win, Qt.Key.Key_BracketRight)
    assert win.brush.size > size and win.panel.size_spin.value() == win.brush.size
    QTest.keyClick(win, Qt.Key.Key_BracketLeft)
    QTest.keyClick(win, Qt.Key.Key_BracketLeft)
    assert win.brush.size < size
    win.panel.size_slider.setValue(37)
    assert win.brush.size == 37
    win.set_preview_background("black")
    win.close()
    win2 = make_window(qtbot, app_settings)
    assert win2.brush.size == 37
    assert win2.panel.bg_combo.currentData() == "black"
    assert win2.settings.last_folder() == str(photo.parent)
    win2.close()


def test_zoom_and_pan_stay_synchronised(qtbot, window, photo):
    open_and_wait(qtbot, window, photo)
    v = window.photo_view
    window.sync.set_scale(8.0, QPointF(64, 64))  # larger than the viewport
    vp = v.viewport()
    start = vp.rect().center()
    QTest.mousePress(vp, Qt.MouseButton.MiddleButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(vp, start + QPoint(80, 50))
    QTest.mouseRelease(vp, Qt.MouseButton.MiddleButton, Qt.KeyboardModifier.NoModifier, start + QPoint(80, 50))
    centers = [w.center_scene() for w in window.views]
    assert abs(centers[0].x() - 64) > 5  # it did pan
    for cpt in centers[1:]:
        assert abs(cpt.x() - centers[0].x()) < 1.5 and abs(cpt.y() - centers[0].y()) < 1.5
    assert all(w.scale_factor() == pytest.approx(8.0) for w in window.views)
    window.actions_["fit"].trigger()
    assert window.sync.fit_mode
    window.actions_["actual"].trigger()
    assert all(w.scale_factor() == pytest.approx(1.0) for w in window.views)
    assert window.zoom_label.text() == "100 %"


def test_help_lists_the_shortcuts(qtbot, window):
    window.actions_["shortcuts"].trigger()
    text = window._shortcuts_dialog.label.text()
    for key in ("Ctrl+Z", "Ctrl+Shift+Z", "Ctrl+E", ">F<", ">B<", ">U<", "[", "]"):
        assert key in text
    window._shortcuts_dialog.close()


def test_wheel_zooms_all_views_around_the_pointer(qtbot, window, photo):
    from PySide6.QtGui import QWheelEvent

    open_and_wait(qtbot, window, photo)
    v = window.alpha_view
    window.sync.set_scale(6.0, QPointF(64, 64))  # larger than the viewport: the anchor can hold
    anchor = QPointF(50.0, 58.0)
    pos = QPointF(v.mapFromScene(anchor))
    ev = QWheelEvent(pos, QPointF(v.viewport().mapToGlobal(pos.toPoint())), QPoint(0, 0),
                     QPoint(0, 240), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                     Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(v.viewport(), ev)
    assert all(w.scale_factor() == pytest.approx(6.0 * 1.25 ** 2) for w in window.views)
    after = v.mapToScene(pos.toPoint())
    assert abs(after.x() - anchor.x()) < 1 and abs(after.y() - anchor.y()) < 1
    assert not window.sync.fit_mode
    assert window.zoom_label.text() == f"{6.0 * 1.25 ** 2 * 100:.0f} %"
    centers = [w.center_scene() for w in window.views]
    assert all(abs(cp.x() - centers[0].x()) < 1.5 and abs(cp.y() - centers[0].y()) < 1.5
               for cp in centers)


def test_space_drag_pans_instead_of_painting(qtbot, window, photo):
    open_and_wait(qtbot, window, photo)
    v = window.trimap_view
    window.sync.set_scale(8.0, QPointF(64, 64))
    before = v.center_scene()
    v.setFocus()
    QTest.keyPress(v, Qt.Key.Key_Space)
    vp = v.viewport()
    start = vp.rect().center()
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(vp, start + QPoint(-80, -40))
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(-80, -40))
    QTest.keyRelease(v, Qt.Key.Key_Space)
    after = v.center_scene()
    assert after.x() - before.x() == pytest.approx(10, abs=1)
    assert after.y() - before.y() == pytest.approx(5, abs=1)
    assert window.controller.doc.strokes == ()
    assert window.photo_view.center_scene().x() == pytest.approx(after.x(), abs=1)


def test_recent_files_menu_reopens_a_photo(qtbot, window, photo, photo160):
    open_and_wait(qtbot, window, photo)
    open_and_wait(qtbot, window, photo160)
    menu = window.recent_menu
    menu.aboutToShow.emit()
    names = [a.text() for a in menu.actions()]
    assert names[:2] == ["astronaut160.png", "astronaut.png"]
    menu.actions()[1].trigger()
    qtbot.waitUntil(lambda: window.controller.doc is not None
                    and window.controller.doc.path == photo, timeout=60_000)
    wait_alpha(qtbot, window)


def test_export_while_the_alpha_is_out_of_date_waits_for_the_new_alpha(qtbot, window, photo, tmp_path):
    import threading

    open_and_wait(qtbot, window, photo)
    c = window.controller
    gate = threading.Event()
    real = c.solver

    def gated(request, progress, cancel, on_preview=None):
        gate.wait(30)
        return real(request, progress, cancel)

    c.solver = gated
    _paint_background_stroke_at_zoom(qtbot, window)
    out = tmp_path / "later.png"
    c.export(out)
    QApplication.processEvents()
    assert not out.exists()  # not the stale alpha
    with qtbot.waitSignal(c.exported, timeout=60_000):
        gate.set()
    alpha = np.asarray(Image.open(out))[:, :, 3]
    expected = solve_alpha(c.doc.image.rgb, c.doc.trimap())
    assert np.abs(alpha.astype(int) - np.rint(expected * 255).astype(int)).max() <= 1


def test_escape_drops_the_stroke_in_progress(qtbot, window, photo):
    open_and_wait(qtbot, window, photo)
    v = window.trimap_view
    vp = v.viewport()
    a, b = v.mapFromScene(QPointF(40, 40)), v.mapFromScene(QPointF(60, 50))
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    QTest.mouseMove(vp, b)
    assert window.brush.is_painting()
    QTest.keyClick(v, Qt.Key.Key_Escape)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b)
    assert not window.brush.is_painting()
    assert window.controller.doc.strokes == ()


def test_copy_cutout_puts_an_rgba_image_on_the_clipboard(qtbot, window, photo):
    from PySide6.QtGui import QGuiApplication

    open_and_wait(qtbot, window, photo)
    window.actions_["copy"].trigger()
    img = QGuiApplication.clipboard().image()
    assert img.width() == 128 and img.height() == 128 and img.hasAlphaChannel()
    alpha = window.controller.doc.result.alpha
    y, x = np.unravel_index(np.argmin(alpha), alpha.shape)
    assert img.pixelColor(int(x), int(y)).alpha() == round(alpha[y, x] * 255)


def test_preview_backgrounds(qtbot, window, photo):
    from PySide6.QtGui import QColor

    open_and_wait(qtbot, window, photo)
    backdrop = window.cutout_view.backdrop
    assert backdrop.isVisible() and not backdrop.brush().texture().isNull()  # checkerboard
    for key, color in (("white", QColor(255, 255, 255)), ("black", QColor(0, 0, 0))):
        i = window.panel.bg_combo.findData(key)
        window.panel.bg_combo.activated.emit(i)
        assert backdrop.brush().color() == color
        assert window.settings.preview_background() == key
    window.preview_color = QColor(10, 200, 30)
    window.set_preview_background("color", ask=False)
    assert backdrop.brush().color() == QColor(10, 200, 30)


def test_app_has_the_bundled_icon_and_opens_the_sample(qtbot, window):
    from matting_studio.gui.app import create_app
    from matting_studio.resources_path import SAMPLE_PHOTO, resource_path

    app = create_app()
    assert not app.windowIcon().isNull()
    window.actions_["sample"].trigger()
    qtbot.waitUntil(lambda: window.controller.doc is not None
                    and window.controller.doc.path == resource_path(SAMPLE_PHOTO), timeout=60_000)
    wait_alpha(qtbot, window)


def test_trimap_overlay_on_the_photo_toggles_and_fades(qtbot, window, photo):
    open_and_wait(qtbot, window, photo)
    overlay = window.photo_view.overlay
    assert overlay.isVisible() and overlay.source.image_size == (128, 128)
    window.panel.opacity_slider.setValue(80)
    assert overlay.opacity() == pytest.approx(0.8)
    window.trimap_view.setFocus()
    QTest.keyClick(window, Qt.Key.Key_O)
    assert not overlay.isVisible() and not window.panel.overlay_check.isChecked()
    window.panel.overlay_check.setChecked(True)
    assert overlay.isVisible()
    assert window.settings.overlay_opacity() == 80 and window.settings.overlay_visible()


def test_a_solver_preview_is_shown_at_once_then_replaced_by_the_full_solve(qtbot, window, photo):
    """The preview hook of the one solve path: on_preview shows a result while work goes on."""
    import threading

    from matting_studio.core.solve import SolveResult

    open_and_wait(qtbot, window, photo)
    c = window.controller
    gate = threading.Event()
    real = c.solver

    def previewing(request, progress, cancel, on_preview=None):
        quick = (request.trimap > 0).astype(np.float32)  # a crude stand-in for a local re-solve
        on_preview(SolveResult(request.trimap, quick, None, request.revision, preview=True))
        gate.wait(30)
        return real(request, progress, cancel)

    c.solver = previewing
    _paint_background_stroke_at_zoom(qtbot, window)
    qtbot.waitUntil(lambda: c.doc.result.preview, timeout=10_000)
    assert window.shown_alpha is c.doc.result.alpha
    assert np.array_equal(window.shown_alpha, (c.doc.trimap() > 0).astype(np.float32))
    assert "preview" in window.panels["alpha"].badge.text()
    assert not c.alpha_is_current()  # a preview is never taken for the final matte
    gate.set()
    wait_alpha(qtbot, window)
    assert not c.doc.result.preview
    np.testing.assert_allclose(window.shown_alpha, solve_alpha(c.doc.image.rgb, c.doc.trimap()),
                               atol=1e-4)
