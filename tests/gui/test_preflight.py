"""The check before Qt starts: missing X11 libraries → one line naming them and the fix."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from matting_studio.gui import preflight
from matting_studio.gui.preflight import (
    XCB_LIBRARIES,
    SystemLibrary,
    install_command,
    missing_libraries,
    package_manager,
    platform_problem,
    system_library_finder,
    uses_xcb,
)

X11 = {"DISPLAY": ":0"}


def finder_without(*absent: str):
    """A lookup that knows every library except ``absent``."""
    return lambda soname: soname not in absent


def os_release(tmp_path, text: str):
    path = tmp_path / "os-release"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.mark.parametrize(("environ", "platform", "expected"), [
    ({"DISPLAY": ":0"}, "linux", True),
    ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
    ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "QT_QPA_PLATFORM": "xcb"}, "linux", True),
    ({"QT_QPA_PLATFORM": "xcb;wayland"}, "linux", True),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, "linux", False),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "wayland;xcb"}, "linux", False),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "minimal"}, "linux", False),
    ({}, "linux", False),
    ({"DISPLAY": ":0"}, "darwin", False),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}, "win32", False),
])
def test_only_the_x11_platform_on_linux_is_checked(environ, platform, expected):
    assert uses_xcb(environ, platform) is expected


@pytest.mark.parametrize(("text", "manager"), [
    ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n', "apt"),
    ("ID=ubuntu\nID_LIKE=debian\n", "apt"),
    ('ID=linuxmint\nID_LIKE="ubuntu debian"\n', "apt"),
    ("ID=fedora\n", "dnf"),
    ('ID="rocky"\nID_LIKE="rhel centos fedora"\n', "dnf"),
    ("ID=arch\n", "pacman"),
    ("ID=manjaro\nID_LIKE=arch\n", "pacman"),
    ('ID="opensuse-tumbleweed"\nID_LIKE="opensuse suse"\n', None),
])
def test_package_manager_from_os_release(tmp_path, text, manager):
    assert package_manager(os_release(tmp_path, text)) == manager


def test_no_os_release_means_no_package_manager(tmp_path):
    assert package_manager(tmp_path / "absent") is None


@pytest.mark.parametrize(("text", "command"), [
    ("ID=ubuntu\n", "sudo apt install libxcb-cursor0"),
    ("ID=fedora\n", "sudo dnf install xcb-util-cursor"),
    ("ID=arch\n", "sudo pacman -S --needed xcb-util-cursor"),
])
def test_missing_cursor_library_gives_the_one_command(tmp_path, monkeypatch, text, command):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    message = platform_problem(X11, finder_without("libxcb-cursor.so.0"),
                               os_release(tmp_path, text))
    assert message is not None
    assert "libxcb-cursor.so.0" in message
    lines = message.splitlines()
    assert lines[lines.index("Install them with:") + 1] == f"    {command}"
    assert message.count("sudo") == 1  # one command


def test_each_package_is_named_once(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    absent = ("libxcb-randr.so.0", "libxcb-shm.so.0", "libxcb-icccm.so.4",
              "libglib-2.0.so.0", "libgthread-2.0.so.0")
    message = platform_problem(X11, finder_without(*absent), os_release(tmp_path, "ID=fedora\n"))
    assert "    sudo dnf install xcb-util-wm libxcb glib2" in message.splitlines()
    for soname in absent:
        assert soname in message


def test_root_needs_no_sudo():
    missing = [lib for lib in XCB_LIBRARIES if lib.soname == "libxcb-keysyms.so.1"]
    assert install_command(missing, "apt", as_root=True) == "apt install libxcb-keysyms1"


def test_unknown_distribution_names_the_libraries(tmp_path):
    message = platform_problem(X11, finder_without("libxkbcommon-x11.so.0"),
                               os_release(tmp_path, "ID=gentoo\n"))
    assert "libxkbcommon-x11.so.0" in message
    assert "package manager" in message
    assert "sudo" not in message


def test_nothing_missing_or_not_x11_or_cannot_tell_means_no_problem(tmp_path):
    release = os_release(tmp_path, "ID=debian\n")
    assert platform_problem(X11, finder_without(), release) is None
    nothing_found = finder_without(*(lib.soname for lib in XCB_LIBRARIES))
    for env in ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"},
                {"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, {}):
        assert platform_problem(env, nothing_found, release) is None
    # a lookup that cannot tell (no loader cache on this system) never blocks the editor
    assert platform_problem(X11, lambda _soname: None, release) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the loader cache is Linux's")
def test_real_lookup_finds_libc_and_not_a_made_up_library():
    find = system_library_finder()
    assert find("libc.so.6") is True
    assert find("libmatting-studio-absent.so.7") is False
    absent = SystemLibrary("libmatting-studio-absent.so.7", "a", "b", "c")
    assert missing_libraries([absent], find) == [absent]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the X11 check is Linux-only")
def test_editor_refuses_to_start_before_qt_loads(tmp_path):
    """For real: ``matting-studio --sample`` on X11 with a library that cannot be found stops
    with the command that installs it, exit 1, and never loads Qt's GUI module."""
    script = textwrap.dedent("""
        import sys
        import matting_studio.gui.preflight as pf
        pf.XCB_LIBRARIES += (pf.SystemLibrary("libmatting-studio-absent.so.7", "ms-absent-apt",
                                              "ms-absent-dnf", "ms-absent-pacman"),)
        from matting_studio.cli import main
        rc = main(["--sample"])
        print("qt gui loaded:", any(m.startswith("PySide6.QtGui") for m in sys.modules))
        sys.exit(rc)
    """)
    env = {k: v for k, v in os.environ.items()
           if k not in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["DISPLAY"] = ":97"  # no server there: if the check let Qt start, Qt would abort instead
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=120, cwd=tmp_path, check=False)
    assert proc.returncode == 1, proc.stderr
    assert "qt gui loaded: False" in proc.stdout
    assert "libmatting-studio-absent.so.7" in proc.stderr
    assert "Traceback" not in proc.stderr
    manager = preflight.package_manager()
    if manager is not None:
        assert f"ms-absent-{manager}" in proc.stderr


def test_readme_prerequisites_name_real_packages():
    """The README's install lines only name packages the check itself would propose."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    rows = {"apt": "sudo apt install ", "dnf": "sudo dnf install ",
            "pacman": "sudo pacman -S --needed "}
    for manager, prefix in rows.items():
        start = readme.index(prefix) + len(prefix)
        listed = readme[start:readme.index("`", start)].split()
        known = {getattr(lib, manager) for lib in XCB_LIBRARIES}
        assert listed and set(listed) <= known, (manager, set(listed) - known)
        cursor = next(lib for lib in XCB_LIBRARIES if lib.soname == "libxcb-cursor.so.0")
        assert getattr(cursor, manager) in listed
