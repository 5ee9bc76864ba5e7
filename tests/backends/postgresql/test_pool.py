"""PostgreSQL: an analytics alias on Django's native psycopg pool (``OPTIONS: {"pool": ...}``).

A pooled connection outlives the request that borrowed it: whatever a statement leaves in its
session, the next borrower inherits. prismiq's rails are all ``SET LOCAL``
(``set_config(..., true)``): the read-only transaction, the statement timeout, the pinned output
settings and the site's ``PG_SESSION_SETTINGS`` hold while prismiq's statement runs on the
pooled connection and are gone when the next borrower gets the same connection (a pool of one
connection, so it is the same server process: ``pg_backend_pid()`` says so).

Not ``django_db`` tests: the alias is added at run time (pytest-django's per-test database guard
would refuse it); the view, the user and the pool are created and removed here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection, connections
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from prismiq_django import services
from prismiq_django.backends.postgresql.session import session_settings
from prismiq_django.execution.rails import guarded_cursor, guarded_statement
from tests.support.glue import extra_alias

pytestmark = pytest.mark.postgres

ALIAS = "pooled"
VIEW = "pg_pool_session"
#: What the session looks like from inside a statement: read by prismiq's own query of the view.
CREATE_VIEW = f"""
CREATE VIEW {VIEW} AS SELECT
    1 AS id,
    current_setting('transaction_read_only') AS read_only,
    current_setting('statement_timeout') AS timeout,
    current_setting('app.tenant_id', true) AS tenant,
    current_setting('extra_float_digits') AS float_digits,
    pg_backend_pid() AS pid
"""
SESSION_SQL = (
    "SELECT current_setting('transaction_read_only'), current_setting('statement_timeout'),"
    " current_setting('app.tenant_id', true), current_setting('extra_float_digits'),"
    " pg_backend_pid()"
)
#: A session as Django hands it out: writable, no timeout, no tenant, the default float digits.
CLEAN = ("off", "0", "", "1")


def tenant_of(request: Any) -> Any:
    """The TENANT_CALLBACK of these tests: every caller is tenant 7."""
    return 7


@pytest.fixture
def pooled(django_db_setup: None, django_db_blocker: Any) -> Iterator[str]:
    """The alias ``pooled``: the test database through a pool of exactly one connection; the
    view of the session settings; a user. All removed afterwards (the pool closed)."""
    options = {
        **connections.settings["default"].get("OPTIONS", {}),
        "pool": {"min_size": 1, "max_size": 1, "timeout": 5},
    }
    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            cursor.execute(f"DROP VIEW IF EXISTS {VIEW}")
            cursor.execute(CREATE_VIEW)
        User.objects.create_user("pooled")
        try:
            with extra_alias(ALIAS, {"OPTIONS": options, "CONN_MAX_AGE": 0}) as alias:
                try:
                    yield alias
                finally:
                    connections[alias].close()
                    connections[alias].close_pool()
        finally:
            services.invalidate_catalog()
            User.objects.filter(username="pooled").delete()
            with connection.cursor() as cursor:
                cursor.execute(f"DROP VIEW IF EXISTS {VIEW}")


def _next_borrower(alias: str) -> tuple[Any, ...]:
    """Return the connection to the pool (the end of a request), borrow it again and read its
    session: ``(read_only, timeout, tenant, float_digits, pid)``."""
    connections[alias].close()
    with connections[alias].cursor() as cursor:
        cursor.execute(SESSION_SQL)
        row: tuple[Any, ...] = cursor.fetchone()
    assert connections[alias].pool is not None
    return (*row[:2], row[2] or "", *row[3:])


def test_the_pool_is_real(pooled: str) -> None:
    """The premise: one pooled connection, handed to each borrower in turn, and a session
    setting (not ``SET LOCAL``) made by one borrower is what the next one gets."""
    first = _next_borrower(pooled)
    with connections[pooled].cursor() as cursor:
        cursor.execute("SET extra_float_digits = 0")
    leaked = _next_borrower(pooled)
    assert leaked[4] == first[4]
    assert leaked[3] == "0"
    with connections[pooled].cursor() as cursor:
        cursor.execute("RESET extra_float_digits")
    assert _next_borrower(pooled)[:4] == CLEAN


@pytest.mark.parametrize("path", ["savepoint-safe", "one message"])
def test_the_rails_hold_on_a_pooled_connection_and_do_not_reach_the_next_borrower(
    pooled: str, path: str
) -> None:
    with connections[pooled].cursor() as cursor:
        cursor.execute("SET extra_float_digits = 0")  # a borrower's own setting, left behind
    pid = _next_borrower(pooled)[4]
    with session_settings([("app.tenant_id", "7")]):
        if path == "one message":
            with (
                CaptureQueriesContext(connections[pooled]) as captured,
                guarded_statement(pooled, 2.5, SESSION_SQL, []) as (_, cursor),
            ):
                inside = cursor.fetchone()
            assert [q["sql"][:15] for q in captured.captured_queries] == ["BEGIN READ ONLY"]
        else:
            with guarded_cursor(pooled, 2.5) as (_, cursor):
                cursor.execute(SESSION_SQL)
                inside = cursor.fetchone()
    assert inside == ("on", "2500ms", "7", "1", pid)
    # The borrower's own setting is the session's again; prismiq's are gone.
    assert _next_borrower(pooled) == ("off", "0", "", "0", pid)
    with connections[pooled].cursor() as cursor:
        cursor.execute("RESET extra_float_digits")
    assert _next_borrower(pooled) == (*CLEAN, pid)


def test_a_site_whose_analytics_alias_is_pooled(pooled: str) -> None:
    """Through the HTTP API: prismiq's statement sees its rails and the tenant setting on the
    pooled connection; the next borrower of that connection sees none of them."""
    client = APIClient()
    client.force_authenticate(User.objects.get(username="pooled"))
    prismiq = {
        "DATABASE": pooled,
        "EXPOSED_TABLES": [VIEW],
        "TENANT_CALLBACK": "tests.backends.postgresql.test_pool.tenant_of",
        "PG_SESSION_SETTINGS": {"app.tenant_id": "tenant"},
        "QUERY_TIMEOUT": 3.0,
        "RESULT_CACHE_TTL": 0,
        "RATE_LIMIT": None,
    }
    definition = {
        "tables": [{"id": "v", "name": VIEW}],
        "columns": [
            {"table_id": "v", "column": name}
            for name in ("read_only", "timeout", "tenant", "float_digits", "pid")
        ],
    }
    with override_settings(PRISMIQ=prismiq):
        services.invalidate_catalog()
        pid = _next_borrower(pooled)[4]
        for _ in range(2):  # the second request borrows the connection the first returned
            response = client.post(
                "/api/analytics/query/execute",
                {"query": definition, "bypass_cache": True},
                format="json",
            )
            assert response.status_code == 200, response.content
            assert response.json()["rows"] == [["on", "3s", "7", "1", pid]]
            assert _next_borrower(pooled) == (*CLEAN, pid)
