"""The automatic trimap's methods, by name: one registry for the CLI, the editor and projects.

A preset turns the model's soft mask (and the photo) into a trimap, reading its parameters
from the :class:`~matting_studio.core.pipeline.PipelineSettings`. Adding a method is one
:func:`register` call; the command line's ``--trimap-preset`` choices, the editor's method
menu and the project loader's check all come from :data:`TRIMAP_PRESETS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .auto_trimap import automatic_trimap
from .trimap import BACKGROUND, make_trimap

TrimapMaker = Callable[[np.ndarray, np.ndarray, Any], np.ndarray]
"""``make(mask float32 (h, w) 0..1, rgb float32 (h, w, 3), settings) -> uint8 trimap``."""


@dataclass(frozen=True)
class TrimapPreset:
    name: str
    label: str
    """Short name in the editor's menu."""
    help: str
    """One line for ``--help`` and tooltips."""
    make: TrimapMaker


TRIMAP_PRESETS: dict[str, TrimapPreset] = {}
DEFAULT_TRIMAP_PRESET = "adaptive"


def register(preset: TrimapPreset) -> TrimapPreset:
    TRIMAP_PRESETS[preset.name] = preset
    return preset


def trimap_preset(name: str) -> TrimapPreset:
    """The preset called ``name``; ValueError naming the choices otherwise."""
    try:
        return TRIMAP_PRESETS[name]
    except (KeyError, TypeError):
        choices = ", ".join(TRIMAP_PRESETS)
        raise ValueError(f"unknown trimap preset {str(name)[:40]!r}; choose one of: {choices}") \
            from None


register(TrimapPreset(
    "adaptive", "Adaptive",
    "unknown band shaped by the mask's confidence and the image's edges",
    lambda mask, rgb, settings: automatic_trimap(mask, rgb, settings.adaptive)))
register(TrimapPreset(
    "classic", "Classic",
    "binarised mask eroded / dilated with an elliptical kernel (kernel size, iterations)",
    lambda mask, rgb, settings: make_trimap(mask, settings.trimap)))


def auto_trimap(image, mask: np.ndarray, settings) -> np.ndarray:
    """The automatic trimap of ``image`` (a LoadedImage) from the model ``mask`` with the
    settings' preset, plus the file's own transparency: pixels fully transparent in an RGBA
    source are sure background (whatever colour they hold was never meant to be seen)."""
    trimap = trimap_preset(settings.trimap_preset).make(mask, image.rgb, settings)
    if image.source_alpha is not None:
        trimap[image.source_alpha <= 1.0 / 255.0] = BACKGROUND
    return trimap
