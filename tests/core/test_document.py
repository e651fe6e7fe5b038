"""core/document.py: the Qt-free editing model (no window needed)."""

from __future__ import annotations

import numpy as np
import pytest

from matting_studio.core.document import Document, default_export_path, export_document
from matting_studio.core.errors import Cancelled, ExportError
from matting_studio.core.io import LoadedImage
from matting_studio.core.matting import solve_alpha
from matting_studio.core.pipeline import PipelineSettings, auto_trimap
from matting_studio.core.progress import CancelToken
from matting_studio.core.solve import SolveRequest, solve
from matting_studio.core.trimap import (
    BACKGROUND,
    FOREGROUND,
    Stroke,
    TrimapParams,
    apply_strokes,
    make_trimap,
)


@pytest.fixture
def doc(disc, tmp_path):
    image, alpha, _trimap = disc
    img = LoadedImage(rgb=image.astype(np.float32), source_alpha=None, bit_depth=8,
                      icc_profile=None, exif=None, path=tmp_path / "disc.png", format="PNG")
    mask = alpha.astype(np.float32)  # stands in for the model's mask
    return Document(img, mask)


def test_trimap_is_auto_trimap_plus_strokes_replayed(doc):
    auto = auto_trimap(doc.image, doc.mask, doc.settings)
    assert np.array_equal(doc.auto_trimap(), auto)
    assert np.array_equal(doc.trimap(), auto)
    s1 = Stroke("background", 3, ((32, 32),))
    s2 = Stroke("foreground", 2, ((30, 32), (34, 32)))
    doc.add_stroke(s1)
    doc.add_stroke(s2)
    assert np.array_equal(doc.trimap(), apply_strokes(auto, [s1, s2]))
    assert doc.strokes == (s1, s2)
    assert doc.remove_stroke() == s2
    assert np.array_equal(doc.trimap(), apply_strokes(auto, [s1]))
    doc.insert_stroke(0, s2)
    assert np.array_equal(doc.trimap(), apply_strokes(auto, [s2, s1]))
    assert doc.reset() == (s2, s1)
    assert np.array_equal(doc.trimap(), auto)
    assert not doc.trimap().flags.writeable


def test_auto_trimap_cached_per_params_and_revision_counts_changes(doc):
    a = doc.auto_trimap()
    assert doc.auto_trimap() is a
    r = doc.revision
    old = doc.set_trimap_params(TrimapParams(kernel_size=3, iterations=1))
    assert doc.revision == r + 1 and doc.settings.trimap_preset == "classic"
    assert np.array_equal(doc.trimap(), make_trimap(doc.mask, TrimapParams(3, 1)))
    doc.set_settings(old)
    assert doc.auto_trimap() is a and doc.revision == r + 2


def test_solve_request_is_a_snapshot_and_solve_matches_solve_alpha(doc):
    doc.add_stroke(Stroke("unknown", 2, ((20, 32), (24, 32))))
    req = doc.solve_request()
    assert not req.trimap.flags.writeable
    doc.add_stroke(Stroke("background", 4, ((32, 32),)))  # later edits do not touch the request
    assert not np.array_equal(req.trimap, doc.trimap())
    res = solve(req)
    np.testing.assert_allclose(res.alpha, solve_alpha(doc.image.rgb, req.trimap), atol=1e-6)
    assert res.foreground.shape == doc.image.rgb.shape
    doc.set_result(res)
    assert not doc.alpha_is_current()
    doc.remove_stroke()
    assert doc.alpha_is_current()
    assert doc.solve_request().previous is res


def test_a_cancelled_solve_raises(doc):
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        solve(doc.solve_request(), cancel=token)


def test_source_alpha_caps_the_matte(doc):
    src = np.full(doc.shape, 0.5, np.float32)
    img = LoadedImage(rgb=doc.image.rgb, source_alpha=src, bit_depth=8, icc_profile=None, exif=None)
    assert solve(SolveRequest.of(img, doc.trimap(), doc.settings)).alpha.max() <= 0.5


def test_unloading_keeps_the_edits_and_reloading_gives_the_same_trimap(doc):
    doc.add_stroke(Stroke("background", 3, ((32, 32),)))
    before = doc.trimap().copy()
    image = doc.image
    doc.set_result(solve(doc.solve_request()))
    doc.unload()
    assert not doc.loaded and doc.result is None and doc.strokes and doc.shape == (64, 64)
    assert doc.name == "disc.png"
    doc.add_stroke(Stroke("foreground", 2, ((5, 5),)))  # undo/redo still work unloaded
    doc.remove_stroke()
    doc.reload(image)
    np.testing.assert_array_equal(doc.trimap(), before)
    small = LoadedImage(rgb=image.rgb[:32], source_alpha=None, bit_depth=8, icc_profile=None,
                        exif=None)
    doc.unload()
    with pytest.raises(ValueError, match="it was 64×64"):
        doc.reload(small)


def test_another_models_answer_can_be_switched_to_and_back(doc):
    """Re-running a photo with another model: its answer is added, the settings switch (one
    undoable step), and switching back needs no model run."""
    other = PipelineSettings(model_path="/models/u2net.onnx", preset="u2net")
    with pytest.raises(ValueError, match="not been computed"):
        doc.set_settings(other)
    assert not doc.has_model_answer(other)
    flipped = np.ascontiguousarray(np.roll(doc.small_mask, 9, axis=1))
    doc.add_model_answer(other, flipped)
    old = doc.set_settings(other)
    assert np.array_equal(doc.small_mask, flipped)
    assert np.array_equal(doc.trimap(), auto_trimap(doc.image, doc.mask, other))
    doc.set_settings(old)
    assert not np.array_equal(doc.small_mask, flipped)


def test_export_needs_a_result_and_never_overwrites_the_original(doc, tmp_path):
    assert default_export_path(doc).name == "disc_cutout.png"
    assert default_export_path(doc, "alpha").name == "disc_alpha.png"
    with pytest.raises(ExportError):
        export_document(doc, tmp_path / "x.png")
    doc.set_result(solve(doc.solve_request()))
    doc.path.write_bytes(b"original")
    with pytest.raises(ExportError):
        export_document(doc, doc.path)
    assert doc.path.read_bytes() == b"original"
    out = export_document(doc, tmp_path / "x.png")
    assert out.is_file()


def test_trimap_values_under_strokes(doc):
    doc.add_stroke(Stroke("foreground", 2, ((5, 5),)))
    doc.add_stroke(Stroke("background", 2, ((32, 32),)))
    t = doc.trimap()
    assert t[5, 5] == FOREGROUND and t[32, 32] == BACKGROUND
