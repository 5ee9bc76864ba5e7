"""PostgreSQL: ``money`` columns are decimals, in the catalog and in every answer.

psycopg has no loader for ``money`` and reads it as the text PostgreSQL writes, which
``lc_monetary`` spells (``$1,234.56``, ``1.234,56 €``). Compiled statements read a money column
as ``CAST(<column> AS numeric)``, the same amount under the session's ``lc_monetary`` but
without its spelling: the value is the JSON number its ``decimal`` type says, filters compare it
with numbers, and ``sum``/``avg``/``min``/``max`` are numeric. A ``money`` result column of
raw SQL (not compiled, so not cast) keeps PostgreSQL's text and says ``string``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from prismiq_django.execution import execute_compiled
from tests.support.glue import Stmt, api_client, exposed_table

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TABLE = "pg_money"
CREATE = f"CREATE TABLE {TABLE} (id integer PRIMARY KEY, shop text, price money)"
ROWS = """
(1, 'a', '1234.56'), (2, 'a', '-0.5'), (3, 'b', '92233720368547758.07'), (4, 'b', NULL),
(5, 'b', '10')
"""


@pytest.fixture
def table() -> Iterator[None]:
    with exposed_table(TABLE, CREATE, ROWS):
        yield


def _execute(client: Any, definition: dict[str, Any]) -> dict[str, Any]:
    response = client.post(
        "/api/analytics/query/execute",
        {"query": definition, "bypass_cache": True},
        format="json",
    )
    assert response.status_code == 200, response.content
    answer: dict[str, Any] = response.json()
    return answer


def _query(**parts: Any) -> dict[str, Any]:
    return {"tables": [{"id": "t", "name": TABLE}], **parts}


def test_money_values_are_numbers_and_typed_decimal(table: None) -> None:
    client = api_client("money")
    columns = client.get(f"/api/analytics/tables/{TABLE}").json()["columns"]
    assert {c["name"]: c["type"] for c in columns}["price"] == "decimal"
    answer = _execute(
        client,
        _query(
            columns=[{"table_id": "t", "column": c} for c in ("id", "price")],
            order_by=[{"table_id": "t", "column": "id", "direction": "ASC"}],
        ),
    )
    assert answer["column_types"] == ["integer", "decimal"]
    assert answer["rows"] == [
        [1, 1234.56],
        [2, -0.5],
        [3, 92233720368547758.07],
        [4, None],
        [5, 10.0],
    ]


def test_filters_and_aggregations_of_money(table: None) -> None:
    client = api_client("money")
    price = {"table_id": "t", "column": "price"}
    answer = _execute(
        client,
        _query(
            columns=[
                {"table_id": "t", "column": "shop"},
                {**price, "aggregation": "sum", "alias": "total"},
                {**price, "aggregation": "avg", "alias": "mean"},
                {**price, "aggregation": "min", "alias": "low"},
                {**price, "aggregation": "max", "alias": "high"},
            ],
            filters=[{**price, "operator": "lt", "value": 100000}],
            group_by=[{"table_id": "t", "column": "shop"}],
            order_by=[{"table_id": "t", "column": "shop", "direction": "ASC"}],
        ),
    )
    assert answer["column_types"] == ["string", "decimal", "decimal", "decimal", "decimal"]
    assert answer["rows"] == [["a", 1234.06, 617.03, -0.5, 1234.56], ["b", 10.0, 10.0, 10.0, 10.0]]
    between = _execute(
        client,
        _query(
            columns=[{"table_id": "t", "column": "id"}],
            filters=[{**price, "operator": "between", "value": [-1, "10.00"]}],
            order_by=[{"table_id": "t", "column": "id", "direction": "ASC"}],
        ),
    )
    assert between["rows"] == [[2], [5]]
    listed = client.get(f"/api/analytics/tables/{TABLE}/columns/price/values").json()
    assert listed == {"values": [-0.5, 10.0, 1234.56, 92233720368547758.07]}


def test_a_csv_export_of_money_has_the_numbers(table: None) -> None:
    client = api_client("money")
    definition = _query(
        columns=[{"table_id": "t", "column": c} for c in ("id", "price")],
        filters=[{"table_id": "t", "column": "id", "operator": "in", "value": [1, 2, 4]}],
        order_by=[{"table_id": "t", "column": "id", "direction": "ASC"}],
    )
    export = client.post(
        "/api/analytics/query/export", {"query": definition, "format": "csv"}, format="json"
    )
    assert export.status_code == 200
    assert b"".join(export.streaming_content).decode().split() == [
        "id,price",
        "1,1234.56",
        "2,-0.5",
        "4,",
    ]


def test_an_uncast_money_result_column_is_its_text_typed_string() -> None:
    """Raw SQL (``sql/execute``) is not compiled: its money column stays PostgreSQL's text, and
    says so."""
    statement = Stmt("SELECT '1234.5'::money AS m, 2 AS n LIMIT 2", columns=("m", "n"), limit=1)
    result = execute_compiled(statement, alias="default", timeout=5.0)
    assert result.column_types == ["string", "integer"]
    assert result.rows == [["$1,234.50", 2]]
