"""Write files atomically: a temporary file in the same folder, fsync, rename."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from ..errors import ExportError
from .names import display_name, short


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
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem[:40]}.", suffix=".part", dir=folder)
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
