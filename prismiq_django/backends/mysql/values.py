"""mysqlclient's values to JSON-ready ones, where they differ from the other vendors'.

``TIME`` columns arrive as ``timedelta`` (written ``HH:MM:SS[.ffffff]``), ``SUM`` of integers as
a whole ``Decimal`` (an integer here), ``tinyint(1)`` as 0/1 (booleans); ``DATETIME`` values are
naive: Django's UTC, or wall-clock times of the site's zone for time buckets.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings


def mysql_integer(value: Any) -> Any:
    """A whole ``Decimal`` (``SUM`` of integers) as an int; other values unchanged."""
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    return value


def mysql_boolean(value: Any) -> Any:
    return bool(value) if isinstance(value, int) else value


def mysql_time(value: Any) -> Any:
    """A ``TIME`` value (``timedelta`` from mysqlclient) as ``HH:MM:SS[.ffffff]``; a negative or
    a more-than-a-day duration (a MySQL ``TIME`` can hold them) as ``[-]H:MM:SS``."""
    if not isinstance(value, timedelta):
        return value
    negative = value < timedelta(0)
    micros = abs(value) // timedelta(microseconds=1)
    seconds, fraction = divmod(micros, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    text = f"{'-' if negative else ''}{hour:02d}:{minute:02d}:{second:02d}"
    return f"{text}.{fraction:06d}" if fraction else text


def mysql_datetime(value: Any) -> Any:
    """A naive ``DATETIME`` (Django's UTC) as ISO 8601, with ``+00:00`` when ``USE_TZ``."""
    if isinstance(value, datetime):
        if value.tzinfo is None and settings.USE_TZ:
            value = value.replace(tzinfo=UTC)
        return value.isoformat()
    return value


__all__ = ["mysql_boolean", "mysql_datetime", "mysql_integer", "mysql_time"]
