"""Background jobs for the editor: one worker thread, request ids, latest wins.

A job is any callable ``job(progress, cancel) -> result`` (see
:meth:`matting_studio.core.document.Document.matting_job`). :meth:`Worker.submit` gives it a new
request id; a newer submission supersedes pending ones (they never start) and cancels the running
one through its :class:`~matting_studio.core.progress.CancelToken`. Only the result of the newest
request is delivered: stale results are dropped. Signals are delivered on the GUI thread.

``Worker(synchronous=True)`` runs each job inside :meth:`submit` (tests, scripts).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal

from ..core.errors import Cancelled, MattingStudioError
from ..core.progress import CancelToken, ProgressFn

log = logging.getLogger(__name__)

Job = Callable[[ProgressFn, CancelToken], Any]


class Worker(QObject):
    """Single-worker, latest-wins executor with cancellation.

    Signals
    -------
    started(id, tag), progress(id, fraction, message), finished(id, tag, result),
    partial(id, tag, payload) — a job's intermediate result (``progress.partial(payload)``),
    failed(id, tag, message), idle() — emitted when the newest request has ended
    (finished, failed or cancelled) and nothing is pending.
    """

    started = Signal(int, str)
    progress = Signal(int, float, str)
    finished = Signal(int, str, object)
    partial = Signal(int, str, object)
    failed = Signal(int, str, str)
    idle = Signal()

    def __init__(self, name: str = "worker", synchronous: bool = False, parent: QObject | None = None):
        super().__init__(parent)
        self.name = name
        self.synchronous = synchronous
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.RLock()
        self._latest = 0
        self._pending: dict[int, tuple[Future | None, CancelToken]] = {}
        self._closed = False
        self.stale_dropped = 0
        self.cancelled_count = 0

    # ------------------------------------------------------------------ API
    @property
    def latest_id(self) -> int:
        return self._latest

    def is_busy(self) -> bool:
        with self._lock:
            return bool(self._pending)

    def is_current(self, request_id: int) -> bool:
        return request_id == self._latest

    def submit(self, job: Job, tag: str = "") -> int:
        """Queue ``job``; returns its request id. Earlier requests are superseded."""
        if self._closed:
            raise RuntimeError(f"{self.name} worker is shut down")
        token = CancelToken()
        with self._lock:
            self._latest += 1
            rid = self._latest
            superseded = list(self._pending.values())
            self._pending[rid] = (None, token)
        self._cancel_all(superseded)
        if self.synchronous:
            self._run(rid, tag, job, token)
            return rid
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"ms-{self.name}")
        fut = self._executor.submit(self._run, rid, tag, job, token)
        with self._lock:
            if rid in self._pending:
                self._pending[rid] = (fut, token)
        fut.add_done_callback(lambda f, r=rid: self._forget_if_cancelled(r, f))
        return rid

    def cancel(self) -> None:
        """Cancel everything pending or running; nothing more will be delivered."""
        with self._lock:
            self._latest += 1  # any result in flight is now stale
            pending = list(self._pending.values())
        self._cancel_all(pending)

    @staticmethod
    def _cancel_all(pending: list[tuple[Future | None, CancelToken]]) -> None:
        # Outside the lock: Future.cancel() runs done-callbacks, which take the lock.
        for fut, tok in pending:
            tok.cancel()
            if fut is not None:
                fut.cancel()  # never starts if still queued

    def wait(self, timeout: float = 30.0) -> bool:
        """Block until no job is running (for shutdown and scripts). Does not process Qt events."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if not self.is_busy():
                return True
            time.sleep(0.01)
        return False

    def shutdown(self, timeout: float = 10.0) -> None:
        self._closed = True
        self.cancel()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self.wait(timeout)

    # ------------------------------------------------------------------ internals
    def _forget_if_cancelled(self, rid: int, fut: Future) -> None:
        if fut.cancelled():
            self._end(rid)

    def _end(self, rid: int) -> None:
        with self._lock:
            self._pending.pop(rid, None)
            now_idle = not self._pending
        if now_idle:
            self._emit(self.idle)

    def _emit(self, signal, *args) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the receiver (window) is already gone
            log.debug("%s: signal after shutdown dropped", self.name)

    def _run(self, rid: int, tag: str, job: Job, token: CancelToken) -> None:
        try:
            if token.cancelled:
                self.cancelled_count += 1
                return
            self._emit(self.started, rid, tag)
            last = [0.0]

            def progress(fraction: float, message: str) -> None:
                now = time.monotonic()
                if token.cancelled:
                    return
                if fraction >= 1.0 or now - last[0] > 0.05:
                    last[0] = now
                    self._emit(self.progress, rid, float(fraction), message)

            def partial(payload) -> None:
                if not token.cancelled and rid == self._latest:
                    self._emit(self.partial, rid, tag, payload)

            progress.partial = partial  # type: ignore[attr-defined]  # intermediate results

            t0 = time.perf_counter()
            try:
                result = job(progress, token)
            except Cancelled:
                self.cancelled_count += 1
                log.debug("%s #%d (%s) cancelled", self.name, rid, tag)
                return
            except MattingStudioError as e:
                if rid == self._latest:
                    self._emit(self.failed, rid, tag, str(e))
                return
            except MemoryError:
                if rid == self._latest:
                    self._emit(self.failed, rid, tag, "not enough memory for this image")
                return
            except Exception as e:
                log.exception("%s #%d (%s) crashed", self.name, rid, tag)
                if rid == self._latest:
                    self._emit(self.failed, rid, tag, f"internal error: {type(e).__name__}: {e}")
                return
            log.debug("%s #%d (%s) took %.2f s", self.name, rid, tag, time.perf_counter() - t0)
            if rid != self._latest or token.cancelled:
                self.stale_dropped += 1
                return
            self._emit(self.finished, rid, tag, result)
        finally:
            self._end(rid)
