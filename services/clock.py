"""The polyclinic's clock: its time zone, its days, and "now" that tests can set.

Timestamps are stored in UTC; a doctor's *day* is a local calendar day in the polyclinic's
zone (Moscow, UTC+3 all year), so "today's schedule" means the same slots on every
workstation whatever the PC's own zone is set to.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo

__all__ = ["clinic_tz", "day_bounds", "local_day", "moscow_tz", "now_utc"]

log = logging.getLogger(__name__)


def moscow_tz() -> dt.tzinfo:
    """Europe/Moscow; a fixed UTC+3 if the OS has no time-zone database (bare Windows).

    Moscow has had no daylight saving time since 2014, so the fallback gives the same instants
    for every date ARM deals with.
    """
    try:
        return zoneinfo.ZoneInfo("Europe/Moscow")
    except zoneinfo.ZoneInfoNotFoundError:
        log.warning("no tz database: using a fixed UTC+3 for Europe/Moscow")
        return dt.timezone(dt.timedelta(hours=3), "MSK")


_TZ = moscow_tz()


def clinic_tz() -> dt.tzinfo:
    return _TZ


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def local_day(ts: dt.datetime, tz: dt.tzinfo | None = None) -> dt.date:
    return ts.astimezone(tz or _TZ).date()


def day_bounds(
    day: dt.date, tz: dt.tzinfo | None = None, days: int = 1
) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants that start ``day`` and end it (or ``days`` days later), half-open."""
    z = tz or _TZ
    start = dt.datetime.combine(day, dt.time(0), z)
    end = dt.datetime.combine(day + dt.timedelta(days=days), dt.time(0), z)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)
