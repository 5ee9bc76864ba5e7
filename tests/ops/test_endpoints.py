"""Operations through the real API: cached execution, invalidation, degradation, logs, metrics.

Every request goes through the real URLconf, views, services, compiler, executor, database and
cache (locmem by default, Redis with ``REDIS_URL``).
"""

from __future__ import annotations

import json
import re
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from prismiq_django.ops.observability import REGISTRY
from tests.support.ops import API, customer_query


def _client(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _execute(client: APIClient, **body: Any) -> Any:
    response = client.post(
        API + "query/execute", {"query": customer_query(), **body}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_execute_miss_hit_bypass(exposed_shop: Any, user: Any) -> None:
    alice = _client(user)
    first = _execute(alice)
    second = _execute(alice)
    forced = _execute(alice, bypass_cache=True)

    assert first["is_from_cache"] is False
    assert first["cached_at"] is None
    assert second["is_from_cache"] is True
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", second["cached_at"])
    assert (
        second["rows"]
        == first["rows"]
        == [
            ["Customer 0", "Paris"],
            ["Customer 2", "Paris"],
            ["Customer 4", "Lyon"],
        ]
    )
    assert second["columns"] == first["columns"] == ["name", "city"]
    assert second["column_types"] == first["column_types"]
    assert second["execution_time_ms"] == first["execution_time_ms"]  # the original run's
    assert forced["is_from_cache"] is False


def test_tenants_never_share_an_entry(exposed_shop: Any, user: Any, other_user: Any) -> None:
    alice, bob = _client(user), _client(other_user)
    a1 = _execute(alice)
    b1 = _execute(bob)
    a2 = _execute(alice)
    b2 = _execute(bob)

    assert b1["is_from_cache"] is False
    assert [r[0] for r in a1["rows"]] == ["Customer 0", "Customer 2", "Customer 4"]
    assert [r[0] for r in b1["rows"]] == ["Customer 1", "Customer 3", "Customer 5"]
    assert a2["is_from_cache"] is True
    assert b2["is_from_cache"] is True
    assert a2["rows"] == a1["rows"]
    assert b2["rows"] == b1["rows"]


def test_management_command_invalidates_tables(exposed_shop: Any, user: Any) -> None:
    from example_project.shop.models import Customer

    alice = _client(user)
    _execute(alice)
    Customer.objects.filter(name="Customer 0").update(city="Nice")
    assert _execute(alice)["rows"][0] == ["Customer 0", "Paris"]  # still the cached answer

    out = StringIO()
    call_command("prismiq_invalidate_cache", "shop_customer", stdout=out)

    fresh = _execute(alice)
    assert fresh["is_from_cache"] is False
    assert fresh["rows"][0] == ["Customer 0", "Nice"]
    assert "shop_customer" in out.getvalue()


def test_management_command_all(exposed_shop: Any, user: Any) -> None:
    alice = _client(user)
    _execute(alice)
    call_command("prismiq_invalidate_cache", "--all", stdout=StringIO())
    assert _execute(alice)["is_from_cache"] is False


@pytest.mark.parametrize("args", [(), ("--all", "shop_customer")])
def test_management_command_needs_tables_or_all(args: tuple[str, ...]) -> None:
    with pytest.raises(CommandError, match="--all"):
        call_command("prismiq_invalidate_cache", *args)


def test_management_command_fails_when_the_cache_is_down(dead_cache: str) -> None:
    with pytest.raises(CommandError, match="unreachable"):
        call_command("prismiq_invalidate_cache", "shop_customer", stdout=StringIO())


def test_refresh_schema_command(exposed_shop: Any, settings: Any) -> None:
    out = StringIO()
    settings.PRISMIQ = {**settings.PRISMIQ, "SCHEMA_CACHE_TTL": 3600}
    call_command("prismiq_refresh_schema", stdout=out)
    assert "1 exposed table" in out.getvalue()
    out = StringIO()
    call_command("prismiq_refresh_schema", "--no-warm", stdout=out)
    assert "invalidated" in out.getvalue()


def test_cache_dies_mid_test_and_queries_still_answer(
    exposed_shop: Any, user: Any, settings: Any, dead_cache: str
) -> None:
    settings.PRISMIQ = {**settings.PRISMIQ, "CACHE_ALIAS": "default"}
    alice = _client(user)
    _execute(alice)
    assert _execute(alice)["is_from_cache"] is True
    health = alice.get(API + "health")
    assert health.json()["status"] == "healthy"

    # The cache server goes away: the alias now points at a port nobody listens on.
    settings.PRISMIQ = {**settings.PRISMIQ, "CACHE_ALIAS": "dead"}
    answers = [_execute(alice) for _ in range(3)]

    assert all(a["is_from_cache"] is False for a in answers)
    assert all(len(a["rows"]) == 3 for a in answers)
    health = alice.get(API + "health")
    assert health.status_code == 200
    assert health.json()["status"] == "degraded"
    assert health.json()["checks"]["cache"]["status"] == "down"


def test_database_down_gives_503_not_500(
    exposed_shop: Any, user: Any, client: Any, dead_database: str
) -> None:
    ready = client.get(API + "health/ready")
    assert ready.status_code == 503
    response = _client(user).post(API + "query/execute", {"query": customer_query()}, format="json")
    assert response.status_code == 503
    assert "OperationalError" not in response.content.decode()


def test_each_execution_logs_a_query_line_with_the_request_id(
    exposed_shop: Any, user: Any, client: Any, with_middleware: None, log_lines: Any
) -> None:
    client.force_login(user)
    response = client.post(
        API + "query/execute",
        json.dumps({"query": customer_query()}),
        content_type="application/json",
        HTTP_X_REQUEST_ID="trace-123",
    )
    assert response.status_code == 200
    assert response["X-Request-ID"] == "trace-123"
    client.post(
        API + "query/execute",
        json.dumps({"query": customer_query()}),
        content_type="application/json",
    )

    parsed = [json.loads(line) for line in log_lines()]
    queries = [p for p in parsed if p.get("event") == "query"]
    requests = [p for p in parsed if p.get("event") == "request"]
    assert len(queries) == 2
    assert len(requests) == 2
    assert queries[0]["request_id"] == requests[0]["request_id"] == "trace-123"
    assert queries[1]["request_id"] == requests[1]["request_id"] != "trace-123"
    assert [q["cache_hit"] for q in queries] == [False, True]
    assert all(q["rows"] == 3 and q["status"] == "ok" for q in queries)
    assert re.fullmatch(r"[0-9a-f]{16}", queries[0]["fingerprint"])
    assert queries[0]["fingerprint"] == queries[1]["fingerprint"]
    assert requests[0]["endpoint"] == "query-execute"
    assert requests[0]["user"] == str(user.pk)
    # Neither SQL text nor parameter values reach the logs.
    assert not any("SELECT" in line or "shop_customer" in line for line in log_lines())


def test_metrics_count_executions_and_cache_results(exposed_shop: Any, user: Any) -> None:
    ok = _value("prismiq_queries_total", status="ok")
    hits = _value("prismiq_cache_requests_total", result="hit")
    misses = _value("prismiq_cache_requests_total", result="miss")
    rows = _value("prismiq_rows_returned_sum")
    alice = _client(user)
    _execute(alice)
    _execute(alice)
    assert _value("prismiq_queries_total", status="ok") == ok + 2
    assert _value("prismiq_cache_requests_total", result="hit") == hits + 1
    assert _value("prismiq_cache_requests_total", result="miss") == misses + 1
    assert _value("prismiq_rows_returned_sum") == rows + 6


def test_refused_definitions_are_counted_as_invalid(exposed_shop: Any, user: Any) -> None:
    invalid = _value("prismiq_queries_total", status="invalid")
    ok = _value("prismiq_queries_total", status="ok")
    bad = {**customer_query(), "columns": [{"table_id": "c", "column": "nope"}]}
    response = _client(user).post(API + "query/execute", {"query": bad}, format="json")
    assert response.status_code == 400
    assert _value("prismiq_queries_total", status="invalid") == invalid + 1
    assert _value("prismiq_queries_total", status="ok") == ok
