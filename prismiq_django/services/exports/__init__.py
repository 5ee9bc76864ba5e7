"""Exports (SPEC section 11): a definition's whole result as a CSV or XLSX file, streamed.

:func:`export` validates and compiles the definition against the caller's catalog (row scopes
included), with ``EXPORT_MAX_ROWS`` as the row cap instead of ``MAX_ROWS`` (the definition's own
``limit`` if smaller), starts the statement under the rails with ``EXPORT_TIMEOUT`` and reads
its first rows before returning. Everything that can go wrong that early raises the usual
errors (``QueryValidationError``, ``QueryTimeout``...), which the HTTP layer answers as JSON.
The returned :class:`ExportFile` yields the file's bytes; a failure after that raises from the
iterator (the HTTP layer lets it abort the response: a failed download, never a short file).

Where the rows come from: a CSV on PostgreSQL whose every column PostgreSQL spells as the JSON
answer does (:mod:`prismiq_django.query.csvrows`; the session in UTC with ``USE_TZ``) is
PostgreSQL's own ``COPY ... TO STDOUT``; any other export reads a server-side cursor (SQLite:
the cursor) in batches and writes the values in Python (``csvfile``, ``xlsxfile``). Nothing
holds the whole result. Each export is counted once in the query metrics and log, when its
stream ends (``aborted`` when the client left).
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final, Literal

from django.conf import settings
from django.db import connections
from django.utils import timezone

from prismiq_django.conf import prismiq_settings
from prismiq_django.exceptions import ValueOutOfRange
from prismiq_django.execution import session_settings
from prismiq_django.execution.streaming import ExportBytes, open_copy, open_rows
from prismiq_django.ops.observability import fingerprint, record_query
from prismiq_django.query import Catalog, Compiled, compile_query, get_dialect, parse
from prismiq_django.query.ast import Query
from prismiq_django.query.bucketlabels import zone_params
from prismiq_django.query.csvrows import csv_copy_sql
from prismiq_django.services.catalog import get_catalog
from prismiq_django.services.exports.csvfile import csv_chunks
from prismiq_django.services.exports.xlsxfile import xlsx_chunks
from prismiq_django.services.memo import limits
from prismiq_django.services.queries import failure_status, out_of_range

ExportFormat = Literal["csv", "xlsx"]
#: The export formats and their media types.
CONTENT_TYPES: Final[dict[str, str]] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: Longest file name (without its extension) put in ``Content-Disposition``.
MAX_FILENAME: Final = 100
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._ -]+")


@dataclass(slots=True)
class ExportFile:
    """A started export: its file name, media type and bytes (a generator to exhaust or close:
    the transaction stays open until then)."""

    filename: str
    content_type: str
    chunks: Iterator[bytes]


def safe_filename(name: object, extension: str, default: str = "export") -> str:
    """A file name for ``Content-Disposition`` made of ``name``: ASCII letters, digits, ``.``,
    ``_``, ``-`` and spaces only (accents folded, anything else dropped), no leading dots, at
    most :data:`MAX_FILENAME` characters, ending in ``.<extension>``; ``default`` when nothing
    is left."""
    text = name if isinstance(name, str) else ""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    stem = _UNSAFE.sub("_", folded).strip(" ._-")
    suffix = f".{extension}"
    if stem.lower().endswith(suffix):
        stem = stem[: -len(suffix)].rstrip(" ._-")
    stem = stem[:MAX_FILENAME].rstrip(" ._-") or default
    return stem + suffix


def _copy_possible(alias: str) -> bool:
    """PostgreSQL with the session in UTC (the condition of the JSON path's spelling)."""
    connection = connections[alias]
    return (
        connection.vendor == "postgresql"
        and bool(settings.USE_TZ)
        and connection.timezone_name == "UTC"
    )


def prepare(
    request: object, definition: object, catalog: Catalog | None = None
) -> tuple[Catalog, Query, Compiled]:
    """The caller's catalog (``catalog`` when the caller built it already for ``request``),
    ``definition`` parsed with the export's limits, and its statement (``QueryValidationError``
    for a bad definition)."""
    if catalog is None:
        catalog = get_catalog(request)
    export_limits = replace(limits(), max_rows=prismiq_settings.EXPORT_MAX_ROWS)
    query = parse(
        definition,
        catalog,
        limits=export_limits,
        now=timezone.now(),
        tz=timezone.get_current_timezone(),
        naive_datetimes=not settings.USE_TZ,
    )
    alias = prismiq_settings.DATABASE
    return catalog, query, compile_query(query, catalog, get_dialect(connections[alias].vendor))


def _status(exc: BaseException) -> str:
    """A query's status (:func:`failure_status`), or ``aborted`` when the client left."""
    return "aborted" if isinstance(exc, GeneratorExit) else failure_status(exc)


class _Tally:
    """Rows of the running export, and its one record in the metrics and the query log."""

    def __init__(self, compiled: Compiled) -> None:
        self.compiled = compiled
        self.started = time.perf_counter()
        self.rows = 0
        self.done = False

    def record(self, status: str) -> None:
        if self.done:
            return
        self.done = True
        record_query(
            fingerprint=fingerprint(self.compiled.sql),
            duration_s=time.perf_counter() - self.started,
            rows=self.rows,
            cache_hit=False,
            status=status,
        )


def _recorded(chunks: Iterator[bytes], tally: _Tally) -> Iterator[bytes]:
    try:
        yield from chunks
    except BaseException as exc:
        tally.record(_status(exc))
        raise
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()  # ends the transaction at once, also when the client left
    tally.record("ok")


def _counted(batches: Iterator[list[list[Any]]], tally: _Tally) -> Iterator[list[list[Any]]]:
    for rows in batches:
        tally.rows += len(rows)
        yield rows


def export(
    request: object,
    definition: object,
    *,
    file_format: ExportFormat,
    filename: object = None,
    default_name: str = "export",
    catalog: Catalog | None = None,
) -> ExportFile:
    """Start the export of ``definition`` as ``file_format`` (see the module docstring).

    ``filename`` is the caller's wish (made safe by :func:`safe_filename`), else
    ``default_name``. ``catalog``: the caller's catalog when it was built already for
    ``request`` (to merge a saved query's or a dashboard's filters), so that the row scopes,
    i.e. ``TENANT_CALLBACK``, are resolved once. Raises ``QueryValidationError`` (invalid
    definition, or a time bucket the database cannot represent), ``ObjectNotFound``,
    ``QueryTimeout``, ``DatabaseUnavailable``, ``QueryExecutionError`` before any byte.
    """
    if file_format not in CONTENT_TYPES:
        raise ValueError(f"unknown export format {file_format!r}")
    catalog, query, compiled = prepare(request, definition, catalog)
    alias = prismiq_settings.DATABASE
    timeout = prismiq_settings.EXPORT_TIMEOUT
    escape = prismiq_settings.EXPORT_CSV_ESCAPE_FORMULAS
    column_types = [item.expr.type for item in query.select]
    tally = _Tally(compiled)
    try:
        # The first batch (and the transaction's rails) run here: the export's whole
        # transaction has the request's session settings.
        with session_settings(catalog.session_settings):
            chunks = _start(
                query, compiled, file_format, alias, timeout, escape, column_types, tally
            )
    except ValueOutOfRange as exc:
        tally.record("invalid")
        raise out_of_range(definition, query) from exc
    except BaseException as exc:
        tally.record(_status(exc))
        raise
    return ExportFile(
        filename=safe_filename(filename or default_name, file_format),
        content_type=CONTENT_TYPES[file_format],
        chunks=_recorded(chunks, tally),
    )


def _start(
    query: Query,
    compiled: Compiled,
    file_format: ExportFormat,
    alias: str,
    timeout: float,
    escape: bool,
    column_types: Sequence[str],
    tally: _Tally,
) -> Iterator[bytes]:
    columns = list(compiled.columns)
    copy_sql = (
        csv_copy_sql(query, compiled.sql, escape_formulas=escape)
        if file_format == "csv" and _copy_possible(alias)
        else None
    )
    if copy_sql is not None:
        params = [*compiled.params, *zone_params(query), compiled.limit]
        copied = open_copy(copy_sql, params, alias=alias, timeout=timeout)
        header = b"".join(csv_chunks(columns, [], escape_formulas=escape))
        return _with_header(header, copied, tally)
    wall_clock = frozenset(
        i for i, item in enumerate(query.select) if item.expr.date_trunc is not None
    )
    rows = open_rows(
        compiled, alias=alias, timeout=timeout, column_types=column_types, wall_clock=wall_clock
    )
    batches = _counted(rows.batches, tally)
    if file_format == "csv":
        spelled = csv_chunks(
            rows.columns, batches, column_types=rows.column_types, escape_formulas=escape
        )
        return _closing(spelled, rows.close)
    return _closing(xlsx_chunks(rows.columns, batches, column_types=rows.column_types), rows.close)


def _with_header(header: bytes, copied: ExportBytes, tally: _Tally) -> Iterator[bytes]:
    try:
        yield header
        yield from copied.chunks
    finally:
        tally.rows = copied.records()
        copied.close()


def _closing(chunks: Iterator[bytes], close: Any) -> Iterator[bytes]:
    try:
        yield from chunks
    finally:
        close_chunks = getattr(chunks, "close", None)
        if close_chunks is not None:
            close_chunks()
        close()


__all__ = ["CONTENT_TYPES", "ExportFile", "ExportFormat", "export", "prepare", "safe_filename"]
