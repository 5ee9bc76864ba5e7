"""Fixtures and helpers of the tests that run the glue (catalog, execution, backends, services):
a minimal compiled statement, a clean catalog cache (`fresh_catalog`, autouse where imported)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from prismiq_django.execution import runner


@dataclass(frozen=True, slots=True)
class Stmt:
    """A hand-written statement with the attributes of ``prismiq_django.query.Compiled``.

    Used where a test needs SQL the compiler would never emit (writes, sleeps, literals of every
    type); ``sql`` must already carry the ``limit + 1`` cap when the test relies on it.
    """

    sql: str
    params: tuple[object, ...] = ()
    columns: tuple[str, ...] = ()
    limit: int = 10_000
    tables: frozenset[str] = field(default_factory=frozenset)


@pytest.fixture(autouse=True)
def fresh_catalog() -> Iterator[None]:
    """Every test starts and ends with no cached catalog (tables are created per test)."""
    from prismiq_django import services

    services.invalidate_catalog()
    yield
    services.invalidate_catalog()


def sql_literal(value: str | None) -> str:
    """``value`` as an SQL string literal (NULL for None); test data only, never request text."""
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


@contextmanager
def exposed_table(name: str, create: str, rows: str, *, cached: bool = False) -> Iterator[None]:
    """Create table ``name`` (``create``), fill it (``rows``: the VALUES list), expose only it
    (with the result cache and rate limits off unless ``cached``), and drop it afterwards."""
    from django.db import connection
    from django.test import override_settings

    from prismiq_django import services

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {name}")
        cursor.execute(create)
        cursor.execute(f"INSERT INTO {name} VALUES {rows}")
    services.invalidate_catalog()
    try:
        uncached = {} if cached else {"RESULT_CACHE_TTL": 0, "RATE_LIMIT": None}
        with override_settings(PRISMIQ={"EXPOSED_TABLES": [name], **uncached}):
            yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")


def admin_connection() -> Any:
    """A separate autocommit psycopg connection to the test database (to cancel or terminate
    the test connection's backend)."""
    import psycopg
    from django.db import connection

    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        dbname=settings["NAME"],
        autocommit=True,
    )


def by_id(table: str, *names: str, **extra: Any) -> dict[str, Any]:
    """A definition selecting ``id`` and ``names`` of ``table`` (table id ``t``), ordered by id."""
    return {
        "tables": [{"id": "t", "name": table}],
        "columns": [{"table_id": "t", "column": name} for name in ("id", *names)],
        "order_by": [{"table_id": "t", "column": "id", "direction": "ASC"}],
        **extra,
    }


@contextmanager
def extra_alias(name: str, overrides: dict[str, Any]) -> Iterator[str]:
    """A temporary database alias ``name``: the default database's settings with ``overrides``;
    closed and removed afterwards."""
    from django.db import connections

    connections.settings[name] = {**connections.settings["default"], **overrides}
    try:
        yield name
    finally:
        if name in connections:
            connections[name].close()
            del connections[name]
        del connections.settings[name]


def slow_refusal(monkeypatch: Any, seconds: float = 0.6) -> None:
    """Make psycopg's refusal of a value (the trigger of the tolerant re-run) take ``seconds``
    longer, as loading a large result would: for the tests of the re-run's shared deadline."""
    import time

    fetch = runner.fetch_rows

    def slow_to_refuse(cursor: Any, size: int, *, tolerant: bool) -> Any:
        try:
            return fetch(cursor, size, tolerant=tolerant)
        except runner.UnloadableValue:
            time.sleep(seconds)
            raise

    monkeypatch.setattr(runner, "fetch_rows", slow_to_refuse)


def api_client(username: str) -> Any:
    """A DRF test client authenticated as a new user ``username`` (needs the database)."""
    from django.contrib.auth.models import User
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(User.objects.create_user(username))
    return client
