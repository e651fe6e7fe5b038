"""Everything that decides a cut-out besides the photo and the strokes."""

from __future__ import annotations

from dataclasses import dataclass, field

from .auto_trimap import AdaptiveTrimapParams
from .edges import EdgeParams
from .matting import BACKENDS, DEFAULT_BACKEND
from .trimap import TrimapParams
from .trimap_presets import DEFAULT_TRIMAP_PRESET, trimap_preset


@dataclass(frozen=True)
class PipelineSettings:
    """The pipeline's settings, checked when made (a bad value is a ValueError naming it)."""

    trimap: TrimapParams = field(default_factory=TrimapParams)
    """Parameters of the classic erode/dilate trimap (used when ``trimap_preset`` is "classic")."""
    backend: str = DEFAULT_BACKEND
    trimap_preset: str = DEFAULT_TRIMAP_PRESET
    """The automatic trimap's method, a name of :data:`~.trimap_presets.TRIMAP_PRESETS`."""
    adaptive: AdaptiveTrimapParams = field(default_factory=AdaptiveTrimapParams)
    mask_tta: bool = True
    """Run the model on the image and its mirror image and combine the answers."""
    model_path: str | None = None
    preset: str | None = None
    edges: EdgeParams = field(default_factory=EdgeParams)
    """Edge adjustments applied to every alpha after matting (:mod:`.edges`)."""

    def __post_init__(self) -> None:
        trimap_preset(self.trimap_preset)  # ValueError naming the choices
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown matting method {str(self.backend)[:40]!r}; choose one "
                             f"of: {', '.join(BACKENDS)}")
        if not isinstance(self.mask_tta, bool):
            raise ValueError("mask_tta must be true or false")
        if not isinstance(self.edges, EdgeParams):
            raise ValueError("edges must be EdgeParams")
