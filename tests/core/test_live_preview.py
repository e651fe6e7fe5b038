"""The editor's two-step solver: a quick preview, then the full solve."""

import numpy as np

from matting_studio.core import document as docmod
from matting_studio.core.document import (MattingResult, build_matting_request, interactive_solve,
                                          preview_alpha, solve_request)
from matting_studio.core.image_io import LoadedImage
from matting_studio.core.pipeline import PipelineSettings
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
    first = solve_request(build_matting_request(img, trimap, settings))
    stroke = Stroke("background", 5.0, ((80.0, 40.0), (80.0, 60.0)))  # cuts into the disc
    edited = apply_strokes(trimap, [stroke])
    req = build_matting_request(img, edited, settings, revision=1,
                                previous=MattingResult(trimap, first.alpha, None, 0))
    quick, region = preview_alpha(req)
    full = solve_request(req).alpha
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
    first = solve_request(build_matting_request(img, trimap, PipelineSettings()))
    same = build_matting_request(img, trimap, PipelineSettings(), previous=first)
    assert preview_alpha(same) is None
    assert preview_alpha(build_matting_request(img, trimap, PipelineSettings())) is None


def test_first_solve_of_a_large_photo_previews_at_reduced_size(monkeypatch, make_disc):
    image, gt, trimap = _big_disc(make_disc, 200)
    monkeypatch.setattr(docmod, "FIRST_PREVIEW_PIXELS", 100 * 100)
    req = build_matting_request(_image(image), trimap, PipelineSettings())
    seen = []

    def progress(f, m):
        pass

    progress.partial = seen.append
    final = interactive_solve(req, progress)
    assert len(seen) == 1 and seen[0].preview and not final.preview and seen[0].region is None
    quick = seen[0].alpha
    unknown = trimap == 128
    assert np.abs(quick - final.alpha)[unknown].mean() < 0.05
    assert np.abs(final.alpha - gt)[unknown].mean() < 0.05
