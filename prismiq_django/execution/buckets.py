"""Labels of the time buckets of instants: the bucket's start with the site zone's offset.

A bucket of a "timestamp with time zone" (:meth:`prismiq_django.query.dialects.Dialect.
zoned_bucket`: PostgreSQL's ``timestamptz``; every datetime on SQLite and MySQL/MariaDB, which
Django stores in UTC) is computed by the database as a naive wall-clock start in the site's
zone. Under ``USE_TZ`` its label is that start spelled with the zone's UTC offset at it, as
``isoformat()`` writes aware datetimes: ``"2023-01-01T00:00:00+01:00"`` and
``"2023-07-01T00:00:00+02:00"`` in ``Europe/Paris``, ``+00:09:21`` before 1911 (its LMT). Without
``USE_TZ`` labels stay naive, as the plain values of those columns do.

The offset is the one in force at the bucket's first instant (PEP 495's ``fold=0``):

- a start repeated when clocks go back (the ``02:00`` hour of 27 October 2024 in Paris holds
  both 02:00-02:59 at +02:00 and again at +01:00) takes the offset *before* the change,
  ``"2024-10-27T02:00:00+02:00"``: the bucket begins at its first occurrence;
- a start that does not exist because clocks go forward (a zone changing at midnight, such as
  ``America/Santiago`` on 11 September 2022, whose day begins at 01:00) keeps its wall-clock
  start with the offset before the change, ``"2022-09-11T00:00:00-04:00"``: the instant the day
  began (01:00-03:00).

PostgreSQL's values Python cannot hold arrive as text (:func:`~prismiq_django.backends.
postgresql.values.pg_temporal_text`): ``infinity`` and ``-infinity`` stay as they are, and an
expanded year gets the offset of the same wall-clock time in a year Python holds: the zone's
earliest offset (its LMT) before year 1, and for years after 9999 the year of the same place in
the 400-year Gregorian cycle (9600-9999), whose calendar and yearly rules are the same.

On MySQL/MariaDB ``CONVERT_TZ`` converts only instants within the ``TIMESTAMP`` range (1970-01-01
00:00:01 to 2038-01-19 03:14:07 UTC); values outside it are bucketed by their UTC wall-clock time
(a documented limitation), so a bucket starting before 1970-01-01 or after 2038-01-19 03:14:07 is
labelled ``+00:00``: the instant its values were bucketed at.

PostgreSQL's JSON path and ``COPY`` export spell the same labels in SQL
(:mod:`prismiq_django.query.bucketlabels`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Final
from zoneinfo import ZoneInfo

from django.conf import settings

from prismiq_django.execution.values import Converter, json_safe

#: PostgreSQL text of a timestamp Python cannot hold (an expanded or zero astronomical year).
_EXPANDED: Final = re.compile(r"([+-]\d{4,}|\d{4})(-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)")
#: The naive wall-clock times MySQL's ``CONVERT_TZ`` converts (the ``TIMESTAMP`` range, UTC).
_MYSQL_CONVERTED: Final = (datetime(1970, 1, 1), datetime(2038, 1, 19, 3, 14, 7))
#: Gregorian calendar cycle: a date and the date 400 years on share their weekday.
_CYCLE: Final = 400
_LAST_CYCLE_START: Final = 9600


def bucket_zones(compiled: object) -> dict[int, tzinfo]:
    """The output columns of ``compiled`` whose labels carry an offset, with their zone.

    ``compiled`` is a :class:`prismiq_django.query.Compiled` (its ``zoned_buckets`` and
    ``tz_name``); any other statement (raw SQL) has none. Empty without ``USE_TZ``.
    """
    positions = getattr(compiled, "zoned_buckets", ())
    if not positions or not settings.USE_TZ:
        return {}
    zone = ZoneInfo(str(getattr(compiled, "tz_name", "UTC")))
    return dict.fromkeys(positions, zone)


def offset_text(offset: timedelta) -> str:
    """A UTC offset as ``isoformat()`` writes it: ``+HH:MM``, ``:SS`` when there are seconds."""
    sign = "-" if offset < timedelta(0) else "+"
    seconds = int(abs(offset).total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, second = divmod(rest, 60)
    text = f"{sign}{hours:02d}:{minutes:02d}"
    return f"{text}:{second:02d}" if second else text


def zoned_label(start: datetime, zone: tzinfo) -> str:
    """The label of a bucket whose naive wall-clock start is ``start`` (``fold=0``)."""
    return start.replace(tzinfo=zone, fold=0).isoformat()


def _expanded_label(text: str, zone: tzinfo) -> str:
    match = _EXPANDED.fullmatch(text)
    if match is None:
        return text  # infinity, -infinity
    year = int(match.group(1))
    if year < 1:
        stand_in = datetime(1, 1, 1)
    else:
        rest = datetime.fromisoformat(f"2000{match.group(2)}")
        stand_in = rest.replace(year=_LAST_CYCLE_START + year % _CYCLE)
    offset = stand_in.replace(tzinfo=zone, fold=0).utcoffset()
    return text + offset_text(offset or timedelta(0))


def bucket_labeller(vendor: str, zone: tzinfo) -> Converter:
    """The converter of a zoned bucket column read from ``vendor``'s cursor (None is handled
    by the caller): naive datetimes (PostgreSQL, MySQL), SQLite's text, PostgreSQL's text of
    values Python cannot hold; anything else as :func:`json_safe` spells it."""
    mysql = vendor == "mysql"
    low, high = _MYSQL_CONVERTED

    def label(value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                return _expanded_label(value, zone)
        if not isinstance(value, datetime):
            return json_safe(value)
        if value.tzinfo is not None:
            return value.isoformat()
        if mysql and not low <= value <= high:
            return zoned_label(value, UTC)
        return zoned_label(value, zone)

    return label


__all__ = ["bucket_labeller", "bucket_zones", "offset_text", "zoned_label"]
