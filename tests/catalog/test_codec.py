"""The schema cache's stored forms: a versioned catalog encoding and the rendered schema body."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from django.core.cache import caches
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from prismiq_django import services
from prismiq_django.catalog import store
from prismiq_django.catalog.codec import (
    CATALOG_FORMAT,
    catalog_from_bytes,
    catalog_to_bytes,
    catalog_to_primitive,
)
from prismiq_django.models import ExposedColumn, ExposedTable
from prismiq_django.services import catalog as schema_services

SHOP = ["shop_customer", "shop_product", "shop_order", "shop_orderitem"]
CACHED = {"EXPOSED_TABLES": SHOP, "SCHEMA_CACHE_TTL": 3600, "RATE_LIMIT": None}


@pytest.fixture
def client(django_user_model: Any) -> APIClient:
    user = django_user_model.objects.create_user("schema-reader")
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_catalog_bytes_round_trip_and_refuse_other_shapes(db: None) -> None:
    with override_settings(PRISMIQ=CACHED):
        catalog = services.exposed_catalog()
    again = catalog_from_bytes(catalog_to_bytes(catalog))
    assert again.tables == catalog.tables
    assert again.relationships == catalog.relationships
    for bad in (catalog_to_primitive(catalog), b"[1, 2]", b"{}", b"not json", None):
        with pytest.raises((TypeError, ValueError, KeyError)):
            catalog_from_bytes(bad)


@pytest.mark.django_db
@override_settings(PRISMIQ=CACHED)
def test_an_entry_of_another_format_is_never_read() -> None:
    """A cached catalog written by a release with another layout (here the previous one: the
    primitive dict, pickled, under ``prismiq:catalog:<version>:<config>``) must not be misread
    as the current catalog after an upgrade: the format is part of the key."""
    cache = caches["default"]
    services.exposed_catalog()
    version = cache.get(services.CATALOG_VERSION_KEY)
    config_key = store.configuration_key()
    assert services.CATALOG_KEY_PREFIX == f"prismiq:catalog:f{CATALOG_FORMAT}:"
    assert cache.get(f"{services.CATALOG_KEY_PREFIX}{version}:{config_key}") is not None
    stale = {"tables": [["ghost", None, None, None, 1, "table", None, []]], "relationships": []}
    cache.set(f"prismiq:catalog:{version}:{config_key}", stale, 3600)
    cache.set(f"prismiq:catalog:f{CATALOG_FORMAT + 1}:{version}:{config_key}", b"{}", 3600)
    store.forget_process_memo()  # another process, same version token
    assert services.table_names(None) == sorted(SHOP)


@pytest.mark.django_db
@override_settings(PRISMIQ=CACHED)
def test_schema_body_is_rendered_once_per_catalog_version(client: APIClient) -> None:
    first = client.get("/api/analytics/schema")
    assert first.status_code == 200
    assert first["Content-Type"] == "application/json"
    assert first.json() == services.schema(None)
    assert first.content == orjson.dumps(services.schema(None))
    with CaptureQueriesContext(connection) as captured:
        again = client.get("/api/analytics/schema")
    assert again.content == first.content
    assert [q["sql"] for q in captured.captured_queries if "prismiq" in q["sql"]] == []
    assert not any("pg_catalog" in q["sql"] for q in captured.captured_queries)

    # Another process with an empty memo serves the stored body without building a catalog.
    store.forget_process_memo()
    assert services.schema_json(None) == first.content
    memo = next(iter(store.process_memos().values()))
    assert memo.schema == first.content
    assert memo.catalog is None


@pytest.mark.django_db
def test_a_stale_memo_of_the_body_follows_the_version_token(client: APIClient) -> None:
    """What another process holds (its memo) is dropped as soon as the token moves."""
    with override_settings(PRISMIQ={**CACHED, "EXPOSED_TABLES": None}):
        row = ExposedTable.objects.create(name="shop_customer", is_exposed=True)
        before = client.get("/api/analytics/schema").json()
        assert [t["name"] for t in before["tables"]] == ["shop_customer"]
        stale = store.process_memos()
        ExposedColumn.objects.create(table=row, name="email", is_hidden=True)  # new token
        store.restore_process_memos(stale)  # as if this process had not seen the change itself
        after = client.get("/api/analytics/schema").json()
        columns = [c["name"] for c in after["tables"][0]["columns"]]
        assert "email" not in columns
        assert "city" in columns


@pytest.mark.django_db
def test_schema_body_is_the_same_for_every_tenant(client: APIClient) -> None:
    """Row scopes restrict rows, not the schema: one body can serve every caller."""
    settings = {
        **CACHED,
        "EXPOSED_TABLES": None,
        "TENANT_CALLBACK": "tests.support.tenants.tenant_of",
    }
    with override_settings(PRISMIQ={**settings, "SCHEMA_CACHE_TTL": 0}):
        ExposedTable.objects.create(name="shop_order", is_exposed=True, tenant_column="tenant_id")
        ExposedTable.objects.create(name="shop_customer", is_exposed=True)
        services.invalidate_catalog()
        bodies = {services.schema_json(SimpleNamespace(tenant=t)) for t in (1, 2, None)}
        assert len(bodies) == 1
        dicts = [services.schema(SimpleNamespace(tenant=t)) for t in (1, 2, None)]
        assert all(orjson.dumps(d) == next(iter(bodies)) for d in dicts)
        order = next(t for t in dicts[0]["tables"] if t["name"] == "shop_order")
        assert order["row_count"] is None  # hidden for tenant tables, whoever asks


@pytest.mark.django_db
def test_schema_cache_ttl_zero_renders_every_time(client: APIClient) -> None:
    with override_settings(PRISMIQ={**CACHED, "SCHEMA_CACHE_TTL": 0}):
        client.get("/api/analytics/schema")
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/analytics/schema").status_code == 200
        assert captured.captured_queries
        assert store.process_memos() == {}


@pytest.mark.django_db
def test_blank_column_rows_change_nothing_and_others_apply() -> None:
    from prismiq_django.catalog.exposure import load_exposure

    row = ExposedTable.objects.create(name="shop_customer", is_exposed=True)
    ExposedColumn.objects.create(table=row, name="name")  # what "Sync from database" creates
    ExposedColumn.objects.create(table=row, name="city", format_hint="upper")
    ExposedColumn.objects.create(table=row, name="country", display_name="Country")
    ExposedColumn.objects.create(table=row, name="email", description="Contact")
    ExposedColumn.objects.create(table=row, name="api_token", is_hidden=True)
    config = load_exposure(None)
    assert set(config.tables[0].columns) == {"city", "country", "email", "api_token"}
    with override_settings(PRISMIQ={"EXPOSED_TABLES": None, "SCHEMA_CACHE_TTL": 0}):
        table = services.table_schema(None, "shop_customer")
    columns = {c["name"]: c for c in table["columns"]}
    assert "api_token" not in columns
    assert columns["name"]["display_name"] == "name"
    assert columns["city"]["format_hint"] == "upper"
    assert columns["country"]["display_name"] == "Country"
    assert columns["email"]["description"] == "Contact"


def _encoded_at_once(catalog: Any) -> bytes:
    """The catalog entry written out in one go: an index line, then one line per table."""
    primitive = catalog_to_primitive(catalog)
    tables = primitive["tables"]
    lines = [orjson.dumps(t) for t in tables]
    index = {
        "tables": [[t[0], t[6], len(line)] for t, line in zip(tables, lines, strict=True)],
        "relationships": primitive["relationships"],
    }
    return b"\n".join([orjson.dumps(index), *lines])


@pytest.mark.django_db
def test_encodings_reuse_unchanged_tables_byte_for_byte(
    drop_added_column: Callable[[str, str], None],
) -> None:
    """The catalog entry and the schema body are joined from per-table parts kept from the last
    call; whatever is reused, the bytes are those of encoding the whole document at once."""
    from prismiq_django.catalog.codec import catalog_from_bytes

    with override_settings(PRISMIQ={**CACHED, "SCHEMA_CACHE_TTL": 0}):
        first = services.exposed_catalog()
        body = schema_services.render_schema(first)
        assert body == orjson.dumps(services.schema(None))
        assert catalog_to_bytes(first) == _encoded_at_once(first)
        drop_added_column("shop_product", "glue_extra")
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE shop_product ADD COLUMN glue_extra integer")
        second = services.exposed_catalog()
    if connection.vendor == "postgresql":  # PostgreSQL rebuilds share unchanged tables
        assert second.tables["shop_order"] is first.tables["shop_order"]
        assert second.tables["shop_product"] is not first.tables["shop_product"]
    assert "glue_extra" in second.tables["shop_product"].column_names
    for catalog in (second, first, second):
        encoded = catalog_to_bytes(catalog)
        assert encoded == _encoded_at_once(catalog)
        assert catalog_from_bytes(encoded).tables == catalog.tables
        rendered = schema_services.render_schema(catalog)
        expected = {
            "tables": [services.table_dict(catalog.tables[n]) for n in sorted(catalog.tables)],
            "relationships": [
                {
                    "from_table": r.from_table,
                    "from_column": r.from_column,
                    "to_table": r.to_table,
                    "to_column": r.to_column,
                }
                for r in catalog.relationships
            ],
        }
        assert rendered == orjson.dumps(expected)


@pytest.mark.django_db
@override_settings(PRISMIQ=CACHED)
def test_cache_writes_can_be_deferred() -> None:
    """With ``defer`` the encoding and writing of both entries are handed over as jobs; until
    they run another process finds nothing, afterwards it reads the body without a query."""
    jobs: list[Any] = []
    body = services.schema_json(None, defer=jobs.append)
    assert len(jobs) == 2  # the catalog, then the body
    assert services.schema_json(None, defer=jobs.append) == body  # this process: from the memo
    assert len(jobs) == 2
    cache = caches["default"]
    version = cache.get(services.CATALOG_VERSION_KEY)
    config_key = store.configuration_key()
    schema_key = f"{services.SCHEMA_KEY_PREFIX}{version}:{config_key}"
    catalog_key = f"{services.CATALOG_KEY_PREFIX}{version}:{config_key}"
    assert cache.get(schema_key) is None
    assert cache.get(catalog_key) is None
    for job in jobs:
        job()
    assert cache.get(schema_key) == body
    assert catalog_from_bytes(cache.get(catalog_key)).tables == services.exposed_catalog().tables
    store.forget_process_memo()  # another process
    with CaptureQueriesContext(connection) as captured:
        assert services.schema_json(None) == body
    assert captured.captured_queries == []
