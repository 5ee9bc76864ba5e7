"""Random definitions with hostile strings always execute: no syntax or type error, any backend.

Runs on the ``default`` connection (SQLite in ``make test``, PostgreSQL in the CI pass), each
example inside a savepoint, with a statement timeout on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings

from prismiq_django.query import build
from prismiq_django.query.errors import QueryValidationError
from tests.query.catalogs import SHOP, tenant_catalog
from tests.query.strategies import definitions
from tests.semantics.conftest import sql_names


def _full_join_refused(definition: dict[str, Any]) -> bool:
    """True when ``definition`` has a FULL join and the database has none (MySQL): then it is
    refused with the joins' path, before any SQL is made."""
    full = any(j.get("join_type") == "FULL" for j in definition.get("joins", []))
    if not full or connection.vendor != "mysql":
        return False
    with pytest.raises(QueryValidationError) as refused:
        build(definition, SHOP, connection.vendor)
    assert [e.path for e in refused.value.errors] == ["/joins"]
    return True


def _execute(definition: dict[str, Any], scoped: bool) -> None:
    catalog = tenant_catalog(1) if scoped else SHOP
    compiled = build(definition, catalog, connection.vendor)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL statement_timeout = 5000")
        cursor.execute(compiled.sql, compiled.params)
        rows = cursor.fetchall()
        assert [d[0] for d in cursor.description] == sql_names(compiled.columns)
    assert len(rows) <= compiled.limit + 1


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(definition=definitions())
def test_random_definitions_execute_without_error(shop: None, definition: dict[str, Any]) -> None:
    if _full_join_refused(definition):
        return
    _execute(definition, scoped=False)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(definition=definitions())
def test_random_scoped_definitions_execute_and_never_show_other_tenants(
    shop: None, definition: dict[str, Any]
) -> None:
    if _full_join_refused(definition):
        return
    _execute(definition, scoped=True)
    # Selecting the tenant column of every table shows only tenant 1 (or NULL from outer joins).
    probe = {
        **definition,
        "columns": [
            {"table_id": t["id"], "column": "tenant_id", "alias": f"tenant{i}"}
            for i, t in enumerate(definition["tables"])
        ],
        "filters": [],
        "order_by": [],
    }
    compiled = build(probe, tenant_catalog(1), connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, compiled.params)
        values = {v for row in cursor.fetchall() for v in row}
    assert values <= {1, None}
