"""Closed-form matting (Levin, Lischinski & Weiss 2008): the crop solver behind ``"cf"``.

The system is exactly pymatting's ``estimate_alpha_cf`` (ε = 1e-7, 3×3 windows), built by
:func:`~.laplacian.cf_system` for the unknown pixels of the crop only. Crops of up to
:data:`DIRECT_MAX` unknowns are solved directly (sparse LU); larger ones by our PCG with an
incomplete-LU preconditioner, warm-started from ``x0``. The tiling driver keeps crops small.
"""

from __future__ import annotations

import numpy as np

from ..progress import CancelToken, ProgressFn
from .laplacian import cf_system
from .registry import register
from .solver import pcg

EPSILON = 1e-7
RADIUS = 1
DIRECT_MAX = 30_000
"""Largest number of unknowns solved by sparse LU; beyond it, preconditioned CG."""


@register("cf", "closed-form matting (Levin et al.)")
def solve_cf(
    image: np.ndarray, trimap: np.ndarray, *, progress: ProgressFn,
    cancel: CancelToken | None = None, x0: np.ndarray | None = None
) -> np.ndarray:
    """Alpha (float32, 0..1) of one crop; same system as ``pymatting.estimate_alpha_cf``."""
    import scipy.sparse.linalg as sla

    L, b, unknown = cf_system(image, trimap, EPSILON)
    if cancel is not None:
        cancel.check()
    progress(0.3, "preparing")
    alpha = (trimap == 255).astype(np.float64).ravel()
    if unknown.size:
        if unknown.size <= DIRECT_MAX:
            # symmetric positive definite: symmetric ordering, no pivoting (faster than spsolve)
            lu = sla.splu(L.tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                          options={"SymmetricMode": True})
            x = lu.solve(b)
        else:
            ilu = sla.spilu(L.tocsc(), drop_tol=1e-4, fill_factor=10)
            x = pcg(L, b, precondition=ilu.solve,
                    x0=None if x0 is None else np.asarray(x0, np.float64).ravel()[unknown],
                    progress=lambda f, m: progress(0.3 + 0.7 * f, m), cancel=cancel)
        alpha[unknown] = x
    progress(1.0, "solving alpha")
    return np.clip(alpha, 0.0, 1.0).reshape(trimap.shape).astype(np.float32)
