"""core/document.py: the Qt-free editing model (no window needed)."""

from __future__ import annotations

import numpy as np
import pytest

from matting_studio.core.document import (
    Document,
    MattingResult,
    build_matting_request,
    default_export_path,
    export_document,
    solve_request,
)
from matting_studio.core.errors import Cancelled, ExportError
from matting_studio.core.io import LoadedImage
from matting_studio.core.matting import solve_alpha
from matting_studio.core.pipeline import auto_trimap
from matting_studio.core.progress import CancelToken
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
    assert doc.revision == r + 1 and doc.trimap_preset == "classic"
    assert np.array_equal(doc.trimap(), make_trimap(doc.mask, TrimapParams(3, 1)))
    doc.set_settings(old)
    assert doc.auto_trimap() is a and doc.revision == r + 2


def test_matting_request_is_a_snapshot_and_solve_matches_solve_alpha(doc):
    doc.add_stroke(Stroke("unknown", 2, ((20, 32), (24, 32))))
    req = doc.matting_request()
    assert not req.trimap.flags.writeable
    doc.add_stroke(Stroke("background", 4, ((32, 32),)))  # later edits do not touch the request
    assert not np.array_equal(req.trimap, doc.trimap())
    res = solve_request(req)
    np.testing.assert_allclose(res.alpha, solve_alpha(doc.image.rgb, req.trimap), atol=1e-6)
    assert res.foreground.shape == doc.image.rgb.shape
    doc.set_result(res)
    assert not doc.alpha_is_current()
    doc.remove_stroke()
    assert doc.alpha_is_current()
    nxt = doc.matting_request()
    assert nxt.previous_alpha is res.alpha and np.array_equal(nxt.previous_trimap, res.trimap)


def test_solver_is_swappable_and_cancellable(doc):
    calls = []

    def fake(request, progress, cancel):
        calls.append(request.revision)
        return MattingResult(request.trimap, (request.trimap / 255).astype(np.float32), None,
                             request.revision)

    doc.solver = fake
    job = doc.matting_job()
    res = job(lambda f, m: None, None)
    assert calls == [doc.revision] and res.alpha.max() == 1.0
    doc.solver = solve_request
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        doc.matting_job()(lambda f, m: None, token)


def test_source_alpha_caps_the_matte(doc):
    src = np.full(doc.shape, 0.5, np.float32)
    img = LoadedImage(rgb=doc.image.rgb, source_alpha=src, bit_depth=8, icc_profile=None, exif=None)
    req = build_matting_request(img, doc.trimap(), doc.settings)
    assert solve_request(req, cancel=None).alpha.max() <= 0.5


def test_export_needs_a_result_and_never_overwrites_the_original(doc, tmp_path):
    assert default_export_path(doc).name == "disc_cutout.png"
    assert default_export_path(doc, "alpha").name == "disc_alpha.png"
    with pytest.raises(ExportError):
        export_document(doc, tmp_path / "x.png")
    doc.set_result(solve_request(doc.matting_request()))
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
