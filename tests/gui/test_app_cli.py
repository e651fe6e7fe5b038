"""``matting-studio IMAGE --screenshot OUT.png`` as a real process (offscreen)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.gui


def _run(args, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path),
               XDG_CONFIG_HOME=str(tmp_path / "xdg"))
    return subprocess.run([sys.executable, "-m", "matting_studio", *args], capture_output=True,
                          text=True, env=env, timeout=300, check=False)


def test_screenshot_opens_the_image_waits_for_the_alpha_and_exits_0(photo, tmp_path):
    out = tmp_path / "shot.png"
    r = _run([str(photo), "--screenshot", str(out)], tmp_path)
    assert r.returncode == 0, r.stderr
    im = np.asarray(Image.open(out).convert("RGB"))
    assert im.shape[0] >= 600 and im.shape[1] >= 1000
    assert im.std() > 20  # not a blank window


def test_screenshot_of_the_sample(tmp_path):
    out = tmp_path / "sample.png"
    r = _run(["--sample", "--screenshot", str(out)], tmp_path)
    assert r.returncode == 0, r.stderr
    assert Image.open(out).size[0] >= 1000


def test_screenshot_of_a_missing_file_fails_cleanly(tmp_path):
    r = _run([str(tmp_path / "nope.jpg"), "--screenshot", str(tmp_path / "x.png")], tmp_path)
    assert r.returncode == 1 and "nope.jpg" in r.stderr
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("content", [b"not a photo at all", b"\x89PNG\r\n\x1a\n" + b"\0" * 30])
def test_screenshot_of_a_bad_file_prints_one_line_and_never_waits(tmp_path, content):
    """Scripts use --screenshot: a problem is one line on stderr and exit status 1, never a
    dialog waiting for a click (the run would hang until its timeout)."""
    bad = tmp_path / "bad.png"
    bad.write_bytes(content)
    r = _run([str(bad), "--screenshot", str(tmp_path / "x.png")], tmp_path)
    assert r.returncode == 1
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("matting-studio:")]
    assert len(lines) == 1 and "bad.png" in lines[0] and "Traceback" not in r.stderr
    assert not (tmp_path / "x.png").exists()


def test_screenshot_prints_only_the_first_of_several_problems(qapp, window, tmp_path, capsys):
    """Reports from other threads may be queued behind the first problem before the event
    loop stops: the run still ends with one line (the first) and status 1."""
    from PySide6.QtCore import QTimer

    from matting_studio.gui.app import _screenshot

    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a photo at all")

    def more_problems():
        window.controller.error.emit("Matting failed", "second problem")
        window.controller.error.emit("Export failed", "third problem")

    QTimer.singleShot(0, more_problems)
    rc = _screenshot(qapp, window, [str(bad)], str(tmp_path / "x.png"))
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("matting-studio:")]
    assert rc == 1
    assert len(lines) == 1, lines
    assert not (tmp_path / "x.png").exists()
