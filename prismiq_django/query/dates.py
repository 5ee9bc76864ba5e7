"""Calendar arithmetic for ``date_relative`` filters and time-zone naming. Pure, no I/O.

Ranges are half-open ``[start, end)`` in the site's time zone. Weeks start on Monday. Periods are
whole calendar units that *include* the current one: ``last_7_days`` is today and the six days
before it; ``{"last": 3, "unit": "month"}`` is this month and the two before it. ``last_week``,
``last_month``... are the previous complete unit.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Literal, TypeAlias
from zoneinfo import ZoneInfo

Unit: TypeAlias = Literal["day", "week", "month", "quarter", "year"]
UNITS: frozenset[str] = frozenset(Unit.__args__)  # type: ignore[attr-defined]

#: preset -> (unit, how many units back the range starts, how many units it spans)
PRESETS: dict[str, tuple[Unit, int, int]] = {
    "today": ("day", 0, 1),
    "yesterday": ("day", 1, 1),
    "last_7_days": ("day", 6, 7),
    "last_30_days": ("day", 29, 30),
    "this_week": ("week", 0, 1),
    "last_week": ("week", 1, 1),
    "this_month": ("month", 0, 1),
    "last_month": ("month", 1, 1),
    "this_quarter": ("quarter", 0, 1),
    "last_quarter": ("quarter", 1, 1),
    "this_year": ("year", 0, 1),
    "last_year": ("year", 1, 1),
}

#: Largest N accepted in ``{"last": N, "unit": ...}``.
MAX_LAST = 10_000


def tz_name(tz: tzinfo) -> str:
    """Return the IANA name of ``tz``; raise ValueError when it has none.

    Both dialects need a name: PostgreSQL's ``AT TIME ZONE`` and Django's SQLite functions.
    Accepted: ``zoneinfo.ZoneInfo``, UTC, and fixed whole-hour offsets (``Etc/GMT-2`` is UTC+2:
    the ``Etc`` zones count west-positive, as POSIX does).
    """
    if isinstance(tz, ZoneInfo):
        return tz.key
    if isinstance(tz, timezone):
        offset = tz.utcoffset(None)
        hours, rest = divmod(int(offset.total_seconds()), 3600)
        if not hours and not rest:
            return "UTC"
        if not rest and -12 <= hours <= 14:
            return f"Etc/GMT{-hours:+d}"
    raise ValueError("time zone must be a zoneinfo.ZoneInfo, UTC or a whole-hour offset")


def _unit_start(day: date, unit: Unit) -> date:
    if unit == "day":
        return day
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    if unit == "quarter":
        return date(day.year, day.month - (day.month - 1) % 3, 1)
    return date(day.year, 1, 1)


def _shift(start: date, unit: Unit, n: int) -> date:
    """Move a unit-aligned ``start`` by ``n`` units (may raise OverflowError/ValueError)."""
    if unit == "day":
        return start + timedelta(days=n)
    if unit == "week":
        return start + timedelta(weeks=n)
    months = {"month": 1, "quarter": 3, "year": 12}[unit] * n
    index = start.year * 12 + (start.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def relative_range(
    unit: Unit, back: int, span: int, *, now: datetime, tz: tzinfo
) -> tuple[date, date]:
    """Return ``[start, end)`` as local dates: the ``span`` units starting ``back`` units ago.

    ``now`` may be naive (taken as local wall time) or aware (converted to ``tz``).
    Raises ValueError/OverflowError when the range leaves the calendar.
    """
    local = now.astimezone(tz) if now.tzinfo is not None else now
    current = _unit_start(local.date(), unit)
    start = _shift(current, unit, -back)
    return start, _shift(start, unit, span)


def local_midnight(day: date, tz: tzinfo) -> datetime:
    """The aware datetime at the start of ``day`` in ``tz``."""
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def wall_clock_value(value: object, zone_name: str) -> object:
    """``value`` as naive wall-clock time in the zone named ``zone_name`` (an IANA name, as
    :func:`tz_name` gives): an aware datetime converted, each item of a tuple likewise, and
    anything else (naive datetimes included) unchanged. For sites that store naive local
    datetimes (``USE_TZ = False``)."""
    if isinstance(value, tuple):
        return tuple(wall_clock_value(item, zone_name) for item in value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(ZoneInfo(zone_name)).replace(tzinfo=None)
    return value


__all__ = [
    "MAX_LAST",
    "PRESETS",
    "UNITS",
    "Unit",
    "local_midnight",
    "relative_range",
    "tz_name",
    "wall_clock_value",
]
