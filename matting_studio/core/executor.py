"""One thread budget for the whole core: a shared pool whose callers help instead of waiting.

Every parallel step of the pipeline (matting tiles, the flows of one solve, PNG strips,
foreground tiles, the mirrored model run, upsampling strips) goes through this module; no core
module starts a pool of its own. The driver sets the budget once (:func:`set_thread_budget`:
the CLI from ``--threads``, the editor at start-up, a cluster worker from its own share);
by default it is the number of usable cores.

The budget counts the calling thread: with a budget of *n* the shared pool has *n* − 1
workers, and the caller of :func:`parallel_map` or :meth:`Deferred.result` runs work itself
instead of blocking. Nested parallelism therefore cannot deadlock or oversubscribe: a tile
running on a pool worker that asks for parallel flows gets help only from workers that are
idle, and otherwise runs the flows itself, one after the other.

OpenCV's own thread pool is sized to the same budget.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

from .cpu import usable_cores

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

_lock = threading.Lock()
_budget: int | None = None
_pool: ThreadPoolExecutor | None = None


def thread_budget() -> int:
    """Threads the core may keep busy at once (the caller included), at least 1."""
    return _budget if _budget is not None else usable_cores()


def set_thread_budget(threads: int | None) -> int:
    """Set the budget (None: the usable cores) and size OpenCV's pool to it; returns it.

    Work already running keeps the pool it started on; new work uses the new size.
    """
    global _budget, _pool
    if threads is not None and threads < 1:
        raise ValueError("the thread budget must be at least 1")
    with _lock:
        _budget = threads
        old, _pool = _pool, None
    if old is not None:
        old.shutdown(wait=False)
    budget = thread_budget()
    try:
        import cv2

        cv2.setNumThreads(budget)
    except ImportError:  # pragma: no cover - OpenCV is a dependency
        pass
    log.debug("thread budget: %d", budget)
    return budget


def _shared_pool() -> ThreadPoolExecutor | None:
    global _pool
    workers = thread_budget() - 1
    if workers < 1:
        return None
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(workers, thread_name_prefix="ms-core")
        return _pool


class Deferred(Generic[R]):
    """``fn(*args)`` offered to the shared pool; :meth:`result` runs it on the caller if no
    worker has started it yet, else waits for it. Exceptions reach the caller of ``result``."""

    def __init__(self, fn: Callable[..., R], *args):
        self._fn, self._args = fn, args
        self._claim_lock = threading.Lock()
        self._claimed = False
        self._done = threading.Event()
        self._value: R | None = None
        self._error: BaseException | None = None

    def _claim(self) -> bool:
        with self._claim_lock:
            if self._claimed:
                return False
            self._claimed = True
            return True

    def _run(self) -> None:
        try:
            self._value = self._fn(*self._args)
        except BaseException as e:  # noqa: BLE001 - handed to whoever asks for the result
            self._error = e
        finally:
            self._fn = self._args = None  # type: ignore[assignment]  # free what it held
            self._done.set()

    def _from_pool(self) -> None:
        if self._claim():
            self._run()

    def cancel(self) -> bool:
        """Keep it from starting; True when it had not started (it never will)."""
        if self._claim():
            self._fn = self._args = None  # type: ignore[assignment]
            self._done.set()
            return True
        return False

    def result(self) -> R:
        if self._claim():
            self._run()
        else:
            self._done.wait()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


def spawn(fn: Callable[..., R], *args) -> Deferred[R]:
    """Start ``fn(*args)`` on an idle worker of the shared pool, if there is one; collect it
    with :meth:`Deferred.result` (which runs it there and then if nobody has)."""
    job = Deferred(fn, *args)
    pool = _shared_pool()
    if pool is not None:
        try:
            pool.submit(job._from_pool)
        except RuntimeError:  # the pool was replaced and shut down meanwhile
            pass
    return job


def wait_quietly(job: Deferred) -> BaseException | None:
    """Wait for ``job`` (e.g. after the caller's own part failed); returns its error, if any,
    instead of raising it."""
    try:
        job.result()
    except BaseException as e:  # noqa: BLE001 - the caller already has an error to raise
        return e
    return None


def parallel_map(fn: Callable[[T], R], items: Iterable[T], *, limit: int | None = None,
                 on_done: Callable[[int, int], None] | None = None) -> list[R]:
    """``[fn(x) for x in items]`` on up to ``limit`` threads of the budget (caller included).

    Items are handed out one at a time, so a failure (e.g. ``Cancelled``) stops new items from
    starting; it is raised once the items already running have ended. ``on_done(done, total)``
    is called after each item, one call at a time.
    """
    todo: Sequence[T] = items if isinstance(items, Sequence) else list(items)
    total = len(todo)
    results: list = [None] * total
    threads = min(total, thread_budget(), limit if limit is not None else total)
    if threads <= 1:
        for i, x in enumerate(todo):
            results[i] = fn(x)
            if on_done is not None:
                on_done(i + 1, total)
        return results

    state = threading.Condition()
    next_index = 0
    running = 0
    finished = 0
    errors: list[BaseException] = []
    report_lock = threading.Lock()

    def drain() -> None:
        nonlocal next_index, running, finished
        while True:
            with state:
                if errors or next_index >= total:
                    return
                i = next_index
                next_index += 1
                running += 1
            try:
                results[i] = fn(todo[i])
                if on_done is not None:
                    with report_lock:
                        with state:
                            finished += 1
                            done = finished
                        on_done(done, total)
            except BaseException as e:  # noqa: BLE001 - re-raised on the caller's thread
                with state:
                    errors.append(e)
                    running -= 1
                    state.notify_all()
                return
            with state:
                running -= 1
                state.notify_all()

    helpers = [spawn(drain) for _ in range(threads - 1)]
    drain()
    for h in helpers:
        h.cancel()  # helpers that have not started have nothing left to do
    with state:
        while running:
            state.wait()
    if errors:
        raise errors[0]
    return results
