"""A shoot: the photos being worked through, each with its own edits. No Qt here.

The editor holds one :class:`Shoot`. Every :class:`ShootPhoto` keeps its strokes, settings and
state while the user moves around; only the photo on screen holds full-resolution pixels
(its :class:`~.document.Document`); the others keep what is cheap (the model's answer, a
display-size first cut-out and a quality estimate, :class:`Prepared`) so that going back to
them is immediate.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from .document import Document
from .io import LoadedImage, display_name, load_image
from .mask_views import ViewInputs, run_views, union, upsample_mask
from .matting import solve_alpha
from .matting.multiscale import downscale_image
from .photo_source import Fingerprint
from .pipeline import inputs_of
from .progress import CancelToken, ProgressFn, no_progress
from .project import PhotoEdit, Project
from .segmentation import get_model
from .settings import PipelineSettings
from .solve import OPEN_PREVIEW_BACKEND, finish_alpha
from .triage import TriageResult, triage
from .trimap_presets import auto_trimap

log = logging.getLogger(__name__)

PREPARED_SIDE = 1280
"""Longest side of a prepared photo's display images: enough for a fit-to-window view."""
THUMBNAIL_SIDE = 160
PREPARE_AHEAD = 3
"""Photos after the one on screen whose display-size cut-outs are kept ready."""


@dataclass(frozen=True)
class Prepared:
    """What the editor keeps of a photo that is not on screen: a few MB whatever its size."""

    size: tuple[int, int]
    """(width, height) of the photo at full resolution."""
    settings: PipelineSettings
    """The settings the model's answer and the first cut-out were made with."""
    views: tuple[np.ndarray, ...]
    """The model's answers at its own resolution (photo and mirror image, or just one)."""
    rgb: np.ndarray | None
    """uint8 (h', w', 3): the photo at display size (longest side :data:`PREPARED_SIDE`);
    None once let go (:meth:`slim`)."""
    alpha: np.ndarray | None
    """uint8 (h', w'): its cut-out's alpha at display size (None once let go)."""
    thumbnail: np.ndarray
    """uint8 (th, tw, 4) straight RGBA: the cut-out, longest side :data:`THUMBNAIL_SIDE`."""
    quality: TriageResult

    @property
    def small_mask(self) -> np.ndarray:
        """The model's answer as the pipeline uses it (the union of the views)."""
        return union(self.views)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (*self.views, self.rgb, self.alpha, self.thumbnail)
                   if a is not None)

    def slim(self) -> Prepared:
        """Without the display-size pixels: what a photo far from the one on screen keeps
        (the model's answer, the thumbnail and the quality estimate: about 1 MB)."""
        return replace(self, rgb=None, alpha=None)


def _fit(shape: tuple[int, int], side: int) -> tuple[int, int]:
    """(w, h) of ``shape`` (h, w) with its longest side at most ``side``."""
    h, w = shape
    f = min(1.0, side / max(h, w))
    return max(1, round(w * f)), max(1, round(h * f))


def _u8(x: np.ndarray) -> np.ndarray:
    return cv2.convertScaleAbs(np.asarray(x, np.float32), alpha=255.0)


def describe(size: tuple[int, int], settings: PipelineSettings, views: tuple[np.ndarray, ...],
             rgb: np.ndarray, alpha: np.ndarray, painted: np.ndarray | None = None) -> Prepared:
    """A :class:`Prepared` record of a photo of ``size`` (w, h) from its pixels and alpha at
    any size (uint8 or float 0..1; brought to display size here), its quality estimated
    (``painted``: pixels the user's strokes decided, which count as right)."""
    shape = rgb.shape[:2]
    disp = _fit(shape, PREPARED_SIDE)

    def shrink(a: np.ndarray) -> np.ndarray:
        a8 = a if a.dtype == np.uint8 else _u8(a)
        return a8 if (a8.shape[1], a8.shape[0]) == disp else \
            cv2.resize(a8, disp, interpolation=cv2.INTER_AREA)

    rgb8, alpha8 = shrink(rgb), shrink(alpha)
    if painted is not None:
        painted = cv2.resize(painted.view(np.uint8), disp, interpolation=cv2.INTER_NEAREST) > 0
    quality = triage(rgb8, alpha8, views, painted=painted)
    thumb_size = _fit(disp[::-1], THUMBNAIL_SIDE)
    thumb = np.dstack([cv2.resize(rgb8, thumb_size, interpolation=cv2.INTER_AREA),
                       cv2.resize(alpha8, thumb_size, interpolation=cv2.INTER_AREA)])
    return Prepared(size=size, settings=settings, views=tuple(views), rgb=rgb8, alpha=alpha8,
                    thumbnail=thumb, quality=quality)


@dataclass(frozen=True)
class Reduced:
    """What preparing a photo needs of it, without its full-size pixels: its size, a
    display-size copy and the model's inputs (:func:`reduce`)."""

    size: tuple[int, int]
    small: LoadedImage
    inputs: ViewInputs


def reduce(image: LoadedImage, settings: PipelineSettings) -> Reduced:
    size = _fit(image.rgb.shape[:2], PREPARED_SIDE)
    source_alpha = None
    if image.source_alpha is not None:
        source_alpha = cv2.resize(image.source_alpha, size, interpolation=cv2.INTER_AREA)
    small = LoadedImage(rgb=downscale_image(image.rgb, size), source_alpha=source_alpha,
                        bit_depth=8, icc_profile=None, exif=None)
    return Reduced(image.size, small, inputs_of(image, settings))


def prepare(image: LoadedImage | Reduced, settings: PipelineSettings,
            cancel: CancelToken | None = None) -> Prepared:
    """Run the model and make a display-size first cut-out with its quality estimate
    (:func:`~.triage.triage`). The model runs are made one after the other (the photo on
    screen needs the memory more than this one needs the time) and only once the photo is
    :func:`reduce` d: a caller that lets go of the full-size photo after reducing it keeps
    the two from adding up."""
    reduced = image if isinstance(image, Reduced) else reduce(image, settings)
    model = get_model(settings.model_path, settings.preset)
    views = run_views(model, reduced.inputs, cancel, side_by_side=False)
    if cancel is not None:
        cancel.check()
    small = reduced.small
    h, w = small.rgb.shape[:2]
    trimap = auto_trimap(small, upsample_mask(union(views), (h, w)), settings)
    alpha = finish_alpha(solve_alpha(small.rgb, trimap, OPEN_PREVIEW_BACKEND, cancel=cancel),
                         small, settings)
    if cancel is not None:
        cancel.check()
    return describe(reduced.size, settings, views, small.rgb, alpha)


STATES = ("automatic", "edited", "exported", "failed")


@dataclass(eq=False)
class ShootPhoto:
    """One photo of the shoot: where it is, its edits, and what is known of it so far."""

    path: Path
    edit: PhotoEdit | None = None
    """Strokes and settings from a project or an autosave, applied when the photo loads."""
    doc: Document | None = None
    prepared: Prepared | None = None
    state: str = "automatic"
    error: str | None = None
    fingerprint: Fingerprint | None = None
    missing: bool = False
    """The file cannot be found (a project's photo that was moved away): nothing to load until
    the user locates it; its edits are kept."""

    @property
    def name(self) -> str:
        return display_name(self.path)

    @property
    def settings(self) -> PipelineSettings | None:
        if self.doc is not None:
            return self.doc.settings
        if self.edit is not None:
            return self.edit.settings
        return None

    @property
    def strokes(self) -> tuple:
        if self.doc is not None:
            return self.doc.strokes
        return tuple(self.edit.strokes) if self.edit is not None else ()

    @property
    def quality(self) -> float | None:
        """Estimated share of the image that is wrong (higher: look at it first)."""
        return None if self.prepared is None else self.prepared.quality.score

    def to_edit(self, view: dict | None = None, fingerprint: bool = False) -> PhotoEdit:
        """Its edits as a project entry. ``fingerprint``: read the photo for its fingerprint
        if it is not known yet (a project the user saves; an autosave does without)."""
        if self.fingerprint is None and self.edit is not None:
            self.fingerprint = self.edit.fingerprint
        if self.fingerprint is None and fingerprint:
            try:
                self.fingerprint = Fingerprint.of(self.path)
            except OSError:
                pass
        settings = self.settings or PipelineSettings()
        relpath = self.edit.source_relpath if self.edit is not None else None
        user_trimap = self.edit.user_trimap_path if self.edit is not None else None
        return PhotoEdit(source_path=str(Path(self.path).absolute()),
                         fingerprint=self.fingerprint, strokes=list(self.strokes),
                         settings=settings, view=dict(view or {}), user_trimap_path=user_trimap,
                         state=self.state, source_relpath=relpath)


@dataclass
class Shoot:
    """The photos of the editor, in filmstrip order, and which one is on screen."""

    photos: list[ShootPhoto] = field(default_factory=list)
    current: int = -1

    def __len__(self) -> int:
        return len(self.photos)

    @property
    def photo(self) -> ShootPhoto | None:
        return self.photos[self.current] if 0 <= self.current < len(self.photos) else None

    def index_of(self, path: str | os.PathLike[str]) -> int:
        """Index of the photo at ``path`` (same file), or -1."""
        key = _key(path)
        for i, p in enumerate(self.photos):
            if _key(p.path) == key:
                return i
        return -1

    def add(self, paths: Iterable[str | os.PathLike[str]]) -> list[int]:
        """Add photos not in the shoot yet (in the order given); returns the index of every
        path given, old or new."""
        indices = []
        for path in paths:
            i = self.index_of(path)
            if i < 0:
                self.photos.append(ShootPhoto(Path(path)))
                i = len(self.photos) - 1
            indices.append(i)
        return indices

    def by_quality(self) -> list[int]:
        """Indices ordered "likely needs a fix" first; photos not estimated yet come last, in
        shoot order."""
        known = [i for i, p in enumerate(self.photos) if p.quality is not None]
        known.sort(key=lambda i: -self.photos[i].quality)
        return known + [i for i, p in enumerate(self.photos) if p.quality is None]

    def next_to_prepare(self, ahead: int = PREPARE_AHEAD) -> int | None:
        """The photo to prepare next in the background: the ``ahead`` photos after the one on
        screen first, then the one before it, then the rest in shoot order; None when every
        photo that can be prepared is. A photo near the one on screen whose display pixels
        were let go (:meth:`slim_far`) is prepared again, so that it shows its cut-out at once
        when the user gets to it."""
        n, cur = len(self.photos), max(self.current, 0)
        near = [cur + k for k in range(1, ahead + 1)] + [cur - 1]
        for i in near + list(range(n)):
            if not 0 <= i < n or i == self.current:
                continue
            p = self.photos[i]
            if p.state == "failed" or p.doc is not None or p.missing:
                continue  # a photo opened before keeps its edits' record, not an automatic one
            if p.prepared is None or (p.prepared.rgb is None and i in near):
                return i
        return None

    def slim_far(self, ahead: int = PREPARE_AHEAD) -> None:
        """Only the photos near the one on screen keep display-size pixels (bounded memory:
        the others keep their thumbnail, model answer and quality estimate)."""
        for i, p in enumerate(self.photos):
            if p.prepared is not None and p.prepared.rgb is not None and \
                    not -1 <= i - self.current <= ahead:
                p.prepared = p.prepared.slim()

    def to_project(self, view: dict | None = None, fingerprints: bool = False) -> Project:
        return Project(photos=[p.to_edit(fingerprint=fingerprints) for p in self.photos],
                       current=max(self.current, 0), view=dict(view or {}))

    @classmethod
    def from_project(cls, project: Project) -> Shoot:
        photos = [ShootPhoto(Path(e.source_path), edit=e, state=e.state,
                             fingerprint=e.fingerprint) for e in project.photos]
        return cls(photos=photos, current=project.current if photos else -1)


def _key(path: str | os.PathLike[str]) -> str:
    try:
        return os.path.normcase(str(Path(path).resolve()))
    except (OSError, RuntimeError):
        return os.path.normcase(str(Path(path).absolute()))


def prepare_photo(path: str | os.PathLike[str], settings: PipelineSettings,
                  progress: ProgressFn = no_progress, cancel: CancelToken | None = None
                  ) -> Prepared:
    """Load a photo and :func:`prepare` it (background work for the photos not on screen)."""
    progress(0.0, f"preparing {display_name(path)}")
    reduced = reduce(load_image(path), settings)  # the full-size photo goes before the model runs
    if cancel is not None:
        cancel.check()
    prepared = prepare(reduced, settings, cancel)
    progress(1.0, "prepared")
    return prepared
