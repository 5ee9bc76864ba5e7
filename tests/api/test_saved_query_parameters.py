"""Saved-query parameters (issue 23 item 11): ``filters`` declared on a saved query (the
``DashboardFilter`` objects of dashboards) and ``filter_values`` on ``saved-queries/{id}/execute``,
merged by the same function as dashboard filters, so one saved query serves "orders of country X
in range Y"."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.api.conftest import api

ORDERS = {
    "tables": [{"id": "o", "name": "shop_order"}, {"id": "c", "name": "shop_customer"}],
    "joins": [
        {"from_table_id": "o", "from_column": "customer_id", "to_table_id": "c", "to_column": "id"}
    ],
    "columns": [{"table_id": "o", "column": "*", "aggregation": "count", "alias": "n"}],
}
FILTERS = [
    {"id": "country", "type": "select", "field": "country", "table": "shop_customer"},
    {"id": "range", "type": "date_range", "field": "ordered_at"},
    {"id": "status", "type": "multi_select", "field": "status", "default_value": ["paid"]},
]


def _saved(client: APIClient, **extra: Any) -> int:
    body = {"name": "orders of country X in range Y", "query": ORDERS, "filters": FILTERS}
    created = client.post(api("saved-queries"), {**body, **extra}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["filters"] == body["filters"]
    pk: int = created.json()["id"]
    return pk


def _count(client: APIClient, pk: int, values: object = None) -> Any:
    body = {} if values is None else {"filter_values": values}
    return client.post(api(f"saved-queries/{pk}/execute"), body, format="json")


def test_one_saved_query_serves_country_x_in_range_y(client: APIClient) -> None:
    pk = _saved(client)
    # No values: the default applies (status in [paid]): 4 paid orders.
    assert _count(client, pk).json()["rows"] == [[4]]
    de_january = [
        {"filter_id": "country", "value": "DE"},
        {"filter_id": "range", "value": {"start": "2024-01-01", "end": "2024-01-31"}},
        {"filter_id": "status", "value": None},  # null switches the default off
    ]
    assert _count(client, pk, de_january).json()["rows"] == [[2]]  # o1, o2 (Ann)
    fr_paid = [{"filter_id": "country", "value": "FR"}]
    assert _count(client, pk, fr_paid).json()["rows"] == [[1]]  # o3 (Bob)
    q1 = [
        {"filter_id": "range", "value": {"start": "2024-01-01", "end": "2024-03-31"}},
        {"filter_id": "status", "value": ["paid", "shipped"]},
    ]
    assert _count(client, pk, q1).json()["rows"] == [[8]]


def test_it_is_the_dashboards_merge(client: APIClient) -> None:
    """The same answer as a dashboard widget with the same filters and values."""
    pk = _saved(client)
    values = [{"filter_id": "country", "value": "DE"}, {"filter_id": "status", "value": None}]
    board = client.post(
        api("dashboards"),
        {
            "name": "d",
            "filters": FILTERS,
            "widgets": [
                {"type": "table", "query": ORDERS, "position": {"x": 0, "y": 0, "w": 4, "h": 4}}
            ],
        },
        format="json",
    ).json()
    widget = board["widgets"][0]["id"]
    via_widget = client.post(
        api(f"dashboards/{board['id']}/widgets/{widget}/execute"),
        {"filter_values": values},
        format="json",
    )
    assert via_widget.status_code == 200, via_widget.content
    assert _count(client, pk, values).json()["rows"] == via_widget.json()["rows"] == [[6]]


@pytest.mark.parametrize(
    ("values", "path"),
    [
        ([{"filter_id": "nope", "value": 1}], "/filter_values/0/filter_id"),
        ([{"filter_id": "range", "value": "someday"}], "/filter_values/0/value"),
        ([{"filter_id": "country", "value": ["DE"]}], "/filter_values/0/value"),
        ("DE", "/filter_values"),
    ],
)
def test_bad_filter_values_are_400_at_their_path(
    client: APIClient, values: object, path: str
) -> None:
    response = _count(client, _saved(client), values)
    assert response.status_code == 400, response.content
    assert path in [e["path"] for e in response.json()["errors"]]


def test_declarations_are_checked_when_saved(client: APIClient) -> None:
    bad = [
        {"id": "x", "type": "colour", "field": "status"},
        {"id": "y", "type": "select", "field": "status"},
        {"id": "y", "type": "select", "field": "status"},
    ]
    response = client.post(
        api("saved-queries"), {"name": "", "query": ORDERS, "filters": bad}, format="json"
    )
    assert response.status_code == 400
    paths = {e["path"] for e in response.json()["errors"]}
    assert {"/name", "/filters/0/type", "/filters/2/id"} <= paths
    # A default that does not fit its column's type is refused too.
    wrong_default = [{"id": "n", "type": "select", "field": "total", "default_value": "lots"}]
    refused = client.post(
        api("saved-queries"),
        {"name": "x", "query": ORDERS, "filters": wrong_default},
        format="json",
    )
    assert refused.status_code == 400
    assert [e["path"] for e in refused.json()["errors"]] == ["/filters/0/default_value"]


def test_without_declarations_filter_values_are_refused(client: APIClient) -> None:
    created = client.post(api("saved-queries"), {"name": "plain", "query": ORDERS}, format="json")
    assert created.json()["filters"] == []
    pk = created.json()["id"]
    assert _count(client, pk).json()["rows"] == [[10]]
    refused = _count(client, pk, [{"filter_id": "country", "value": "DE"}])
    assert refused.status_code == 400


def test_the_export_applies_the_declared_defaults(client: APIClient) -> None:
    pk = _saved(client)
    response = client.get(api(f"saved-queries/{pk}/export"), {"format": "csv"})
    assert response.status_code == 200
    assert b"".join(response.streaming_content).decode().splitlines() == ["n", "4"]


@pytest.mark.parametrize(
    "declaration",
    [
        {"id": "a", "type": "date_range", "field": "ordered_at", "date_preset": []},
        {"id": "a", "type": "date_range", "field": "ordered_at", "default_value": {"preset": []}},
        {
            "id": "a",
            "type": "date_range",
            "field": "ordered_at",
            "default_value": {"last": 2, "unit": []},
        },
    ],
)
def test_declarations_of_the_wrong_shape_are_400_not_500(
    client: APIClient, declaration: dict[str, Any]
) -> None:
    """Found by schemathesis: a list where a preset or unit name goes was a TypeError (500)."""
    response = client.post(
        api("saved-queries"),
        {"name": "x", "query": ORDERS, "filters": [declaration]},
        format="json",
    )
    assert response.status_code == 400, response.content
