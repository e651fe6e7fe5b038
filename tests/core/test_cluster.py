"""Batches on a real local Dask cluster: two worker processes (so pickling and the per-process
model cache are real), the real model and matting, on tiny photos made here."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

distributed = pytest.importorskip("distributed")  # the [dask] extra; the test extra has it
import cloudpickle  # noqa: E402 - a dependency of distributed
import psutil  # noqa: E402 - a dependency of distributed
from distributed import Client, LocalCluster, WorkerPlugin  # noqa: E402

from matting_studio import cli  # noqa: E402
from matting_studio.cluster.driver import Batch, prepare_workers  # noqa: E402
from matting_studio.cluster.remote import collect, plan, read_url, write_url  # noqa: E402
from matting_studio.core.batch import PlanError, cutout_bytes, cutout_item, plan_batch  # noqa: E402
from matting_studio.core.errors import ExportError, ImageLoadError  # noqa: E402
from matting_studio.core.settings import PipelineSettings  # noqa: E402
from matting_studio.report import read_report  # noqa: E402

# The worker-killing plugin below is defined here, not in an installed module: send it by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def _photo(path: Path, seed: int, size=(72, 96)) -> Path:
    yy, xx = np.mgrid[:size[0], :size[1]]
    disc = np.hypot(yy - size[0] / 2, xx - size[1] / 2 - seed)
    rgb = np.zeros(size + (3,), np.uint8)
    rgb[..., 0] = np.where(disc < size[0] / 3, 230, 25)
    rgb[..., 1] = (xx * 2 + seed * 37).astype(np.uint8)
    rgb[..., 2] = (yy * 3).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(path)
    return path


def _shoot(folder: Path, n: int) -> Path:
    for i in range(n):
        _photo(folder / f"p{i:02d}.png", i)
    return folder


def _alpha(path) -> np.ndarray:
    im = Image.open(path)
    assert im.mode == "RGBA"
    return np.asarray(im)[:, :, 3].astype(np.int16)


def _no_temporaries(folder: Path) -> bool:
    return not [p for p in folder.rglob("*") if p.name.startswith(".") or p.suffix == ".part"]


@pytest.fixture(scope="module")
def client():
    """Two worker processes, one thread each, no photo slots declared: the workers' set-up
    must give each one."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=40) as cluster, Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def local_reference(tmp_path_factory):
    """Six photos and their cut-outs from the plain local batch."""
    root = tmp_path_factory.mktemp("reference")
    shoot = _shoot(root / "shoot", 6)
    assert cli.main(["cutout", str(shoot), "-o", str(root / "local"), "-q"]) == 0
    return shoot, root / "local"


def _worker_state(dask_worker):
    from matting_studio.core import executor, segmentation

    return {"pid": os.getpid(), "budget": executor.thread_budget(),
            "slots": dask_worker.state.total_resources.get("photo"),
            "models": [id(m) for m in segmentation._sessions.values()]}


class _Recorder:
    """A progress bar that notes how many photo tasks the scheduler holds at each photo."""

    def __init__(self, client):
        self.client, self.held, self.lines, self.n = client, [], [], 0

    def update(self, n):
        self.n += n
        self.held.append(self.client.run_on_scheduler(
            lambda dask_scheduler: sum(str(k).startswith("matting-studio")
                                       for k in dask_scheduler.tasks)))

    def set_postfix_str(self, *_args, **_kwargs):
        pass

    def write(self, line, file=None):
        self.lines.append(line)


def test_encoded_outputs_are_the_files_a_local_batch_writes(tmp_path):
    src = _photo(tmp_path / "a.png", 3)
    item = plan_batch([src], str(tmp_path / "c.png"), str(tmp_path / "al.png"),
                      str(tmp_path / "t.png"))[0]
    cutout_item(item, PipelineSettings())
    encoded = cutout_bytes(src.read_bytes(), "a.png", PipelineSettings(),
                           [("cut-out", "x.png"), ("alpha", "y.png"), ("trimap", "z.png")])
    assert encoded == [(tmp_path / n).read_bytes() for n in ("c.png", "al.png", "t.png")]


def test_url_batches_are_planned_by_the_local_rules():
    two = ["memory://shoot/a.jpg", "memory://shoot/a.png"]
    with pytest.raises(PlanError, match="would both be written to a_cutout.png"):
        plan(two, "memory://out/")
    assert [p.outputs for p in plan(two, "memory://out", template="{stem}_{ext}.png")] == [
        (("cut-out", "memory://out/a_jpg.png"),), (("cut-out", "memory://out/a_png.png"),)]
    assert plan(["memory://s/a.png"])[0].outputs == (("cut-out", "memory://s/a_cutout.png"),)
    with pytest.raises(PlanError, match="a.png is an input file"):
        plan(["memory://s/a.png"], "memory://s/x/../a.png")
    with pytest.raises(PlanError, match="single photo"):
        plan(two, "memory://out/", alpha_out="memory://out/a.png")
    with pytest.raises(PlanError, match="cannot be a .gif file"):
        plan(["memory://s/a.png"], "memory://s/a.gif")
    with pytest.raises(PlanError, match="trimap"):  # a trimap must be lossless
        plan(["memory://s/a.png"], "memory://s/o.png", trimap_out="memory://s/t.jpg")
    with pytest.raises(PlanError, match="--trimap must be a file on this computer"):
        plan(["memory://s/a.png"], user_trimap="memory://s/t.png")


def test_urls_are_listed_read_and_written_whole():
    import uuid

    bucket = f"b{uuid.uuid4().hex[:8]}"  # the memory filesystem lives as long as the process
    write_url(f"memory://{bucket}/shoot/b.png", b"B")
    write_url(f"memory://{bucket}/shoot/a.jpg", b"A")
    write_url(f"memory://{bucket}/shoot/notes.txt", b"x")
    write_url(f"memory://{bucket}/shoot/deep/c.png", b"C")
    found = collect([f"memory://{bucket}/shoot"])
    assert found.photos == [f"memory:///{bucket}/shoot/a.jpg", f"memory:///{bucket}/shoot/b.png"]
    assert found.notes == [f"memory://{bucket}/shoot: skipped 1 file that are not photos"]
    assert collect([f"memory://{bucket}/shoot"], recursive=True).photos[-1].endswith("deep/c.png")
    assert collect([f"memory://{bucket}/shoot/*.png"]).photos == [f"memory:///{bucket}/shoot/b.png"]
    assert collect([f"memory://{bucket}/none/"]).problems
    assert read_url(f"memory://{bucket}/shoot/b.png") == b"B"
    with pytest.raises(ImageLoadError, match="x.png: file not found"):
        read_url(f"memory://{bucket}/x.png")
    with pytest.raises(ExportError, match="refusing to overwrite the original"):
        write_url(f"memory://{bucket}/shoot/a.jpg", b"!", protect=[f"memory://{bucket}/shoot/a.jpg"])
    # a filesystem that is neither local nor an object store: temporary name, then a move
    write_url(f"memory://{bucket}/out/x.png", b"X" * 1000)
    from fsspec.core import url_to_fs

    fs, _ = url_to_fs("memory://")
    assert fs.ls(f"/{bucket}/out", detail=False) == [f"/{bucket}/out/x.png"]
    assert fs.cat_file(f"/{bucket}/out/x.png") == b"X" * 1000


def test_two_worker_processes_give_the_local_alpha_with_bounded_submission(
        client, local_reference, tmp_path):
    shoot, local = local_reference
    prepare_workers(client)
    planned = plan([str(p) for p in sorted(shoot.iterdir())], str(tmp_path / "out"))
    bar = _Recorder(client)
    records = Batch(client, planned, PipelineSettings(), bar=bar, on_error=bar.lines.append).run()
    assert [r.status for r in records] == ["done"] * 6 and not bar.lines
    for p in sorted(local.iterdir()):
        assert np.abs(_alpha(p) - _alpha(tmp_path / "out" / p.name)).max() <= 1
    # back-pressure: 2 photo slots → at most 2 × 2 + 2 tasks on the scheduler at any time
    assert bar.n == 6 and max(bar.held) <= 6
    state = client.run(_worker_state)
    workers = {r.worker for r in records}
    assert workers <= set(state)
    for address, s in state.items():
        assert s["pid"] != os.getpid() and s["slots"] == 1 and s["budget"] == 1
        assert len(s["models"]) == (1 if address in workers else 0)
    # each worker process keeps its model (the same object) for the next batch
    again = Batch(client, plan([str(p) for p in sorted(shoot.iterdir())[:2]],
                               str(tmp_path / "again")), PipelineSettings()).run()
    assert [r.status for r in again] == ["done"] * 2
    later = client.run(_worker_state)
    for address in workers:
        assert later[address]["models"] == state[address]["models"]


def test_a_bad_photo_is_one_line_and_exit_1_with_a_report(client, local_reference, tmp_path,
                                                         capsys):
    shoot, _ = local_reference
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for name in ("p01.png", "p02.png"):
        (mixed / name).write_bytes((shoot / name).read_bytes())
    (mixed / "p00.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG")
    report = tmp_path / "r" / "report.csv"
    code = cli.main(["cutout", str(mixed), "-o", str(tmp_path / "out"), "-q",
                     "--dask", client.scheduler.address, "--report", str(report)])
    err = capsys.readouterr().err
    assert code == 1
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: p00.jpg: ") and "Traceback" not in err
    assert "1 of 3 photo(s) failed" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["p01_cutout.png",
                                                                    "p02_cutout.png"]
    rows = read_report(report)
    assert [(Path(r["photo"]).name, r["status"]) for r in rows] == [
        ("p00.jpg", "failed"), ("p01.png", "done"), ("p02.png", "done")]
    assert rows[0]["message"] == errors[0][len("error: "):]
    workers = set(client.scheduler_info()["workers"])
    assert all(r["worker"] in workers and float(r["seconds"]) >= 0 for r in rows), (rows, workers)
    assert rows[1]["outputs"] == str(tmp_path / "out" / "p01_cutout.png")
    # the same report from a local batch
    code = cli.main(["cutout", str(mixed), "-o", str(tmp_path / "out2"), "-q",
                     "--report", str(tmp_path / "local.csv")])
    assert code == 1
    local_rows = read_report(tmp_path / "local.csv")
    assert [(r["status"], r["worker"], r["message"]) for r in local_rows] == [
        (r["status"], "local", r["message"]) for r in rows]


def test_single_photo_options_give_the_local_files(client, local_reference, tmp_path):
    shoot, _ = local_reference
    trimap = np.zeros((72, 96), np.uint8)
    trimap[10:60, 20:80] = 128
    trimap[25:45, 35:65] = 255
    Image.fromarray(trimap).save(tmp_path / "tri.png")
    runs = {"local": [], "dask": ["--dask", client.scheduler.address]}
    for name, extra in runs.items():
        out = tmp_path / name
        assert cli.main(["cutout", str(shoot / "p03.png"), "-o", str(out / "c.png"), "-q",
                         "--trimap", str(tmp_path / "tri.png"), "--alpha-out",
                         str(out / "a.png"), "--trimap-out", str(out / "t.png"), *extra]) == 0
    for f in ("c.png", "a.png", "t.png"):
        assert (tmp_path / "local" / f).read_bytes() == (tmp_path / "dask" / f).read_bytes()
    assert np.asarray(Image.open(tmp_path / "dask" / "a.png"))[:10].max() == 0  # the trimap's
    # the finishing options too: a JPEG on a colour, feathered, on a canvas
    for name, extra in runs.items():
        assert cli.main(["cutout", str(shoot / "p04.png"), "-o", str(tmp_path / name / "f.jpg"),
                         "-q", "--background", "#2040ff", "--feather", "2", "--canvas", "64x64",
                         *extra]) == 0
    finished = (tmp_path / "dask" / "f.jpg").read_bytes()
    assert finished[:2] == b"\xff\xd8" and finished == (tmp_path / "local" / "f.jpg").read_bytes()
    assert Image.open(tmp_path / "dask" / "f.jpg").size == (64, 64)


class _KillOnFirstPhoto(WorkerPlugin):
    """Kills the worker process running the batch's first photo task, once in all."""

    def __init__(self, marker: str):
        self.marker = marker

    def transition(self, key, start, finish, **kwargs):
        if finish != "executing" or not str(key).startswith("matting-studio"):
            return
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        os.write(fd, str(key).encode())
        os.close(fd)
        os.kill(os.getpid(), signal.SIGKILL)


def test_a_worker_killed_mid_photo_its_photo_runs_elsewhere(client, local_reference, tmp_path):
    shoot, local = local_reference
    marker = tmp_path / "killed"
    client.register_plugin(_KillOnFirstPhoto(str(marker)), name="kill-first")
    try:
        prepare_workers(client)
        planned = plan([str(p) for p in sorted(shoot.iterdir())], str(tmp_path / "out"))
        records = Batch(client, planned, PipelineSettings()).run()
    finally:
        client.unregister_worker_plugin("kill-first")
    assert marker.read_text().startswith("matting-studio")  # a worker did die mid-task
    client.wait_for_workers(2, timeout=60)  # its nanny started a fresh one, set up as before
    deadline = time.monotonic() + 30
    while not all(s["slots"] == 1 for s in client.run(_worker_state).values()):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert all(s["budget"] == 1 for s in client.run(_worker_state).values())
    assert [r.status for r in records] == ["done"] * 6
    for p in sorted(local.iterdir()):
        assert np.abs(_alpha(p) - _alpha(tmp_path / "out" / p.name)).max() <= 1
    assert _no_temporaries(tmp_path / "out")


def test_file_urls_in_and_out_on_a_local_cluster_that_then_shuts_down(local_reference,
                                                                    tmp_path):
    shoot, local = local_reference
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    out = tmp_path / "out"
    code = cli.main(["cutout", f"{shoot.as_uri()}/p0[0-2].png", "-o", out.as_uri() + "/",
                     "--name", "{stem}.png", "--dask", "local", "-q",
                     "--report", str(tmp_path / "r.csv")])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["p00.png", "p01.png", "p02.png"]
    for i in range(3):
        assert np.abs(_alpha(local / f"p{i:02d}_cutout.png") - _alpha(out / f"p{i:02d}.png")
                      ).max() <= 1
    rows = read_report(tmp_path / "r.csv")
    assert [r["outputs"] for r in rows] == [f"{out.as_uri()}/p{i:02d}.png" for i in range(3)]
    assert _no_temporaries(out)
    time.sleep(0.5)
    left = [p for p in psutil.Process().children(recursive=True)
            if p.pid not in before and p.status() != psutil.STATUS_ZOMBIE]
    assert not left  # the local cluster's worker processes are gone


def test_url_and_scheduler_mistakes_are_one_line(tmp_path, capsys):
    import dask

    photo = _photo(tmp_path / "a.png", 1)
    with pytest.raises(SystemExit) as e:
        cli.main(["cutout", photo.as_uri(), "-q"])
    assert e.value.code == 2 and "add --dask" in capsys.readouterr().err
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        code = cli.main(["cutout", str(photo), "-q", "--dask", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: cannot reach the Dask scheduler at "
                                        "tcp://127.0.0.1:9") and len(err.splitlines()) == 1
    with pytest.raises(SystemExit) as e:
        cli.main(["cutout", str(photo), "--dask", "local", "--report", str(tmp_path / "r.txt")])
    assert e.value.code == 2 and "must be a .csv file" in capsys.readouterr().err


def test_ctrl_c_cancels_the_rest_and_the_local_cluster_shuts_down(tmp_path):
    shoot = _shoot(tmp_path / "shoot", 16)
    out, report = tmp_path / "out", tmp_path / "r.csv"
    proc = subprocess.Popen(
        [sys.executable, "-m", "matting_studio", "cutout", str(shoot), "-o", str(out),
         "--dask", "local", "--report", str(report)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    workers: set[int] = set()
    deadline = time.monotonic() + 120
    while not list(out.glob("p*.png")) and time.monotonic() < deadline:  # a finished one
        try:
            workers |= {p.pid for p in psutil.Process(proc.pid).children(recursive=True)}
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl+C in a terminal does: the whole group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.rstrip().endswith("matting-studio: interrupted")
    assert workers
    time.sleep(0.5)
    assert not [p for p in workers if psutil.pid_exists(p)
                and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    rows = read_report(report)
    done = {Path(r["outputs"]).name for r in rows if r["status"] == "done"}
    assert len(rows) == 16 and len(done) < 16
    assert {r["status"] for r in rows} <= {"done", "not run"}
    written = {p.name for p in out.iterdir()}
    # done → written; one more may be written if the interrupt came as it was put in place
    assert done <= written and len(written - done) <= 1 and 0 < len(written) < 16
    for name in written:
        assert _alpha(out / name).shape == (72, 96)  # whole files only
    assert _no_temporaries(out)
