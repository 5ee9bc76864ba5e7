"""``sql/validate`` and ``sql/execute`` (SPEC section 12) through HTTP on the real database: wire
shapes and status codes, staff-only permission, the query rails (row cap, timeout, cache, metrics,
log line, row scopes), and the proof that no refused statement reaches the database."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from rest_framework.test import APIClient

from prismiq_django import services
from prismiq_django.models import ExposedColumn, ExposedTable
from prismiq_django.ops.observability import REGISTRY
from prismiq_django.query.rawsql import SQL_ERROR_CODES
from tests.api.conftest import (
    CANARY_SECRET,
    SHOP_TABLES,
    TOKEN_SECRET,
    Shop,
    add_second_tenant,
    api,
    body_text,
    configure,
)
from tests.query.rawsql_cases import HOSTILE, LEGIT, spelled_for


@pytest.fixture
def staff(db: None) -> User:
    return User.objects.create_user("sam", is_staff=True)


@pytest.fixture
def admin(
    staff: User, exposed: dict[str, Any], shop: Shop, canary: None, settings: Any
) -> APIClient:
    """A staff member's client, with the shop exposed (in the admin's models, with
    ``shop_customer.api_token`` hidden) and loaded, and the canary present."""
    configure(settings, EXPOSED_TABLES=None)
    for name in SHOP_TABLES:
        table = ExposedTable.objects.create(name=name, is_exposed=True)
        if name == "shop_customer":
            ExposedColumn.objects.create(table=table, name="api_token", is_hidden=True)
    services.invalidate_catalog()
    client = APIClient()
    client.force_authenticate(staff)
    return client


@contextmanager
def statement_log() -> Iterator[list[str]]:
    """Every statement the analytics connection sends to the database inside the block."""
    seen: list[str] = []

    def spy(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        yield seen


def _execute(client: APIClient, sql: str, **extra: Any) -> Any:
    return client.post(api("sql/execute"), {"sql": sql, **extra}, format="json")


def _queries(status: str) -> float:
    return REGISTRY.get_sample_value("prismiq_queries_total", {"status": status}) or 0.0


# --- shapes ---------------------------------------------------------------------------------


def test_validate_answers_valid_errors_and_tables(admin: APIClient) -> None:
    sql = (
        "SELECT c.name, count(*) FROM shop_order o JOIN shop_customer c ON c.id = o.customer_id "
        "GROUP BY c.name"
    )
    response = admin.post(api("sql/validate"), {"sql": sql}, format="json")
    assert response.status_code == 200
    assert response.json() == {
        "valid": True,
        "errors": [],
        "tables": ["shop_customer", "shop_order"],
    }
    refused = admin.post(api("sql/validate/"), {"sql": "DELETE FROM shop_order"}, format="json")
    assert refused.status_code == 200
    body = refused.json()
    assert body["valid"] is False
    assert body["tables"] == []
    assert [set(e) for e in body["errors"]] == [{"code", "message"}]
    assert body["errors"][0]["code"] == "sql_not_a_query"


def test_validate_checks_the_parameters_when_given(admin: APIClient) -> None:
    sql = "SELECT id FROM shop_order WHERE status = :s"
    assert admin.post(api("sql/validate"), {"sql": sql}, format="json").json()["valid"] is True
    missing = admin.post(api("sql/validate"), {"sql": sql, "params": {}}, format="json").json()
    assert [e["code"] for e in missing["errors"]] == ["sql_missing_parameter"]


@pytest.mark.parametrize(
    "body",
    [{}, {"sql": 1}, {"sql": None}, {"sql": ["SELECT 1"]}, {"sql": "SELECT 1", "params": [1]}],
)
def test_a_malformed_body_is_a_400_naming_the_key(admin: APIClient, body: Any) -> None:
    for path in ("sql/validate", "sql/execute"):
        response = admin.post(api(path), body, format="json")
        assert response.status_code == 400, (path, body, response.content)
        assert response.json()["detail"] == "Invalid request"
        assert {e["path"] for e in response.json()["errors"]} <= {"/sql", "/params"}


def test_execute_answers_a_query_result(admin: APIClient, shop: Shop) -> None:
    response = _execute(
        admin,
        "SELECT status, count(*) AS n, sum(total) AS revenue FROM shop_order "
        "WHERE ordered_at >= :since GROUP BY status ORDER BY status",
        params={"since": "2024-02-01"},
    )
    assert response.status_code == 200, response.content
    result = response.json()
    assert result["columns"] == ["status", "n", "revenue"]
    assert result["column_types"][:2] == ["string", "integer"]
    assert [row[:2] for row in result["rows"]] == [
        ["cancelled", 1],
        ["paid", 2],
        ["pending", 1],
        ["shipped", 3],
    ]
    assert result["row_count"] == 4
    assert result["truncated"] is False
    assert result["is_from_cache"] is False


@pytest.mark.parametrize(("sql", "params"), LEGIT)
def test_legitimate_analytics_sql_runs_like_the_statement_itself(
    admin: APIClient, sql: str, params: dict[str, object]
) -> None:
    """Window functions, CTEs, set operations, subqueries: the answer has the rows the statement
    gives when run directly on the database."""
    sql = spelled_for(connection.vendor, sql)
    response = _execute(admin, sql, params=params)
    assert response.status_code == 200, (sql, response.content)
    direct_sql = sql
    for name in params:
        direct_sql = direct_sql.replace(f":{name}", "%s")
    with connection.cursor() as cursor:
        cursor.execute(direct_sql, list(params.values()) if params else None)
        direct = cursor.fetchall()
        names = [d[0] for d in cursor.description]
    result = response.json()
    assert result["row_count"] == len(direct), sql
    if len(names) != len(result["columns"]):  # ``*``: the visible columns only, by name
        assert "*" in sql
        assert set(result["columns"]) < set(names)
        picks = [names.index(name) for name in result["columns"]]
        direct = [tuple(row[i] for i in picks) for row in direct]
    # Text and integer cells compare exactly (decimals and dates are spelled for JSON).
    for got, want in zip(result["rows"], direct, strict=True):
        for cell, value in zip(got, want, strict=True):
            if isinstance(value, str | int) and not isinstance(value, bool):
                assert cell == value, (sql, got, want)


def test_star_is_the_visible_columns_only(admin: APIClient) -> None:
    result = _execute(admin, "SELECT * FROM shop_customer ORDER BY id").json()
    assert "api_token" not in result["columns"]
    assert TOKEN_SECRET not in json.dumps(result)


# --- permission -------------------------------------------------------------------------------


def test_raw_sql_is_for_staff_only(
    client: APIClient, anon: APIClient, admin: APIClient, settings: Any
) -> None:
    body = {"sql": "SELECT count(*) FROM shop_order"}
    for path in ("sql/validate", "sql/execute"):
        assert client.post(api(path), body, format="json").status_code == 403
        assert anon.post(api(path), body, format="json").status_code in {401, 403}
        assert admin.post(api(path), body, format="json").status_code == 200
    configure(settings, SQL_PERMISSION_CLASSES=["rest_framework.permissions.IsAuthenticated"])
    assert client.post(api("sql/execute"), body, format="json").status_code == 200
    # PERMISSION_CLASSES still apply on top of SQL_PERMISSION_CLASSES.
    configure(settings, SQL_PERMISSION_CLASSES=["rest_framework.permissions.AllowAny"])
    assert anon.post(api("sql/execute"), body, format="json").status_code in {401, 403}


# --- rails ---------------------------------------------------------------------------------------


def test_the_row_cap_applies_and_says_truncated(admin: APIClient, settings: Any) -> None:
    configure(settings, MAX_ROWS=3)
    result = _execute(admin, "SELECT id FROM shop_order ORDER BY id").json()
    assert result["row_count"] == 3
    assert result["truncated"] is True
    small = _execute(admin, "SELECT id FROM shop_order ORDER BY id LIMIT 2").json()
    assert small["row_count"] == 2
    assert small["truncated"] is False


def test_the_statement_timeout_is_a_504(admin: APIClient, settings: Any) -> None:
    configure(settings, QUERY_TIMEOUT=0.3)
    crossed = ", ".join(f"shop_order o{i}" for i in range(10))  # 10**10 rows to count
    response = _execute(admin, f"SELECT count(*) FROM {crossed}")
    assert response.status_code == 504, response.content
    assert response.json()["code"] == "query_timeout"
    assert "shop_order" not in body_text(response)


def test_results_are_cached_by_their_final_sql(admin: APIClient, settings: Any) -> None:
    configure(settings, RESULT_CACHE_TTL=60)
    sql = "SELECT count(*) AS n FROM shop_order WHERE status = :s"
    first = _execute(admin, sql, params={"s": "paid"}).json()
    again = _execute(admin, sql, params={"s": "paid"}).json()
    other = _execute(admin, sql, params={"s": "pending"}).json()
    bypassed = _execute(admin, sql, params={"s": "paid"}, bypass_cache=True).json()
    assert (first["is_from_cache"], again["is_from_cache"]) == (False, True)
    assert other["is_from_cache"] is False
    assert other["rows"] != first["rows"]
    assert bypassed["is_from_cache"] is False
    assert bypassed["rows"] == first["rows"]


def test_runs_are_counted_and_logged_like_queries(
    admin: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    ok, invalid = _queries("ok"), _queries("invalid")
    with caplog.at_level("INFO", logger="prismiq_django.query"):
        assert _execute(admin, "SELECT count(*) FROM shop_order").status_code == 200
        assert _execute(admin, "SELECT * FROM api_canary").status_code == 400
    assert (_queries("ok") - ok, _queries("invalid") - invalid) == (1, 1)
    lines = [r for r in caplog.records if getattr(r, "event", None) == "query"]
    assert [r.status for r in lines] == ["ok", "invalid"]  # type: ignore[attr-defined]
    assert lines[0].fingerprint
    assert not lines[1].fingerprint
    assert all("shop_order" not in r.getMessage() for r in lines)


@pytest.mark.parametrize(
    ("vendor", "sql", "word"),
    [
        ("postgresql", "SELECT total / 0 FROM shop_order", "division"),
        # MySQL answers NULL for a division by zero: a BIGINT overflow is its refusal.
        ("mysql", "SELECT 9223372036854775807 + id FROM shop_order", "bigint"),
    ],
)
def test_a_statement_the_database_refuses_is_a_400_without_its_text(
    admin: APIClient, vendor: str, sql: str, word: str
) -> None:
    if connection.vendor != vendor:
        pytest.skip(f"runs in the {vendor} pass")
    response = _execute(admin, sql)
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == [
        {
            "code": "sql_execution_error",
            "message": "The database could not run the statement.",
            "path": "/sql",
        }
    ]
    assert word not in body_text(response).lower()


def test_a_refusal_of_execute_names_its_codes_and_paths(admin: APIClient) -> None:
    response = _execute(admin, "SELECT id FROM shop_order WHERE status = :s", params={"x": 1})
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Query validation failed"
    assert {(e["code"], e["path"]) for e in body["errors"]} == {
        ("sql_missing_parameter", "/params")
    }
    refused = _execute(admin, "SELECT password FROM auth_user").json()["errors"]
    assert [(e["code"], e["path"]) for e in refused] == [("table_not_found", "/sql")]


@pytest.fixture
def scoped(admin: APIClient, settings: Any, shop: Shop) -> None:
    """Tenant 2 has one customer with two orders; the two tables are tenant-scoped."""
    add_second_tenant()
    configure(settings, TENANT_CALLBACK="tests.api.test_tenants.tenant_of")
    ExposedTable.objects.filter(name__in=["shop_order", "shop_customer"]).update(
        tenant_column="tenant_id"
    )
    services.invalidate_catalog()


def test_tenant_scoped_tables_are_read_through_the_callers_scope(
    scoped: None, admin: APIClient
) -> None:
    bob = User.objects.create_user("bob", is_staff=True)
    other = APIClient()
    other.force_authenticate(bob)
    sql = (
        "WITH c AS (SELECT id, name FROM shop_customer) SELECT c.name, count(*) FROM shop_order o "
        "JOIN c ON c.id = o.customer_id GROUP BY c.name ORDER BY c.name"
    )
    assert [r[0] for r in _execute(other, sql).json()["rows"]] == ["Zed"]
    count = "SELECT count(*) FROM shop_order UNION ALL SELECT count(*) FROM shop_order o2"
    assert _execute(other, count).json()["rows"] == [[2], [2]]
    # sam has no tenant: a tenant-scoped table is refused (fail closed), as for definitions.
    refused = _execute(admin, "SELECT count(*) FROM shop_order")
    assert refused.status_code == 400
    assert [e["code"] for e in refused.json()["errors"]] == ["invalid_definition"]


# --- hostile statements never reach the database ----------------------------------------------


def test_no_hostile_statement_reaches_the_database(
    admin: APIClient, settings: Any, request: pytest.FixtureRequest
) -> None:
    """Every statement of the hostile file, sent to both endpoints, is refused with a stable code,
    and no statement at all reaches the analytics connection while it is answered (the catalog
    comes from the schema cache, warmed first). Measured: see ``sent`` and ``reached``."""
    configure(settings, SCHEMA_CACHE_TTL=600)
    vendor = connection.vendor
    cases = [sql for sql, vendors in HOSTILE if vendor in vendors]
    assert len(cases) >= 60
    with statement_log() as warm:  # warms the schema cache; proves the spy sees statements
        assert _execute(admin, "SELECT count(*) FROM shop_order").status_code == 200
    assert any("shop_order" in statement for statement in warm)
    with statement_log() as warmed:
        assert _execute(admin, "SELECT count(*) FROM shop_customer").status_code == 200
    assert any("shop_customer" in statement for statement in warmed), warmed
    sent = 0
    reached: list[tuple[str, str]] = []
    for sql in cases:
        params = {"s": "x"} if ":s" in sql else {}
        with statement_log() as seen:
            executed = _execute(admin, sql, params=params)
            validated = admin.post(api("sql/validate"), {"sql": sql}, format="json")
        sent += 1
        reached += [(sql, statement) for statement in seen]
        assert executed.status_code == 400, (sql, executed.content)
        assert validated.status_code == 200, sql
        assert validated.json()["valid"] is False, sql
        for body in (executed.json(), validated.json()):
            assert body["errors"]
            assert all(e["code"] in SQL_ERROR_CODES for e in body["errors"])
        assert CANARY_SECRET not in body_text(executed) + body_text(validated)
    assert reached == []
    assert sent == len(cases)
    request.node.user_properties.append(("hostile_sent", sent))
    # The canary is still there and still secret: nothing wrote or dropped anything.
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM api_canary")
        assert list(cursor.fetchall()) == [(CANARY_SECRET,)]  # mysqlclient: a tuple
