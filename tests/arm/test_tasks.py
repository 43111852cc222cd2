"""The task runner: results on the GUI thread, lanes, newest-wins cancel, one error path."""

from __future__ import annotations

import threading
import time

import pytest
from pytestqt.qtbot import QtBot

from arm.tasks import Lane, TaskHandle, TaskRunner
from services.errors import Cancelled, PeerUnavailable


class Recorder:
    def __init__(self) -> None:
        self.errors: list[BaseException] = []
        self.retries: list[object] = []

    def __call__(self, parent: object, exc: BaseException, retry: object) -> None:
        self.errors.append(exc)
        self.retries.append(retry)


@pytest.fixture
def runner(qtbot: QtBot) -> TaskRunner:
    r = TaskRunner(Recorder())
    yield r  # type: ignore[misc]
    r.shutdown(wait=True)


def test_success_is_delivered_on_the_gui_thread(qtbot: QtBot, runner: TaskRunner) -> None:
    seen: list[tuple[int, str]] = []
    main = threading.get_ident()
    worker: list[int] = []

    def work(state: TaskHandle[int]) -> int:
        worker.append(threading.get_ident())
        return 42

    runner.run(
        work,
        on_success=lambda v: seen.append(
            (v, "main" if threading.get_ident() == main else "worker")
        ),
    )
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    assert seen == [(42, "main")]
    assert worker[0] != main


def test_db_lane_is_serial_and_io_lane_parallel(qtbot: QtBot, runner: TaskRunner) -> None:
    active = {"db": 0, "io": 0}
    peak = {"db": 0, "io": 0}
    lock = threading.Lock()
    done: list[str] = []

    def work(kind: str) -> str:
        with lock:
            active[kind] += 1
            peak[kind] = max(peak[kind], active[kind])
        time.sleep(0.05)
        with lock:
            active[kind] -= 1
        return kind

    for _ in range(4):
        runner.run(lambda _s: work("db"), lane=Lane.DB, on_success=done.append)
        runner.run(lambda _s: work("io"), lane=Lane.IO, on_success=done.append)
    qtbot.waitUntil(lambda: len(done) == 8, timeout=5000)
    assert peak["db"] == 1
    assert peak["io"] > 1


def test_cancel_drops_the_result_and_stops_cooperative_work(
    qtbot: QtBot, runner: TaskRunner
) -> None:
    results: list[object] = []
    steps: list[int] = []
    started = threading.Event()

    def long_work(state: TaskHandle[str]) -> str:
        started.set()
        for i in range(200):
            state.check()
            steps.append(i)
            time.sleep(0.01)
        return "finished"

    handle = runner.run(long_work, on_success=results.append, on_failure=results.append)
    assert started.wait(2)
    handle.cancel()
    qtbot.waitUntil(lambda: handle.finished, timeout=5000)
    assert results == []
    assert len(steps) < 200
    assert not runner.busy


def test_failure_goes_to_the_presenter_with_a_retry(qtbot: QtBot) -> None:
    rec = Recorder()
    runner = TaskRunner(rec)
    attempts: list[int] = []

    def flaky(_s: object) -> None:
        attempts.append(1)
        raise PeerUnavailable("База данных", "connection refused")

    runner.run(flaky)
    qtbot.waitUntil(lambda: bool(rec.errors), timeout=5000)
    assert isinstance(rec.errors[0], PeerUnavailable)
    retry = rec.retries[0]
    assert callable(retry)
    retry()
    qtbot.waitUntil(lambda: len(rec.errors) == 2, timeout=5000)
    assert len(attempts) == 2
    runner.run(lambda _s: (_ for _ in ()).throw(Cancelled()))
    assert runner.wait_idle()
    qtbot.wait(50)
    assert len(rec.errors) == 2  # Cancelled is shown to nobody
    runner.shutdown()


def test_progress_reaches_the_gui_and_busy_signal_toggles(qtbot: QtBot, runner: TaskRunner) -> None:
    progress: list[tuple[int, int]] = []
    busy: list[bool] = []
    runner.sig_busy_changed.connect(busy.append)

    def work(state: TaskHandle[None]) -> None:
        for i in range(1, 4):
            state.report(i, 3, "шаг")
            time.sleep(0.12)

    with qtbot.waitSignal(
        runner.sig_busy_changed, timeout=5000, check_params_cb=lambda b: b is False
    ):
        runner.run(work, on_progress=lambda d, t, _x: progress.append((d, t)))
    assert progress[-1] == (3, 3)
    assert busy == [True, False]


def test_main_thread_gc_collects_young_generations_often_and_everything_rarely(qtbot) -> None:  # type: ignore[no-untyped-def]
    """A full collection (tens of ms) every second froze the GUI; it comes after ten middle
    ones, each after ten young ones — CPython's own schedule, run from the GUI thread."""
    import gc

    from arm.tasks import MainThreadGc

    keeper = MainThreadGc()
    try:
        gc.collect()  # start from a clean slate: all counts zero
        seen = []
        for _ in range(300):
            junk = [[] for _ in range(800)]  # more than the young threshold, still alive
            seen.append(keeper.collect())
            del junk
        assert seen.count(None) == 0
        assert seen[:10] == [0] * 10
        assert seen.index(1) in (10, 11)  # the middle generation after ten young passes
        assert 1 <= seen.count(2) <= 3  # the full one after ten middle ones
        assert seen.count(0) > 250
        assert keeper.collect() is None  # nothing allocated since: nothing to do
    finally:
        keeper.deleteLater()
