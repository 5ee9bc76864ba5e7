"""XLSX of a result with typed cells, written by XlsxWriter in its constant-memory mode.

In ``constant_memory`` mode XlsxWriter keeps one row in memory and writes each finished row to a
temporary file; the zip container is assembled from those files when the workbook is closed.
So the rows are all consumed first, on disk and in constant memory, and the file's bytes are
yielded afterwards in chunks (an XLSX is a zip, whose directory is written last: it cannot be
sent before the last row is known).

Cells, from the JSON-ready values (SPEC section 4) and the columns' logical types:

- integers, decimals, floats and durations (seconds) are numbers; integers beyond 2**53, which
  a spreadsheet's double would round, are text holding every digit;
- booleans are boolean cells;
- dates, datetimes and times are date cells (formats ``yyyy-mm-dd``, ``yyyy-mm-dd hh:mm:ss``,
  ``hh:mm:ss``); a datetime with an offset is written as its wall-clock time at that offset
  (the JSON answer's: UTC for aware timestamps, the site zone's start for a time bucket of
  instants), spreadsheets having no time zones. Values a
  spreadsheet cannot hold (before 1900, ``infinity``, expanded years, ``24:00:00``) are text;
- everything else is a text cell, never a formula nor a link (``write_string``), so no formula
  injection is possible and no escaping is needed (numbers in a column of no known type stay
  numbers). JSON objects and arrays are their JSON text.
  A spreadsheet cell holds at most 32,767 characters: longer text is cut there.

A sheet holds at most :data:`XLSX_MAX_ROWS` rows including its header; longer results continue on
``Sheet2``, ``Sheet3``..., each with the header.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, time
from typing import Any, Final

import orjson
import xlsxwriter

#: Rows of one worksheet, the header included (the spreadsheet format's limit).
XLSX_MAX_ROWS: Final = 1_048_576
#: Bytes of the finished file read and yielded at a time.
CHUNK_BYTES: Final = 256 * 1024
_EXACT_INTEGER: Final = 2**53
#: The first date a spreadsheet represents (1900 date system).
_FIRST_DAY: Final = date(1900, 1, 1)

Writer = Callable[[Any, int, int, Any], Any]


class _Cells:
    """One cell writer per logical type, bound to a worksheet by :meth:`row`."""

    def __init__(self, workbook: Any, column_types: Sequence[str]) -> None:
        self.date = workbook.add_format({"num_format": "yyyy-mm-dd"})
        self.datetime = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.time = workbook.add_format({"num_format": "hh:mm:ss"})
        by_type: dict[str, Callable[[Any, int, int, Any], None]] = {
            "integer": self._integer,
            "decimal": self._number,
            "float": self._number,
            "duration": self._number,
            "boolean": self._boolean,
            "date": self._date,
            "datetime": self._datetime,
            "time": self._time,
        }
        self.writers = [by_type.get(logical, self._text) for logical in column_types]

    def row(self, sheet: Any, index: int, values: Sequence[Any]) -> None:
        for column, (write, value) in enumerate(zip(self.writers, values, strict=True)):
            if value is not None:
                write(sheet, index, column, value)

    # Each writer takes any JSON-ready value: one of an unexpected kind becomes text.
    def _text(self, sheet: Any, row: int, column: int, value: Any) -> None:
        if isinstance(value, bool):
            sheet.write_boolean(row, column, value)
        elif isinstance(value, str):
            sheet.write_string(row, column, value)
        elif isinstance(value, list | dict):
            sheet.write_string(row, column, orjson.dumps(value).decode())
        elif isinstance(value, int):
            self._integer(sheet, row, column, value)
        elif isinstance(value, float):
            sheet.write_number(row, column, value)
        else:
            sheet.write_string(row, column, str(value))

    def _integer(self, sheet: Any, row: int, column: int, value: Any) -> None:
        if isinstance(value, int) and not isinstance(value, bool):
            if -_EXACT_INTEGER < value < _EXACT_INTEGER:
                sheet.write_number(row, column, value)
            else:
                sheet.write_string(row, column, str(value))
        else:
            self._number(sheet, row, column, value)

    def _number(self, sheet: Any, row: int, column: int, value: Any) -> None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            sheet.write_number(row, column, value)
        else:
            self._text(sheet, row, column, value)

    def _boolean(self, sheet: Any, row: int, column: int, value: Any) -> None:
        if isinstance(value, bool):
            sheet.write_boolean(row, column, value)
        else:
            self._text(sheet, row, column, value)

    def _date(self, sheet: Any, row: int, column: int, value: Any) -> None:
        parsed = _parse(date.fromisoformat, value)
        if isinstance(parsed, date) and parsed >= _FIRST_DAY:
            sheet.write_datetime(row, column, parsed, self.date)
        else:
            self._text(sheet, row, column, value)

    def _datetime(self, sheet: Any, row: int, column: int, value: Any) -> None:
        parsed = _parse(datetime.fromisoformat, value)
        if isinstance(parsed, datetime) and parsed.year >= _FIRST_DAY.year:
            sheet.write_datetime(row, column, parsed.replace(tzinfo=None), self.datetime)
        elif isinstance(parsed, date) and not isinstance(parsed, datetime):
            self._date(sheet, row, column, value)
        else:
            self._text(sheet, row, column, value)

    def _time(self, sheet: Any, row: int, column: int, value: Any) -> None:
        parsed = _parse(time.fromisoformat, value)
        if isinstance(parsed, time):
            sheet.write_datetime(row, column, parsed.replace(tzinfo=None), self.time)
        else:
            self._text(sheet, row, column, value)


def _parse(parser: Callable[[str], Any], value: Any) -> Any:
    if not isinstance(value, str):
        return None
    try:
        return parser(value)
    except ValueError:
        return None


def xlsx_chunks(
    columns: Sequence[str],
    batches: Iterable[Sequence[Sequence[Any]]],
    *,
    column_types: Sequence[str] | None = None,
    sheet_rows: int = XLSX_MAX_ROWS,
) -> Iterator[bytes]:
    """Yield the XLSX file of ``columns`` (the header row) and ``batches`` of rows, in chunks.

    Every batch is consumed (rows written to temporary files, constant memory) before the
    first chunk is yielded. ``column_types`` are the logical types of the columns; without them
    every cell is written by the kind of its value. ``sheet_rows`` (tests only) is the row
    count of a worksheet, header included. The temporary files are removed when the generator
    ends, fails or is closed. An exception raised by ``batches`` propagates before any byte.
    """
    if not 2 <= sheet_rows <= XLSX_MAX_ROWS:
        raise ValueError(f"A worksheet holds 2 to {XLSX_MAX_ROWS} rows, the header included.")
    if column_types is None or len(column_types) != len(columns):
        column_types = ["unknown"] * len(columns)
    scratch = tempfile.mkdtemp(prefix="prismiq-xlsx-")
    path = f"{scratch}/export.xlsx"
    workbook = xlsxwriter.Workbook(
        path, {"constant_memory": True, "tmpdir": scratch, "strings_to_formulas": False}
    )
    try:
        header = workbook.add_format({"bold": True})
        cells = _Cells(workbook, column_types)
        sheet: Any = None
        index = sheet_rows
        for rows in batches:
            for values in rows:
                if index >= sheet_rows:
                    sheet = workbook.add_worksheet()
                    for column, name in enumerate(columns):
                        sheet.write_string(0, column, name, header)
                    index = 1
                cells.row(sheet, index, values)
                index += 1
        if sheet is None:  # no rows: the header alone
            sheet = workbook.add_worksheet()
            for column, name in enumerate(columns):
                sheet.write_string(0, column, name, header)
        workbook.close()
        with open(path, "rb") as produced:
            while chunk := produced.read(CHUNK_BYTES):
                yield chunk
    finally:
        if not workbook.fileclosed:  # failed or closed early: release the rows' open files
            for worksheet in workbook.worksheets():
                worksheet._opt_close()
        shutil.rmtree(scratch, ignore_errors=True)


__all__ = ["CHUNK_BYTES", "XLSX_MAX_ROWS", "xlsx_chunks"]
