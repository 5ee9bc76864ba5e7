"""The exposure filter, the catalog cache encoding, and tenant columns that are hidden."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.core.cache import caches
from django.test import override_settings

from prismiq_django import services
from prismiq_django.catalog import store
from prismiq_django.catalog.codec import catalog_from_primitive, catalog_to_primitive
from prismiq_django.catalog.exposure import (
    ColumnConfig,
    ExposureConfig,
    TableConfig,
    apply_exposure,
)
from prismiq_django.catalog.introspect import introspect
from prismiq_django.exceptions import DatabaseUnavailable
from prismiq_django.models import ExposedColumn, ExposedTable
from prismiq_django.query import Catalog, Column, Relationship, Table


def _raw() -> Catalog:
    def cols(*names: str) -> tuple[Column, ...]:
        return tuple(Column(n, "integer", "integer") for n in names)

    return Catalog.build(
        [
            Table("orders", cols("id", "customer_id", "tenant_id"), schema_name="public"),
            Table("customers", cols("id", "secret_hash"), schema_name="public"),
            Table("auth_user", cols("id", "password"), schema_name="public"),
            Table("prismiq_django_savedquery", cols("id"), schema_name="public"),
        ],
        [Relationship("orders", "customer_id", "customers", "id")],
    )


def test_settings_list_wins_and_protected_tables_are_dropped() -> None:
    raw = _raw()
    config = ExposureConfig(
        exposed_names=("orders", "auth_user", "prismiq_django_savedquery", "missing"),
        tables=(TableConfig("customers", is_exposed=True),),
    )
    assert set(apply_exposure(raw, config).tables) == {"orders"}


def test_schema_qualified_names_and_rows() -> None:
    raw = _raw()
    assert set(apply_exposure(raw, ExposureConfig(("public.orders",))).tables) == {"orders"}
    assert apply_exposure(raw, ExposureConfig(("sales.orders",))).tables == {}
    rows = (TableConfig("orders", db_schema="sales", is_exposed=True),)
    assert apply_exposure(raw, ExposureConfig(None, rows)).tables == {}
    rows = (
        TableConfig("orders", db_schema="", is_exposed=False),
        TableConfig("orders", db_schema="public", is_exposed=True, display_name="Orders"),
    )
    exposed = apply_exposure(raw, ExposureConfig(None, rows))
    assert exposed.tables["orders"].display_name == "Orders"


def test_hidden_columns_relationships_and_bad_tenant_column() -> None:
    raw = _raw()
    rows = (
        TableConfig(
            "orders", is_exposed=True, columns={"customer_id": ColumnConfig(is_hidden=True)}
        ),
        TableConfig("customers", is_exposed=True, tenant_column="nope"),
    )
    exposed = apply_exposure(raw, ExposureConfig(None, rows))
    assert set(exposed.tables) == {"orders"}  # customers: tenant column missing, fail closed
    assert exposed.tables["orders"].column_names == ("id", "tenant_id")
    assert exposed.relationships == ()


def test_primitive_round_trip() -> None:
    rows = (
        TableConfig(
            "orders",
            is_exposed=True,
            tenant_column="tenant_id",
            columns={"id": ColumnConfig(display_name="Id", format_hint="n")},
        ),
        TableConfig("customers", is_exposed=True),
    )
    catalog = apply_exposure(_raw(), ExposureConfig(None, rows))
    again = catalog_from_primitive(catalog_to_primitive(catalog))
    assert again.tables == catalog.tables
    assert again.relationships == catalog.relationships
    assert again.tables["orders"].tenant_column == "tenant_id"
    with pytest.raises((TypeError, KeyError, ValueError)):
        catalog_from_primitive({"tables": "nope", "relationships": []})


@pytest.mark.django_db
@override_settings(PRISMIQ={"EXPOSED_TABLES": ["shop_order"]})
def test_unreadable_cache_entry_is_rebuilt() -> None:
    services.get_catalog(None)
    cache = caches["default"]
    version = cache.get(services.CATALOG_VERSION_KEY)
    # The documented key layout: <prefix><version token>:<configuration hash>.
    key = f"{store.CATALOG_KEY_PREFIX}{version}:{store.configuration_key()}"
    assert cache.get(key) is not None
    cache.set(key, {"tables": [["broken"]], "relationships": []})
    store.forget_process_memo()
    assert services.table_names(None) == ["shop_order"]


@pytest.mark.django_db
@override_settings(
    PRISMIQ={"EXPOSED_TABLES": ["shop_order"], "TENANT_CALLBACK": "tests.support.tenants.tenant_of"}
)
def test_hidden_tenant_column_still_scopes_rows() -> None:
    from tests.services.test_queries import _data, _q

    _data()
    row = ExposedTable.objects.create(name="shop_order", tenant_column="tenant_id")
    ExposedColumn.objects.create(table=row, name="tenant_id", is_hidden=True)
    definition = _q("shop_order", "status")
    assert services.execute(SimpleNamespace(tenant=2), definition).rows == [["paid"]]
    assert services.execute(SimpleNamespace(tenant=1), definition).row_count == 2
    assert [
        e.code for e in services.validate(SimpleNamespace(tenant=1), _q("shop_order", "tenant_id"))
    ] == ["column_not_found"]
    with pytest.raises(Exception, match="tenant"):
        services.execute(None, definition)


def test_introspecting_an_unreachable_database(tmp_path: Any, django_db_blocker: Any) -> None:
    from django.db import connection

    from tests.support.glue import extra_alias

    if connection.vendor == "postgresql":
        overrides: dict[str, Any] = {"HOST": "127.0.0.1", "PORT": 1, "NAME": "nope"}
    else:
        overrides = {"NAME": str(tmp_path / "missing-dir" / "db.sqlite3")}
    with (
        django_db_blocker.unblock(),
        extra_alias("unreachable", overrides) as alias,
        pytest.raises(DatabaseUnavailable),
    ):
        introspect(alias)
