"""The analytics alias through PgBouncer in transaction pooling mode (``scripts/pg-bouncer``).

PgBouncer hands each client *transaction* to whichever server connection is free; with one server
connection per database (the script's ``default_pool_size = 1``) every transaction of every
gunicorn worker takes turns on the same server session. The rails set everything with
``set_config(..., true)`` (``SET LOCAL``) inside the transaction, so nothing may outlive it:
that is what these tests check from outside, along with the statement timeout and a streamed
export (a server-side cursor inside the transaction) over the pooled connection.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import openpyxl
import pytest

from tests.scaleout.site import ScaleoutSite, sql

pytestmark = pytest.mark.scaleout

BOUNCER = "postgresql://postgres@127.0.0.1:6432/"
#: Every triple of 3,000 rows that share ``k`` (all do): 27,000,000,000 joined rows, hours of
#: work (a pair join alone, 9,000,000 rows, finished within the 1 s timeout on a quiet machine).
PAIRS = (
    "CREATE TABLE scale_pairs (id integer PRIMARY KEY, k integer NOT NULL)",
    "INSERT INTO scale_pairs SELECT g, 1 FROM generate_series(1, 3000) g",
)
SLOW = {
    "tables": [
        {"id": "a", "name": "scale_pairs"},
        {"id": "b", "name": "scale_pairs"},
        {"id": "c", "name": "scale_pairs"},
    ],
    "joins": [
        {"from_table_id": "a", "from_column": "k", "to_table_id": "b", "to_column": "k"},
        {"from_table_id": "a", "from_column": "k", "to_table_id": "c", "to_column": "k"},
    ],
    "columns": [{"table_id": "a", "column": "id", "aggregation": "count_distinct", "alias": "n"}],
}
LISTING = {
    "tables": [{"id": "t", "name": "scale_items"}],
    "columns": [{"table_id": "t", "column": "id"}, {"table_id": "t", "column": "label"}],
    "order_by": [{"table_id": "t", "column": "id", "direction": "ASC"}],
}


def _session_state(name: str) -> list[tuple[str, str]]:
    """What a fresh client transaction through PgBouncer sees on the shared server session."""
    return [
        (str(r[0]), str(r[1]))
        for r in sql(
            BOUNCER + name,
            "SELECT current_setting('statement_timeout'), current_setting('transaction_read_only')",
        )
    ]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScaleoutSite]:
    assert sql(BOUNCER + "postgres", "SELECT 1") == [(1,)], "no PgBouncer on 6432 (make bouncer)"
    built = ScaleoutSite(
        tmp_path_factory.mktemp("bouncer"),
        analytics_port=6432,
        prismiq={"EXPOSED_TABLES": ["scale_items", "scale_pairs"], "QUERY_TIMEOUT": 1.0},
        setup_sql=PAIRS,
    )
    try:
        yield built
    finally:
        built.close()


def test_queries_answer_through_the_pooler_and_leave_no_setting_behind(
    site: ScaleoutSite,
) -> None:
    baseline = _session_state(site.name)
    for _ in range(8):  # more than psycopg's auto-prepare threshold: nothing is prepared
        status, body, _ = site.request(
            "POST", "query/execute", {"query": LISTING, "bypass_cache": True}, user="alice"
        )
        assert status == 200, body
        assert body["rows"][0] == [1, "item 1"]
        assert len(body["rows"]) == 10
    # The same server session, after the app's transactions: no timeout, not read-only.
    assert _session_state(site.name) == baseline
    assert baseline[0][1] == "off"


def test_the_statement_timeout_holds_on_the_pooled_connection(site: ScaleoutSite) -> None:
    status, body, _ = site.request(
        "POST", "query/execute", {"query": SLOW, "bypass_cache": True}, user="alice"
    )
    assert status == 504, body
    assert body["code"] == "query_timeout"
    assert "scale_pairs" not in str(body)
    # The cancelled transaction left nothing behind for the next client of that session.
    assert _session_state(site.name)[0][1] == "off"
    status, body, _ = site.request("POST", "query/execute", {"query": LISTING}, user="bob")
    assert status == 200, body


def test_an_export_streams_through_the_pooler(site: ScaleoutSite) -> None:
    status, body, headers = site.request(
        "POST", "query/export", {"query": LISTING, "format": "csv"}, user="alice"
    )
    assert status == 200, body
    assert "attachment" in headers.get("Content-Disposition", "")
    rows = list(csv.reader(io.StringIO(body, newline="")))
    assert rows[0] == ["id", "label"]
    assert rows[1:] == [[str(i), f"item {i}"] for i in range(1, 11)]
    assert _session_state(site.name)[0][1] == "off"
    # XLSX reads a named (server-side) cursor in batches: DECLARE and FETCH in one transaction.
    status, body, _ = site.request(
        "POST", "query/export", {"query": LISTING, "format": "xlsx"}, user="alice"
    )
    assert status == 200, body
    sheet = openpyxl.load_workbook(io.BytesIO(body), read_only=True).active
    assert [list(r) for r in sheet.iter_rows(values_only=True)][1:3] == [
        [1, "item 1"],
        [2, "item 2"],
    ]
    assert _session_state(site.name)[0][1] == "off"
