"""Photos named by fsspec URLs (``s3://``, ``gs://``, ``file://``, …): listing them, reading
them, writing outputs so that no half-written file or object is ever visible, and planning a
batch whose inputs or outputs are URLs with the same rules as :func:`~..core.batch.plan_batch`.

Free of Dask: the client lists and plans, the workers read and write.
"""

from __future__ import annotations

import logging
import os
import posixpath
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..core.batch import (
    DEFAULT_NAME,
    PlanError,
    check_canvas_fits,
    check_name_template,
    collect_inputs,
    is_photo_name,
    output_name,
    plan_batch,
)
from ..core.errors import ExportError, ImageLoadError
from ..core.export import ExportOptions, check_output_suffix
from ..core.io import MAX_FILE_BYTES, display_name, read_errors, write_atomic

log = logging.getLogger(__name__)

OBJECT_STORES = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "oci",
                           "oss"})
"""Protocols whose objects appear whole when one upload completes: written with one PUT."""


def is_url(text: str | os.PathLike[str]) -> bool:
    """True for ``protocol://…`` (``file://`` included), False for a plain local path."""
    from fsspec.core import split_protocol

    return isinstance(text, str) and split_protocol(text)[0] is not None


def url_name(url: str) -> str:
    """The file name at the end of a URL, for messages and output names."""
    return display_name(posixpath.basename(url.rstrip("/")) or url)


def _filesystem(url: str):
    """(filesystem, path) of ``url``; a missing fsspec backend is one line."""
    from fsspec.core import url_to_fs

    try:
        return url_to_fs(url)
    except ImportError as e:  # e.g. "Install s3fs to access S3"
        raise ImageLoadError(f"{url}: {e}") from None
    except (ValueError, OSError) as e:
        raise ImageLoadError(f"{url}: not a usable address ({e})") from None


@dataclass(frozen=True)
class Planned:
    """One photo of a cluster batch: where it is, and each output's kind and destination
    (a local path the client writes, or a URL the worker writes)."""

    index: int
    source: str
    outputs: tuple[tuple[str, str], ...]
    trimap: str | None = None

    @property
    def name(self) -> str:
        return url_name(self.source) if is_url(self.source) else display_name(self.source)


@dataclass(frozen=True)
class CollectedUrls:
    photos: list[str]
    notes: list[str]
    problems: list[str]


def collect(args: Sequence[str], recursive: bool = False) -> CollectedUrls:
    """The photos named by ``args``: local files and folders as :func:`collect_inputs` finds
    them, URLs of files, of folders (their photos, sorted; subfolders with ``recursive``) and
    glob patterns (``s3://bucket/shoot/*.jpg``)."""
    photos: list[str] = []
    notes: list[str] = []
    problems: list[str] = []
    for arg in args:
        if not is_url(arg):
            found = collect_inputs([arg], recursive)
            photos += [str(p) for p in found.photos]
            notes += found.notes
            problems += found.problems
            continue
        try:
            fs, path = _filesystem(arg)
            if any(c in path for c in "*?["):
                entries = [p for p in fs.glob(path) if fs.isfile(p)]
                folder = False
            elif fs.isdir(path):
                folder = True
                entries = (fs.find(path) if recursive
                           else [e["name"] for e in fs.ls(path, detail=True)
                                 if e["type"] == "file"])
            elif arg.endswith("/"):
                problems.append(f"{arg}: folder not found")
                continue
            else:
                photos.append(arg)
                continue
        except ImageLoadError as e:
            problems.append(str(e))
            continue
        except OSError as e:
            problems.append(f"{arg}: cannot be listed ({e})")
            continue
        entries = sorted(e for e in entries if not posixpath.basename(e).startswith("."))
        found = [e for e in entries if is_photo_name(e)]
        skipped = len(entries) - len(found)
        photos += [fs.unstrip_protocol(e) for e in found]
        if skipped:
            notes.append(f"{arg}: skipped {skipped} file{'s' if skipped != 1 else ''} that "
                         "are not photos")
        if not found:
            problems.append(f"{arg}: no photos {'in this folder' if folder else 'match'}")
    return CollectedUrls(photos, notes, problems)


def _key(location: str) -> str:
    if is_url(location):
        try:
            fs, path = _filesystem(location)
        except ImageLoadError as e:
            raise PlanError(str(e)) from None
        return fs.unstrip_protocol(posixpath.normpath(path))
    try:
        return os.path.normcase(str(Path(location).resolve()))
    except (OSError, RuntimeError):
        return os.path.normcase(str(Path(location).absolute()))


def _beside(source: str, name: str) -> str:
    if is_url(source):
        return source.rsplit("/", 1)[0] + "/" + name
    return str(Path(source).with_name(name))


def _inside(folder: str, name: str) -> str:
    if is_url(folder):
        return folder.rstrip("/") + "/" + name
    return str(Path(folder) / name)


def plan(sources: Sequence[str], output: str | None = None, alpha_out: str | None = None,
         trimap_out: str | None = None, user_trimap: str | None = None,
         template: str = DEFAULT_NAME, options: ExportOptions = ExportOptions()
         ) -> list[Planned]:
    """Every output of the batch, decided before any work (see
    :func:`~..core.batch.plan_batch`, which decides it when nothing is a URL)."""
    locations = [*sources, output, alpha_out, trimap_out, user_trimap]
    if not any(is_url(x) for x in locations if x is not None):
        items = plan_batch([Path(s) for s in sources], output, alpha_out, trimap_out,
                           user_trimap, template, options)
        return [Planned(i, str(it.source),
                        tuple((kind, str(path)) for kind, path in it.outputs.items()),
                        str(it.user_trimap) if it.user_trimap else None)
                for i, it in enumerate(items)]
    template = check_name_template(template)
    if not sources:
        raise PlanError("no photos to cut out")
    if user_trimap is not None and is_url(user_trimap):
        raise PlanError("--trimap must be a file on this computer")
    many = len(sources) > 1
    if many and (user_trimap or alpha_out or trimap_out):
        raise PlanError("--trimap, --alpha-out and --trimap-out take a single photo")
    names = [output_name(url_name(s) if is_url(s) else s, template, i)
             for i, s in enumerate(sources)]
    if output is None:
        cutouts = [_beside(s, n) for s, n in zip(sources, names)]
    else:
        local_dir = not is_url(output) and Path(output).is_dir()
        as_dir = (many or local_dir or output.endswith(("/", os.sep))
                  or posixpath.splitext(output.rstrip("/"))[1] == "")
        if as_dir:
            if not is_url(output) and Path(output).exists() and not local_dir:
                raise PlanError(f"{display_name(output)} is a file; with several photos -o "
                                "must be a folder")
            cutouts = [_inside(output, n) for n in names]
        else:
            cutouts = [output]
    planned = []
    keep = {_key(s): s for s in [*sources, *([user_trimap] if user_trimap else [])]}
    claimed: dict[str, str] = {}
    for i, (src, cut) in enumerate(zip(sources, cutouts)):
        outs = tuple((k, p) for k, p in (("cut-out", cut), ("alpha", alpha_out),
                                         ("trimap", trimap_out)) if p is not None)
        who_src = url_name(src) if is_url(src) else display_name(src)
        for kind, dest in outs:
            try:
                check_output_suffix(dest, f"the {kind}", lossless=kind == "trimap")
                if kind == "cut-out":
                    check_canvas_fits(PurePosixPath(dest), options)
            except ExportError as e:
                raise PlanError(str(e)) from None
            key = _key(dest)
            shown = url_name(dest) if is_url(dest) else display_name(dest)
            if key in keep:
                raise PlanError(f"{shown} is an input file; refusing to write the {kind} over "
                                "it (choose another output name)")
            who = f"the {kind} of {who_src}"
            if key in claimed:
                raise PlanError(f"{claimed[key]} and {who} would both be written to {shown}; "
                                "choose different names"
                                + (" (e.g. --name '{stem}_{ext}_cutout.png')" if many else ""))
            claimed[key] = who
        planned.append(Planned(i, src, outs, user_trimap))
    return planned


# --------------------------------------------------------------------------------------------
# On a worker


def read_url(url: str) -> bytes:
    """The bytes of the file at ``url``; :class:`ImageLoadError` with one line otherwise."""
    name = url_name(url)
    fs, path = _filesystem(url)
    with read_errors(name, url):
        size = fs.size(path)
        if size is not None and size > MAX_FILE_BYTES:
            raise ImageLoadError(f"{name}: the file is too large to open "
                                 f"({size / 2**30:.1f} GB)")
        return fs.cat_file(path)


def write_url(url: str, data: bytes, protect: Sequence[str] = ()) -> str:
    """Write ``data`` at ``url`` so that no reader ever sees half of it.

    Local files (``file://``): the core's :func:`write_atomic` (temporary file in the same
    folder, fsync, rename). Object stores: one upload, which makes the object appear whole.
    Other filesystems: a hidden temporary name in the same folder, then a move.
    """
    from fsspec.implementations.local import LocalFileSystem

    name = url_name(url)
    if any(_key(url) == _key(p) for p in protect):
        raise ExportError(f"{name}: refusing to overwrite the original photo; choose another name")
    fs, path = _filesystem(url)
    if isinstance(fs, LocalFileSystem):
        folder = Path(path).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ExportError(f"cannot create the folder {display_name(folder)}: "
                              f"{e.strerror or e}") from None
        write_atomic(path, data)
        return url
    protocols = {fs.protocol} if isinstance(fs.protocol, str) else set(fs.protocol)
    try:
        if protocols & OBJECT_STORES:
            fs.pipe_file(path, data)
        else:
            folder, base = posixpath.split(path)
            tmp = posixpath.join(folder, f".{base}.{uuid.uuid4().hex[:12]}.part")
            fs.makedirs(folder, exist_ok=True)
            try:
                fs.pipe_file(tmp, data)
                fs.mv(tmp, path)
            except BaseException:
                try:
                    fs.rm_file(tmp)
                except Exception:  # noqa: BLE001 - best effort; the first error matters
                    log.debug("could not remove %s", tmp, exc_info=True)
                raise
    except PermissionError:
        raise ExportError(f"{name}: cannot write here, permission denied ({url})") from None
    except OSError as e:
        raise ExportError(f"{name}: could not be written ({e})") from None
    return url
