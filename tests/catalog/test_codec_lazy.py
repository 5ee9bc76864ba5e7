"""A catalog read from the schema cache decodes each table when first used, yet is the catalog.

What a worker with an empty memo gets (``catalog_from_bytes``) must equal what a build gives:
hidden and protected columns absent, display names, tenant columns and relationships kept, row
scopes the same; and it must stay correct across threads and invalidations.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

import orjson
import pytest
from django.test import override_settings

from prismiq_django import services
from prismiq_django.catalog import store
from prismiq_django.catalog.codec import (
    EncodedTables,
    catalog_from_bytes,
    catalog_from_primitive,
    catalog_to_bytes,
    catalog_to_primitive,
    tenant_columns,
)
from prismiq_django.models import ExposedColumn, ExposedTable
from prismiq_django.query.catalog import Catalog, Column, Table
from prismiq_django.services import catalog as schema_services

CACHED = {
    "EXPOSED_TABLES": None,
    "SCHEMA_CACHE_TTL": 3600,
    "RATE_LIMIT": None,
    "TENANT_CALLBACK": "tests.support.tenants.tenant_of",
}


def _expose() -> None:
    """Exposure rows touching every kind of metadata the encoding carries."""
    order = ExposedTable.objects.create(
        name="shop_order", is_exposed=True, tenant_column="tenant_id", display_name="Orders"
    )
    ExposedColumn.objects.create(table=order, name="status", format_hint="upper")
    customer = ExposedTable.objects.create(
        name="shop_customer", is_exposed=True, tenant_column="tenant_id"
    )
    ExposedColumn.objects.create(table=customer, name="api_token", is_hidden=True)
    ExposedColumn.objects.create(table=customer, name="email", display_name="E-mail")
    ExposedTable.objects.create(name="shop_product", is_exposed=True, description="Things")
    ExposedTable.objects.create(name="shop_orderitem", is_exposed=True)
    ExposedTable.objects.create(name="shop_tag", is_exposed=False)
    ExposedTable.objects.create(name="auth_user", is_exposed=True)  # protected: never exposed


def _lazy(catalog: Catalog) -> Catalog:
    lazy = catalog_from_bytes(catalog_to_bytes(catalog))
    assert isinstance(lazy.tables, EncodedTables)
    return lazy


def _decoded(catalog: Catalog) -> frozenset[str]:
    assert isinstance(catalog.tables, EncodedTables)
    return catalog.tables.decoded_names


@pytest.mark.django_db
def test_lazy_decoding_gives_the_built_and_the_eager_catalog() -> None:
    with override_settings(PRISMIQ={**CACHED, "SCHEMA_CACHE_TTL": 0}):
        _expose()
        built = services.exposed_catalog()
    eager = catalog_from_primitive(catalog_to_primitive(built))
    lazy = _lazy(built)
    assert _decoded(lazy) == set()
    assert list(lazy.tables) == list(built.tables) == list(eager.tables)
    assert len(lazy.tables) == len(built.tables) == 4
    assert "shop_order" in lazy.tables
    assert "auth_user" not in lazy.tables
    assert "shop_tag" not in lazy.tables
    assert lazy.table("auth_user") is None
    assert lazy.table("nope") is None
    with pytest.raises(KeyError):
        lazy.tables["nope"]
    assert _decoded(lazy) == set()
    assert lazy.relationships == built.relationships == eager.relationships
    assert built.relationships  # the shop's foreign keys between exposed tables
    assert tenant_columns(lazy) == tenant_columns(built) == tenant_columns(eager)
    assert dict(tenant_columns(lazy)) == {"shop_order": "tenant_id", "shop_customer": "tenant_id"}
    assert _decoded(lazy) == set()  # all from the index

    customer = lazy.table("shop_customer")
    assert customer is not None
    assert customer == built.tables["shop_customer"]
    assert customer.column("api_token") is None  # hidden
    email = customer.column("email")
    assert email is not None
    assert email.display_name == "E-mail"
    assert lazy.table("shop_customer") is customer  # decoded once, then kept
    assert _decoded(lazy) == {"shop_customer"}
    order = lazy.tables["shop_order"]
    assert order.display_name == "Orders"
    assert order.tenant_column == "tenant_id"
    status = order.column("status")
    assert status is not None
    assert status.format_hint == "upper"

    for other in (built, eager):
        assert lazy == other
        assert other == lazy
        assert lazy.tables == other.tables
        assert other.tables == lazy.tables
        assert dict(lazy.tables.items()) == dict(other.tables.items())
    assert schema_services.render_schema(lazy) == schema_services.render_schema(built)
    assert catalog_to_bytes(lazy) == catalog_to_bytes(built)


@pytest.mark.django_db
def test_row_scopes_of_a_lazy_catalog_are_those_of_the_built_one() -> None:
    request = SimpleNamespace(tenant=[1, 2])
    with override_settings(PRISMIQ={**CACHED, "SCHEMA_CACHE_TTL": 0}):
        _expose()
        built = services.exposed_catalog()
        lazy = _lazy(built)
        scopes = services.get_row_scopes(request, lazy)
        assert _decoded(lazy) == set()
        assert scopes == services.get_row_scopes(request, built)
        assert {(s.table, s.column, s.values) for s in scopes} == {
            ("shop_order", "tenant_id", (1, 2)),
            ("shop_customer", "tenant_id", (1, 2)),
        }
        assert services.get_row_scopes(None, lazy) == []
    with override_settings(PRISMIQ=CACHED):
        services.exposed_catalog()  # built here, stored in the cache
        store.forget_process_memo()  # another worker: reads the cached entry
        scoped = services.get_catalog(request)
        assert isinstance(scoped.tables, EncodedTables)
        assert scoped.row_scopes == built.with_row_scopes(scopes).row_scopes
        assert scoped.tables == built.tables


@pytest.mark.django_db
def test_a_fresh_worker_decodes_only_the_tables_a_query_names() -> None:
    with override_settings(PRISMIQ=CACHED):
        _expose()
        services.exposed_catalog()
        store.forget_process_memo()  # another worker, same version token
        definition = {
            "tables": [
                {"id": "o", "name": "shop_order"},
                {"id": "c", "name": "shop_customer"},
            ],
            "joins": [
                {
                    "from_table_id": "o",
                    "from_column": "customer_id",
                    "to_table_id": "c",
                    "to_column": "id",
                }
            ],
            "columns": [{"table_id": "c", "column": "name"}],
        }
        result = services.execute(SimpleNamespace(tenant=1), definition)
        assert result.rows == []
        tables = services.exposed_catalog().tables
        assert isinstance(tables, EncodedTables)
        assert tables.decoded_names == {"shop_customer", "shop_order"}


@pytest.mark.django_db
def test_an_invalidation_reaches_a_worker_holding_a_lazy_catalog() -> None:
    with override_settings(PRISMIQ=CACHED):
        _expose()
        services.exposed_catalog()
        store.forget_process_memo()
        lazy = services.get_catalog(None)
        assert isinstance(lazy.tables, EncodedTables)
        customer = lazy.table("shop_customer")
        assert customer is not None
        assert customer.column("city") is not None
        stale = store.process_memos()
        row = ExposedTable.objects.get(name="shop_customer")
        ExposedColumn.objects.create(table=row, name="city", is_hidden=True)  # new token
        store.restore_process_memos(stale)  # as if this worker had not seen the change itself
        fresh = services.get_catalog(None)
        assert fresh is not lazy
        customer = fresh.table("shop_customer")
        assert customer is not None
        assert customer.column("city") is None
        ExposedTable.objects.filter(name="shop_product").update(is_exposed=False)
        services.invalidate_catalog()
        assert "shop_product" not in services.get_catalog(None).tables


def test_threads_decoding_at_once_share_one_table() -> None:
    tables = [
        Table(f"t{i}", tuple(Column(f"c{j}", "integer", "integer") for j in range(50)))
        for i in range(20)
    ]
    encoded = catalog_to_bytes(Catalog.build(tables))
    for _ in range(5):
        lazy = catalog_from_bytes(encoded)
        barrier = threading.Barrier(6)
        seen: list[list[Table]] = []

        def read(
            catalog: Catalog = lazy,
            barrier: threading.Barrier = barrier,
            seen: list[list[Table]] = seen,
        ) -> None:
            barrier.wait()
            seen.append([catalog.tables[t.name] for t in tables])

        threads = [threading.Thread(target=read) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(seen) == 6
        for i, table in enumerate(tables):
            assert all(row[i] is seen[0][i] for row in seen)
            assert seen[0][i] == table


@pytest.mark.parametrize(
    "bad",
    [
        # The previous format (one JSON document): refused, not misread.
        orjson.dumps(
            {"tables": [["t", None, None, None, 1, "table", None, []]], "relationships": []}
        ),
        b'{"tables": [["t", null, 2]], "relationships": []}',  # a table without its line
        b'{"tables": [["t", null, 2]], "relationships": []}\n[]\n[]',  # a line too many
        b'{"tables": [], "relationships": []}\n[]',  # a line without its table
        b'{"tables": [["t", null, 3]], "relationships": []}\n[]',  # the line's length is not 3
        b'{"tables": [["t", null, 2], ["t", null, 2]], "relationships": []}\n[]\n[]',  # twice
        b'{"tables": [["t", 1, 2]], "relationships": []}\n[]',  # tenant column not a string
        b'{"tables": [["t", null]], "relationships": []}\n[]',  # no length
        b'{"tables": [["t", null, 2]], "relationships": [["a"]]}\n[]',
        b'{"tables": []}',
        b"[]\n",
    ],
)
def test_malformed_entries_are_refused_when_read(bad: bytes) -> None:
    with pytest.raises((TypeError, ValueError, KeyError)):
        catalog_from_bytes(bad)


def test_a_damaged_table_line_fails_when_that_table_is_used() -> None:
    good = Table("a", (Column("id", "integer", "integer"),))
    other = Table("b", (Column("id", "integer", "integer"),))
    index, line_a, line_b = catalog_to_bytes(Catalog.build([good, other])).split(b"\n")
    assert catalog_from_bytes(b"\n".join([index, line_a, line_b])).tables["b"] == other
    lazy = catalog_from_bytes(b"\n".join([index, line_a, b"x" * len(line_b)]))
    assert lazy.tables["a"] == good
    with pytest.raises(ValueError):
        lazy.tables["b"]
    swapped = catalog_from_bytes(b"\n".join([index, line_b, line_a]))
    with pytest.raises(ValueError):
        swapped.tables["a"]  # a line in another table's place
