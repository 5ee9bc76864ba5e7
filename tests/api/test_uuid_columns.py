"""UUID columns (issue 23 item 9): Django's ``UUIDField`` is typed ``uuid`` on SQLite too (it
declares ``char(32)`` and stores 32 hex digits) and comes back canonically spelled, as on
PostgreSQL; a filter on it takes the canonical spelling."""

from __future__ import annotations

from uuid import UUID

from rest_framework.test import APIClient

from tests.api.conftest import api

SKUS = [str(UUID(int=n)) for n in range(1, 5)]


def test_a_uuid_field_is_typed_uuid_in_the_schema(client: APIClient) -> None:
    columns = client.get(api("tables/shop_product")).json()["columns"]
    assert {c["name"]: c["type"] for c in columns}["sku"] == "uuid"


def test_uuids_come_back_with_dashes_and_filter_by_their_canonical_text(
    client: APIClient,
) -> None:
    definition = {
        "tables": [{"id": "p", "name": "shop_product"}],
        "columns": [{"table_id": "p", "column": "sku"}],
        "order_by": [{"table_id": "p", "column": "sku", "direction": "ASC"}],
    }
    result = client.post(api("query/execute"), {"query": definition}, format="json").json()
    assert result["column_types"] == ["uuid"]
    assert [row[0] for row in result["rows"]] == SKUS
    filtered = {
        **definition,
        "filters": [{"table_id": "p", "column": "sku", "operator": "eq", "value": SKUS[1]}],
    }
    one = client.post(api("query/execute"), {"query": filtered}, format="json").json()
    assert one["rows"] == [[SKUS[1]]]
    values = client.get(api("tables/shop_product/columns/sku/values")).json()["values"]
    assert values == SKUS
