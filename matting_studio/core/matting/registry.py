"""Backend registry and the checked entry point :func:`solve_alpha`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

import numpy as np

from ..errors import MattingError
from ..progress import CancelToken, ProgressFn, no_progress

log = logging.getLogger(__name__)


class Backend(Protocol):
    """A crop solver: ``fn(image float64 (h, w, 3), trimap uint8, *, progress, cancel,
    x0=None) -> float32 alpha``. :func:`solve_alpha` hands it crops of the unknown band
    (tiles, possibly at a reduced size), never necessarily the whole photo."""

    def __call__(
        self, image: np.ndarray, trimap: np.ndarray, *, progress: ProgressFn,
        cancel: CancelToken | None, x0: np.ndarray | None = None
    ) -> np.ndarray: ...


BACKENDS: dict[str, Backend] = {}
DESCRIPTIONS: dict[str, str] = {}
DEFAULT_BACKEND = "ifm"


def register(name: str, description: str) -> Callable[[Backend], Backend]:
    """Decorator: make a backend available under ``name`` (CLI ``--matting NAME``)."""

    def deco(fn: Backend) -> Backend:
        BACKENDS[name] = fn
        DESCRIPTIONS[name] = description
        return fn

    return deco


class LazyBackend:
    """A registered backend whose module is imported on first use.

    A backend's module (and what it imports, e.g. scipy.sparse) is loaded only when the backend
    is used or preloaded. Importing the module runs its own ``@register``, which replaces this
    placeholder in :data:`BACKENDS`.
    """

    def __init__(self, name: str, module: str, attr: str):
        self.name, self.module, self.attr = name, module, attr

    def load(self) -> Backend:
        import importlib

        try:
            fn = getattr(importlib.import_module(self.module, __package__), self.attr)
        except (ImportError, AttributeError) as e:
            raise MattingError(f"matting method {self.name!r} is not available ({e})") from e
        BACKENDS[self.name] = fn
        return fn

    def __call__(self, image, trimap, **kwargs):
        return self.load()(image, trimap, **kwargs)


UNKNOWN_BUDGETS: dict[str, int] = {}
"""Unknown pixels a backend solves at full size before :func:`solve_alpha` goes
coarse-to-fine (default :class:`~.multiscale.ScaleParams`); slower backends get less, so that
every backend answers a 24 MP photo in about the same time."""


TILE_PARAMS: dict = {}
"""Per-backend :class:`~.tiling.TileParams` (default: 128 px cores). Backends whose affinities
reach far (ifm's non-local flows) lose accuracy at tile seams and get bigger tiles."""


MIN_PIXELS: dict[str, int] = {}
"""Per-backend :attr:`~.multiscale.ScaleParams.min_pixels` (default 0: reduce as the budget
says). ``cf`` keeps no floor: a full-size closed-form solve of a wide band means tiles that
grow to find known pixels and crops too big for its direct solver."""


def register_lazy(name: str, description: str, module: str, attr: str) -> None:
    """Register ``module.attr`` (a backend) under ``name`` without importing it yet."""
    BACKENDS[name] = LazyBackend(name, module, attr)  # type: ignore[assignment]
    DESCRIPTIONS[name] = description


def load_backend(name: str) -> None:
    """Import a lazily registered backend now, on this thread (nothing for a loaded one).

    The CLI does this while its loader thread decodes the photo, so the import of
    scipy.sparse and the k-d tree overlaps the decoding. Raises :class:`MattingError` if it
    cannot be imported.
    """
    fn = BACKENDS.get(name)
    if isinstance(fn, LazyBackend):
        fn.load()


def preload(name: str) -> threading.Thread | None:  # noqa: F821
    """Import a lazily registered backend in a background thread (None if nothing to do).

    For idle time (the GUI at start-up, while the user picks a photo). The CLI uses
    :func:`load_backend` on its main thread instead: a third thread's import would compete with
    decoding for the GIL.
    Failures are left for the real call to report.
    """
    import threading

    fn = BACKENDS.get(name)
    if not isinstance(fn, LazyBackend):
        return None

    def load() -> None:
        try:
            fn.load()
        except Exception:
            log.debug("preloading matting method %s failed", name, exc_info=True)

    thread = threading.Thread(target=load, name=f"preload-{name}")
    thread.start()
    return thread


def backend_names() -> list[str]:
    return list(BACKENDS)


MIN_SIDE = 5


def solve_alpha(
    image: np.ndarray,
    trimap: np.ndarray,
    backend: str = DEFAULT_BACKEND,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
    *,
    scale: ScaleParams | None = None,  # noqa: F821
    x0: np.ndarray | None = None,
) -> np.ndarray:
    """Alpha matte for ``image`` (float (h, w, 3), 0..1) inside ``trimap``'s unknown band.

    Any size: the band is solved tile by tile, and coarse-to-fine beyond
    ``scale.max_unknown`` unknown pixels (:mod:`.multiscale`), with the backend as crop solver.
    ``image`` may be float32; crops are converted to float64 one at a time. ``x0`` (float
    (h, w)) is a previous alpha that warm-starts iterative backends.

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
    fg, bg = trimap == 255, trimap == 0
    unknown = ~(fg | bg)
    if not unknown.any() or not fg.any():
        # nothing to solve, or nothing says "foreground": the unknown band is background
        progress(1.0, "matting")
        return fg.astype(np.float32)
    if not bg.any():
        progress(1.0, "matting")
        return (~bg).astype(np.float32)
    from .multiscale import ScaleParams, solve_multiscale

    h, w = trimap.shape
    pad_y, pad_x = max(0, MIN_SIDE - h), max(0, MIN_SIDE - w)
    img = image if image.dtype in (np.float32, np.float64) else np.asarray(image, np.float32)
    tri = trimap
    if pad_y or pad_x:  # windowed affinities need a few pixels each way
        img = np.pad(img, ((0, pad_y), (0, pad_x), (0, 0)), mode="edge")
        tri = np.pad(tri, ((0, pad_y), (0, pad_x)), mode="edge")
        if x0 is not None:
            x0 = np.pad(x0, ((0, pad_y), (0, pad_x)), mode="edge")
    if scale is None:
        scale = ScaleParams()
        scale = ScaleParams(max_unknown=UNKNOWN_BUDGETS.get(backend, scale.max_unknown),
                            tiles=TILE_PARAMS.get(backend, scale.tiles),
                            min_pixels=MIN_PIXELS.get(backend, scale.min_pixels))
    alpha = solve_multiscale(img, tri, BACKENDS[backend], params=scale,
                             progress=progress, cancel=cancel, x0=x0)
    alpha = np.asarray(alpha, np.float32)
    if pad_y or pad_x:
        alpha = np.ascontiguousarray(alpha[:h, :w])
    np.clip(alpha, 0.0, 1.0, out=alpha)
    # known pixels keep their trimap value exactly (masked writes: no index arrays at 24 MP)
    np.copyto(alpha, np.float32(1.0), where=fg)
    np.copyto(alpha, np.float32(0.0), where=bg)
    return alpha
