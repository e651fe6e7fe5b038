"""Nearest-neighbour searches in (colour, position) feature space, on the core's threads."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from ..executor import parallel_map, thread_budget

QUERY_CHUNK = 8192
"""Query points per piece of a k-d tree search handed to the core's threads."""


def query_knn(tree: cKDTree, features: np.ndarray, k: int, eps: float = 0.0) -> np.ndarray:
    """Indices (len(features), k) of the k nearest tree points of each row of ``features``
    (``eps`` > 0: within (1 + eps) times the true distances). Pieces of the query run on the
    core's threads; the k-d tree search releases the GIL."""
    n = features.shape[0]

    def piece(start: int) -> np.ndarray:
        idx = tree.query(features[start:start + QUERY_CHUNK], k, eps=eps)[1]
        return np.asarray(idx).reshape(-1, k)

    if n <= QUERY_CHUNK or thread_budget() == 1:
        return np.asarray(tree.query(features, k, eps=eps)[1]).reshape(n, k)
    return np.concatenate(parallel_map(piece, range(0, n, QUERY_CHUNK)))
