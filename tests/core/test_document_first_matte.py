"""Opening a large photo in two steps: a first matte at preview size with a provisional trimap,
then the exact full-resolution automatic trimap (core side, no Qt)."""

import numpy as np
import pytest

import matting_studio.core.solve as solvemod
from matting_studio.core.document import Document, open_document, open_document_with_preview
from matting_studio.core.io import load_image
from matting_studio.core.pipeline import (
    PipelineSettings,
    auto_trimap,
    compute_mask,
    compute_small_mask,
)
from matting_studio.core.solve import SolveRequest, first_matte, preview_size, solve
from matting_studio.core.trimap import Stroke, TrimapParams, draw_stroke
from matting_studio.resources_path import SAMPLE_PHOTO, resource_path


@pytest.fixture(scope="module")
def sample():
    return load_image(resource_path(SAMPLE_PHOTO))


@pytest.fixture
def small_preview(monkeypatch):
    """Photos above 20 000 pixels get a first matte (the sample photo is larger)."""
    monkeypatch.setattr(solvemod, "OPEN_PREVIEW_PIXELS", 20_000)


def test_first_matte_is_solved_at_preview_size_and_enlarged(sample, small_preview):
    settings = PipelineSettings()
    small = compute_small_mask(sample, settings)
    doc = Document(sample, small, settings)
    first = first_matte(sample, small, settings)
    h, w = doc.shape
    assert first.preview and first.alpha.shape == (h, w) and first.trimap.shape == (h, w)
    assert first.alpha.dtype == np.float32 and 0 <= first.alpha.min() and first.alpha.max() <= 1
    pw, ph = preview_size((h, w), 20_000)
    assert pw * ph < 21_000 and abs(pw / ph - w / h) < 0.05
    # the trimap was made at preview size: enlarged by nearest neighbour it is blocky, and it
    # is close to the exact one
    exact = auto_trimap(sample, doc.mask, settings)
    assert set(np.unique(first.trimap)) <= {0, 128, 255}
    assert (first.trimap == exact).mean() > 0.9
    assert (first.alpha[first.trimap == 255] == 1).all()
    assert (first.alpha[first.trimap == 0] == 0).all()
    # small photos get none
    assert first_matte(sample, small, settings, pixels=h * w) is None


def test_open_with_preview_hands_over_a_provisional_document_then_the_exact_trimap(
        sample, small_preview):
    settings = PipelineSettings()
    seen = []

    def on_first(doc):
        seen.append((doc.trimap_is_provisional, doc.result.preview, doc.trimap().copy()))

    doc, exact = open_document_with_preview(resource_path(SAMPLE_PHOTO), settings, on_first)
    assert len(seen) == 1 and seen[0][0] and seen[0][1]
    assert doc.trimap_is_provisional and np.array_equal(doc.trimap(), seen[0][2])
    key, trimap = exact
    reference = open_document(resource_path(SAMPLE_PHOTO), settings)
    assert np.array_equal(trimap, reference.trimap())  # the same trimap as a plain open
    assert np.array_equal(doc.mask, reference.mask)
    assert np.array_equal(doc.mask, compute_mask(sample, settings))
    revision = doc.revision
    assert doc.install_auto_trimap(key, trimap)
    assert doc.revision == revision + 1 and not doc.trimap_is_provisional
    assert np.array_equal(doc.trimap(), reference.trimap())
    assert not doc.install_auto_trimap(key, trimap)  # nothing provisional any more


def test_small_photo_opens_in_one_step(sample):
    calls = []
    doc, exact = open_document_with_preview(resource_path(SAMPLE_PHOTO), None, calls.append)
    assert exact is None and calls == [] and not doc.trimap_is_provisional
    assert doc.result is None


def test_strokes_and_settings_changes_while_provisional(sample, small_preview):
    settings = PipelineSettings()
    doc, (key, exact) = open_document_with_preview(resource_path(SAMPLE_PHOTO), settings,
                                                   lambda d: None)
    stroke = Stroke("foreground", 6.0, ((40.0, 40.0), (80.0, 60.0)))
    doc.add_stroke(stroke)
    provisional = doc.trimap().copy()
    # a classic trimap, chosen meanwhile, is computed as usual and is not provisional
    classic = doc.set_trimap_params(TrimapParams())
    assert not doc.trimap_is_provisional
    assert not doc.install_auto_trimap(key, exact)  # stored, but not in use: no new revision
    doc.set_settings(classic)  # back to the adaptive trimap: the exact one now
    expected = np.array(exact, copy=True)
    draw_stroke(expected, stroke)
    assert np.array_equal(doc.trimap(), expected)
    assert not np.array_equal(provisional, expected)


def test_a_request_without_quick_preview_reports_none(sample, monkeypatch):
    monkeypatch.setattr(solvemod, "FIRST_PREVIEW_PIXELS", 100)
    settings = PipelineSettings(backend="cf")
    doc = Document(sample, compute_small_mask(sample, settings), settings)
    for quick, count in ((True, 1), (False, 0)):
        previews = []
        result = solve(doc.solve_request(quick_preview=quick), on_preview=previews.append)
        assert len(previews) == count and not result.preview
        assert all(p.preview for p in previews)
    # without a listener there is nothing to preview for
    assert not solve(SolveRequest.of(sample, doc.trimap(), settings)).preview


def test_a_partial_answer_completed_later(sample, small_preview):
    """A document made from the model's answers on the photo alone (complete=False) gets the
    zoomed-out view's answer later: the trimaps made from the partial answer go, and the
    trimap on screen counts as changed unless it is the provisional one being replaced."""
    settings = PipelineSettings()
    full = compute_small_mask(sample, settings)
    partial = np.clip(full - 0.3, 0.0, 1.0)  # an answer that finds less subject
    stroke = Stroke("background", 4.0, ((5.0, 5.0), (30.0, 8.0)))

    # 1. the trimap in use was made from the partial answer
    doc = Document(sample, partial, settings, complete=False)
    doc.add_stroke(stroke)
    assert not doc.answer_is_complete()
    before, revision = doc.trimap().copy(), doc.revision
    doc.add_model_answer(settings, full)
    assert doc.answer_is_complete() and doc.revision == revision + 1
    expected = np.array(auto_trimap(sample, compute_mask(sample, settings), settings))
    draw_stroke(expected, stroke)
    assert np.array_equal(doc.trimap(), expected) and not np.array_equal(before, expected)

    # 2. a provisional trimap (first matte) stands in: the exact trimap replaces it
    doc = Document(sample, partial, settings, complete=False)
    first = first_matte(sample, partial, settings)
    doc.set_provisional_trimap(first.trimap)
    doc.set_result(first)
    revision = doc.revision
    exact = doc.compute_auto_trimap(settings, sample, small_mask=full)
    doc.add_model_answer(settings, full)
    assert doc.revision == revision and doc.trimap_is_provisional
    assert doc.install_auto_trimap(*exact) and not doc.trimap_is_provisional
    assert np.array_equal(doc.trimap(), auto_trimap(sample, compute_mask(sample, settings),
                                                    settings))
