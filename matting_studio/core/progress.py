"""Progress reporting and cooperative cancellation shared by every long core step."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable

from .errors import Cancelled

ProgressFn = Callable[[float, str], None]
"""``progress(fraction 0..1, stage message)``. Parallel steps may call it from any of the core's
threads (:mod:`.executor`), but never two calls at once."""


@dataclass
class CancelToken:
    """Thread-safe flag checked by long loops; ``check()`` raises :class:`Cancelled`."""

    _event: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled()


def no_progress(fraction: float, message: str) -> None:  # noqa: ARG001
    """Default progress sink."""


def sub_progress(progress: ProgressFn, start: float, end: float) -> ProgressFn:
    """Map a child's 0..1 progress into ``[start, end]`` of the parent's range."""

    def child(fraction: float, message: str) -> None:
        progress(start + (end - start) * min(max(fraction, 0.0), 1.0), message)

    return child
