"""Injection attempts in every string field of every endpoint are refused or bound, never executed;
the canary table (present in the database, never exposed) is never readable by any request."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection
from rest_framework.test import APIClient

from example_project.shop.models import Order
from prismiq_django.api.openapi import EXAMPLE_DEFINITION
from tests.api.conftest import CANARY_SECRET, CANARY_TABLE, api, body_text

PAYLOADS = [
    f"shop_order; DROP TABLE {CANARY_TABLE}; --",
    f'x" FROM {CANARY_TABLE} --',
    f"x' UNION SELECT secret FROM {CANARY_TABLE} --",
    f"(SELECT secret FROM {CANARY_TABLE})",
    f"month', (SELECT secret FROM {CANARY_TABLE})) --",
    "1); DELETE FROM shop_order; --",
    "' OR '1'='1",
    f"{CANARY_TABLE}",
    "%s",
    "%(x)s",
    "\\'; --",
    "`id`",
    "[id]",
    "id\x00",
    chr(0x131) * 3,  # dotless i: case-folding tricks
]

# Every string field of the query definition, as (description, setter) pairs.
Setter = Callable[[dict[str, Any], str], None]


def _set(*path: str | int) -> Setter:
    def setter(query: dict[str, Any], value: str) -> None:
        target: Any = query
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return setter


DEFINITION_FIELDS: dict[str, Setter] = {
    "tables.id": _set("tables", 0, "id"),
    "tables.name": _set("tables", 0, "name"),
    "tables.alias": _set("tables", 0, "alias"),
    "joins.from_table_id": _set("joins", 0, "from_table_id"),
    "joins.from_column": _set("joins", 0, "from_column"),
    "joins.to_table_id": _set("joins", 0, "to_table_id"),
    "joins.to_column": _set("joins", 0, "to_column"),
    "joins.join_type": _set("joins", 0, "join_type"),
    "columns.table_id": _set("columns", 0, "table_id"),
    "columns.column": _set("columns", 0, "column"),
    "columns.alias": _set("columns", 1, "alias"),
    "columns.aggregation": _set("columns", 1, "aggregation"),
    "columns.date_trunc": lambda q, v: q["columns"][0].update(column="created_at", date_trunc=v),
    "filters.table_id": _set("filters", 0, "table_id"),
    "filters.column": _set("filters", 0, "column"),
    "filters.operator": _set("filters", 0, "operator"),
    "filters.value": _set("filters", 0, "value"),
    "filters.value.list": lambda q, v: q["filters"][0].update(value=["paid", v]),
    "filters.aggregation": _set("filters", 0, "aggregation"),
    "filters.nested.value": lambda q, v: q["filters"][1]["any"][0].update(value=v),
    "filters.date_relative.preset": lambda q, v: q["filters"].append(
        {
            "table_id": "o",
            "column": "ordered_at",
            "operator": "date_relative",
            "value": {"preset": v},
        }
    ),
    "filters.date_relative.unit": lambda q, v: q["filters"].append(
        {
            "table_id": "o",
            "column": "ordered_at",
            "operator": "date_relative",
            "value": {"last": 2, "unit": v},
        }
    ),
    "group_by.column": lambda q, v: q.update(group_by=[{"table_id": "c", "column": v}]),
    "order_by.alias": lambda q, v: q.update(order_by=[{"alias": v, "direction": "DESC"}]),
    "order_by.column": lambda q, v: q.update(
        order_by=[{"table_id": "o", "column": v, "direction": "ASC"}]
    ),
    "order_by.direction": _set("order_by", 0, "direction"),
    "time_series.date_column": _set("time_series", "date_column"),
    "time_series.interval": _set("time_series", "interval"),
    "time_series.alias": _set("time_series", "alias"),
    "time_series.table_id": _set("time_series", "table_id"),
}


def _mutations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for field, setter in DEFINITION_FIELDS.items():
        for payload in PAYLOADS:
            query = copy.deepcopy(EXAMPLE_DEFINITION)
            setter(query, payload)
            yield field, payload, query


def _assert_intact() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT secret FROM {CANARY_TABLE}")
        assert list(cursor.fetchall()) == [(CANARY_SECRET,)]
    assert Order.objects.count() == 10


def _assert_safe(response: Any, where: str) -> None:
    assert response.status_code in {200, 400, 404}, (where, response.status_code, response.content)
    text = body_text(response)
    assert CANARY_SECRET not in text, where
    assert "Traceback" not in text, where
    assert "syntax error" not in text.lower(), where


def test_definition_fields_refuse_or_bind_injection(client: APIClient) -> None:
    """Every string field x every payload through validate, sql and execute."""
    counted = {"refused": 0, "accepted": 0}
    for field, payload, query in _mutations():
        where = f"{field}={payload!r}"
        validated = client.post(api("query/validate"), query, format="json")
        _assert_safe(validated, where)
        sql = client.post(api("query/sql"), query, format="json")
        _assert_safe(sql, where)
        executed = client.post(api("query/execute"), {"query": query}, format="json")
        _assert_safe(executed, where)
        if executed.status_code == 200:
            counted["accepted"] += 1
            statement = sql.json()["sql"]
            # An accepted payload is a bound value or a quoted output alias, never SQL text.
            if not field.endswith("alias"):
                assert CANARY_TABLE not in statement, where
                if len(payload) >= 8:
                    assert payload not in statement, where
            assert executed.json()["row_count"] <= 5
        else:
            counted["refused"] += 1
            assert validated.json()["valid"] is False, where
            assert executed.json()["detail"] == "Query validation failed", where
    _assert_intact()
    # Both branches ran: the test is not vacuous.
    assert counted["refused"] > 100
    assert counted["accepted"] > 10


def test_hostile_values_are_bound_and_match_literally(client: APIClient) -> None:
    for payload in PAYLOADS:
        query = {
            "tables": [{"id": "c", "name": "shop_customer"}],
            "columns": [{"table_id": "c", "column": "name"}],
            "filters": [{"table_id": "c", "column": "name", "operator": "eq", "value": payload}],
        }
        response = client.post(api("query/execute"), {"query": query}, format="json")
        _assert_safe(response, payload)
        if response.status_code == 200:
            assert response.json()["rows"] == []
    quoted = {
        "tables": [{"id": "c", "name": "shop_customer"}],
        "columns": [{"table_id": "c", "column": "name"}],
        "filters": [{"table_id": "c", "column": "name", "operator": "eq", "value": "Eve O'Hara"}],
    }
    rows = client.post(api("query/execute"), {"query": quoted}, format="json").json()["rows"]
    assert rows == [["Eve O'Hara"]]
    _assert_intact()


def test_hostile_alias_is_an_exact_output_name_or_refused(client: APIClient) -> None:
    for payload in PAYLOADS:
        query = {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [
                {"table_id": "o", "column": "id", "aggregation": "count", "alias": payload}
            ],
        }
        response = client.post(api("query/execute"), {"query": query}, format="json")
        _assert_safe(response, payload)
        if response.status_code == 200:
            assert response.json()["columns"] == [payload]
            assert response.json()["rows"] == [[10]]
    _assert_intact()


@pytest.mark.parametrize("payload", PAYLOADS)
def test_path_parameters_and_search(client: APIClient, payload: str) -> None:
    name = quote(payload, safe="")
    urls = [
        api(f"tables/{name}"),
        api(f"tables/{name}/columns/id/values"),
        api(f"tables/shop_order/columns/{name}/values"),
        api(f"saved-queries/{name}"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 404, (url, response.content)
        _assert_safe(response, url)
    searched = client.get(api("tables/shop_customer/columns/name/values"), {"search": payload})
    _assert_safe(searched, payload)
    if searched.status_code == 200:
        assert searched.json()["values"] == []
    _assert_intact()


def test_canary_is_not_readable_by_name_anywhere(client: APIClient) -> None:
    query = {
        "tables": [{"id": "x", "name": CANARY_TABLE}],
        "columns": [{"table_id": "x", "column": "secret"}],
    }
    for path, payload in [
        ("query/validate", query),
        ("query/sql", query),
        ("query/execute", {"query": query}),
        ("query/preview", {"query": query}),
        ("query/preview", query),
        ("query/explain", {"query": query}),
        ("saved-queries", {"name": "c", "query": query}),
    ]:
        response = client.post(api(path), payload, format="json")
        _assert_safe(response, path)
        assert response.status_code in {200, 400}
        if path == "query/validate":
            assert response.json()["valid"] is False
        else:
            assert response.status_code == 400
            assert response.json()["errors"][0]["code"] == "table_not_found"
    for url in ("schema", "tables"):
        assert CANARY_TABLE not in body_text(client.get(api(url)))
    # Indistinguishable from an absent table (the caller's own name is echoed, nothing more).
    canary = client.get(api(f"tables/{CANARY_TABLE}"))
    absent = client.get(api("tables/zz_absent"))
    assert canary.status_code == absent.status_code == 404
    assert canary.json()["detail"].replace(CANARY_TABLE, "zz_absent") == absent.json()["detail"]
    _assert_intact()


def test_other_schemas_are_not_reachable(client: APIClient) -> None:
    names = [
        "pg_catalog.pg_user",
        "information_schema.tables",
        "sqlite_master",
        "main.api_canary",
        "public.api_canary",
        '"api_canary"',
    ]
    for name in names:
        query = {
            "tables": [{"id": "x", "name": name}],
            "columns": [{"table_id": "x", "column": "*", "aggregation": "count"}],
        }
        response = client.post(api("query/execute"), {"query": query}, format="json")
        assert response.status_code == 400, name
        assert response.json()["errors"][0]["code"] == "table_not_found"
