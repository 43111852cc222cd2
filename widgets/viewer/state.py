"""What the viewer holds, Qt-free: the patient it is fixed to, its series stacks, decoded pixels.

*Patient fixed.*  A viewer is opened for one :class:`ViewerSubject` and keeps it for life.
Every decoded instance passes :meth:`ViewerSubject.refusal` before it joins a stack: another
Study Instance UID, or a Patient ID other than the one the study is filed under, and it is
dropped (counted, never shown).  That one check is what makes "patient B's retrieval finished
while A is on screen" harmless however the instance got here.

*Progressive.*  Instances arrive in any order (parallel C-GET associations, a CD copy), so
each stack keeps itself sorted as slices come — by position along the slice normal (as
:mod:`dicom.sorting` and the cache do), in the direction the scanner numbered them (instance 1
first, normally the head end) — and the *current slice is kept by identity*: a slice arriving
before it moves the index, not the picture.

*Memory.*  Pixels stay as the reader returned them (int16 for CT: 1.0× the raw size); the
canvas has one uint8 display buffer; no QImage per slice.  Past ``pixel_budget`` bytes the
pixels of series other than the one on screen are dropped (least recently viewed first) and
decoded again when the user comes back to them; geometry and order stay.
"""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dicom.reader import Geometry
from dicom.windowing import Window, default_window
from widgets.viewer.decode import Decoded, Header

__all__ = [
    "DEFAULT_PIXEL_BUDGET",
    "UNREADABLE",
    "SeriesStack",
    "SliceEntry",
    "StudyState",
    "ViewerSubject",
]

DEFAULT_PIXEL_BUDGET = 512 << 20
"""Decoded pixels kept in memory across series: two 400-slice CT series fit."""

UNREADABLE = ""
"""The series uid under which unreadable files with no known series are shown."""


@dataclass(frozen=True)
class ViewerSubject:
    """Whom and what a viewer was opened for; fixed for the viewer's life.

    ``patient_id`` is the DICOM Patient ID the study is filed under (``StudyRecord.patient_id``
    of the cache, which the EMK matched to its patient); ``patient_name`` is what the overlay
    shows (the EMK's ФИО).
    """

    patient_id: str
    patient_name: str
    study_uid: str
    study_date: str = ""
    """YYYYMMDD; the files' own date is shown when this is empty."""
    study_description: str = ""

    def refusal(self, decoded: Decoded) -> str | None:
        """Why this instance must not be shown here, or None when it belongs to this study.

        The reasons are for the log and the status line: they name no patient.
        """
        frame, header = decoded.frame, decoded.header
        if frame is None or header is None:
            return "нет данных для проверки"
        if frame.study_uid.strip() != self.study_uid.strip():
            return "другое исследование"
        if header.patient_id != self.patient_id.strip():
            return "другой пациент"
        return None


@dataclass(eq=False)
class SliceEntry:
    """One slice of a stack: decoded (``pixels``), waiting to be (again), or an error tile."""

    key_id: str
    """The SOP Instance UID; ``file:<path>`` for an unreadable file."""
    path: Path | None
    geometry: Geometry | None = None
    pixels: np.ndarray | None = None
    error: str | None = None

    @property
    def position(self) -> float | None:
        g = self.geometry
        pos = g.slice_position if g is not None else None
        return pos if pos is not None and math.isfinite(pos) else None

    @property
    def number(self) -> int | None:
        return self.geometry.instance_number if self.geometry is not None else None

    @property
    def nbytes(self) -> int:
        return int(self.pixels.nbytes) if self.pixels is not None else 0


class SeriesStack:
    """One series' slices in display order, its current slice and its window."""

    def __init__(self, uid: str, arrival: int) -> None:
        self.uid = uid
        self.arrival = arrival
        self.number: int | None = None
        self.description = ""
        self.modality = ""
        self.slices: list[SliceEntry] = []
        self._keys: list[tuple[int, float, float, str]] = []
        self.index = 0
        self.sign = 1.0
        """+1: ascending along the normal; −1 when instance numbers run the other way."""
        self.window: Window | None = None
        self.default: Window | None = None
        self.preset: str | None = "default"
        """The preset the window was last set from ("default": the file's); None once dragged."""
        self.last_viewed = 0
        """When it was last on screen (a counter; 0: never)."""

    def __len__(self) -> int:
        return len(self.slices)

    @property
    def current(self) -> SliceEntry | None:
        return self.slices[self.index] if self.slices else None

    @property
    def errors(self) -> int:
        return sum(1 for e in self.slices if e.error is not None)

    def key(self, e: SliceEntry) -> tuple[int, float, float, str]:
        if e.error is not None:
            return (3, 0.0, 0.0, e.key_id)
        pos, num = e.position, e.number
        if pos is not None:
            return (0, self.sign * pos, self.sign * (num or 0), e.key_id)
        if num is not None:
            return (1, self.sign * num, 0.0, e.key_id)
        return (2, 0.0, 0.0, e.key_id)

    def find(self, entry: SliceEntry) -> int:
        i = bisect.bisect_left(self._keys, self.key(entry))
        if i < len(self.slices) and self.slices[i] is entry:
            return i
        return self.slices.index(entry)  # only if a key changed in place; never expected

    def put(self, entry: SliceEntry) -> None:
        """Insert ``entry`` in order; the current slice stays the current slice.

        A series nobody has looked at yet has no current slice to keep: it stays at its first
        slice, so it opens at slice 1 whatever order its files came in.
        """
        current = self.current if self.last_viewed else None
        k = self.key(entry)
        i = bisect.bisect_left(self._keys, k)
        self._keys.insert(i, k)
        self.slices.insert(i, entry)
        if current is not None and i <= self.index:
            self.index += 1
        if self._direction_flipped():
            self._resort()
        if current is None:
            self.index = 0
        elif self.slices[self.index] is not current:
            self.index = self.find(current)

    def remove(self, entry: SliceEntry) -> None:
        current = self.current
        i = self.find(entry)
        del self.slices[i], self._keys[i]
        if current is entry:
            self.index = min(i, max(len(self.slices) - 1, 0))
        elif current is not None:
            self.index = self.find(current)

    def _direction_flipped(self) -> bool:
        """Instance numbers fall along the positions: show the scanner's order (1 first)."""
        placed = [e for e in (self.slices[0], self._last_positioned()) if e is not None]
        if len(placed) < 2 or placed[0] is placed[1]:
            return False
        a, b = placed[0].number, placed[1].number
        if a is None or b is None or a == b:
            return False
        if a > b:
            self.sign = -self.sign
            return True
        return False

    def _last_positioned(self) -> SliceEntry | None:
        for e in reversed(self.slices):
            if e.position is not None:
                return e
        return None

    def _resort(self) -> None:
        pairs = sorted(((self.key(e), e) for e in self.slices), key=lambda p: p[0])
        self._keys = [p[0] for p in pairs]
        self.slices = [p[1] for p in pairs]

    def go(self, index: int) -> bool:
        """Make slice ``index`` current (clamped); True if the picture changed."""
        if not self.slices:
            return False
        new = max(0, min(index, len(self.slices) - 1))
        changed = new != self.index
        self.index = new
        return changed

    def describe(self, header: Header) -> None:
        if self.number is None:
            self.number = header.series_number
        self.description = self.description or header.series_description
        self.modality = self.modality or header.modality


@dataclass
class Accepted:
    """What :meth:`StudyState.accept` did with a batch: for the strip, the canvas, the status."""

    touched: set[str] = field(default_factory=set)
    new_series: bool = False
    current_changed: bool = False
    refusals: list[str] = field(default_factory=list)


class StudyState:
    """The study on screen: its stacks, which is current, and the pixels kept in memory."""

    def __init__(self, subject: ViewerSubject, pixel_budget: int = DEFAULT_PIXEL_BUDGET) -> None:
        self.subject = subject
        self.pixel_budget = pixel_budget
        self.series: dict[str, SeriesStack] = {}
        self.current_uid: str | None = None
        self.resident = 0
        self.rejected = 0
        self.study_date = subject.study_date
        self.study_description = subject.study_description
        self.user_moved = False
        self._where: dict[str, str] = {}
        self._arrivals = itertools.count()
        self._views = itertools.count(1)

    # --- queries ---------------------------------------------------------------------------
    @property
    def current(self) -> SeriesStack | None:
        return self.series.get(self.current_uid) if self.current_uid is not None else None

    def order(self) -> list[str]:
        """The strip's order: series number, then arrival; unreadable files last."""

        def key(s: SeriesStack) -> tuple[int, int, int]:
            last = 1 if s.uid == UNREADABLE else 0
            return (last, s.number if s.number is not None else 1 << 30, s.arrival)

        return [s.uid for s in sorted(self.series.values(), key=key)]

    @property
    def errors(self) -> int:
        return sum(s.errors for s in self.series.values())

    # --- arrivals --------------------------------------------------------------------------
    def accept(self, batch: list[Decoded]) -> Accepted:
        """Take a decoded batch: checked frames into their stacks, errors as tiles.

        Pixels are kept for now (the strip makes thumbnails from them); the caller then calls
        :meth:`trim` to get back under the budget.
        """
        out = Accepted()
        for d in batch:
            if d.error is not None:
                self._put(
                    d.series_hint or UNREADABLE,
                    SliceEntry(f"file:{d.path}", d.path, error=d.error),
                    out,
                )
                continue
            refusal = self.subject.refusal(d)
            if refusal is not None or d.frame is None or d.header is None:
                self.rejected += 1
                out.refusals.append(refusal or "нет данных для проверки")
                continue
            frame, header = d.frame, d.header
            self.study_date = self.study_date or header.study_date
            self.study_description = self.study_description or header.study_description
            entry = SliceEntry(
                frame.sop_uid or f"file:{d.path}", d.path, frame.geometry, frame.pixels
            )
            stack = self._put(frame.series_uid, entry, out)
            stack.describe(header)
            if stack.default is None:
                stack.default = _initial_window(frame.geometry, frame.pixels)
                stack.window = stack.default
        self._choose_current(out)
        return out

    def _put(self, uid: str, entry: SliceEntry, out: Accepted) -> SeriesStack:
        """Insert ``entry`` into series ``uid``, or refresh the slice it repeats.

        A repeat (a slice decoded again after its pixels were dropped, a file sent twice)
        updates the entry already there when it sorts the same, so the entry — and with it
        the current slice and its rulers — stays the same object.
        """
        stack = self.series.get(uid)
        if stack is None:
            stack = self.series[uid] = SeriesStack(uid, next(self._arrivals))
            out.new_series = True
        out.touched.add(uid)
        old_uid = self._where.get(entry.key_id)
        if old_uid is not None:
            old_stack = self.series[old_uid]
            old = old_stack.slices[self._index_of(old_stack, entry.key_id)]
            self.resident -= old.nbytes
            if old_stack is stack and stack.key(old) == stack.key(entry):
                old.path, old.geometry, old.pixels, old.error = (
                    entry.path, entry.geometry, entry.pixels, entry.error,
                )  # fmt: skip
                self.resident += old.nbytes
                return stack
            was_current = old_stack is stack and old_stack.current is old
            old_stack.remove(old)
            out.touched.add(old_uid)
            if not old_stack.slices and old_stack is not stack:
                self._drop_series(old_stack, out)
            stack.put(entry)
            if was_current:
                stack.index = stack.find(entry)
        else:
            stack.put(entry)
        self._where[entry.key_id] = uid
        self.resident += entry.nbytes
        return stack

    @staticmethod
    def _index_of(stack: SeriesStack, key_id: str) -> int:
        for i, e in enumerate(stack.slices):
            if e.key_id == key_id:
                return i
        raise KeyError(key_id)

    def _drop_series(self, stack: SeriesStack, out: Accepted) -> None:
        del self.series[stack.uid]
        out.new_series = True  # the strip's rows changed
        if self.current_uid == stack.uid:
            self.current_uid = None
            out.current_changed = True

    def _choose_current(self, out: Accepted) -> None:
        """The first image shows by itself; an unreadable-files tile gives way to a real one."""
        cur = self.current
        if cur is not None and (cur.uid != UNREADABLE or self.user_moved):
            return
        order = [u for u in self.order() if self.series[u].slices]
        real = [u for u in order if u != UNREADABLE]
        pick = real[0] if real else (order[0] if order else None)
        if pick is not None and pick != self.current_uid:
            self.current_uid = pick
            self.series[pick].last_viewed = next(self._views)
            out.current_changed = True

    # --- navigation ------------------------------------------------------------------------
    def select(self, uid: str) -> list[Path]:
        """Make series ``uid`` current; returns the paths of its slices to decode again."""
        if uid not in self.series:
            return []
        self.current_uid = uid
        stack = self.series[uid]
        stack.last_viewed = next(self._views)
        self.trim()
        return self.missing(stack)

    def missing(self, stack: SeriesStack) -> list[Path]:
        """Slices of ``stack`` without pixels, nearest to its current slice first."""
        waiting = [
            (abs(i - stack.index), e.path)
            for i, e in enumerate(stack.slices)
            if e.pixels is None and e.error is None and e.path is not None
        ]
        return [p for _d, p in sorted(waiting, key=lambda t: t[0])]

    def trim(self) -> None:
        """Drop other series' pixels, least recently viewed first, until under budget."""
        if self.resident <= self.pixel_budget:
            return
        others = sorted(
            (s for s in self.series.values() if s.uid != self.current_uid),
            key=lambda s: s.last_viewed,
        )
        for stack in others:
            for e in stack.slices:
                if e.pixels is not None:
                    self.resident -= e.nbytes
                    e.pixels = None
            if self.resident <= self.pixel_budget:
                return


def _initial_window(geometry: Geometry, pixels: np.ndarray) -> Window:
    """The file's window, else the data's full range — always finite and at least 1 wide."""
    try:
        w = default_window(
            geometry.window_center,
            geometry.window_width,
            pixels,
            geometry.rescale_slope,
            geometry.rescale_intercept,
        )
    except (ValueError, TypeError, OverflowError):
        return Window(0.0, 256.0)
    if not (math.isfinite(w.center) and math.isfinite(w.width)):
        return Window(0.0, 256.0)
    return Window(w.center, max(w.width, 1.0))
