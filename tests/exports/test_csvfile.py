"""The streaming CSV writer, read back with the standard library's csv module."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from prismiq_django.services.exports.csvfile import CHUNK_BYTES, csv_chunks, escape_formula


def read(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def export(columns: list[str], rows: list[list[Any]], types: list[str] | None, **kw: Any) -> bytes:
    return b"".join(csv_chunks(columns, [rows], column_types=types, **kw))


def test_header_values_and_nulls_spelled_as_section_4() -> None:
    columns = ["id", "name", "paid", "total", "ratio", "day", "at", "doc", "tags", "note"]
    types = [
        "integer", "string", "boolean", "decimal", "float", "date", "datetime", "json", "array",
        "string",
    ]  # fmt: skip
    rows = [
        [1, "Ada", True, 12.5, 0.1, "2024-02-29", "2024-02-29T23:59:59.5+00:00",
         {"k": [1, None, "é"]}, ["a", "b"], None],
        [2, "", False, 3, 1e16, None, None, None, None, "x"],
    ]  # fmt: skip
    data = export(columns, rows, types)
    assert data.count(b"\r\n") == 3  # RFC 4180 records: CRLF after each, the last one too
    assert data.endswith(b"\r\n")
    table = read(data)
    assert table[0] == columns
    assert table[1] == [
        "1", "Ada", "true", "12.5", "0.1", "2024-02-29", "2024-02-29T23:59:59.5+00:00",
        '{"k":[1,null,"é"]}', '["a","b"]', "",
    ]  # fmt: skip
    assert table[2] == ["2", "", "false", "3", "1e+16", "", "", "", "", "x"]
    assert len(table) == 3


def test_quoting_of_commas_quotes_and_newlines_round_trips() -> None:
    hostile = ["a,b", 'say "hi"', "line\nbreak", "cr\rlf\r\n", "tab\t", " lead", "ünï©ødé 😀"]
    data = export(["v"], [[v] for v in hostile], ["string"])
    assert [row[0] for row in read(data)[1:]] == hostile
    assert "ünï©ødé 😀".encode() in data  # UTF-8, not escaped


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@"])
def test_text_cells_starting_a_formula_are_prefixed(prefix: str) -> None:
    text = f'{prefix}HYPERLINK("http://evil","x")'
    data = export([f"{prefix}col"], [[text]], ["string"])
    table = read(data)
    assert table[0] == [f"'{prefix}col"]  # the header is text too
    assert table[1] == [f"'{text}"]


def test_numbers_dates_and_typed_columns_are_never_prefixed() -> None:
    data = export(
        ["n", "d", "day", "secs"],
        [[-5, -1.5, "-000043-03-15", -3600.0]],
        ["integer", "decimal", "date", "duration"],
    )
    assert read(data)[1] == ["-5", "-1.5", "-000043-03-15", "-3600.0"]


def test_other_text_like_columns_are_escaped_too() -> None:
    data = export(["u", "j", "unknown"], [["-uuid-ish", "=1+1", "@x"]], ["uuid", "json", "unknown"])
    assert read(data)[1] == ["'-uuid-ish", "'=1+1", "'@x"]


def test_escaping_off_leaves_text_as_is() -> None:
    data = export(["=h"], [["=1+1"], ["@x"]], ["string"], escape_formulas=False)
    assert read(data) == [["=h"], ["=1+1"], ["@x"]]


def test_without_types_every_string_is_text() -> None:
    data = export(["a", "b"], [["=x", True]], None)
    assert read(data)[1] == ["'=x", "true"]


def test_escape_formula() -> None:
    assert escape_formula("=A1") == "'=A1"
    assert escape_formula("a=1") == "a=1"
    assert escape_formula("") == ""
    assert escape_formula("'=A1") == "'=A1"


def test_empty_result_is_the_header_alone() -> None:
    assert read(export(["a", "b"], [], ["integer", "string"])) == [["a", "b"]]


def test_chunks_follow_batches_and_only_one_batch_is_pulled_at_a_time() -> None:
    pulled: list[int] = []
    row = ["x" * 1000]

    def batches() -> Any:
        for n in range(5):
            pulled.append(n)
            yield [row] * (CHUNK_BYTES // 1000 + 1)  # each batch fills a chunk

    chunks = csv_chunks(["v"], batches(), column_types=["string"])
    first = next(chunks)
    assert pulled == [0]
    assert first.startswith(b"v\r\n")
    second = next(chunks)
    assert pulled == [0, 1]
    rest = list(chunks)
    assert pulled == [0, 1, 2, 3, 4]
    assert len(read(first + second + b"".join(rest))) == 1 + 5 * (CHUNK_BYTES // 1000 + 1)


def test_an_error_of_the_rows_reaches_the_consumer_after_the_chunks_sent() -> None:
    def batches() -> Any:
        yield [["y" * 1000]] * (CHUNK_BYTES // 1000 + 1)
        raise ZeroDivisionError("late")

    chunks = csv_chunks(["v"], batches(), column_types=["string"])
    assert next(chunks).startswith(b"v\r\n")
    with pytest.raises(ZeroDivisionError):
        next(chunks)
