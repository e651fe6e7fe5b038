"""The core must stay usable without Qt (CLI, batch, notebooks)."""

import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "matting_studio" / "core"


def test_core_sources_do_not_mention_qt():
    offenders = [
        str(p) for p in CORE.rglob("*.py")
        if any(word in p.read_text(encoding="utf-8") for word in ("PySide6", "PyQt", "from ..gui", "shiboken"))
    ]
    assert offenders == []


def test_importing_core_and_cli_cutout_loads_no_qt():
    code = (
        "import sys\n"
        "import matting_studio.core.pipeline, matting_studio.core.io, matting_studio.core.export\n"
        "import matting_studio.cli as c; c._cutout_parser()\n"
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'PyQt'))]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
