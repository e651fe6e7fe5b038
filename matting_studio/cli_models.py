"""``matting-studio models``: list, download and remove the catalogue's segmentation models.

::

    matting-studio models                 # list them: installed or not, size, what each is for
    matting-studio models info NAME       # address, checksums, licence, where it is
    matting-studio models get NAME...     # download (progress bar, resumable, checked)
    matting-studio models remove NAME...  # delete a downloaded model

Nothing is downloaded except by ``get``. The logic lives in :mod:`.core.models` (finding) and
:mod:`.core.model_download` (downloading); this module only parses and prints.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="matting-studio models",
        description="Segmentation models by name: list them, download one, remove one. "
                    "A downloaded model is used with 'matting-studio cutout --model NAME'.",
        epilog="Downloads come from rembg's releases, or from $MATTING_STUDIO_MODEL_MIRROR/<file> "
               "when that variable is set. Models live in <data folder>/models "
               "($MATTING_STUDIO_DATA_DIR overrides the data folder).",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("list", help="list the models (the default)")
    info = sub.add_parser("info", help="details of one model: address, checksums, licence")
    info.add_argument("names", nargs="+", metavar="NAME")
    get = sub.add_parser("get", help="download models (resumes an interrupted download)")
    get.add_argument("names", nargs="+", metavar="NAME")
    get.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    remove = sub.add_parser("remove", help="delete downloaded models")
    remove.add_argument("names", nargs="+", metavar="NAME")
    return p


def models_main(argv: Sequence[str]) -> int:
    parser = _parser()
    args = parser.parse_args(list(argv))
    from .core import models

    command = args.command or "list"
    if command == "list":
        return _list(models)
    unknown = [n for n in args.names if n not in models.CATALOGUE]
    if unknown:
        parser.error(f"unknown model {unknown[0]!r}; choose from: {', '.join(models.CATALOGUE)}")
    if command == "info":
        return _info(models, args.names)
    if command == "get":
        return _get(args.names, args.quiet)
    return _remove(args.names)


def _list(models) -> int:
    from .core.paths import models_dir

    states = models.list_models()
    width = max(len(s.info.name) for s in states)
    print(f"Models folder: {models_dir()}")
    print(f"  {'NAME':<{width}}  {'SIZE':>9}  {'STATE':<22}  GOOD FOR")
    for s in states:
        if s.info.embedded:
            state = "built in (default)"
        elif s.installed:
            state = "installed"
        elif s.partial_bytes:
            state = f"partial ({models.human_size(s.partial_bytes)})"
        else:
            state = "not installed"
        print(f"  {s.info.name:<{width}}  {s.info.size_text:>9}  {state:<22}  {s.info.good_for}")
    print("Download one: matting-studio models get NAME · use it: matting-studio cutout PHOTO "
          "--model NAME")
    return EXIT_OK


def _info(models, names: Sequence[str]) -> int:
    for name in names:
        info = models.CATALOGUE[name]
        state = models.model_state(info)
        origin = ("computed here from the official file" if info.sha256_origin == "verified"
                  else "published value, not verified here")
        where = ("built in" if info.embedded else "installed" if state.installed
                 else "not installed")
        print(f"{info.name}\n"
              f"  good for   {info.good_for}\n"
              f"  size       {info.size:,} bytes ({info.size_text})\n"
              f"  address    {info.url}\n"
              f"  md5        {info.md5} (pinned by rembg)\n"
              f"  sha256     {info.sha256} ({origin})\n"
              f"  preset     {info.preset}\n"
              f"  licence    {info.licence}\n"
              f"  file       {state.path} ({where})")
    return EXIT_OK


def _get(names: Sequence[str], quiet: bool) -> int:
    from .core.errors import Cancelled, ModelError
    from .core.model_download import download
    from .core.models import CATALOGUE

    failures = 0
    for name in names:
        info = CATALOGUE[name]
        if info.embedded:
            print(f"{name} is built into Matting Studio; nothing to download", file=sys.stderr)
            continue
        bar = _Bar(name, quiet)
        try:
            path = download(info, progress=bar.update)
        except ModelError as e:
            bar.close()
            failures += 1
            print(f"error: {e}", file=sys.stderr)
            continue
        except (KeyboardInterrupt, Cancelled):
            bar.close()
            print(f"matting-studio: interrupted; run 'matting-studio models get {name}' again "
                  "to resume", file=sys.stderr)
            return 130
        bar.close()
        print(f"{name}: installed ({info.size_text}) at {path}", file=sys.stderr)
    return EXIT_FAILED if failures else EXIT_OK


def _remove(names: Sequence[str]) -> int:
    from .core.errors import ModelError
    from .core.model_download import remove

    failures = 0
    for name in names:
        try:
            removed = remove(name)
        except ModelError as e:
            failures += 1
            print(f"error: {e}", file=sys.stderr)
            continue
        if removed:
            print(f"{name}: removed {', '.join(str(p) for p in removed)}", file=sys.stderr)
        else:
            print(f"{name} is not installed; nothing to remove", file=sys.stderr)
    return EXIT_FAILED if failures else EXIT_OK


class _Bar:
    """tqdm progress bars for one model: the download, then the checksum check (none when not
    on a terminal, or with -q)."""

    def __init__(self, name: str, quiet: bool):
        self.name, self.quiet = name, quiet
        self.stage = ""
        self.bar = None

    def update(self, done: int, total: int, stage: str) -> None:
        if self.quiet:
            return
        if stage != self.stage:
            self.close()
            from tqdm import tqdm

            self.stage = stage
            label = self.name if stage == "download" else f"{self.name}: checking"
            # disable=None: no bar when stderr is not a terminal (logs, CI)
            self.bar = tqdm(total=total, initial=done, unit="B", unit_scale=True,
                            unit_divisor=1000, desc=label, disable=None, leave=False)
        if self.bar is not None:
            self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
