"""Export cursors on real SQLite and PostgreSQL: batches, the row count, late failures, release."""

from __future__ import annotations

import csv
import gc
import io
from typing import Any

import pytest
from django.db import connection

from prismiq_django.exceptions import QueryExecutionError
from prismiq_django.execution.streaming import open_copy, open_rows
from tests.support.glue import Stmt

ALIAS = "default"
# MySQL's || is OR (without PIPES_AS_CONCAT): CONCAT there.
_LABEL = "CONCAT('r', n)" if connection.vendor == "mysql" else "'r' || n"
COUNT_TO = (
    "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < %s) "
    f"SELECT n, {_LABEL} AS label FROM s LIMIT %s"
)


def _fails_at(n: int) -> str:
    """A statement whose row ``n`` raises (division by zero; integer overflow on SQLite)."""
    if connection.vendor == "postgresql":
        return f"SELECT n, 100 / ({n} - n) AS q FROM generate_series(1, {2 * n}) AS n"
    if connection.vendor == "mysql":
        # MariaDB stops a recursive CTE at 1,000 iterations (max_recursive_iterations): 10,000
        # rows from a cross join instead, failing at row m * 101 + 1 (about n) in either join
        # order; the overflow is a BIGINT error there.
        m = max(0, (n - 1) // 101)
        return (
            "WITH RECURSIVE d(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM d WHERE k < 99) "
            f"SELECT a.k * 100 + b.k + 1 AS n, CASE WHEN a.k = {m} AND b.k = {m} "
            "THEN 9223372036854775807 + a.k + 1 ELSE a.k END AS q FROM d AS a CROSS JOIN d AS b"
        )
    overflow = "abs(-9223372036854775807 - 1)"
    return (
        f"WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {2 * n}) "
        f"SELECT n, CASE WHEN n = {n} THEN {overflow} ELSE n END AS q FROM s"
    )


def _in_transaction() -> bool:
    if connection.vendor == "postgresql":
        from psycopg.pq import TransactionStatus

        return bool(connection.connection.info.transaction_status != TransactionStatus.IDLE)
    if connection.vendor == "mysql":  # MariaDB's session variable (a SELECT opens none)
        with connection.cursor() as cursor:
            cursor.execute("SELECT @@in_transaction")
            return bool(cursor.fetchone()[0])
    return bool(connection.connection.in_transaction)


@pytest.mark.django_db
@pytest.mark.parametrize("batch", [1, 7, 2000])
def test_rows_come_in_batches_up_to_the_limit(batch: int) -> None:
    stmt = Stmt(COUNT_TO, (100, 51), columns=("n", "label"), limit=50)
    export = open_rows(stmt, alias=ALIAS, timeout=10, column_types=["integer", "string"],
                       batch_size=batch)  # fmt: skip
    batches = list(export.batches)
    assert export.columns == ["n", "label"]
    assert export.column_types == ["integer", "string"]
    rows = [row for rows in batches for row in rows]
    assert rows == [[n, f"r{n}"] for n in range(1, 51)]  # the limit, not the extra row
    assert max(map(len, batches)) <= batch


@pytest.mark.django_db
def test_an_empty_result_has_its_columns() -> None:
    stmt = Stmt(COUNT_TO, (5, 0), columns=("n", "label"))  # LIMIT 0
    export = open_rows(stmt, alias=ALIAS, timeout=10, column_types=["integer", "string"])
    assert export.columns == ["n", "label"]
    assert [row for rows in export.batches for row in rows] == []


@pytest.mark.django_db(transaction=True)
def test_a_failure_after_some_rows_raises_from_the_batches_and_ends_the_transaction() -> None:
    stmt = Stmt(_fails_at(5000), columns=("n", "q"), limit=100_000)
    export = open_rows(stmt, alias=ALIAS, timeout=10, column_types=["integer", "integer"],
                       batch_size=1000)  # fmt: skip
    got: list[int] = []

    def drain() -> None:
        for rows in export.batches:
            got.append(len(rows))

    with pytest.raises(QueryExecutionError):
        drain()
    got_rows = sum(got)
    assert 1000 <= got_rows < 5000
    assert not _in_transaction()
    with connection.cursor() as cursor:  # the connection is usable
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


@pytest.mark.django_db(transaction=True)
def test_a_failure_in_the_first_batch_raises_when_opening() -> None:
    stmt = Stmt(_fails_at(10), columns=("n", "q"), limit=100_000)
    with pytest.raises(QueryExecutionError):
        open_rows(stmt, alias=ALIAS, timeout=10, column_types=["integer", "integer"])
    assert not _in_transaction()


@pytest.mark.django_db(transaction=True)
def test_closing_early_ends_the_transaction() -> None:
    stmt = Stmt(COUNT_TO, (100_000, 100_001), columns=("n", "label"), limit=100_000)
    export = open_rows(stmt, alias=ALIAS, timeout=10, batch_size=100)
    if connection.vendor != "mysql":
        # MySQL: the connection streams the rows (an unbuffered cursor), so no statement can
        # ask it until the cursor is closed; the transaction is seen ended afterwards.
        assert _in_transaction()
    next(export.batches)
    export.close()
    assert not _in_transaction()


@pytest.mark.django_db(transaction=True)
def test_writes_are_refused() -> None:
    with pytest.raises(QueryExecutionError):
        open_rows(Stmt("DELETE FROM shop_customer"), alias=ALIAS, timeout=10)
    assert not _in_transaction()


# --- COPY (PostgreSQL) -------------------------------------------------------------------------


def _copy_sql(select: str) -> str:
    return f"COPY ({select}) TO STDOUT (FORMAT csv)"


def _records(chunks: Any) -> list[list[str]]:
    data = b"".join(chunks)
    assert data.endswith(b"\r\n")
    return list(csv.reader(io.StringIO(data.decode(), newline="")))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_copy_streams_crlf_records_and_keeps_newlines_inside_fields() -> None:
    sql = _copy_sql("SELECT n, E'a\\nb,\"c\"' || n FROM generate_series(1, %s) AS n")
    export = open_copy(sql, [20000], alias=ALIAS, timeout=10)
    chunks = list(export.chunks)
    assert len(chunks) > 2
    assert b"".join(chunks).count(b"\r\n") == 20000  # CRLF ends records, LF stays inside
    records = _records(chunks)
    assert records == [[str(n), f'a\nb,"c"{n}'] for n in range(1, 20001)]
    assert not _in_transaction()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_copy_chunks_mixing_plain_records_and_line_breaks_in_fields_are_exact() -> None:
    """A chunk is converted whole when its only LFs end records, record by record otherwise:
    a line break (LF or CRLF) in a few fields, far apart, must come out as it was in either
    kind of chunk, and every record end as CRLF."""
    select = (
        "SELECT n, CASE WHEN n %% 7919 = 0 THEN E'x\\ny' WHEN n %% 7907 = 0 THEN E'p\\r\\nq'"
        " ELSE 'v' || n END FROM generate_series(1, %s) AS n"
    )
    export = open_copy(_copy_sql(select), [60000], alias=ALIAS, timeout=10)
    chunks = list(export.chunks)
    assert len(chunks) > 5
    assert export.records() == 60000
    expected = [
        [str(n), "x\ny" if n % 7919 == 0 else "p\r\nq" if n % 7907 == 0 else f"v{n}"]
        for n in range(1, 60001)
    ]
    assert _records(chunks) == expected
    assert gc.isenabled()  # the pause around each chunk's records is over
    assert not _in_transaction()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_copy_failure_after_some_rows_raises_from_the_chunks() -> None:
    select = "SELECT n, 100 / (200000 - n) FROM generate_series(1, 400000) AS n"
    export = open_copy(_copy_sql(select), [], alias=ALIAS, timeout=10)
    got: list[int] = []

    def drain() -> None:
        for chunk in export.chunks:
            got.append(chunk.count(b"\r\n"))

    with pytest.raises(QueryExecutionError):
        drain()
    assert 0 < sum(got) < 200_000
    assert not _in_transaction()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_copy_closed_early_ends_the_transaction_and_the_connection_works() -> None:
    select = "SELECT n, repeat('x', 100) FROM generate_series(1, 5000000) AS n"
    export = open_copy(_copy_sql(select), [], alias=ALIAS, timeout=30)
    next(export.chunks)
    export.close()
    assert not _in_transaction()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_copy_is_read_only() -> None:
    with pytest.raises(QueryExecutionError):
        open_copy(_copy_sql("DELETE FROM shop_customer RETURNING id"), [], alias=ALIAS,
                  timeout=10)  # fmt: skip


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_copy_runs_without_jit_and_the_session_keeps_its_own_setting() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        (before,) = cursor.fetchone()
    export = open_copy(_copy_sql("SELECT current_setting('jit')"), [], alias=ALIAS, timeout=10)
    assert b"".join(export.chunks) == b"off\r\n"
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == (before,)
