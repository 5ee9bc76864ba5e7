"""Fixtures of the operations tests: an isolated cache namespace per test, dead services, data."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import StringIO
from typing import Any

import pytest
from django.conf import settings as django_settings

from prismiq_django.cache import breaker
from prismiq_django.ops.observability import JsonFormatter

DEAD_REDIS = "redis://127.0.0.1:1/0"


@dataclass(frozen=True, slots=True)
class Stmt:
    """A compiled statement as the cache and the executor see it (sql, params, tables...)."""

    sql: str
    params: tuple[object, ...]
    tables: frozenset[str]
    columns: tuple[str, ...] = ()
    limit: int = 1000


@dataclass
class Counter:
    """A ``compute`` wrapper counting its calls."""

    fn: Callable[[], Any]
    calls: int = 0
    seen: list[Any] = field(default_factory=list)

    def __call__(self) -> Any:
        self.calls += 1
        result = self.fn()
        self.seen.append(result)
        return result


@pytest.fixture(autouse=True)
def isolated_cache(settings: Any) -> Iterator[str]:
    """Give every test its own key prefix on the configured cache (never FLUSH shared Redis)."""
    prefix = f"prismiq-ops-{uuid.uuid4().hex[:12]}"
    caches = {alias: dict(conf) for alias, conf in django_settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = prefix
    settings.CACHES = caches
    breaker.reset()
    yield prefix
    breaker.reset()


@pytest.fixture
def dead_cache(settings: Any) -> str:
    """Point ``CACHE_ALIAS`` (and the rate-limit counters) at a Redis port nobody listens on."""
    caches = dict(settings.CACHES)
    caches["dead"] = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": DEAD_REDIS,
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
    }
    settings.CACHES = caches
    settings.PRISMIQ = {**settings.PRISMIQ, "CACHE_ALIAS": "dead"}
    settings.RATELIMIT_USE_CACHE = "dead"
    return "dead"


@pytest.fixture
def customers(db: None) -> list[Any]:
    """Six customers in two tenants (real rows in the test database)."""
    from example_project.shop.models import Customer

    now = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    rows = [
        Customer(
            tenant_id=1 + i % 2,
            name=f"Customer {i}",
            email=f"c{i}@example.com",
            city="Paris" if i < 3 else "Lyon",
            country="FR",
            created_at=now,
        )
        for i in range(6)
    ]
    return list(Customer.objects.bulk_create(rows))


def customer_stmt(tenant: int) -> Stmt:
    return Stmt(
        sql="SELECT name, city FROM shop_customer WHERE tenant_id = %s ORDER BY name",
        params=(tenant,),
        tables=frozenset({"shop_customer"}),
        columns=("name", "city"),
    )


def run(stmt: Stmt) -> Any:
    """Execute ``stmt`` for real on the default database with the production executor."""
    from prismiq_django.execution import execute_compiled

    return execute_compiled(stmt, alias="default", timeout=10.0)  # type: ignore[arg-type]


def make_result(rows: list[list[Any]]) -> Any:
    from prismiq_django.execution import QueryResult

    return QueryResult(
        columns=["a", "b"],
        column_types=["integer", "decimal"],
        rows=rows,
        row_count=len(rows),
        truncated=False,
        execution_time_ms=1.5,
    )


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[str]]]:
    """Capture everything the ``prismiq_django`` loggers emit, formatted by JsonFormatter."""
    stream = StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger("prismiq_django")
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield lambda: [line for line in stream.getvalue().splitlines() if line]
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


__all__ = ["DEAD_REDIS", "Counter", "Stmt", "customer_stmt", "make_result", "run"]


@pytest.fixture
def dead_database(settings: Any, db: None) -> Iterator[str]:
    """A database alias that cannot be reached, made the analytics ``DATABASE``.

    Same vendor as ``default``: a PostgreSQL port nobody listens on, or an SQLite file in a
    directory that does not exist.
    """
    from django.db import connections
    from django.db.utils import load_backend

    conf = dict(connections.settings["default"])
    conf["OPTIONS"] = dict(conf.get("OPTIONS") or {})
    if conf["ENGINE"].endswith("sqlite3"):
        conf["NAME"] = "/nonexistent-prismiq-dir/dead.sqlite3"
    else:
        conf.update(HOST="127.0.0.1", PORT="1")
        conf["OPTIONS"]["connect_timeout"] = 2
    # Registered as a dynamically created connection (not in settings.DATABASES), which Django's
    # test case lets through: the failure seen is the real connection error.
    wrapper = load_backend(conf["ENGINE"]).DatabaseWrapper(conf, "dead")
    connections["dead"] = wrapper
    settings.PRISMIQ = {**settings.PRISMIQ, "DATABASE": "dead"}
    try:
        yield "dead"
    finally:
        wrapper.close()
        del connections["dead"]


@pytest.fixture
def user(db: None) -> Any:
    from django.contrib.auth.models import User

    return User.objects.create_user("alice", password="pw-alice")


@pytest.fixture
def other_user(db: None) -> Any:
    from django.contrib.auth.models import User

    return User.objects.create_user("bob", password="pw-bob")


@pytest.fixture
def staff(db: None) -> Any:
    from django.contrib.auth.models import User

    return User.objects.create_user("root", password="pw-root", is_staff=True)


@pytest.fixture
def with_middleware(settings: Any) -> None:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "prismiq_django.middleware.RequestIdMiddleware"]


API = "/api/analytics/"


TENANTS = {"alice": 1, "bob": 2}


def tenant_of(request: Any) -> int | None:
    """``TENANT_CALLBACK`` of the tests: alice is tenant 1, bob tenant 2, others none."""
    return TENANTS.get(getattr(request.user, "username", ""))


@pytest.fixture
def exposed_shop(settings: Any, customers: list[Any]) -> dict[str, Any]:
    """``shop_customer`` exposed through the admin model with ``tenant_id`` as tenant column;
    result cache on, schema cache off, rate limit off (tests turn it on)."""
    from prismiq_django.models import ExposedTable

    ExposedTable.objects.create(name="shop_customer", is_exposed=True, tenant_column="tenant_id")
    settings.PRISMIQ = {
        "TENANT_CALLBACK": "tests.support.ops.tenant_of",
        "SCHEMA_CACHE_TTL": 0,
        "RESULT_CACHE_TTL": 300,
        "RATE_LIMIT": None,
    }
    return dict(settings.PRISMIQ)


def customer_query(**extra: Any) -> dict[str, Any]:
    return {
        "tables": [{"id": "c", "name": "shop_customer"}],
        "columns": [{"table_id": "c", "column": "name"}, {"table_id": "c", "column": "city"}],
        "order_by": [{"table_id": "c", "column": "name", "direction": "ASC"}],
        **extra,
    }
