"""Start-up warm-up: pay imports (and any JIT compilation) before the first photo arrives.

Every backend and the blur-fusion foreground are numpy/scipy/OpenCV only, with no JIT: warming
imports scipy's sparse and k-d tree modules and runs every step once on a tiny synthetic image.
The GUI calls :func:`warmup` from a background thread at start-up.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import numpy as np


def _tiny_problem(size: int = 24) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:size, 0:size]
    d = np.hypot(yy - size / 2, xx - size / 2)
    alpha = np.clip((size / 4 - d) / 2 + 0.5, 0, 1)
    image = np.stack([alpha * 0.9 + 0.1, 0.3 + 0 * alpha, (1 - alpha) * 0.8], axis=2)
    trimap = np.full((size, size), 128, np.uint8)
    trimap[d < size / 4 - 3] = 255
    trimap[d > size / 4 + 3] = 0
    return image.astype(np.float32), trimap


def warmup(backends: Iterable[str] | None = None, foreground: bool = True) -> float:
    """Run each backend (default: the default backend), the tiled driver and the foreground
    estimate once on a 24×24 image; return the seconds it took. Thread-safe, idempotent."""
    from ..foreground import estimate_foreground
    from .registry import BACKENDS, DEFAULT_BACKEND, solve_alpha

    if backends is None:
        backends = (DEFAULT_BACKEND,)
    t0 = time.perf_counter()
    image, trimap = _tiny_problem()
    alpha = None
    for name in backends:
        if name in BACKENDS:
            alpha = solve_alpha(image, trimap, name)
    if foreground and alpha is not None:
        estimate_foreground(image, alpha)
    return time.perf_counter() - t0
