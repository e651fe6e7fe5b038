"""Backend registry and the checked entry point :func:`solve_alpha`."""

from __future__ import annotations

import logging
from typing import Callable, Protocol

import numpy as np

from ..errors import MattingError
from ..progress import CancelToken, ProgressFn, no_progress

log = logging.getLogger(__name__)


class Backend(Protocol):
    def __call__(
        self, image: np.ndarray, trimap: np.ndarray, *, progress: ProgressFn,
        cancel: CancelToken | None
    ) -> np.ndarray: ...


BACKENDS: dict[str, Backend] = {}
DESCRIPTIONS: dict[str, str] = {}
DEFAULT_BACKEND = "cf"


def register(name: str, description: str) -> Callable[[Backend], Backend]:
    """Decorator: make a backend available under ``name`` (CLI ``--matting NAME``)."""

    def deco(fn: Backend) -> Backend:
        BACKENDS[name] = fn
        DESCRIPTIONS[name] = description
        return fn

    return deco


def backend_names() -> list[str]:
    return list(BACKENDS)


MIN_SIDE = 5


def solve_alpha(
    image: np.ndarray,
    trimap: np.ndarray,
    backend: str = DEFAULT_BACKEND,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Alpha matte for ``image`` (float (h, w, 3), 0..1) inside ``trimap``'s unknown band.

    Returns float32 (h, w) in 0..1. Known pixels keep their trimap value exactly.
    Raises :class:`MattingError` for a bad backend name or mismatched shapes and
    :class:`~matting_studio.core.errors.Cancelled` when ``cancel`` fires.
    """
    progress = progress or no_progress
    if backend not in BACKENDS:
        raise MattingError(f"unknown matting method {backend!r}; choose one of: "
                           f"{', '.join(BACKENDS)}")
    if image.ndim != 3 or image.shape[2] != 3 or trimap.shape != image.shape[:2]:
        raise MattingError(f"image {image.shape} and trimap {trimap.shape} do not match")
    trimap = np.asarray(trimap, np.uint8)
    known_alpha = (trimap == 255).astype(np.float32)
    unknown = (trimap != 0) & (trimap != 255)
    if not unknown.any():
        progress(1.0, "matting")
        return known_alpha
    if not (trimap == 255).any():
        progress(1.0, "matting")
        return known_alpha  # nothing says "foreground": the unknown band is background
    if not (trimap == 0).any():
        progress(1.0, "matting")
        return np.where(unknown, 1.0, known_alpha).astype(np.float32)
    h, w = trimap.shape
    pad_y, pad_x = max(0, MIN_SIDE - h), max(0, MIN_SIDE - w)
    img = np.asarray(image, np.float64)
    tri = trimap
    if pad_y or pad_x:  # windowed affinities need a few pixels each way
        img = np.pad(img, ((0, pad_y), (0, pad_x), (0, 0)), mode="edge")
        tri = np.pad(tri, ((0, pad_y), (0, pad_x)), mode="edge")
    alpha = BACKENDS[backend](np.ascontiguousarray(img), tri, progress=progress, cancel=cancel)
    alpha = np.clip(np.asarray(alpha, np.float32)[:h, :w], 0.0, 1.0)
    alpha[~unknown] = known_alpha[~unknown]
    return alpha
