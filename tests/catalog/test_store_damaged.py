"""A damaged schema cache entry never fails a request: the catalog is built again instead."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from prismiq_django import services
from prismiq_django.catalog import store
from prismiq_django.catalog.codec import EncodedTables
from prismiq_django.models import ExposedColumn, ExposedTable
from prismiq_django.query import QueryValidationError, get_dialect

CACHED = {
    "EXPOSED_TABLES": None,
    "SCHEMA_CACHE_TTL": 3600,
    "RATE_LIMIT": None,
    "TENANT_CALLBACK": "tests.support.tenants.tenant_of",
}


@pytest.fixture
def client(django_user_model: Any) -> APIClient:
    user = django_user_model.objects.create_user("damage-reader")
    api = APIClient()
    api.force_authenticate(user)
    return api


def _damage(name: str, replacement: bytes | None = None) -> None:
    """Overwrite table ``name``'s line of the stored catalog (same length) and forget the memo,
    as a process that has not read the entry yet."""
    cache = caches["default"]
    version = cache.get(services.CATALOG_VERSION_KEY)
    key = f"{services.CATALOG_KEY_PREFIX}{version}:{store.configuration_key()}"
    stored = cache.get(key)
    assert isinstance(stored, bytes)
    lines = stored.split(b"\n")
    position = next(
        i for i, line in enumerate(lines[1:], 1) if line.startswith(b'["' + name.encode())
    )
    line = lines[position]
    lines[position] = replacement if replacement is not None else b"x" * len(line)
    assert len(lines[position]) == len(line)
    cache.set(key, b"\n".join(lines), 3600)
    store.forget_process_memo()


def _expose() -> None:
    ExposedTable.objects.create(name="shop_order", is_exposed=True, tenant_column="tenant_id")
    customer = ExposedTable.objects.create(name="shop_customer", is_exposed=True)
    ExposedColumn.objects.create(table=customer, name="email", is_hidden=True)
    ExposedTable.objects.create(name="shop_product", is_exposed=True)


@pytest.mark.django_db
@override_settings(PRISMIQ=CACHED)
@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get("/api/analytics/tables/shop_customer"),
        lambda c: c.get("/api/analytics/schema"),
        lambda c: c.get("/api/analytics/tables/shop_customer/columns/city/values"),
        lambda c: c.post(
            "/api/analytics/query/execute",
            {
                "query": {
                    "tables": [{"id": "c", "name": "shop_customer"}],
                    "columns": [{"table_id": "c", "column": "city"}],
                }
            },
            format="json",
        ),
    ],
)
def test_a_damaged_table_line_is_rebuilt_not_a_500(client: APIClient, call: Any) -> None:
    _expose()
    assert client.get("/api/analytics/tables").status_code == 200  # stored
    _damage("shop_customer")
    response = call(client)
    assert response.status_code == 200, response.content
    assert b"email" not in response.content


@pytest.mark.django_db
@override_settings(PRISMIQ=CACHED)
def test_a_damaged_tenant_table_keeps_its_row_scope_and_the_entry_is_replaced(
    client: APIClient,
) -> None:
    _expose()
    services.exposed_catalog()  # stored
    _damage("shop_order")
    query = {
        "tables": [{"id": "o", "name": "shop_order"}],
        "columns": [{"table_id": "o", "column": "tenant_id"}],
        "group_by": [{"table_id": "o", "column": "tenant_id"}],
    }
    with pytest.raises(QueryValidationError, match="tenant"):
        services.execute(None, query)  # no tenant: refused (fail closed)
    sql = services.to_sql(SimpleNamespace(tenant=1), query).sql
    assert f"{get_dialect(connection.vendor).quote('tenant_id')} = " in sql
    tables = services.exposed_catalog().tables
    assert isinstance(tables, EncodedTables)
    assert tables["shop_order"].tenant_column == "tenant_id"
    # The damaged entry was written over: the next process decodes every line.
    store.forget_process_memo()
    again = services.exposed_catalog()
    assert isinstance(again.tables, EncodedTables)
    assert again.tables.has_fallback
    assert all(again.tables[name].name == name for name in again.tables)
    assert not again.tables.rebuilt
    assert again.tables["shop_customer"].column("email") is None


def test_a_table_missing_from_the_catalog_built_instead_is_absent() -> None:
    from prismiq_django.catalog.codec import catalog_from_bytes, catalog_to_bytes
    from prismiq_django.query.catalog import Catalog, Column, Table

    a = Table("a", (Column("id", "integer", "integer"),))
    b = Table("b", (Column("id", "integer", "integer"),))
    index, line_a, line_b = catalog_to_bytes(Catalog.build([a, b])).split(b"\n")
    damaged = b"\n".join([index, line_a, b"x" * len(line_b)])
    built = {"calls": 0}

    def rebuild() -> Catalog:
        built["calls"] += 1
        return Catalog.build([a])  # b is gone in the catalog built instead

    lazy = catalog_from_bytes(damaged, rebuild)
    assert lazy.table("b") is None
    assert lazy.table("b") is None
    assert lazy.table("a") == a
    with pytest.raises(KeyError):
        lazy.tables["b"]
    assert built["calls"] == 1
    with_b = catalog_from_bytes(damaged, lambda: Catalog.build([a, b]))
    assert with_b.table("b") == b


def test_threads_meeting_a_damaged_line_build_the_catalog_once() -> None:
    import threading

    from prismiq_django.catalog.codec import catalog_from_bytes, catalog_to_bytes
    from prismiq_django.query.catalog import Catalog, Column, Table

    tables = [Table(f"t{i}", (Column("id", "integer", "integer"),)) for i in range(8)]
    index, *lines = catalog_to_bytes(Catalog.build(tables)).split(b"\n")
    damaged = b"\n".join([index, *(b"[" * len(line) for line in lines)])
    for _ in range(5):
        calls: list[int] = []
        barrier = threading.Barrier(4)

        def rebuild(calls: list[int] = calls) -> Catalog:
            calls.append(1)
            return Catalog.build(tables)

        lazy = catalog_from_bytes(damaged, rebuild)
        seen: list[list[Table]] = []

        def read(
            barrier: threading.Barrier = barrier,
            lazy: Catalog = lazy,
            seen: list[list[Table]] = seen,
        ) -> None:
            barrier.wait()
            seen.append([lazy.tables[t.name] for t in tables])

        threads = [threading.Thread(target=read) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(calls) == 1
        assert len(seen) == 4
        assert all(row == tables for row in seen)
        assert all(row[i] is seen[0][i] for row in seen for i in range(len(tables)))


@pytest.mark.django_db
@override_settings(PRISMIQ=CACHED)
def test_a_damaged_table_gone_from_the_rebuilt_catalog_is_left_out_of_the_schema(
    client: APIClient,
) -> None:
    _expose()
    assert client.get("/api/analytics/tables").status_code == 200  # stored
    _damage("shop_customer")
    # Changed without a new token (as between a commit and its on_commit renewal).
    ExposedTable.objects.filter(name="shop_customer").update(is_exposed=False)
    response = client.get("/api/analytics/schema")
    assert response.status_code == 200, response.content
    assert [t["name"] for t in response.json()["tables"]] == ["shop_order", "shop_product"]
    assert client.get("/api/analytics/tables/shop_customer").status_code == 404
    assert services.schema(None)["tables"] == response.json()["tables"]
