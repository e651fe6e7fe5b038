"""Triage: which photos of a shoot, and which regions of a photo, most likely need a fix.

Everything here is computed from evidence the automatic pipeline already has, at a reduced
working resolution (``TriageParams.work_side``), in a few milliseconds per photo:

* the model's two answers under test-time augmentation, on the photo and on its mirror
  image (:func:`~.mask_views.model_views`), whose union ``m = max(a, b)`` is the mask;
* the solved alpha and the photo it was solved on (any size: a preview's will do).

Each pixel gets a *risk*, an estimate of its absolute alpha error (alpha units, 0..1), as the
sum of three terms with fixed weights:

``uncertainty = |alpha − m|``
    The matte's disagreement with the model's probability. Outside the unknown band the
    alpha is 0 or 1 and this is ``min(m, 1 − m)``, the expected error of the model's own
    decision if ``m`` were a calibrated probability; inside the band it measures how far the
    matting moved away from what the model believed.
``disagreement = ½ · min(|a − b|, 1 − m)``
    Half the disagreement of the two views: the mask would move by ``|a − b| / 2`` had the
    views been averaged instead of united. It is capped by the union's own doubt ``1 − m``,
    because where one view is sure of the subject the union trusts it by design (the model
    mostly fails by missing parts of the subject, see :mod:`.auto_trimap`).
``residual = |alpha − G(alpha)|``
    The matte's residual under the local colour-line model: ``G`` is a guided filter (He et
    al.) of the alpha with the photo as guide, the best locally affine function of the
    colours. A transition the colours do not explain (a cut through a uniform region, a
    smeared band) leaves a residual.

The photo's **score** is the mean risk: an estimate of the mean absolute alpha error, i.e.
of the share of the image that is wrong (higher = "likely needs a fix"; 0.01 ≈ 1 %). The
**overlay** ("check here") marks where the risk, smoothed over about 1 % of the image
side, exceeds ``overlay_threshold``.

What it cannot see: a part of the subject that the model confidently calls background in
both views (or the reverse) with a clean colour edge at the cut. Such a photo scores as well
as a good one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class TriageParams:
    """Parameters of :func:`triage` (global: no per-image tuning)."""

    work_side: int = 320
    """Longest side of the working grid in pixels (the model's own resolution)."""
    residual_radius: float = 0.006
    """Window radius of the guided filter, as a fraction of the working grid's longest side
    (2 px at 320 px: a 5×5 window)."""
    residual_eps: float = 1e-3
    """Regulariser of the guided filter (colour variance below it counts as flat)."""
    overlay_sigma: float = 0.01
    """Smoothing of the risk before the overlay's threshold, as a fraction of the longest side."""
    overlay_threshold: float = 0.05
    """Smoothed risk above which a pixel is marked "check here"."""
    overlay_min_area: float = 2e-4
    """Marked regions smaller than this share of the image are dropped (specks)."""

    def __post_init__(self) -> None:
        if self.work_side < 8:
            raise ValueError("work_side must be at least 8")
        if self.residual_radius <= 0 or self.residual_eps <= 0:
            raise ValueError("residual_radius and residual_eps must be > 0")
        if self.overlay_sigma < 0 or not 0.0 < self.overlay_threshold < 1.0:
            raise ValueError("overlay_sigma must be ≥ 0 and overlay_threshold in (0, 1)")
        if not 0.0 <= self.overlay_min_area < 1.0:
            raise ValueError("overlay_min_area must be in [0, 1)")


@dataclass(frozen=True, eq=False)
class TriageResult:
    """What :func:`triage` found. Arrays are on the working grid (see ``risk.shape``)."""

    score: float
    """Mean risk: estimated mean absolute alpha error (0..1). Higher = likely needs a fix."""
    uncertainty: float
    """Mean of the uncertainty term (matte vs the model's probability)."""
    disagreement: float
    """Mean of the disagreement term (mirror-image views)."""
    residual: float
    """Mean of the residual term (colour-line model)."""
    risk: np.ndarray
    """float32 (h, w): per-pixel estimated absolute alpha error, 0..1."""
    overlay: np.ndarray
    """bool (h, w): "check here" (see :func:`overlay_at`)."""

    @property
    def overlay_share(self) -> float:
        """Share of the image the overlay marks."""
        return float(self.overlay.mean()) if self.overlay.size else 0.0


def triage(rgb: np.ndarray, alpha: np.ndarray,
           views: Sequence[np.ndarray] | None = None,
           painted: np.ndarray | None = None,
           params: TriageParams = TriageParams()) -> TriageResult:
    """Estimated quality of a cut-out and where it is most likely wrong.

    Parameters
    ----------
    rgb : float (h, w, 3) 0..1 or uint8
        The photo (any resolution; a preview is enough).
    alpha : float (h', w') 0..1 or uint8
        The solved alpha, the same aspect ratio as ``rgb`` (any resolution).
    views : sequence of one or two float arrays 0..1, or None
        The model's answers at its own resolution: ``model_views(model, rgb)`` (two: the
        photo and its mirror image, flipped back) or one mask. None when there is no model
        mask (the user supplied the trimap): only the residual counts then.
    painted : bool array, optional
        Pixels the user decided with subject / background strokes (any resolution, the same
        aspect ratio): their risk is 0.
    params : TriageParams

    Returns
    -------
    TriageResult
    """
    if rgb.ndim != 3 or rgb.shape[2] < 3:
        raise ValueError(f"rgb must be (h, w, 3), got shape {rgb.shape}")
    if alpha.ndim != 2:
        raise ValueError(f"alpha must be 2-D, got shape {alpha.shape}")
    h, w = rgb.shape[:2]
    size = work_size((h, w), params.work_side)
    guide = _unit(_resize(rgb[:, :, :3], size))
    a_w = np.clip(_unit(_resize(alpha, size)), 0.0, 1.0)
    if not (np.isfinite(guide).all() and np.isfinite(a_w).all()):
        raise ValueError("rgb and alpha must be finite")

    zero = np.zeros(a_w.shape, np.float32)
    unc, dis = zero, zero
    if views is not None:
        if not 1 <= len(views) <= 2:
            raise ValueError(f"expected one or two model views, got {len(views)}")
        vs = [np.clip(np.nan_to_num(_resize(_unit(v), size, cv2.INTER_LINEAR)), 0.0, 1.0)
              for v in views]
        m = vs[0] if len(vs) == 1 else np.maximum(vs[0], vs[1])
        unc = np.abs(a_w - m)
        if len(vs) == 2:
            dis = 0.5 * np.minimum(np.abs(vs[0] - vs[1]), 1.0 - m)
    radius = max(1, round(params.residual_radius * max(size)))
    res = np.abs(a_w - np.clip(guided_filter(guide, a_w, radius, params.residual_eps), 0, 1))

    if painted is not None:
        if painted.ndim != 2:
            raise ValueError(f"painted must be 2-D, got shape {painted.shape}")
        keep = _resize(painted.astype(np.uint8), size, cv2.INTER_NEAREST) == 0
        unc, dis, res = unc * keep, dis * keep, res * keep
    risk = np.clip(unc + dis + res, 0.0, 1.0).astype(np.float32)
    return TriageResult(score=float(risk.mean()), uncertainty=float(unc.mean()),
                        disagreement=float(dis.mean()), residual=float(res.mean()),
                        risk=risk, overlay=_overlay(risk, params))


def work_size(shape: tuple[int, int], side: int) -> tuple[int, int]:
    """(width, height) of the working grid for an image of ``shape`` = (h, w): longest side
    ``side`` (never larger than the image), aspect ratio kept."""
    h, w = shape
    s = min(1.0, side / max(h, w, 1))
    return max(1, round(w * s)), max(1, round(h * s))


def overlay_at(overlay: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The working-grid overlay brought to ``shape`` = (h, w): bool, nearest neighbour."""
    h, w = shape
    return cv2.resize(overlay.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0


@dataclass(frozen=True)
class Hotspot:
    """A place to look at, as a box in image pixels of the shape given to :func:`hotspots`."""

    x: int
    y: int
    width: int
    height: int
    risk: float
    """Estimated error mass inside the box (sum of the risk, in image pixels)."""


def hotspots(result: TriageResult, shape: tuple[int, int], limit: int = 5,
             box: float = 0.2) -> list[Hotspot]:
    """Up to ``limit`` places to look at, most estimated error first: square boxes of side
    ``box`` × the longest side, centred in the overlay where they hold the most risk, in an
    image of ``shape`` = (h, w): where the editor can zoom to, one after the other. Their
    centres lie at least 0.6 box sides apart (in x or in y).
    """
    risk = result.risk
    gh, gw = risk.shape
    half = max(1, round(box * max(gh, gw) / 2))
    # risk mass of the box centred on each pixel (zero padding: boxes reach past the border)
    mass = cv2.boxFilter(risk, -1, (2 * half + 1, 2 * half + 1), normalize=False,
                         borderType=cv2.BORDER_CONSTANT)
    mass = np.where(result.overlay, mass, -1.0)
    sy, sx = shape[0] / gh, shape[1] / gw
    out = []
    for _ in range(max(0, limit)):
        k = int(np.argmax(mass))
        y, x = divmod(k, gw)
        if mass[y, x] <= 0:
            break
        y0, y1 = max(0, y - half), min(gh, y + half + 1)
        x0, x1 = max(0, x - half), min(gw, x + half + 1)
        iy0, ix0 = int(np.floor(y0 * sy)), int(np.floor(x0 * sx))
        iy1, ix1 = min(shape[0], int(np.ceil(y1 * sy))), min(shape[1], int(np.ceil(x1 * sx)))
        out.append(Hotspot(ix0, iy0, ix1 - ix0, iy1 - iy0, float(mass[y, x]) * sx * sy))
        q = half // 2
        mass[max(0, y - half - q):y + half + q + 1, max(0, x - half - q):x + half + q + 1] = -1.0
    return out


def guided_filter(guide: np.ndarray, p: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """He et al.'s guided filter of ``p`` (float32 (h, w)) with a colour ``guide``
    (float32 (h, w, 3)): per window the best affine function of the colours, averaged."""
    def box(x: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(x, -1, (2 * radius + 1, 2 * radius + 1), normalize=True,
                             borderType=cv2.BORDER_REPLICATE)

    guide = np.ascontiguousarray(guide, np.float32)
    p = np.ascontiguousarray(p, np.float32)
    mean_i = [box(guide[:, :, c]) for c in range(3)]
    mean_p = box(p)
    cov = [box(guide[:, :, c] * p) - mean_i[c] * mean_p for c in range(3)]

    def var(i: int, j: int) -> np.ndarray:
        v = box(guide[:, :, i] * guide[:, :, j]) - mean_i[i] * mean_i[j]
        return v + np.float32(eps) if i == j else v

    # Solve the symmetric positive definite 3×3 systems by their adjugate (Cramer's rule):
    # elementwise, several times faster than a batched np.linalg.solve.
    rr, rg, rb, gg, gb, bb = var(0, 0), var(0, 1), var(0, 2), var(1, 1), var(1, 2), var(2, 2)
    inv_rr, inv_rg, inv_rb = gg * bb - gb * gb, gb * rb - rg * bb, rg * gb - gg * rb
    inv_gg, inv_gb, inv_bb = rr * bb - rb * rb, rg * rb - rr * gb, rr * gg - rg * rg
    det = rr * inv_rr + rg * inv_rg + rb * inv_rb
    a = [(inv_rr * cov[0] + inv_rg * cov[1] + inv_rb * cov[2]) / det,
         (inv_rg * cov[0] + inv_gg * cov[1] + inv_gb * cov[2]) / det,
         (inv_rb * cov[0] + inv_gb * cov[1] + inv_bb * cov[2]) / det]
    b = mean_p - a[0] * mean_i[0] - a[1] * mean_i[1] - a[2] * mean_i[2]
    return box(a[0]) * guide[:, :, 0] + box(a[1]) * guide[:, :, 1] + box(a[2]) * guide[:, :, 2] \
        + box(b)


def _overlay(risk: np.ndarray, params: TriageParams) -> np.ndarray:
    sigma = params.overlay_sigma * max(risk.shape)
    smooth = cv2.GaussianBlur(risk, (0, 0), sigma) if sigma >= 0.3 else risk
    marked = (smooth > params.overlay_threshold).astype(np.uint8)
    min_px = params.overlay_min_area * risk.size
    if min_px >= 1 and marked.any():
        _, labels, stats, _ = cv2.connectedComponentsWithStats(marked, 8)
        small = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] < min_px)
        small = small[small > 0]
        if small.size:
            marked[np.isin(labels, small)] = 0
    return marked > 0


def _unit(x: np.ndarray) -> np.ndarray:
    """float32 0..1 from uint8 0..255, uint16 0..65535 or float."""
    if x.dtype == np.uint8:
        return x.astype(np.float32) * np.float32(1 / 255)
    if x.dtype == np.uint16:
        return x.astype(np.float32) * np.float32(1 / 65535)
    return np.asarray(x, np.float32)


def _resize(x: np.ndarray, size: tuple[int, int], interp: int = cv2.INTER_AREA) -> np.ndarray:
    """``x`` at ``size`` = (width, height); INTER_AREA when shrinking, linear when growing.

    A photo far larger than ``size`` is first decimated to at least 4× ``size`` (every k-th
    pixel), so that the area average reads a few MB instead of a whole 24 MP photo.
    """
    if interp == cv2.INTER_AREA:
        k = min(x.shape[0] // (4 * size[1]), x.shape[1] // (4 * size[0]))
        if k >= 2:
            x = x[k // 2::k, k // 2::k]
    x = np.ascontiguousarray(x)
    if (x.shape[1], x.shape[0]) == size:
        return x
    if interp == cv2.INTER_AREA and (x.shape[1] < size[0] or x.shape[0] < size[1]):
        interp = cv2.INTER_LINEAR
    return cv2.resize(x, size, interpolation=interp)
