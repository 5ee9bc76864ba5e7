"""``schema``, ``tables``, ``tables/{name}`` and ``tables/{name}/columns/{column}/values``."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.api.conftest import CANARY_TABLE, SHOP_TABLES, TOKEN_SECRET, api, body_text, configure


def test_schema_lists_exposed_tables_and_relationships(client: APIClient) -> None:
    response = client.get(api("schema"))
    assert response.status_code == 200
    data = response.json()
    assert sorted(t["name"] for t in data["tables"]) == sorted(SHOP_TABLES)
    order = next(t for t in data["tables"] if t["name"] == "shop_order")
    assert set(order) >= {
        "name", "schema_name", "display_name", "description", "row_count", "columns",
    }  # fmt: skip
    columns = {c["name"]: c for c in order["columns"]}
    assert set(columns) == {
        "id", "tenant_id", "customer_id", "status", "ordered_at", "shipped_on", "total",
    }  # fmt: skip
    assert columns["total"]["type"] == "decimal"
    assert columns["ordered_at"]["type"] == "datetime"
    assert columns["shipped_on"]["type"] == "date"
    assert columns["shipped_on"]["is_nullable"] is True
    assert columns["id"]["is_primary_key"] is True
    for column in columns.values():
        assert set(column) >= {
            "name", "data_type", "type", "is_nullable", "is_primary_key", "default_value",
            "display_name", "description",
        }  # fmt: skip
    assert {
        "from_table": "shop_order",
        "from_column": "customer_id",
        "to_table": "shop_customer",
        "to_column": "id",
    } in data["relationships"]
    assert CANARY_TABLE not in body_text(response)
    assert "auth_user" not in body_text(response)


def test_tables_lists_names(client: APIClient) -> None:
    response = client.get(api("tables"))
    assert response.status_code == 200
    assert sorted(response.json()["tables"]) == sorted(SHOP_TABLES)


def test_nothing_is_exposed_by_default(
    client: APIClient, settings: Any, exposed: dict[str, Any]
) -> None:
    configure(settings, EXPOSED_TABLES=[])
    assert client.get(api("tables")).json() == {"tables": []}
    assert client.get(api("schema")).json()["tables"] == []
    assert client.get(api("tables/shop_order")).status_code == 404


def test_table_detail(client: APIClient) -> None:
    response = client.get(api("tables/shop_customer"))
    assert response.status_code == 200
    data = response.json()
    assert data["name"] == "shop_customer"
    assert "email" in [c["name"] for c in data["columns"]]


@pytest.mark.parametrize(
    "name",
    ["no_such_table", CANARY_TABLE, "auth_user", "django_session", "prismiq_django_savedquery"],
)
def test_table_detail_404_for_unknown_unexposed_and_protected(client: APIClient, name: str) -> None:
    response = client.get(api(f"tables/{name}"))
    assert response.status_code == 404
    assert set(response.json()) == {"detail"}


def test_protected_table_stays_hidden_even_when_listed(client: APIClient, settings: Any) -> None:
    # The system check refuses this configuration; at runtime the table is still never served.
    configure(settings, EXPOSED_TABLES=[*SHOP_TABLES, "auth_user"])
    assert "auth_user" not in client.get(api("tables")).json()["tables"]
    assert client.get(api("tables/auth_user")).status_code == 404


def test_column_values_distinct_sorted_non_null(client: APIClient) -> None:
    response = client.get(api("tables/shop_order/columns/status/values"))
    assert response.status_code == 200
    assert response.json() == {"values": ["cancelled", "paid", "pending", "shipped"]}
    shipped = client.get(api("tables/shop_order/columns/shipped_on/values")).json()["values"]
    assert shipped == ["2024-01-22", "2024-02-05", "2024-03-19", "2024-03-27"]


def test_column_values_limit_and_search(client: APIClient) -> None:
    limited = client.get(api("tables/shop_order/columns/status/values"), {"limit": 2})
    assert limited.json() == {"values": ["cancelled", "paid"]}
    searched = client.get(api("tables/shop_customer/columns/city/values"), {"search": "ER"})
    assert searched.json() == {"values": ["Berlin"]}
    both = client.get(api("tables/shop_order/columns/status/values"), {"search": "p", "limit": 1})
    assert both.json() == {"values": ["paid"]}


def test_column_values_search_is_literal(client: APIClient) -> None:
    values = client.get(
        api("tables/shop_product/columns/name/values"), {"search": "0% cotton_"}
    ).json()["values"]
    assert values == ["100% cotton_shirt"]
    assert client.get(api("tables/shop_product/columns/name/values"), {"search": "%"}).json()[
        "values"
    ] == ["100% cotton_shirt"]
    assert client.get(api("tables/shop_product/columns/name/values"), {"search": "_"}).json()[
        "values"
    ] == ["100% cotton_shirt"]


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"limit": 0}, "/limit"),
        ({"limit": 1001}, "/limit"),
        ({"limit": -5}, "/limit"),
        ({"limit": "ten"}, "/limit"),
        ({"search": "x" * 201}, "/search"),
    ],
)
def test_column_values_bad_parameters_are_400(
    client: APIClient, params: dict[str, object], path: str
) -> None:
    response = client.get(api("tables/shop_order/columns/status/values"), params)
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Invalid request"
    assert [e["path"] for e in body["errors"]] == [path]
    assert body["errors"][0]["code"] == "invalid_value"


def test_column_values_of_a_json_column_name_the_column(client: APIClient) -> None:
    """Issue 23 item 3: the error speaks of the endpoint's own parameter (``/column``), never of
    the definition the endpoint builds inside (it answered ``/order_by/0``)."""
    response = client.get(api("tables/shop_product/columns/attributes/values"))
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Invalid request"
    assert [(e["code"], e["path"]) for e in body["errors"]] == [("invalid_value", "/column")]
    assert "'attributes'" in body["errors"][0]["message"]
    assert "json" in body["errors"][0]["message"]


@pytest.mark.parametrize("search", ["12", "1", "x"])
def test_column_values_search_on_a_number_is_a_400_naming_search(
    client: APIClient, search: str
) -> None:
    """Issue 23 item 4: not ``invalid_operator`` (no operator was sent): ``invalid_value`` at
    ``/search``, saying the column's type."""
    response = client.get(api("tables/shop_order/columns/total/values"), {"search": search})
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Invalid request"
    assert [(e["code"], e["path"]) for e in body["errors"]] == [("invalid_value", "/search")]
    assert "decimal" in body["errors"][0]["message"]
    assert client.get(api("tables/shop_order/columns/total/values")).status_code == 200


def test_column_values_limit_bounds_accepted(client: APIClient) -> None:
    for limit in (1, 1000):
        response = client.get(api("tables/shop_order/columns/status/values"), {"limit": limit})
        assert response.status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "tables/shop_order/columns/nope/values",
        "tables/nope/columns/id/values",
        f"tables/{CANARY_TABLE}/columns/secret/values",
        "tables/auth_user/columns/password/values",
    ],
)
def test_column_values_404(client: APIClient, url: str) -> None:
    response = client.get(api(url))
    assert response.status_code == 404
    assert "CANARY" not in body_text(response)


def test_admin_exposure_and_hidden_column(client: APIClient, settings: Any) -> None:
    from prismiq_django import services
    from prismiq_django.models import ExposedColumn, ExposedTable

    configure(settings, EXPOSED_TABLES=None)
    services.invalidate_catalog()
    assert client.get(api("tables")).json() == {"tables": []}
    customer = ExposedTable.objects.create(name="shop_customer", is_exposed=True)
    ExposedTable.objects.create(name="shop_order", is_exposed=False)
    ExposedColumn.objects.create(table=customer, name="api_token", is_hidden=True)
    services.invalidate_catalog()
    assert client.get(api("tables")).json() == {"tables": ["shop_customer"]}
    assert client.get(api("tables/shop_order")).status_code == 404
    names = [c["name"] for c in client.get(api("tables/shop_customer")).json()["columns"]]
    assert "api_token" not in names
    assert "email" in names
    assert client.get(api("tables/shop_customer/columns/api_token/values")).status_code == 404
    leaked = client.post(
        api("query/execute"),
        {
            "query": {
                "tables": [{"id": "c", "name": "shop_customer"}],
                "columns": [{"table_id": "c", "column": "api_token"}],
            }
        },
        format="json",
    )
    assert leaked.status_code == 400
    assert leaked.json()["errors"][0]["code"] == "column_not_found"
    assert TOKEN_SECRET not in body_text(leaked)
    schema = body_text(client.get(api("schema")))
    assert TOKEN_SECRET not in schema
    assert "api_token" not in schema
