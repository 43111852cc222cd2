"""Lab results as the screens see them: one test's values over time, with its reference band.

Plain values (no ORM rows) so a chart or a table can hold them after the session is closed.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import NamedTuple

__all__ = ["LabFlag", "LabPoint", "LabTest", "flag_for"]


class LabFlag(enum.StrEnum):
    NORMAL = ""
    LOW = "L"  # ниже нормы
    HIGH = "H"  # выше нормы
    ABNORMAL = "A"  # a text result outside the norm («обнаружено»)


class LabPoint(NamedTuple):
    """One value of one test (показатель) on one date."""

    taken_at: dt.datetime  # aware, UTC
    value: float | None  # None for a text-only result
    value_text: str  # as the lab printed it: «5,6», «не обнаружено»
    ref_low: float | None
    ref_high: float | None
    flag: LabFlag
    document_id: int


class LabTest(NamedTuple):
    """A test the patient has results for, as listed beside the trend."""

    code: str  # the lab's code of the test, e.g. «GLU»
    name: str  # «Глюкоза»
    unit: str  # «ммоль/л»
    results: int  # how many values (not `count`: that is tuple.count)
    last_taken_at: dt.datetime
    last_flag: LabFlag


def flag_for(value: float | None, ref_low: float | None, ref_high: float | None) -> LabFlag:
    """The flag a numeric value earns against its reference range (bounds inclusive)."""
    if value is None:
        return LabFlag.NORMAL
    if ref_low is not None and value < ref_low:
        return LabFlag.LOW
    if ref_high is not None and value > ref_high:
        return LabFlag.HIGH
    return LabFlag.NORMAL
