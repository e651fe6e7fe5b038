"""KNN matting (Chen, Li & Tang 2013): a non-local Laplacian from nearest neighbours in
(colour, position) space, solved with known pixels as soft constraints."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from ..progress import CancelToken, ProgressFn
from .neighbours import query_knn
from .registry import register
from .solver import pcg

LAMBDA = 100.0
"""Weight of the known pixels' values in ``(L + λ·K) α = λ·F``."""
NEIGHBOURS = ((20, 2.0), (10, 0.1))
"""(k, weight of the position in the features) of each search: a near one that keeps to the
neighbourhood and a far one that reaches pixels of the same colour anywhere in the crop."""


def knn_laplacian(image: np.ndarray) -> sp.csr_matrix:
    """``I − D⁻¹W`` of the binary, symmetrised KNN graph of ``image`` (float (h, w, 3)).

    Features are (r, g, b, s·x, s·y) with x, y in 0..1 over the crop, one search per
    ``(k, s)`` of :data:`NEIGHBOURS`; every pixel is among its own neighbours, as in the
    published method.
    """
    h, w = image.shape[:2]
    n = h * w
    features = np.empty((n, 5), np.float32)
    features[:, :3] = image.reshape(-1, 3)
    x = np.tile(np.linspace(0.0, 1.0, w, dtype=np.float32), h)
    y = np.repeat(np.linspace(0.0, 1.0, h, dtype=np.float32), w)
    rows, cols = [], []
    for k, s in NEIGHBOURS:
        k = min(k, n)
        features[:, 3] = s * x
        features[:, 4] = s * y
        idx = query_knn(cKDTree(features), features, k)
        rows.append(np.repeat(np.arange(n), k))
        cols.append(idx.ravel())
    i = np.concatenate(rows + cols)
    j = np.concatenate(cols + rows)
    W = sp.csr_matrix((np.ones(i.size), (i, j)), shape=(n, n))  # duplicates add up
    inv_degree = 1.0 / np.maximum(np.asarray(W.sum(axis=1)).ravel(), 1e-12)
    return (sp.identity(n, format="csr") - sp.diags(inv_degree) @ W).tocsr()


@register("knn", "KNN matting (Chen et al.): non-local nearest-neighbour Laplacian")
def solve_knn(
    image: np.ndarray, trimap: np.ndarray, *, progress: ProgressFn,
    cancel: CancelToken | None = None, x0: np.ndarray | None = None
) -> np.ndarray:
    """Alpha (float32, 0..1) of one crop from ``(L + λ·K) α = λ·F`` (K: known pixels, F: the
    foreground ones), Jacobi-preconditioned CG. A crop with known pixels of one kind only is
    solved as well (it is the same system)."""
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
