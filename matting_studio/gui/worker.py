"""Background jobs for the editor: one worker thread, request ids, latest wins, typed messages.

A job is a callable ``job(ctx) -> payload`` taking a :class:`JobContext`: ``ctx.progress`` and
``ctx.cancel`` as everywhere in the core, and ``ctx.preview(payload)`` to hand over an
intermediate result (e.g. a quick matte before the full one). :meth:`Worker.submit` gives the
job a new request id; a newer submission supersedes pending ones (they never start) and
cancels the running one. Only the newest request's messages are delivered, on the GUI thread,
as small frozen dataclasses: :class:`Preview`, :class:`Final`, :class:`Failed`.

``Worker(synchronous=True)`` runs each job inside :meth:`submit` (tests, scripts).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal

from ..core.errors import Cancelled, MattingStudioError
from ..core.progress import CancelToken, ProgressFn

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobContext:
    """What a job gets: progress reporting, its cancel token and a way to hand over previews."""

    progress: ProgressFn
    cancel: CancelToken
    preview: Callable[[Any], None]


Job = Callable[[JobContext], Any]


@dataclass(frozen=True)
class Preview:
    """An intermediate result of the newest request (more follows)."""

    request_id: int
    tag: str
    payload: Any


@dataclass(frozen=True)
class Final:
    """The newest request's result."""

    request_id: int
    tag: str
    payload: Any


@dataclass(frozen=True)
class Failed:
    """The newest request failed; ``message`` is one line for the user."""

    request_id: int
    tag: str
    message: str


class Worker(QObject):
    """Single-thread, latest-wins executor with cancellation.

    Signals
    -------
    started(id, tag); progress(id, fraction, message); previewed(Preview); finished(Final);
    failed(Failed); idle() — the newest request has ended and nothing is pending.
    """

    started = Signal(int, str)
    progress = Signal(int, float, str)
    previewed = Signal(object)
    finished = Signal(object)
    failed = Signal(object)
    idle = Signal()

    def __init__(self, name: str = "worker", synchronous: bool = False,
                 parent: QObject | None = None):
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

    def _deliverable(self, rid: int, token: CancelToken) -> bool:
        return rid == self._latest and not token.cancelled

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

            def preview(payload) -> None:
                if self._deliverable(rid, token):
                    self._emit(self.previewed, Preview(rid, tag, payload))

            t0 = time.perf_counter()
            try:
                result = job(JobContext(progress, token, preview))
            except Cancelled:
                self.cancelled_count += 1
                log.debug("%s #%d (%s) cancelled", self.name, rid, tag)
                return
            except MattingStudioError as e:
                message = " ".join(str(e).split())
            except MemoryError:
                message = "not enough memory for this photo"
            except Exception as e:  # noqa: BLE001 - the window keeps running; the log has it
                log.exception("%s #%d (%s) crashed", self.name, rid, tag)
                message = f"internal error: {type(e).__name__}: {' '.join(str(e).split())}"
            else:
                log.debug("%s #%d (%s) took %.2f s", self.name, rid, tag,
                          time.perf_counter() - t0)
                if self._deliverable(rid, token):
                    self._emit(self.finished, Final(rid, tag, result))
                else:
                    self.stale_dropped += 1
                return
            if rid == self._latest:
                self._emit(self.failed, Failed(rid, tag, message))
        finally:
            self._end(rid)
