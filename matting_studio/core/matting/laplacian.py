"""Closed-form matting Laplacian of a crop, built only from windows that touch unknown pixels.

Pure numpy (no numba, no JIT warm-up): the CLI and the GUI pay no compile or cache-load time.
Unlike ``pymatting.cf_laplacian``, which allocates 25 entries per pixel of the whole image,
this builds rows for the unknown pixels only, so memory follows the unknown band.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sparse

OFFSETS_Y = np.repeat(np.arange(-1, 2), 3)
OFFSETS_X = np.tile(np.arange(-1, 2), 3)
BAND_DY = np.repeat(np.arange(-2, 3), 5)
BAND_DX = np.tile(np.arange(-2, 3), 5)
PAIR_OFFSET = ((OFFSETS_Y[None, :] - OFFSETS_Y[:, None] + 2) * 5
               + (OFFSETS_X[None, :] - OFFSETS_X[:, None] + 2))
"""(9, 9): which of the 25 offsets (row-major, dy then dx in −2..2) leads from window pixel
i to window pixel j."""
_DIAG = np.arange(9)
WINDOW_CHUNK = 8192


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
        return sparse.csr_matrix((n, n)), np.zeros(n), unknown
    # L is accumulated per (unknown row pixel, offset to the column pixel): columns lie within
    # ±2 pixels, 25 offsets, so a dense (n, 25) table replaces a COO list with K·81 duplicates.
    # Windows go in chunks so the temporaries stay small (fresh memory costs page faults).
    flat = np.asarray(image, np.float64).reshape(-1, 3)
    window = (OFFSETS_Y * w + OFFSETS_X)[None, :]
    acc = np.zeros(n * 25)
    for s0 in range(0, centres.size, WINDOW_CHUNK):
        pix = centres[s0:s0 + WINDOW_CHUNK, None] + window  # (c, 9)
        c = flat[pix]  # (c, 9, 3)
        c -= c.mean(axis=1, keepdims=True)
        ct = c.transpose(0, 2, 1)
        cov = np.matmul(ct, c)
        cov[:, [0, 1, 2], [0, 1, 2]] += epsilon
        inv = _inv3(cov)  # (Σ + ε/9 I)^-1 / 9 == (9 Σ + ε I)^-1
        vals = np.matmul(np.matmul(c, inv), ct)
        vals += 1.0 / 9.0
        np.negative(vals, out=vals)
        vals[:, _DIAG, _DIAG] += 1.0
        rows = index[pix]  # (c, 9) unknown index of the row pixel, or -1
        key = rows[:, :, None] * 25 + PAIR_OFFSET[None, :, :]
        keep = np.broadcast_to(rows[:, :, None] >= 0, key.shape)
        acc += np.bincount(key[keep], weights=vals[keep], minlength=n * 25)
    acc = acc.reshape(n, 25)
    cols_pix = unknown[:, None] + (BAND_DY * w + BAND_DX)[None, :]  # (n, 25) column pixels
    covered = acc != 0.0
    cols_pix = np.where(covered, cols_pix, 0)
    col_u = np.where(covered, index[cols_pix], -1)
    in_u = col_u >= 0
    # offsets are in row-major order, so the columns of each row come out sorted
    indptr = np.concatenate([[0], np.cumsum(in_u.sum(axis=1))])
    L = sparse.csr_matrix((acc[in_u], col_u[in_u], indptr), shape=(n, n))
    fg = trimap.ravel() == 255
    to_fg = covered & ~in_u & fg[cols_pix]
    b = -np.where(to_fg, acc, 0.0).sum(axis=1)
    return L, b, unknown
