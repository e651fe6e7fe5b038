"""Autosave of a running editor and recovery after a crash. No Qt here.

An :class:`Autosaver` writes the whole project (every photo of the shoot) to
``<data dir>/autosave/<id>.msproj`` atomically whenever the editor asks, and holds an OS lock
on ``<id>.lock`` (filelock) while it lives. After a crash or ``kill -9`` the OS drops the
lock, so the next start finds the file in :func:`list_recoverable`; a *running* editor's
autosave is never offered to another one. A recovered autosave is deleted only after its
successor is on disk (:meth:`Autosaver.adopt`).
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from .errors import MattingStudioError, SessionError
from .io import display_name, write_atomic
from .paths import autosave_dir
from .project import PROJECT_SUFFIX, Project, load_project, project_bytes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecoveryItem:
    """Unsaved work left by an editor that did not close cleanly."""

    path: Path
    project: Project
    saved_at: float
    """Seconds since the epoch when it was autosaved."""

    @property
    def saved_at_text(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))

    @property
    def description(self) -> str:
        photos = self.project.photos
        n = sum(len(p.strokes) for p in photos)
        strokes = f"{n} stroke{'s' if n != 1 else ''}"
        if len(photos) == 1:
            what = f"{photos[0].name}: {strokes}"
        else:
            names = ", ".join(p.name for p in photos[:3]) + (", …" if len(photos) > 3 else "")
            what = f"{len(photos)} photos ({names}): {strokes}"
        return f"{what}, autosaved {self.saved_at_text}"


def _is_locked(lock_path: Path) -> bool:
    """True while a live editor holds ``lock_path``."""
    if not lock_path.exists():
        return False
    probe = FileLock(lock_path, is_singleton=False)
    try:
        probe.acquire(timeout=0)
    except Timeout:
        return True
    except OSError:
        return False
    probe.release()
    return False


class Autosaver:
    """Autosave of one editing session (one window, the whole shoot).

    Call :meth:`save` after edits (the editor decides when: a short delay after a change,
    and never more than a few seconds while changes keep coming). Call :meth:`clear` when the
    work is saved or discarded and the window closes cleanly. A crash leaves the file for
    :func:`list_recoverable`.
    """

    def __init__(self, data_dir: str | os.PathLike[str] | None = None,
                 session_id: str | None = None):
        self.dir = autosave_dir(data_dir)
        self.id = session_id or f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-" \
                                f"{uuid.uuid4().hex[:8]}"
        self.path = self.dir / f"{self.id}{PROJECT_SUFFIX}"
        self.lock_path = self.dir / f"{self.id}.lock"
        self._lock: FileLock | None = None
        self.last_save = 0.0
        """``time.monotonic()`` of the last successful save (0: none yet)."""

    def _ensure_lock(self) -> None:
        if self._lock is not None:
            return
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            lock = FileLock(self.lock_path, is_singleton=False)
            lock.acquire(timeout=0)
        except Timeout:
            raise SessionError(f"autosave {self.id} is in use by another editor") from None
        except OSError as e:
            raise SessionError(f"cannot use the autosave folder {self.dir} "
                               f"({e.strerror or e})") from None
        self._lock = lock
        try:
            self.lock_path.write_text(json.dumps({"pid": os.getpid(), "started": time.time()}))
        except OSError:
            pass  # informational only

    def save(self, project: Project) -> Path:
        """Write ``project`` now (atomic). Raises :class:`SessionError` on a disk problem,
        with a message that says so (it starts with "autosave failed")."""
        try:
            self._ensure_lock()
            data = project_bytes(project, None)
            write_atomic(self.path, data)
        except MattingStudioError as e:
            raise SessionError(f"autosave failed: {_without_prefix(str(e))}") from None
        self.last_save = time.monotonic()
        return self.path

    def adopt(self, item: RecoveryItem) -> None:
        """Take over recovered work: its project becomes this session's autosave *first*, and
        only then is the old file deleted, so a crash in between loses nothing."""
        self.save(item.project)
        discard(item)

    def clear(self) -> None:
        """Clean close: delete this session's autosave and release its lock."""
        _remove_quietly(self.path)
        if self._lock is not None:
            self._lock.release()
            self._lock = None
            _remove_quietly(self.lock_path)

    def release(self) -> None:
        """Drop the lock but keep the file (as a crash would). For tests and hand-over."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def list_recoverable(self) -> list[RecoveryItem]:
        """Recoverable work of *other* sessions (never this one's own)."""
        return [i for i in list_recoverable(self.dir.parent) if i.path != self.path]

    def __enter__(self) -> Autosaver:
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            self.clear()
        else:
            self.release()


def _without_prefix(message: str) -> str:
    return message.removeprefix("autosave failed: ")


def list_recoverable(data_dir: str | os.PathLike[str] | None = None) -> list[RecoveryItem]:
    """Autosaves left by editors that are no longer running, newest first.

    A session that is still running (its lock is held) is skipped; an unreadable, damaged or
    hostile autosave is skipped with a warning and never hides the good ones beside it (it
    stays on disk until :func:`discard`-ed or cleaned by hand).
    """
    folder = autosave_dir(data_dir)
    try:
        files = sorted(folder.glob(f"*{PROJECT_SUFFIX}"))
        for lock in folder.glob("*.lock"):  # left by a crash before the first autosave
            if not lock.with_suffix(PROJECT_SUFFIX).exists() and not _is_locked(lock):
                _remove_quietly(lock)
    except OSError:
        return []
    items: list[RecoveryItem] = []
    for p in files:
        try:
            if _is_locked(p.with_suffix(".lock")):
                continue
            project = load_project(p)
            saved_at = p.stat().st_mtime
        except (SessionError, OSError) as e:
            log.warning("skipping an unreadable autosave, %s: %s", display_name(p), e)
            continue
        except Exception as e:  # noqa: BLE001 - one bad file must not block recovery of the rest
            log.warning("skipping an unreadable autosave, %s (%s)", display_name(p),
                        type(e).__name__)
            continue
        project.path = None  # an autosave is not the user's project file
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
