"""Every golden definition runs on the ``default`` database, and on PostgreSQL also with
server-side parameter binding (``$1`` placeholders, no client-side interpolation)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from django.db import connection

from prismiq_django.query import build, get_dialect
from tests.query.catalogs import SHOP, tenant_catalog
from tests.query.golden_cases import GOLDEN
from tests.semantics.conftest import sql_names

pytestmark = pytest.mark.usefixtures("shop")
NOW = datetime(2024, 10, 2, 15, 0, tzinfo=UTC)


def _compile(case: dict[str, Any]) -> Any:
    tz = UTC if case["tz"] == "UTC" else ZoneInfo(case["tz"])
    catalog = SHOP if case["catalog"] == "SHOP" else tenant_catalog(1)
    return build(case["definition"], catalog, connection.vendor, now=NOW, tz=tz)


def _has_full_join(case: dict[str, Any]) -> bool:
    return any(
        str(join.get("join_type", "")).upper() == "FULL"
        for join in case["definition"].get("joins", ())
    )


#: The golden definitions this vendor can run: MySQL and MariaDB have no FULL join (the
#: compiler refuses it there with a 400, tests/backends/mysql/test_dialect.py).
RUNNABLE = [
    pytest.param(
        case,
        id=case["name"],
        marks=pytest.mark.skipif(
            connection.vendor == "mysql" and _has_full_join(case),
            reason="MySQL/MariaDB have no FULL join (refused: 400)",
        ),
    )
    for case in GOLDEN
]


@pytest.mark.parametrize("case", RUNNABLE)
def test_golden_definition_executes(case: dict[str, Any]) -> None:
    compiled = _compile(case)
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, compiled.params)
        cursor.fetchall()
        assert [d[0] for d in cursor.description] == sql_names(compiled.columns)


@pytest.mark.parametrize("analyze", [False, True])
def test_explain_runs_for_every_golden_definition(analyze: bool) -> None:
    dialect = get_dialect(connection.vendor)
    for case in GOLDEN:
        if connection.vendor == "mysql" and _has_full_join(case):
            continue  # refused there (no FULL join)
        compiled = _compile(case)
        with connection.cursor() as cursor:
            cursor.execute(dialect.explain_sql(compiled.sql, analyze=analyze), compiled.params)
            plan = cursor.fetchall()
        assert plan, case["name"]


@pytest.mark.postgres
@pytest.mark.parametrize("case", GOLDEN, ids=[case["name"] for case in GOLDEN])
def test_golden_definition_executes_with_server_side_binding(case: dict[str, Any]) -> None:
    compiled = _compile(case)
    connection.ensure_connection()
    raw = connection.connection
    assert raw is not None
    with connection.cursor() as django_cursor:
        django_rows = _fetch(django_cursor, compiled)
    with psycopg.Cursor(raw) as cursor:  # server-side binding: parameters travel separately
        cursor.execute(compiled.sql, compiled.params)
        server_rows = cursor.fetchall()
    # Same rows (order aside: only some golden definitions sort).
    assert sorted(map(repr, server_rows)) == sorted(map(repr, django_rows))


def _fetch(cursor: Any, compiled: Any) -> list[Any]:
    cursor.execute(compiled.sql, compiled.params)
    return [tuple(row) for row in cursor.fetchall()]
