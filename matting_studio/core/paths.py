"""Where Matting Studio keeps its per-user files (autosaves, downloaded models).

The platform's usual data folder (platformdirs): ``~/.local/share/matting-studio`` on Linux
(``$XDG_DATA_HOME`` honoured), ``%APPDATA%\\matting-studio`` on Windows,
``~/Library/Application Support/matting-studio`` on macOS. ``MATTING_STUDIO_DATA_DIR``
overrides it (tests, portable installs, studios with a shared disk).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "matting-studio"
DATA_DIR_ENV = "MATTING_STUDIO_DATA_DIR"


def data_dir() -> Path:
    """The per-user data folder (not created here)."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env)
    return platformdirs.user_data_path(APP_NAME, appauthor=False, roaming=True)


def autosave_dir(base: str | os.PathLike[str] | None = None) -> Path:
    """Autosaves of running and crashed editors: ``<data dir>/autosave``."""
    return (Path(base) if base is not None else data_dir()) / "autosave"


def models_dir(base: str | os.PathLike[str] | None = None) -> Path:
    """Downloaded segmentation models: ``<data dir>/models``."""
    return (Path(base) if base is not None else data_dir()) / "models"
