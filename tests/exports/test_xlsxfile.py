"""The constant-memory XLSX writer, read back with openpyxl: values and cell types."""

from __future__ import annotations

import glob
import io
import tempfile
from datetime import date, datetime, time
from typing import Any

import openpyxl
import pytest

from prismiq_django.services.exports.xlsxfile import xlsx_chunks


def workbook(columns: list[str], rows: list[list[Any]], types: list[str] | None, **kw: Any) -> Any:
    data = b"".join(xlsx_chunks(columns, [rows], column_types=types, **kw))
    assert data[:2] == b"PK"  # a zip container
    return openpyxl.load_workbook(io.BytesIO(data))


def test_typed_cells() -> None:
    columns = ["id", "name", "paid", "total", "ratio", "day", "at", "clock", "secs", "doc"]
    types = [
        "integer", "string", "boolean", "decimal", "float", "date", "datetime", "time",
        "duration", "json",
    ]  # fmt: skip
    rows = [
        [1, "Ada", True, 12.5, 0.25, "2024-02-29", "2024-02-29T23:59:59+00:00", "08:30:00",
         90.0, {"k": [1, None]}],
        [None, None, False, None, None, None, "2024-03-01T00:00:00", None, None, None],
    ]  # fmt: skip
    sheet = workbook(columns, rows, types).active
    cells = list(sheet.iter_rows())
    assert [c.value for c in cells[0]] == columns
    assert all(c.font.b for c in cells[0])
    first = cells[1]
    assert [c.value for c in first] == [
        1, "Ada", True, 12.5, 0.25, datetime(2024, 2, 29), datetime(2024, 2, 29, 23, 59, 59),
        time(8, 30), 90, '{"k":[1,null]}',
    ]  # fmt: skip
    assert [c.data_type for c in first] == ["n", "s", "b", "n", "n", "d", "d", "d", "n", "s"]
    assert first[5].number_format == "yyyy-mm-dd"
    assert first[6].number_format == "yyyy-mm-dd hh:mm:ss"
    assert first[7].number_format == "hh:mm:ss"
    second = [c.value for c in cells[2]]
    assert second == [None, None, False, None, None, None, datetime(2024, 3, 1), None, None, None]
    assert len(cells) == 3


def test_formulas_and_links_are_text_never_formulas() -> None:
    hostile = ["=1+1", '=HYPERLINK("http://evil","x")', "+A1", "-2", "@SUM(A1)", "http://x.test"]
    sheet = workbook(["v"], [[v] for v in hostile], ["string"]).active
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in cells] == hostile
    assert {c.data_type for c in cells} == {"s"}  # "f" would be a formula
    assert not any(c.hyperlink for c in cells)


def test_values_a_spreadsheet_cannot_hold_as_dates_are_text() -> None:
    rows = [["infinity", "-000043-03-15T12:00:00+00:00", "24:00:00", "1899-12-31"]]
    sheet = workbook(["a", "b", "c", "d"], rows, ["datetime", "datetime", "time", "date"]).active
    assert [c.value for c in next(sheet.iter_rows(min_row=2))] == rows[0]


def test_big_integers_keep_every_digit_as_text() -> None:
    sheet = workbook(["n"], [[2**53 - 1], [2**53 + 1], [-(2**63)]], ["integer"]).active
    values = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert values == [2**53 - 1, str(2**53 + 1), str(-(2**63))]


def test_unicode_and_untyped_columns() -> None:
    rows = [["ünï©ødé 😀", 3, True, [1, "x"]]]
    sheet = workbook(["ß", "n", "b", "l"], rows, None).active
    assert [c.value for c in next(sheet.iter_rows(min_row=2))] == ["ünï©ødé 😀", 3, True, '[1,"x"]']
    assert next(sheet.iter_rows(max_row=1))[0].value == "ß"


def test_empty_result_is_the_header_alone() -> None:
    sheet = workbook(["a", "b"], [], ["integer", "string"]).active
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [["a", "b"]]


def test_long_results_continue_on_more_sheets_with_the_header() -> None:
    rows = [[n] for n in range(7)]
    book = workbook(["n"], rows, ["integer"], sheet_rows=4)
    assert book.sheetnames == ["Sheet1", "Sheet2", "Sheet3"]
    read = [[row[0].value for row in sheet.iter_rows()] for sheet in book.worksheets]
    assert read == [["n", 0, 1, 2], ["n", 3, 4, 5], ["n", 6]]


def test_sheet_rows_is_bounded() -> None:
    with pytest.raises(ValueError, match="header"):
        list(xlsx_chunks(["n"], [], sheet_rows=1))


def _scratch_dirs() -> set[str]:
    return set(glob.glob(f"{tempfile.gettempdir()}/prismiq-xlsx-*"))


def test_every_batch_is_consumed_before_the_first_byte_and_scratch_files_go() -> None:
    pulled: list[int] = []
    before = _scratch_dirs()

    def batches() -> Any:
        for n in range(3):
            pulled.append(n)
            yield [[n]] * 10

    chunks = xlsx_chunks(["n"], batches(), column_types=["integer"])
    data = next(chunks)
    assert pulled == [0, 1, 2]
    data += b"".join(chunks)
    assert _scratch_dirs() == before
    values = [r[0].value for r in openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows()]
    assert values == ["n"] + [0] * 10 + [1] * 10 + [2] * 10


def test_a_failure_of_the_rows_raises_before_any_byte_and_cleans_up() -> None:
    before = _scratch_dirs()

    def batches() -> Any:
        yield [[1]] * 100
        raise ZeroDivisionError("late")

    with pytest.raises(ZeroDivisionError):
        next(xlsx_chunks(["n"], batches(), column_types=["integer"]))
    assert _scratch_dirs() == before


def test_closing_early_cleans_up() -> None:
    before = _scratch_dirs()
    rows = [[f"row {n}" * 200] for n in range(2000)]  # several chunks of output
    chunks = xlsx_chunks(["v"], [rows], column_types=["string"])
    next(chunks)
    chunks.close()
    assert _scratch_dirs() == before


def test_dates_before_1900_and_date_only_datetimes() -> None:
    sheet = workbook(["a"], [["2024-01-02"], ["1800-01-01T00:00:00"]], ["datetime"]).active
    values = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert values == [datetime(2024, 1, 2), "1800-01-01T00:00:00"]
    assert isinstance(values[0], datetime)
    assert date(2024, 1, 2) == values[0].date()
