"""Error answers: 503 when the analytics database is down, 500 for bugs (generic, with the request
id, logged), and the one mapping table of :mod:`prismiq_django.http_errors`."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import InterfaceError, OperationalError, connections
from django.db.utils import load_backend
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from prismiq_django import exceptions
from prismiq_django.api.errors import (
    SERVER_ERROR_DETAIL,
    PrismiqAPIError,
    api_error,
    exception_handler,
)
from prismiq_django.query.errors import ErrorDetail, QueryValidationError
from tests.api.conftest import DATABASE_CALLS, api, body_text, configure, definition

LEAK = "SELECT secret FROM api_canary -- internal detail"


class ExplodingPermission(BasePermission):
    """A site permission class with a bug: every check raises."""

    def has_permission(self, request: Any, view: Any) -> bool:
        raise RuntimeError(LEAK)


@pytest.fixture
def unreachable_database(settings: Any, exposed: dict[str, Any]) -> Iterator[str]:
    """An alias of the same vendor that cannot be reached, made the analytics ``DATABASE``."""
    conf = dict(connections.settings["default"])
    conf["OPTIONS"] = dict(conf.get("OPTIONS") or {})
    if conf["ENGINE"].endswith("sqlite3"):
        conf["NAME"] = "/no-such-dir-prismiq-api/unreachable.sqlite3"
    else:
        conf.update(HOST="127.0.0.1", PORT="1")
        conf["OPTIONS"]["connect_timeout"] = 2
    wrapper = load_backend(conf["ENGINE"]).DatabaseWrapper(conf, "api_unreachable")
    connections["api_unreachable"] = wrapper
    configure(settings, DATABASE="api_unreachable")
    try:
        yield "api_unreachable"
    finally:
        wrapper.close()
        del connections["api_unreachable"]


@pytest.mark.parametrize(("method", "path", "payload"), DATABASE_CALLS)
def test_database_down_is_503(
    client: APIClient, unreachable_database: str, method: str, path: str, payload: object
) -> None:
    response = getattr(client, method)(api(path), payload, format="json")
    assert response.status_code == 503, response.content
    body = response.json()
    assert body["code"] == "database_unavailable"
    text = body_text(response)
    for leak in ("unable to open", "no-such-dir", "connection", "refused", "port"):
        assert leak not in text.lower()


def test_bug_is_generic_500_with_request_id_and_logged(
    client: APIClient, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    configure(settings, PERMISSION_CLASSES=["tests.api.test_errors.ExplodingPermission"])
    with caplog.at_level(logging.ERROR, logger="prismiq_django.api"):
        response = client.get(api("tables"))
    assert response.status_code == 500
    body = response.json()
    assert body["detail"] == SERVER_ERROR_DETAIL
    assert body["code"] == "server_error"
    rid = body["request_id"]
    assert rid
    assert response["X-Request-ID"] == rid
    assert LEAK not in body_text(response)
    assert "RuntimeError" not in body_text(response)
    records = [r for r in caplog.records if getattr(r, "request_id", None) == rid]
    assert records
    assert records[0].exc_info is not None


def test_request_id_from_the_middleware_is_reported(
    client: APIClient, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "prismiq_django.middleware.RequestIdMiddleware"]
    configure(settings, PERMISSION_CLASSES=["tests.api.test_errors.ExplodingPermission"])
    response = client.get(api("tables"), HTTP_X_REQUEST_ID="req-abc.123")
    assert response.status_code == 500
    assert response.json()["request_id"] == "req-abc.123"
    assert response["X-Request-ID"] == "req-abc.123"


def test_permission_classes_setting_is_read_per_request(client: APIClient, settings: Any) -> None:
    assert client.get(api("tables")).status_code == 200
    configure(settings, PERMISSION_CLASSES=["rest_framework.permissions.IsAdminUser"])
    assert client.get(api("tables")).status_code == 403
    assert (
        client.post(api("query/execute"), {"query": definition()}, format="json").status_code == 403
    )
    assert client.get(api("saved-queries")).status_code == 403
    configure(settings, PERMISSION_CLASSES=["rest_framework.permissions.AllowAny"])
    assert APIClient().get(api("tables")).status_code == 200


def _handle(exc: Exception) -> Any:
    request = Request(APIRequestFactory().get("/"))
    return exception_handler(exc, {"request": request, "view": None})


def test_mapping_table() -> None:
    invalid = _handle(QueryValidationError([ErrorDetail("too_complex", "Too many.", "/filters")]))
    assert invalid.status_code == 400
    assert invalid.data == {
        "detail": "Query validation failed",
        "errors": [{"code": "too_complex", "message": "Too many.", "path": "/filters"}],
    }
    assert _handle(exceptions.ObjectNotFound()).status_code == 404
    timeout = _handle(exceptions.QueryTimeout())
    assert timeout.status_code == 504
    assert timeout.data["code"] == "query_timeout"
    down = _handle(exceptions.DatabaseUnavailable())
    assert down.status_code == 503
    try:
        raise exceptions.ValueOutOfRange() from ValueError(LEAK)
    except exceptions.ValueOutOfRange as exc:
        out_of_range = _handle(exc)
    assert out_of_range.status_code == 400  # the services give the buckets' paths; else ""
    assert out_of_range.data == {
        "detail": "Query validation failed",
        "errors": [
            {
                "code": "invalid_value",
                "message": exceptions.ValueOutOfRange.default_message,
                "path": "",
            }
        ],
    }
    try:
        raise exceptions.QueryExecutionError() from ValueError(LEAK)
    except exceptions.QueryExecutionError as exc:
        failed = _handle(exc)
    assert failed.status_code == 500
    assert LEAK not in str(failed.data)
    assert failed.data["request_id"]
    for db_error in (OperationalError(LEAK), InterfaceError(LEAK)):
        own_db_down = _handle(db_error)
        assert own_db_down.status_code == 503
        assert own_db_down.data["code"] == "database_unavailable"
        assert LEAK not in str(own_db_down.data)
    unknown = _handle(KeyError(LEAK))
    assert unknown.status_code == 500
    assert LEAK not in str(unknown.data)


@pytest.mark.parametrize(
    ("glue", "status_code", "body"),
    [
        (exceptions.ObjectNotFound("Table 'x' gone."), 404, {"detail": "Table 'x' gone."}),
        (
            exceptions.QueryTimeout(),
            504,
            {"detail": exceptions.QueryTimeout.default_message, "code": "query_timeout"},
        ),
        (
            exceptions.DatabaseUnavailable(),
            503,
            {
                "detail": exceptions.DatabaseUnavailable.default_message,
                "code": "database_unavailable",
            },
        ),
    ],
)
def test_glue_errors_are_api_exceptions_of_the_one_handler(
    glue: exceptions.PrismiqError, status_code: int, body: dict[str, str]
) -> None:
    translated = api_error(glue)
    assert isinstance(translated, PrismiqAPIError)
    assert translated.status_code == status_code
    assert translated.body() == body
    answered = _handle(glue)
    assert (answered.status_code, answered.data) == (status_code, body)
    # Raised as the API exception itself (a view may), the answer is the same.
    raised = _handle(type(translated)(glue.message))
    assert (raised.status_code, raised.data) == (status_code, body)


def test_an_error_outside_the_table_is_not_translated() -> None:
    assert api_error(exceptions.QueryExecutionError()) is None
    assert api_error(ValueError("x")) is None
