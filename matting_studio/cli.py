"""``matting-studio`` command: the GUI by default, ``cutout`` for headless batch work."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path
from typing import Sequence

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
    from .core.matting import backend_names
    from .core.segmentation import PRESETS

    p = argparse.ArgumentParser(
        prog="matting-studio cutout",
        description="Cut out the subject of one or more photos and write RGBA PNGs.",
    )
    p.add_argument("inputs", nargs="+", metavar="IN", help="input photo(s)")
    p.add_argument("-o", "--output", metavar="OUT",
                   help="output PNG (one input) or folder (default: <stem>_cutout.png beside each input)")
    p.add_argument("--trimap", metavar="FILE", help="use this trimap instead of the automatic one")
    p.add_argument("--alpha-out", metavar="FILE", help="also write the alpha matte")
    p.add_argument("--trimap-out", metavar="FILE", help="also write the trimap used")
    p.add_argument("--matting", choices=backend_names(), default="cf",
                   help="alpha matting method (default: cf)")
    p.add_argument("--model", metavar="PATH", help="a rembg-family ONNX model instead of the embedded u2netp")
    p.add_argument("--preset", choices=sorted(PRESETS),
                   help="preprocessing preset of --model (default: guessed from its file name)")
    p.add_argument("--kernel-size", type=int, default=7, help="trimap erode/dilate kernel (default 7)")
    p.add_argument("--iterations", type=int, default=3, help="trimap erode/dilate iterations (default 3)")
    p.add_argument("-v", "--verbose", action="store_true", help="log each step")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return p


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


def cutout_main(argv: Sequence[str]) -> int:
    parser = _cutout_parser()
    args = parser.parse_args(argv)
    if args.kernel_size < 1 or args.iterations < 0:
        parser.error("--kernel-size must be ≥ 1 and --iterations ≥ 0")
    if args.preset and not args.model:
        parser.error("--preset goes with --model")
    _setup_logging(args.verbose)
    outputs = _resolve_outputs(args, parser)
    for out in outputs:
        if out.parent and not out.parent.exists():
            try:
                out.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                print(f"matting-studio: cannot create folder {out.parent}: {e.strerror}", file=sys.stderr)
                return EXIT_FAILED

    from .core.errors import Cancelled, MattingStudioError
    from .core.image_io import load_grey, load_image
    from .core.pipeline import PipelineSettings, export_result, run_cutout
    from .core.segmentation import get_model
    from .core.trimap import TrimapParams, normalize_trimap

    settings = PipelineSettings(
        trimap=TrimapParams(kernel_size=args.kernel_size, iterations=args.iterations),
        backend=args.matting, model_path=args.model, preset=args.preset,
    )
    if not args.trimap:
        try:  # load the model once, up front, so a bad --model fails before any work
            get_model(settings.model_path, settings.preset)
        except MattingStudioError as e:
            print(f"matting-studio: {e}", file=sys.stderr)
            return EXIT_FAILED

    bar = ProgressBar(len(args.inputs)) if not args.quiet else None
    failures = 0
    for index, (src, out) in enumerate(zip(args.inputs, outputs)):
        name = Path(src).name
        try:
            image = load_image(src)
            user_trimap = None
            if args.trimap:
                user_trimap = normalize_trimap(load_grey(args.trimap, "trimap"),
                                               image.rgb.shape[:2], Path(args.trimap).name)

            def progress(fraction: float, stage: str, _i=index, _n=name) -> None:
                if bar:
                    bar.update(_i, fraction, f"{_n}: {stage}")

            result = run_cutout(image, settings, user_trimap=user_trimap, progress=progress)
            written = export_result(image, result, out, args.alpha_out, args.trimap_out)
            log.info("%s → %s", name, ", ".join(str(w) for w in written))
        except MattingStudioError as e:
            failures += 1
            msg = str(e)
            line = msg if msg.startswith(name) else f"{name}: {msg}"
            (bar.message if bar else lambda t: print(t, file=sys.stderr))(f"error: {line}")
        except (Cancelled, KeyboardInterrupt):
            if bar:
                bar.close()
            print("matting-studio: interrupted", file=sys.stderr)
            return 130
        except MemoryError:
            failures += 1
            print(f"error: {name}: not enough memory to process this image", file=sys.stderr)
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


def _gui_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="matting-studio",
        description="Matting Studio: turn a photo into a clean cutout. "
                    "Without a sub-command the editor window opens.",
        epilog="Headless: matting-studio cutout IN... [-o OUT] (see 'matting-studio cutout --help').",
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
        return gui_main(argv)
    except KeyboardInterrupt:
        print("matting-studio: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
