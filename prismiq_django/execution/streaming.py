"""Export cursors: a compiled statement's rows in batches, inside the read-only transaction.

An export (SPEC section 11) holds no whole result: the rows travel from the database in batches
while the response is written. Two sources:

- :func:`open_rows`: JSON-ready rows (SPEC section 4 values) in batches. On PostgreSQL from a
  server-side (named) cursor, ``FETCH``-ed ``batch_size`` rows at a time; on MySQL/MariaDB from
  an unbuffered cursor (mysqlclient's ``SSCursor``: the rows are read off the connection as
  they are fetched); on SQLite by iterating the cursor. Used for XLSX, and for CSV where
  PostgreSQL cannot spell the values.
- :func:`open_copy`: CSV bytes straight from PostgreSQL's ``COPY (<select>) TO STDOUT`` of a
  statement that already spells every value as text (:mod:`prismiq_django.query.csvrows`); the
  records' LF is made the CRLF of RFC 4180.

Both open the guarded transaction (read-only, rolled back, database-side timeout) and read the
first batch before they return, so a statement that fails at once raises here, as a
:class:`~prismiq_django.exceptions.PrismiqError`, before any byte is sent. Later failures raise
from the iterator (translated the same way): the response is then aborted. Exhausting or closing
the iterator (a client that disconnects: the WSGI server closes the response) ends the
transaction and closes the cursor at once.

Timeout: PostgreSQL's ``statement_timeout`` bounds each statement (``COPY`` is one; a named
cursor's every ``FETCH`` is one) and ``idle_in_transaction_session_timeout`` a client that stops
reading; the deadline is also checked between batches, so the whole export ends at ``timeout``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, islice
from typing import Any, Final

from prismiq_django.backends.postgresql.loaders import use_fast_loaders
from prismiq_django.exceptions import QueryTimeout
from prismiq_django.execution.columns import convert_rows
from prismiq_django.execution.rails import guarded_cursor
from prismiq_django.execution.results import CompiledStatement
from prismiq_django.execution.runner import describe_result
from prismiq_django.execution.values import Converter
from prismiq_django.ops.gcpause import gc_paused

#: Rows fetched per batch (one ``FETCH`` on PostgreSQL).
BATCH_ROWS: Final = 2_000
#: Bytes of ``COPY`` output gathered into one chunk (about: the records per chunk follow the
#: size of the last chunk's records), and at most this many records per chunk.
COPY_CHUNK_BYTES: Final = 128 * 1024
COPY_CHUNK_RECORDS: Final = 16_384


@dataclass(slots=True)
class ExportRows:
    """An export's columns (output names), logical types and batches of JSON-ready rows.

    ``batches`` must be exhausted or closed (:meth:`close`): until then the transaction is open.
    """

    columns: list[str]
    column_types: list[str]
    batches: Iterator[list[list[Any]]]
    _source: Iterator[Any]

    def close(self) -> None:
        """End the transaction (if still open) and release the cursor."""
        close = getattr(self._source, "close", None)
        if close is not None:
            close()


@dataclass(slots=True)
class ExportBytes:
    """CSV bytes of an export, in chunks; the first chunk has been read from the database."""

    chunks: Iterator[bytes]
    _source: Iterator[Any]
    _count: list[int]

    def records(self) -> int:
        """The CSV records read so far (all of them once ``chunks`` is exhausted)."""
        return self._count[0]

    def close(self) -> None:
        """End the transaction (if still open) and release the cursor."""
        close = getattr(self._source, "close", None)
        if close is not None:
            close()


@dataclass(slots=True)
class _Head:
    columns: list[str]
    types: list[str]
    converters: list[Converter | None]


def _timeouts(cursor: Any, timeout: float, *, jit: bool = True) -> None:
    """A client that stops reading leaves the transaction idle: end it after the same time.
    ``jit=False`` also turns PostgreSQL's JIT off for the transaction (``COPY``: compiling the
    spelling expressions costs more than it saves, ~0.14 s of a 1,000,000-row export)."""
    sql = "SELECT set_config('idle_in_transaction_session_timeout', %s, true)"
    if not jit:
        sql += ", set_config('jit', 'off', true)"
    cursor.execute(sql, [str(max(1, math.ceil(timeout * 1000)))])


def _row_batches(
    compiled: CompiledStatement,
    alias: str,
    timeout: float,
    column_types: Sequence[str] | None,
    wall_clock: Collection[int],
    batch_size: int,
    head: list[_Head],
) -> Iterator[list[list[Any]]]:
    ends_at = time.monotonic() + timeout
    left = compiled.limit  # the statement fetches one more, to tell truncation: not exported
    with guarded_cursor(alias, timeout) as (connection, cursor):
        source: Any
        if connection.vendor == "postgresql":
            _timeouts(cursor, timeout)
            source = connection.chunked_cursor()  # named: DECLARE, then FETCH batch_size
            use_fast_loaders(connection, source, tolerant=True)
        elif connection.vendor == "mysql":
            source = cursor.unbuffered(connection)  # mysqlclient's SSCursor, same rails
        else:
            source = cursor
        try:
            source.execute(compiled.sql, compiled.params)
            while True:
                with gc_paused():
                    raw = source.fetchmany(min(batch_size, left)) if left > 0 else []
                if not head:
                    names, types, converters = describe_result(
                        connection,
                        source.description or (),
                        compiled,
                        column_types,
                        wall_clock,
                        raw,
                    )
                    head.append(_Head(names, types, converters))
                left -= len(raw)
                with gc_paused():
                    rows = convert_rows(raw, head[0].converters)
                yield rows
                if not raw or left <= 0:
                    return
                if time.monotonic() > ends_at:
                    raise QueryTimeout()
        finally:
            if source is not cursor:
                source.close()


def open_rows(
    compiled: CompiledStatement,
    *,
    alias: str,
    timeout: float,
    column_types: Sequence[str] | None = None,
    wall_clock: Collection[int] = (),
    batch_size: int = BATCH_ROWS,
) -> ExportRows:
    """Start ``compiled`` and return its rows in batches (see the module docstring).

    At most ``compiled.limit`` rows are produced. ``column_types`` and ``wall_clock`` are as
    for :func:`~prismiq_django.execution.execute_compiled`. Raises what the guarded transaction
    raises (``QueryTimeout``, ``DatabaseUnavailable``, ``QueryExecutionError``...) when the
    statement or its first batch fails; the returned batches raise the same later.
    """
    head: list[_Head] = []
    source = _row_batches(compiled, alias, timeout, column_types, wall_clock, batch_size, head)
    first = next(source)
    return ExportRows(
        columns=head[0].columns,
        column_types=head[0].types,
        batches=chain([first], source),
        _source=source,
    )


def _crlf(records: list[Any]) -> bytes:
    """``records`` (each one CSV record ending with LF) joined, each ending with CRLF.

    Whole-chunk operations, no per-record Python: when the chunk holds exactly one LF per
    record, no field holds a line break and every LF ends a record; otherwise the records are
    joined one by one (a field's own line breaks are kept as they are).
    """
    data = b"".join(records)
    if data.count(b"\n") == len(records):
        return data.replace(b"\n", b"\r\n")
    return b"\r\n".join(bytes(record)[:-1] for record in records) + b"\r\n"


def _copy_chunks(
    sql: str, params: Sequence[object], alias: str, timeout: float, count: list[int]
) -> Iterator[bytes]:
    from psycopg import ClientCursor

    with guarded_cursor(alias, timeout) as (connection, cursor):
        _timeouts(cursor, timeout, jit=False)
        # Client-side binding whatever the site's server_side_binding: COPY takes no parameters.
        copier = ClientCursor(connection.connection)
        try:
            with connection.wrap_database_errors, copier.copy(sql, params) as copy:
                records = iter(copy)  # one CSV record per block, ending with LF
                per_chunk = 1  # the first chunk: one record, so that errors at once raise here
                first = True
                size = 0
                while True:
                    # The blocks are GC-tracked views of libpq's buffers: with a chunk's worth
                    # alive, the cyclic GC walked them again and again (most of an export's
                    # time: benchmarks/RESULTS.md), so they live and die with it paused.
                    with gc_paused():
                        batch = list(islice(records, per_chunk))
                        if not batch:
                            break
                        count[0] += len(batch)
                        chunk = _crlf(batch)
                        del batch
                    yield chunk
                    first = False
                    size += len(chunk)  # records per chunk: by the mean record so far
                    per_chunk = max(1, min(COPY_CHUNK_RECORDS, COPY_CHUNK_BYTES * count[0] // size))
                if first:
                    yield b""
        finally:
            copier.close()


def open_copy(sql: str, params: Sequence[object], *, alias: str, timeout: float) -> ExportBytes:
    """Run ``COPY (...) TO STDOUT (FORMAT csv)`` statement ``sql`` and return its CSV chunks.

    PostgreSQL only. The first record has been read when this returns (errors at the start
    raise here); the records end with CRLF.
    """
    count = [0]
    source = _copy_chunks(sql, params, alias, timeout, count)
    first = next(source)
    return ExportBytes(chunks=chain([first], source), _source=source, _count=count)


__all__ = ["BATCH_ROWS", "ExportBytes", "ExportRows", "open_copy", "open_rows"]
