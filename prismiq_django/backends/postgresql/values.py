"""PostgreSQL's text of the values psycopg cannot load, as JSON values.

Dates and timestamps Python cannot hold (infinities, BC, after year 9999): :func:`pg_temporal_text`;
times ``24:00:00``: :func:`pg_time_text`; intervals beyond ``timedelta``:
:func:`pg_interval_seconds`;
arrays of types psycopg has no loader for: :func:`pg_array_text`. Pure functions of the text.
"""

from __future__ import annotations

import re
from typing import Any, Final

_PG_TIME_OF_DAY: Final = re.compile(r"(\d\d:\d\d:\d\d(?:\.\d+)?)([+-]\d\d(?::\d\d){0,2})?")


def expanded_year(year: int) -> str:
    """``year`` (astronomical: 0 is 1 BC, -1 is 2 BC) as ECMAScript's date-time format writes it.

    Four digits for 0..9999 (``0000``), otherwise a sign and at least six digits (``+010000``,
    ``-000043``): ISO 8601's expanded years as JavaScript's ``Date`` and ``Temporal`` parse them.
    """
    if 0 <= year <= 9999:
        return f"{year:04d}"
    return f"{'-' if year < 0 else '+'}{abs(year):06d}"


def pg_temporal_text(text: str, *, naive: bool = False) -> str | None:
    """The JSON value of a PostgreSQL date/timestamp Python cannot represent, or None.

    ``text`` is PostgreSQL's output (``DateStyle`` ISO, PostgreSQL's default, to which every
    statement is pinned: :mod:`prismiq_django.backends.postgresql.session`) of ``infinity``,
    ``-infinity``, a BC value (``0044-03-15 12:00:00+00 BC``) or one after year 9999
    (``10000-01-01``). They become ``"infinity"``/``"-infinity"`` and ISO 8601 with an expanded
    astronomical year (:func:`expanded_year`): ``-000043-03-15T12:00:00+00:00``. The time of day
    keeps PostgreSQL's fractional digits (``.5``) and the offset is ``+HH:MM`` (``:SS`` when
    PostgreSQL has them), as PostgreSQL's own JSON writes them: the JSON path
    (:func:`prismiq_django.query.jsonrows.json_rows_sql`) builds the same strings in SQL.
    ``naive`` drops the offset (a ``timestamptz`` read without ``USE_TZ``, as Django does).
    Anything else returns None.
    """
    if text in ("infinity", "-infinity"):
        return text
    bc = text.endswith(" BC")
    if bc:
        text = text[:-3]
    year, _, rest = text.partition("-")
    day, _, time_of_day = rest.partition(" ")
    if not (year.isascii() and year.isdigit() and len(day) == 5):
        return None
    number = int(year)
    if bc:
        number = 1 - number
    elif number <= 9999:
        return None  # representable: not for this function
    out = f"{expanded_year(number)}-{day}"
    if not time_of_day:
        return out
    match = _PG_TIME_OF_DAY.fullmatch(time_of_day)
    if match is None:
        return None
    clock, offset = match.groups()
    if offset is None or naive:
        return f"{out}T{clock}"
    return f"{out}T{clock}{_iso_offset(offset)}"


def _iso_offset(offset: str) -> str:
    # PostgreSQL writes +HH, +HH:MM or +HH:MM:SS; Python's isoformat() at least +HH:MM.
    return offset if len(offset) > 3 else offset + ":00"


def pg_time_text(text: str) -> str | None:
    """The JSON value of a PostgreSQL ``time``/``timetz`` Python cannot represent, or None.

    PostgreSQL's ``time`` runs to ``24:00:00`` inclusive, Python's ``time`` to
    ``23:59:59.999999``: ``24:00:00`` stays that string, and a ``timetz`` keeps its offset as
    ``isoformat()`` writes the other values (``24:00:00+02`` is ``"24:00:00+02:00"``; never
    dropped, as for the other ``timetz`` values). Anything else returns None.
    """
    match = _PG_TIME_OF_DAY.fullmatch(text)
    if match is None or not text.startswith("24:"):
        return None
    clock, offset = match.groups()
    return clock if offset is None else clock + _iso_offset(offset)


# IntervalStyle postgres (PostgreSQL's default): "-1 years -2 mons +3 days -04:05:06.5"; each part
# only when not zero, "00:00:00" for a zero interval.
_PG_INTERVAL: Final = re.compile(
    r"(?:([+-]?\d+) years?(?: |$))?"
    r"(?:([+-]?\d+) mons?(?: |$))?"
    r"(?:([+-]?\d+) days?(?: |$))?"
    r"(?:([+-]?)(\d+):(\d\d):(\d\d)(?:\.(\d{1,6}))?)?",
    re.ASCII,
)
_MICROS_PER_DAY: Final = 86_400 * 10**6
# PostgreSQL's extract(epoch from interval): a year (12 months) is 365.25 days, a month 30 days.
_MICROS_PER_YEAR: Final = 365 * _MICROS_PER_DAY + _MICROS_PER_DAY // 4
_MICROS_PER_MONTH: Final = 30 * _MICROS_PER_DAY


def pg_interval_seconds(text: str) -> float | None:
    """The seconds of a PostgreSQL interval from its text, as ``extract(epoch from ...)``.

    ``text`` is PostgreSQL's output in ``IntervalStyle`` ``postgres`` (the default, the only one
    psycopg reads, and the one every statement is pinned to). The result is PostgreSQL's exact
    ``numeric`` epoch rounded once to the nearest float: whole years (12 months) of 365.25 days,
    the other months of 30 days, days of 86,400 seconds, plus the time. Used for the intervals
    beyond Python's ``timedelta`` (999,999,999 days); anything else, and text in another format,
    returns None.
    """
    match = _PG_INTERVAL.fullmatch(text)
    if not text or text.endswith(" ") or match is None:
        return None
    years, months, days, sign, hours, minutes, seconds, fraction = match.groups()
    total_months = int(years or 0) * 12 + int(months or 0)
    whole_years = abs(total_months) // 12  # PostgreSQL's C division truncates towards zero
    if total_months < 0:
        whole_years = -whole_years
    micros = (
        whole_years * _MICROS_PER_YEAR
        + (total_months - 12 * whole_years) * _MICROS_PER_MONTH
        + int(days or 0) * _MICROS_PER_DAY
    )
    if hours is not None:
        clock = (int(hours) * 3600 + int(minutes) * 60 + int(seconds)) * 10**6
        clock += int((fraction or "").ljust(6, "0"))
        micros += -clock if sign == "-" else clock
    return micros / 10**6  # int / int: correctly rounded


def pg_array_text(text: str) -> Any:
    """Parse PostgreSQL array text (``{a,"b c",NULL,{1,2}}``) into nested lists of strings.

    psycopg returns this text for arrays of types it has no loader for (arrays of enums).
    """
    root: list[Any] = []
    stack: list[list[Any]] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "{":
            new: list[Any] = []
            (stack[-1] if stack else root).append(new)
            stack.append(new)
            i += 1
        elif char == "}":
            if stack:
                stack.pop()
            i += 1
        elif char == "," or not stack:
            i += 1
        elif char == '"':
            i += 1
            chunk = []
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                chunk.append(text[i])
                i += 1
            stack[-1].append("".join(chunk))
            i += 1
        else:
            start = i
            while i < n and text[i] not in ",}":
                i += 1
            element = text[start:i].strip()
            stack[-1].append(None if element == "NULL" else element)
    return root[0] if len(root) == 1 else root


__all__ = [
    "expanded_year",
    "pg_array_text",
    "pg_interval_seconds",
    "pg_temporal_text",
    "pg_time_text",
]
