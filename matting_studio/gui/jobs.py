"""The editor's background jobs and the typed payloads they hand to the window.

Each job runs on a :class:`~.worker.Worker` thread: it calls the core (open, solve, prepare,
export) and makes the display sources (:mod:`.qimage`) there, so the GUI thread only swaps
references. What a job returns or previews is one of the frozen dataclasses below.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..core.document import Document
from ..core.executor import spawn
from ..core.foreground import estimate_foreground
from ..core.io import LoadedImage, load_image
from ..core.mask_views import add_zoomed, photo_answers, union, zoomed_answer
from ..core.photo_source import Fingerprint
from ..core.pipeline import inputs_of, model_views_of
from ..core.project import PhotoEdit
from ..core.segmentation import get_model
from ..core.settings import PipelineSettings
from ..core.shoot import Prepared, prepare_photo
from ..core.solve import SolveRequest, SolveResult, finish_alpha, first_matte
from .qimage import CutoutSource, GreySource, RgbSource, float_to_u8
from .worker import JobContext

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MatteImages:
    """A matte ready to show: its result and the arrays and sources of the alpha and cut-out
    views (uint8; the cut-out's colours are the edge colours where known, else the photo's)."""

    result: SolveResult
    alpha8: np.ndarray
    colours8: np.ndarray
    alpha_source: GreySource
    cutout_source: CutoutSource


@dataclass(frozen=True)
class MattePatch:
    """A preview that changed only ``region`` (y0, y1, x0, x1) of the matte on screen: the
    window writes the patches into its arrays in place."""

    result: SolveResult
    region: tuple[int, int, int, int]
    alpha8: np.ndarray
    colours8: np.ndarray


@dataclass(frozen=True)
class FirstMatte:
    """A large photo handed over with a first matte, before its full-resolution trimap."""

    doc: Document
    photo_rgb8: np.ndarray
    photo_source: RgbSource
    matte: MatteImages


@dataclass(frozen=True)
class Opened:
    """The photo on screen is loaded: its document, its display pixels, (for a large photo or
    a reloaded one) the exact automatic trimap to install, ``(key, trimap)``, and the model's
    answers (None when reused from before)."""

    doc: Document
    photo_rgb8: np.ndarray
    photo_source: RgbSource
    exact: tuple[tuple, np.ndarray] | None
    fingerprint: Fingerprint | None
    views: tuple[np.ndarray, ...] | None = None
    reloaded: LoadedImage | None = None
    """The pixels of an unloaded ``doc``, given back to it in the GUI thread."""
    answer: tuple[PipelineSettings, np.ndarray] | None = None
    """The model's complete answer (with the zoomed-out view) for these settings, when the
    first matte was made from the photo's own answers: the GUI thread gives it to ``doc``
    along with the exact trimap made from it."""


@dataclass(frozen=True)
class PreparedPhoto:
    """A photo not on screen, prepared: model answer, display-size cut-out, quality."""

    path: Path
    prepared: Prepared
    fingerprint: Fingerprint | None


def _fingerprint(path: Path) -> Fingerprint | None:
    try:
        return Fingerprint.of(path)
    except OSError:
        return None


def matte_images(result: SolveResult, colours: np.ndarray) -> MatteImages:
    """Display arrays and sources of a full-size result (``colours``: float (h, w, 3) edge
    colours or the photo)."""
    alpha8 = float_to_u8(result.alpha)
    colours8 = colours if colours.dtype == np.uint8 else float_to_u8(colours)
    return MatteImages(result, alpha8, colours8, GreySource(alpha8),
                       CutoutSource(colours8, alpha8))


def matte_job(request: SolveRequest, photo_rgb8: np.ndarray, solver, ctx: JobContext
              ) -> MatteImages:
    """Solve the request (``solver`` is :func:`~..core.solve.solve` or a test's stand-in) and
    make its display images; previews go out through ``ctx.preview`` as they come.

    The result kept for the document carries no full-size edge colours (export estimates them
    again): the views need only their 8-bit copy, which the solve makes directly
    (``photo8``).
    """
    if request.with_foreground and request.photo8 is None and photo_rgb8 is not None and \
            photo_rgb8.shape[:2] == request.trimap.shape:
        request = replace(request, photo8=photo_rgb8)

    def on_preview(result: SolveResult) -> None:
        if result.region is not None:
            y0, y1, x0, x1 = result.region
            ctx.preview(MattePatch(result, result.region,
                                   float_to_u8(result.alpha[y0:y1, x0:x1]),
                                   np.ascontiguousarray(photo_rgb8[y0:y1, x0:x1])))
        else:
            ctx.preview(matte_images(result, photo_rgb8))

    result = solver(request, ctx.progress, ctx.cancel, on_preview=on_preview)
    ctx.cancel.check()
    colours = result.foreground if result.foreground is not None else photo_rgb8
    return matte_images(replace(result, foreground=None), colours)


def refinish_job(result: SolveResult, image: LoadedImage, settings: PipelineSettings,
                 photo_rgb8: np.ndarray, ctx: JobContext) -> MatteImages:
    """Other edge adjustments on the matte on screen, without solving it again: the adjusted
    matte at once (``ctx.preview``, the photo's colours), then with its edge colours."""
    alpha = finish_alpha(result.raw_alpha, image, settings)
    quick = replace(result, alpha=alpha, edges=settings.edges, preview=True, region=None,
                    foreground=None)
    ctx.preview(matte_images(quick, photo_rgb8))
    ctx.progress(0.3, "estimating edge colours")
    out8 = photo_rgb8.copy() if photo_rgb8 is not None and \
        photo_rgb8.shape[:2] == alpha.shape else None  # 8-bit colours, no float copy
    colours = estimate_foreground(image.rgb, alpha, ctx.cancel, out8=out8)
    ctx.cancel.check()
    return matte_images(replace(quick, preview=False), colours)


def model_job(image: LoadedImage, settings: PipelineSettings, ctx: JobContext
              ) -> tuple[PipelineSettings, tuple[np.ndarray, ...]]:
    """The answer of the model ``settings`` name, for another run of the photo on screen."""
    ctx.progress(0.1, "finding the subject")
    views = model_views_of(image, settings, ctx.cancel)
    ctx.cancel.check()
    return settings, views


def open_job(path: Path, settings: PipelineSettings, edit: PhotoEdit | None,
             prepared: Prepared | None, doc: Document | None, ctx: JobContext) -> Opened:
    """Load the photo on screen at full resolution.

    * ``doc`` (a document unloaded when the user moved on) gets its pixels back in
      ``Opened.reloaded`` (the GUI thread installs them); its exact automatic trimap is
      computed here.
    * Otherwise a new document is made with the settings and strokes of ``edit`` (a project's),
      reusing ``prepared``'s model answer when it was made with the same model. A large photo
      not prepared yet shows a first matte (``ctx.preview(FirstMatte)``) before its exact
      trimap exists.
    """
    photo: dict = {}

    def on_image(image: LoadedImage) -> None:  # display pixels while the model runs
        photo["job"] = spawn(_photo_display, image.rgb)

    if doc is not None:
        ctx.progress(0.0, "loading the photo")
        image = load_image(path)
        ctx.cancel.check()
        doc.check_same_photo(image)
        on_image(image)
        answer = None
        if not doc.answer_is_complete():  # its first open stopped before the zoomed-out view
            ctx.progress(0.3, "finding the subject (zoomed out)")
            s = doc.settings
            model = get_model(s.model_path, s.preset)
            small = doc.small_mask
            zoomed = zoomed_answer(model, inputs_of(image, s), small.shape, ctx.cancel)
            answer = (s, small if zoomed is None else np.maximum(small, zoomed))
        ctx.progress(0.5, "building the full-resolution trimap")
        exact = doc.compute_auto_trimap(image=image,
                                        small_mask=None if answer is None else answer[1])
        rgb8, source = photo["job"].result()
        ctx.cancel.check()
        return Opened(doc, rgb8, source, exact, _fingerprint(path), reloaded=image,
                      answer=answer)

    if edit is not None:
        settings = edit.settings
    ctx.progress(0.0, "loading the photo")
    image = load_image(path)
    ctx.cancel.check()
    on_image(image)
    views = inputs = model = None
    if prepared is not None and prepared.settings == settings:
        small = prepared.small_mask
    else:
        ctx.progress(0.1, "finding the subject")
        model = get_model(settings.model_path, settings.preset)
        inputs = inputs_of(image, settings)
        # the photo's own answers first: a large photo's first matte comes from them, and the
        # zoomed-out view runs while it is on screen
        views = photo_answers(model, inputs, ctx.cancel)
        small = union(views)
    ctx.cancel.check()
    doc = Document(image, small, settings, complete=inputs is None)
    if edit is not None and edit.strokes:
        doc.replace_strokes(edit.strokes)
    first = None
    if prepared is None:
        ctx.progress(0.5, "computing a first matte")
        first = first_matte(image, small, settings, doc.revision, ctx.cancel)
    if first is None:
        if inputs is not None:
            views = add_zoomed(model, inputs, views, ctx.cancel)
            doc.add_model_answer(settings, union(views))  # nobody else has the doc yet
        ctx.progress(0.8, "building the trimap")
        doc.trimap()
        rgb8, source = photo["job"].result()
        return Opened(doc, rgb8, source, None, _fingerprint(path), views)
    doc.set_provisional_trimap(first.trimap)
    doc.set_result(first)
    doc.trimap()
    rgb8, source = photo["job"].result()
    ctx.cancel.check()
    ctx.preview(FirstMatte(doc, rgb8, source, matte_images(first, rgb8)))
    answer = None
    if inputs is not None:
        ctx.progress(0.6, "finding the subject (zoomed out)")
        views = add_zoomed(model, inputs, views, ctx.cancel)
        answer = (settings, union(views))
    ctx.progress(0.7, "building the full-resolution trimap")
    exact = doc.compute_auto_trimap(settings, image, None if answer is None else answer[1])
    ctx.cancel.check()
    return Opened(doc, rgb8, source, exact, _fingerprint(path), views, answer=answer)


def _photo_display(rgb: np.ndarray) -> tuple[np.ndarray, RgbSource]:
    rgb8 = float_to_u8(rgb)
    return rgb8, RgbSource(rgb8)


def prepare_job(path: Path, settings: PipelineSettings, ctx: JobContext) -> PreparedPhoto:
    """Prepare a photo that is not on screen (model, first cut-out, quality estimate)."""
    prepared = prepare_photo(path, settings, ctx.progress, ctx.cancel)
    return PreparedPhoto(path, prepared, _fingerprint(path))
