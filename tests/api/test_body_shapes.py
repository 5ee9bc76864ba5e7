"""A body that is valid JSON but not an object (``[]``, ``"x"``, ``1``, ``null``) gets one answer on
every endpoint that takes a body: 400, ``Invalid request``, one ``invalid_definition`` item at the
JSON pointer ``""`` (the whole body)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from prismiq_django.api.parsers import NOT_AN_OBJECT_MESSAGE
from tests.api.conftest import api, definition

NOT_OBJECTS = [[], ["tables"], "x", "", 1, 0, 1.5, True, False, None]

EXPECTED = {
    "detail": "Invalid request",
    "errors": [{"code": "invalid_definition", "message": NOT_AN_OBJECT_MESSAGE, "path": ""}],
}


@pytest.fixture
def saved_pk(client: APIClient) -> int:
    created = client.post(api("saved-queries"), {"name": "q", "query": definition()}, format="json")
    assert created.status_code == 201, created.content
    pk: int = created.json()["id"]
    return pk


@pytest.mark.parametrize("payload", NOT_OBJECTS, ids=[json.dumps(p) for p in NOT_OBJECTS])
def test_every_body_endpoint_refuses_a_non_object_alike(
    client: APIClient, saved_pk: int, payload: Any
) -> None:
    targets = [
        ("post", "query/validate"),
        ("post", "query/sql"),
        ("post", "query/execute"),
        ("post", "query/preview"),
        ("post", "query/explain"),
        ("post", "saved-queries"),
        ("put", f"saved-queries/{saved_pk}"),
        ("patch", f"saved-queries/{saved_pk}"),
        ("post", f"saved-queries/{saved_pk}/execute"),
    ]
    for method, path in targets:
        response = getattr(client, method)(
            api(path), json.dumps(payload), content_type="application/json"
        )
        assert response.status_code == 400, (method, path, response.content)
        assert response.json() == EXPECTED, (method, path)
    # Nothing was changed by the refused writes.
    stored = client.get(api(f"saved-queries/{saved_pk}")).json()
    assert stored["name"] == "q"
    assert stored["query"] == definition()


def test_bare_preview_with_query_parameter_still_takes_an_object(client: APIClient) -> None:
    response = client.post(
        api("query/preview") + "?limit=1", json.dumps(definition()), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["row_count"] == 1


def _raw_validate(client: APIClient, text: str) -> Any:
    return client.post(api("query/validate"), text.encode(), content_type="application/json")


def _with_offset(literal: str) -> str:
    return json.dumps(definition(offset="__OFFSET__")).replace('"__OFFSET__"', literal)


@pytest.mark.parametrize("literal", ["18446744073709551616", "1" + "0" * 30, "-" + "9" * 25])
def test_integer_literals_beyond_64_bits_stay_integers(client: APIClient, literal: str) -> None:
    # orjson alone reads them as rounded floats ("must be an integer"); they are integers.
    errors = _raw_validate(client, _with_offset(literal)).json()["errors"]
    expected = "at most" if not literal.startswith("-") else "an integer >= 0"
    assert [(e["path"], expected in e["message"]) for e in errors] == [("/offset", True)]


@pytest.mark.parametrize("literal", ["1e30", "1.8446744073709552e19", "-1E+25"])
def test_float_literals_stay_floats(client: APIClient, literal: str) -> None:
    errors = _raw_validate(client, _with_offset(literal)).json()["errors"]
    assert [(e["path"], e["message"]) for e in errors] == [
        ("/offset", "'offset' must be an integer >= 0.")
    ]


def test_an_integer_beyond_the_double_range_is_400(client: APIClient) -> None:
    body = _with_offset("9" * 400)
    response = _raw_validate(client, body)
    assert response.status_code == 400
    assert [(e["code"], e["path"]) for e in response.json()["errors"]] == [
        ("invalid_definition", "")
    ]
    column = body.index("9" * 400) + 1
    assert response.json()["errors"][0]["message"] == (
        "The request body holds a number beyond the range of a double (1.8e308) "
        f"(line 1, column {column})."
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"limit": 1e400}',
            "holds a number beyond the range of a double (1.8e308) (line 1, column 11)",
        ),
        ('{"limit": 10,}', "is not valid JSON (line 1, column 13)"),
        ('{\n  "limit": NaN}', "is not valid JSON (line 2, column 12)"),
    ],
)
def test_malformed_json_messages_name_the_position(
    client: APIClient, text: str, message: str
) -> None:
    response = _raw_validate(client, text)
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == f"The request body {message}."


def test_a_huge_integer_filter_value_is_bound_exactly(client: APIClient) -> None:
    literal = "123456789012345678901234567"
    query = json.dumps(
        definition(filters=[{"table_id": "o", "column": "id", "operator": "lt", "value": "__V__"}])
    ).replace('"__V__"', literal)
    response = client.post(api("query/sql"), query.encode(), content_type="application/json")
    if response.status_code == 200:
        assert literal in response.content.decode()
    else:  # out of the integer column's range: refused, never rounded
        assert response.status_code == 400
        assert response.json()["errors"][0]["path"] == "/filters/0/value"
