"""The model's zoomed-out views: where they land on the photo, and what they may add."""

import cv2
import numpy as np

from matting_studio.core.mask_views import (
    ZOOM_WEIGHT,
    _crop_answer,
    _fills_the_frame,
    _zoomed_out,
    model_answers,
    upsample_mask,
)


class _BrightModel:
    """A stand-in salient-object model: "subject" = bright pixels, at 64×64. With
    ``shy_of_edges`` it ignores bright regions touching the frame, as salient-object models
    trained on centred subjects tend to."""

    def __init__(self, shy_of_edges=False):
        self.shy_of_edges = shy_of_edges

    def predict_small(self, rgb):
        small = cv2.resize(np.asarray(rgb, np.float32), (64, 64), interpolation=cv2.INTER_AREA)
        fg = (small.mean(axis=2) > 0.5).astype(np.uint8)
        if self.shy_of_edges:
            _, labels = cv2.connectedComponents(fg)
            edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
            fg[np.isin(labels, edge[edge > 0])] = 0
        return fg.astype(np.float32)


def _photo(h=120, w=200, touching=False):
    rgb = np.full((h, w, 3), 0.1, np.float32)
    y1 = h if touching else h - 30
    rgb[30:y1, 60:150] = 0.9
    return rgb


def test_the_zoomed_out_answer_lines_up_with_the_photo():
    rgb = _photo()
    model = _BrightModel()
    canvas, box = _zoomed_out(rgb, 0.2)
    y0, y1, x0, x1 = box
    assert canvas.shape[0] == y1 - y0 + 2 * y0 and np.allclose(canvas[y0:y1, x0:x1], rgb)
    centred = upsample_mask(model.predict_small(rgb), rgb.shape[:2])
    zoomed = upsample_mask(_crop_answer(model.predict_small(canvas), box, canvas.shape[:2],
                                        (64, 64)), rgb.shape[:2])
    truth = rgb.mean(axis=2) > 0.5
    for answer in (centred, zoomed):
        found = answer >= 0.5
        assert (found & truth).sum() / (found | truth).sum() > 0.9
    # the zoomed-out view is coarser but in the same place: edges within a few pixels
    assert np.abs(zoomed - centred).mean() < 0.05


def test_the_zoomed_out_view_adds_a_subject_cut_by_the_frame():
    rgb = _photo(touching=True)
    model = _BrightModel(shy_of_edges=True)
    truth = rgb.mean(axis=2) > 0.5
    alone = upsample_mask(model_answers(model, rgb, zoom_margin=0.0), rgb.shape[:2])
    assert alone.max() == 0.0  # the photo's own views miss it
    zoomed = upsample_mask(model_answers(model, rgb), rgb.shape[:2])
    found = zoomed >= 0.5
    assert (found & truth).sum() / (found | truth).sum() > 0.8
    # an addition of the zoomed-out views only, never as sure as the photo's own views
    assert zoomed.max() <= ZOOM_WEIGHT + 1e-6


def test_the_zoomed_out_view_adds_nothing_where_it_only_half_agrees():
    rgb = _photo()
    model = _BrightModel()
    with_zoom = model_answers(model, rgb)
    without = model_answers(model, rgb, zoom_margin=0.0)
    # both views find the same subject: the union changes nothing away from its edge
    inner = cv2.erode((without >= 0.5).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    outer = cv2.dilate((without >= 0.5).astype(np.uint8), np.ones((5, 5), np.uint8)) == 0
    assert np.array_equal(with_zoom[inner | outer], without[inner | outer])


class _PictureModel(_BrightModel):
    """Takes a photo framed by a plain margin for one object (everything that differs from
    the corner's colour), as salient-object models do with a picture on a wall."""

    def predict_small(self, rgb):
        small = cv2.resize(np.asarray(rgb, np.float32), (64, 64), interpolation=cv2.INTER_AREA)
        framed = np.abs(small - small[0, 0]).max(axis=2) > 0.02
        if framed.all():  # no margin: the photo itself
            return super().predict_small(rgb)
        return framed.astype(np.float32)


def test_a_zoomed_out_view_that_takes_the_whole_photo_for_the_subject_adds_nothing():
    rgb = _photo()
    rgb[:, :, 1] += np.linspace(0, 0.05, rgb.shape[1], dtype=np.float32)  # no flat corner
    model = _PictureModel()
    canvas, box = _zoomed_out(rgb, 0.2)
    za = _crop_answer(model.predict_small(canvas), box, canvas.shape[:2], (64, 64))
    assert _fills_the_frame(za) and za.mean() > 0.9  # it did see the photo as one object
    assert np.array_equal(model_answers(model, rgb), model_answers(model, rgb, zoom_margin=0.0))
    # a subject cut by one edge is not "the whole frame"
    cut = _photo(touching=True)
    canvas, box = _zoomed_out(cut, 0.2)
    assert not _fills_the_frame(_crop_answer(_BrightModel().predict_small(canvas), box,
                                             canvas.shape[:2], (64, 64)))
