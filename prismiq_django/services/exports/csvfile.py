"""CSV of a result, streamed: RFC 4180, UTF-8, one chunk of bytes per batch of rows.

The rows are JSON-ready values (SPEC section 4: what :func:`prismiq_django.values.convert_rows`
returns), so every value is already spelled as the JSON answer spells it: dates and times as ISO
8601, decimals as numbers, uuids as text, bytes as base64, intervals as seconds. This module only
decides how each one becomes a field:

- null is an empty field; booleans are ``true`` / ``false``; numbers keep Python's ``repr``
  (the shortest text that reads back as the same float, like JSON's);
- JSON objects and arrays (``json`` and ``array`` columns) are their compact JSON text;
- text cells (the values of text-like columns, and the header) that start with ``=``, ``+``,
  ``-`` or ``@`` get a leading ``'``, so a spreadsheet shows them instead of running them as a
  formula (spreadsheet formula injection), unless ``escape_formulas`` is off. Numbers, dates
  and the other typed columns are never changed: ``-5`` in an integer column stays ``-5``.

Quoting is the standard library's minimal quoting (fields holding a comma, a quote, CR or LF
are quoted, quotes doubled) and records end with CRLF, as RFC 4180 says.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Final

import orjson

#: The first characters that make a spreadsheet read a cell as a formula.
FORMULA_PREFIXES: Final = ("=", "+", "-", "@")
#: Logical types whose values are free text in a CSV cell (formula escaping applies to them).
TEXT_TYPES: Final = frozenset({"string", "uuid", "binary", "json", "array", "unknown"})
#: Bytes of CSV held before they are yielded (a batch is yielded whole once past it).
CHUNK_BYTES: Final = 64 * 1024

Cell = Callable[[Any], Any]


def escape_formula(text: str) -> str:
    """``text`` with a leading ``'`` when it starts with ``=``, ``+``, ``-`` or ``@``."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _boolean(value: Any) -> Any:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return value


def _json_text(value: Any) -> Any:
    if isinstance(value, list | dict):
        return orjson.dumps(value).decode()
    if isinstance(value, bool):
        return _boolean(value)
    return value


def _text(escape: bool) -> Cell:
    def cell(value: Any) -> Any:
        value = _json_text(value)
        if escape and isinstance(value, str):
            return escape_formula(value)
        return value

    return cell


def _cell_writers(
    width: int, column_types: Sequence[str] | None, escape: bool
) -> list[tuple[int, Cell]]:
    """The columns whose values need more than the csv module's own spelling, with how."""
    if column_types is None or len(column_types) != width:
        column_types = ["unknown"] * width
    cells: list[tuple[int, Cell]] = []
    text = _text(escape)
    for index, logical in enumerate(column_types):
        if logical in TEXT_TYPES:
            cells.append((index, text))
        elif logical == "boolean":
            cells.append((index, _boolean))
        elif logical not in ("integer", "decimal", "float", "duration"):
            # dates, times: ISO text already; a value of an unexpected kind still gets spelled
            cells.append((index, _json_text))
    return cells


def _spelled(rows: Sequence[Sequence[Any]], cells: list[tuple[int, Cell]]) -> Iterable[Any]:
    if not cells:
        return rows
    out = []
    for row in rows:
        values = list(row)
        for index, cell in cells:
            value = values[index]
            if value is not None:
                values[index] = cell(value)
        out.append(values)
    return out


def csv_chunks(
    columns: Sequence[str],
    batches: Iterable[Sequence[Sequence[Any]]],
    *,
    column_types: Sequence[str] | None = None,
    escape_formulas: bool = True,
) -> Iterator[bytes]:
    """Yield the CSV of ``columns`` (the header) and ``batches`` of rows as UTF-8 chunks.

    The header comes first, in the first chunk; each batch is consumed only when the previous
    chunk has been taken, so at most one batch and :data:`CHUNK_BYTES` of text are held.
    ``column_types`` are the logical types of the columns (SPEC section 4); without them every
    column is treated as text. An exception raised by ``batches`` propagates to the consumer
    after the chunks already yielded.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    header = [escape_formula(name) if escape_formulas else name for name in columns]
    writer.writerow(header)
    cells = _cell_writers(len(columns), column_types, escape_formulas)
    for rows in batches:
        writer.writerows(_spelled(rows, cells))
        if buffer.tell() >= CHUNK_BYTES:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


__all__ = ["CHUNK_BYTES", "FORMULA_PREFIXES", "TEXT_TYPES", "csv_chunks", "escape_formula"]
