"""The client side of a cluster batch: connect, submit with back-pressure, collect, write.

Photos are submitted a bounded window at a time (twice the cluster's photo slots, plus two),
so a folder of 10,000 photos never sits in the client's or the scheduler's memory at once:
each finished photo makes room for the next (``as_completed``). A local photo's file is read
here and scattered to a worker; a URL is read by the worker itself. Outputs that go to local
paths come back encoded and are written here atomically; URL outputs are written by the
worker. A photo whose worker is lost runs again elsewhere: Dask reruns a task whose worker
died, and a task whose scattered bytes died with a worker is sent again from here.
"""

from __future__ import annotations

import logging
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path

from ..core.batch import ensure_folder
from ..core.errors import ImageLoadError, MattingStudioError
from ..core.export import ExportOptions
from ..core.io import display_name, write_atomic
from ..core.io.decode import read_bytes
from ..core.settings import PipelineSettings
from ..report import DONE, FAILED, NOT_RUN, PhotoRecord
from .remote import Planned, is_url
from .worker import RESOURCE, PhotoJob, PhotoResult, WorkerSetup, cut_out_photo

log = logging.getLogger(__name__)

LOCAL = "local"
"""The ``--dask`` address that starts a cluster on this machine instead of connecting."""
SCATTER_WAITS_S = (0.2, 0.5, 1.0, 2.0, 4.0)
MAX_SENDS = 3
"""Times a photo is sent when its bytes keep dying with the worker that held them."""


class ClusterError(MattingStudioError):
    """The cluster cannot be reached or set up (nothing has been cut out)."""


@contextmanager
def connect(address: str, verbose: bool = False):
    """A Dask client on the scheduler at ``address``, or on a new local cluster sized to this
    machine by Dask (``local``: worker processes × threads by its rule, each worker's memory
    limit a share of this machine's memory, one photo slot per worker). Closed, and a local
    cluster shut down, on the way out, Ctrl+C included."""
    from distributed import Client, LocalCluster

    # Dask's own log lines (a worker that loses its scheduler while the cluster shuts down logs
    # a traceback) only with -v: problems reach the user as one line per photo or batch.
    level = logging.INFO if verbose else logging.CRITICAL
    logging.getLogger("distributed").setLevel(level)
    if address == LOCAL:
        with LocalCluster(processes=True, resources={RESOURCE: 1}, dashboard_address=":0",
                          silence_logs=level, preload=[f"{__package__}.local_worker"]
                          ) as cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(address)  # gives up after distributed.comm.timeouts.connect (30 s)
    except (OSError, TimeoutError, ValueError) as e:
        raise ClusterError(f"cannot reach the Dask scheduler at {address} "
                           f"({' '.join(str(e).split())[:160]})") from None
    with client:
        yield client


def prepare_workers(client, threads: int | None = None) -> None:
    """Set up every worker, present and future (:class:`~.worker.WorkerSetup`)."""
    try:
        client.register_plugin(WorkerSetup(threads), name=WorkerSetup.name)
    except Exception as e:  # noqa: BLE001 - whatever a worker raised while unpickling it
        raise ClusterError("the Dask workers could not set up matting-studio "
                           f"({type(e).__name__}: {' '.join(str(e).split())[:160]}); install "
                           "the same matting-studio version on every worker") from None


def photo_slots(client) -> int:
    """Photos the cluster's workers can run at once (at least 1)."""
    try:
        info = client.scheduler_info(n_workers=-1)  # every worker (newer Dask lists 5 by default)
    except TypeError:  # Dask before 2025 lists them all and takes no argument
        info = client.scheduler_info()
    workers = info.get("workers", {})
    return max(1, int(sum(w.get("resources", {}).get(RESOURCE, 1) for w in workers.values())))


class Batch:
    """One batch on a client: ``run()`` returns the records, one per photo, in order."""

    def __init__(self, client, planned: Sequence[Planned], settings: PipelineSettings,
                 trimap=None, bar=None, on_error: Callable[[str], None] | None = None,
                 options: ExportOptions = ExportOptions()):
        self.client = client
        self.planned = list(planned)
        self.settings = settings
        self.options = options
        self.trimap = trimap
        self.bar = bar
        self.on_error = on_error or (lambda line: print(line, file=sys.stderr))
        self.records: list[PhotoRecord | None] = [None] * len(self.planned)
        self.fatal: str | None = None
        self._token = uuid.uuid4().hex[:8]
        self._in_flight: dict = {}
        self._sends = [0] * len(self.planned)
        self._window = 2
        self._window_at = 0.0

    # -- submitting --------------------------------------------------------------------------
    def _refresh_window(self) -> int:
        now = time.monotonic()
        if now - self._window_at > 1.0:
            self._window = 2 * photo_slots(self.client) + 2
            self._window_at = now
        return self._window

    def _send(self, i: int, ac) -> None:
        p = self.planned[i]
        self._sends[i] += 1
        job = PhotoJob(i, p.name, p.source if is_url(p.source) else None, p.outputs,
                       self.settings, self.options)
        held = []
        data = None
        if job.source is None:
            try:
                data = self._scatter(read_bytes(Path(p.source), p.name))
            except ImageLoadError as e:
                self._finish(i, FAILED, str(e))
                return
            held.append(data)
        trimap = None
        if self.trimap is not None:
            trimap = self._scatter(self.trimap)
            held.append(trimap)
        future = self.client.submit(cut_out_photo, job, data, trimap, pure=False,
                                    key=f"matting-studio-{self._token}-{i}-{self._sends[i]}",
                                    resources={RESOURCE: 1})
        self._in_flight[future] = (i, held)
        ac.add(future)

    def _scatter(self, data):
        """``data`` placed on a worker; tried again while the scheduler is still dropping a
        worker that just died (the scatter may pick it)."""
        for wait in SCATTER_WAITS_S:
            try:
                return self.client.scatter(data, hash=False)
            except OSError as e:  # CommClosedError is one
                log.info("scatter failed (%s); trying again in %.1f s", e, wait)
                time.sleep(wait)
        try:
            return self.client.scatter(data, hash=False)
        except OSError as e:
            raise ClusterError(f"lost the connection to the Dask cluster ({e})") from None

    # -- collecting --------------------------------------------------------------------------
    def _finish(self, i: int, status: str, message: str = "", result: PhotoResult | None = None
                ) -> None:
        p = self.planned[i]
        self.records[i] = PhotoRecord(
            photo=p.source, status=status, seconds=result.seconds if result else None,
            worker=result.worker if result else "", outputs=tuple(d for _, d in p.outputs),
            message=message)
        if status == FAILED:
            msg = " ".join(message.split())
            self.on_error(f"error: {msg if msg.startswith(p.name) else f'{p.name}: {msg}'}")
        if self.bar is not None:
            if result is not None:
                self.bar.set_postfix_str(f"{p.name} ({result.worker})", refresh=False)
            self.bar.update(1)

    def _collect(self, future, i: int, ac) -> None:
        p = self.planned[i]
        if future.status == "cancelled":  # its scattered bytes died with a worker
            if self._sends[i] < MAX_SENDS:
                log.info("%s: lost with a worker; sending it again", p.name)
                self._send(i, ac)
            else:
                self._finish(i, FAILED, f"lost with a Dask worker {self._sends[i]} times")
            return
        if future.status == "error":
            from distributed.scheduler import KilledWorker

            e = future.exception()
            if isinstance(e, KilledWorker):
                self._finish(i, FAILED, "each Dask worker that ran it died (out of memory? "
                                        "see docs/cluster.md)")
            else:
                self._finish(i, FAILED, f"unexpected problem ({type(e).__name__}: "
                                        f"{' '.join(str(e).split())[:160]}); please report it")
            return
        result: PhotoResult = future.result()
        if result.error is not None:
            if result.fatal:
                self.fatal = result.error
                self.records[i] = PhotoRecord(p.source, FAILED, result.seconds, result.worker,
                                              message=result.error)
                return
            self._finish(i, FAILED, result.error, result)
            return
        local = [d for _, d in p.outputs if not is_url(d)]
        try:
            for dest, blob in zip(local, result.encoded):
                ensure_folder(Path(dest))
                write_atomic(dest, blob, protect=(p.source,))
        except MattingStudioError as e:
            self._finish(i, FAILED, str(e), result)
            return
        log.info("%s → %s on %s", p.name, ", ".join(display_name(d) for _, d in p.outputs),
                 result.worker)
        self._finish(i, DONE, "", result)

    def run(self) -> list[PhotoRecord]:
        """Cut out every photo; on Ctrl+C (KeyboardInterrupt) what is pending is cancelled
        before it propagates. Photos never started are recorded as "not run"."""
        from distributed import as_completed

        ac = as_completed()
        todo = iter(range(len(self.planned)))
        try:
            for i in todo:
                self._send(i, ac)
                if len(self._in_flight) >= self._refresh_window():
                    break
            for future in ac:
                i, held = self._in_flight.pop(future)
                self._collect(future, i, ac)
                del held, future
                if self.fatal is not None:
                    break
                while len(self._in_flight) < self._refresh_window():
                    i = next(todo, None)
                    if i is None:
                        break
                    self._send(i, ac)
        finally:
            self._cancel()
        return self.outcome()

    def outcome(self) -> list[PhotoRecord]:
        """A record per photo; those not finished (yet) are "not run"."""
        return [r or PhotoRecord(p.source, NOT_RUN, outputs=tuple(d for _, d in p.outputs))
                for p, r in zip(self.planned, self.records)]

    def _cancel(self) -> None:
        pending = list(self._in_flight)
        for _, held in self._in_flight.values():
            pending += held
        self._in_flight.clear()
        if pending:
            self.client.cancel(pending)


def cutout_command(args, settings: PipelineSettings, options: ExportOptions,
                   usage_error: Callable[[str], None], make_bar: Callable[[int], object]) -> int:
    """``matting-studio cutout … --dask ADDRESS`` after its arguments are parsed: collect and
    plan (URLs too), connect, run, write the report. Returns the exit code (0, 1, or 130 when
    interrupted); ``usage_error`` is the parser's (it exits with 2)."""
    from ..cli import say_what_was_found
    from ..core.batch import PlanError
    from ..core.io import load_grey
    from ..report import check_report_path, write_report
    from .remote import collect, plan

    found = collect(args.inputs, args.recursive)
    if not say_what_was_found(found):
        return 1
    try:
        planned = plan(found.photos, args.output, args.alpha_out, args.trimap_out, args.trimap,
                       args.name, options)
        report = None
        if args.report:
            keep = [*found.photos, *(d for p in planned for _, d in p.outputs)]
            report = check_report_path(args.report, keep)
    except PlanError as e:
        usage_error(str(e))
        return 2
    try:
        trimap = load_grey(args.trimap, "trimap") if args.trimap else None
    except MattingStudioError as e:
        print(f"error: {' '.join(str(e).split())}", file=sys.stderr)
        return 1

    batch = None
    interrupted = False
    lost = None
    try:
        with connect(args.dask, args.verbose) as client:
            prepare_workers(client, args.threads)
            bar = make_bar(len(planned))
            batch = Batch(client, planned, settings, trimap, bar,
                          on_error=lambda line: bar.write(line, file=sys.stderr),
                          options=options)
            with bar:
                batch.run()
    except ClusterError as e:
        if batch is None:
            print(f"error: {e}", file=sys.stderr)
            return 1
        lost = str(e)
    except KeyboardInterrupt:
        interrupted = True
    records = batch.outcome() if batch is not None else []
    code = 0
    if report is not None and records:
        try:
            write_report(report, records)
        except MattingStudioError as e:
            print(f"error: {' '.join(str(e).split())}", file=sys.stderr)
            code = 1
    if interrupted:
        print("matting-studio: interrupted", file=sys.stderr)
        return 130
    if lost is not None:
        print(f"error: {lost}", file=sys.stderr)
        return 1
    if batch.fatal is not None:
        hint = " (leave out --model to use the embedded model)" if args.model else ""
        print(f"error: {' '.join(batch.fatal.split())}{hint}", file=sys.stderr)
        return 1
    failures = sum(r.status != DONE for r in records)
    if failures:
        print(f"matting-studio: {failures} of {len(records)} photo(s) failed", file=sys.stderr)
        return 1
    return 1 if found.problems else code
