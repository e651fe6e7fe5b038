"""The cut-out command loads its first photo on a thread while it imports the rest."""

from __future__ import annotations

import numpy as np
from PIL import Image

from matting_studio import cli


def _scene(tmp_path):
    yy, xx = np.mgrid[:48, :64]
    disc = np.hypot(yy - 24, xx - 32)
    rgb = np.zeros((48, 64, 3), np.uint8)
    rgb[..., 0] = np.where(disc < 14, 230, 20)
    rgb[..., 1] = (xx * 3).astype(np.uint8)
    trimap = np.where(disc < 10, 255, np.where(disc < 18, 128, 0)).astype(np.uint8)
    Image.fromarray(rgb).save(tmp_path / "p.png")
    Image.fromarray(trimap).save(tmp_path / "t.png")
    return tmp_path / "p.png", tmp_path / "t.png"


def test_early_args():
    a = cli._early_args(["--trimap", "t.png", "img.png", "-o", "x.png", "--matting", "nope"])
    assert a.inputs == ["img.png"] and a.trimap == "t.png" and a.matting == "nope"
    assert cli._early_args(["img.png", "--help"]) is None
    assert cli._early_args(["img.png", "--he"]) is None
    assert cli._early_args(["--kernel-size", "x", "img.png"]) is None  # the real parser says why
    assert cli._early_args([]) is None


def test_same_files_with_and_without_prefetch(tmp_path, monkeypatch):
    photo, trimap = _scene(tmp_path)
    started = []
    real = cli._Prefetch

    def spy(*a):
        started.append(a)
        return real(*a)

    monkeypatch.setattr(cli, "_Prefetch", spy)
    outputs = {}
    for with_prefetch in (True, False):
        if not with_prefetch:
            monkeypatch.setattr(cli, "_early_args", lambda argv: None)
        out, alpha = tmp_path / f"c{with_prefetch}.png", tmp_path / f"a{with_prefetch}.png"
        rc = cli.main(["cutout", str(photo), "--trimap", str(trimap), "--matting", "cf",
                       "--alpha-out", str(alpha), "-o", str(out), "-q"])
        assert rc == 0
        outputs[with_prefetch] = [np.asarray(Image.open(p)) for p in (out, alpha)]
    assert started == [(str(photo), str(trimap))]  # only the first run prefetched
    for a, b in zip(outputs[True], outputs[False]):
        np.testing.assert_array_equal(a, b)


def test_a_bad_first_photo_is_reported_on_the_main_thread(tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    _, trimap = _scene(tmp_path)
    rc = cli.main(["cutout", str(bad), "--trimap", str(trimap), "--matting", "cf",
                   "-o", str(tmp_path / "out.png"), "-q"])
    err = capsys.readouterr().err
    assert rc == 1 and "Traceback" not in err
    assert "error: bad.png: the PNG file is truncated or damaged" in err
    assert not (tmp_path / "out.png").exists()
