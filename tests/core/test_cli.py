"""The headless command, run as a real subprocess."""

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from matting_studio import __version__


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "matting_studio", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.fixture
def photo(tmp_path, astronaut_small):
    p = tmp_path / "astro.png"
    Image.fromarray((astronaut_small * 255).astype(np.uint8)).save(p)
    return p


def test_version_and_help():
    r = run("--version")
    assert r.returncode == 0 and __version__ in r.stdout
    r = run("cutout", "--help")
    assert r.returncode == 0 and "--trimap" in r.stdout


def test_default_output_beside_input_and_input_untouched(photo):
    before = photo.read_bytes()
    r = run("cutout", photo, "-q")
    assert r.returncode == 0, r.stderr
    out = photo.with_name("astro_cutout.png")
    im = Image.open(out)
    assert im.mode == "RGBA" and im.size == (128, 128)
    a = np.asarray(im)[:, :, 3]
    assert ((a > 0) & (a < 255)).sum() > 50
    assert photo.read_bytes() == before


def test_trimap_alpha_and_trimap_outputs(tmp_path, photo):
    t = np.zeros((128, 128), np.uint8)
    t[30:100, 30:100] = 128
    t[50:80, 50:80] = 255
    Image.fromarray(t).save(tmp_path / "tri.png")
    r = run("cutout", photo, "-o", tmp_path / "o.png", "--trimap", tmp_path / "tri.png",
            "--matting", "knn", "--alpha-out", tmp_path / "a.png", "--trimap-out", tmp_path / "t.png")
    assert r.returncode == 0, r.stderr
    a = np.asarray(Image.open(tmp_path / "a.png"))
    assert a[:30].max() == 0 and a[55:75, 55:75].min() == 255
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "t.png")), t)


def test_batch_continues_after_a_bad_file(tmp_path, photo):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    text = tmp_path / "notes.jpg"
    text.write_text("hello, not an image")
    trunc = tmp_path / "trunc.png"
    trunc.write_bytes(photo.read_bytes()[:2000])
    outdir = tmp_path / "out"
    r = run("cutout", empty, photo, text, trunc, "-o", outdir, "-q")
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 3
    assert any("empty.jpg" in e and "empty" in e for e in errors)
    assert sorted(p.name for p in outdir.iterdir()) == ["astro_cutout.png"]


@pytest.mark.parametrize("content", [b"", b"GIF89a not really", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"])
def test_single_bad_file_no_output_no_traceback(tmp_path, content):
    bad = tmp_path / "bad.png"
    bad.write_bytes(content)
    r = run("cutout", bad, "-o", tmp_path / "o.png")
    assert r.returncode == 1
    assert "Traceback" not in r.stderr and "bad.png" in r.stderr
    assert not (tmp_path / "o.png").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.png"]
    assert bad.read_bytes() == content


def test_usage_errors_exit_2(tmp_path, photo):
    assert run("cutout").returncode == 2
    assert run("cutout", photo, "--matting", "nope").returncode == 2
    r = run("cutout", photo, "-o", tmp_path / "x.gif")
    assert r.returncode == 2 and ".png" in r.stderr and len(r.stderr.splitlines()) == 1


def test_output_cannot_be_the_input(photo):
    before = photo.read_bytes()
    r = run("cutout", photo, "-o", photo)
    assert r.returncode == 2 and "astro.png is an input file" in r.stderr
    assert photo.read_bytes() == before


@pytest.mark.parametrize("flags", [("-o", "same.png", "--alpha-out", "same.png"),
                                   ("--alpha-out", "x.png", "--trimap-out", "x.png"),
                                   ("-o", "c.png", "--trimap-out", "./c.png")])
def test_two_outputs_on_one_file_are_refused_before_any_work(tmp_path, photo, flags):
    r = run("cutout", photo, *flags, cwd=tmp_path)
    assert r.returncode == 2 and "would both be written to" in r.stderr, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["astro.png"]


def test_bad_model_gives_one_line(tmp_path, photo):
    m = tmp_path / "broken.onnx"
    m.write_bytes(b"\0" * 100)
    r = run("cutout", photo, "--model", m)
    assert r.returncode == 1 and "broken.onnx" in r.stderr and "Traceback" not in r.stderr


def test_failed_batch_leaves_no_output_folder(tmp_path):
    bad = tmp_path / "zero.png"
    bad.write_bytes(b"")
    r = run("cutout", bad, "-o", tmp_path / "new_folder" / "sub", "-q")
    assert r.returncode == 1 and "zero.png" in r.stderr
    assert not (tmp_path / "new_folder").exists()
