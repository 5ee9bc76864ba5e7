"""``PG_SESSION_SETTINGS`` (SPEC section 8): a site's own row-level-security policies as a second
wall, on real PostgreSQL.

The test creates a table with an RLS policy reading ``current_setting('app.tenant_id')`` and a
login role that does not own it (the owner and superusers bypass RLS), points
``PRISMIQ["DATABASE"]`` at an alias connecting as that role, and exposes the table *without* a
tenant column: no row scope is compiled, so whatever isolation the answers show comes from the
policy alone, fed by ``set_config('app.tenant_id', <tenant>, true)`` in the read-only transaction.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from prismiq_django import services
from tests.support.glue import extra_alias

# Not django_db: the reader alias does not exist when pytest-django decides which aliases a
# test may use. The fixture unblocks the database and removes everything it made.
pytestmark = pytest.mark.postgres

ROLE = f"prismiq_rls_{os.environ.get('PRISMIQ_TEST_DB_SUFFIX', 'x')}_{os.getpid()}"
PASSWORD = "rls-test-only"
TABLE = "rls_note"
ALIAS = "rls_reader"
NOTES = [(1, "acme one"), (1, "acme two"), (2, "globex one"), (3, "initech one")]
TENANTS: dict[str, Any] = {"alice": 1, "bob": 2, "eve": [1, 3]}
USERS = ("alice", "bob", "eve", "carol", "mallory")

LIST_NOTES = {
    "tables": [{"id": "n", "name": TABLE}],
    "columns": [{"table_id": "n", "column": "body"}, {"table_id": "n", "column": "tenant_id"}],
    "order_by": [{"table_id": "n", "column": "body", "direction": "ASC"}],
}
COUNT_NOTES = {
    "tables": [{"id": "n", "name": TABLE}],
    "columns": [{"table_id": "n", "column": "*", "aggregation": "count", "alias": "n"}],
}


def tenant_of(request: Any) -> Any:
    """The TENANT_CALLBACK of these tests: a fixed tenant (or list) per username."""
    return TENANTS.get(getattr(request.user, "username", "").removeprefix("rls-"))


@pytest.fixture
def rls_table(django_db_setup: None, django_db_blocker: Any) -> Iterator[str]:
    """The table, its policy and the non-owner role; the alias that connects as that role; the
    users of the tests. All committed, all removed afterwards."""
    with django_db_blocker.unblock():
        yield from _rls_table()


def _rls_table() -> Iterator[str]:
    for name in USERS:
        User.objects.get_or_create(username=f"rls-{name}")
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}' NOSUPERUSER NOBYPASSRLS")
        cursor.execute(
            f"CREATE TABLE {TABLE} (id serial PRIMARY KEY, tenant_id integer NOT NULL, body text)"
        )
        cursor.executemany(f"INSERT INTO {TABLE} (tenant_id, body) VALUES (%s, %s)", NOTES)
        cursor.execute(f"ALTER TABLE {TABLE} ENABLE ROW LEVEL SECURITY")
        # A list of tenants travels as "1,3"; no value (or "") matches no row.
        cursor.execute(
            f"CREATE POLICY by_tenant ON {TABLE} FOR SELECT USING (tenant_id::text = ANY ("
            "string_to_array(NULLIF(current_setting('app.tenant_id', true), ''), ',')))"
        )
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {ROLE}")
        cursor.execute(f"GRANT SELECT ON {TABLE} TO {ROLE}")
    try:
        with extra_alias(ALIAS, {"USER": ROLE, "PASSWORD": PASSWORD}):
            yield ALIAS
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
            cursor.execute(f"DROP OWNED BY {ROLE}")
            cursor.execute(f"DROP ROLE IF EXISTS {ROLE}")
        User.objects.filter(username__startswith="rls-").delete()


@pytest.fixture
def site(rls_table: str, settings: Any) -> None:
    settings.PRISMIQ = {
        "DATABASE": rls_table,
        "EXPOSED_TABLES": [TABLE],
        "TENANT_CALLBACK": "tests.tenancy.test_rls.tenant_of",
        "PG_SESSION_SETTINGS": {"app.tenant_id": "tenant"},
        "SCHEMA_CACHE_TTL": 0,
        "RESULT_CACHE_TTL": 0,
        "RATE_LIMIT": None,
        "EXPORT_RATE_LIMIT": None,
    }
    services.invalidate_catalog()


def client_of(name: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(User.objects.get(username=f"rls-{name}"))
    return client


def rows(client: APIClient, definition: dict[str, Any] = LIST_NOTES) -> list[list[Any]]:
    response = client.post("/api/analytics/query/execute", {"query": definition}, format="json")
    assert response.status_code == 200, response.content
    found: list[list[Any]] = response.json()["rows"]
    return found


def test_the_role_is_subject_to_the_policy(rls_table: str) -> None:
    """The premise: as the reader role, with no setting, the policy hides every row."""
    with connections[rls_table].cursor() as cursor:
        cursor.execute("SELECT current_user, count(*) FROM rls_note")
        assert cursor.fetchone() == (ROLE, 0)


def test_the_policy_filters_every_answer_through_the_app(site: None) -> None:
    assert rows(client_of("alice")) == [["acme one", 1], ["acme two", 1]]
    assert rows(client_of("bob")) == [["globex one", 2]]
    assert rows(client_of("eve")) == [["acme one", 1], ["acme two", 1], ["initech one", 3]]
    # No tenant value: the setting is set to "" (never left to a previous statement's value).
    assert rows(client_of("carol")) == []
    assert rows(client_of("alice"), COUNT_NOTES) == [[2]]
    values = client_of("bob").get(f"/api/analytics/tables/{TABLE}/columns/body/values").json()
    assert values == {"values": ["globex one"]}
    export = client_of("bob").post(
        "/api/analytics/query/export", {"query": LIST_NOTES, "format": "csv"}, format="json"
    )
    assert export.status_code == 200
    assert b"".join(export.streaming_content).decode().split() == [
        "body,tenant_id",
        "globex",
        "one,2",
    ]


def test_without_the_setting_the_policy_shows_nothing(site: None, settings: Any) -> None:
    """The rows above come from the setting: without PG_SESSION_SETTINGS the same role sees
    none (so the test above could not pass by accident)."""
    settings.PRISMIQ = {k: v for k, v in settings.PRISMIQ.items() if k != "PG_SESSION_SETTINGS"}
    assert rows(client_of("alice")) == []


def test_the_setting_applies_inside_an_open_transaction_and_ends_with_it(site: None) -> None:
    """The savepoint path (the caller's transaction is open): same filtering, and the setting
    is local to the savepoint, so the session never keeps a tenant's value."""
    reader = connections[ALIAS]
    with transaction.atomic(using=ALIAS):
        assert rows(client_of("bob")) == [["globex one", 2]]
        with reader.cursor() as cursor:
            cursor.execute("SELECT current_setting('app.tenant_id', true)")
            assert cursor.fetchone()[0] in (None, "")
    assert rows(client_of("alice")) == [["acme one", 1], ["acme two", 1]]
    with reader.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.tenant_id', true)")
        assert cursor.fetchone()[0] in (None, "")


def test_a_cached_result_is_never_served_to_another_tenant(site: None, settings: Any) -> None:
    """The table has no tenant column, so no row scope tells the tenants apart: the session
    settings are part of the result-cache key."""
    settings.PRISMIQ = {**settings.PRISMIQ, "RESULT_CACHE_TTL": 300}
    from django.core.cache import cache

    cache.clear()
    first = client_of("alice").post(
        "/api/analytics/query/execute", {"query": COUNT_NOTES}, format="json"
    )
    again = client_of("alice").post(
        "/api/analytics/query/execute", {"query": COUNT_NOTES}, format="json"
    )
    other = client_of("bob").post(
        "/api/analytics/query/execute", {"query": COUNT_NOTES}, format="json"
    )
    assert (first.json()["rows"], first.json()["is_from_cache"]) == ([[2]], False)
    assert (again.json()["rows"], again.json()["is_from_cache"]) == ([[2]], True)
    assert (other.json()["rows"], other.json()["is_from_cache"]) == ([[1]], False)


def test_the_value_is_bound_not_spliced(site: None, settings: Any) -> None:
    """A hostile tenant value is just text for the policy (no statement can be injected)."""
    TENANTS["mallory"] = "1'), set_config('app.tenant_id', '2', true), ('"
    try:
        response = client_of("mallory").post(
            "/api/analytics/query/execute", {"query": LIST_NOTES}, format="json"
        )
    finally:
        del TENANTS["mallory"]
    # The whole value is the setting's text: it names no tenant, and nothing else was run.
    assert response.status_code == 200, response.content
    assert response.json()["rows"] == []


def test_raw_sql_runs_under_the_policy_too(site: None) -> None:
    """``sql/execute`` (staff): the same session settings, so the same rows."""
    alice = User.objects.get(username="rls-alice")
    alice.is_staff = True
    alice.save()
    client = APIClient()
    client.force_authenticate(alice)
    response = client.post(
        "/api/analytics/sql/execute",
        {"sql": f"SELECT body FROM {TABLE} ORDER BY body"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["rows"] == [["acme one"], ["acme two"]]
