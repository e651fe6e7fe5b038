"""The background worker: request ids, latest wins, cancellation, stale results dropped, and
typed messages (Preview, Final, Failed) as the only way results reach the window."""

from __future__ import annotations

import threading
import time

import pytest

from matting_studio.core.errors import ImageLoadError
from matting_studio.gui.worker import Failed, Final, Preview, Worker


def slow_job(value, started=None, seconds=2.0):
    def job(ctx):
        if started is not None:
            started.set()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ctx.cancel.check()
            ctx.progress(0.5, "working")
            time.sleep(0.005)
        return value
    return job


def test_synchronous_mode_runs_inline_and_delivers(qtbot):
    w = Worker("t", synchronous=True)
    got = []
    w.previewed.connect(got.append)
    w.finished.connect(got.append)

    def job(ctx):
        ctx.preview("quick")
        return 42

    rid = w.submit(job, tag="x")
    assert got == [Preview(rid, "x", "quick"), Final(rid, "x", 42)] and not w.is_busy()


def test_latest_wins_running_job_is_cancelled_and_pending_never_run(qtbot):
    w = Worker("t")
    started = threading.Event()
    ran = []
    got = []
    w.finished.connect(lambda m: got.append(m.payload))

    def recording(value):
        def job(ctx):
            ran.append(value)
            return value
        return job

    w.submit(slow_job("first", started, seconds=30), tag="1")
    assert started.wait(10)
    for i in range(10):
        w.submit(recording(i))
    last = w.submit(recording("last"))
    qtbot.waitUntil(lambda: not w.is_busy(), timeout=10_000)
    qtbot.waitUntil(lambda: got == ["last"], timeout=5_000)
    assert w.latest_id == last
    assert "first" not in got
    # queued jobs superseded before they started never ran (at most one slipped in while
    # "first" was winding down after its cancel)
    assert ran[-1] == "last" and len(ran) <= 2
    assert w.cancelled_count >= 1
    w.shutdown()


def test_stale_result_is_dropped(qtbot):
    w = Worker("t")
    gate = threading.Event()
    got = []
    w.finished.connect(lambda m: got.append(m.payload))
    w.previewed.connect(lambda m: got.append(("preview", m.payload)))

    def uncancellable(ctx):  # ignores its token, finishes late
        gate.wait(10)
        ctx.preview("stale preview")
        return "stale"

    w.submit(uncancellable)
    time.sleep(0.05)
    w.submit(lambda ctx: "fresh")
    gate.set()
    qtbot.waitUntil(lambda: not w.is_busy(), timeout=10_000)
    qtbot.waitUntil(lambda: got == ["fresh"], timeout=5_000)
    assert w.stale_dropped == 1
    w.shutdown()


def test_errors_are_reported_not_raised(qtbot):
    w = Worker("t", synchronous=True)
    errors = []
    w.failed.connect(errors.append)
    rid = w.submit(lambda ctx: (_ for _ in ()).throw(ImageLoadError("x.jpg:\n damaged")))
    w.submit(lambda ctx: 1 / 0)
    assert errors[0] == Failed(rid, "", "x.jpg: damaged")  # one line
    assert "ZeroDivisionError" in errors[1].message


def test_cancel_drops_everything(qtbot):
    w = Worker("t")
    got = []
    w.finished.connect(got.append)
    started = threading.Event()
    w.submit(slow_job("x", started, seconds=30))
    assert started.wait(10)
    w.cancel()
    qtbot.waitUntil(lambda: not w.is_busy(), timeout=10_000)
    assert got == []
    w.shutdown()
    with pytest.raises(RuntimeError):
        w.submit(lambda ctx: 1)
