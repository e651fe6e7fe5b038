"""Opening a large photo in the real (offscreen) window: a first matte solved at preview size is
on screen before the full-resolution trimap and alpha; opening another photo stops that work."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from gui_helpers import wait_alpha

import matting_studio.core.document as docmod
from matting_studio.core.document import Document, first_matte
from matting_studio.core.io import load_image
from matting_studio.core.matting import solve_alpha
from matting_studio.core.pipeline import (
    PipelineSettings,
    auto_trimap,
    compute_mask,
    compute_small_mask,
)
from matting_studio.core.trimap import Stroke, draw_stroke

PREVIEW_PIXELS = 10_000


@pytest.fixture(autouse=True)
def _small_first_matte(monkeypatch):
    """The 128 and 160 px test photos count as large: first matte at 10 000 pixels."""
    monkeypatch.setattr(docmod, "OPEN_PREVIEW_PIXELS", PREVIEW_PIXELS)


def _record(win):
    """(preview?, provisional trimap?, loader busy?, result) for every alpha shown."""
    c = win.controller
    events = []
    win.alphaShown.connect(lambda: events.append(
        (c.doc.result.preview, c.doc.trimap_is_provisional, c.loader.is_busy(), c.doc.result)))
    return events


def _gated_trimap(monkeypatch, path):
    """Hold the full-resolution automatic trimap of ``path`` until the returned event is set;
    the list records the photos whose exact trimap got computed."""
    gate, done = threading.Event(), []
    real = docmod.auto_trimap

    def gated(image, mask, settings):
        full = image.path is not None and str(image.path) == str(path)
        if full and image.rgb.shape[0] * image.rgb.shape[1] > 1.2 * PREVIEW_PIXELS:
            assert gate.wait(60)
            done.append(str(image.path))
        return real(image, mask, settings)

    monkeypatch.setattr(docmod, "auto_trimap", gated)
    return gate, done


def test_first_matte_is_shown_before_the_full_result(qtbot, window, photo):
    c = window.controller
    events = _record(window)
    window.open_path(photo)
    wait_alpha(qtbot, window)

    # first on screen: the preview-size matte, before the full-resolution trimap was
    # installed (the trimap was still the provisional one); then the full solve of the exact
    # trimap
    assert len(events) >= 2
    preview, provisional, _, first = events[0]
    assert preview and provisional
    assert not events[-1][0] and not events[-1][1]
    assert all(e[0] for e in events[:-1])

    image = load_image(photo)
    settings = PipelineSettings()
    doc = Document(image, compute_mask(image, settings), settings)
    expected = first_matte(doc, compute_small_mask(image, settings))
    assert np.array_equal(first.alpha, expected.alpha)  # solved at preview size, enlarged
    assert np.array_equal(first.trimap, expected.trimap)
    assert first.alpha.shape == image.rgb.shape[:2]

    # the final trimap is exactly the automatic trimap of a plain open, and its full solve
    final = c.doc.result
    assert np.array_equal(c.doc.trimap(), auto_trimap(image, doc.mask, settings))
    np.testing.assert_allclose(final.alpha, solve_alpha(image.rgb, c.doc.trimap()), atol=1e-4)
    assert window.shown_alpha is final.alpha
    assert "up to date" in window.panels["alpha"].badge.text()


def test_preview_badge_and_trimap_view_while_the_full_trimap_is_computed(
        qtbot, window, photo, monkeypatch):
    c = window.controller
    gate, done = _gated_trimap(monkeypatch, photo)
    events = _record(window)
    window.open_path(photo)
    qtbot.waitUntil(lambda: bool(events), timeout=60_000)
    assert c.doc.trimap_is_provisional and c.loader.is_busy()
    assert "preview" in window.panels["alpha"].badge.text()
    assert window.trimap_view.has_image() and window.photo_view.has_image()
    assert window.shown_alpha is c.doc.result.alpha

    # a stroke painted meanwhile waits for the exact trimap, then is replayed onto it
    stroke = Stroke("background", 5.0, ((10.0, 10.0), (30.0, 12.0)))
    requests = c.matte_requests
    c.add_stroke(stroke)
    assert c.matte_requests == requests  # no solve on the provisional trimap
    gate.set()
    wait_alpha(qtbot, window)
    assert done == [str(photo)]
    image = load_image(photo)
    settings = PipelineSettings()
    expected = np.array(auto_trimap(image, compute_mask(image, settings), settings), copy=True)
    draw_stroke(expected, stroke)
    assert np.array_equal(c.doc.trimap(), expected)
    assert c.doc.strokes == (stroke,)


def test_opening_another_photo_stops_the_work_for_the_first(
        qtbot, window, photo, photo160, monkeypatch):
    c = window.controller
    gate, done = _gated_trimap(monkeypatch, photo)
    events = _record(window)
    opened: list[str] = []
    c.documentOpened.connect(lambda doc: opened.append(str(doc.path)))
    submitted = []
    real_submit = c.matter.submit
    monkeypatch.setattr(c.matter, "submit", lambda job, tag="": (
        submitted.append(str(c.doc.path)), real_submit(job, tag))[1])

    window.open_path(photo)
    qtbot.waitUntil(lambda: bool(events), timeout=60_000)  # first matte of the first photo
    cancelled = c.loader.cancelled_count
    window.open_path(photo160)  # supersedes: its token is cancelled
    gate.set()  # let the held step return: the job must then stop, not deliver
    wait_alpha(qtbot, window)

    assert opened == [str(photo), str(photo160)]
    assert c.loader.cancelled_count == cancelled + 1
    assert str(photo) not in submitted  # never solved at full resolution
    assert done == [str(photo)]  # the held step ran to its end, and nothing came of it
    assert c.doc.path == photo160 and c.alpha_is_current()
    assert c.doc.image.size == (160, 160)


def test_a_failed_open_after_a_first_matte_finishes_the_photo_that_stays_open(
        qtbot, window, photo, tmp_path, monkeypatch):
    c = window.controller
    gate, done = _gated_trimap(monkeypatch, photo)
    events = _record(window)
    window.open_path(photo)
    qtbot.waitUntil(lambda: bool(events), timeout=60_000)
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    window.open_path(bad)  # stops the first photo's open (held in its last step), then fails
    gate.set()
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=60_000)
    wait_alpha(qtbot, window)
    assert c.doc.path == photo and not c.doc.trimap_is_provisional
    image = load_image(photo)
    settings = PipelineSettings()
    assert np.array_equal(c.doc.trimap(), auto_trimap(image, compute_mask(image, settings),
                                                      settings))
    assert done == [str(photo), str(photo)]  # the stopped step, then the finishing job


def test_opening_another_photo_during_the_model_run_shows_only_the_second(
        qtbot, window, photo, photo160):
    c = window.controller
    opened = []
    c.documentOpened.connect(lambda doc: opened.append(str(doc.path)))
    window.open_path(photo)
    window.open_path(photo160)
    wait_alpha(qtbot, window)
    assert opened == [str(photo160)]
    assert c.doc.path == photo160 and c.alpha_is_current()


def test_first_matte_display_images_match_the_windows_own(qtbot):
    """The loader's ready-to-show images have the pixels the window would make itself (the
    premultiplied cutout within one level)."""
    from PySide6.QtGui import QImage, QPixmap

    from matting_studio.gui.editor import first_matte_display, photo_display, trimap_display
    from matting_studio.gui.qimage import (
        GREY_TABLE,
        OVERLAY_TABLE,
        cutout_rgba,
        float_to_u8,
        indexed_qimage,
        to_qimage,
    )

    def shown(img):
        q = QPixmap.fromImage(img).toImage().convertToFormat(
            QImage.Format.Format_ARGB32_Premultiplied)
        rows = np.frombuffer(q.constBits(), np.uint8).reshape(q.height(), q.bytesPerLine())
        return rows[:, :4 * q.width()].astype(int)

    rng = np.random.default_rng(0)
    for h, w in ((37, 53), (40, 41)):
        rgb = rng.random((h, w, 3), dtype=np.float32)
        alpha = rng.random((h, w), dtype=np.float32)
        alpha[:5], alpha[5:10] = 0.0, 1.0
        trimap = rng.choice(np.array([0, 128, 255, 7], np.uint8), (h, w))
        rgb8, photo, bgra = photo_display(rgb)
        assert np.array_equal(shown(photo), shown(to_qimage(float_to_u8(rgb))))
        alpha_img, cutout_img = first_matte_display(rgb8, bgra, alpha)
        assert np.array_equal(shown(alpha_img), shown(to_qimage(float_to_u8(alpha))))
        assert np.abs(shown(cutout_img) - shown(to_qimage(cutout_rgba(rgb, alpha)))).max() <= 1
        grey, tint = trimap_display(trimap)
        assert np.array_equal(shown(grey), shown(indexed_qimage(trimap, GREY_TABLE)))
        assert np.array_equal(shown(tint), shown(indexed_qimage(trimap, OVERLAY_TABLE)))
