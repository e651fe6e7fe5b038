"""Headless cut-outs of many photos: which files, which outputs, and one photo's whole job.

The command line (and a cluster worker) use these in three steps:

1. :func:`collect_inputs` turns command-line arguments (files and folders) into photos;
2. :func:`plan_batch` decides every output path *before any work*, and refuses a plan in
   which two outputs would land on one file or an output would replace an input;
3. :func:`cutout_item` runs one photo: load → model → trimap → :func:`~.solve.solve` →
   encode → write atomically (the same path as the editor's).

A worker that does not share the client's disk uses :func:`cutout_bytes` instead of step 3:
the photo's file comes in as bytes and the encoded outputs go back as bytes, for the client
to write.
"""

from __future__ import annotations

import logging
import os
import string
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import ExportError, MattingError, MattingStudioError
from .export import ExportOptions, check_output_suffix, export_result, output_format
from .io import (
    SUPPORTED_SUFFIXES,
    LoadedImage,
    decode_image,
    display_name,
    load_grey,
    load_image,
)
from .memory import is_out_of_memory
from .pipeline import CutoutResult, run_cutout
from .progress import CancelToken, ProgressFn, no_progress
from .settings import PipelineSettings
from .trimap import Stroke, normalize_trimap

log = logging.getLogger(__name__)

DEFAULT_NAME = "{stem}_cutout.png"
"""Output file name of a photo: ``{stem}`` is the photo's name without its extension, ``{ext}``
its extension without the dot, ``{n}`` its position in the batch (1, 2, …). The template's
extension decides the format of the cut-outs (``{stem}.jpg``: JPEG on white; ``.tif``,
``.webp``, ``.png``)."""
_FIELDS = {"stem", "ext", "n"}


class PlanError(MattingStudioError):
    """The requested outputs cannot be written as asked (nothing has been done yet)."""


@dataclass(frozen=True)
class Outputs:
    """Where one photo's results go (None: not written)."""

    cutout: Path | None
    alpha: Path | None = None
    trimap: Path | None = None

    def items(self) -> list[tuple[str, Path]]:
        return [(k, p) for k, p in (("cut-out", self.cutout), ("alpha", self.alpha),
                                    ("trimap", self.trimap)) if p is not None]


@dataclass(frozen=True)
class BatchItem:
    """One photo of a batch and where its results go."""

    source: Path
    outputs: Outputs
    user_trimap: Path | None = None


def check_name_template(template: str) -> str:
    """``template`` if it is a usable output name (fields from :data:`DEFAULT_NAME` only, a
    file name, not a path); :class:`PlanError` otherwise."""
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    except ValueError as e:
        raise PlanError(f"the name template {template!r} is not valid ({e})") from None
    unknown = fields - _FIELDS
    if unknown:
        raise PlanError(f"the name template {template!r} uses {', '.join(sorted(unknown))}; "
                        "it may use {stem}, {ext} and {n}")
    if not template.strip() or "/" in template or os.sep in template:
        raise PlanError(f"the name template {template!r} must be a file name, not a path")
    return template


def output_name(source: str | os.PathLike[str], template: str = DEFAULT_NAME,
                index: int = 0) -> str:
    """The output file name of ``source`` under ``template`` (see :data:`DEFAULT_NAME`)."""
    p = Path(source)
    return template.format(stem=p.stem, ext=p.suffix.lstrip("."), n=index + 1)


def is_photo_name(path: str | os.PathLike[str]) -> bool:
    return Path(path).suffix.lower() in SUPPORTED_SUFFIXES


@dataclass(frozen=True)
class Collected:
    """What :func:`collect_inputs` found."""

    photos: list[Path]
    notes: list[str]
    """One line per folder about the files skipped there."""
    problems: list[str]
    """One line per folder that gave no photo at all (unreadable, or none in it)."""


def collect_inputs(args: Iterable[str | os.PathLike[str]], recursive: bool = False
                   ) -> Collected:
    """The photos named by ``args``: files as given, folders expanded to the photos in them
    (sorted by name; subfolders only when ``recursive``), with a note per folder about the
    files skipped there (not photos by their extension)."""
    photos: list[Path] = []
    notes: list[str] = []
    problems: list[str] = []
    for arg in args:
        p = Path(arg)
        if not p.is_dir():
            photos.append(p)
            continue
        found: list[Path] = []
        skipped = subfolders = 0
        walker = os.walk(p) if recursive else [(str(p), None, None)]
        for folder, dirnames, _ in walker:
            if dirnames is not None:
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError as e:
                problems.append(f"{display_name(folder)}: the folder cannot be read "
                                f"({e.strerror or e})")
                continue
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir():
                    subfolders += not recursive
                elif is_photo_name(entry.name):
                    found.append(Path(entry.path))
                else:
                    skipped += 1
        photos.extend(found)
        parts = []
        if skipped:
            parts.append(f"{skipped} file{'s' if skipped != 1 else ''} that are not photos")
        if subfolders:
            parts.append(f"{subfolders} subfolder{'s' if subfolders != 1 else ''} "
                         "(use --recursive)")
        if parts:
            notes.append(f"{display_name(p)}: skipped {' and '.join(parts)}")
        if not found:
            problems.append(f"{display_name(p)}: no photos in this folder")
    return Collected(photos, notes, problems)


def _key(path: Path) -> str:
    try:
        return os.path.normcase(str(path.resolve()))
    except (OSError, RuntimeError):
        return os.path.normcase(str(path.absolute()))


def plan_batch(inputs: Sequence[Path], output: str | None = None, alpha_out: str | None = None,
               trimap_out: str | None = None, user_trimap: str | None = None,
               template: str = DEFAULT_NAME,
               options: ExportOptions = ExportOptions()) -> list[BatchItem]:
    """Every output path of the batch, decided before any work.

    ``output``: a file (one input) or a folder (created when first written into; a trailing
    slash or a name without an extension means a folder); None: beside each input. Each
    output's extension decides its format (:data:`~.export.OUTPUT_FORMATS`; a trimap must be
    lossless). :class:`PlanError` when the plan would write two outputs to one file, write
    over an input photo or the user's trimap, names a format we do not write, or asks for
    single-photo options with several photos.
    """
    from .io import same_file

    template = check_name_template(template)
    if not inputs:
        raise PlanError("no photos to cut out")
    many = len(inputs) > 1
    if many and (user_trimap or alpha_out or trimap_out):
        raise PlanError("--trimap, --alpha-out and --trimap-out take a single photo")
    if output is None:
        cutouts = [p.with_name(output_name(p, template, i)) for i, p in enumerate(inputs)]
    else:
        out = Path(output)
        as_dir = many or out.is_dir() or output.endswith(("/", os.sep)) or out.suffix == ""
        if as_dir:
            if out.exists() and not out.is_dir():
                raise PlanError(f"{display_name(out)} is a file; with several photos -o must "
                                "be a folder")
            cutouts = [out / output_name(p, template, i) for i, p in enumerate(inputs)]
        else:
            cutouts = [out]
    items = [BatchItem(src, Outputs(cut, Path(alpha_out) if alpha_out else None,
                                    Path(trimap_out) if trimap_out else None),
                       Path(user_trimap) if user_trimap else None)
             for src, cut in zip(inputs, cutouts)]
    keep = list(inputs) + ([Path(user_trimap)] if user_trimap else [])
    claimed: dict[str, str] = {}
    for item in items:
        for kind, path in item.outputs.items():
            try:
                check_output_suffix(path, f"the {kind}", lossless=kind == "trimap")
                if kind == "cut-out":
                    check_canvas_fits(path, options)
            except ExportError as e:
                raise PlanError(str(e)) from None
            for k in keep:
                if same_file(path, k):
                    raise PlanError(f"{display_name(path)} is an input file; refusing to write "
                                    f"the {kind} over it (choose another output name)")
            key = _key(path)
            who = f"the {kind} of {display_name(item.source)}"
            if key in claimed:
                raise PlanError(f"{claimed[key]} and {who} would both be written to "
                                f"{display_name(path)}; choose different names"
                                + (" (e.g. --name '{stem}_{ext}_cutout.png')" if many else ""))
            claimed[key] = who
    return items


def check_canvas_fits(path: Path, options: ExportOptions) -> None:
    """Raise ExportError when the product canvas is too large for the output's format (WebP's
    side limit), so a batch refuses it before any photo is worked on."""
    from .encoders import WEBP_MAX_SIDE

    fmt = options.format_of(path) if options.format else output_format(path, "the cut-out")
    c = options.canvas
    if c is not None and fmt.name == "WEBP" and max(c.width, c.height) > WEBP_MAX_SIDE:
        raise ExportError(f"{display_name(path)}: WebP images can be at most {WEBP_MAX_SIDE} "
                          f"pixels on a side; the canvas is {c.width}×{c.height}")


def cutout_item(item: BatchItem, settings: PipelineSettings,
                progress: ProgressFn = no_progress, cancel: CancelToken | None = None,
                image: LoadedImage | None = None, trimap_grey=None,
                on_result: Callable[[LoadedImage, CutoutResult], None] | None = None,
                strokes: Sequence[Stroke] = (), small_mask=None,
                options: ExportOptions = ExportOptions()) -> list[Path]:
    """Cut out one photo and write its outputs (atomically, never over an original), the
    cut-out as ``options`` say (format by extension, background, canvas).

    ``image`` / ``trimap_grey`` may come already decoded (e.g. by a loader thread); without
    ``on_result``, ``image`` is used up: its pixels become the cut-out's edge colours.
    ``strokes`` are an editor's (replayed over the trimap), ``small_mask`` the model's answer
    when it is known already. Raises a :class:`MattingStudioError` subclass with a one-line
    message on any failure.
    """
    if image is None:
        image = load_image(item.source)
    user_trimap = None
    if item.user_trimap is not None:
        if trimap_grey is None:
            trimap_grey = load_grey(item.user_trimap, "trimap")
        user_trimap = normalize_trimap(trimap_grey, image.rgb.shape[:2],
                                       display_name(item.user_trimap))
    name = display_name(item.source)
    with _out_of_memory_as(MattingError, _no_memory_to_cut_out(name, image)):
        result = run_cutout(image, settings, user_trimap=user_trimap, strokes=strokes,
                            progress=progress, cancel=cancel, small_mask=small_mask,
                            consume_photo=on_result is None)
    if on_result is not None:
        on_result(image, result)
    for _, path in item.outputs.items():
        ensure_folder(path)
    out = item.outputs
    with _out_of_memory_as(ExportError, f"{name}: not enough memory to write the cut-out"):
        written = export_result(image, result, out.cutout, out.alpha, out.trimap, options)
    log.info("%s → %s", display_name(item.source), ", ".join(display_name(w) for w in written))
    return written


def _no_memory_to_cut_out(name: str, image: LoadedImage) -> str:
    w, h = image.size
    return (f"{name}: not enough memory to cut out this {w}×{h} photo (close other programs, "
            "or use a smaller photo)")


@contextmanager
def _out_of_memory_as(error: type[MattingStudioError], message: str):
    """Running out of memory inside, however the library says it, becomes ``error(message)``."""
    try:
        yield
    except Exception as e:
        if isinstance(e, MattingStudioError) or not is_out_of_memory(e):
            raise
        log.debug("%s", message, exc_info=True)
        raise error(message) from None


def ensure_folder(path: Path) -> None:
    """Create the folder of an output only when something is about to be written into it."""
    folder = path.parent
    if str(folder) and not folder.exists():
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ExportError(f"cannot create the folder {display_name(folder)}: "
                              f"{e.strerror or e}") from None


def encode_outputs(image: LoadedImage, result: CutoutResult,
                   outputs: Sequence[tuple[str, str | os.PathLike[str]]],
                   options: ExportOptions = ExportOptions()) -> list[bytes]:
    """The file of each ``(kind, name)`` output, encoded as :func:`~.export.export_result`
    writes it (kind: "cut-out", "alpha" or "trimap"; the name's extension is the format;
    ``options`` apply to the cut-out)."""
    from .export import encode_alpha_file, encode_cutout_file, encode_trimap_file

    encoded = []
    for kind, name in outputs:
        if kind == "cut-out":
            data = encode_cutout_file(name, result.foreground, result.alpha,
                                      bits=image.bit_depth, icc=image.icc_profile,
                                      exif=image.exif, options=options)
        elif kind == "alpha":
            data = encode_alpha_file(name, result.alpha, bits=image.bit_depth)
        elif kind == "trimap":
            data = encode_trimap_file(name, result.trimap)
        else:
            raise ValueError(f"unknown output kind {kind!r}")
        encoded.append(data)
    return encoded


def cutout_bytes(data: bytes, name: str, settings: PipelineSettings,
                 outputs: Sequence[tuple[str, str]], trimap_grey=None,
                 trimap_name: str = "trimap", options: ExportOptions = ExportOptions(),
                 progress: ProgressFn = no_progress, cancel: CancelToken | None = None
                 ) -> list[bytes]:
    """Cut out a photo given as the bytes of its file; the encoded outputs, nothing written.

    ``name`` is the photo's file name (messages, and its extension for the decoder's checks);
    ``outputs`` and ``options`` as for :func:`encode_outputs`; ``trimap_grey`` the user's
    trimap, decoded (``trimap_name`` names it in messages). Raises a
    :class:`MattingStudioError` subclass with a one-line message on any failure.
    """
    shown = display_name(name)
    image = decode_image(data, name=shown, path=Path(name))
    user_trimap = None
    if trimap_grey is not None:
        user_trimap = normalize_trimap(trimap_grey, image.rgb.shape[:2], trimap_name)
    with _out_of_memory_as(MattingError, _no_memory_to_cut_out(shown, image)):
        result = run_cutout(image, settings, user_trimap=user_trimap, progress=progress,
                            cancel=cancel, consume_photo=True)
    with _out_of_memory_as(ExportError, f"{shown}: not enough memory to write the cut-out"):
        return encode_outputs(image, result, outputs, options)
