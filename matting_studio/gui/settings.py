"""Persistent user settings (QSettings): window geometry, folders, brush, preview background."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

log = logging.getLogger(__name__)

ORGANIZATION = "MattingStudio"
APPLICATION = "Matting Studio"
MAX_RECENT = 8
BACKGROUNDS = ("checkerboard", "white", "black", "color")


class AppSettings:
    """Typed access to the app's QSettings.

    ``AppSettings()`` uses the platform's user settings; ``AppSettings(path)`` an INI file
    (tests pass a file under ``tmp_path``).
    """

    def __init__(self, path: str | Path | None = None):
        if path is None:
            self.qs = QSettings(ORGANIZATION, APPLICATION)
        else:
            self.qs = QSettings(str(path), QSettings.Format.IniFormat)

    def sync(self) -> None:
        self.qs.sync()

    # ------------------------------------------------------------------ helpers
    def _get(self, key: str, default, kind):
        value = self.qs.value(key, default)
        try:
            if kind is bool and isinstance(value, str):
                return value.lower() in ("1", "true", "yes")
            return kind(value)
        except (TypeError, ValueError):
            return default

    # ------------------------------------------------------------------ window
    def geometry(self) -> QByteArray | None:
        v = self.qs.value("window/geometry")
        return v if isinstance(v, QByteArray) and not v.isEmpty() else None

    def set_geometry(self, data: QByteArray) -> None:
        self.qs.setValue("window/geometry", data)

    def window_state(self) -> QByteArray | None:
        v = self.qs.value("window/state")
        return v if isinstance(v, QByteArray) and not v.isEmpty() else None

    def set_window_state(self, data: QByteArray) -> None:
        self.qs.setValue("window/state", data)

    # ------------------------------------------------------------------ files
    def last_folder(self) -> str:
        folder = self._get("files/last_folder", "", str)
        return folder if folder and Path(folder).is_dir() else str(Path.home())

    def set_last_folder(self, folder: str | Path) -> None:
        self.qs.setValue("files/last_folder", str(folder))

    def recent_files(self) -> list[str]:
        v = self.qs.value("files/recent", [])
        if isinstance(v, str):
            v = [v]
        return [str(p) for p in (v or [])][:MAX_RECENT]

    def add_recent_file(self, path: str | Path) -> list[str]:
        p = str(Path(path).resolve())
        files = [p] + [f for f in self.recent_files() if f != p]
        files = files[:MAX_RECENT]
        self.qs.setValue("files/recent", files)
        return files

    def clear_recent_files(self) -> None:
        self.qs.setValue("files/recent", [])

    # ------------------------------------------------------------------ editing
    def brush_size(self) -> int:
        """Brush diameter in screen pixels (the same on screen at any zoom, on any photo)."""
        return max(1, self._get("brush/screen_size", 24, int))

    def set_brush_size(self, size: int) -> None:
        self.qs.setValue("brush/screen_size", int(size))

    def preview_background(self) -> str:
        bg = self._get("preview/background", "checkerboard", str)
        return bg if bg in BACKGROUNDS else "checkerboard"

    def set_preview_background(self, name: str) -> None:
        self.qs.setValue("preview/background", name)

    def preview_color(self) -> str:
        return self._get("preview/color", "#3a7bd5", str)

    def set_preview_color(self, name: str) -> None:
        self.qs.setValue("preview/color", name)

    def overlay_opacity(self) -> int:
        return min(max(self._get("view/overlay_opacity", 35, int), 0), 100)

    def set_overlay_opacity(self, percent: int) -> None:
        self.qs.setValue("view/overlay_opacity", int(percent))

    def steps_expanded(self) -> bool:
        return self._get("view/steps_expanded", True, bool)

    def set_steps_expanded(self, on: bool) -> None:
        self.qs.setValue("view/steps_expanded", bool(on))

    def check_here(self) -> bool:
        return self._get("view/check_here", False, bool)

    def set_check_here(self, on: bool) -> None:
        self.qs.setValue("view/check_here", bool(on))

    def overlay_visible(self) -> bool:
        return self._get("view/overlay_visible", True, bool)

    def set_overlay_visible(self, on: bool) -> None:
        self.qs.setValue("view/overlay_visible", bool(on))
