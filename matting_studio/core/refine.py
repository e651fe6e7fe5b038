"""Image-guided refinement of the model's soft mask before the automatic trimap.

A salient-object model at 320 px draws the subject's outline with a broad brush: it fills the
gaps between leaves, the holes of a wicker ball, the sky between a plant's stems, and its
zoomed-out view (:mod:`.mask_views`) fills them even more. The photo itself
says better where those gaps are: their colours are the background's.

:func:`refine_mask` re-decides the subject with GrabCut (Rother et al. 2004; OpenCV's
``grabCut``): colour models (Gaussian mixtures) of subject and background, learnt from the
mask, and a contrast-sensitive smoothness term, iterated on a reduced copy of the photo. The
model keeps the last word where it is sure:

* where it is confident of the subject (mask ≥ ``sure_fg``, shrunk a little) GrabCut may not
  take anything away — an eye or a dark tuft whose colour resembles some background stays
  subject;
* where it is confident of the background (mask ≤ ``sure_bg``) nothing is added.

Where GrabCut and the mask disagree, the trimap does not take either side: those pixels
become unknown (the disagreement :func:`refine_mask` returns), and the matting backend
decides them from the colours around, with the pixels both agree on as its known foreground
and background.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class RefineParams:
    """Parameters of :func:`refine_mask` (global: no per-image tuning)."""

    size: int = 512
    """Longer side of the reduced photo GrabCut works on (its cost does not grow with the
    photo: ~0.1–0.3 s on 2 cores)."""
    iterations: int = 5
    sure_fg: float = 0.95
    """Mask level from which the model is sure of the subject (never taken away)."""
    sure_bg: float = 0.02
    """Mask level up to which the model is sure of the background (never added)."""
    sure_shrink: int = 2
    """The sure subject is shrunk by this many reduced-size pixels: its outline is the
    model's, blurred by 320 px, and stays GrabCut's to place."""
    unsure_grow: int = 2
    """Disagreements are grown by this many full-size pixels before they become unknown."""

    def __post_init__(self) -> None:
        if self.size < 16 or self.iterations < 1:
            raise ValueError("size must be ≥ 16 and iterations ≥ 1")
        if not 0.0 <= self.sure_bg < 0.5 < self.sure_fg <= 1.0:
            raise ValueError("need 0 ≤ sure_bg < 0.5 < sure_fg ≤ 1")


def grabcut_subject(mask: np.ndarray, rgb: np.ndarray, threshold: float = 0.5,
                    params: RefineParams = RefineParams()) -> np.ndarray | None:
    """GrabCut's subject (float32 0/1) at the reduced size, seeded by ``mask`` (float (h, w)
    0..1) on ``rgb`` (float (h, w, 3) 0..1); None when the mask leaves GrabCut nothing to
    learn from (no subject or no background)."""
    h, w = mask.shape
    f = min(1.0, params.size / max(h, w))
    size = (max(1, round(w * f)), max(1, round(h * f)))
    small_mask = cv2.resize(np.asarray(mask, np.float32), size, interpolation=cv2.INTER_AREA)
    small_rgb = cv2.resize(np.asarray(rgb, np.float32), size, interpolation=cv2.INTER_AREA)
    fg = small_mask >= threshold
    if not fg.any() or fg.all():
        return None
    labels = np.where(fg, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
    labels[small_mask <= params.sure_bg] = cv2.GC_BGD
    sure = (small_mask >= params.sure_fg).view(np.uint8)
    if params.sure_shrink > 0:
        k = 2 * params.sure_shrink + 1
        sure = cv2.erode(sure, np.ones((k, k), np.uint8))
    labels[sure.view(bool)] = cv2.GC_FGD
    if min(size) < 2:
        return None
    bgr = np.clip(np.rint(small_rgb[:, :, ::-1] * 255.0), 0, 255).astype(np.uint8)
    bgd = np.zeros((1, 65), np.float64)
    fgd = np.zeros((1, 65), np.float64)
    # GrabCut seeds its colour models with k-means, drawn from this thread's OpenCV random
    # generator: seed it so that a photo always gets the same trimap.
    cv2.setRNGSeed(0)
    try:
        cv2.grabCut(bgr, labels, None, bgd, fgd, params.iterations, cv2.GC_INIT_WITH_MASK)
    except cv2.error:  # a degenerate colour model (e.g. a single flat colour): keep the mask
        return None
    return ((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)).astype(np.float32)


def refine_mask(mask: np.ndarray, rgb: np.ndarray, threshold: float = 0.5,
                params: RefineParams = RefineParams()
                ) -> tuple[np.ndarray, np.ndarray | None]:
    """``(refined mask, disagreement)`` for a soft ``mask`` (float32 (h, w) 0..1) of ``rgb``.

    The refined mask is the model's own value wherever GrabCut takes the same side of
    ``threshold``, and GrabCut's decision (lightly smoothed) where it does not; the
    disagreement (bool (h, w), or None when GrabCut changed nothing or could not run) is where
    they differ, grown by ``params.unsure_grow`` pixels.
    """
    cut = grabcut_subject(mask, rgb, threshold, params)
    if cut is None:
        return mask, None
    h, w = mask.shape
    decided = cv2.resize(cv2.GaussianBlur(cut, (0, 0), 1.0), (w, h),
                         interpolation=cv2.INTER_LINEAR)
    np.clip(decided, 0.0, 1.0, out=decided)
    differ = (decided >= 0.5) != (mask >= threshold)
    if not differ.any():
        return mask, None
    refined = decided  # GrabCut's decision where they differ, the model's value elsewhere
    np.copyto(refined, mask, where=~differ)
    if params.unsure_grow > 0:
        k = 2 * params.unsure_grow + 1
        differ = cv2.dilate(differ.view(np.uint8), np.ones((k, k), np.uint8)).view(bool)
    return refined, differ
