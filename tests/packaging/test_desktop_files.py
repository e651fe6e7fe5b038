"""Desktop integration files: valid, consistent with each other and with ``__version__``.

``desktop-file-validate`` (desktop-file-utils) and ``appstreamcli`` (appstream) are run when
installed and skipped otherwise; the consistency checks always run.
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from matting_studio import __version__

ROOT = Path(__file__).resolve().parents[2]
APP_ID = "io.github.mattingstudio.MattingStudio"
DESKTOP = ROOT / "packaging" / f"{APP_ID}.desktop"
METAINFO = ROOT / "packaging" / f"{APP_ID}.metainfo.xml"
ICON = ROOT / "resources" / "matting-studio.svg"


def desktop_entry() -> configparser.SectionProxy:
    cp = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    cp.optionxform = str
    cp.read(DESKTOP, encoding="utf-8")
    return cp["Desktop Entry"]


def test_desktop_file_validates():
    tool = shutil.which("desktop-file-validate")
    if not tool:
        pytest.skip("desktop-file-validate is not installed (apt install desktop-file-utils)")
    r = subprocess.run([tool, str(DESKTOP)], capture_output=True, text=True)
    assert r.returncode == 0 and not r.stdout.strip(), r.stdout + r.stderr


def test_metainfo_validates():
    tool = shutil.which("appstreamcli")
    if not tool:
        pytest.skip("appstreamcli is not installed (apt install appstream)")
    r = subprocess.run([tool, "validate", "--no-net", str(METAINFO)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_desktop_entry_and_metainfo_agree():
    entry = desktop_entry()
    root = ET.parse(METAINFO).getroot()
    assert root.findtext("id") == APP_ID
    assert root.find("launchable").text == DESKTOP.name
    assert entry["Icon"] == APP_ID
    assert entry["Exec"].split()[0] == root.find("provides/binary").text == "matting-studio"
    assert entry["Name"] == root.findtext("name")
    assert root.findtext("project_license") == "MIT"


def test_version_is_the_same_everywhere():
    root = ET.parse(METAINFO).getroot()
    newest = root.find("releases/release")
    assert newest.get("version") == __version__, "add a <release> to the metainfo"
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    released = re.findall(r"^## \[(\d[^\]]*)\]", changelog, flags=re.M)
    assert released and released[0] == __version__, "add a CHANGELOG.md entry"


def test_svg_icon_is_square_and_well_formed():
    root = ET.parse(ICON).getroot()
    x, y, w, h = (float(v) for v in root.get("viewBox").split())
    assert w == h


def test_packaging_scripts_parse():
    for script in ("build_app.sh", "check_app.sh", "install.sh"):
        r = subprocess.run(["bash", "-n", str(ROOT / "packaging" / script)],
                           capture_output=True, text=True)
        assert r.returncode == 0, f"{script}: {r.stderr}"
    spec = (ROOT / "packaging" / "matting-studio.spec").read_text(encoding="utf-8")
    compile(spec, "matting-studio.spec", "exec")


def test_the_desktop_file_offers_the_formats_we_read():
    """A file manager's "Open With" lists the app for the photo formats core.io decodes
    (the families: HEIC/AVIF, camera RAW through the shared-mime-info types)."""
    from matting_studio.core.io import SUPPORTED_SUFFIXES

    offered = set(filter(None, desktop_entry()["MimeType"].split(";")))
    expected = {".jpg": "image/jpeg", ".png": "image/png", ".tif": "image/tiff",
                ".webp": "image/webp", ".heic": "image/heic", ".avif": "image/avif",
                ".dng": "image/x-adobe-dng", ".cr2": "image/x-canon-cr2",
                ".nef": "image/x-nikon-nef", ".arw": "image/x-sony-arw",
                ".raf": "image/x-fuji-raf", ".orf": "image/x-olympus-orf",
                ".rw2": "image/x-panasonic-rw2"}
    for suffix, mime in expected.items():
        assert suffix in SUPPORTED_SUFFIXES, suffix
        assert mime in offered, mime
