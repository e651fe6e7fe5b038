"""Write files atomically: a temporary file in the same folder, fsync, rename.

The temporary file is named ``.<stem>.<random>.<host>-<pid>.part``: the host (a short hash of
its name) and the process id of the writer. A run that is killed while writing leaves it
behind; a later write into the same folder removes such leftovers when they are ours for
certain: written on this host, by a process that no longer exists, more than
:data:`STALE_AFTER` seconds ago (:func:`remove_stale_parts`). Other files are never touched.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import socket
import stat
import sys
import tempfile
import threading
import time
from pathlib import Path

from ..errors import ExportError
from .names import display_name, short

log = logging.getLogger(__name__)

STALE_AFTER = 10 * 60
"""Seconds after which a leftover temporary file of a dead process of ours is removed (no
write takes that long; on Windows, where process ids are not checked, a day)."""


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True when both paths name the same file (resolving links; missing files compare by path)."""
    pa, pb = Path(a), Path(b)
    try:
        if pa.exists() and pb.exists():
            return os.path.samefile(pa, pb)
    except OSError:
        pass
    return pa.resolve() == pb.resolve()


def write_atomic(
    path: str | os.PathLike[str], data: bytes, protect: tuple[str | os.PathLike[str], ...] = ()
) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder and an atomic rename.

    ``protect`` lists files (the user's originals) that must never be replaced. On any failure
    no partial file is left behind and :class:`ExportError` explains why. A replaced file keeps
    its permission bits; a new one gets the usual ``0666 & ~umask``.
    """
    path = Path(path)
    name = display_name(path)
    for p in protect:
        if p is not None and same_file(path, p):
            raise ExportError(f"{name}: refusing to overwrite the original photo; "
                              "choose another name")
    folder = path.parent if str(path.parent) else Path(".")
    tmp_name = None
    try:
        if not folder.is_dir():
            raise ExportError(f"{name}: the folder {display_name(folder)} does not exist")
        if path.is_dir():
            raise ExportError(f"{name}: a folder of that name is in the way; choose another name")
        mode = _target_mode(path)
        _clean_once(folder)
        fd, tmp_name = temp_file(folder, path.stem)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if path.exists() and not os.access(path, os.W_OK):
            raise PermissionError(errno.EACCES, "file is read-only")
        try:
            os.chmod(tmp_name, mode)
        except OSError:  # e.g. FAT / network shares: permissions are not ours to keep
            pass
        os.replace(tmp_name, path)
        tmp_name = None
        _fsync_folder(folder)
    except PermissionError:
        raise ExportError(f"{name}: cannot write here, permission denied ({folder})") from None
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise ExportError(f"{name}: the disk is full; nothing was written") from None
        if e.errno == errno.EROFS:
            raise ExportError(f"{name}: the folder is on a read-only disk") from None
        if e.errno == errno.ENAMETOOLONG:
            raise ExportError(f"{name}: the file name is too long") from None
        raise ExportError(f"{name}: could not be written ({short(e)})") from None
    finally:
        if tmp_name is not None:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass
    return path


_UMASK: int | None = None


def _target_mode(path: Path) -> int:
    global _UMASK
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        pass
    if _UMASK is None:
        _UMASK = os.umask(0o022)
        os.umask(_UMASK)
    return 0o666 & ~_UMASK


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable (POSIX); best effort."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _host_tag() -> str:
    return hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]


_HOST = _host_tag()
_PART = re.compile(r"^\..*\.([0-9a-f]{8})-(\d{1,10})\.part$")


def temp_file(folder: Path, stem: str) -> tuple[int, str]:
    """(fd, name) of a new temporary file for ``stem`` in ``folder``, named as ours."""
    return tempfile.mkstemp(prefix=f".{stem[:40]}.", suffix=f".{_HOST}-{os.getpid()}.part",
                            dir=folder)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):  # exists (another user's), or cannot tell: keep
        return True
    return True


def remove_stale_parts(folder: str | os.PathLike[str], now: float | None = None) -> list[Path]:
    """Remove our leftover temporary files in ``folder`` (see the module's notes); returns
    what was removed. Never raises."""
    now = time.time() if now is None else now
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    windows = sys.platform == "win32"
    for entry in entries:
        m = _PART.match(entry.name)
        if m is None or m.group(1) != _HOST:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode):
                continue
            age = now - st.st_mtime
            if windows:  # os.kill would signal the process there: go by age alone
                if age < 24 * 3600:
                    continue
            elif age < STALE_AFTER or _alive(int(m.group(2))):
                continue
            os.unlink(entry.path)
            removed.append(Path(entry.path))
            log.info("removed %s, left behind by an interrupted run", display_name(entry.path))
        except OSError:
            continue
    return removed


_cleaned: set[str] = set()
_cleaned_lock = threading.Lock()


def _clean_once(folder: Path) -> None:
    """:func:`remove_stale_parts` the first time this process writes into ``folder``."""
    key = os.path.normcase(os.path.abspath(folder))
    with _cleaned_lock:
        if key in _cleaned:
            return
        _cleaned.add(key)
    remove_stale_parts(folder)
