"""The fast adaptive trimap (half-widths on the boundary only, cropped distance transform) gives
exactly the trimap of the whole-image formulation; the model mask at any size comes from the
same model answers."""

import cv2
import numpy as np
import pytest

from matting_studio.core import auto_trimap
from matting_studio.core.auto_trimap import (
    AdaptiveTrimapParams,
    adaptive_trimap,
    band_half_width,
)
from matting_studio.core.io import load_image
from matting_studio.core.mask_views import model_answers, predict_mask_tta, upsample_mask
from matting_studio.core.segmentation import get_model
from matting_studio.core.trimap import BACKGROUND, FOREGROUND, UNKNOWN
from matting_studio.resources_path import SAMPLE_PHOTO, resource_path


def reference_trimap(mask, rgb, params=None):
    """The whole-image formulation: half-widths everywhere, distance transform of the photo."""
    params = params or AdaptiveTrimapParams()
    m = np.asarray(mask, np.float32)
    if mask.dtype == np.uint8:
        m = m / 255.0
    fg = m >= params.threshold
    trimap = np.where(fg, FOREGROUND, BACKGROUND).astype(np.uint8)
    if fg.all() or not fg.any():
        return trimap
    fg_u8 = fg.astype(np.uint8)
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    boundary = cv2.dilate(fg_u8, cross) != cv2.erode(fg_u8, cross)
    r = band_half_width(m, rgb, params)
    src = np.where(boundary, 0, 255).astype(np.uint8)
    dist, labels = cv2.distanceTransformWithLabels(src, cv2.DIST_L2, 5,
                                                   labelType=cv2.DIST_LABEL_PIXEL)
    by_label = np.zeros(int(labels.max()) + 1, np.float32)
    by_label[labels[boundary]] = r[boundary]
    trimap[dist <= by_label[labels]] = UNKNOWN
    return trimap


def _blobs(h, w, seed, blur):
    """Soft mask with a few blobs (some touching the border) and a textured image."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((h, w), np.float32)
    for _ in range(4):
        cy, cx = rng.uniform(-0.1, 1.1) * h, rng.uniform(-0.1, 1.1) * w
        ry, rx = rng.uniform(0.1, 0.3) * h, rng.uniform(0.1, 0.3) * w
        cv2.ellipse(mask, (int(cx), int(cy)), (int(rx), int(ry)), rng.uniform(0, 180), 0, 360,
                    1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), blur)
    rgb = np.clip(0.5 + 0.3 * (mask[..., None] - 0.5)
                  + rng.normal(0, 0.05, (h, w, 3)), 0, 1).astype(np.float32)
    return mask, rgb


@pytest.mark.parametrize("strip_rows", [512, 13])
@pytest.mark.parametrize("seed", range(6))
def test_same_trimap_as_the_whole_image_formulation(seed, strip_rows, monkeypatch):
    # 13-row strips: many strip seams cross the boundary, and strips shorter than their context
    monkeypatch.setattr(auto_trimap, "STRIP_ROWS", strip_rows)
    h, w = (180, 260) if seed % 2 else (301, 199)
    mask, rgb = _blobs(h, w, seed, blur=1.0 + 2 * seed)
    p = AdaptiveTrimapParams(max_band=0.03 + 0.02 * seed)
    for image in (rgb, None):
        assert np.array_equal(adaptive_trimap(mask, image, p), reference_trimap(mask, image, p))
    m8 = np.rint(mask * 255).astype(np.uint8)
    assert np.array_equal(adaptive_trimap(m8, rgb, p), reference_trimap(m8, rgb, p))


def test_same_trimap_on_a_flat_photo_and_a_half_plane():
    flat = np.full((50, 60, 3), 0.5, np.float32)  # no edges at all: reference gradient 0
    disc = np.zeros((50, 60), np.float32)
    cv2.circle(disc, (30, 25), 12, 1.0, -1)
    half = np.zeros((50, 60), np.float32)
    half[:, :30] = 1.0
    for mask in (disc, half):
        assert np.array_equal(adaptive_trimap(mask, flat), reference_trimap(mask, flat))


def test_same_trimap_on_the_sample_photo():
    image = load_image(resource_path(SAMPLE_PHOTO))
    mask = predict_mask_tta(get_model(), image.rgb)
    t = adaptive_trimap(mask, image.rgb)
    assert (t == UNKNOWN).any() and (t == FOREGROUND).any()
    assert np.array_equal(t, reference_trimap(mask, image.rgb))


def test_masks_at_any_size_come_from_the_same_model_answers():
    image = load_image(resource_path(SAMPLE_PHOTO))
    model = get_model()
    small = model_answers(model, image.rgb)
    h, w = image.rgb.shape[:2]
    assert np.array_equal(upsample_mask(small, (h, w)), predict_mask_tta(model, image.rgb))
    preview = upsample_mask(small, (h // 3, w // 3))
    assert preview.shape == (h // 3, w // 3) and preview.dtype == np.float32
    assert 0.0 <= preview.min() and preview.max() <= 1.0
