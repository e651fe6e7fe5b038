"""Re-editable projects (``.msproj``), autosave and crash recovery. No Qt here.

A project stores *what the user did*, not pixels: the source photo (path, size, SHA-256), the
strokes as vectors, the trimap parameters, the matting backend, the model and the view. The
trimap and alpha are recomputed on reopening (:func:`replay`), so a project is small and
exact. The file format is documented in ``docs/session-format.md``.

Autosave: an :class:`Autosaver` writes the current project to
``<data dir>/autosave/<id>.msproj`` (atomically) whenever the caller asks, and holds an OS
lock on ``<id>.lock`` while it lives. After a crash or ``kill -9`` the OS drops the lock, so the
next start finds the file in :func:`list_recoverable`; a *running* instance's autosave is never
offered to another instance.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import math
import os
import sys
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .errors import MattingStudioError, SessionError
from .image_io import display_name, write_atomic
from .trimap import Stroke, TrimapParams

log = logging.getLogger(__name__)

FORMAT_NAME = "matting-studio-project"
FORMAT_VERSION = 1
PROJECT_SUFFIX = ".msproj"
MAX_PROJECT_BYTES = 256 << 20
"""A project holds vectors; anything bigger than this is not one of ours."""

DATA_DIR_ENV = "MATTING_STUDIO_DATA_DIR"


# --------------------------------------------------------------------------------------------
# The project


@dataclass
class Project:
    """Everything needed to reproduce an edit, except the pixels of the photo.

    ``source_path`` is absolute. ``source_sha256`` / ``source_size`` identify the photo's
    content (see :func:`check_source`). ``strokes`` are replayed in order over the automatic
    trimap (or over ``user_trimap_path`` when set). ``view`` is free-form JSON for the GUI
    (zoom, pan, panels): the core never interprets it.
    """

    source_path: str
    source_sha256: str
    source_size: int
    strokes: list[Stroke] = field(default_factory=list)
    trimap_params: TrimapParams = field(default_factory=TrimapParams)
    backend: str = "cf"
    model_path: str | None = None
    preset: str | None = None
    view: dict = field(default_factory=dict)
    user_trimap_path: str | None = None
    pipeline: dict = field(default_factory=dict)
    """Other :class:`PipelineSettings` fields (e.g. the automatic-trimap preset), as JSON."""
    source_relpath: str | None = field(default=None, compare=False)
    """Source path relative to the project file's folder, as last saved (finds moved folders)."""
    project_path: str | None = field(default=None, compare=False)
    """Where this project was last saved or loaded from (not stored in the file)."""

    @classmethod
    def for_image(cls, source: str | os.PathLike[str], settings=None,
                  **kwargs: Any) -> Project:
        """A new project for the photo at ``source`` (hashes it), optionally with the
        :class:`PipelineSettings` in use."""
        p = Path(source).absolute()
        try:
            size = p.stat().st_size
            digest = file_sha256(p)
        except OSError as e:
            raise SessionError(f"{display_name(p)}: cannot read the photo ({e.strerror})") from None
        project = cls(source_path=str(p), source_sha256=digest, source_size=size, **kwargs)
        if settings is not None:
            project.apply_settings(settings)
        return project

    def settings(self):
        """The :class:`~matting_studio.core.pipeline.PipelineSettings` this project uses.

        Keys of :attr:`pipeline` that this version's settings do not have are ignored.
        """
        from .pipeline import PipelineSettings

        extra = _settings_from_json(PipelineSettings, self.pipeline)
        return PipelineSettings(trimap=self.trimap_params, backend=self.backend,
                                model_path=self.model_path, preset=self.preset, **extra)

    def apply_settings(self, settings) -> None:
        """Record every field of a :class:`PipelineSettings` in this project."""
        self.trimap_params = settings.trimap
        self.backend = settings.backend
        self.model_path = None if settings.model_path is None else str(settings.model_path)
        self.preset = settings.preset
        self.pipeline = _settings_to_json(settings)

    # -- (de)serialisation -----------------------------------------------------------------
    def to_dict(self, project_file: str | os.PathLike[str] | None = None) -> dict:
        """The JSON document (see docs/session-format.md)."""
        rel = None
        if project_file is not None:
            try:
                rel = Path(os.path.relpath(self.source_path,
                                           Path(project_file).absolute().parent)).as_posix()
            except ValueError:  # another drive on Windows
                rel = None
        return {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "app_version": _app_version(),
            "saved_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "source": {"path": self.source_path, "relative_path": rel,
                       "sha256": self.source_sha256, "size": self.source_size},
            "user_trimap": None if self.user_trimap_path is None
            else {"path": self.user_trimap_path},
            "trimap": {f.name: getattr(self.trimap_params, f.name)
                       for f in fields(TrimapParams)},
            "matting": {"backend": self.backend},
            "model": {"path": self.model_path, "preset": self.preset},
            "pipeline": self.pipeline,
            "view": self.view,
            "strokes": [_stroke_to_json(s) for s in self.strokes],
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
                f"this version reads up to {FORMAT_VERSION}); please update the app"
            )
        try:
            src = _obj(doc, "source")
            trimap = _obj(doc, "trimap")
            params = TrimapParams(**{f.name: _num(trimap.get(f.name, f.default), f.name,
                                                  int if f.type in ("int", int) else float)
                                     for f in fields(TrimapParams)})
            strokes_doc = doc.get("strokes", [])
            if not isinstance(strokes_doc, list):
                raise ValueError("strokes is not a list")
            strokes = []
            for i, s in enumerate(strokes_doc):
                try:
                    strokes.append(_stroke_from_json(s))
                except (KeyError, TypeError, ValueError) as e:
                    raise ValueError(f"stroke {i + 1}: {e}") from None
            model = doc.get("model") or {}
            matting = doc.get("matting") or {}
            user_trimap = doc.get("user_trimap")
            view = doc.get("view") or {}
            if not isinstance(view, dict):
                raise ValueError("view is not an object")
            pipeline = doc.get("pipeline") or {}
            if not isinstance(pipeline, dict):
                raise ValueError("pipeline is not an object")
            project = cls(
                source_path=_str(src, "path"),
                source_sha256=_str(src, "sha256").lower(),
                source_size=int(_num(src.get("size"), "size", int)),
                strokes=strokes,
                trimap_params=params,
                backend=str(matting.get("backend") or "cf"),
                model_path=_opt_str(model, "path"),
                preset=_opt_str(model, "preset"),
                view=view,
                user_trimap_path=_opt_str(user_trimap, "path") if user_trimap else None,
                pipeline=pipeline,
                source_relpath=_opt_str(src, "relative_path"),
            )
            project.settings()  # validates the pipeline settings
            return project
        except SessionError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise SessionError(f"{name}: the project file is damaged ({e})") from None


def _app_version() -> str:
    try:
        from .. import __version__

        return str(__version__)
    except Exception:  # noqa: BLE001
        return "unknown"


_SETTINGS_IN_OWN_KEYS = ("trimap", "backend", "model_path", "preset")


def _settings_to_json(settings) -> dict:
    """The PipelineSettings fields not stored under their own keys, as plain JSON."""
    import dataclasses

    out = {}
    for f in dataclasses.fields(settings):
        if f.name in _SETTINGS_IN_OWN_KEYS:
            continue
        v = getattr(settings, f.name)
        if dataclasses.is_dataclass(v):
            v = dataclasses.asdict(v)
        elif isinstance(v, tuple):
            v = list(v)
        out[f.name] = v
    return out


def _settings_from_json(settings_type, doc: dict) -> dict:
    """Keyword arguments for ``settings_type`` from :func:`_settings_to_json` output."""
    import dataclasses

    defaults = settings_type()
    kwargs = {}
    for f in dataclasses.fields(settings_type):
        if f.name in _SETTINGS_IN_OWN_KEYS or f.name not in doc:
            continue
        v = doc[f.name]
        default = getattr(defaults, f.name)
        if dataclasses.is_dataclass(default):
            if not isinstance(v, dict):
                raise ValueError(f"pipeline.{f.name} is not an object")
            known = {g.name for g in dataclasses.fields(default)}
            cur = getattr(defaults, f.name)
            v = type(default)(**{k: (tuple(x) if isinstance(x, list)
                                     and isinstance(getattr(cur, k), tuple) else x)
                                 for k, x in v.items() if k in known})
        elif isinstance(default, tuple) and isinstance(v, list):
            v = tuple(v)
        kwargs[f.name] = v
    return kwargs


def _stroke_to_json(s: Stroke) -> dict:
    return {"mode": s.mode, "radius": s.radius, "points": [[x, y] for x, y in s.points]}


def _stroke_from_json(d: Any) -> Stroke:
    if not isinstance(d, dict):
        raise TypeError("not an object")
    radius = _num(d["radius"], "radius", float)
    pts = d.get("points", [])
    if not isinstance(pts, list):
        raise TypeError("points is not a list")
    points = []
    for p in pts:
        if not isinstance(p, (list, tuple)) or len(p) != 2:
            raise ValueError("a point is not [x, y]")
        points.append((_num(p[0], "x", float), _num(p[1], "y", float)))
    return Stroke(mode=d["mode"], radius=radius, points=tuple(points))


def _obj(doc: dict, key: str) -> dict:
    v = doc.get(key)
    if not isinstance(v, dict):
        raise ValueError(f"{key} is missing")
    return v


def _str(doc: dict, key: str) -> str:
    v = doc.get(key)
    if not isinstance(v, str) or not v:
        raise ValueError(f"{key} is missing")
    return v


def _opt_str(doc: Any, key: str) -> str | None:
    if not isinstance(doc, dict):
        return None
    v = doc.get(key)
    if v is None:
        return None
    if not isinstance(v, str):
        raise ValueError(f"{key} is not text")
    return v


def _num(v: Any, what: str, kind: type) -> float | int:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"{what} is not a number")
    if not math.isfinite(v):
        raise ValueError(f"{what} is not finite")
    if kind is int:
        if float(v) != int(v):
            raise ValueError(f"{what} is not a whole number")
        return int(v)
    return float(v)


# --------------------------------------------------------------------------------------------
# Files


def file_sha256(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks (bounded memory for any file size)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            block = f.read(chunk)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def project_bytes(project: Project, project_file: str | os.PathLike[str] | None = None) -> bytes:
    """The encoded project (UTF-8 JSON, stable key order, one stroke per line-ish)."""
    try:
        text = json.dumps(project.to_dict(project_file), ensure_ascii=False, indent=1,
                          allow_nan=False)
    except (TypeError, ValueError) as e:
        raise SessionError(f"the project cannot be saved: {e} (view settings must be plain "
                           "JSON values)") from None
    return (text + "\n").encode("utf-8", "surrogatepass")


def save_project(path: str | os.PathLike[str], project: Project) -> Path:
    """Write ``project`` to ``path`` atomically; never over the source photo or user trimap.

    Raises :class:`SessionError` (with the reason: permission, full disk, ...).
    """
    path = Path(path)
    data = project_bytes(project, path)
    protect = tuple(p for p in (project.source_path, project.user_trimap_path) if p)
    try:
        written = write_atomic(path, data, protect=protect)
    except MattingStudioError as e:
        raise SessionError(str(e)) from None
    project.project_path = str(path.absolute())
    log.info("saved project %s (%d strokes)", display_name(path), len(project.strokes))
    return written


def load_project(path: str | os.PathLike[str]) -> Project:
    """Read a ``.msproj`` file. :class:`SessionError` says what is wrong, in one line."""
    path = Path(path)
    name = display_name(path)
    try:
        if path.is_dir():
            raise SessionError(f"{name}: is a folder, not a project file")
        size = path.stat().st_size
        if size > MAX_PROJECT_BYTES:
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
    project.project_path = str(path.absolute())
    return project


def _reject_constant(token: str) -> float:
    raise ValueError(f"{token} is not allowed")


# --------------------------------------------------------------------------------------------
# Is the photo still there?


SourceState = Literal["ok", "moved", "changed", "missing"]


@dataclass(frozen=True)
class SourceStatus:
    """Where the project's photo is now. ``path`` is the file to open (None when missing)."""

    state: SourceState
    path: Path | None
    message: str

    @property
    def ok(self) -> bool:
        return self.state == "ok"

    @property
    def usable(self) -> bool:
        """True when ``path`` holds the very photo the strokes were drawn on."""
        return self.state in ("ok", "moved")


MAX_SEARCH_ENTRIES = 20_000
MAX_SEARCH_DEPTH = 4


def check_source(project: Project, search_dirs: Iterable[str | os.PathLike[str]] = ()
                 ) -> SourceStatus:
    """Find the project's photo and check that it is the same picture (SHA-256).

    Looks at the saved path; if the file is gone (or differs), looks for a file with the same
    content: at the saved relative path from the project file, beside the project file, under
    the project's folder (a few levels deep) and under ``search_dirs``. Only files of the
    right size are hashed, so the search stays quick.
    """
    saved = Path(project.source_path)
    name = display_name(saved)
    size, digest = project.source_size, project.source_sha256.lower()

    def same(p: Path) -> bool:
        try:
            return p.is_file() and p.stat().st_size == size and file_sha256(p) == digest
        except OSError:
            return False

    changed = False
    if saved.is_file():
        if same(saved):
            return SourceStatus("ok", saved, f"{name}: found, unchanged")
        changed = True

    for candidate in _candidates(project, saved, search_dirs):
        if same(candidate):
            return SourceStatus(
                "moved", candidate,
                f"The photo {name} is no longer at {display_name(saved.parent)}; the same "
                f"photo (identical content) was found at {candidate}. The project will use it.")
    if changed:
        return SourceStatus(
            "changed", saved,
            f"The photo {name} has been changed since this project was saved (it was edited "
            "or replaced). Your strokes may no longer line up with it. Open it anyway, or "
            "locate the original photo.")
    return SourceStatus(
        "missing", None,
        f"The photo {name} cannot be found at {saved.parent}. It may have been moved, renamed "
        "or deleted, or be on a drive that is not connected. Locate it to continue.")


def _candidates(project: Project, saved: Path, search_dirs) -> Iterable[Path]:
    seen: set[str] = set()

    def fresh(p: Path) -> bool:
        key = os.path.normcase(str(p.absolute()))
        if key in seen or p == saved:
            return False
        seen.add(key)
        return True

    roots: list[Path] = []
    if project.project_path:
        folder = Path(project.project_path).parent
        if project.source_relpath:
            rel = folder / project.source_relpath
            if fresh(rel):
                yield rel
        beside = folder / saved.name
        if fresh(beside):
            yield beside
        roots.append(folder)
    roots.extend(Path(d) for d in search_dirs)
    for root in roots:
        direct = root / saved.name
        if fresh(direct):
            yield direct
    # Same name anywhere below first (cheap), then any file of the right size.
    by_size = []
    budget = MAX_SEARCH_ENTRIES
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            depth = len(Path(dirpath).relative_to(root).parts)
            if depth >= MAX_SEARCH_DEPTH:
                dirnames[:] = []
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for fn in filenames:
                budget -= 1
                if budget < 0:
                    break
                p = Path(dirpath) / fn
                if fn == saved.name:
                    if fresh(p):
                        yield p
                else:
                    by_size.append(p)
            if budget < 0:
                break
    for p in by_size:
        try:
            if p.stat().st_size == project.source_size and fresh(p):
                yield p
        except OSError:
            continue


# --------------------------------------------------------------------------------------------
# Reproducing the edit


def replay(project: Project, image, mask: np.ndarray | None = None) -> np.ndarray:
    """The project's final trimap (uint8 0/128/255) for ``image`` (a LoadedImage).

    Same functions as the editor and the CLI: model mask → automatic trimap (or the user
    trimap) → strokes in order. Pass ``mask`` to reuse a model mask already computed.
    """
    from .image_io import load_grey
    from .pipeline import auto_trimap, compute_mask
    from .trimap import apply_strokes, normalize_trimap

    settings = project.settings()
    if project.user_trimap_path:
        base = normalize_trimap(load_grey(project.user_trimap_path, "trimap"),
                                image.rgb.shape[:2], display_name(project.user_trimap_path))
    else:
        if mask is None:
            mask = compute_mask(image, settings)
        base = auto_trimap(image, mask, settings)
    return apply_strokes(base, project.strokes)


def replay_alpha(project: Project, image, trimap: np.ndarray | None = None) -> np.ndarray:
    """Alpha for the project's trimap, capped by the file's own transparency (ADR 0001)."""
    from .pipeline import compute_alpha

    if trimap is None:
        trimap = replay(project, image)
    return image.cap_alpha(compute_alpha(image, trimap, project.settings()))


# --------------------------------------------------------------------------------------------
# Autosave and recovery


def default_data_dir() -> Path:
    """Per-user data folder: ``$MATTING_STUDIO_DATA_DIR``, else the platform's usual place.

    Linux/BSD: ``$XDG_DATA_HOME/matting-studio`` (default ``~/.local/share/matting-studio``);
    Windows: ``%APPDATA%\\matting-studio``; macOS: ``~/Library/Application Support/matting-studio``.
    """
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env)
    if sys.platform.startswith("win"):
        base = os.environ.get("APPDATA")
        return (Path(base) if base else Path.home() / "AppData" / "Roaming") / "matting-studio"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "matting-studio"
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg and Path(xdg).is_absolute() else
            Path.home() / ".local" / "share") / "matting-studio"


@dataclass(frozen=True)
class RecoveryItem:
    """Unsaved work left by an instance that did not close cleanly."""

    path: Path
    project: Project
    saved_at: float
    """Seconds since the epoch when it was autosaved."""

    @property
    def saved_at_text(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))

    @property
    def description(self) -> str:
        n = len(self.project.strokes)
        return (f"{display_name(self.project.source_path)}: {n} stroke{'s' if n != 1 else ''}, "
                f"autosaved {self.saved_at_text}")


class _FileLock:
    """An exclusive OS lock that dies with the process (flock / msvcrt)."""

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.name == "nt":
                import msvcrt

                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def write_info(self, text: str) -> None:
        if self._fd is not None and os.name != "nt":
            try:
                os.ftruncate(self._fd, 0)
                os.pwrite(self._fd, text.encode("utf-8"), 0)
            except OSError:
                pass

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            if os.name == "nt":
                import msvcrt

                try:
                    os.lseek(self._fd, 0, os.SEEK_SET)
                    msvcrt.locking(self._fd, msvcrt.LK_UNLCK, 1)
                except OSError:
                    pass
            else:
                import fcntl

                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = None


def _is_locked(lock_path: Path) -> bool:
    """True while a live process holds ``lock_path``."""
    if not lock_path.exists():
        return False
    probe = _FileLock(lock_path)
    try:
        if probe.acquire():
            probe.release()
            return False
    except OSError:
        return False
    return True


class Autosaver:
    """Autosave of one editing session (one window / one photo at a time).

    Call :meth:`save` after edits (throttle it: e.g. at most every 2 s, and on idle; or use
    :meth:`save_if_due`). Call :meth:`clear` when the work is saved or discarded and the
    window closes cleanly. A crash leaves the file for :func:`list_recoverable`.
    """

    def __init__(self, data_dir: str | os.PathLike[str] | None = None,
                 session_id: str | None = None):
        self.dir = Path(data_dir) / "autosave" if data_dir is not None else \
            default_data_dir() / "autosave"
        self.id = session_id or f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-" \
                                f"{uuid.uuid4().hex[:8]}"
        self.path = self.dir / f"{self.id}{PROJECT_SUFFIX}"
        self.lock_path = self.dir / f"{self.id}.lock"
        self._lock: _FileLock | None = None
        self._last_save = 0.0

    def _ensure_lock(self) -> None:
        if self._lock is not None:
            return
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            lock = _FileLock(self.lock_path)
            if not lock.acquire():
                raise SessionError(f"autosave {self.id} is in use by another instance")
        except OSError as e:
            raise SessionError(f"cannot use the autosave folder {self.dir} "
                               f"({e.strerror or e})") from None
        lock.write_info(json.dumps({"pid": os.getpid(), "started": time.time()}))
        self._lock = lock

    def save(self, project: Project) -> Path:
        """Write ``project`` now (atomic). Raises :class:`SessionError` on a disk problem."""
        self._ensure_lock()
        data = project_bytes(project, None)
        try:
            write_atomic(self.path, data)
        except MattingStudioError as e:
            raise SessionError(f"autosave failed: {e}") from None
        self._last_save = time.monotonic()
        return self.path

    def save_if_due(self, project: Project, min_interval: float = 2.0) -> bool:
        """Save unless the last save is less than ``min_interval`` seconds old."""
        if time.monotonic() - self._last_save < min_interval:
            return False
        self.save(project)
        return True

    def clear(self) -> None:
        """Clean close: delete this session's autosave and release its lock."""
        _remove_quietly(self.path)
        if self._lock is not None:
            self._lock.release()
            self._lock = None
            try:
                self.lock_path.unlink()
            except OSError:
                pass

    def release(self) -> None:
        """Drop the lock but keep the file (as a crash would). For tests and hand-over."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def list_recoverable(self) -> list[RecoveryItem]:
        """Recoverable work of *other* sessions (never this one's own)."""
        return [i for i in list_recoverable(self.dir.parent) if i.path != self.path]

    def discard(self, item: RecoveryItem) -> None:
        discard(item)

    def __enter__(self) -> Autosaver:
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            self.clear()
        else:
            self.release()


def list_recoverable(data_dir: str | os.PathLike[str] | None = None) -> list[RecoveryItem]:
    """Autosaves left by sessions that are no longer running, newest first.

    A session that is still running (its lock is held) is skipped; unreadable autosaves are
    skipped with a warning (they stay on disk until :func:`discard`-ed or cleaned by hand).
    """
    folder = (Path(data_dir) if data_dir is not None else default_data_dir()) / "autosave"
    items: list[RecoveryItem] = []
    try:
        files = sorted(folder.glob(f"*{PROJECT_SUFFIX}"))
    except OSError:
        return []
    try:
        for lock in folder.glob("*.lock"):  # left by a crash before the first autosave
            if not lock.with_suffix(PROJECT_SUFFIX).exists() and not _is_locked(lock):
                lock.unlink()
    except OSError:
        pass
    for p in files:
        if _is_locked(p.with_suffix(".lock")):
            continue
        try:
            project = load_project(p)
            saved_at = p.stat().st_mtime
        except (SessionError, OSError) as e:
            log.warning("skipping unreadable autosave %s: %s", p.name, e)
            continue
        project.project_path = None  # an autosave is not the user's project file
        items.append(RecoveryItem(path=p, project=project, saved_at=saved_at))
    items.sort(key=lambda i: i.saved_at, reverse=True)
    return items


def discard(item: RecoveryItem) -> None:
    """Delete a recovered (or declined) autosave and its stale lock file."""
    _remove_quietly(item.path, item.path.with_suffix(".lock"))


def _remove_quietly(*paths: Path) -> None:
    """Delete files that may already be gone; a failure is logged, never raised."""
    for p in paths:
        try:
            p.unlink()
        except FileNotFoundError:
            pass
        except OSError as e:
            log.warning("could not remove %s: %s", p, e)
