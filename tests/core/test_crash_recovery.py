"""Kill a real editing process mid-edit (SIGKILL); its strokes come back on the next start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from matting_studio.core.autosave import Autosaver, list_recoverable
from matting_studio.core.io import load_image
from matting_studio.core.pipeline import PipelineSettings, auto_trimap, compute_mask
from matting_studio.core.project import replay
from matting_studio.core.trimap import Stroke, apply_strokes

N_STROKES = 25

# The editing process: what the editor does per stroke, through the same core API.
EDITOR = r"""
import sys, time
from matting_studio.core.io import load_image
from matting_studio.core.pipeline import PipelineSettings, auto_trimap, compute_mask
from matting_studio.core.autosave import Autosaver
from matting_studio.core.project import PhotoEdit, Project
from matting_studio.core.trimap import Stroke, apply_strokes

photo, n = sys.argv[1], int(sys.argv[2])
image = load_image(photo)
edit = PhotoEdit.for_image(photo, view={"zoom": 1.0})
project = Project(photos=[edit])
base = auto_trimap(image, compute_mask(image, edit.settings), edit.settings)
autosaver = Autosaver()
for i in range(n):
    mode = ("foreground", "background", "unknown")[i % 3]
    stroke = Stroke(mode, 1.5 + (i % 4), ((2.0 * i % 60, 3.0 + i), (60 - 2.0 * i % 50, 40.5)))
    edit.strokes.append(stroke)
    if i % 5 == 4:
        edit.strokes.pop()  # an undo now and then
    trimap = apply_strokes(base, edit.strokes)
    autosaver.save(project)
print("ready", len(edit.strokes), flush=True)
time.sleep(120)
"""


def _expected_strokes(n):
    strokes = []
    for i in range(n):
        mode = ("foreground", "background", "unknown")[i % 3]
        strokes.append(Stroke(mode, 1.5 + (i % 4), ((2.0 * i % 60, 3.0 + i),
                                                     (60 - 2.0 * i % 50, 40.5))))
        if i % 5 == 4:
            strokes.pop()
    return strokes


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_kill_minus_nine_mid_edit_then_recover(tmp_path, monkeypatch, astronaut_small):
    data = tmp_path / "data"
    monkeypatch.setenv("MATTING_STUDIO_DATA_DIR", str(data))
    photo = tmp_path / "astro.png"
    Image.fromarray((astronaut_small[::2, ::2] * 255).astype(np.uint8)).save(photo)

    proc = subprocess.Popen([sys.executable, "-c", EDITOR, str(photo), str(N_STROKES)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, MATTING_STUDIO_DATA_DIR=str(data)))
    try:
        line = ""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not line:
            line = proc.stdout.readline().strip()
            if proc.poll() is not None:
                break
        assert line.startswith("ready"), (line, proc.stderr.read() if proc.poll() else "")
        n_kept = int(line.split()[1])

        # While it runs, its autosave is not offered to a second instance.
        assert list_recoverable() == []

        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    # The next start: a new instance with its own autosaver finds the dead one's work.
    me = Autosaver()
    items = me.list_recoverable()
    assert len(items) == 1
    project = items[0].project.photos[0]
    expected = _expected_strokes(N_STROKES)
    assert len(project.strokes) == n_kept == len(expected)
    assert project.strokes == expected
    assert project.find_source().ok

    image = load_image(photo)
    settings = PipelineSettings()
    direct = apply_strokes(auto_trimap(image, compute_mask(image, settings), settings), expected)
    np.testing.assert_array_equal(replay(project, image), direct)

    # Restoring hands the work over to the new session (saved there first); the old file goes.
    me.adopt(items[0])
    assert me.list_recoverable() == []
    me.clear()
    assert list_recoverable() == []
