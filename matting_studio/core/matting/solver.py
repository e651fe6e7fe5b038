"""Preconditioned conjugate gradients with progress, cancellation and warm start."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from ..progress import CancelToken, ProgressFn, no_progress


def pcg(
    A,
    b: np.ndarray,
    precondition: Callable[[np.ndarray], np.ndarray] | None = None,
    x0: np.ndarray | None = None,
    rtol: float = 1e-7,
    maxiter: int = 10000,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    message: str = "solving alpha",
) -> np.ndarray:
    """Solve ``A x = b`` (A symmetric positive definite) to ``||r|| < rtol ||b||``.

    Unlike pymatting's ``cg`` it returns the best iterate instead of raising when
    ``maxiter`` runs out, reports progress as the log-residual drop, and checks ``cancel``
    every iteration.
    """
    M = precondition or (lambda v: v)
    x = np.zeros_like(b) if x0 is None else np.array(x0, dtype=b.dtype, copy=True)
    r = b - A.dot(x)
    norm_b = float(np.linalg.norm(b))
    if norm_b == 0.0:
        return np.zeros_like(b)
    target = rtol * norm_b
    norm_r = float(np.linalg.norm(r))
    if norm_r <= target:
        return x
    start = math.log(norm_r)
    span = max(start - math.log(target), 1e-9)
    z = M(r)
    p = z.copy()
    rz = float(np.dot(r, z))
    for it in range(maxiter):
        if cancel is not None:
            cancel.check()
        Ap = A.dot(p)
        step = rz / float(np.dot(p, Ap))
        x += step * p
        r -= step * Ap
        norm_r = float(np.linalg.norm(r))
        if norm_r <= target:
            break
        if it % 10 == 0:
            progress(min((start - math.log(max(norm_r, 1e-300))) / span, 0.99), message)
        z = M(r)
        rz_new = float(np.dot(r, z))
        p *= rz_new / rz
        p += z
        rz = rz_new
    progress(1.0, message)
    return x
