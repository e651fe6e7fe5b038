"""Downloading catalogue models, only when the user asks (``matting-studio models get NAME``, or
the editor's download button): resumable, checked against the pinned checksums, installed
atomically into the models folder.

* **Where from**: the model's official address (:attr:`.models.ModelInfo.url`), or
  ``$MATTING_STUDIO_MODEL_MIRROR/<release file name>`` when that variable is set (a studio's
  internal mirror; the tests' local HTTP server).
* **Resume**: the bytes arrive in ``<models>/<name>.onnx.part``; an interrupted download
  (network failure, Cancel, a killed process) keeps them, and the next request asks the server
  for the rest (HTTP ``Range``). A server that ignores ``Range`` sends the whole file again.
* **Checks**: the server must offer the catalogue's size; the finished file must match the
  size, the md5 and the sha256 pinned in :data:`.models.CATALOGUE`. A mismatch deletes the
  bytes and says so. Only a file that passed is renamed into place (``<name>.onnx``), so the
  models folder never holds a partial or unchecked model.
* **Failures** are one-line :class:`~.errors.ModelError` messages; an unreachable or silent
  server fails within ``timeout`` seconds (connect and every read), never hangs.
* One download of a model at a time (a lock file beside it), so the editor and a terminal
  cannot write the same ``.part``.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from .errors import ModelError
from .models import ModelInfo, get_info, installed_path, partial_path
from .paths import models_dir
from .progress import CancelToken

log = logging.getLogger(__name__)

MIRROR_ENV = "MATTING_STUDIO_MODEL_MIRROR"
DEFAULT_TIMEOUT = 15.0
"""Seconds to wait for a connection and for each read before giving up."""
CHUNK = 1 << 20

DownloadProgress = Callable[[int, int, str], None]
"""``progress(bytes done, bytes in all, stage)``; stage ``"download"``, then ``"check"`` while
the finished file is checked against its checksums."""


def source_url(info: ModelInfo) -> str:
    """Where ``info`` is downloaded from: the mirror, when one is set, else the official address."""
    mirror = os.environ.get(MIRROR_ENV, "").strip()
    if not mirror:
        return info.url
    scheme = urllib.parse.urlsplit(mirror).scheme.lower()
    if scheme not in ("http", "https"):
        raise ModelError(f"{MIRROR_ENV}={mirror!r} is not an http:// or https:// address")
    return mirror.rstrip("/") + "/" + urllib.parse.quote(info.file_name)


def check_file(path: Path, info: ModelInfo, progress: DownloadProgress | None = None,
               cancel: CancelToken | None = None) -> str | None:
    """None when ``path`` is ``info``'s file (size, md5 and sha256), else what differs."""
    size = path.stat().st_size
    if size != info.size:
        return f"{size:,} bytes instead of {info.size:,}"
    md5, sha256 = hashlib.md5(), hashlib.sha256()
    done = 0
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            md5.update(block)
            sha256.update(block)
            done += len(block)
            if progress:
                progress(done, size, "check")
            if cancel:
                cancel.check()
    if md5.hexdigest() != info.md5:
        return f"md5 {md5.hexdigest()} instead of {info.md5}"
    if sha256.hexdigest() != info.sha256:
        return f"sha256 {sha256.hexdigest()} instead of {info.sha256}"
    return None


def download(model: str | ModelInfo, progress: DownloadProgress | None = None,
             cancel: CancelToken | None = None, timeout: float = DEFAULT_TIMEOUT,
             folder: Path | None = None) -> Path:
    """Download and install a catalogue model; returns the installed file.

    Already installed and intact: returned at once (after checking it). The embedded model is
    never downloaded. ``cancel`` (checked between chunks) raises :class:`~.errors.Cancelled`
    and keeps the bytes so far for the next call to resume.
    """
    info = model if isinstance(model, ModelInfo) else get_info(model)
    if info.embedded:
        return installed_path(info)
    folder = folder or models_dir()
    target = installed_path(info, folder)
    if target.is_file():
        problem = check_file(target, info, progress, cancel)
        if problem is None:
            return target
        log.warning("%s is damaged (%s); downloading it again", target, problem)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ModelError(f"cannot create the models folder {folder}: {e.strerror or e}") from None
    from filelock import FileLock, Timeout

    lock = FileLock(str(folder / f".{info.install_name}.lock"), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise ModelError(f"{info.name} is already being downloaded (by another window or "
                         "command); wait for it to finish") from None
    except OSError as e:
        raise ModelError(f"cannot write in the models folder {folder}: "
                         f"{e.strerror or e}") from None
    try:
        part = partial_path(info, folder)
        _fetch(info, part, progress, cancel, timeout)
        problem = check_file(part, info, progress, cancel)
        if problem is not None:
            part.unlink(missing_ok=True)
            raise ModelError(f"the download of {info.name} does not match its pinned checksum "
                             f"({problem}); the downloaded bytes were deleted")
        _install(part, target)
    finally:
        lock.release()
    log.info("installed %s (%s) as %s", info.name, info.size_text, target)
    return target


def remove(model: str | ModelInfo, folder: Path | None = None) -> list[Path]:
    """Delete a downloaded model and any interrupted download of it; returns what was deleted.
    The embedded model cannot be removed (:class:`ModelError`)."""
    info = model if isinstance(model, ModelInfo) else get_info(model)
    if info.embedded:
        raise ModelError(f"{info.name} is built into Matting Studio and cannot be removed")
    folder = folder or models_dir()
    removed = []
    for p in (installed_path(info, folder), partial_path(info, folder)):
        try:
            p.unlink()
            removed.append(p)
        except FileNotFoundError:
            pass
        except OSError as e:
            raise ModelError(f"cannot delete {p}: {e.strerror or e}") from None
    return removed


# ------------------------------------------------------------------------------------------


def _fetch(info: ModelInfo, part: Path, progress: DownloadProgress | None,
           cancel: CancelToken | None, timeout: float) -> None:
    """Bring ``part`` to the server's complete file, resuming what it holds."""
    url = source_url(info)
    for _attempt in range(2):  # a second time from zero if the server refuses our range
        have = part.stat().st_size if part.exists() else 0
        if have > info.size:
            part.unlink()
            have = 0
        if have == info.size:
            return
        request = urllib.request.Request(url, headers={"User-Agent": _user_agent()})
        if have:
            request.add_header("Range", f"bytes={have}-")
        try:
            response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - http(s) only
        except urllib.error.HTTPError as e:
            if e.code == 416 and have:  # what we hold is not a prefix the server knows
                part.unlink()
                continue
            raise ModelError(f"cannot download {info.name}: {_host(url)} answered {e.code} "
                             f"{e.reason} for {url}") from None
        except (urllib.error.URLError, OSError) as e:
            raise _network_error(info, url, e, timeout) from None
        with response:
            status = response.status
            if status == 206:
                start = _range_start(response.headers.get("Content-Range", ""))
                if start != have:
                    raise ModelError(f"cannot resume {info.name}: {_host(url)} sent bytes from "
                                     f"{start}, not {have}; remove it and try again")
            else:  # 200: the whole file (the server ignored Range, or there was none)
                have = 0
            length = response.headers.get("Content-Length")
            if length is not None and length.isdigit() and have + int(length) != info.size:
                part.unlink(missing_ok=True)  # not the file we want: keep nothing of it
                raise ModelError(f"cannot download {info.name}: {_host(url)} offers "
                                 f"{have + int(length):,} bytes, the catalogue expects "
                                 f"{info.size:,}; nothing was kept")
            _copy(response, part, have, info, url, progress, cancel, timeout)
        return
    raise ModelError(f"cannot download {info.name}: {_host(url)} refuses to resume it")


def _copy(response, part: Path, have: int, info: ModelInfo, url: str,
          progress: DownloadProgress | None, cancel: CancelToken | None, timeout: float) -> None:
    done = have
    try:
        with open(part, "ab" if have else "wb") as out:
            if progress:
                progress(done, info.size, "download")
            while done < info.size:
                if cancel:
                    cancel.check()
                try:
                    block = response.read(min(CHUNK, info.size - done))
                except (OSError, urllib.error.URLError) as e:
                    raise _network_error(info, url, e, timeout, started=True) from None
                if not block:
                    break
                out.write(block)
                done += len(block)
                if progress:
                    progress(done, info.size, "download")
            out.flush()
            os.fsync(out.fileno())
    except OSError as e:  # read errors became ModelError above: this is the disk
        raise ModelError(f"cannot write {part}: {e.strerror or e}") from None
    if done < info.size:
        raise ModelError(f"the download of {info.name} stopped at {done:,} of {info.size:,} "
                         "bytes; run the same command again to resume it")


def _install(part: Path, target: Path) -> None:
    try:
        os.replace(part, target)
        if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
            fd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    except OSError as e:
        raise ModelError(f"cannot install {target}: {e.strerror or e}") from None


def _network_error(info: ModelInfo, url: str, e: BaseException, timeout: float,
                   started: bool = False) -> ModelError:
    reason = getattr(e, "reason", e)
    if isinstance(reason, (socket.timeout, TimeoutError)):
        what = f"no answer for {timeout:g} s"
    elif isinstance(reason, socket.gaierror):
        what = "the name could not be looked up (offline?)"
    elif isinstance(reason, ConnectionRefusedError):
        what = "the connection was refused"
    elif isinstance(reason, OSError) and reason.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        what = "the network is unreachable (offline?)"
    else:
        what = " ".join(str(reason).split())[:120] or type(reason).__name__
    hint = (" The bytes so far are kept; run the same command again to resume."
            if started else "")
    mirror = f" (mirror from {MIRROR_ENV})" if os.environ.get(MIRROR_ENV, "").strip() else ""
    return ModelError(f"cannot download {info.name} from {_host(url)}{mirror}: {what}.{hint}")


def _range_start(content_range: str) -> int:
    """``"bytes 100-199/200"`` → 100; -1 when unreadable."""
    try:
        unit, rest = content_range.split(None, 1)
        return int(rest.split("-", 1)[0]) if unit.lower() == "bytes" else -1
    except ValueError:
        return -1


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc or url


def _user_agent() -> str:
    from .. import __version__

    return f"matting-studio/{__version__}"
