"""``matting-studio`` command: the GUI by default, ``cutout`` for headless batch work."""

from __future__ import annotations

import argparse
import functools
import logging
import sys
from collections.abc import Sequence

from . import __version__

log = logging.getLogger("matting_studio")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _cutout_parser() -> argparse.ArgumentParser:
    from .core import limits
    from .core.batch import DEFAULT_NAME
    from .core.canvas import CANVAS_PRESETS
    from .core.matting import DEFAULT_BACKEND, backend_names
    from .core.segmentation import PRESETS
    from .core.trimap_presets import DEFAULT_TRIMAP_PRESET, TRIMAP_PRESETS

    p = _OneLineErrors(
        prog="matting-studio cutout",
        description="Cut out the subject of one or more photos (JPEG, PNG, TIFF, WebP, HEIC, "
                    "AVIF, camera RAW) and write PNG, TIFF, WebP or JPEG files: the output's "
                    "extension decides the format.",
    )
    p.add_argument("inputs", nargs="+", metavar="IN", help="photos, or folders of photos")
    p.add_argument("-o", "--output", metavar="OUT",
                   help="output file (one photo) or folder (default: beside each photo)")
    p.add_argument("--name", metavar="TEMPLATE", default=DEFAULT_NAME,
                   help="output file name in a folder: {stem} (the photo's name), {ext}, {n}; "
                        f"its extension decides the format (default {DEFAULT_NAME})")
    p.add_argument("-r", "--recursive", action="store_true",
                   help="also take the photos in subfolders of a folder given as IN")
    p.add_argument("--trimap", metavar="FILE", help="use this trimap instead of the automatic one")
    p.add_argument("--alpha-out", metavar="FILE", help="also write the alpha matte")
    p.add_argument("--trimap-out", metavar="FILE", help="also write the trimap used")
    p.add_argument("--matting", choices=backend_names(), default=DEFAULT_BACKEND,
                   help=f"alpha matting method (default: {DEFAULT_BACKEND})")
    p.add_argument("--model", metavar="NAME|PATH",
                   help="a model by name (see 'matting-studio models') or a rembg-family ONNX "
                        "file, instead of the embedded u2netp")
    p.add_argument("--preset", choices=sorted(PRESETS),
                   help="preprocessing preset of --model (default: recognised from its "
                        "checksum, name or input size)")
    p.add_argument("--trimap-preset", choices=list(TRIMAP_PRESETS), default=DEFAULT_TRIMAP_PRESET,
                   help="automatic trimap: " + "; ".join(
                       f"{t.name}: {t.help}" for t in TRIMAP_PRESETS.values())
                   + f" (default {DEFAULT_TRIMAP_PRESET})")
    p.add_argument("--kernel-size", type=limits.KERNEL_SIZE.arg("--kernel-size"), default=7,
                   metavar="PX",
                   help=f"classic trimap erode/dilate kernel, {limits.KERNEL_SIZE.describe()} "
                        "(default 7)")
    p.add_argument("--iterations", type=limits.ITERATIONS.arg("--iterations"), default=3,
                   metavar="N",
                   help=f"classic trimap erode/dilate iterations, {limits.ITERATIONS.describe()} "
                        "(default 3)")
    out = p.add_argument_group("finished image")
    out.add_argument("--background", metavar="COLOR",
                     help="composite on this colour (#rrggbb or a name such as white); "
                          "default: transparent (JPEG: white)")
    out.add_argument("--canvas", metavar="WxH",
                     help="centre the subject on a canvas of this size (e.g. 2000x2000) or "
                          f"preset ({', '.join(CANVAS_PRESETS)}), scaled to fill it")
    out.add_argument("--margin", type=limits.CANVAS_MARGIN.arg("--margin"), metavar="PCT",
                     help="free border of the canvas on each side, in %% of its size "
                          "(default 5; presets have their own)")
    out.add_argument("--quality", type=limits.JPEG_QUALITY.arg("--quality"), default=95,
                     metavar="N", help="JPEG quality, 1-100 (default 95)")
    edges = p.add_argument_group("edge adjustments (after matting)")
    edges.add_argument("--smooth", type=limits.EDGE_SMOOTH.arg("--smooth"), default=0.0,
                       metavar="PX", help="round off jagged outlines up to PX pixels")
    edges.add_argument("--feather", type=limits.EDGE_FEATHER.arg("--feather"), default=0.0,
                       metavar="PX", help="soften the edge over PX pixels")
    edges.add_argument("--contrast", type=limits.EDGE_CONTRAST.arg("--contrast"), default=0.0,
                       metavar="PCT", help="harden soft edges (100: a hard edge)")
    edges.add_argument("--shift-edge", type=limits.EDGE_SHIFT.arg("--shift-edge"), default=0,
                       metavar="PX", help="grow the subject by PX pixels (negative: shrink)")
    p.add_argument("--threads", type=limits.THREADS.arg("--threads"), metavar="N",
                   help="CPU threads to use (default: every core this process may use)")
    p.add_argument("--dask", metavar="ADDRESS",
                   help="run on a Dask cluster, one task per photo: the scheduler's address "
                        "(tcp://HOST:PORT), or 'local' for a cluster on this machine; IN and -o "
                        "may then be URLs (s3://, gs://, file://) that the workers read and "
                        "write (needs matting-studio[dask]; see docs/cluster.md)")
    p.add_argument("--report", metavar="FILE.csv",
                   help="write a CSV report: per photo its status, time, worker and outputs")
    p.add_argument("-v", "--verbose", action="store_true", help="log each step")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return p


class _OneLineErrors(argparse.ArgumentParser):
    """Usage errors in one line (and exit code 2), not the whole usage text."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {_one_line(message)} (see --help)\n")


class _Loader:
    """Decodes the next photo of a batch (and its trimap) on a thread of its own while the
    current one is cut out: one photo ahead at most, so memory stays bounded."""

    def __init__(self, items):
        from concurrent.futures import ThreadPoolExecutor

        self.items = items
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="ms-loader")
        self._next = {}

    def _load(self, index: int):
        from .core.io import load_grey, load_image

        item = self.items[index]
        image = load_image(item.source)
        grey = load_grey(item.user_trimap, "trimap") if item.user_trimap else None
        return image, grey

    def start(self, index: int) -> None:
        if index < len(self.items) and index not in self._next:
            self._next[index] = self._pool.submit(self._load, index)

    def take(self, index: int):
        """(image, trimap grey or None) of item ``index``; raises what loading raised."""
        self.start(index)
        future = self._next.pop(index)
        self.start(index + 1)
        return future.result()

    def close(self) -> None:
        for future in self._next.values():
            future.cancel()
        self._pool.shutdown(wait=True)


def _export_options(args):
    """The cut-out's :class:`ExportOptions` from the flags; ValueError naming the flag."""
    from .core.canvas import CanvasSpec, parse_canvas
    from .core.colours import parse_colour
    from .core.export import ExportOptions

    background = parse_colour(args.background, "--background") if args.background else None
    canvas = None
    if args.canvas:
        canvas, preset_background = parse_canvas(args.canvas)
        if args.margin is not None:
            canvas = CanvasSpec(canvas.width, canvas.height, args.margin)
        background = background or preset_background
    elif args.margin is not None:
        raise ValueError("--margin goes with --canvas")
    return ExportOptions(background=background, canvas=canvas, quality=args.quality)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def cutout_main(argv: Sequence[str]) -> int:
    parser = _cutout_parser()
    args = parser.parse_args(argv)
    if args.preset and not args.model:
        parser.error("--preset goes with --model")
    _setup_logging(args.verbose)
    from .core.batch import PlanError, collect_inputs, cutout_item, plan_batch
    from .core.executor import set_thread_budget

    if args.dask:
        return _cutout_on_dask(args, parser)
    if any("://" in str(a) for a in (*args.inputs, args.output, args.alpha_out,
                                       args.trimap_out, args.trimap) if a):
        parser.error("URLs are read and written by Dask workers: add --dask ADDRESS "
                     "(or --dask local)")
    set_thread_budget(args.threads)
    found = collect_inputs(args.inputs, args.recursive)
    if not say_what_was_found(found):
        return EXIT_FAILED
    try:
        options = _export_options(args)
        items = plan_batch(found.photos, args.output, args.alpha_out, args.trimap_out,
                           args.trimap, args.name, options)
        settings = _settings(args)
        if args.report:
            from .report import check_report_path

            check_report_path(args.report, [*found.photos, *(p for it in items
                                                              for _, p in it.outputs.items())])
    except (PlanError, ValueError) as e:
        parser.error(str(e))

    loader = _Loader(items)
    loader.start(0)  # the first photo decodes while the model and the matting method load
    records = [] if args.report else None
    code = EXIT_FAILED
    try:
        code = _run_batch(args, items, settings, loader,
                          functools.partial(cutout_item, options=options), records)
    finally:
        loader.close()
        if records is not None:
            code = _write_local_report(args.report, items, records, code)
    return EXIT_FAILED if found.problems and code == EXIT_OK else code


def say_what_was_found(found) -> bool:
    """Print the notes and problems of collecting a batch's inputs (local paths or URLs) on
    stderr; False when there is no photo to work on."""
    for note in found.notes:
        print(f"note: {note}", file=sys.stderr)
    for problem in found.problems:
        print(f"error: {problem}", file=sys.stderr)
    return bool(found.photos)


def _settings(args):
    """The pipeline settings the cutout flags ask for (ValueError naming a bad one)."""
    from .core.edges import EdgeParams
    from .core.settings import PipelineSettings
    from .core.trimap import TrimapParams

    return PipelineSettings(
        trimap=TrimapParams(kernel_size=args.kernel_size, iterations=args.iterations),
        backend=args.matting, model_path=args.model, preset=args.preset,
        trimap_preset=args.trimap_preset,
        edges=EdgeParams(smooth=args.smooth, feather=args.feather, contrast=args.contrast,
                         shift=args.shift_edge))


def _progress_bar(total: int, quiet: bool):
    """The batch's progress bar (photos; fractions of a photo where the pipeline reports them)."""
    from tqdm import tqdm

    return tqdm(total=total, unit="photo", disable=True if quiet else None,
                file=sys.stderr, dynamic_ncols=True,
                bar_format="{l_bar}{bar}| {n:.1f}/{total_fmt} [{elapsed}<{remaining}]")


def _cutout_on_dask(args, parser) -> int:
    try:
        import distributed  # noqa: F401
        import fsspec  # noqa: F401
    except ImportError:
        print('error: --dask needs Dask: pip install "matting-studio[dask]"', file=sys.stderr)
        return EXIT_FAILED
    from .cluster.driver import cutout_command

    try:
        settings = _settings(args)
        options = _export_options(args)
    except ValueError as e:
        parser.error(str(e))
    return cutout_command(args, settings, options, parser.error,
                          lambda total: _progress_bar(total, args.quiet))


def _write_local_report(path, items, records, code: int) -> int:
    """Write a local batch's report (photos not reached: "not run"); the exit code after it."""
    from .core.errors import MattingStudioError
    from .report import NOT_RUN, PhotoRecord, write_report

    outputs = [tuple(str(p) for _, p in it.outputs.items()) for it in items]
    rows = records + [PhotoRecord(str(it.source), NOT_RUN, outputs=out)
                      for it, out in zip(items[len(records):], outputs[len(records):])]
    try:
        write_report(path, rows)
    except MattingStudioError as e:
        print(f"error: {_one_line(e)}", file=sys.stderr)
        return EXIT_FAILED if code == EXIT_OK else code
    return code


def _run_batch(args, items, settings, loader, cutout_item, records=None) -> int:
    import time

    from .core.errors import Cancelled, MattingStudioError
    from .core.io import display_name
    from .core.matting import load_backend
    from .core.segmentation import get_model

    try:
        load_backend(settings.backend)
        if not args.trimap:  # load the model once, up front: a bad --model fails before any work
            get_model(settings.model_path, settings.preset)
    except MattingStudioError as e:
        hint = " (leave out --model to use the embedded model)" if args.model else ""
        print(f"error: {_one_line(e)}{hint}", file=sys.stderr)
        return EXIT_FAILED

    from .report import DONE, FAILED, PhotoRecord

    failures = 0
    bar = _progress_bar(len(items), args.quiet)
    with bar:
        for index, item in enumerate(items):
            name = display_name(item.source)

            def progress(fraction: float, stage: str, _i=index, _n=name) -> None:
                step = _i + min(max(fraction, 0.0), 1.0) - bar.n
                if step > 0:
                    bar.set_postfix_str(f"{_n}: {stage}", refresh=False)
                    bar.update(step)

            start, line = time.perf_counter(), None
            try:
                image, grey = loader.take(index)
                cutout_item(item, settings, progress, image=image, trimap_grey=grey)
                progress(1.0, "done")
            except MattingStudioError as e:
                msg = _one_line(e)
                line = msg if msg.startswith(name) else f"{name}: {msg}"
            except (Cancelled, KeyboardInterrupt):
                bar.close()
                print("matting-studio: interrupted", file=sys.stderr)
                return 130
            except MemoryError:
                line = f"{name}: not enough memory to process this photo"
            except Exception as e:  # noqa: BLE001 - one line per file, never a traceback
                log.debug("unexpected failure on %s", name, exc_info=True)
                line = (f"{name}: unexpected problem ({type(e).__name__}: "
                        f"{_one_line(e)[:160]}); please report it")
            if line is not None:
                failures += 1
                bar.write(f"error: {line}", file=sys.stderr)
            if records is not None:
                records.append(PhotoRecord(
                    str(item.source), DONE if line is None else FAILED,
                    time.perf_counter() - start, "local",
                    tuple(str(p) for _, p in item.outputs.items()), line or ""))
    if failures:
        print(f"matting-studio: {failures} of {len(items)} photo(s) failed", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if verbose:  # our own debug lines (with the details of unexpected failures)
        logging.getLogger("matting_studio").setLevel(logging.DEBUG)


def _gui_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="matting-studio",
        description="Matting Studio: turn a photo into a clean cutout. "
                    "Without a sub-command the editor window opens.",
        epilog="Headless: matting-studio cutout IN... [-o OUT] (see 'matting-studio cutout --help'). "
               "Models: matting-studio models (list, get, remove).",
    )
    p.add_argument("--version", action="version", version=f"matting-studio {__version__}")
    p.add_argument("images", nargs="*", metavar="PHOTO",
                   help="photos, folders of photos or a .msproj project to open")
    p.add_argument("--sample", action="store_true", help="open the bundled sample photo")
    p.add_argument("--screenshot", metavar="OUT.png",
                   help="open the photos, wait for the first alpha, save a grab of the window "
                        "and exit (any problem: one line on stderr, exit status 1)")
    p.add_argument("-v", "--verbose", action="store_true", help="log each step")
    return p


def gui_main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _gui_parser().parse_args(argv)
    _setup_logging(args.verbose)
    from .gui.preflight import platform_problem  # before Qt loads: it aborts on a missing library
    if (problem := platform_problem()) is not None:
        print(problem, file=sys.stderr)
        return EXIT_FAILED
    try:
        from .gui.app import run_app
    except ImportError as e:
        print(f"matting-studio: the editor cannot start ({e}); "
              "the headless 'matting-studio cutout' still works", file=sys.stderr)
        return EXIT_FAILED
    return run_app(args)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "cutout":
            return cutout_main(argv[1:])
        if argv and argv[0] == "models":
            from .cli_models import models_main

            return models_main(argv[1:])
        return gui_main(argv)
    except KeyboardInterrupt:
        print("matting-studio: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - the last guard: one line, never a traceback
        log.debug("unexpected failure", exc_info=True)
        print(f"error: unexpected problem ({type(e).__name__}: {' '.join(str(e).split())[:160]})"
              "; please report it (run with -v for details)", file=sys.stderr)
        return EXIT_FAILED


def run() -> None:
    """The ``matting-studio`` command (console script, ``python -m matting_studio``, the
    frozen app). :func:`main` is the same without exiting, for tests and embedding."""
    sys.exit(main(sys.argv[1:]))


if __name__ == "__main__":
    run()
