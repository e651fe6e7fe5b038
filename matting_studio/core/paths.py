"""Where Matting Studio keeps its per-user files.

One place for the data folder, shared by every part of the application (downloaded models,
and in time autosaves and anything else kept between runs):

* ``$MATTING_STUDIO_DATA_DIR`` when set (tests, portable installs, studios with a shared disk);
* otherwise the platform's usual place, from :mod:`platformdirs`: ``~/.local/share/matting-studio``
  (or ``$XDG_DATA_HOME/matting-studio``) on Linux, ``~/Library/Application Support/matting-studio``
  on macOS, ``%APPDATA%\\matting-studio`` on Windows.

Nothing here creates a folder: callers create what they write into, when they write.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "matting-studio"
DATA_DIR_ENV = "MATTING_STUDIO_DATA_DIR"


def data_dir() -> Path:
    """The per-user data folder (see the module docstring)."""
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_path

    # roaming=True keeps Windows on %APPDATA%, where autosaves have always been.
    return user_data_path(APP_NAME, appauthor=False, roaming=True)


def models_dir() -> Path:
    """Folder of the models downloaded with ``matting-studio models get``."""
    return data_dir() / "models"
