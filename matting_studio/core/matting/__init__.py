"""Alpha matting backends behind one interface, plus a small registry and a scale-aware driver.

A backend is a *crop solver* ``solve(image, trimap, *, progress, cancel, x0=None) -> alpha``
where ``image`` is float64 (h, w, 3) in 0..1, ``trimap`` uint8 (h, w) with 0/128/255, and
``alpha`` float32 (h, w) in 0..1 equal to the trimap on known pixels. Use :func:`solve_alpha`,
which checks inputs, handles trivial and tiny cases and drives the registered backend over
tiles of the unknown band, coarse-to-fine beyond a budget (:mod:`.tiling`, :mod:`.multiscale`).
:mod:`.interactive` re-solves the region of one stroke; :func:`warmup` pays start-up costs.
"""

from __future__ import annotations

from .registry import (
    BACKENDS,
    DEFAULT_BACKEND,
    MIN_PIXELS,
    TILE_PARAMS,
    UNKNOWN_BUDGETS,
    backend_names,
    load_backend,
    preload,
    register,
    register_lazy,
    solve_alpha,
)
from .tiling import TileParams
from .warmup import warmup

# each backend's module is imported on first use (scipy.sparse and the k-d tree)
register_lazy("cf", "closed-form matting (Levin et al.)", ".cf", "solve_cf")
register_lazy("knn", "KNN matting (Chen et al.): non-local nearest-neighbour Laplacian", ".knn",
              "solve_knn")
register_lazy("ifm", "information-flow matting (Aksoy et al.): closed-form + colour-mixture "
              "+ intra-unknown flows, PCG", ".ifm", "solve_ifm")
# ifm's full-size budget (cf keeps ScaleParams' default): beyond it a camera-size band is solved
# reduced. Time follows the budget while the matte's error barely moves between 16k and 26k
# unknowns, a few per cent either way from photo to photo (ADR 0009)
UNKNOWN_BUDGETS["ifm"] = 20_000
# ...but ifm never reduces a photo of up to 1.5 MP below 0.5 MP: there the reduction alone loses
# the fur and hair matting is for (ADR 0008)
MIN_PIXELS["ifm"] = 500_000
# ifm's non-local flows reach far: small tiles cut them at the seams (ADR 0008)
TILE_PARAMS["ifm"] = TileParams(tile=1024, margin=24)

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "backend_names", "load_backend", "preload", "register",
           "solve_alpha", "warmup"]
