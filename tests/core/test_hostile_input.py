"""Hostile and unusual input files through the loader and the ``cutout`` command.

The batch run feeds every file of :mod:`hostile_files` to ONE real ``matting-studio cutout``
process (Python start-up is paid once) with a tiny ONNX stand-in model, so that the run stays
fast; a few single-file runs use the real embedded model. For every file: exit 0 with a
correct RGBA output, or one ``error: <name>: ...`` line; never a traceback or a hang; inputs
byte-identical afterwards; no temporary files left behind.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).parent))
import hostile_files as hf  # noqa: E402

from matting_studio import cli  # noqa: E402
from matting_studio.core.errors import ImageLoadError  # noqa: E402
from matting_studio.core.io import display_name, load_image  # noqa: E402

TIMEOUT = 240


def _snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every regular file under ``folder`` (names as bytes-safe strings)."""
    out = {}
    for root, dirs, files in os.walk(os.fsencode(folder)):
        for f in files + dirs:
            p = os.path.join(root, f)
            key = os.fsdecode(p)
            if os.path.islink(p) or not os.path.isfile(p):
                out[key] = "<not a file>"
            else:
                with open(p, "rb") as fh:
                    out[key] = hashlib.sha256(fh.read()).hexdigest()
    return out


def _run(*args, cwd=None, timeout=TIMEOUT):
    env = dict(os.environ, PYTHONIOENCODING="utf-8:backslashreplace")
    return subprocess.run([sys.executable, "-m", "matting_studio", *map(os.fspath, args)],
                          capture_output=True, cwd=cwd, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    return folder, hf.make_hostile_files(folder)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    pytest.importorskip("onnx")
    import onnx_models

    return onnx_models.warm_colour_model(tmp_path_factory.mktemp("model") / "warm.onnx")


def test_loader_on_every_hostile_file(hostile):
    folder, cases = hostile
    for case in cases:
        path = case.path(folder)
        expect = "ok" if case.stage == "write" else case.expect
        try:
            img = load_image(path)
        except ImageLoadError as e:
            msg = str(e)
            assert expect in ("error", "either"), f"{case.name}: refused: {msg}"
            assert "\n" not in msg and msg.startswith(display_name(path)), msg
            continue
        assert expect in ("ok", "either"), f"{case.name}: should have been refused"
        assert img.size == case.size, case.name
        assert img.rgb.dtype == np.float32 and np.isfinite(img.rgb).all()
        assert img.rgb.min() >= 0.0 and img.rgb.max() <= 1.0


@pytest.mark.parametrize("o", range(1, 9))
def test_exif_orientations_come_out_upright(hostile, o):
    folder, _ = hostile
    img = load_image(folder / f"exif_orient_{o}.jpg")
    upright = hf.subject().astype(np.float32) / 255.0
    assert img.size == (hf.W, hf.H)
    assert np.abs(img.rgb - upright).mean() < 0.06
    marker = img.rgb[:3, :8].reshape(-1, 3).mean(axis=0)  # yellow, top left when upright
    assert marker[0] > 0.85 and marker[1] > 0.85 and marker[2] < 0.2, marker
    # and agrees with Pillow's own transpose
    with Image.open(folder / f"exif_orient_{o}.jpg") as im:
        ref = np.asarray(ImageOps.exif_transpose(im).convert("RGB"), np.float32) / 255.0
    assert np.abs(img.rgb - ref).max() < 1e-6


def test_16_bit_tiff_orientation_and_depth(hostile):
    folder, _ = hostile
    img = load_image(folder / "exif_orient_6_grey16.tif")
    assert img.bit_depth == 16 and img.size == (hf.W, hf.H)
    expect = hf.subject()[:, :, 0].astype(np.float32) / 255.0
    assert np.abs(img.rgb[:, :, 0] - expect).max() < 1e-4


def test_damaged_profiles_are_not_exported(hostile):
    folder, _ = hostile
    assert load_image(folder / "icc_garbage.jpg").icc_profile is None
    assert load_image(folder / "cmyk_with_rgb_icc.jpg").icc_profile is None


def test_bomb_refused_before_pixels_are_allocated(hostile):
    import tracemalloc

    folder, _ = hostile
    tracemalloc.start()
    try:
        for name in ("bomb_ihdr.png", "bomb_sof.jpg", "bomb_screen.gif", "bomb_tags.tif"):
            with pytest.raises(ImageLoadError, match="too large"):
                load_image(folder / name)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20


def _exists(p: Path) -> bool:
    try:
        return p.exists()
    except OSError:  # e.g. the name is too long to exist at all
        return False


def _error_lines(stderr: str, name: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.startswith(f"error: {name}:")]


@pytest.mark.slow
def test_cli_batch_over_every_hostile_file(hostile, tiny_model, tmp_path):
    folder, cases = hostile
    before = _snapshot(folder)
    out = tmp_path / "out"
    paths = [c.path(folder) for c in cases]
    r = _run("cutout", "-q", "--model", tiny_model, "--preset", "u2netp", "-o", out, "--",
             *paths, cwd=tmp_path)
    stderr = r.stderr.decode("utf-8", "backslashreplace")
    assert "Traceback" not in stderr and "Error:" not in stderr.replace("error:", "")
    assert r.returncode == 1  # some files are meant to fail
    # native libraries stay quiet about files we handle (libpng's "iCCP: too short" for
    # icc_garbage_png.png, OpenCV's "[ERROR] ... TIFF_Error" for the truncated TIFFs):
    # only our own lines reach stderr
    ours = ("error: ", "note: ", "WARNING matting_studio", "matting-studio: ")
    foreign = [ln for ln in stderr.splitlines() if not ln.startswith(ours)]
    assert not foreign, foreign
    assert _snapshot(folder) == before, "an input file was changed, added or removed"
    counts = {"ok": 0, "error": 0}
    for case in cases:
        name = display_name(case.path(folder))
        lines = _error_lines(stderr, name)
        target = out / f"{Path(case.name).stem}_cutout.png" if case.raw_name is None else \
            Path(os.fsdecode(os.path.join(os.fsencode(out),
                                          Path(os.fsdecode(case.raw_name)).stem.encode(
                                              "utf-8", "surrogateescape") + b"_cutout.png")))
        if case.expect == "error" or (case.expect == "either" and lines):
            assert len(lines) == 1, f"{case.name}: expected one error line, got {lines}"
            assert not _exists(target), f"{case.name}: refused but an output was written"
            counts["error"] += 1
            continue
        assert not lines, f"{case.name}: unexpected error {lines}"
        with Image.open(target) as im:
            assert im.mode == "RGBA", case.name
            assert im.size == case.size, case.name
        counts["ok"] += 1
    assert counts["ok"] >= 65 and counts["error"] >= 45, counts
    print(f"hostile CLI batch: {counts['ok']} cut-outs, {counts['error']} refused, "
          f"of {len(cases)} files")
    leftovers = [p for p in out.iterdir() if p.name.endswith(".part") or p.name.startswith(".")]
    assert not leftovers
    expected_outputs = counts["ok"]
    assert len(list(out.iterdir())) == expected_outputs
    # RGBA semantics: what was transparent in the source stays transparent in the cut-out.
    a = np.asarray(Image.open(out / "rgba_cutout.png"))[:, :, 3]
    assert a[:, : hf.W // 4].max() == 0
    assert a[:, hf.W // 4: hf.W // 4 + 3].max() <= 128
    assert np.asarray(Image.open(out / "all_transparent_cutout.png"))[:, :, 3].max() == 0


@pytest.mark.slow
def test_cli_single_files_with_the_embedded_model(hostile, tmp_path):
    """Default output beside the input; the real model; bad and odd files in one folder."""
    folder, _ = hostile
    work = tmp_path / "w"
    work.mkdir()
    names = ["exif_orient_6.jpg", "Fotó Ünïcødé 日本語 🌸.jpg", "truncate_me.png"]
    for n in names[:2]:
        (work / n).write_bytes((folder / n).read_bytes())
    (work / "truncate_me.png").write_bytes((folder / "trunc_png_00663.png").read_bytes())
    before = _snapshot(work)
    r = _run("cutout", *[work / n for n in names], "-q")
    stderr = r.stderr.decode("utf-8", "backslashreplace")
    assert r.returncode == 1 and "Traceback" not in stderr
    assert len(_error_lines(stderr, "truncate_me.png")) == 1
    after = _snapshot(work)
    for k, v in before.items():
        assert after[k] == v
    new = sorted(Path(k).name for k in after if k not in before)
    assert new == sorted(["exif_orient_6_cutout.png", "Fotó Ünïcødé 日本語 🌸_cutout.png"])
    with Image.open(work / "exif_orient_6_cutout.png") as im:
        assert im.mode == "RGBA" and im.size == (hf.W, hf.H)


def test_cli_never_overwrites_any_input(tmp_path, tiny_model):
    """``a_cutout.png`` given as an input must survive a run that would produce that name."""
    a = tmp_path / "a.png"
    a.write_bytes(hf.encode(hf.subject(), "PNG"))
    victim = tmp_path / "a_cutout.png"
    victim.write_bytes(hf.encode(hf.subject(seed=3), "PNG"))
    twin = tmp_path / "a.jpg"
    twin.write_bytes(hf.encode(hf.subject(), "JPEG"))
    before = _snapshot(tmp_path)
    with pytest.raises(SystemExit) as e:  # refused before any work: a usage error
        cli.main(["cutout", "-q", "--model", str(tiny_model), "--preset", "u2netp",
                  str(victim), str(a), str(twin)])
    assert e.value.code == 2
    assert _snapshot(tmp_path) == before  # nothing written, nothing changed


def test_cli_alpha_out_onto_the_trimap_is_refused(tmp_path, capsys):
    photo = tmp_path / "p.png"
    photo.write_bytes(hf.encode(hf.subject(), "PNG"))
    tri_cases = hf.trimap_cases(tmp_path / "t")
    tri = tmp_path / "t" / tri_cases[0].name
    before = tri.read_bytes()
    with pytest.raises(SystemExit) as e:
        cli.main(["cutout", "-q", str(photo), "--trimap", str(tri), "--alpha-out", str(tri)])
    assert e.value.code == 2 and tri.read_bytes() == before
    assert "is an input file; refusing to write the alpha over it" in capsys.readouterr().err


def test_cli_user_trimaps_of_odd_sizes_and_values(tmp_path, capsys):
    """In-process (no start-up cost): every trimap case gives a result or one error line."""
    photo = tmp_path / "p.png"
    photo.write_bytes(hf.encode(hf.subject(), "PNG"))
    cases = hf.trimap_cases(tmp_path / "t")
    for case in cases:
        tri = tmp_path / "t" / case.name
        before = tri.read_bytes()
        out = tmp_path / f"o_{Path(case.name).stem}.png"
        tri_out = tmp_path / f"t_{Path(case.name).stem}.png"
        code = cli.main(["cutout", "-q", str(photo), "-o", str(out), "--trimap", str(tri),
                         "--matting", "knn", "--trimap-out", str(tri_out)])
        err = capsys.readouterr().err
        assert "Traceback" not in err and tri.read_bytes() == before
        if case.expect == "ok":
            assert code == 0, (case.name, err)
            with Image.open(out) as im:
                assert im.mode == "RGBA" and im.size == case.size
            used = np.asarray(Image.open(tri_out))
            assert set(np.unique(used)) <= {0, 128, 255}, case.name
        else:
            assert code == 1, case.name
            errors = [ln for ln in err.splitlines() if ln.startswith("error:")]
            assert len(errors) == 1 and case.name in errors[0], errors
            assert not out.exists()


def test_cli_unwritable_output_folder_leaves_nothing(tmp_path, tiny_model, monkeypatch, capsys):
    """A full disk while writing: one clear line, no partial or temporary file."""
    import errno

    from matting_studio.core.io import atomic

    photo = tmp_path / "p.png"
    photo.write_bytes(hf.encode(hf.subject(), "PNG"))
    out = tmp_path / "out"
    out.mkdir()
    real_fsync = os.fsync

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    code = cli.main(["cutout", "-q", "--model", str(tiny_model), "--preset", "u2netp",
                     str(photo), "-o", str(out)])
    monkeypatch.setattr(atomic.os, "fsync", real_fsync)
    err = capsys.readouterr().err
    assert code == 1 and "disk is full" in err and "Traceback" not in err
    assert list(out.iterdir()) == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root can write into read-only folders")
def test_cli_read_only_folder(tmp_path, tiny_model, capsys):
    photo = tmp_path / "p.png"
    photo.write_bytes(hf.encode(hf.subject(), "PNG"))
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o500)
    try:
        code = cli.main(["cutout", "-q", "--model", str(tiny_model), "--preset", "u2netp",
                         str(photo), "-o", str(out)])
        err = capsys.readouterr().err
        assert code == 1 and "permission denied" in err
        assert list(out.iterdir()) == []
    finally:
        out.chmod(0o700)


@pytest.mark.parametrize("kind", ["float32", "uint16", "uint16_grey", "uint8"])
def test_tiff_orientation_every_depth(kind):
    """OpenCV applies a TIFF's Orientation itself; Pillow does not: upright exactly once."""
    import cv2

    from matting_studio.core.io import decode_image

    base = hf.subject()
    ref = base.astype(np.float32) / 255.0
    for o in range(1, 9):
        up = {"float32": ref, "uint8": base}.get(kind, base.astype(np.uint16) * 257)
        if kind == "uint16_grey":
            up, want = up[:, :, 0], ref[:, :, :1]
        else:
            want = ref
        stored = np.ascontiguousarray(hf.stored_for_orientation(up, o))
        if kind == "uint16_grey":
            data = hf.encode(Image.fromarray(stored), "TIFF", tiffinfo={0x0112: o})
        else:
            ok, buf = cv2.imencode(".tif", stored[:, :, ::-1])
            data = hf._tiff_with_orientation(buf.tobytes(), o)
        img = decode_image(data, name=f"{kind}_{o}.tif")
        assert img.size == (hf.W, hf.H), (kind, o)
        assert np.abs(img.rgb - want).max() < 1e-3, (kind, o)
        assert img.bit_depth == (8 if kind == "uint8" else 16)


def _peak_rss_mb(code: str) -> tuple[subprocess.CompletedProcess, float]:
    """Run ``code`` in a fresh Python; (result, its peak resident memory in MB). VmHWM, not
    ru_maxrss: the latter keeps the high-water mark of the forked parent across exec."""
    code += ("hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM:')]\n"
             "print('peak', hwm[0].split()[1])\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=TIMEOUT)
    peak = [ln for ln in r.stdout.splitlines() if ln.startswith("peak ")]
    r.stdout = "\n".join(ln for ln in r.stdout.splitlines() if not ln.startswith("peak "))
    return r, int(peak[0].split()[1]) / 1024 if peak else float("inf")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="VmHWM: Linux")
def test_tiny_jpeg_declaring_a_huge_picture_is_refused_before_decoding(tmp_path):
    """A 1.8 KB JPEG declaring 14000 × 14000 (under the 200 MP limit) used to decode to a 9 GB
    peak: it cannot hold that many pixels, so it is refused from its size."""
    small = hf.encode(hf.subject()[:16, :16], "JPEG", quality=50)
    bomb = tmp_path / "tiny_bomb.jpg"
    bomb.write_bytes(hf.jpeg_with_sof_size(small, 14000, 14000))
    assert bomb.stat().st_size < 2048
    png = tmp_path / "tiny_bomb.png"
    png.write_bytes(hf.raw_png(14000, 14000, 8, 2, b"\x00" * 64))
    code = ("import sys\nfrom matting_studio.core.io import load_image\n"
            "for p in sys.argv[1:] or [%r, %r]:\n"
            "    try:\n        load_image(p)\n    except Exception as e:\n"
            "        print(type(e).__name__, e)\n" % (str(bomb), str(png)))
    r, peak = _peak_rss_mb(code)
    lines = r.stdout.strip().splitlines()
    assert r.returncode == 0 and len(lines) == 2, r.stdout + r.stderr
    assert lines[0].startswith("ImageLoadError tiny_bomb.jpg: the JPEG file is truncated")
    assert lines[1].startswith("ImageLoadError tiny_bomb.png: the PNG file is truncated")
    assert "14000×14000" in lines[0] and peak < 400, peak


def _address_space_limited(code: str, headroom_mb: int, env=None) -> subprocess.CompletedProcess:
    """Run ``code`` after ``setup`` with RLIMIT_AS set to what the process holds plus
    ``headroom_mb`` (``ulimit -v``), so imports succeed and the photo work does not."""
    prelude = (
        "import resource, sys\n"
        "import numpy, cv2, PIL.Image, onnxruntime, scipy.sparse\n"
        "from matting_studio import cli\n"
        "from matting_studio.core import memory\n"
        f"limit = memory._virtual_size() + {headroom_mb} * 2**20\n"
        "resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\n"
    )
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True,
                          text=True, timeout=TIMEOUT, env=dict(os.environ, **(env or {})))


def _flat_png(path: Path, w: int, h: int) -> None:
    from matting_studio.core.export import encode_png_rows

    row = np.full((1, w, 3), 90, np.uint8)
    path.write_bytes(encode_png_rows(lambda y0, y1: np.repeat(row, y1 - y0, 0), h, w, 3, 8))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc: Linux")
def test_memory_is_checked_from_the_header_under_ulimit_v(tmp_path):
    photo = tmp_path / "big.png"
    _flat_png(photo, 10_000, 8_000)  # 80 MP, ~3 GB to cut out; a 240 KB file
    r = _address_space_limited(
        f"code = cli.main(['cutout', '-q', '--threads', '1', {str(photo)!r}])\n"
        "sys.exit(code)\n", headroom_mb=1200)
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert r.returncode == 1 and len(errors) == 1, r.stderr
    assert "big.png: this 10000×8000 photo needs about 3.2 GB of memory to cut out;" in \
        errors[0] and "GB available" in errors[0], errors
    assert "Traceback" not in r.stderr
    assert sorted(os.listdir(tmp_path)) == ["big.png"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc: Linux")
@pytest.mark.parametrize("headroom_mb", [400, 600, 750])
def test_running_out_of_memory_anyway_is_one_line(tmp_path, tiny_model, headroom_mb):
    """With the check off, the cut-out runs out of address space somewhere in numpy, OpenCV
    (its "Insufficient memory" error) or onnxruntime, while decoding or later: one line that
    says so, exit 1, nothing written."""
    photo = tmp_path / "big.png"
    _flat_png(photo, 6000, 4000)
    r = _address_space_limited(
        f"code = cli.main(['cutout', '-q', '--threads', '1', '--model', {str(tiny_model)!r}, "
        f"'--preset', 'u2netp', {str(photo)!r}])\nsys.exit(code)\n", headroom_mb=headroom_mb,
        env={"MATTING_STUDIO_MEMORY_CHECK": "0"})
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert r.returncode == 1 and len(errors) == 1, r.stderr
    assert "big.png: not enough memory" in errors[0], errors
    assert "Traceback" not in r.stderr and "unexpected" not in r.stderr
    assert sorted(os.listdir(tmp_path)) == ["big.png"]


@pytest.mark.skipif(os.name != "posix", reason="process ids are checked on POSIX")
def test_leftovers_of_killed_runs_are_removed_later_and_only_ours(tmp_path):
    import signal
    import time

    from matting_studio.core.io import atomic, write_atomic

    # a real run killed while writing: it made its temporary file, then died
    child = subprocess.run(
        [sys.executable, "-c",
         "import os, signal, sys\nfrom pathlib import Path\n"
         "from matting_studio.core.io.atomic import temp_file\n"
         "fd, name = temp_file(Path(sys.argv[1]), 'cutout')\nos.write(fd, b'half')\n"
         "print(name, flush=True)\nos.kill(os.getpid(), signal.SIGKILL)\n", str(tmp_path)],
        capture_output=True, text=True, timeout=60)
    assert child.returncode == -signal.SIGKILL
    killed = Path(child.stdout.strip())
    assert killed.exists() and killed.name.startswith(".cutout.")
    mine_live = Path(atomic.temp_file(tmp_path, "busy")[1])  # this process: alive
    other_host = tmp_path / ".x.abcd1234.0badc0de-12345.part"
    stranger = tmp_path / ".someone-else.part"
    user_file = tmp_path / "notes.part"
    for p in (other_host, stranger, user_file):
        p.write_bytes(b"keep")
    old = time.time() - 2 * atomic.STALE_AFTER
    for p in (killed, mine_live, other_host, stranger, user_file):
        os.utime(p, (old, old))
    fresh_dead = tmp_path / killed.name.replace(".cutout.", ".fresh.")
    fresh_dead.write_bytes(b"young")  # same dead writer, but written just now: kept for now
    assert atomic.remove_stale_parts(tmp_path) == [killed]
    assert not killed.exists()
    for p in (mine_live, other_host, stranger, user_file, fresh_dead):
        assert p.exists(), p
    # and a write into the folder does the same on its own (once per folder and process)
    os.utime(fresh_dead, (old, old))
    atomic._cleaned.discard(os.path.normcase(os.path.abspath(tmp_path)))
    write_atomic(tmp_path / "out.png", b"data")
    assert not fresh_dead.exists() and mine_live.exists()
