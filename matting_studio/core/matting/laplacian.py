"""Closed-form matting Laplacian of a crop, built only from windows that touch unknown pixels.

Pure numpy (no numba, no JIT warm-up): the CLI and the GUI pay no compile or cache-load time.
Unlike ``pymatting.cf_laplacian``, which allocates 25 entries per pixel of the whole image,
this builds rows for the unknown pixels only, so memory follows the unknown band.
"""

from __future__ import annotations

import numpy as np

OFFSETS_Y = np.repeat(np.arange(-1, 2), 3)
OFFSETS_X = np.tile(np.arange(-1, 2), 3)


def _inv3(m: np.ndarray) -> np.ndarray:
    """Inverse of a stack of symmetric 3×3 matrices (adjugate formula, vectorised)."""
    a, b, c = m[:, 0, 0], m[:, 0, 1], m[:, 0, 2]
    d, e, f = m[:, 1, 1], m[:, 1, 2], m[:, 2, 2]
    out = np.empty_like(m)
    i00 = d * f - e * e
    i01 = c * e - b * f
    i02 = b * e - c * d
    det = a * i00 + b * i01 + c * i02
    r = 1.0 / det
    out[:, 0, 0] = i00 * r
    out[:, 0, 1] = out[:, 1, 0] = i01 * r
    out[:, 0, 2] = out[:, 2, 0] = i02 * r
    out[:, 1, 1] = (a * f - c * c) * r
    out[:, 1, 2] = out[:, 2, 1] = (b * c - a * e) * r
    out[:, 2, 2] = (a * d - b * b) * r
    return out


def cf_system(
    image: np.ndarray, trimap: np.ndarray, epsilon: float = 1e-7
) -> tuple[scipy.sparse.csr_matrix, np.ndarray, np.ndarray]:  # noqa: F821
    """The linear system ``L_UU x = b`` of closed-form matting (3×3 windows) on a crop.

    Parameters
    ----------
    image : float (h, w, 3) in 0..1 (converted to float64 here, per crop).
    trimap : uint8 (h, w): 0 background, 255 foreground, anything else unknown.
    epsilon : regularisation of the colour covariance (as pymatting: ``Σ + ε/9 · I``).

    Returns
    -------
    L_UU : scipy CSR matrix (n, n) over the unknown pixels (row-major order).
    b : float64 (n,) right-hand side from the known neighbours.
    unknown : flat indices (into ``h * w``) of the unknown pixels, in the order of ``x``.

    Windows are centred at least one pixel inside the crop (as pymatting), so a crop gives the
    exact rows of the whole image's system for every unknown pixel at least two pixels away
    from the crop edge.
    """
    import scipy.sparse

    h, w = trimap.shape
    unknown_mask = (trimap != 0) & (trimap != 255)
    unknown = np.flatnonzero(unknown_mask)
    n = unknown.size
    index = np.full(h * w, -1, np.int64)
    index[unknown] = np.arange(n)
    # window centres (1..h-2, 1..w-2) whose 3×3 window holds an unknown pixel
    u8 = unknown_mask.astype(np.uint8)
    touch = np.zeros((h, w), bool)
    if h >= 3 and w >= 3:
        acc = np.zeros((h - 2, w - 2), np.uint8)
        for dy in range(3):
            for dx in range(3):
                acc |= u8[dy:dy + h - 2, dx:dx + w - 2]
        touch[1:-1, 1:-1] = acc.astype(bool)
    centres = np.flatnonzero(touch)
    if n == 0 or centres.size == 0:
        return scipy.sparse.csr_matrix((n, n)), np.zeros(n), unknown
    pix = centres[:, None] + (OFFSETS_Y * w + OFFSETS_X)[None, :]  # (K, 9)
    flat = np.asarray(image, np.float64).reshape(-1, 3)
    colours = flat[pix]  # (K, 9, 3)
    mu = colours.mean(axis=1, keepdims=True)
    c = colours - mu
    ct = c.transpose(0, 2, 1)
    cov = np.matmul(ct, c)
    cov[:, [0, 1, 2], [0, 1, 2]] += epsilon
    inv = _inv3(cov)  # (Σ + ε/9 I)^-1 / 9 == (9 Σ + ε I)^-1
    vals = np.matmul(np.matmul(c, inv), ct)
    vals += 1.0 / 9.0
    np.negative(vals, out=vals)
    vals[:, np.arange(9), np.arange(9)] += 1.0
    rows = index[pix]  # (K, 9) unknown index or -1
    row_b = np.broadcast_to(rows[:, :, None], vals.shape)
    col_pix = np.broadcast_to(pix[:, None, :], vals.shape)
    col_b = index[col_pix]
    keep_row = row_b >= 0
    uu = keep_row & (col_b >= 0)
    L = scipy.sparse.coo_matrix((vals[uu], (row_b[uu], col_b[uu])), shape=(n, n)).tocsr()
    fg = (trimap.ravel() == 255).astype(np.float64)
    uk = keep_row & (col_b < 0)
    b = -np.bincount(row_b[uk], weights=vals[uk] * fg[col_pix[uk]], minlength=n)
    return L, b, unknown
