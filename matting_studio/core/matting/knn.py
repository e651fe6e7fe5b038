"""KNN matting (Chen, Li & Tang 2013) on pymatting's KNN Laplacian."""

from __future__ import annotations

import numpy as np

from ..progress import CancelToken, ProgressFn
from .registry import register
from .scipy_parts import import_sparse
from .solver import pcg

LAMBDA = 100.0
"""Weight of the known pixels' values (pymatting's ``make_linear_system`` default)."""


@register("knn", "KNN matting (Chen et al.), pymatting's KNN Laplacian")
def solve_knn(
    image: np.ndarray, trimap: np.ndarray, *, progress: ProgressFn,
    cancel: CancelToken | None = None, x0: np.ndarray | None = None
) -> np.ndarray:
    """Same system as ``pymatting.estimate_alpha_knn`` (λ = 100, Jacobi), our PCG.

    A crop (tile) may hold known pixels of one kind only; pymatting's ``make_linear_system``
    refuses that, so the system ``(L + λ·K) α = λ·F`` is built here (the same one)."""
    # imported here: pymatting's package import costs seconds of numba start-up
    sp = import_sparse()  # before pymatting's own scipy import
    from pymatting.laplacian.knn_laplacian import knn_laplacian

    tri = trimap.ravel()
    is_fg = (tri == 255).astype(np.float64)
    is_known = ((tri == 255) | (tri == 0)).astype(np.float64)
    if not is_known.any():  # nothing anchors this crop (inside a wide band): keep the guess
        base = np.zeros(trimap.shape) if x0 is None else np.asarray(x0, np.float64)
        return np.clip(base, 0.0, 1.0).astype(np.float32)
    L = knn_laplacian(image)
    if cancel is not None:
        cancel.check()
    progress(0.1, "preparing")
    A = (L + sp.diags(LAMBDA * is_known)).tocsr()
    b = LAMBDA * is_fg
    inv_diag = 1.0 / np.maximum(A.diagonal(), 1e-12)
    x = pcg(A, b, precondition=lambda r: inv_diag * r,
            x0=None if x0 is None else np.asarray(x0, np.float64).ravel(),
            progress=lambda f, m: progress(0.1 + 0.9 * f, m), cancel=cancel)
    return np.clip(x, 0.0, 1.0).reshape(trimap.shape).astype(np.float32)
