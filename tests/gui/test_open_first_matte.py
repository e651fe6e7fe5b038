"""Opening a large photo in the real (offscreen) window: a first matte solved at preview size is
on screen before the full-resolution trimap and alpha; opening another photo stops that work."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from gui_helpers import wait_alpha

import matting_studio.core.document as docmod
import matting_studio.core.solve as solvemod
from matting_studio.core.io import load_image
from matting_studio.core.mask_views import photo_answers, union
from matting_studio.core.matting import solve_alpha
from matting_studio.core.pipeline import (
    PipelineSettings,
    auto_trimap,
    compute_mask,
    compute_small_mask,
    inputs_of,
)
from matting_studio.core.segmentation import get_model
from matting_studio.core.solve import first_matte
from matting_studio.core.trimap import Stroke, draw_stroke

PREVIEW_PIXELS = 10_000


@pytest.fixture(autouse=True)
def _small_first_matte(monkeypatch):
    """The 128 and 160 px test photos count as large: first matte at 10 000 pixels."""
    monkeypatch.setattr(solvemod, "OPEN_PREVIEW_PIXELS", PREVIEW_PIXELS)


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

    # the first matte comes from the model's answers on the photo itself (the zoomed-out view
    # runs while it is on screen), solved at preview size and enlarged
    image = load_image(photo)
    settings = PipelineSettings()
    own = union(photo_answers(get_model(), inputs_of(image, settings)))
    expected = first_matte(image, own, settings)
    assert np.array_equal(first.alpha, expected.alpha)
    assert np.array_equal(first.trimap, expected.trimap)
    assert first.alpha.shape == image.rgb.shape[:2]
    # then the document holds the complete answer, as a plain open's
    assert np.array_equal(c.doc.small_mask, compute_small_mask(image, settings))

    # the final trimap is exactly the automatic trimap of a plain open, and its full solve
    final = c.doc.result
    assert np.array_equal(c.doc.trimap(), auto_trimap(image, compute_mask(image, settings),
                                                      settings))
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


def test_pixel_sources_show_the_arrays_they_share(qtbot):
    """Every view draws from a source over shared uint8 arrays: its full-resolution regions
    are the arrays' own pixels (the premultiplied cut-out within one level), its display-size
    copy is the arrays shrunk, and a change of the arrays in place reaches the copy."""
    import cv2

    from matting_studio.gui.qimage import (
        CutoutSource,
        GreySource,
        RgbSource,
        TintSource,
        cutout_rgba,
        float_to_u8,
        qimage_to_array,
        trimap_overlay,
    )

    def full(source):
        h, w = source.arrays[0].shape[:2]
        return qimage_to_array(source.region(0, h, 0, w)).astype(int)

    rng = np.random.default_rng(0)
    for h, w in ((37, 53), (3000, 41)):
        rgb = rng.random((h, w, 3), dtype=np.float32)
        alpha = rng.random((h, w), dtype=np.float32)
        alpha[:5], alpha[5:10] = 0.0, 1.0
        trimap = rng.choice(np.array([0, 128, 255], np.uint8), (h, w))
        rgb8, a8 = float_to_u8(rgb), float_to_u8(alpha)
        photo = RgbSource(rgb8)
        assert np.array_equal(full(photo)[:, :, :3], rgb8)
        assert np.array_equal(full(GreySource(a8))[:, :, 0], a8)
        cut = full(CutoutSource(rgb8, a8))
        want = cutout_rgba(rgb, alpha).astype(int)
        opaque = a8 >= 64  # straight colours of nearly transparent pixels cannot come back
        assert np.abs(cut[opaque] - want[opaque]).max() <= 4 and np.array_equal(cut[:, :, 3], a8)
        tint = full(TintSource(trimap))
        assert np.abs(tint - trimap_overlay(trimap).astype(int)).max() <= 2
        # the display-size copy
        dw, dh = photo.display_size
        assert max(dw, dh) <= 2048 and photo.full_resolution
        shrunk = cv2.resize(rgb8, (dw, dh), interpolation=cv2.INTER_AREA)
        assert np.array_equal(qimage_to_array(photo.display)[:, :, :3], shrunk)
        # pixels changed in place: region and display copy follow
        rgb8[10:20, 5:30] = (255, 0, 0)
        photo.update(10, 20, 5, 30)
        assert np.array_equal(full(photo)[15, 10, :3], (255, 0, 0))
        s = photo.display_scale
        y, x = int(15 * s), int(10 * s)
        assert qimage_to_array(photo.display)[y, x, 0] > 128
    # a prepared photo's display-size pixels stand for a larger photo
    small = RgbSource(np.zeros((30, 40, 3), np.uint8), image_size=(400, 300))
    assert not small.full_resolution and small.image_size == (400, 300)
    assert small.display_scale == pytest.approx(0.1)
