"""Integers in query parameters and saved-query ids are ASCII digits only, as in the query core:
``int()`` (behind DRF's ``IntegerField`` and Django's lookups) also reads other scripts' digits
(Arabic-Indic, fullwidth ...), ``1_0``, `` 12 `` and ``12.0``, which are refused here with 400
(parameters) or 404 (ids). An empty ``?limit=`` still means the default."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from rest_framework.test import APIClient

from tests.api.conftest import api, definition

NOT_ASCII_INTEGERS = [
    "\u0661",  # ARABIC-INDIC DIGIT ONE
    "\u0662",  # ARABIC-INDIC DIGIT TWO
    "\u06f2",  # EXTENDED ARABIC-INDIC DIGIT TWO
    "\u0968",  # DEVANAGARI DIGIT TWO
    "\uff12",  # FULLWIDTH DIGIT TWO
    "1\u0662",
    "1_0",
    " 2",
    "2 ",
    "2\n",
    "2.0",
    "+2",
    "0x2",
    "\uff12.0",
]


def _limit_error(response: Any) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["detail"] == "Invalid request"
    assert [(e["code"], e["path"]) for e in body["errors"]] == [("invalid_value", "/limit")]


@pytest.mark.parametrize("limit", NOT_ASCII_INTEGERS)
def test_preview_limit_parameter_is_ascii_digits(client: APIClient, limit: str) -> None:
    url = api("query/preview") + "?limit=" + quote(limit)
    _limit_error(client.post(url, definition(), format="json"))


@pytest.mark.parametrize("limit", NOT_ASCII_INTEGERS)
def test_column_values_limit_parameter_is_ascii_digits(client: APIClient, limit: str) -> None:
    url = api("tables/shop_order/columns/status/values") + "?limit=" + quote(limit)
    _limit_error(client.get(url))


def test_ascii_limits_still_work(client: APIClient) -> None:
    preview = client.post(api("query/preview") + "?limit=02", definition(), format="json")
    assert preview.status_code == 200, preview.content
    assert preview.json()["row_count"] == 2
    values = client.get(api("tables/shop_order/columns/status/values") + "?limit=2")
    assert values.status_code == 200
    assert len(values.json()["values"]) == 2
    negative = client.get(api("tables/shop_order/columns/status/values") + "?limit=-1")
    _limit_error(negative)  # a range error, same code and path


@pytest.mark.parametrize("limit", ["2", "\u0662", 2.0, True, [2], {"n": 2}])
def test_preview_body_limit_is_a_json_integer(client: APIClient, limit: object) -> None:
    response = client.post(
        api("query/preview"), {"query": definition(), "limit": limit}, format="json"
    )
    _limit_error(response)


def test_preview_body_limit_integer_works(client: APIClient) -> None:
    response = client.post(api("query/preview"), {"query": definition(), "limit": 1}, format="json")
    assert response.status_code == 200
    assert response.json()["row_count"] == 1


@pytest.mark.parametrize("digit", ["\u0661", "\u06f1", "\uff11", "\u0967"])
def test_saved_query_ids_are_ascii_digits(client: APIClient, digit: str) -> None:
    created = client.post(api("saved-queries"), {"name": "q", "query": definition()}, format="json")
    pk = created.json()["id"]
    other = str(pk).translate(str.maketrans("0123456789", "".join(_digits_like(digit))))
    assert other != str(pk)
    assert client.get(api(f"saved-queries/{pk}")).status_code == 200
    for method, path in [
        ("get", f"saved-queries/{quote(other)}"),
        ("patch", f"saved-queries/{quote(other)}"),
        ("delete", f"saved-queries/{quote(other)}"),
        ("post", f"saved-queries/{quote(other)}/execute"),
    ]:
        response = getattr(client, method)(api(path), {"name": "changed"}, format="json")
        assert response.status_code == 404, (method, path, response.content)
        assert response.json() == {"detail": "Not found."}
    assert client.get(api(f"saved-queries/{pk}")).json()["name"] == "q"


def _digits_like(one: str) -> list[str]:
    """The ten digits of the script whose digit one is ``one``."""
    zero = ord(one) - 1
    return [chr(zero + i) for i in range(10)]
