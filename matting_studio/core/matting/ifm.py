"""Information-flow matting (after Aksoy, Aydın & Pollefeys, CVPR 2017), solved with PCG.

Alpha in the unknown band minimises a sum of quadratic "flows" between pixels:

* **local flow**: the closed-form matting Laplacian (Levin et al.) in 3×3 windows;
* **colour-mixture flow**: each unknown pixel is written as an affine mixture (LLE weights) of
  its K nearest neighbours in (r, g, b, x, y) space and its alpha must be the same mixture of
  theirs — non-local, so information reaches across thin structures and holes;
* **intra-unknown flow**: KNN-matting style similarity between unknown pixels of similar colour;
* **known-to-unknown flow** (optional, off by default): a per-pixel alpha estimate from
  nearby known foreground/background colours, weighted by how distinct those colours are.

Every term is a sparse, local-or-K-neighbour system, so the matrix stays O(K) per unknown
pixel and the whole thing tiles like closed-form matting. Known pixels are hard constraints;
only the unknown block is solved, with PCG preconditioned by an incomplete Cholesky factor of
the local term plus the diagonal of the others. Parameters are global (no per-image tuning).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numba import njit, prange
from pymatting.laplacian.cf_laplacian import cf_laplacian
from pymatting.preconditioner.ichol import ichol
from pymatting.util.kdtree import KDTree

from ..progress import CancelToken, ProgressFn
from .registry import register
from .solver import pcg


@dataclass(frozen=True)
class FlowParams:
    """Weights and neighbourhood sizes of the flows (defaults follow Aksoy et al. 2017)."""

    loc_eps: float = 1e-6
    loc_weight: float = 1.0
    cm_k: int = 20
    cm_xy: float = 1.0
    cm_weight: float = 1.0
    cm_reg: float = 1e-6
    iu_k: int = 5
    iu_xy: float = 0.05
    iu_weight: float = 0.01
    ku_k: int = 0
    ku_xy: float = 10.0
    ku_weight: float = 0.05
    rtol: float = 1e-4
    maxiter: int = 500


DEFAULT_PARAMS = FlowParams()


def _features(image: np.ndarray, xy: float) -> np.ndarray:
    """(h·w, 5) float32 rows (r, g, b, xy·x/w, xy·y/h)."""
    h, w = image.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    f = np.empty((h * w, 5), np.float32)
    f[:, :3] = image.reshape(-1, 3)
    f[:, 3] = (xy * (xx + 1) / w).ravel()
    f[:, 4] = (xy * (yy + 1) / h).ravel()
    return f


def _neighbours(features: np.ndarray, query: np.ndarray, search: np.ndarray, k: int) -> np.ndarray:
    """Indices (len(query), k) of the k nearest ``search`` pixels of each ``query`` pixel,
    excluding the pixel itself."""
    k_eff = min(k + 1, search.size)
    tree = KDTree(np.ascontiguousarray(features[search]))
    _, idx = tree.query(np.ascontiguousarray(features[query]), k_eff)
    nb = search[idx]
    self_hit = nb == query[:, None]
    # Drop the self match where present, else the farthest neighbour.
    drop = np.where(self_hit.any(axis=1), self_hit.argmax(axis=1), k_eff - 1)
    keep = np.ones_like(nb, dtype=bool)
    keep[np.arange(nb.shape[0]), drop] = False
    return nb[keep].reshape(nb.shape[0], k_eff - 1)


@njit("f8[:, :](f8[:, :], i8[:], i8[:, :], f8)", cache=True, nogil=True, parallel=True)
def _lle_kernel(colours, query, nb, reg):  # pragma: no cover - compiled
    n, k = nb.shape
    out = np.empty((n, k))
    for i in prange(n):
        z = np.empty((k, 3))
        for a in range(k):
            for c in range(3):
                z[a, c] = colours[nb[i, a], c] - colours[query[i], c]
        g = z @ z.T
        tr = 0.0
        for a in range(k):
            tr += g[a, a]
        shift = reg * max(tr, 1e-3) + 1e-10
        for a in range(k):
            g[a, a] += shift
        # Cholesky solve g w = 1
        lo = np.zeros((k, k))
        for a in range(k):
            s = g[a, a]
            for b in range(a):
                s -= lo[a, b] * lo[a, b]
            d = np.sqrt(max(s, 1e-300))
            lo[a, a] = d
            for r in range(a + 1, k):
                t = g[r, a]
                for b in range(a):
                    t -= lo[r, b] * lo[a, b]
                lo[r, a] = t / d
        y = np.empty(k)
        for a in range(k):
            t = 1.0
            for b in range(a):
                t -= lo[a, b] * y[b]
            y[a] = t / lo[a, a]
        w = np.empty(k)
        for a in range(k - 1, -1, -1):
            t = y[a]
            for b in range(a + 1, k):
                t -= lo[b, a] * w[b]
            w[a] = t / lo[a, a]
        total = w.sum()
        if abs(total) < 1e-12:
            total = 1.0
        for a in range(k):
            out[i, a] = w[a] / total
    return out


def _lle_weights(colours: np.ndarray, query: np.ndarray, nb: np.ndarray, reg: float) -> np.ndarray:
    """Affine LLE weights (n, k) that rebuild each query colour from its neighbours' colours."""
    return _lle_kernel(np.ascontiguousarray(colours, np.float64), query.astype(np.int64),
                       np.ascontiguousarray(nb, np.int64), float(reg))


def build_flow_system(
    image: np.ndarray, trimap: np.ndarray, params: FlowParams = DEFAULT_PARAMS,
    cancel: CancelToken | None = None,
):
    """The unknown-block system ``A x = b`` plus a preconditioner and the index sets.

    Returns ``(matvec, b, precondition, unknown_index, diag)`` with ``matvec`` a function.
    """
    h, w = trimap.shape
    n = h * w
    tri = trimap.ravel()
    is_fg = tri == 255
    is_known = (tri == 0) | is_fg
    unk = np.flatnonzero(~is_known)
    known = np.flatnonzero(is_known)
    alpha_k = is_fg[known].astype(np.float64)
    colours = image.reshape(-1, 3).astype(np.float64)

    # Local flow: closed-form matting Laplacian, rows of unknown pixels.
    L = cf_laplacian(image, epsilon=params.loc_eps, radius=1,
                     is_known=is_known.reshape(h, w)).tocsr()
    L_U = L[unk]
    deg = np.maximum(L.diagonal()[unk], 1e-3)  # local degree: per-pixel weight of the other flows
    A_loc = params.loc_weight * L_U[:, unk]
    b = -params.loc_weight * (L_U[:, known] @ alpha_k)
    if cancel is not None:
        cancel.check()

    terms = [A_loc]
    diag_extra = np.zeros(unk.size)

    # Colour-mixture flow: E = S_U − W, energy ‖√d·E α‖².
    if params.cm_weight > 0 and params.cm_k > 0 and n > params.cm_k + 1:
        feats = _features(image, params.cm_xy)
        nb = _neighbours(feats, unk, np.arange(n), params.cm_k)
        wts = _lle_weights(colours, unk, nb, params.cm_reg)
        rows = np.repeat(np.arange(unk.size), nb.shape[1])
        E = sp.csr_matrix((np.concatenate([np.ones(unk.size), -wts.ravel()]),
                           (np.concatenate([np.arange(unk.size), rows]),
                            np.concatenate([unk, nb.ravel()]))), shape=(unk.size, n))
        E = E.tocsc()
        E_U = E[:, unk].tocsr()
        E_K = E[:, known].tocsr()
        dw = params.cm_weight * deg
        b -= E_U.T @ (dw * (E_K @ alpha_k))
        E_Ut = E_U.T.tocsr()
        terms.append((E_Ut, dw, E_U))
        diag_extra += E_U.multiply(E_U).T @ dw
        if cancel is not None:
            cancel.check()

    # Intra-unknown flow: KNN similarity among unknown pixels.
    if params.iu_weight > 0 and params.iu_k > 0 and unk.size > params.iu_k + 2:
        f1 = _features(image, params.iu_xy)
        nb1 = _neighbours(f1, unk, unk, params.iu_k)
        f2 = _features(image, params.iu_xy / 100.0)
        nb2 = _neighbours(f2, unk, unk, max(1, -(-params.iu_k // 5)))
        nbs = np.concatenate([nb1, nb2], axis=1)
        fd = f2.astype(np.float64)
        q = np.repeat(unk, nbs.shape[1])
        wts = np.maximum(1.0 - np.abs(fd[q] - fd[nbs.ravel()]).sum(axis=1) / 5.0, 0.0)
        pos = np.full(n, -1, np.int64)
        pos[unk] = np.arange(unk.size)
        i, j = pos[q], pos[nbs.ravel()]
        W = sp.csr_matrix((wts, (i, j)), shape=(unk.size, unk.size))
        W = (W + W.T) * 0.5
        # Edge weight scaled by the mean local degree of its two ends.
        W = W.tocoo()
        ww = W.data * 0.5 * (deg[W.row] + deg[W.col]) * params.iu_weight
        W = sp.csr_matrix((ww, (W.row, W.col)), shape=W.shape)
        L_iu = sp.diags(np.asarray(W.sum(axis=1)).ravel()) - W
        terms[0] = terms[0] + L_iu  # all unknown-unknown: no right-hand side part

    # Known-to-unknown flow: alpha estimate from known colours, confidence-weighted prior.
    if (params.ku_k > 0 and params.ku_weight > 0 and (tri == 255).sum() > params.ku_k
            and (tri == 0).sum() > params.ku_k):
        est, conf = _known_to_unknown(image, trimap, params)
        c = params.ku_weight * conf * deg
        terms[0] = terms[0] + sp.diags(c)
        b += c * est

    A0 = terms[0].tocsr()
    extras = terms[1:]

    def matvec(x: np.ndarray) -> np.ndarray:
        y = A0 @ x
        for Et, d, Eu in extras:
            y += Et @ (d * (Eu @ x))
        return y

    P = (A0 + sp.diags(diag_extra)).tocsc()
    if cancel is not None:
        cancel.check()
    M = ichol(P)
    return matvec, b, M, unk, A0.diagonal() + diag_extra


def _known_to_unknown(image: np.ndarray, trimap: np.ndarray, params: FlowParams):
    """Per-unknown-pixel alpha estimate from K foreground + K background neighbours (LLE)."""
    tri = trimap.ravel()
    unk = np.flatnonzero((tri != 0) & (tri != 255))
    fg = np.flatnonzero(tri == 255)
    bg = np.flatnonzero(tri == 0)
    feats = _features(image, params.ku_xy)
    k = params.ku_k
    nf = _neighbours(feats, unk, fg, k)
    nbk = _neighbours(feats, unk, bg, k)
    nb = np.concatenate([nf, nbk], axis=1)
    colours = image.reshape(-1, 3).astype(np.float64)
    wts = _lle_weights(colours, unk, nb, params.cm_reg)
    kf = nf.shape[1]
    est = np.clip(wts[:, :kf].sum(axis=1), 0.0, 1.0)
    fcol = np.einsum("nk,nkc->nc", wts[:, :kf], colours[nf])
    bcol = np.einsum("nk,nkc->nc", wts[:, kf:], colours[nbk])
    conf = ((fcol - bcol) ** 2).sum(axis=1) / 3.0
    return est, np.clip(conf, 0.0, 1.0)


def solve_flows(
    image: np.ndarray, trimap: np.ndarray, params: FlowParams = DEFAULT_PARAMS, *,
    progress: ProgressFn, cancel: CancelToken | None = None, x0: np.ndarray | None = None,
) -> np.ndarray:
    """Alpha (float32 (h, w)) for ``image`` float64 (h, w, 3) inside ``trimap``'s unknown band."""
    progress(0.0, "building flows")
    tri = trimap.ravel()
    if not ((tri != 0) & (tri != 255)).any() or not ((tri == 0) | (tri == 255)).any():
        # nothing to solve, or nothing to anchor it (a crop inside a wide band)
        base = (tri == 255).astype(np.float32).reshape(trimap.shape)
        if x0 is not None and not ((tri == 0) | (tri == 255)).any():
            base = np.clip(np.asarray(x0, np.float32), 0.0, 1.0)
        progress(1.0, "solving alpha")
        return base
    matvec, b, M, unk, _ = build_flow_system(image, trimap, params, cancel)
    progress(0.3, "solving alpha")
    A = _Operator(matvec, unk.size)
    x = pcg(A, b, precondition=M, x0=None if x0 is None else np.asarray(x0, np.float64).ravel()[unk],
            rtol=params.rtol, maxiter=params.maxiter,
            progress=lambda f, m: progress(0.3 + 0.7 * f, m), cancel=cancel)
    alpha = (trimap.ravel() == 255).astype(np.float64)
    alpha[unk] = x
    return np.clip(alpha, 0.0, 1.0).reshape(trimap.shape).astype(np.float32)


class _Operator:
    """Minimal ``.dot`` wrapper so :func:`pcg` can use a matrix-free product."""

    def __init__(self, matvec, n: int):
        self._matvec = matvec
        self.shape = (n, n)

    def dot(self, x: np.ndarray) -> np.ndarray:
        return self._matvec(x)


@register("ifm", "information-flow matting (Aksoy et al.): closed-form + colour-mixture "
                 "+ intra-unknown flows, PCG")
def solve_ifm(
    image: np.ndarray, trimap: np.ndarray, *, progress: ProgressFn,
    cancel: CancelToken | None = None, x0: np.ndarray | None = None,
) -> np.ndarray:
    return solve_flows(image, trimap, DEFAULT_PARAMS, progress=progress, cancel=cancel, x0=x0)
