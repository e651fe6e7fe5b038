"""The core's one thread budget: results in order, errors on the caller, no deadlock when
parallel work nests, and nothing beyond the budget running at once."""

from __future__ import annotations

import threading
import time

import pytest

from matting_studio.core.errors import Cancelled
from matting_studio.core.executor import parallel_map, spawn, thread_budget


def test_parallel_map_keeps_the_order_and_reports_each_item(set_budget):
    set_budget(3)
    seen = []
    out = parallel_map(lambda x: x * x, range(50), on_done=lambda d, t: seen.append((d, t)))
    assert out == [x * x for x in range(50)]
    assert [d for d, _ in seen] == list(range(1, 51)) and {t for _, t in seen} == {50}


def test_a_failure_stops_new_items_and_reaches_the_caller(set_budget):
    set_budget(2)
    started = []

    def work(x):
        started.append(x)
        if x == 3:
            raise Cancelled()
        time.sleep(0.01)
        return x

    with pytest.raises(Cancelled):
        parallel_map(work, range(100))
    assert len(started) < 100


def test_nested_parallel_work_finishes_and_stays_within_the_budget(set_budget):
    """Tiles that each ask for parallel flows (the matting driver's shape) on a budget of 2:
    no deadlock, and never more than 2 threads inside the innermost work at once."""
    set_budget(2)
    lock = threading.Lock()
    active = [0, 0]  # now, most

    def leaf(x):
        with lock:
            active[0] += 1
            active[1] = max(active[1], active[0])
        time.sleep(0.002)
        with lock:
            active[0] -= 1
        return x

    def tile(i):
        inner = spawn(lambda: sum(parallel_map(leaf, range(4))))
        return sum(parallel_map(leaf, range(6))) + inner.result()

    assert parallel_map(tile, range(12)) == [15 + 6] * 12
    assert active[1] <= 2


def test_a_budget_of_one_runs_everything_on_the_caller(set_budget):
    set_budget(1)
    main = threading.get_ident()
    assert parallel_map(lambda _: threading.get_ident(), range(8)) == [main] * 8
    assert spawn(threading.get_ident).result() == main


def test_deferred_runs_on_the_caller_when_no_thread_is_free(set_budget):
    set_budget(2)
    gate = threading.Event()
    busy = spawn(gate.wait, 5)  # occupies the one pool worker
    time.sleep(0.05)
    job = spawn(threading.get_ident)
    assert job.result() == threading.get_ident()  # not left waiting behind ``busy``
    gate.set()
    assert busy.result() is True


def test_errors_of_spawned_work_reach_the_caller():
    def fail():
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        spawn(fail).result()


def test_default_budget_is_the_usable_cores(set_budget):
    from matting_studio.core.cpu import usable_cores

    set_budget(None)
    assert thread_budget() == usable_cores()
    set_budget(3)
    assert thread_budget() == 3
    with pytest.raises(ValueError):
        set_budget(0)
