"""What runs on a Dask worker: the per-worker set-up (:class:`WorkerSetup`) and one photo's
task (:func:`cut_out_photo`).

Both are imported by reference on the workers, so matting-studio must be installed there
(``pip install "matting-studio[dask]"``, the same version as the client).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from distributed import WorkerPlugin, get_worker

from ..core.batch import cutout_bytes
from ..core.errors import MattingStudioError, ModelError
from ..core.export import ExportOptions
from ..core.settings import PipelineSettings
from .remote import is_url, read_url, write_url

log = logging.getLogger(__name__)

RESOURCE = "photo"
"""The Dask resource a photo's task holds while it runs. A worker that declares none is given
one slot (one photo at a time, all its threads on that photo, memory for one photo); declare
``--resources photo=2`` on a worker with memory for two."""


@dataclass(frozen=True)
class PhotoJob:
    """One photo's task: its settings, and where its file and outputs are."""

    index: int
    name: str
    """The photo's file name (messages; its extension tells the decoder what to expect)."""
    source: str | None
    """A URL the worker reads, or None when the file's bytes come with the task."""
    outputs: tuple[tuple[str, str], ...]
    """(kind, destination): a URL is written by the worker, a local path by the client."""
    settings: PipelineSettings
    options: ExportOptions = field(default_factory=ExportOptions)
    """How the cut-out is made into a file (format, background, canvas)."""


@dataclass(frozen=True)
class PhotoResult:
    """What a worker sends back for a photo: its encoded outputs for the client to write (in
    the order of the job's local destinations), or a one-line error."""

    index: int
    seconds: float
    worker: str
    encoded: tuple[bytes, ...] = ()
    written: tuple[str, ...] = ()
    error: str | None = None
    fatal: bool = False
    """The error is the model's or the set-up's: every other photo would fail the same way."""


class WorkerSetup(WorkerPlugin):
    """Run once on each worker (those that join later too), before its first photo: gives the
    worker a :data:`RESOURCE` slot if it declared none and sets the core's thread budget to
    its share of the worker's threads (``threads`` overrides). The segmentation model is then
    loaded by the first photo and kept by the core's cache for every later one."""

    name = "matting-studio"

    def __init__(self, threads: int | None = None):
        self.threads = threads

    async def setup(self, worker) -> None:
        from ..core.executor import set_thread_budget

        slots = worker.state.total_resources.get(RESOURCE)
        if not slots:
            slots = 1
            await worker.set_resources(**{RESOURCE: slots})
        budget = self.threads or max(1, int(worker.state.nthreads // slots))
        set_thread_budget(budget)
        log.info("matting-studio on %s: %g photo slot(s), thread budget %d", worker.address,
                 slots, budget)


def _worker_address() -> str:
    try:
        return get_worker().address
    except ValueError:  # not inside a worker (called directly, e.g. in a debugger)
        return "local"


def cut_out_photo(job: PhotoJob, data: bytes | None = None, trimap=None) -> PhotoResult:
    """Cut out one photo on a worker; never raises for a problem with the photo (the client
    reports it, and a deterministic failure is not worth a retry elsewhere)."""
    start = time.perf_counter()
    worker = _worker_address()

    def failed(message: str, fatal: bool = False) -> PhotoResult:
        return PhotoResult(job.index, time.perf_counter() - start, worker, error=message,
                           fatal=fatal)

    try:
        if data is None:
            if job.source is None:
                raise ValueError("the job has neither a source nor its bytes")
            data = read_url(job.source)
        encoded = cutout_bytes(data, job.name, job.settings, job.outputs, trimap_grey=trimap,
                               options=job.options)
        del data
        written, local = [], []
        for (_, dest), blob in zip(job.outputs, encoded):
            if is_url(dest):
                written.append(write_url(dest, blob, protect=(job.source,) if job.source
                                         else ()))
            else:
                local.append(blob)
    except ModelError as e:
        return failed(str(e), fatal=True)
    except MattingStudioError as e:
        return failed(str(e))
    except MemoryError:
        return failed("not enough memory to process this photo")
    except Exception as e:  # noqa: BLE001 - one line on the client, the details in this log
        log.exception("unexpected failure on %s", job.name)
        return failed(f"unexpected problem ({type(e).__name__}: {' '.join(str(e).split())[:160]})"
                      "; please report it")
    return PhotoResult(job.index, time.perf_counter() - start, worker, tuple(local),
                       tuple(written))
