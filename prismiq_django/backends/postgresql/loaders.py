"""psycopg loaders for prismiq's PostgreSQL cursors, and the names of result type OIDs.

:func:`use_fast_loaders` gives a cursor psycopg's C loaders where they yield the same values, and
(``tolerant``) loaders that spell the dates, times and intervals Python cannot hold as their JSON
values (:func:`spelling`). :func:`pg_type_names` maps type OIDs to ``(typname, typcategory)``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from functools import cache, partial
from typing import Any, Final

from django.db.backends.base.base import BaseDatabaseWrapper

from prismiq_django.backends.postgresql.values import (
    pg_interval_seconds,
    pg_temporal_text,
    pg_time_text,
)

logger = logging.getLogger("prismiq_django.execution")


# --- PostgreSQL type OIDs ---------------------------------------------------------------------

_PG_TYPE_CACHE: dict[tuple[str, str, int], tuple[str, str]] = {}


def pg_type_names(connection: BaseDatabaseWrapper, oids: Sequence[int]) -> list[tuple[str, str]]:
    """Return ``(typname, typcategory)`` per OID: builtins from psycopg, others from pg_type."""
    from psycopg.postgres import types as builtin_types

    db_key = (connection.alias, str(connection.settings_dict.get("NAME")))
    missing = []
    for oid in oids:
        key = (*db_key, oid)
        if key in _PG_TYPE_CACHE:
            continue
        info = builtin_types.get(oid)
        if info is not None:
            is_array = info.array_oid == oid
            _PG_TYPE_CACHE[key] = ("_" + info.name, "A") if is_array else (info.name, "")
        else:
            missing.append(oid)
    if missing:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT oid::int, typname, typcategory FROM pg_catalog.pg_type WHERE oid = ANY(%s)",
                [missing],
            )
            for oid, name, category in cursor.fetchall():
                _PG_TYPE_CACHE[(*db_key, oid)] = (name, category)
    return [_PG_TYPE_CACHE.get((*db_key, oid), ("", "")) for oid in oids]


def use_fast_loaders(
    connection: BaseDatabaseWrapper, cursor: Any, *, tolerant: bool = False
) -> None:
    """Give this PostgreSQL cursor psycopg's C loaders where they yield the same values.

    Django loads ``timestamptz`` with a Python subclass of psycopg's loader (a Python frame per
    value) that only re-attaches ``connection.timezone``; when that zone is set (``USE_TZ``), it
    is the session's ``TimeZone``, in which psycopg's own C loader already returns the value.
    ``uuid`` is loaded as its text, which is exactly ``str(UUID)``. ``interval`` keeps psycopg's
    loader but refuses the values it would miscount (:func:`_counted_interval_loader`). Only this
    cursor changes.

    ``tolerant`` also wraps the ``date``, ``timestamp``, ``timestamptz``, ``time``, ``timetz``
    and ``interval`` loaders so that the values Python cannot represent load as their JSON values
    (:func:`_tolerant_loader`).
    """
    raw = getattr(cursor, "cursor", None)
    adapters = getattr(raw, "adapters", None)
    if adapters is None:
        return
    from psycopg.types.datetime import TimestamptzLoader
    from psycopg.types.string import TextLoader

    if getattr(connection, "timezone", None) is not None:
        adapters.register_loader("timestamptz", TimestamptzLoader)  # psycopg picks the C one
    adapters.register_loader("uuid", TextLoader)
    from psycopg.pq import Format

    interval = adapters.types.get("interval")
    if interval is not None:
        inner = adapters.get_loader(interval.oid, Format.TEXT)
        if inner is not None:
            adapters.register_loader(interval.oid, _counted_interval_loader(inner))
    if tolerant:
        naive = getattr(connection, "timezone", None) is None
        for name in _TEMPORAL_PG_TYPES:
            info = adapters.types.get(name)
            inner = adapters.get_loader(info.oid, Format.TEXT) if info is not None else None
            if inner is not None:
                spell = spelling(name, naive=naive)
                adapters.register_loader(info.oid, _tolerant_loader(inner, spell))


# The types some of whose values psycopg refuses to load; see spelling.
_TEMPORAL_PG_TYPES: Final = ("date", "timestamp", "timestamptz", "time", "timetz", "interval")
# What a spelling returns for text it does not know: the loader's refusal stands.
_UNSPELLED: Final = object()


def spelling(name: str, *, naive: bool) -> Callable[[str], Any]:
    """How the tolerant loader of type ``name`` answers the text of a value psycopg refused.

    Dates and timestamps: :func:`prismiq_django.backends.postgresql.values.pg_temporal_text`;
    ``time``/``timetz``
    (``24:00:00``): :func:`prismiq_django.backends.postgresql.values.pg_time_text`; other text
    stays refused.
    Intervals beyond ``timedelta``:
    :func:`prismiq_django.backends.postgresql.values.pg_interval_seconds`, and null
    when the text is not in the expected format (one logged warning per run).
    """
    if name == "interval":
        return _IntervalSeconds()
    if name in ("time", "timetz"):
        return partial(_or_unspelled, pg_time_text)
    return partial(_or_unspelled, partial(pg_temporal_text, naive=naive))


def _or_unspelled(spell: Callable[[str], str | None], text: str) -> object:
    value = spell(text)
    return _UNSPELLED if value is None else value


class _IntervalSeconds:
    """:func:`pg_interval_seconds`, or None and (once) a warning for text it does not read."""

    def __init__(self) -> None:
        self.warned = False

    def __call__(self, text: str) -> float | None:
        seconds = pg_interval_seconds(text)
        if seconds is None and not self.warned:
            self.warned = True
            # Not the text: it is the user's data.
            logger.warning(
                "prismiq answered null for intervals psycopg could not load and whose text is"
                " not in IntervalStyle postgres"
            )
        return seconds


def _tolerant_loader(inner: type, spell: Callable[[str], Any]) -> type:
    """A loader that loads as ``inner`` does, and values ``inner`` refuses as ``spell`` says.

    psycopg raises ``DataError`` for dates and timestamps ``infinity``, ``-infinity``, BC and
    after 9999 (Python's ``date`` has none of them), for times ``24:00:00`` and for intervals
    beyond ``timedelta``; such a value becomes what ``spell`` makes of its text (see
    :func:`spelling`), which the converters pass through. Only the second run of a statement
    whose first run met such a value uses it (see :func:`execute_compiled`): a Python frame per
    value is too slow for every result.
    """
    from psycopg import DataError as LoadError
    from psycopg.adapt import Loader

    class TolerantLoader(Loader):
        def __init__(self, oid: int, context: Any = None) -> None:
            super().__init__(oid, context)
            self._inner = inner(oid, context)

        def load(self, data: Any) -> Any:
            try:
                return self._inner.load(data)
            except LoadError:
                value = spell(bytes(data).decode("utf-8", "replace"))
                if value is _UNSPELLED:
                    raise
                return value

    return TolerantLoader


# An interval's years as PostgreSQL writes them first (IntervalStyle postgres), when they are
# 1,000,000 or more: psycopg's 32-bit day count can only wrap around into timedelta's range from
# about 3.1 million years on (days alone stay within 2**31).
_MANY_YEARS: Final = re.compile(rb"[+-]?\d{7,} years? ?")
_INTERVAL_DAYS: Final = re.compile(
    rb"([+-]?\d+) years?(?: ([+-]?\d+) mons?)?(?: ([+-]?\d+) days?)?"
)
_TIMEDELTA_DAYS: Final = 999_999_999


@cache  # one class per inner loader (psycopg's, the same for every cursor)
def _counted_interval_loader(inner: type) -> type:
    """psycopg's ``interval`` loader, refusing the intervals whose days it would miscount.

    psycopg's C loader adds years (365 days), months (30) and days up in a 32-bit integer: from
    about 5.9 million years on the sum wraps around, and when it lands back in ``timedelta``'s
    range (``12000000 years`` as 85,032,704 days) the value is silently wrong instead of refused.
    Such an interval is beyond ``timedelta``: refused here, it takes the tolerant run's seconds
    (:func:`prismiq_django.backends.postgresql.values.pg_interval_seconds`). Other intervals load
    as before.
    """
    from psycopg import DataError as LoadError
    from psycopg.adapt import Loader

    class CountedIntervalLoader(Loader):
        def __init__(self, oid: int, context: Any = None) -> None:
            super().__init__(oid, context)
            self._load = inner(oid, context).load

        def load(self, data: Any) -> Any:
            # Seven digits or a sign and six first: cheap enough to look at every value.
            if len(data) > 12 and 47 < data[6] < 58 and _MANY_YEARS.match(data):
                parts = _INTERVAL_DAYS.match(bytes(data))
                if parts is not None:
                    years, months, days = (int(part or 0) for part in parts.groups())
                    if abs(years * 365 + months * 30 + days) > _TIMEDELTA_DAYS:
                        raise LoadError("interval beyond timedelta")
            return self._load(data)

    return CountedIntervalLoader


__all__ = ["pg_type_names", "spelling", "use_fast_loaders"]
