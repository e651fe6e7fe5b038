"""Preconditioned conjugate gradients with progress, cancellation and warm start."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..progress import CancelToken, ProgressFn, no_progress


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Inner product without BLAS: OpenBLAS hands even a 50k-element ``np.dot`` to its thread
    pool, and on a busy machine every hand-off waits for a core, for a product that takes
    microseconds on one."""
    return float(np.einsum("i,i->", a, b))


def _norm(a: np.ndarray) -> float:
    return math.sqrt(_dot(a, a))


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

    Unlike pymatting's ``cg`` it returns the last iterate instead of raising when
    ``maxiter`` runs out or the iteration breaks down (a zero or non-finite ``rᵀz`` or
    ``pᵀAp``, e.g. from an incomplete factorisation that is not positive definite), reports
    progress as the log-residual drop, and checks ``cancel`` every iteration.
    """
    M = precondition or (lambda v: v)
    x = np.zeros_like(b) if x0 is None else np.array(x0, dtype=b.dtype, copy=True)
    r = b - A.dot(x)
    norm_b = _norm(b)
    if norm_b == 0.0:
        return np.zeros_like(b)
    target = rtol * norm_b
    norm_r = _norm(r)
    if norm_r <= target:
        return x
    start = math.log(norm_r)
    span = max(start - math.log(target), 1e-9)
    z = M(r)
    p = z.copy()
    tmp = np.empty_like(p)
    rz = _dot(r, z)
    for it in range(maxiter):
        if cancel is not None:
            cancel.check()
        if not (rz > 0.0 and math.isfinite(rz)):
            break  # breakdown (a preconditioner that is not positive definite here): keep x
        Ap = A.dot(p)
        pap = _dot(p, Ap)
        if not (pap > 0.0 and math.isfinite(pap)):
            break
        step = rz / pap
        np.multiply(p, step, out=tmp)
        x += tmp
        np.multiply(Ap, step, out=tmp)
        r -= tmp
        norm_r = _norm(r)
        if norm_r <= target:
            break
        if it % 10 == 0:
            progress(min((start - math.log(max(norm_r, 1e-300))) / span, 0.99), message)
        z = M(r)
        rz_new = _dot(r, z)  # a breakdown here stops the next iteration before x changes
        p *= rz_new / rz
        p += z
        rz = rz_new
    progress(1.0, message)
    return x
