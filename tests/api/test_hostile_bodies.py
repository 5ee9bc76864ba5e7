"""Hostile request bodies: deep nesting, non-finite numbers, lone surrogates, NUL characters,
huge numbers and wrong types are answered 4xx, never 5xx, on every POST endpoint."""

from __future__ import annotations

import io
import json
from typing import Any

import orjson
import pytest
from rest_framework.exceptions import ParseError
from rest_framework.test import APIClient

from prismiq_django.api.parsers import (
    MAX_JSON_DEPTH,
    PrismiqJSONParser,
    json_depth_exceeds,
    may_hold_rounded_integer,
)
from tests.api.conftest import api, definition

POST_PATHS = [
    "query/validate",
    "query/sql",
    "query/execute",
    "query/preview",
    "query/explain",
    "saved-queries",
]


def _nested_filters(levels: int) -> str:
    inner = '{"table_id": "o", "column": "id", "operator": "eq", "value": 1}'
    for _ in range(levels):
        inner = '{"all": [' + inner + "]}"
    query = definition()
    query["filters"] = ["__FILTER__"]
    return json.dumps(query).replace('"__FILTER__"', inner)


RAW_BODIES = {
    "array nesting 100k": "[" * 100_000 + "]" * 100_000,
    "object nesting 5k": '{"a":' * 5_000 + "1" + "}" * 5_000,
    "filters nested 900": _nested_filters(900),
    "NaN": '{"tables": [], "limit": NaN}',
    "Infinity": '{"tables": [], "limit": Infinity}',
    "lone surrogate": '{"tables": [{"id": "o", "name": "\\ud800"}]}',
    "truncated": '{"tables": [',
    "empty": "",
    "not json": "tables=shop_order",
    "bom": "\ufeff{}",
}


@pytest.mark.parametrize("path", POST_PATHS)
@pytest.mark.parametrize("body", list(RAW_BODIES.values()), ids=list(RAW_BODIES))
def test_malformed_bodies_are_4xx(client: APIClient, path: str, body: str) -> None:
    response = client.post(
        api(path), body.encode("utf-8", "surrogatepass"), content_type="application/json"
    )
    if path == "query/validate" and response.status_code == 200:
        assert response.json()["valid"] is False  # an empty body is an empty definition
    else:
        assert response.status_code == 400, (path, response.status_code, response.content)


def test_nesting_within_the_limit_is_reported_by_the_core(client: APIClient) -> None:
    response = client.post(
        api("query/validate"), _nested_filters(20), content_type="application/json"
    )
    assert response.status_code == 200
    codes = {e["code"] for e in response.json()["errors"]}
    assert codes == {"too_complex"}


VALUE_PAYLOADS: list[Any] = [
    "nul\x00byte",
    "\x00",
    10**40,
    -(10**40),
    1e308,
    {"nested": {"object": [1, 2]}},
    [[["deep"]]],
    True,
    "9" * 5000,
    "2024-13-45",
    "x" * 100_000,
]


@pytest.mark.parametrize("value", VALUE_PAYLOADS, ids=[repr(v)[:20] for v in VALUE_PAYLOADS])
@pytest.mark.parametrize("column", ["status", "total", "ordered_at", "shipped_on", "id"])
def test_hostile_filter_values_never_500(client: APIClient, value: Any, column: str) -> None:
    query = definition(
        filters=[{"table_id": "o", "column": column, "operator": "eq", "value": value}]
    )
    response = client.post(api("query/execute"), {"query": query}, format="json")
    assert response.status_code in {200, 400}, (column, response.content[:300])
    body = response.json()
    if response.status_code == 400:  # refused for the value, and said where
        assert body["errors"], body
        assert all(e["path"].startswith("/query/filters/0") for e in body["errors"]), body
    else:  # a value the column's type reads: the query ran
        assert body["columns"] == ["id", "status", "total"], body


@pytest.mark.parametrize(
    ("key", "value", "path"),
    [
        ("limit", 10**40, None),  # an integer >= 0: capped at MAX_ROWS
        ("limit", -1, "/limit"),  # SPEC: limit is an int >= 0
        ("limit", 1.5, "/limit"),
        ("limit", "10", "/limit"),
        ("offset", 10**40, "/offset"),
        ("offset", -5, "/offset"),
        ("tables", {"id": "o"}, "/tables"),
        ("columns", "id", "/columns"),
        ("filters", {"all": []}, "/filters"),
        ("order_by", [None], "/order_by/0"),
        ("time_series", [], "/time_series"),
        ("joins", [[]], "/joins/0"),
    ],
)
def test_hostile_definition_shapes_are_refused_where_they_are(
    client: APIClient, key: str, value: Any, path: str | None
) -> None:
    """Execute answers 400 with the problem at its JSON pointer (under ``/query``), validate 200
    with ``valid: false`` and the same problem; a valid definition runs."""
    query = definition(**{key: value})
    executed = client.post(api("query/execute"), {"query": query}, format="json")
    validated = client.post(api("query/validate"), query, format="json")
    assert validated.status_code == 200, validated.content[:300]
    if path is None:
        assert executed.status_code == 200, executed.content[:300]
        assert validated.json() == {"valid": True, "errors": []}
        return
    assert executed.status_code == 400, executed.content[:300]
    errors = executed.json()["errors"]
    assert [(e["code"], e["path"]) for e in errors if e["path"] == f"/query{path}"], errors
    assert validated.json()["valid"] is False
    assert any(e["path"] == path for e in validated.json()["errors"]), validated.json()


def test_depth_helper() -> None:
    assert not json_depth_exceeds({"a": [1, {"b": []}]}, 4)
    assert json_depth_exceeds({"a": [1, {"b": []}]}, 3)
    assert not json_depth_exceeds("scalar", 0)
    deep: Any = []
    for _ in range(MAX_JSON_DEPTH + 1):
        deep = [deep]
    assert json_depth_exceeds(deep, MAX_JSON_DEPTH)


def test_body_larger_than_django_limit_is_413(client: APIClient, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    big = definition(filters=[{"table_id": "o", "column": "status", "operator": "in_",
                               "value": ["x" * 100] * 200}])  # fmt: skip
    response = client.post(api("query/execute"), {"query": big}, format="json")
    assert response.status_code == 413
    assert (
        client.post(api("query/execute"), {"query": definition()}, format="json").status_code == 200
    )
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = None
    unlimited = client.post(api("query/validate"), big, format="json")
    assert unlimited.status_code == 200


OPERATOR_VALUES: list[tuple[str, Any]] = [
    ("between", [1]),
    ("between", [1, 2, 3]),
    ("between", "1..2"),
    ("between", [None, None]),
    ("between", ["2024-01-01", "not a date"]),
    ("in_", "paid"),
    ("in_", []),
    ("not_in", []),
    ("in_or_null", [None]),
    ("in", [[1]]),
    ("like", 5),
    ("ilike", None),
    ("contains", ["a"]),
    ("starts_with", {"a": 1}),
    ("is_null", "ignored"),
    ("date_relative", {"preset": "next_century"}),
    ("date_relative", {"last": -3, "unit": "day"}),
    ("date_relative", {"last": 10**12, "unit": "year"}),
    ("date_relative", {"last": 2, "unit": "fortnight"}),
    ("date_relative", "last_7_days"),
    ("gt", [1, 2]),
    ("eq", {"nested": True}),
]


@pytest.mark.parametrize(("operator", "value"), OPERATOR_VALUES)
@pytest.mark.parametrize("column", ["status", "total", "ordered_at", "shipped_on"])
def test_operator_value_mismatches_never_500(
    client: APIClient, operator: str, value: Any, column: str
) -> None:
    query = definition(
        filters=[{"table_id": "o", "column": column, "operator": operator, "value": value}]
    )
    response = client.post(api("query/execute"), {"query": query}, format="json")
    assert response.status_code in {200, 400}, (operator, value, column, response.content[:300])
    if response.status_code == 400:
        assert all(e["path"].startswith("/query/filters/0") for e in response.json()["errors"])


def _parse(body: bytes) -> Any:
    return PrismiqJSONParser().parse(io.BytesIO(body))


def test_parser_depth_limit_is_exact_whatever_the_bracket_count() -> None:
    # The parser skips its depth walk when the body has no more brackets than the limit; the
    # limit itself must not move: 64 levels pass, 65 are refused, wide or string-held brackets
    # never count as depth.
    def nested(levels: int) -> bytes:
        return b'{"a":' + b"[" * (levels - 1) + b"]" * (levels - 1) + b"}"

    assert _parse(nested(MAX_JSON_DEPTH)) == {"a": _nested_list(MAX_JSON_DEPTH - 1)}
    with pytest.raises(ParseError, match="nested more than 64 levels"):
        _parse(nested(MAX_JSON_DEPTH + 1))
    wide = {"filters": [{"all": [[1], [2]]} for _ in range(200)]}
    assert _parse(json.dumps(wide).encode()) == wide
    brackets_in_strings = {"name": "[{" * 500, "x": [["]]]]}}]"]]}
    assert _parse(json.dumps(brackets_in_strings).encode()) == brackets_in_strings


def _nested_list(levels: int) -> Any:
    value: Any = []
    for _ in range(levels - 1):
        value = [value]
    return value


def test_a_65_level_body_is_a_400_over_http(client: APIClient) -> None:
    body = b'{"tables": ' + b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH + b"}"
    response = client.post(api("query/validate"), body, content_type="application/json")
    assert response.status_code == 400
    assert "nested more than 64 levels" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"a": [1, 2.5, {"b": -3}]}', False),
        (b'{"a": [{"b": [9.2233720368547e18]}]}', False),  # just below 2**63
        (b'{"a": [{"b": [9.3e18]}]}', True),
        (b'{"a": {"b": {"c": -1e300}}}', True),
        (b"1e30", True),
        (b'"x"', False),
    ],
)
def test_rounded_integer_detection(body: bytes, expected: bool) -> None:
    assert may_hold_rounded_integer(orjson.loads(body)) is expected
