"""Locate bundled resources both from an installed wheel and from a source checkout."""

from __future__ import annotations

import sys
from pathlib import Path


def resource_path(name: str) -> Path:
    """Return the path of a bundled resource file (icon, sample photo).

    Looks in the installed ``matting_studio.resources`` package, in a PyInstaller bundle,
    and in the repository's ``resources/`` folder, in that order.
    """
    candidates: list[Path] = []
    try:
        from importlib.resources import files

        candidates.append(Path(str(files("matting_studio.resources").joinpath(name))))
    except (ModuleNotFoundError, TypeError):
        pass
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.append(Path(bundle) / "matting_studio" / "resources" / name)
    candidates.append(Path(__file__).resolve().parent.parent / "resources" / name)
    for c in candidates:
        if c.is_file():
            return c
    raise FileNotFoundError(f"bundled resource {name!r} is missing from this installation")


SAMPLE_PHOTO = "sample_astronaut.jpg"
APP_ICON = "matting-studio.svg"
