"""KNN matting (Chen, Li & Tang 2013) on pymatting's KNN Laplacian."""

from __future__ import annotations

import numpy as np

from ..progress import CancelToken, ProgressFn
from .registry import register
from .solver import pcg


@register("knn", "KNN matting (Chen et al.), pymatting's KNN Laplacian")
def solve_knn(
    image: np.ndarray, trimap: np.ndarray, *, progress: ProgressFn,
    cancel: CancelToken | None = None, x0: np.ndarray | None = None
) -> np.ndarray:
    """Same system as ``pymatting.estimate_alpha_knn`` (λ = 100, Jacobi), our PCG."""
    # imported here: pymatting's package import costs seconds of numba start-up
    from pymatting.laplacian.knn_laplacian import knn_laplacian
    from pymatting.laplacian.laplacian import make_linear_system
    from pymatting.preconditioner.jacobi import jacobi

    L = knn_laplacian(image)
    if cancel is not None:
        cancel.check()
    progress(0.1, "preparing")
    A, b = make_linear_system(L, trimap.astype(np.float64) / 255.0)
    x = pcg(A, b, precondition=jacobi(A),
            x0=None if x0 is None else np.asarray(x0, np.float64).ravel(),
            progress=lambda f, m: progress(0.1 + 0.9 * f, m), cancel=cancel)
    return np.clip(x, 0.0, 1.0).reshape(trimap.shape).astype(np.float32)
