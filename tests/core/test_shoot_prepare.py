"""core/shoot.py: what is kept of a photo that is not on screen (no window needed)."""

import numpy as np

from matting_studio.core.io import load_image
from matting_studio.core.settings import PipelineSettings
from matting_studio.core.shoot import PREPARED_SIDE, model_views_of, prepare, union
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
