"""Feeding instance files to the runner's I/O lane a few at a time, the urgent ones first.

Why not one task per file: a 400-slice series would put 400 tasks in the I/O lane, queued in
front of the PACS transfer that is still bringing the rest of the study.  Why not one task for
everything: the first image must show at once, and a series the user switches to must not
wait behind the one being loaded.  So at most :attr:`Loader.IN_FLIGHT` tasks run, each
decoding a chunk of :attr:`Loader.CHUNK` files (~10 ms of work); the very first task takes a
single file and runs alone, so the first image costs one decode and is the first file handed
in (a chunk finishing before it would otherwise become the first slice on screen).  Two queues: *urgent* (slices of the series
on screen that must be decoded again, nearest to the current slice first — each request
replaces the previous one: newest wins) ahead of *fresh* arrivals in arrival order.

Results come back on the GUI thread through the runner; after :meth:`Loader.shutdown` (the
viewer closed) running tasks are cancelled and whatever they return is dropped.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from widgets.ports import Handle, Runner
from widgets.viewer.decode import Decoded, decode_many

__all__ = ["Loader"]

log = logging.getLogger(__name__)

Item = tuple[Path, str | None]


@dataclass(eq=False)
class _Task:
    items: list[Item]
    handle: Handle | None = None


class Loader:
    """Decodes files off the GUI thread and hands each finished chunk to ``deliver``."""

    IN_FLIGHT = 2
    """Leave the I/O lane's other workers to the PACS transfer and to other screens."""
    CHUNK = 8

    def __init__(
        self,
        runner: Runner,
        deliver: Callable[[list[Decoded]], None],
        later: Callable[[Callable[[], None]], None] | None = None,
    ) -> None:
        """``later(pump)`` decides when the next chunks start after a delivery (the viewer:
        after the first image is painted); without it they start at once."""
        self._runner = runner
        self._deliver = deliver
        self._later = later
        self._fresh: deque[Item] = deque()
        self._urgent: deque[Item] = deque()
        self._queued: set[Path] = set()
        self._running: set[_Task] = set()
        self._pumping = False
        self._closed = False
        self.delivered = 0

    @property
    def pending(self) -> int:
        """Files queued or being decoded."""
        return len(self._fresh) + len(self._urgent) + sum(len(t.items) for t in self._running)

    def add(self, path: Path, series_hint: str | None = None) -> None:
        if self._closed or path in self._queued:
            return
        self._queued.add(path)
        self._fresh.append((path, series_hint))
        self._pump()

    def reload(self, paths: Iterable[Path]) -> None:
        """Decode these again before anything else; replaces the previous urgent request."""
        if self._closed:
            return
        for path, _hint in self._urgent:
            self._queued.discard(path)
        self._urgent.clear()
        for path in paths:
            if path not in self._queued:
                self._queued.add(path)
                self._urgent.append((path, None))
        self._pump()

    def shutdown(self) -> None:
        """Cancel running work and forget the queues; later results are dropped."""
        self._closed = True
        self._fresh.clear()
        self._urgent.clear()
        self._queued.clear()
        for task in list(self._running):
            if task.handle is not None:
                task.handle.cancel()
        self._running.clear()

    # --- internals -------------------------------------------------------------------------
    def _take(self) -> list[Item]:
        size = 1 if self.delivered == 0 else self.CHUNK
        out: list[Item] = []
        for queue in (self._urgent, self._fresh):
            while queue and len(out) < size:
                out.append(queue.popleft())
        return out

    def _pump(self) -> None:
        # Re-entrant calls (a synchronous runner delivers inside ``run``) leave the work to
        # the loop already running, which sees the new queue state on its next turn.
        if self._pumping:
            return
        self._pumping = True
        try:
            while not self._closed and len(self._running) < self.IN_FLIGHT:
                if self.delivered == 0 and self._running:
                    break  # the first file alone: nothing may overtake the first image
                items = self._take()
                if not items:
                    break
                task = _Task(items)
                self._running.add(task)
                handle = self._runner.run(
                    partial(decode_many, items),
                    lane="io",
                    on_success=partial(self._finish, task),
                    on_failure=partial(self._fail, task),
                )
                if task in self._running:
                    task.handle = handle
        finally:
            self._pumping = False

    def _finish(self, task: _Task, result: list[Decoded]) -> None:
        if self._closed or task not in self._running:
            return
        self._running.discard(task)
        for path, _hint in task.items:
            self._queued.discard(path)
        self.delivered += len(result)
        try:
            self._deliver(result)
        finally:
            if self._later is not None:
                self._later(self._pump)
            else:
                self._pump()

    def _fail(self, task: _Task, exc: BaseException) -> None:
        """Not expected (decoding returns errors as values): the chunk becomes error tiles."""
        log.warning("decoding task failed: %s", type(exc).__name__)
        tiles = [
            Decoded(p, error=f"Ошибка чтения ({type(exc).__name__})", series_hint=h)
            for p, h in task.items
        ]
        self._finish(task, tiles)
