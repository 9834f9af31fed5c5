"""Speed settings change how the process allocates memory, never a result."""

import sys
import threading

import numpy as np
import pytest

from pfpp_sim import speed


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the allocator settings are Linux-only")
def test_keeping_freed_memory_stops_numpy_advising_huge_pages():
    set_madvise = np._core.multiarray._set_madvise_hugepage
    before = set_madvise(True)
    try:
        speed.keep_freed_memory()
        assert set_madvise(True) is False  # what it was: off
    finally:
        set_madvise(before)


def test_run_all_runs_every_job_in_a_pool_or_without_one_and_re_raises_a_failure():
    done = []

    def fail():
        raise RuntimeError("job failed")

    for threads in (1, 2):
        with speed.thread_pool(threads) as pool:
            speed.run_all([lambda i=i: done.append(i) for i in range(3)], pool)
            with pytest.raises(RuntimeError, match="job failed"):
                speed.run_all([fail], pool)
    assert sorted(done) == [0, 0, 1, 1, 2, 2]


def test_submit_gives_a_jobs_result_as_a_future_run_in_a_pool_or_at_once():
    ran = []
    with speed.thread_pool(2) as pool:
        in_pool = speed.submit(pool, lambda: threading.current_thread().name)
        assert in_pool.result() != threading.current_thread().name
    at_once = speed.submit(None, lambda: ran.append("now") or 7)
    assert ran == ["now"] and at_once.done() and at_once.result() == 7
    with pytest.raises(RuntimeError, match="job failed"):
        speed.submit(None, lambda: (_ for _ in ()).throw(RuntimeError("job failed")))


def test_a_process_pools_workers_allocate_as_the_process_that_starts_them(monkeypatch):
    # Workers are started afresh (Mesa asks for spawn), so they would not inherit the setting.
    from pfpp_sim.workers import process_pool

    for kept in (True, False):
        monkeypatch.setattr(speed, "_freed_memory_kept", kept)
        with process_pool(1) as pool:
            assert pool.submit(speed.keeps_freed_memory).result() is kept
