"""Downloading models by name: a local HTTP mirror on 127.0.0.1 (``MATTING_STUDIO_MODEL_MIRROR``)
serves catalogue files made in the test. Resume after a cut connection, a server that ignores
``Range``, checksum and size mismatches, an unreachable or silent server, Cancel, remove, the
``models`` command. Never the network."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from matting_studio import cli  # noqa: E402
from matting_studio.core import model_download as dl  # noqa: E402
from matting_studio.core import models  # noqa: E402
from matting_studio.core.errors import Cancelled, ModelError  # noqa: E402
from matting_studio.core.progress import CancelToken  # noqa: E402
from matting_studio.core.segmentation import get_model  # noqa: E402

onnx = pytest.importorskip("onnx")
import model_server as ms  # noqa: E402
import onnx_models as om  # noqa: E402

PADDING = 3 * dl.CHUNK  # a few chunks, so that cancelling and cutting happen mid-file


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    d = tmp_path / "data"
    monkeypatch.setenv("MATTING_STUDIO_DATA_DIR", str(d))
    return d


@pytest.fixture
def mirror(monkeypatch):
    with ms.ModelMirror() as m:
        monkeypatch.setenv(dl.MIRROR_ENV, m.url + "/models/")
        yield m


@pytest.fixture
def tiny(tmp_path, monkeypatch, mirror):
    """A U²-Net-like model (320², seven outputs, ~3 MB) in the catalogue and on the mirror, under
    a release file name that differs from its catalogue name."""
    src = om.u2net_like_model(tmp_path / "src.onnx", padding=PADDING)
    info = ms.entry_for(src, "tiny-u2net", preset="u2net", file_name="Tiny-U2Net-v1.onnx")
    monkeypatch.setitem(models.CATALOGUE, info.name, info)
    mirror.add(f"models/{info.file_name}", src.read_bytes())
    return info


def _target(data_dir, info):
    return data_dir / "models" / info.install_name


def test_download_installs_the_checked_file(data_dir, mirror, tiny):
    seen = []
    path = dl.download(tiny.name, progress=lambda d, t, s: seen.append((d, t, s)))
    assert path == _target(data_dir, tiny)
    assert path.read_bytes() == mirror.state.files[f"models/{tiny.file_name}"]
    assert not (data_dir / "models" / f"{tiny.install_name}.part").exists()
    assert mirror.state.requests == [(f"/models/{tiny.file_name}", None)]
    assert seen[-1] == (tiny.size, tiny.size, "check")
    assert any(s == "download" and d == tiny.size for d, _, s in seen)
    model = get_model(tiny.name)  # usable by name at once
    assert (model.label, model.preset.name) == ("tiny-u2net", "u2net")
    # a second request finds it installed: no network
    assert dl.download(tiny.name) == path and len(mirror.state.requests) == 1


def test_interrupted_download_resumes_with_range(data_dir, mirror, tiny):
    mirror.state.faults.cut_after = PADDING // 2
    with pytest.raises(ModelError, match="run the same command again to resume"):
        dl.download(tiny.name, timeout=5)
    part = data_dir / "models" / f"{tiny.install_name}.part"
    kept = part.stat().st_size
    assert 0 < kept < tiny.size and not _target(data_dir, tiny).exists()
    assert models.model_state(tiny).partial_bytes == kept
    path = dl.download(tiny.name, timeout=5)
    assert mirror.state.requests[-1] == (f"/models/{tiny.file_name}", f"bytes={kept}-")
    assert path.read_bytes() == mirror.state.files[f"models/{tiny.file_name}"]
    assert not part.exists()


def test_server_ignoring_range_sends_it_all_again(data_dir, mirror, tiny):
    part = data_dir / "models" / f"{tiny.install_name}.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"\0" * 1000)  # not even a prefix of the file: the restart replaces it
    mirror.state.faults.ignore_range = True
    path = dl.download(tiny.name)
    assert mirror.state.requests[-1][1] == "bytes=1000-"
    assert path.read_bytes() == mirror.state.files[f"models/{tiny.file_name}"]


def test_wrong_bytes_are_deleted(data_dir, mirror, tiny):
    good = mirror.state.files[f"models/{tiny.file_name}"]
    mirror.add(f"models/{tiny.file_name}", good[:-1] + bytes([good[-1] ^ 1]))  # same size
    with pytest.raises(ModelError, match=r"does not match its pinned checksum.*were deleted"):
        dl.download(tiny.name)
    assert list((data_dir / "models").glob("tiny-u2net.onnx*")) == []


def test_wrong_size_is_refused_before_downloading(data_dir, mirror, tiny):
    mirror.add(f"models/{tiny.file_name}", b"<html>a login page</html>")
    with pytest.raises(ModelError, match=r"offers 25 bytes, the catalogue expects"):
        dl.download(tiny.name)
    assert list((data_dir / "models").glob("tiny-u2net.onnx*")) == []


def test_missing_file_on_the_mirror(data_dir, mirror, tiny):
    mirror.state.files.clear()
    with pytest.raises(ModelError, match=r"answered 404"):
        dl.download(tiny.name)


def test_cancel_keeps_the_bytes_for_resuming(data_dir, mirror, tiny):
    token = CancelToken()

    def progress(done, total, stage):
        if stage == "download" and done > 0:
            token.cancel()

    with pytest.raises(Cancelled):
        dl.download(tiny.name, progress=progress, cancel=token)
    part = data_dir / "models" / f"{tiny.install_name}.part"
    assert 0 < part.stat().st_size < tiny.size and not _target(data_dir, tiny).exists()
    assert dl.download(tiny.name).is_file()
    assert mirror.state.requests[-1][1] == f"bytes={dl.CHUNK}-"


def test_unreachable_server_fails_fast(data_dir, tiny, monkeypatch):
    monkeypatch.setenv(dl.MIRROR_ENV, ms.closed_port_url())
    t0 = time.monotonic()
    with pytest.raises(ModelError, match=r"cannot download tiny-u2net from 127\.0\.0\.1:\d+ "
                                         r"\(mirror from MATTING_STUDIO_MODEL_MIRROR\): the "
                                         r"connection was refused"):
        dl.download(tiny.name)
    assert time.monotonic() - t0 < 5


def test_silent_server_times_out(data_dir, tiny, monkeypatch):
    with ms.SilentServer() as silent:
        monkeypatch.setenv(dl.MIRROR_ENV, silent.url)
        t0 = time.monotonic()
        with pytest.raises(ModelError, match=r"no answer for 0\.5 s"):
            dl.download(tiny.name, timeout=0.5)
        assert time.monotonic() - t0 < 5


def test_mirror_must_be_http(data_dir, tiny, monkeypatch):
    monkeypatch.setenv(dl.MIRROR_ENV, "ftp://example.invalid/models")
    with pytest.raises(ModelError, match="not an http:// or https:// address"):
        dl.download(tiny.name)


def test_one_download_at_a_time(data_dir, mirror, tiny):
    from filelock import FileLock

    (data_dir / "models").mkdir(parents=True)
    with FileLock(str(data_dir / "models" / f".{tiny.install_name}.lock")):
        with pytest.raises(ModelError, match="already being downloaded"):
            dl.download(tiny.name)
    assert mirror.state.requests == []


def test_nothing_is_downloaded_without_asking(data_dir, mirror, tiny):
    with pytest.raises(ModelError, match="not installed"):
        get_model(tiny.name)
    cli_args = ["cutout", "-q", "nothere.png", "--model", tiny.name]
    assert cli.main(cli_args) == 1
    assert mirror.state.requests == []


def test_damaged_install_gives_the_model_failure_message(data_dir, mirror, tiny):
    path = dl.download(tiny.name)
    path.write_bytes(b"\xff" * tiny.size)  # same size, not a model any more
    with pytest.raises(ModelError, match=r"^tiny-u2net\.onnx: not a valid ONNX model"):
        get_model(tiny.name)
    # asking again repairs it
    assert dl.download(tiny.name).read_bytes() == mirror.state.files[f"models/{tiny.file_name}"]


def test_remove(data_dir, mirror, tiny):
    path = dl.download(tiny.name)
    part = path.with_name(path.name + ".part")
    part.write_bytes(b"left over")
    assert set(dl.remove(tiny.name)) == {path, part}
    assert not path.exists() and not part.exists()
    assert dl.remove(tiny.name) == []
    with pytest.raises(ModelError, match="built into Matting Studio"):
        dl.remove("u2netp")


def test_cancel_from_another_thread(data_dir, mirror, tiny):
    """The editor downloads on a worker thread and cancels from the GUI thread."""
    mirror.state.faults.hold_after = dl.CHUNK
    token, result, started = CancelToken(), {}, threading.Event()

    def work():
        try:
            dl.download(tiny.name, progress=lambda d, t, s: d and started.set(), cancel=token)
        except BaseException as e:  # noqa: BLE001 - handed to the test thread
            result["error"] = e

    worker = threading.Thread(target=work)
    worker.start()
    assert started.wait(10)
    token.cancel()
    mirror.state.faults.release.set()
    worker.join(10)
    assert not worker.is_alive() and isinstance(result.get("error"), Cancelled), result
    assert not _target(data_dir, tiny).exists()
    assert dl.download(tiny.name).is_file()  # resumes


# ------------------------------------------------------------------------------ the command

def test_cli_models_get_list_remove(data_dir, mirror, tiny, capsys):
    assert cli.main(["models"]) == 0
    out = capsys.readouterr().out
    assert f"Models folder: {data_dir / 'models'}" in out
    line = next(ln for ln in out.splitlines() if ln.split()[:1] == ["tiny-u2net"])
    assert "not installed" in line
    assert "built in" in next(ln for ln in out.splitlines() if ln.split()[:1] == ["u2netp"])
    assert "u2net " in out and "176.0 MB" in out

    assert cli.main(["models", "get", "tiny-u2net"]) == 0
    err = capsys.readouterr().err
    assert "tiny-u2net: installed" in err and "Traceback" not in err
    assert _target(data_dir, tiny).is_file()
    assert cli.main(["models", "list"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines()
                if ln.split()[:1] == ["tiny-u2net"])
    assert "installed" in line and "not installed" not in line

    assert cli.main(["models", "remove", "tiny-u2net"]) == 0
    assert not _target(data_dir, tiny).exists()
    assert "removed" in capsys.readouterr().err


def test_cli_models_get_unreachable_is_one_line(data_dir, tiny, monkeypatch, capsys):
    monkeypatch.setenv(dl.MIRROR_ENV, ms.closed_port_url())
    t0 = time.monotonic()
    assert cli.main(["models", "get", "tiny-u2net"]) == 1
    err = capsys.readouterr().err
    assert time.monotonic() - t0 < 5
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: cannot download tiny-u2net"), lines


def test_cli_models_unknown_name_is_a_usage_error(data_dir, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["models", "get", "no-such-model"])
    assert e.value.code == 2 and "unknown model 'no-such-model'" in capsys.readouterr().err


def test_cli_models_info(data_dir, capsys):
    assert cli.main(["models", "info", "u2net"]) == 0
    out = capsys.readouterr().out
    assert "60024c5c889badc19c04ad937298a77b" in out and "computed here" in out
    assert "https://github.com/danielgatis/rembg/releases/download/v0.0.0/u2net.onnx" in out
