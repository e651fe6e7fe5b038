"""Re-editable projects (``.msproj``): what the user did to each photo of a shoot. No Qt here.

A project stores *edits*, not pixels: for every photo its path and fingerprint (size +
SHA-256), the strokes as vectors, the pipeline settings and the editor's view of it. Trimaps
and alphas are recomputed on reopening (:func:`replay`), so a project is small and exact. The
format is documented in ``docs/session-format.md``; version 1 files (one photo) still open.

Every value is checked where it enters (:mod:`.limits`): a damaged or hostile file gives one
:class:`SessionError` naming the field, before any photo is loaded.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import limits
from .errors import MattingStudioError, SessionError
from .io import display_name, write_atomic
from .photo_source import Fingerprint, SourceStatus, check_source
from .settings import PipelineSettings
from .trimap import Stroke, TrimapParams

log = logging.getLogger(__name__)

FORMAT_NAME = "matting-studio-project"
FORMAT_VERSION = 2
"""1: one photo (its fields at the top level); 2: a shoot (``photos``, ``current``)."""
PROJECT_SUFFIX = ".msproj"
MAX_PROJECT_BYTES = 256 << 20
"""A project holds vectors; anything bigger than this is not one of ours."""
PHOTO_STATES = ("automatic", "edited", "exported", "failed")


@dataclass
class PhotoEdit:
    """Everything needed to reproduce the edit of one photo, except its pixels.

    ``source_path`` is absolute; ``fingerprint`` identifies the photo's bytes (see
    :mod:`.photo_source`). ``strokes`` are replayed in order over the automatic trimap (or
    over ``user_trimap_path`` when set). ``view`` is free-form JSON for the editor; the core
    never interprets it. ``state`` is the shoot's note of where the photo stands.
    """

    source_path: str
    fingerprint: Fingerprint | None
    """None: not known yet (an autosave of a photo that was never read)."""
    strokes: list[Stroke] = field(default_factory=list)
    settings: PipelineSettings = field(default_factory=PipelineSettings)
    view: dict = field(default_factory=dict)
    user_trimap_path: str | None = None
    state: str = "automatic"
    source_relpath: str | None = field(default=None, compare=False)
    """Source path relative to the project file's folder, as last saved (finds moved folders)."""

    @classmethod
    def for_image(cls, source: str | os.PathLike[str], **kwargs: Any) -> PhotoEdit:
        """A new edit of the photo at ``source`` (reads it once for its fingerprint)."""
        p = Path(source).absolute()
        try:
            fingerprint = Fingerprint.of(p)
        except OSError as e:
            raise SessionError(f"{display_name(p)}: cannot read the photo ({e.strerror})") \
                from None
        return cls(source_path=str(p), fingerprint=fingerprint, **kwargs)

    @property
    def name(self) -> str:
        return display_name(self.source_path)

    def find_source(self, project_file: str | os.PathLike[str] | None = None,
                    search_dirs=()) -> SourceStatus:
        """Where the photo is now (see :func:`~.photo_source.check_source`)."""
        return check_source(self.source_path, self.fingerprint, project_file,
                            self.source_relpath, search_dirs)

    def to_dict(self, project_file: str | os.PathLike[str] | None = None) -> dict:
        rel = None
        if project_file is not None:
            try:
                rel = Path(os.path.relpath(self.source_path,
                                           Path(project_file).absolute().parent)).as_posix()
            except ValueError:  # another drive on Windows
                rel = None
        fp = self.fingerprint
        return {
            "source": {"path": self.source_path, "relative_path": rel,
                       "sha256": None if fp is None else fp.sha256,
                       "size": None if fp is None else fp.size},
            "user_trimap": None if self.user_trimap_path is None
            else {"path": self.user_trimap_path},
            **settings_to_json(self.settings),
            "view": self.view,
            "state": self.state,
            "strokes": [s.to_dict() for s in self.strokes],
        }

    @classmethod
    def from_dict(cls, doc: Any) -> PhotoEdit:
        """Parse one photo's entry; ValueError (naming the field) for anything wrong."""
        if not isinstance(doc, dict):
            raise ValueError("a photo entry is not an object")
        src = _obj(doc, "source")
        fingerprint = None
        if src.get("sha256") is not None or src.get("size") is not None:
            size = limits.FILE_SIZE.check(src.get("size"), "source.size")
            sha = _str(src, "sha256", "source.sha256").lower()
            if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
                raise ValueError("source.sha256 is not a SHA-256 (64 hex digits)")
            fingerprint = Fingerprint(size, sha)
        strokes_doc = doc.get("strokes", [])
        if not isinstance(strokes_doc, list):
            raise ValueError("strokes is not a list")
        limits.STROKES_PER_PHOTO.check(len(strokes_doc), "the number of strokes")
        strokes = []
        for i, s in enumerate(strokes_doc):
            try:
                strokes.append(_stroke_from_json(s))
            except (KeyError, TypeError, ValueError) as e:
                raise ValueError(f"stroke {i + 1}: {e}") from None
        view = doc.get("view") or {}
        if not isinstance(view, dict):
            raise ValueError("view is not an object")
        state = doc.get("state") or "automatic"
        if state not in PHOTO_STATES:
            raise ValueError(f"state must be one of {', '.join(PHOTO_STATES)}")
        user_trimap = doc.get("user_trimap")
        return cls(
            source_path=_str(src, "path", "source.path"),
            fingerprint=fingerprint,
            strokes=strokes,
            settings=settings_from_json(doc),
            view=view,
            user_trimap_path=_opt_str(user_trimap, "path") if user_trimap else None,
            state=state,
            source_relpath=_opt_str(src, "relative_path"),
        )


@dataclass
class Project:
    """A shoot: the photos being worked on, in filmstrip order, and which one is on screen."""

    photos: list[PhotoEdit] = field(default_factory=list)
    current: int = 0
    view: dict = field(default_factory=dict)
    path: str | None = field(default=None, compare=False)
    """Where this project was last saved or loaded from (not stored in the file)."""

    def to_dict(self, project_file: str | os.PathLike[str] | None = None) -> dict:
        """The JSON document (see docs/session-format.md)."""
        return {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "app_version": _app_version(),
            "saved_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "current": self.current,
            "view": self.view,
            "photos": [p.to_dict(project_file) for p in self.photos],
        }

    @classmethod
    def from_dict(cls, doc: Any, name: str = "project") -> Project:
        """Parse a JSON document; :class:`SessionError` explains anything wrong with it."""
        if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
            raise SessionError(f"{name}: not a Matting Studio project")
        version = doc.get("format_version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise SessionError(f"{name}: the project file is damaged (no valid format_version)")
        if version > FORMAT_VERSION:
            raise SessionError(
                f"{name}: this project was saved by a newer Matting Studio (format {version}; "
                f"this version reads up to {FORMAT_VERSION}); please update the app")
        try:
            if version == 1:  # one photo, its fields at the top level
                return cls(photos=[PhotoEdit.from_dict(doc)], view=_view(doc))
            entries = doc.get("photos")
            if not isinstance(entries, list):
                raise ValueError("photos is not a list")
            limits.PHOTOS_PER_PROJECT.check(len(entries), "the number of photos")
            photos = []
            for i, entry in enumerate(entries):
                try:
                    photos.append(PhotoEdit.from_dict(entry))
                except ValueError as e:
                    raise type(e)(f"photo {i + 1}: {e}") from None
            current = doc.get("current", 0)
            current = limits.Limit(0, max(len(photos) - 1, 0), integer=True).check(
                current, "current")
            return cls(photos=photos, current=current, view=_view(doc))
        except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as e:
            raise SessionError(f"{name}: {_reason(e)}") from None


def _reason(e: BaseException) -> str:
    if isinstance(e, limits.LimitError):
        return str(e)
    return f"the project file is damaged ({' '.join(str(e).split())[:200]})"


def _view(doc: dict) -> dict:
    view = doc.get("view") or {}
    if not isinstance(view, dict):
        raise ValueError("view is not an object")
    return view


def _app_version() -> str:
    from .. import __version__

    return str(__version__)


# --------------------------------------------------------------------------------------------
# Pipeline settings as JSON


_OWN_KEYS = ("trimap", "backend", "model_path", "preset")
"""PipelineSettings fields stored under keys of their own (format 1's layout)."""


def settings_to_json(settings: PipelineSettings) -> dict:
    """``trimap``, ``matting``, ``model`` and ``pipeline`` (every other field) as plain JSON."""
    rest = {}
    for f in dataclasses.fields(settings):
        if f.name in _OWN_KEYS:
            continue
        v = getattr(settings, f.name)
        if dataclasses.is_dataclass(v):
            v = dataclasses.asdict(v)
        elif isinstance(v, tuple):
            v = list(v)
        rest[f.name] = v
    return {
        "trimap": dataclasses.asdict(settings.trimap),
        "matting": {"backend": settings.backend},
        "model": {"path": None if settings.model_path is None else str(settings.model_path),
                  "preset": settings.preset},
        "pipeline": rest,
    }


def settings_from_json(doc: dict) -> PipelineSettings:
    """The :class:`PipelineSettings` of a photo entry; unknown ``pipeline`` keys are ignored,
    missing ones take today's defaults. ValueError / LimitError name the field."""
    trimap_doc = doc.get("trimap") or {}
    if not isinstance(trimap_doc, dict):
        raise ValueError("trimap is not an object")
    known = {f.name for f in dataclasses.fields(TrimapParams)}
    trimap = _build(TrimapParams, {k: v for k, v in trimap_doc.items() if k in known}, "trimap")
    matting = doc.get("matting") or {}
    model = doc.get("model") or {}
    pipeline = doc.get("pipeline") or {}
    for key, value in (("matting", matting), ("model", model), ("pipeline", pipeline)):
        if not isinstance(value, dict):
            raise ValueError(f"{key} is not an object")
    defaults = PipelineSettings()
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(PipelineSettings):
        if f.name in _OWN_KEYS or f.name not in pipeline:
            continue
        v, default = pipeline[f.name], getattr(defaults, f.name)
        if dataclasses.is_dataclass(default):
            if not isinstance(v, dict):
                raise ValueError(f"pipeline.{f.name} is not an object")
            inner = {g.name: g for g in dataclasses.fields(default)}
            v = _build(type(default), {
                k: tuple(x) if isinstance(x, list) and isinstance(getattr(default, k), tuple)
                else x for k, x in v.items() if k in inner}, f"pipeline.{f.name}")
        elif isinstance(default, tuple) and isinstance(v, list):
            v = tuple(v)
        kwargs[f.name] = v
    backend = matting.get("backend") or defaults.backend
    model_path, preset = _opt_str(model, "path"), _opt_str(model, "preset")
    try:
        return PipelineSettings(trimap=trimap, backend=str(backend)[:100], model_path=model_path,
                                preset=preset, **kwargs)
    except ValueError as e:  # a name that is not one of the choices, a wrong type
        raise limits.LimitError(f"pipeline: {e}") from None


def _build(kind, kwargs: dict, prefix: str):
    try:
        return kind(**kwargs)
    except limits.LimitError as e:
        raise limits.LimitError(f"{prefix}.{e}") from None


def _stroke_from_json(d: Any) -> Stroke:
    if not isinstance(d, dict):
        raise TypeError("not an object")
    pts = d.get("points", [])
    if not isinstance(pts, list):
        raise TypeError("points is not a list")
    limits.POINTS_PER_STROKE.check(len(pts), "the number of points")
    points = []
    for p in pts:
        if not isinstance(p, (list, tuple)) or len(p) != 2:
            raise ValueError("a point is not [x, y]")
        points.append((limits.COORDINATE.check(p[0], "x"), limits.COORDINATE.check(p[1], "y")))
    return Stroke(mode=d["mode"], radius=limits.BRUSH_RADIUS.check(d["radius"], "radius"),
                  points=tuple(points))


def _obj(doc: dict, key: str) -> dict:
    v = doc.get(key)
    if not isinstance(v, dict):
        raise ValueError(f"{key} is missing")
    return v


def _str(doc: dict, key: str, what: str | None = None) -> str:
    v = doc.get(key)
    if not isinstance(v, str) or not v:
        raise ValueError(f"{what or key} is missing")
    if "\0" in v or len(v) > 32_768:
        raise ValueError(f"{what or key} is not a usable path")
    return v


def _opt_str(doc: Any, key: str) -> str | None:
    if not isinstance(doc, dict):
        return None
    v = doc.get(key)
    if v is None:
        return None
    if not isinstance(v, str) or "\0" in v or len(v) > 32_768:
        raise ValueError(f"{key} is not text")
    return v


# --------------------------------------------------------------------------------------------
# Files


def project_bytes(project: Project, project_file: str | os.PathLike[str] | None = None) -> bytes:
    """The encoded project (UTF-8 JSON, stable key order)."""
    try:
        text = json.dumps(project.to_dict(project_file), ensure_ascii=False, indent=1,
                          allow_nan=False)
    except (TypeError, ValueError) as e:
        raise SessionError(f"the project cannot be saved: {e} (view settings must be plain "
                           "JSON values)") from None
    return (text + "\n").encode("utf-8", "surrogatepass")


def save_project(path: str | os.PathLike[str], project: Project) -> Path:
    """Write ``project`` to ``path`` atomically; never over a photo or user trimap of it.

    Raises :class:`SessionError` (with the reason: permission, full disk, ...).
    """
    path = Path(path)
    data = project_bytes(project, path)
    protect = tuple(p for e in project.photos for p in (e.source_path, e.user_trimap_path) if p)
    try:
        written = write_atomic(path, data, protect=protect)
    except MattingStudioError as e:
        raise SessionError(str(e)) from None
    project.path = str(path.absolute())
    log.info("saved project %s (%d photos)", display_name(path), len(project.photos))
    return written


def load_project(path: str | os.PathLike[str]) -> Project:
    """Read a ``.msproj`` file. :class:`SessionError` says what is wrong, in one line."""
    path = Path(path)
    name = display_name(path)
    try:
        if path.is_dir():
            raise SessionError(f"{name}: is a folder, not a project file")
        if path.stat().st_size > MAX_PROJECT_BYTES:
            raise SessionError(f"{name}: too large to be a Matting Studio project")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SessionError(f"{name}: project file not found") from None
    except PermissionError:
        raise SessionError(f"{name}: permission denied (cannot read the project)") from None
    except OSError as e:
        raise SessionError(f"{name}: cannot be read ({e.strerror or e})") from None
    if not raw.strip():
        raise SessionError(f"{name}: the project file is empty (it may have been cut off "
                           "while saving)")
    try:
        doc = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise SessionError(f"{name}: not a Matting Studio project, or the file is damaged "
                           "(not valid JSON)") from None
    project = Project.from_dict(doc, name)
    project.path = str(path.absolute())
    return project


def _reject_constant(token: str) -> float:
    raise ValueError(f"{token} is not allowed")


# --------------------------------------------------------------------------------------------
# Reproducing an edit


def replay(edit: PhotoEdit, image, mask: np.ndarray | None = None) -> np.ndarray:
    """The final trimap (uint8 0/128/255) of ``edit`` on ``image`` (a LoadedImage).

    Same functions as the editor and the CLI: model mask → automatic trimap (or the user
    trimap) → strokes in order. Pass ``mask`` to reuse a model mask already computed.
    """
    from .io import load_grey
    from .pipeline import auto_trimap, compute_mask
    from .trimap import apply_strokes, normalize_trimap

    if edit.user_trimap_path:
        base = normalize_trimap(load_grey(edit.user_trimap_path, "trimap"),
                                image.rgb.shape[:2], display_name(edit.user_trimap_path))
    else:
        if mask is None:
            mask = compute_mask(image, edit.settings)
        base = auto_trimap(image, mask, edit.settings)
    return apply_strokes(base, edit.strokes)


def replay_alpha(edit: PhotoEdit, image, trimap: np.ndarray | None = None) -> np.ndarray:
    """The alpha of the edit's trimap, by the one solve path (:func:`~.solve.solve`)."""
    from .solve import SolveRequest, solve

    if trimap is None:
        trimap = replay(edit, image)
    return solve(SolveRequest.of(image, trimap, edit.settings, with_foreground=False)).alpha
