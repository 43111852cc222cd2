"""Guards against a broken Qt binding: the app emits thousands of signals an hour.

PySide6 6.12.0 on Python 3.11 loses a reference to ``True`` with every signal emission; a
doctor's session would end in "Fatal Python error: bool_dealloc" after a few thousand clicks
and searches.  pyproject pins the binding below it; this test fails if an upgrade brings such
a leak back.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal
from pytestqt.qtbot import QtBot


class _Emitter(QObject):
    flag = Signal(bool)
    pair = Signal(int, bool)
    number = Signal(int)


def test_signal_emission_keeps_bool_refcounts(qtbot: QtBot) -> None:
    emitter = _Emitter()
    got: list[object] = []
    emitter.flag.connect(got.append)
    emitter.pair.connect(lambda n, b: got.append((n, b)))
    emitter.number.connect(got.append)
    before = sys.getrefcount(True), sys.getrefcount(False)
    for i in range(500):
        emitter.flag.emit(i % 2 == 0)
        emitter.pair.emit(i, True)
        emitter.number.emit(i)
    got.clear()
    assert (sys.getrefcount(True), sys.getrefcount(False)) == before
