"""Before Qt starts: are the system libraries of Qt's X11 (xcb) platform plugin installed?

Without them Qt aborts the whole process with a message that often names the wrong library
("xcb-cursor0 … is needed" when libxcb-icccm4 is the one missing) and no way to fix it. This
module names every missing library and the one package-manager command that installs them.
It never imports Qt (the point is to run before Qt loads anything) and stays silent whenever
it cannot tell: a missed warning costs the user Qt's message, a false alarm would lock them out.
"""

from __future__ import annotations

import ctypes.util
import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SystemLibrary:
    """A shared library Qt needs, with the package that ships it on each distribution family."""

    soname: str
    apt: str  # Debian, Ubuntu, Mint …
    dnf: str  # Fedora, RHEL, Rocky …
    pacman: str  # Arch, Manjaro …


# What Qt's xcb plugin (libqxcb.so), its libQt6XcbQpa and libQt6Gui load (readelf -d … NEEDED),
# less the C/C++ runtime that every system has.
XCB_LIBRARIES: tuple[SystemLibrary, ...] = (
    SystemLibrary("libxcb-cursor.so.0", "libxcb-cursor0", "xcb-util-cursor", "xcb-util-cursor"),
    SystemLibrary("libxcb-icccm.so.4", "libxcb-icccm4", "xcb-util-wm", "xcb-util-wm"),
    SystemLibrary("libxcb-image.so.0", "libxcb-image0", "xcb-util-image", "xcb-util-image"),
    SystemLibrary("libxcb-keysyms.so.1", "libxcb-keysyms1", "xcb-util-keysyms",
                  "xcb-util-keysyms"),
    SystemLibrary("libxcb-render-util.so.0", "libxcb-render-util0", "xcb-util-renderutil",
                  "xcb-util-renderutil"),
    SystemLibrary("libxcb-util.so.1", "libxcb-util1", "xcb-util", "xcb-util"),
    SystemLibrary("libxkbcommon-x11.so.0", "libxkbcommon-x11-0", "libxkbcommon-x11",
                  "libxkbcommon-x11"),
    SystemLibrary("libxkbcommon.so.0", "libxkbcommon0", "libxkbcommon", "libxkbcommon"),
    SystemLibrary("libxcb.so.1", "libxcb1", "libxcb", "libxcb"),
    SystemLibrary("libxcb-randr.so.0", "libxcb-randr0", "libxcb", "libxcb"),
    SystemLibrary("libxcb-render.so.0", "libxcb-render0", "libxcb", "libxcb"),
    SystemLibrary("libxcb-shape.so.0", "libxcb-shape0", "libxcb", "libxcb"),
    SystemLibrary("libxcb-shm.so.0", "libxcb-shm0", "libxcb", "libxcb"),
    SystemLibrary("libxcb-sync.so.1", "libxcb-sync1", "libxcb", "libxcb"),
    SystemLibrary("libxcb-xfixes.so.0", "libxcb-xfixes0", "libxcb", "libxcb"),
    SystemLibrary("libxcb-xkb.so.1", "libxcb-xkb1", "libxcb", "libxcb"),
    SystemLibrary("libX11.so.6", "libx11-6", "libX11", "libx11"),
    SystemLibrary("libX11-xcb.so.1", "libx11-xcb1", "libX11-xcb", "libx11"),
    SystemLibrary("libEGL.so.1", "libegl1", "libglvnd-egl", "libglvnd"),
    SystemLibrary("libGL.so.1", "libgl1", "libglvnd-glx", "libglvnd"),
    SystemLibrary("libfontconfig.so.1", "libfontconfig1", "fontconfig", "fontconfig"),
    SystemLibrary("libfreetype.so.6", "libfreetype6", "freetype", "freetype2"),
    SystemLibrary("libglib-2.0.so.0", "libglib2.0-0", "glib2", "glib2"),
    SystemLibrary("libgthread-2.0.so.0", "libglib2.0-0", "glib2", "glib2"),
)

INSTALL_COMMANDS = {"apt": "apt install", "dnf": "dnf install", "pacman": "pacman -S --needed"}

# /etc/os-release ID / ID_LIKE words → package manager
_FAMILIES = {
    "debian": "apt", "ubuntu": "apt",
    "fedora": "dnf", "rhel": "dnf", "centos": "dnf",
    "arch": "pacman",
}

LibraryFinder = Callable[[str], "bool | None"]
"""soname → True (found), False (missing) or None (cannot tell on this system)."""


# ---------------------------------------------------------------------------- when to check
def uses_xcb(environ: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """Whether Qt is going to start its X11 (xcb) platform plugin.

    Only on Linux; an explicit ``QT_QPA_PLATFORM`` decides (its first entry: ``xcb`` yes,
    ``offscreen`` / ``wayland`` / … no); otherwise X11 is used when ``DISPLAY`` is set and no
    Wayland session is (Qt prefers Wayland there).
    """
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux"):
        return False
    requested = environ.get("QT_QPA_PLATFORM", "").strip()
    if requested:
        first = requested.split(";")[0].split(":")[0].strip().lower()
        return first == "xcb"
    return bool(environ.get("DISPLAY")) and not environ.get("WAYLAND_DISPLAY")


# ---------------------------------------------------------------------------- finding libraries
def _ldconfig_cache() -> set[str] | None:
    """Sonames in the dynamic loader's cache (``ldconfig -p``); None when it cannot be read."""
    exe = shutil.which("ldconfig") or next(
        (p for p in ("/sbin/ldconfig", "/usr/sbin/ldconfig") if os.access(p, os.X_OK)), None)
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "-p"], capture_output=True, text=True, timeout=10,
                             check=True).stdout
    except (OSError, subprocess.SubprocessError) as e:
        log.debug("ldconfig -p failed: %s", e)
        return None
    names = {m.group(1) for m in re.finditer(r"^\s+(\S+)\s+\(", out, re.MULTILINE)}
    return names or None


def _extra_library_dirs() -> list[Path]:
    """Folders the loader searches before its cache: LD_LIBRARY_PATH, Qt's own lib folder
    (the plugin's RUNPATH; PySide6 ships some libraries there) and a PyInstaller bundle."""
    dirs = [Path(d) for d in os.environ.get("LD_LIBRARY_PATH", "").split(os.pathsep) if d]
    spec = find_spec("PySide6")
    if spec is not None and spec.origin:
        dirs.append(Path(spec.origin).parent / "Qt" / "lib")
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        dirs.append(Path(bundle))
    return dirs


def system_library_finder() -> LibraryFinder:
    """The real lookup: extra folders, then the loader's cache, then ``ctypes.util.find_library``.

    When the loader's cache cannot be read (no ldconfig, an unusual system) every answer is
    None, "cannot tell", unless a library is found on the way.
    """
    cache = _ldconfig_cache()
    dirs = _extra_library_dirs()

    def find(soname: str) -> bool | None:
        if any((d / soname).exists() for d in dirs):
            return True
        if cache is not None and soname in cache:
            return True
        stem = soname[3:].split(".so")[0] if soname.startswith("lib") else soname
        if ctypes.util.find_library(stem) == soname:
            return True
        return False if cache is not None else None

    return find


def missing_libraries(libraries: Iterable[SystemLibrary] | None = None,
                      find: LibraryFinder | None = None) -> list[SystemLibrary]:
    """Those of ``libraries`` (default: :data:`XCB_LIBRARIES`) that ``find`` reports missing
    (not those it cannot tell about)."""
    libraries = XCB_LIBRARIES if libraries is None else libraries
    find = system_library_finder() if find is None else find
    return [lib for lib in libraries if find(lib.soname) is False]


# ---------------------------------------------------------------------------- the fix
def package_manager(os_release: Path | None = None) -> str | None:
    """"apt", "dnf" or "pacman" from ``/etc/os-release`` (ID, then ID_LIKE); None if unknown."""
    paths = [os_release] if os_release is not None else [Path("/etc/os-release"),
                                                          Path("/usr/lib/os-release")]
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        fields = {}
        for line in text.splitlines():
            key, sep, value = line.partition("=")
            if sep:
                fields[key.strip()] = value.strip().strip("'\"").lower()
        for word in (fields.get("ID", "") + " " + fields.get("ID_LIKE", "")).split():
            if word in _FAMILIES:
                return _FAMILIES[word]
        return None
    return None


def install_command(missing: Iterable[SystemLibrary], manager: str, as_root: bool = False) -> str:
    """The one command that installs the packages of ``missing`` (each package once)."""
    packages = list(dict.fromkeys(getattr(lib, manager) for lib in missing))
    prefix = "" if as_root else "sudo "
    return f"{prefix}{INSTALL_COMMANDS[manager]} {' '.join(packages)}"


def platform_problem(environ: Mapping[str, str] | None = None,
                     find: LibraryFinder | None = None,
                     os_release: Path | None = None,
                     libraries: Iterable[SystemLibrary] | None = None) -> str | None:
    """What keeps Qt's X11 window from opening, as the lines to print; None when nothing does
    (or when Qt is not going to use X11 at all)."""
    if not uses_xcb(environ):
        return None
    missing = missing_libraries(libraries, find)
    if not missing:
        return None
    names = ", ".join(lib.soname for lib in missing)
    lines = [("matting-studio: the editor cannot open a window: Qt's X11 support needs system "
              f"libraries that are not installed ({names}).")]
    manager = package_manager(os_release)
    if manager is not None:
        as_root = hasattr(os, "geteuid") and os.geteuid() == 0
        lines += ["Install them with:", f"    {install_command(missing, manager, as_root)}"]
    else:
        lines.append("Install the packages that provide them with your system's package manager.")
    lines.append("(The headless 'matting-studio cutout' works without them.)")
    return "\n".join(lines)
