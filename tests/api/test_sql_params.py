"""``query/sql`` shows every bound parameter exactly as it is bound: a ``Decimal`` (PostgreSQL binds
decimals as such) is a JSON number written with the decimal's own digits, never rounded through a
float; SQLite binds a float, which is what it shows."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from prismiq_django.api.renderers import PrismiqJSONRenderer
from prismiq_django.api.views import exact_param
from tests.api.conftest import api, definition


def _sql(client: APIClient, operator: str, literal: str) -> Any:
    query = json.dumps(
        definition(
            filters=[{"table_id": "o", "column": "total", "operator": operator, "value": "__V__"}]
        )
    ).replace('"__V__"', literal)
    return client.post(api("query/sql"), query.encode(), content_type="application/json")


def _rendered(value: object) -> str:
    return PrismiqJSONRenderer().render({"v": value}).decode()


@pytest.mark.parametrize(
    "shown",
    [
        "19.99",
        "0.1000000000000000055511151231257827",
        "12345678901234567.89",
        "12345678901234567890123456",
        "-0.50",
    ],
)
def test_decimal_params_are_shown_exactly_as_bound(client: APIClient, shown: str) -> None:
    response = _sql(client, "gt", f'"{shown}"')
    assert response.status_code == 200, response.content
    param = json.loads(response.content, parse_float=Decimal, parse_int=Decimal)["params"][0]
    if connection.vendor in ("postgresql", "mysql"):
        assert str(param) == shown  # the digits of the bound Decimal, trailing zeros included
    else:
        assert param == Decimal(repr(float(Decimal(shown))))  # SQLite binds this float


def test_list_params_are_exact_too(client: APIClient) -> None:
    response = _sql(client, "in_", '["0.1000000000000000055511151231257827", 2]')
    assert response.status_code == 200, response.content
    text = response.content.decode()
    if connection.vendor in ("postgresql", "mysql"):
        assert "0.1000000000000000055511151231257827" in text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("0.10"), "0.10"),
        (Decimal("-0"), "-0"),
        (Decimal("1E+30"), "1E+30"),
        (Decimal("0.1000000000000000055511151231257827"), "0.1000000000000000055511151231257827"),
        (Decimal("NaN"), "null"),
        (Decimal("-Infinity"), "null"),
        (2**64, str(2**64)),
        (-(2**63) - 1, str(-(2**63) - 1)),
        (2**63, str(2**63)),
        (True, "true"),
        (1.5, "1.5"),
        ("0.10", '"0.10"'),
        ([Decimal("0.10"), [2**70, None]], f"[0.10,[{2**70},null]]"),
        ((Decimal("1.0"),), "[1.0]"),
    ],
)
def test_exact_param_renders_exact_json(value: object, text: str) -> None:
    rendered = _rendered(exact_param(value))
    assert rendered == '{"v":' + text + "}"
    json.loads(rendered)  # valid JSON
