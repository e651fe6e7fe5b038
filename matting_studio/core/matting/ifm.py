"""Information-flow matting (after Aksoy, Aydın & Pollefeys, CVPR 2017), solved with PCG.

Alpha in the unknown band minimises a sum of quadratic "flows" between pixels:

* **local flow**: the closed-form matting Laplacian (Levin et al.) in 3×3 windows;
* **colour-mixture flow**: each unknown pixel is written as an affine mixture (LLE weights) of
  its K nearest neighbours in (r, g, b, x, y) space and its alpha must be the same mixture of
  theirs — non-local, so information reaches across thin structures and holes;
* **intra-unknown flow**: KNN-matting style similarity between unknown pixels of similar colour;
* **known-to-unknown flow**: a per-pixel alpha estimate from the K nearest known foreground and
  background colours, weighted by how well a mix of them explains the pixel's colour (it also
  makes the system far better conditioned: many fewer CG iterations).

Before the solve, edge trimming (:mod:`.trimming`) decides the unknown pixels that a nearby
known pixel of the same colour explains: a short, strict trimming makes them known, a longer
one gives the known-to-unknown flow its estimate there, as in the paper's code.

Every term is a sparse, local-or-K-neighbour system, so the matrix stays O(K) per unknown
pixel and the whole thing tiles like closed-form matting. Known pixels are hard constraints;
only the unknown block is solved, with Jacobi-preconditioned CG (as fast as an incomplete or
complete factorisation of the local term, which pay their set-up and fill-in).

numpy / scipy only (no JIT to compile or load: the first cutout costs no more than the next):
neighbours from :class:`scipy.spatial.cKDTree`, LLE weights from a 3×3 system per pixel
(:func:`lle_weights`). Parameters are global (no per-image tuning).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from ..executor import parallel_map, spawn, thread_budget
from ..progress import CancelToken, ProgressFn
from .laplacian import _inv3, cf_system
from .neighbours import query_knn
from .registry import register
from .solver import pcg
from .trimming import TrimParams, edge_trim

log = logging.getLogger(__name__)

LLE_CHUNK = 16_384
"""Unknown pixels per batch of LLE weights (bounds the (n, k) temporaries)."""
TRIM_KNOWN, TRIM_PRIOR = TrimParams(rounds=4), TrimParams(rounds=6)


@dataclass(frozen=True)
class FlowParams:
    """Weights and neighbourhood sizes of the flows (defaults follow Aksoy et al. 2017 where
    the text does not say otherwise; the measurements behind each value are in the CHANGELOG
    and the README's Quality section)."""

    loc_eps: float = 1e-6
    """Regularisation of the local (closed-form) term, the paper's value."""
    loc_weight: float = 1.0
    cm_k: int = 14
    """Colour-mixture neighbours. The paper uses 20; 14 is as accurate and faster, while
    fewer break down on fine hair solved at a reduced size."""
    cm_xy: float = 1.0
    cm_reach: float = 0.1
    """Colour-mixture neighbours are searched only among pixels within this fraction of the
    longer side of the unknown band (0: the whole crop). A neighbour that far away costs 0.1 in
    feature distance, more than almost every colour match, so the result does not change,
    while the k-d tree holds far fewer pixels on large photos."""
    cm_weight: float = 0.1
    """Weight of the colour-mixture flow against the local term (the paper: 1). Its LLE
    weights rebuild a pixel from similar colours anywhere nearby, which lets a colour that
    no known region explains (a see-through flag, a shadow) drift towards whichever side
    shares it; a tenth keeps its reach across holes and thin strands while the local term
    and the known-to-unknown prior decide the rest."""
    cm_reg: float = 1e-6
    iu_k: int = 3
    """Intra-unknown neighbours (the paper: 5): as accurate with 3, and faster."""
    iu_xy: float = 0.05
    iu_eps: float = 1.0
    """Approximate-search tolerance of the intra-unknown searches (see ``knn_eps``). Its weight
    is small, so approximate neighbours serve as well as exact ones, at less cost."""
    iu_weight: float = 0.01
    ku_k: int = 7
    ku_xy: float = 10.0
    ku_weight: float = 0.05
    ku_fit: float = 0.02
    """Confidence of the known-to-unknown estimate from how well the pixel's colour is a mix
    of its known neighbours': ``ku_fit_conf / (1 + d / ku_fit)``, d the chromatic distortion
    of the best (foreground, background) pair (:func:`_pair_distortion`). The estimate's error
    grows with d far more than with anything else we tried, while the paper's confidence (the
    distance between the mixed colours, used when ``ku_fit`` is 0) is highest exactly where
    a colour that no known pair explains, such as a flag's blue between a koala and a dark
    wood, gets a wild estimate."""
    ku_fit_conf: float = 0.5
    """Confidence of a perfectly explained pixel (see ``ku_fit``). Higher values pull the
    matte towards the per-pixel estimate, which is noisier than the flows on a band solved
    at a reduced size and carried up to a large photo."""
    ku_eps: float = 2.0
    """Approximate-search tolerance of the known-to-unknown searches (see ``knn_eps``): their
    estimate is a mixture of several known colours, which approximate neighbours serve as
    well, and the searches cost less."""
    ku_reach: float = 0.3
    """Known pixels farther from the unknown band than this, in feature units (the spatial
    part alone: ku_xy · distance / side, so 0.3 is 3 % of the longer side), are left out of
    the searches: they are farther than almost every colour match, nearer known colours are
    the better estimate, and the k-d trees get a fraction of the known pixels."""
    trim_known: TrimParams | None = TRIM_KNOWN
    """Edge trimming (:mod:`.trimming`) whose labels become known pixels before the solve
    (None: off). Four rounds only pass a label on through colours within about one 8-bit
    level of a known pixel a few pixels away, which is almost never wrong, and every pixel
    so decided is one fewer to solve."""
    trim_prior: TrimParams | None = TRIM_PRIOR
    """Edge trimming whose labels become the known-to-unknown estimate of the pixels it
    decides, with confidence ``trim_conf`` (None: off), as in the paper's code. It reaches
    further through looser colour matches than ``trim_known``, so it is a prior the flows may
    overrule rather than a constraint."""
    trim_conf: float = 1.0
    """Known-to-unknown confidence of a pixel that ``trim_prior`` decides (the paper's code
    uses 1)."""
    knn_eps: float = 0.5
    """Approximate nearest-neighbour tolerance of the k-d tree searches (0: exact): about
    twice as fast as exact searches for a slightly less accurate matte; larger values lose
    accuracy on fine hair."""
    rtol: float = 1e-3
    """Relative residual at which PCG stops: tighter tolerances give no better mattes, and
    looser ones lose accuracy on large photos."""
    maxiter: int = 500


DEFAULT_PARAMS = FlowParams()


def _features(image: np.ndarray, xy: float, pixels: np.ndarray) -> np.ndarray:
    """(len(pixels), 5) float64 rows (r, g, b, xy·x/w, xy·y/h) of the flat ``pixels``."""
    h, w = image.shape[:2]
    flat = image.reshape(-1, 3)
    f = np.empty((pixels.size, 5), np.float64)
    f[:, :3] = flat[pixels]
    y, x = np.divmod(pixels, w)
    np.multiply(x + 1, xy / w, out=f[:, 3])
    np.multiply(y + 1, xy / h, out=f[:, 4])
    return f


def _neighbours(image: np.ndarray, xy: float, query: np.ndarray, search: np.ndarray, k: int,
                eps: float = 0.0, query_features: np.ndarray | None = None,
                disjoint: bool = False) -> np.ndarray:
    """Flat indices (len(query), k') of the k nearest ``search`` pixels of each ``query``
    pixel in (r, g, b, xy·x, xy·y) space, excluding the pixel itself (k' = min(k,
    len(search) - 1)). ``eps`` > 0 accepts neighbours up to (1 + eps) times farther than the
    true ones (faster k-d tree search). ``disjoint``: no query pixel is a search pixel, so
    there is no self match to drop and exactly k' = min(k, len(search)) are searched for."""
    k_eff = min(k if disjoint else k + 1, search.size)
    tree = cKDTree(_features(image, xy, search), balanced_tree=False)
    if query_features is None:
        query_features = _features(image, xy, query)
    nb = search[query_knn(tree, query_features, k_eff, eps)]
    if disjoint:
        return nb
    self_hit = nb == query[:, None]
    # drop the self match where present, else the farthest neighbour
    drop = np.where(self_hit.any(axis=1), self_hit.argmax(axis=1), k_eff - 1)
    keep = np.ones(nb.shape, bool)
    keep[np.arange(nb.shape[0]), drop] = False
    return nb[keep].reshape(nb.shape[0], k_eff - 1)


def lle_weights(colours: np.ndarray, query: np.ndarray, nb: np.ndarray, reg: float) -> np.ndarray:
    """Affine LLE weights (n, k), rows summing to 1, that rebuild each query colour from its
    neighbours' colours: ``w ∝ (G + s·I)⁻¹ 1`` with ``G = Z Zᵀ`` the neighbours' colour
    differences and ``s = reg·tr(G)``.

    ``Z`` is k×3, so by the Woodbury identity ``(Z Zᵀ + s I)⁻¹ 1 = (1 − Z (ZᵀZ + s I₃)⁻¹ Zᵀ 1)/s``:
    one 3×3 system per pixel instead of a k×k one (same weights, far faster than a batched
    k×k solve). The 1/s factor cancels in the normalisation.
    """
    n, k = nb.shape
    out = np.empty((n, k))
    for s0 in range(0, n, LLE_CHUNK):
        q = query[s0:s0 + LLE_CHUNK]
        nbc = nb[s0:s0 + LLE_CHUNK]
        z = [colours[nbc, c] - colours[q, c][:, None] for c in range(3)]  # 3 × (c, k)
        ztz = np.empty((q.size, 3, 3))
        for a in range(3):
            for b in range(a, 3):
                ztz[:, a, b] = ztz[:, b, a] = np.einsum("nk,nk->n", z[a], z[b])
        shift = reg * np.maximum(ztz[:, 0, 0] + ztz[:, 1, 1] + ztz[:, 2, 2], 1e-3) + 1e-10
        for a in range(3):
            ztz[:, a, a] += shift
        inv = _inv3(ztz)
        zsum = [za.sum(axis=1) for za in z]
        v = np.ones((q.size, k))
        for a in range(3):
            ya = inv[:, a, 0] * zsum[0] + inv[:, a, 1] * zsum[1] + inv[:, a, 2] * zsum[2]
            v -= z[a] * ya[:, None]
        total = v.sum(axis=1)
        total[np.abs(total) < 1e-12] = 1.0
        out[s0:s0 + LLE_CHUNK] = v / total[:, None]
    return out


@dataclass
class FlowSystem:
    """``A x = b`` over the unknown pixels ``unknown`` (flat indices), with ``A`` kept as a sum
    of terms, none multiplied out or merged (merging costs more sparse passes than the CG
    products it would save):

    * ``local`` — the closed-form Laplacian (CSR);
    * ``extra_diagonal`` — diagonal terms (known-to-unknown confidence, intra-unknown degrees);
    * ``products`` — ``d·EᵀE`` per (E, Eᵀ, d), both matrices CSR, d the flow's weight (the
      colour-mixture term would be K² entries per row if multiplied out);
    * ``similarity`` — the intra-unknown weights (W, Wᵀ), both CSR (W as found: one row per
      pixel's own neighbours); the term is ``−(W + Wᵀ)``, so W holds half the symmetric
      weights. Every matrix is CSR because scipy's CSR product releases the GIL (its CSC
      product does not), so the two halves of :class:`SplitProduct` really run together.
    """

    local: sp.csr_matrix
    extra_diagonal: np.ndarray
    products: list[tuple[sp.csr_matrix, sp.csr_matrix, float]]
    similarity: tuple[sp.csr_matrix, sp.csr_matrix] | None
    b: np.ndarray
    unknown: np.ndarray
    diagonal: np.ndarray

    def dot(self, x: np.ndarray) -> np.ndarray:
        y = self.local_dot(x)
        y += self.nonlocal_dot(x)
        return y

    def local_dot(self, x: np.ndarray) -> np.ndarray:
        """The local and intra-unknown terms (about half the work of :meth:`dot`)."""
        y = self.local @ x
        if self.similarity is not None:
            for w in self.similarity:
                y -= w @ x
        return y

    def nonlocal_dot(self, x: np.ndarray) -> np.ndarray:
        """The diagonal and colour-mixture terms (the other half)."""
        y = self.extra_diagonal * x
        for e, et, d in self.products:
            y += et @ (d * (e @ x))
        return y

    @property
    def nnz(self) -> int:
        extra = 0 if self.similarity is None else sum(w.nnz for w in self.similarity)
        return self.local.nnz + sum(2 * e.nnz for e, _, _ in self.products) + extra


PARALLEL_NNZ = 200_000
"""Stored entries from which :class:`SplitProduct` pays: each product then takes ~0.5 ms or
more, and a hand-off between threads costs tens of µs."""


class SplitProduct:
    """``A x`` of a :class:`FlowSystem` on two threads of the core's budget:
    :meth:`FlowSystem.local_dot` offered to an idle thread, :meth:`FlowSystem.nonlocal_dot` on
    the caller's. scipy's sparse products release the GIL and the two halves take about the
    same time."""

    def __init__(self, system: FlowSystem):
        self.system = system

    def dot(self, x: np.ndarray) -> np.ndarray:
        local = spawn(self.system.local_dot, x)
        y = self.system.nonlocal_dot(x)
        y += local.result()
        return y


def build_flow_system(
    image: np.ndarray, trimap: np.ndarray, params: FlowParams = DEFAULT_PARAMS,
    cancel: CancelToken | None = None, prior: np.ndarray | None = None,
) -> FlowSystem:
    """The unknown-block system of information-flow matting on one crop.

    ``prior`` (uint8 like ``trimap``): unknown pixels it marks 0 or 255 take that value as
    their known-to-unknown estimate, with confidence ``params.trim_conf``.

    The flows are independent until they are summed, so they are built concurrently on two
    threads: the k-d trees and most numpy work release the GIL.
    """
    h, w = trimap.shape
    n = h * w
    tri = trimap.ravel()
    is_fg = tri == 255
    image = np.asarray(image, np.float64)
    colours = image.reshape(-1, 3)
    unk = np.flatnonzero((tri != 0) & (tri != 255))
    m = unk.size
    pos = np.full(n, -1, np.int64)
    pos[unk] = np.arange(m)
    has_cm = params.cm_weight > 0 and params.cm_k > 0 and n > params.cm_k + 1
    has_iu = params.iu_weight > 0 and params.iu_k > 0 and m > params.iu_k + 2
    has_ku = (params.ku_k > 0 and params.ku_weight > 0 and is_fg.sum() > params.ku_k
              and (tri == 0).sum() > params.ku_k)

    # both non-local searches keep to pixels near the band: one distance map serves them
    dist = _distance_to_unknown(trimap) if params.cm_reach > 0 or has_ku else None
    side = max(h, w)

    def colour_mixture():
        search = np.arange(n)
        if params.cm_reach > 0:
            near = np.flatnonzero(dist <= params.cm_reach * side)
            if near.size > params.cm_k + 1:
                search = near
        nb = _neighbours(image, params.cm_xy, unk, search, params.cm_k, params.knn_eps)
        E, known_part = _mixture_rows(nb, lle_weights(colours, unk, nb, params.cm_reg), pos,
                                      is_fg)
        return E, E.T.tocsr(), known_part

    def intra_unknown():
        nb1 = _neighbours(image, params.iu_xy, unk, unk, params.iu_k, params.iu_eps)
        f2 = _features(image, params.iu_xy / 100.0, unk)
        nb2 = _neighbours(image, params.iu_xy / 100.0, unk, unk, max(1, -(-params.iu_k // 5)),
                          params.iu_eps, query_features=f2)
        nbs = pos[np.concatenate([nb1, nb2], axis=1)]  # positions among the unknowns
        per_row = nbs.shape[1]
        sim = np.maximum(1.0 - np.abs(f2[:, None, :] - f2[nbs]).sum(axis=2) / 5.0, 0.0)
        # half weights: the symmetrised W + Wᵀ holds the mean of both directions
        data = (sim * (0.5 * params.iu_weight)).ravel()
        nbs = nbs.ravel()
        W = sp.csr_matrix((data, nbs, np.arange(0, m * per_row + 1, per_row)), shape=(m, m))
        degree = data.reshape(m, per_row).sum(axis=1) + np.bincount(nbs, data, minlength=m)
        return (W, W.T.tocsr()), degree  # the graph Laplacian is diag(degree) − (W + Wᵀ)

    tasks = {"local": lambda: cf_system(image, trimap, params.loc_eps)}
    if has_cm:
        tasks["cm"] = colour_mixture
    if has_ku:
        near = dist <= params.ku_reach / params.ku_xy * side
        tasks["ku"] = lambda: _known_to_unknown(image, trimap, unk, near, params)
    if has_iu:
        tasks["iu"] = intra_unknown
    # the flows are independent: built side by side on the core's threads
    built = dict(zip(tasks, parallel_map(lambda task: task(), list(tasks.values()))))
    if cancel is not None:
        cancel.check()
    L_UU, b, _ = built["local"]
    local = L_UU if params.loc_weight == 1.0 else params.loc_weight * L_UU
    b = params.loc_weight * b
    diagonal = local.diagonal()
    extra = np.zeros(m)
    products = []
    similarity = None

    # colour-mixture flow: rows E = I − W over the unknown pixels, energy d·‖E α‖²
    if has_cm:
        E, ET, known_part = built["cm"]
        d = params.cm_weight
        b -= ET @ (d * known_part)
        products.append((E, ET, d))
        diagonal += d * np.bincount(E.indices, E.data ** 2, minlength=m)
        if cancel is not None:
            cancel.check()

    # intra-unknown flow: KNN-matting similarity among unknown pixels (two spatial scales),
    # the graph Laplacian diag(W·1) − W of the symmetrised weights ½(W₀ + W₀ᵀ)
    if has_iu:
        similarity, degree = built["iu"]
        extra += degree
        diagonal += degree - 2.0 * similarity[0].diagonal()
        if cancel is not None:
            cancel.check()

    # known-to-unknown flow: a confidence-weighted alpha prior from known colours
    if has_ku:
        est, conf = built["ku"]
        if prior is not None:
            decided = prior.ravel()[unk]
            sure = (decided == 0) | (decided == 255)
            est = np.where(sure, decided / 255.0, est)
            conf = np.where(sure, params.trim_conf, conf)
        c = params.ku_weight * conf
        extra += c
        diagonal += c
        b += c * est

    return FlowSystem(local, extra, products, similarity, b, unk, diagonal)


def _mixture_rows(nb: np.ndarray, wts: np.ndarray, pos: np.ndarray, is_fg: np.ndarray
                  ) -> tuple[sp.csr_matrix, np.ndarray]:
    """Rows ``E = I − W`` of the colour-mixture flow over the unknown pixels (CSR, built
    directly: row i holds i itself, then its unknown neighbours), and ``E_K · α_K``, the
    known neighbours' share (foreground = 1)."""
    m = nb.shape[0]
    nb_pos = pos[nb]
    in_u = nb_pos >= 0
    cols = np.concatenate([np.arange(m)[:, None], nb_pos], axis=1)
    vals = np.concatenate([np.ones((m, 1)), -wts], axis=1)
    keep = np.concatenate([np.ones((m, 1), bool), in_u], axis=1)
    indptr = np.zeros(m + 1, np.int64)
    np.cumsum(keep.sum(axis=1), out=indptr[1:])
    E = sp.csr_matrix((vals[keep], cols[keep], indptr), shape=(m, m))
    known_part = -(np.where(in_u, 0.0, wts) * is_fg[nb]).sum(axis=1)
    return E, known_part


def _distance_to_unknown(trimap: np.ndarray) -> np.ndarray:
    """Flat float32 distance (pixels) from every pixel to the nearest unknown one."""
    not_unknown = ((trimap == 0) | (trimap == 255)).astype(np.uint8)
    return cv2.distanceTransform(not_unknown, cv2.DIST_L2, 3).ravel()


def _known_to_unknown(image: np.ndarray, trimap: np.ndarray, unk: np.ndarray,
                      near: np.ndarray, params: FlowParams) -> tuple[np.ndarray, np.ndarray]:
    """Per-unknown-pixel alpha estimate from K foreground + K background neighbours (LLE),
    searched among the known pixels flagged in ``near`` (flat mask; all if too few)."""
    tri = trimap.ravel()
    q = _features(image, params.ku_xy, unk)
    fg = np.flatnonzero((tri == 255) & near)
    bg = np.flatnonzero((tri == 0) & near)
    if fg.size <= params.ku_k:
        fg = np.flatnonzero(tri == 255)
    if bg.size <= params.ku_k:
        bg = np.flatnonzero(tri == 0)
    # known and unknown pixels are disjoint: no self match to search past
    nf = _neighbours(image, params.ku_xy, unk, fg, params.ku_k, params.ku_eps, q, disjoint=True)
    nbk = _neighbours(image, params.ku_xy, unk, bg, params.ku_k, params.ku_eps, q, disjoint=True)
    colours = image.reshape(-1, 3)
    wts = lle_weights(colours, unk, np.concatenate([nf, nbk], axis=1), params.cm_reg)
    kf = nf.shape[1]
    est = np.clip(wts[:, :kf].sum(axis=1), 0.0, 1.0)
    if params.ku_fit > 0:
        fit = _pair_distortion(colours, unk, nf, nbk)
        conf = params.ku_fit_conf / (1.0 + fit / params.ku_fit)
        return est, np.clip(conf, 0.0, 1.0)
    fcol = np.einsum("nk,nkc->nc", wts[:, :kf], colours[nf])
    bcol = np.einsum("nk,nkc->nc", wts[:, kf:], colours[nbk])
    conf = ((fcol - bcol) ** 2).sum(axis=1) / 3.0
    return est, np.clip(conf, 0.0, 1.0)


def _pair_distortion(colours: np.ndarray, unk: np.ndarray, nf: np.ndarray, nb: np.ndarray
                     ) -> np.ndarray:
    """Per unknown pixel, how badly the best (foreground, background) pair among its known
    neighbours explains its colour as their mixture: ``min ‖C − (αF + (1−α)B)‖ / ‖F − B‖``
    over all pairs, α the projection clipped to 0..1 (the chromatic distortion of
    sampling-based matting).

    With ``u = C − B`` and ``v = F − B``, ``‖u − αv‖² = u·u − 2α u·v + α² v·v``: every pair's
    distortion follows from dot products, the pairs' ``F·B`` one small matrix product per
    pixel, without a (pixels, kf, kb, 3) difference array."""
    m = unk.size
    out = np.empty(m)
    for s0 in range(0, m, LLE_CHUNK):
        c = colours[unk[s0:s0 + LLE_CHUNK]]                           # (n, 3)
        f = colours[nf[s0:s0 + LLE_CHUNK]]                            # (n, kf, 3)
        b = colours[nb[s0:s0 + LLE_CHUNK]]                            # (n, kb, 3)
        ff = np.einsum("nfc,nfc->nf", f, f)[:, :, None]
        bb = np.einsum("nbc,nbc->nb", b, b)[:, None, :]
        fb = np.matmul(f, b.transpose(0, 2, 1))                        # (n, kf, kb)
        cf = np.einsum("nc,nfc->nf", c, f)[:, :, None]
        cb = np.einsum("nc,nbc->nb", c, b)[:, None, :]
        vv = np.maximum(ff - 2.0 * fb + bb, 1e-6)                      # ‖F − B‖²
        uv = cf - cb - fb + bb                                         # (C − B)·(F − B)
        uu = (np.einsum("nc,nc->n", c, c)[:, None] - 2.0 * cb[:, 0, :] + bb[:, 0, :])
        a = np.clip(uv / vv, 0.0, 1.0)
        r = np.maximum(uu[:, None, :] - a * (2.0 * uv - a * vv), 0.0)  # ‖u − αv‖²
        out[s0:s0 + LLE_CHUNK] = np.sqrt((r / vv).reshape(c.shape[0], -1).min(axis=1))
    return out


def solve_flows(
    image: np.ndarray, trimap: np.ndarray, params: FlowParams = DEFAULT_PARAMS, *,
    progress: ProgressFn, cancel: CancelToken | None = None, x0: np.ndarray | None = None,
) -> np.ndarray:
    """Alpha (float32 (h, w)) for ``image`` float (h, w, 3) inside ``trimap``'s unknown band."""
    progress(0.0, "building flows")
    tri = trimap.ravel()
    known = (tri == 0) | (tri == 255)
    if known.all() or not known.any():
        # nothing to solve, or nothing to anchor it (a crop inside a wide band)
        base = (tri == 255).astype(np.float32).reshape(trimap.shape)
        if x0 is not None and not known.any():
            base = np.clip(np.asarray(x0, np.float32), 0.0, 1.0)
        progress(1.0, "solving alpha")
        return base
    # both trimmings read the user's trimap, neither the other's result
    prior = None if params.trim_prior is None else edge_trim(image, trimap, params.trim_prior)
    if params.trim_known is not None:
        trimap = edge_trim(image, trimap, params.trim_known)
        tri = trimap.ravel()
        if ((tri == 0) | (tri == 255)).all():
            progress(1.0, "solving alpha")
            return (tri == 255).astype(np.float32).reshape(trimap.shape)
    system = build_flow_system(image, trimap, params, cancel, prior)
    progress(0.3, "solving alpha")
    inv_diag = 1.0 / np.maximum(system.diagonal, 1e-12)
    guess = None if x0 is None else np.asarray(x0, np.float64).ravel()[system.unknown]
    split = bool(system.products) and system.nnz >= PARALLEL_NNZ and thread_budget() > 1
    x = pcg(SplitProduct(system) if split else system, system.b,
            precondition=lambda r: inv_diag * r, x0=guess,
            rtol=params.rtol, maxiter=params.maxiter,
            progress=lambda f, m: progress(0.3 + 0.7 * f, m), cancel=cancel)
    alpha = (tri == 255).astype(np.float64)
    alpha[system.unknown] = x
    return np.clip(alpha, 0.0, 1.0).reshape(trimap.shape).astype(np.float32)


@register("ifm", "information-flow matting (Aksoy et al.): closed-form + colour-mixture "
                 "+ intra-unknown flows, PCG")
def solve_ifm(
    image: np.ndarray, trimap: np.ndarray, *, progress: ProgressFn,
    cancel: CancelToken | None = None, x0: np.ndarray | None = None,
) -> np.ndarray:
    return solve_flows(image, trimap, DEFAULT_PARAMS, progress=progress, cancel=cancel, x0=x0)
