"""Request id middleware and JSON logs, through real requests."""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import uuid
from typing import Any

import pytest
from django.test import RequestFactory

from prismiq_django.ops.middleware import get_request_id
from prismiq_django.ops.observability import JsonFormatter, current_request_id, record_query
from tests.support.ops import API
from tests.tokens import access_token

HEX32 = re.compile(r"[0-9a-f]{32}")


def _requests(lines: list[str]) -> list[dict[str, Any]]:
    parsed = [json.loads(line) for line in lines]
    return [p for p in parsed if p.get("event") == "request"]


def test_a_request_id_is_generated_and_logged(
    client: Any, with_middleware: None, log_lines: Any
) -> None:
    response = client.get(API + "health/live", HTTP_X_FORWARDED_FOR="1.2.3.4")
    request_id = response["X-Request-ID"]
    assert HEX32.fullmatch(request_id)
    parsed = uuid.UUID(hex=request_id)  # a random UUID, as uuid4().hex spells it
    assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
    assert parsed.hex == request_id

    (line,) = _requests(log_lines())
    assert line["request_id"] == request_id
    assert line["method"] == "GET"
    assert line["path"] == "/api/analytics/health/live"
    assert line["status"] == 200
    assert line["user"] is None
    others = {client.get(API + "health/live")["X-Request-ID"] for _ in range(20)}
    assert len(others | {request_id}) == 21
    assert line["endpoint"] == "health-live"
    assert isinstance(line["duration_ms"], float)
    assert line["duration_ms"] >= 0
    assert line["level"] == "INFO"
    assert line["logger"] == "prismiq_django.request"
    assert line["ts"].endswith("+00:00")


def test_a_well_formed_caller_id_is_echoed(
    client: Any, user: Any, with_middleware: None, log_lines: Any
) -> None:
    client.force_login(user)
    response = client.get(API + "health", HTTP_X_REQUEST_ID="req-42.abc:XYZ_9")
    assert response["X-Request-ID"] == "req-42.abc:XYZ_9"
    (line,) = _requests(log_lines())
    assert line["request_id"] == "req-42.abc:XYZ_9"
    assert line["user"] == str(user.pk)
    assert line["endpoint"] == "health"


@pytest.mark.parametrize(
    "given",
    ["has space", "x" * 129, "<script>", "a\nb", "", "é", "id;drop"],
)
def test_a_malformed_caller_id_is_replaced(
    client: Any, with_middleware: None, log_lines: Any, given: str
) -> None:
    response = client.get(API + "health/live", HTTP_X_REQUEST_ID=given)
    assert HEX32.fullmatch(response["X-Request-ID"])
    (line,) = _requests(log_lines())
    assert line["request_id"] == response["X-Request-ID"]


def test_every_record_during_a_request_carries_its_id(
    client: Any, user: Any, with_middleware: None, log_lines: Any, dead_cache: str
) -> None:
    client.force_login(user)
    response = client.get(API + "health")  # logs a warning from the health check (cache down)
    request_id = response["X-Request-ID"]
    parsed = [json.loads(line) for line in log_lines()]
    warnings = [p for p in parsed if p["level"] == "WARNING"]
    assert warnings
    assert all(p["request_id"] == request_id for p in warnings)
    assert current_request_id.get() is None  # reset once the request is done


def test_requests_outside_the_app_are_logged_without_endpoint(
    client: Any, with_middleware: None, log_lines: Any
) -> None:
    client.get("/no-such-page/")
    (line,) = _requests(log_lines())
    assert line["status"] == 404
    assert line["endpoint"] is None


def test_get_request_id_without_the_middleware_is_stable() -> None:
    request = RequestFactory().get("/")
    first = get_request_id(request)
    assert HEX32.fullmatch(first)
    assert get_request_id(request) == first


def test_query_log_line(log_lines: Any) -> None:
    token = current_request_id.set("rid-1")
    try:
        record_query(fingerprint="fp1", duration_s=0.0123, rows=4, cache_hit=True, status="ok")
    finally:
        current_request_id.reset(token)
    (line,) = [json.loads(x) for x in log_lines()]
    assert line == {
        "ts": line["ts"],
        "level": "INFO",
        "logger": "prismiq_django.query",
        "message": "query",
        "request_id": "rid-1",
        "event": "query",
        "fingerprint": "fp1",
        "duration_ms": 12.3,
        "rows": 4,
        "cache_hit": True,
        "status": "ok",
    }


def test_formatter_renders_exceptions_and_odd_values() -> None:
    logger = logging.getLogger("prismiq_django.test")
    try:
        raise ValueError("bad")
    except ValueError:
        record = logger.makeRecord(
            logger.name,
            logging.ERROR,
            __file__,
            1,
            "failed %s",
            ("x",),
            sys.exc_info(),
            extra={"obj": object(), "n": 1, "nested": {"a": [1, 2]}},
        )
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "failed x"
    assert "ValueError: bad" in line["exc"]
    assert line["n"] == 1
    assert line["nested"] == {"a": [1, 2]}
    assert line["obj"].startswith("<object object")
    assert "\n" not in JsonFormatter().format(record)


@pytest.mark.urls("tests.ops.urls")
def test_a_500_quotes_the_request_id_of_the_header_and_the_log(
    client: Any, user: Any, with_middleware: None, log_lines: Any
) -> None:
    client.force_login(user)
    response = client.get("/ops-test/boom/", HTTP_X_REQUEST_ID="boom-1")
    assert response.status_code == 500
    body = response.json()
    assert body["request_id"] == response["X-Request-ID"] == "boom-1"
    assert "SELECT" not in response.content.decode()
    parsed = [json.loads(line) for line in log_lines()]
    errors = [p for p in parsed if p["level"] == "ERROR"]
    assert errors
    assert all(p["request_id"] == "boom-1" for p in errors)
    assert any("RuntimeError" in p.get("exc", "") for p in errors)


@pytest.mark.urls("tests.ops.urls")
def test_concurrent_requests_keep_their_own_request_id(
    with_middleware: None, log_lines: Any
) -> None:
    from django.test import Client

    def worker(i: int) -> None:
        Client().get("/ops-test/echo/", HTTP_X_REQUEST_ID=f"thread-{i}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    parsed = [json.loads(line) for line in log_lines()]
    inner = [p for p in parsed if p["logger"] == "prismiq_django.tests"]
    assert len(inner) == 16
    by_id: dict[str, list[str]] = {}
    for p in inner:
        by_id.setdefault(p["request_id"], []).append(p["message"])
    assert by_id == {f"thread-{i}": ["before", "after"] for i in range(8)}


SERVER_TIMING = re.compile(r"app;dur=([0-9]+\.[0-9]{3})")


def test_server_timing_reports_the_logged_duration(
    client: Any, with_middleware: None, log_lines: Any
) -> None:
    response = client.get(API + "health/live")
    match = SERVER_TIMING.fullmatch(response["Server-Timing"])
    assert match is not None
    (line,) = _requests(log_lines())
    assert float(match.group(1)) == line["duration_ms"]


@pytest.mark.urls("tests.ops.urls")
def test_server_timing_covers_the_view(client: Any, with_middleware: None) -> None:
    response = client.get("/ops-test/echo/")  # sleeps 20 ms
    match = SERVER_TIMING.fullmatch(response["Server-Timing"])
    assert match is not None
    assert float(match.group(1)) >= 20.0


@pytest.mark.urls("tests.ops.urls")
def test_server_timing_of_the_view_is_kept(client: Any, with_middleware: None) -> None:
    response = client.get("/ops-test/timed/")
    first, second = response["Server-Timing"].split(", ")
    assert first == "db;dur=1.5"
    assert SERVER_TIMING.fullmatch(second)


def test_server_timing_is_set_on_refused_requests(client: Any, with_middleware: None) -> None:
    response = client.post(API + "query/execute", {}, content_type="application/json")
    assert response.status_code in (401, 403)  # anonymous
    assert SERVER_TIMING.fullmatch(response["Server-Timing"])


def test_no_server_timing_without_the_middleware(client: Any) -> None:
    assert "Server-Timing" not in client.get(API + "health/live")


@pytest.mark.parametrize(
    ("claims", "logged"),
    [({}, "pk"), ({"user_id": "PK"}, "pk"), ({"user_id": "abc"}, None), ({"user_id": "01"}, None)],
)
def test_the_log_names_a_token_user_by_primary_key(
    client: Any,
    user: Any,
    jwt_auth: None,
    with_middleware: None,
    log_lines: Any,
    claims: dict[str, Any],
    logged: str | None,
) -> None:
    """A stateless token user (no row read) is logged as the pk its ``user_id`` names; one
    that names no primary key is logged as null, like an anonymous caller."""
    claims = {k: user.pk if v == "PK" else v for k, v in claims.items()}  # the integer claim
    token = access_token(user, **claims)
    response = client.get(API + "health", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    (line,) = _requests(log_lines())
    assert line["user"] == (str(user.pk) if logged == "pk" else None)
