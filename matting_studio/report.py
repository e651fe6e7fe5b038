"""The per-photo report of a batch (``matting-studio cutout … --report FILE.csv``).

One row per photo, in the batch's order: the photo, its status (``done``, ``failed`` or
``not run`` when the batch was interrupted first), the seconds its cut-out took, the worker
that ran it (``local`` without a cluster), its outputs and the error line of a failed photo.
The file is written atomically once the batch ends, interrupted or not.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .core.batch import PlanError, ensure_folder
from .core.io import display_name, same_file, write_atomic

COLUMNS = ("photo", "status", "seconds", "worker", "outputs", "message")
DONE, FAILED, NOT_RUN = "done", "failed", "not run"


@dataclass(frozen=True)
class PhotoRecord:
    photo: str
    status: str
    seconds: float | None = None
    worker: str = ""
    outputs: tuple[str, ...] = ()
    message: str = ""


def check_report_path(path: str | os.PathLike[str],
                      keep: Iterable[str | os.PathLike[str]] = ()) -> Path:
    """``path`` if a report may be written there; :class:`PlanError` (before any work) when it
    is not a .csv name, is a folder or is one of the batch's own files (``keep``)."""
    if "://" in str(path):
        raise PlanError(f"{path}: the report is written on this computer; give a file name")
    p = Path(path)
    if p.suffix.lower() != ".csv":
        raise PlanError(f"{display_name(p)}: the report must be a .csv file")
    if p.is_dir():
        raise PlanError(f"{display_name(p)} is a folder; --report needs a file name")
    for k in keep:
        if "://" not in str(k) and same_file(p, k):
            raise PlanError(f"{display_name(p)} is one of the batch's files; choose another "
                            "name for the report")
    return p


def report_csv(records: Sequence[PhotoRecord]) -> bytes:
    """The report as CSV bytes (UTF-8, a header row, one row per photo)."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in records:
        writer.writerow([r.photo, r.status, "" if r.seconds is None else f"{r.seconds:.3f}",
                         r.worker, ";".join(r.outputs), r.message])
    return text.getvalue().encode("utf-8")


def write_report(path: str | os.PathLike[str], records: Sequence[PhotoRecord]) -> Path:
    """Write the report atomically (its folder is created if needed)."""
    p = Path(path)
    ensure_folder(p)
    return write_atomic(p, report_csv(records))


def read_report(path: str | os.PathLike[str]) -> list[dict[str, str]]:
    """The rows of a report, as dicts by column name (for tests and scripts)."""
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
