"""The editor's two-step solver: a quick preview, then the full solve."""

import numpy as np

from matting_studio.core import solve as solvemod
from matting_studio.core.io import LoadedImage
from matting_studio.core.pipeline import PipelineSettings
from matting_studio.core.solve import SolveRequest, SolveResult, preview, solve
from matting_studio.core.trimap import Stroke, apply_strokes


def _image(rgb):
    return LoadedImage(rgb=rgb.astype(np.float32), source_alpha=None, bit_depth=8,
                       icc_profile=None, exif=None)


def _big_disc(make_disc, size=160):
    return make_disc(size=size, radius=size * 0.3, soft=4.0)


def test_preview_after_a_stroke_matches_the_full_solve_near_it(make_disc):
    image, gt, trimap = _big_disc(make_disc)
    img = _image(image)
    settings = PipelineSettings()
    first = solve(SolveRequest.of(img, trimap, settings))
    stroke = Stroke("background", 5.0, ((80.0, 40.0), (80.0, 60.0)))  # cuts into the disc
    edited = apply_strokes(trimap, [stroke])
    req = SolveRequest.of(img, edited, settings, revision=1,
                          previous=SolveResult(trimap, first.alpha, None, 0))
    result = preview(req)
    quick, region = result.alpha, result.region
    assert result.preview and result.revision == 1
    full = solve(req).alpha
    assert quick.shape == full.shape
    y0, y1, x0, x1 = stroke.bounds(edited.shape)
    near = np.s_[y0:y1, x0:x1]
    ry0, ry1, rx0, rx1 = region
    assert ry0 <= y0 and ry1 >= y1 and rx0 <= x0 and rx1 >= x1
    outside = np.ones(quick.shape, bool)
    outside[ry0:ry1, rx0:rx1] = False
    np.testing.assert_array_equal(quick[outside], first.alpha[outside])
    assert np.abs(quick[near] - full[near]).mean() < 0.02
    # away from the stroke the preview keeps the previous alpha exactly
    np.testing.assert_array_equal(quick[130:, :], first.alpha[130:, :])
    np.testing.assert_array_equal(quick[edited == 255], 1.0)


def test_no_preview_when_nothing_changed_or_photo_small(make_disc):
    image, gt, trimap = _big_disc(make_disc, 64)
    img = _image(image)
    first = solve(SolveRequest.of(img, trimap, PipelineSettings()))
    same = SolveRequest.of(img, trimap, PipelineSettings(), previous=first)
    assert preview(same) is None
    assert preview(SolveRequest.of(img, trimap, PipelineSettings())) is None


def test_first_solve_of_a_large_photo_previews_at_reduced_size(monkeypatch, make_disc):
    image, gt, trimap = _big_disc(make_disc, 200)
    monkeypatch.setattr(solvemod, "FIRST_PREVIEW_PIXELS", 100 * 100)
    req = SolveRequest.of(_image(image), trimap, PipelineSettings())
    seen = []
    final = solve(req, on_preview=seen.append)
    assert len(seen) == 1 and seen[0].preview and not final.preview and seen[0].region is None
    quick = seen[0].alpha
    unknown = trimap == 128
    assert np.abs(quick - final.alpha)[unknown].mean() < 0.05
    assert np.abs(final.alpha - gt)[unknown].mean() < 0.05


def test_every_alpha_is_capped_by_the_files_own_transparency(make_disc):
    """The source-alpha rule (ADR 0001) holds for previews and full solves alike, from the
    one place that applies it."""
    image, gt, trimap = _big_disc(make_disc, 64)
    source_alpha = np.full(trimap.shape, 0.5, np.float32)
    img = LoadedImage(rgb=image.astype(np.float32), source_alpha=source_alpha, bit_depth=8,
                      icc_profile=None, exif=None)
    first = solve(SolveRequest.of(img, trimap, PipelineSettings()))
    assert first.alpha.max() <= 0.5 and first.alpha.max() > 0.4
    edited = apply_strokes(trimap, [Stroke("foreground", 4.0, ((20.0, 32.0),))])
    quick = preview(SolveRequest.of(img, edited, PipelineSettings(), previous=first))
    assert quick.alpha.max() <= 0.5
