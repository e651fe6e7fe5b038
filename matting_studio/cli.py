"""``matting-studio`` command: the GUI by default, ``cutout`` for headless batch work."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from . import __version__

log = logging.getLogger("matting_studio")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class ProgressBar:
    """A one-line progress bar on stderr (plain log lines when stderr is not a terminal)."""

    def __init__(self, total: int, stream=None, width: int = 28):
        self.total = max(total, 1)
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last = 0.0

    def update(self, index: int, fraction: float, label: str) -> None:
        if not self.tty:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and fraction < 1.0:
            return
        self._last = now
        done = (index + min(max(fraction, 0.0), 1.0)) / self.total
        filled = int(round(done * self.width))
        bar = "█" * filled + "·" * (self.width - filled)
        text = f"\r[{bar}] {done * 100:5.1f}%  {index + 1}/{self.total}  {label}"[:120]
        self.stream.write(text.ljust(120))
        self.stream.flush()

    def message(self, text: str) -> None:
        """Print a full line (error or note) without breaking the bar."""
        if self.tty:
            self.stream.write("\r" + " " * 120 + "\r")
        self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\r" + " " * 120 + "\r")
            self.stream.flush()


def _cutout_parser() -> argparse.ArgumentParser:
    from .core.matting import DEFAULT_BACKEND, backend_names
    from .core.segmentation import PRESETS

    p = argparse.ArgumentParser(
        prog="matting-studio cutout",
        description="Cut out the subject of one or more photos and write RGBA PNGs.",
    )
    _add_cutout_options(p, backend_names(), DEFAULT_BACKEND, sorted(PRESETS))
    return p


class _QuietParser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        raise ValueError(message)


def _early_args(argv: Sequence[str]) -> argparse.Namespace | None:
    """The arguments, read before the real parser exists (it imports the matting backends and
    the segmentation module), without choices checked; None when in doubt. Never prints or exits."""
    if any(a in ("-h", "--help") or a.startswith("--h") for a in argv):
        return None
    p = _QuietParser(add_help=False, exit_on_error=False)
    _add_cutout_options(p, None, None, None)
    try:
        args, _ = p.parse_known_args(list(argv))
    except (ValueError, argparse.ArgumentError):
        return None
    return args if args.inputs else None


class _Prefetch:
    """Load one photo (and the user's trimap) on a background thread.

    Decoding a 4 MP PNG takes ~0.15 s, mostly in C code that releases the GIL; meanwhile the
    main thread imports the matting backends and the segmentation module and checks the
    outputs. Errors are kept and raised again by :meth:`result`, on the caller's thread.
    """

    def __init__(self, path: str, trimap: str | None = None):
        import threading

        self.path, self.trimap_path = path, trimap
        self._image = self._trimap = self._error = None
        # not a daemon: the interpreter must not finalise while OpenCV decodes (a usage error
        # exits at once; C++ then aborts with "terminate called without an active exception")
        self._thread = threading.Thread(target=self._run, name="prefetch")
        self._thread.start()

    def _run(self) -> None:
        try:
            from .core.image_io import load_grey, load_image

            self._image = load_image(self.path)
            if self.trimap_path:
                self._trimap = load_grey(self.trimap_path, "trimap")
        except BaseException as e:  # noqa: BLE001 - handed to the main thread
            self._error = e

    def result(self):
        """(LoadedImage, trimap uint8 or None); raises what loading raised."""
        self._thread.join()
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        return self._image, self._trimap


def _add_cutout_options(p: argparse.ArgumentParser, backends, default_backend, presets) -> None:
    p.add_argument("inputs", nargs="+", metavar="IN", help="input photo(s)")
    p.add_argument("-o", "--output", metavar="OUT",
                   help="output PNG (one input) or folder (default: <stem>_cutout.png beside each input)")
    p.add_argument("--trimap", metavar="FILE", help="use this trimap instead of the automatic one")
    p.add_argument("--alpha-out", metavar="FILE", help="also write the alpha matte")
    p.add_argument("--trimap-out", metavar="FILE", help="also write the trimap used")
    p.add_argument("--matting", choices=backends, default=default_backend,
                   help=f"alpha matting method (default: {default_backend})")
    p.add_argument("--model", metavar="NAME|PATH",
                   help="a model by name (see 'matting-studio models') or a rembg-family ONNX "
                        "file, instead of the embedded u2netp")
    p.add_argument("--preset", choices=presets,
                   help="preprocessing preset of --model (default: recognised from its "
                        "checksum, name or input size)")
    p.add_argument("--trimap-preset", choices=["adaptive", "classic"], default="adaptive",
                   help="automatic trimap: band shaped by mask confidence and image edges "
                        "(adaptive, default) or the classic erode/dilate kernel")
    p.add_argument("--kernel-size", type=int, default=7,
                   help="classic trimap erode/dilate kernel (default 7)")
    p.add_argument("--iterations", type=int, default=3,
                   help="classic trimap erode/dilate iterations (default 3)")
    p.add_argument("-v", "--verbose", action="store_true", help="log each step")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _resolve_outputs(args: argparse.Namespace, parser: argparse.ArgumentParser) -> list[Path]:
    """Cut-out path per input; exits with a usage error on inconsistent options."""
    from .core.pipeline import default_output_path

    inputs = [Path(i) for i in args.inputs]
    many = len(inputs) > 1
    if many and (args.trimap or args.alpha_out or args.trimap_out):
        parser.error("--trimap, --alpha-out and --trimap-out take a single input")
    if args.output is None:
        return [default_output_path(i) for i in inputs]
    out = Path(args.output)
    as_dir = many or out.is_dir() or args.output.endswith(("/", os.sep)) or out.suffix == ""
    if as_dir:
        if out.exists() and not out.is_dir():
            parser.error(f"{out} is a file; with several inputs -o must be a folder")
        return [out / default_output_path(i).name for i in inputs]
    if out.suffix.lower() != ".png":
        parser.error(f"{out.name}: the output must be a .png file (cut-outs need an alpha channel)")
    return [out]


def _say(bar: ProgressBar | None, text: str) -> None:
    if bar:
        bar.message(text)
    else:
        print(text, file=sys.stderr, flush=True)


def _output_conflicts(inputs: Sequence[str], outputs: Sequence[Path],
                      extra_outputs: Sequence[str | None], trimap: str | None) -> dict[int, str]:
    """Index of input → reason, for inputs whose outputs would replace a file we must keep.

    Never write over any input photo (not just the file's own), the user's trimap, or a
    cut-out this same run already wrote (``a.jpg`` and ``a.png`` both give ``a_cutout.png``).
    """
    from .core.image_io import display_name, same_file

    keep = [Path(i) for i in inputs] + ([Path(trimap)] if trimap else [])
    conflicts: dict[int, str] = {}
    seen: dict[str, int] = {}
    for index, out in enumerate(outputs):
        targets = [out] + [Path(x) for x in extra_outputs if x]
        for t in targets:
            for k in keep:
                if same_file(t, k):
                    conflicts[index] = (f"{display_name(t)} is an original input file; refusing to "
                                        "overwrite it (choose another output name)")
        try:
            key = str(out.resolve())
        except (OSError, RuntimeError):
            key = str(out.absolute())
        if index not in conflicts and key in seen:
            conflicts[index] = (f"its cut-out {display_name(out)} would replace the one of "
                                f"{display_name(inputs[seen[key]])}; process it separately")
        seen.setdefault(key, index)
    return conflicts


def _keep_freed_memory() -> None:
    """Let glibc keep freed memory for reuse instead of handing it back to the system.

    A cut-out allocates and frees many arrays of a few MB to a few hundred; by default each
    large one is a fresh ``mmap`` whose pages fault in one by one (about 8 µs each on our CI
    VMs) and go back to the system when freed. Kept in the heap, the next array reuses pages
    that are already there: at 4 MP, 58k → 45k page faults and ~0.15 s less with arrays up to
    32 MB from the heap; with every array from the heap (no ``mmap`` at all) the foreground
    pass no longer copies the photo into fresh pages (0.29–0.35 → 0.16–0.18 s) and the peak
    is lower (350 → 290 MB). The ``cutout`` process is short-lived, so holding its peak until
    exit costs nothing; it is a setting of the whole process, so only :func:`run` (which owns
    it) makes it, not :func:`main` (tests, embedding). Other C libraries: nothing is done.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_max = -1, -4
    mallopt(m_mmap_max, 0)  # no array gets its own mapping (mmap thresholds then play no part)
    mallopt(m_trim_threshold, 1 << 30)  # and freed heap memory stays for the next array


def cutout_main(argv: Sequence[str]) -> int:
    early = _early_args(argv)
    prefetch = None
    if early is not None and os.path.isfile(early.inputs[0]):
        _setup_logging(early.verbose)  # before the loader thread may log
        trimap = early.trimap if early.trimap and os.path.isfile(early.trimap) else None
        prefetch = _Prefetch(early.inputs[0], trimap)
    parser = _cutout_parser()
    args = parser.parse_args(argv)
    if args.kernel_size < 1 or args.iterations < 0:
        parser.error("--kernel-size must be ≥ 1 and --iterations ≥ 0")
    if args.preset and not args.model:
        parser.error("--preset goes with --model")
    _setup_logging(args.verbose)
    outputs = _resolve_outputs(args, parser)

    from .core.errors import Cancelled, MattingStudioError
    from .core.image_io import display_name, load_grey, load_image

    def ensure_folder(out: Path) -> None:
        """Create an output folder only when there is something to write into it."""
        if out.parent and not out.parent.exists():
            try:
                out.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                from .core.errors import ExportError

                raise ExportError(f"cannot create the folder {display_name(out.parent)}: "
                                  f"{e.strerror or e}") from None

    from .core.matting import load_backend
    from .core.pipeline import PipelineSettings, export_result, run_cutout
    from .core.segmentation import get_model
    from .core.trimap import TrimapParams, normalize_trimap

    settings = PipelineSettings(
        trimap=TrimapParams(kernel_size=args.kernel_size, iterations=args.iterations),
        backend=args.matting, model_path=args.model, preset=args.preset,
        trimap_preset=args.trimap_preset,
    )
    try:  # import the matting method now, while the loader thread decodes the photo
        load_backend(settings.backend)
    except MattingStudioError:
        log.debug("matting method %s not loaded up front", settings.backend, exc_info=True)
    if not args.trimap:
        try:  # load the model once, up front, so a bad --model fails before any work
            get_model(settings.model_path, settings.preset)
        except MattingStudioError as e:
            hint = " (leave out --model to use the embedded model)" if args.model else ""
            print(f"error: {e}{hint}", file=sys.stderr)
            return EXIT_FAILED
        except Exception as e:  # noqa: BLE001 - never a traceback on the command line
            log.debug("model loading failed", exc_info=True)
            print(f"error: the segmentation model could not be loaded ({type(e).__name__}: "
                  f"{str(e)[:160]})", file=sys.stderr)
            return EXIT_FAILED

    conflicts = _output_conflicts(args.inputs, outputs, [args.alpha_out, args.trimap_out],
                                  args.trimap)
    bar = ProgressBar(len(args.inputs)) if not args.quiet else None
    failures = 0
    for index, (src, out) in enumerate(zip(args.inputs, outputs)):
        name = display_name(src)
        pre, prefetch = prefetch, None  # the first photo only; never held past its turn
        try:
            if index in conflicts:
                failures += 1
                _say(bar, f"error: {name}: {conflicts[index]}")
                continue
            grey = None
            if pre is not None and pre.path == src:
                image, grey = pre.result()
                if pre.trimap_path != args.trimap:
                    grey = None
            else:
                image = load_image(src)
            user_trimap = None
            if args.trimap:
                if grey is None:
                    grey = load_grey(args.trimap, "trimap")
                user_trimap = normalize_trimap(grey, image.rgb.shape[:2],
                                               display_name(args.trimap))

            def progress(fraction: float, stage: str, _i=index, _n=name) -> None:
                if bar:
                    bar.update(_i, fraction, f"{_n}: {stage}")

            result = run_cutout(image, settings, user_trimap=user_trimap, progress=progress)
            # The file's own transparency caps the matte (docs/adr/0001-rgba-input.md).
            result = dataclasses.replace(result, alpha=image.cap_alpha(result.alpha))
            ensure_folder(out)
            written = export_result(image, result, out, args.alpha_out, args.trimap_out)
            log.info("%s → %s", name, ", ".join(display_name(w) for w in written))
        except MattingStudioError as e:
            failures += 1
            msg = " ".join(str(e).split("\n"))
            _say(bar, f"error: {msg if msg.startswith(name) else f'{name}: {msg}'}")
        except (Cancelled, KeyboardInterrupt):
            if bar:
                bar.close()
            print("matting-studio: interrupted", file=sys.stderr)
            return 130
        except MemoryError:
            failures += 1
            _say(bar, f"error: {name}: not enough memory to process this image")
        except Exception as e:  # noqa: BLE001 - one line per file, never a traceback
            failures += 1
            log.debug("unexpected failure on %s", name, exc_info=True)
            detail = " ".join(str(e).split())[:160]
            _say(bar, f"error: {name}: unexpected problem ({type(e).__name__}: {detail}); "
                      "please report it")
    if bar:
        bar.close()
    if failures:
        print(f"matting-studio: {failures} of {len(args.inputs)} file(s) failed", file=sys.stderr)
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
    p.add_argument("image", nargs="?", help="photo (or .msproj project) to open")
    p.add_argument("--sample", action="store_true", help="open the bundled sample photo")
    p.add_argument("--screenshot", metavar="OUT.png",
                   help="open IMAGE, wait for the first alpha, save a grab of the window and exit")
    p.add_argument("-v", "--verbose", action="store_true", help="log each step")
    return p


def gui_main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _gui_parser().parse_args(argv)
    _setup_logging(args.verbose)
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


def _exit_now(code: int) -> None:
    """End a finished ``cutout`` run without the interpreter's teardown.

    Every output is written, fsynced and closed by then, and the worker pools are shut down;
    what a normal exit still does is finalise every module and free objects one by one:
    0.1–0.15 s, up to 8 % of a 4 MP cut-out. Streams and log handlers are flushed first.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said on it
            pass
    logging.shutdown()
    os._exit(code)


def run() -> None:
    """The ``matting-studio`` command (console script, ``python -m matting_studio``, the
    frozen app). :func:`main` is the same without exiting, for tests and embedding."""
    argv = sys.argv[1:]
    cutout = argv[:1] == ["cutout"]
    if cutout:
        _keep_freed_memory()
    code = main(argv)
    if cutout:
        _exit_now(code)
    sys.exit(code)


if __name__ == "__main__":
    run()
