"""Closed-form matting (Levin, Lischinski & Weiss 2008) on pymatting's Laplacian."""

from __future__ import annotations

import numpy as np
from pymatting.laplacian.cf_laplacian import cf_laplacian
from pymatting.preconditioner.ichol import ichol

from ..progress import CancelToken, ProgressFn
from .registry import register
from .solver import pcg

EPSILON = 1e-7
RADIUS = 1


@register("cf", "closed-form matting (Levin et al.), pymatting's Laplacian")
def solve_cf(
    image: np.ndarray, trimap: np.ndarray, *, progress: ProgressFn,
    cancel: CancelToken | None = None, x0: np.ndarray | None = None
) -> np.ndarray:
    """Same system as ``pymatting.estimate_alpha_cf`` (ε = 1e-7, r = 1, ichol), our PCG."""
    is_fg = (trimap == 255).ravel()
    is_known = ((trimap == 0) | (trimap == 255))
    is_unknown = ~is_known.ravel()
    L = cf_laplacian(image, epsilon=EPSILON, radius=RADIUS, is_known=is_known)
    if cancel is not None:
        cancel.check()
    L_U = L[is_unknown, :][:, is_unknown]
    R = L[is_unknown, :][:, is_known.ravel()]
    b = -R.dot(is_fg[is_known.ravel()].astype(np.float64))
    progress(0.05, "preparing")
    M = ichol(L_U)
    if cancel is not None:
        cancel.check()
    x = pcg(L_U, b, precondition=M, x0=None if x0 is None else x0.ravel()[is_unknown],
            progress=lambda f, m: progress(0.1 + 0.9 * f, m), cancel=cancel)
    alpha = is_fg.astype(np.float64)
    alpha[is_unknown] = x
    return np.clip(alpha, 0.0, 1.0).reshape(trimap.shape).astype(np.float32)
