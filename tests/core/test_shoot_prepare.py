"""core/shoot.py: what is kept of a photo that is not on screen (no window needed)."""

import cv2
import numpy as np

from matting_studio.core.io import load_image
from matting_studio.core.pipeline import model_views_of
from matting_studio.core.settings import PipelineSettings
from matting_studio.core.shoot import (
    PREPARED_SIDE,
    Shoot,
    ShootPhoto,
    prepare,
    prepare_photo,
    reduce,
    union,
)
from matting_studio.resources_path import SAMPLE_PHOTO, resource_path


def test_background_model_runs_one_at_a_time_give_the_same_answers():
    image = load_image(resource_path(SAMPLE_PHOTO))
    settings = PipelineSettings()
    together = model_views_of(image, settings)
    one_by_one = model_views_of(image, settings, side_by_side=False)
    assert len(together) == len(one_by_one) == 2
    for a, b in zip(together, one_by_one):
        np.testing.assert_array_equal(a, b)
    prepared = prepare(image, settings)
    for a, b in zip(prepared.views, together):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(prepared.small_mask, union(together))
    assert max(prepared.rgb.shape[:2]) == min(PREPARED_SIDE, max(image.rgb.shape[:2]))
    assert prepared.rgb.dtype == np.uint8 and prepared.alpha.shape == prepared.rgb.shape[:2]


def test_a_reduced_photo_holds_none_of_the_full_size_pixels_and_prepares_the_same(tmp_path):
    sample = cv2.imread(str(resource_path(SAMPLE_PHOTO)))
    path = tmp_path / "large.png"  # larger than the display size
    cv2.imwrite(str(path), cv2.resize(sample, (2000, 1600), interpolation=cv2.INTER_CUBIC))
    image = load_image(path)
    settings = PipelineSettings()
    reduced = reduce(image, settings)
    arrays = [reduced.small.rgb, reduced.inputs.photo, reduced.inputs.zoomed]
    assert all(a is not None and not np.shares_memory(a, image.rgb) for a in arrays)
    # display size and the model's own input size: nothing of the photo's size is kept
    assert reduced.small.rgb.shape[:2] == (1024, PREPARED_SIDE)
    assert reduced.inputs.photo.shape == reduced.inputs.zoomed.shape == (1, 3, 320, 320)
    assert sum(a.nbytes for a in arrays) < image.rgb.nbytes / 2
    whole, from_file = prepare(image, settings), prepare_photo(path, settings)
    assert reduced.size == image.size == whole.size
    for got in (prepare(reduced, settings), from_file):
        for a, b in zip(got.views, whole.views):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(got.alpha, whole.alpha)
        assert got.quality.score == whole.quality.score


def test_photos_coming_near_are_prepared_again_after_their_pixels_were_let_go(tmp_path):
    image = load_image(resource_path(SAMPLE_PHOTO))
    record = prepare(image, PipelineSettings())
    shoot = Shoot(photos=[ShootPhoto(tmp_path / f"{i}.jpg", prepared=record) for i in range(10)],
                  current=0)
    shoot.slim_far()
    assert [p.prepared.rgb is not None for p in shoot.photos] == [True] * 4 + [False] * 6
    assert shoot.next_to_prepare() is None  # all prepared; the far ones need no pixels
    shoot.current = 3  # the user moved on: photos 4..6 are near now
    assert shoot.next_to_prepare() == 4
    shoot.photos[4].prepared = record
    assert shoot.next_to_prepare() == 5
    shoot.photos[5].state = "failed"
    assert shoot.next_to_prepare() == 6
    shoot.photos[6].prepared = record
    assert shoot.next_to_prepare() is None  # 2 is near too (one before) and still has pixels
    shoot.slim_far()
    assert shoot.photos[0].prepared.rgb is None and shoot.photos[2].prepared.rgb is not None
    shoot.photos[1].prepared = record.slim()
    assert shoot.next_to_prepare() is None  # 1 is not near photo 3
    shoot.current = 2
    assert shoot.next_to_prepare() == 1  # the one before the photo on screen
