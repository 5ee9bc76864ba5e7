"""Services end to end on real SQLite/PostgreSQL: exposure, hidden columns, tenants, caching."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from example_project.shop.models import Customer, Order, Product
from prismiq_django import services
from prismiq_django.catalog import store
from prismiq_django.exceptions import ObjectNotFound
from prismiq_django.models import ExposedColumn, ExposedTable
from prismiq_django.query import QueryValidationError

SHOP = ["shop_customer", "shop_product", "shop_order", "shop_orderitem"]
CODE_ONLY = {"EXPOSED_TABLES": SHOP}
SKU = UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")


def _data() -> None:
    ada = Customer.objects.create(
        tenant_id=1,
        name="Ada",
        email="ada@x",
        city="Paris",
        country="FR",
        created_at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        api_token="s3cr3t",
    )
    bob = Customer.objects.create(
        tenant_id=2,
        name="Bob",
        email="bob@x",
        city="Oslo",
        country="NO",
        is_active=False,
        created_at=datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC),
        api_token="hunter2",
    )
    Product.objects.create(
        tenant_id=1,
        name="Lamp",
        category="home",
        price=Decimal("19.99"),
        sku=SKU,
        attributes={"color": "red"},
    )
    Order.objects.create(
        tenant_id=1,
        customer=ada,
        status="paid",
        total=Decimal("10.50"),
        ordered_at=datetime(2024, 3, 1, 10, tzinfo=UTC),
        shipped_on=date(2024, 3, 2),
    )
    Order.objects.create(
        tenant_id=1,
        customer=ada,
        status="pending",
        total=Decimal("5.25"),
        ordered_at=datetime(2024, 3, 1, 12, tzinfo=UTC),
    )
    Order.objects.create(
        tenant_id=2,
        customer=bob,
        status="paid",
        total=Decimal("7"),
        ordered_at=datetime(2024, 4, 1, tzinfo=UTC),
    )


def _q(table: str, *columns: str, **extra: Any) -> dict[str, Any]:
    return {
        "tables": [{"id": "t", "name": table}],
        "columns": [{"table_id": "t", "column": c} for c in columns],
        **extra,
    }


@pytest.mark.django_db
def test_nothing_is_exposed_by_default() -> None:
    _data()
    assert services.table_names(None) == []
    assert services.schema(None) == {"tables": [], "relationships": []}
    with pytest.raises(ObjectNotFound):
        services.table_schema(None, "shop_customer")
    errors = services.validate(None, _q("shop_customer", "name"))
    assert [e.code for e in errors] == ["table_not_found"]


@pytest.mark.django_db
@override_settings(PRISMIQ=CODE_ONLY)
def test_code_only_exposure_and_schema_shape() -> None:
    assert services.table_names(None) == sorted(SHOP)
    table = services.table_schema(None, "shop_order")
    assert table["name"] == "shop_order"
    assert table["display_name"] == "shop_order"
    columns = {c["name"]: c for c in table["columns"]}
    assert set(columns["total"]) == {
        "name",
        "data_type",
        "type",
        "is_nullable",
        "is_primary_key",
        "default_value",
        "display_name",
        "description",
        "format_hint",
    }
    assert columns["total"]["type"] == "decimal"
    assert columns["ordered_at"]["type"] == "datetime"
    assert columns["shipped_on"]["is_nullable"] is True
    assert columns["id"]["is_primary_key"] is True
    rels = services.schema(None)["relationships"]
    assert {
        "from_table": "shop_order",
        "from_column": "customer_id",
        "to_table": "shop_customer",
        "to_column": "id",
    } in rels


PROTECTED = [
    "auth_user",
    "django_session",
    "prismiq_django_exposedtable",
    "django_migrations",
    "auth_permission",
    "django_content_type",
    "django_admin_log",
]


@pytest.mark.django_db
def test_protected_tables_never_exposed_by_settings_or_rows() -> None:
    with override_settings(PRISMIQ={"EXPOSED_TABLES": [*PROTECTED, "shop_order"]}):
        assert services.table_names(None) == ["shop_order"]
        errors = services.validate(None, _q("auth_user", "password"))
        assert [e.code for e in errors] == ["table_not_found"]
    services.invalidate_catalog()
    for name in PROTECTED:  # rows written around the admin's validation
        ExposedTable.objects.create(name=name, is_exposed=True)
    assert services.table_names(None) == []


@pytest.mark.django_db
def test_the_sites_protected_tables_leave_the_cached_catalog() -> None:
    """``PROTECTED_TABLES`` is honoured at run time, and setting it renews the cached catalog
    (the schema cache is on: the same EXPOSED_TABLES served before from the memo)."""
    with override_settings(PRISMIQ=CODE_ONLY):
        assert services.table_names(None) == sorted(SHOP)
    with override_settings(PRISMIQ={**CODE_ONLY, "PROTECTED_TABLES": ["shop_order*"]}):
        assert services.table_names(None) == ["shop_customer", "shop_product"]
        errors = services.validate(None, _q("shop_order", "total"))
        assert [e.code for e in errors] == ["table_not_found"]
    with override_settings(PRISMIQ=CODE_ONLY):
        assert services.table_names(None) == sorted(SHOP)


@pytest.mark.django_db
def test_exposed_rows_hidden_columns_and_metadata() -> None:
    _data()
    customer = ExposedTable.objects.create(
        name="shop_customer", is_exposed=True, display_name="Customers", description="People"
    )
    ExposedColumn.objects.create(table=customer, name="api_token", is_hidden=True)
    ExposedColumn.objects.create(
        table=customer, name="email", display_name="E-mail", format_hint="email"
    )
    ExposedTable.objects.create(name="shop_order", is_exposed=False)
    assert services.table_names(None) == ["shop_customer"]
    table = services.table_schema(None, "shop_customer")
    assert table["display_name"] == "Customers"
    assert table["description"] == "People"
    columns = {c["name"]: c for c in table["columns"]}
    assert "api_token" not in columns
    assert columns["email"]["display_name"] == "E-mail"
    assert columns["email"]["format_hint"] == "email"


def _hidden_uses() -> list[tuple[str, dict[str, Any]]]:
    ref = {"table_id": "t", "column": "api_token"}
    return [
        ("select", _q("shop_customer", "api_token")),
        (
            "count",
            _q("shop_customer", "name")
            | {"columns": [{"table_id": "t", "column": "api_token", "aggregation": "count"}]},
        ),
        (
            "filter",
            _q("shop_customer", "name", filters=[{**ref, "operator": "eq", "value": "s3cr3t"}]),
        ),
        (
            "filter_like",
            _q("shop_customer", "name", filters=[{**ref, "operator": "starts_with", "value": "s"}]),
        ),
        (
            "filter_nested",
            _q(
                "shop_customer",
                "name",
                filters=[{"any": [{"not": {**ref, "operator": "is_null", "value": None}}]}],
            ),
        ),
        ("group", _q("shop_customer", "name", group_by=[ref])),
        ("sort", _q("shop_customer", "name", order_by=[{**ref, "direction": "ASC"}])),
        (
            "having",
            _q(
                "shop_customer",
                "name",
                filters=[{**ref, "aggregation": "count_distinct", "operator": "gt", "value": 0}],
            ),
        ),
    ]


@pytest.mark.django_db
def test_hidden_column_cannot_be_used_anywhere() -> None:
    _data()
    customer = ExposedTable.objects.create(name="shop_customer", is_exposed=True)
    ExposedColumn.objects.create(table=customer, name="api_token", is_hidden=True)
    for label, definition in _hidden_uses():
        errors = services.validate(None, definition)
        assert [e.code for e in errors] == ["column_not_found"], label
        with pytest.raises(QueryValidationError):
            services.execute(None, definition)
        with pytest.raises(QueryValidationError):
            services.to_sql(None, definition)
    with pytest.raises(ObjectNotFound):
        services.column_values(None, "shop_customer", "api_token")
    # Unhiding it (through the model, as the admin does) makes it usable again at once.
    ExposedColumn.objects.filter(name="api_token").get().delete()
    assert services.column_values(None, "shop_customer", "api_token") == ["hunter2", "s3cr3t"]


@pytest.mark.django_db
@override_settings(PRISMIQ=CODE_ONLY)
def test_execute_types_and_values_through_the_services() -> None:
    _data()
    definition = {
        "tables": [{"id": "o", "name": "shop_order"}, {"id": "c", "name": "shop_customer"}],
        "joins": [
            {
                "from_table_id": "o",
                "from_column": "customer_id",
                "to_table_id": "c",
                "to_column": "id",
            }
        ],
        "columns": [
            {"table_id": "c", "column": "name"},
            {"table_id": "c", "column": "is_active"},
            {"table_id": "o", "column": "total", "aggregation": "sum", "alias": "revenue"},
            {"table_id": "o", "column": "id", "aggregation": "count", "alias": "orders"},
            {"table_id": "o", "column": "ordered_at", "aggregation": "max", "alias": "last"},
            {"table_id": "o", "column": "shipped_on", "aggregation": "min", "alias": "shipped"},
        ],
        "order_by": [{"alias": "revenue", "direction": "DESC"}],
    }
    result = services.execute(None, definition)
    assert result.columns == ["name", "is_active", "revenue", "orders", "last", "shipped"]
    assert result.column_types == ["string", "boolean", "decimal", "integer", "datetime", "date"]
    assert result.rows == [
        ["Ada", True, 15.75, 2, "2024-03-01T12:00:00+00:00", "2024-03-02"],
        ["Bob", False, 7, 1, "2024-04-01T00:00:00+00:00", None],
    ]
    assert result.truncated is False
    products = services.execute(None, _q("shop_product", "price", "sku", "attributes"))
    assert products.column_types[:1] == ["decimal"]
    assert products.rows[0][0] == 19.99
    assert products.rows[0][2] == {"color": "red"}
    if connection.vendor == "postgresql":
        assert products.column_types == ["decimal", "uuid", "json"]
        assert products.rows[0][1] == str(SKU)
    empty = services.execute(
        None,
        _q(
            "shop_order",
            "total",
            "ordered_at",
            filters=[{"table_id": "t", "column": "status", "operator": "eq", "value": "nope"}],
        ),
    )
    assert empty.rows == []
    assert empty.columns == ["total", "ordered_at"]
    assert empty.column_types == ["decimal", "datetime"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("max_rows", "truncated", "returned"), [(2, True, 2), (3, False, 3), (4, False, 3)]
)
def test_truncated_against_max_rows(max_rows: int, truncated: bool, returned: int) -> None:
    _data()
    with override_settings(PRISMIQ={**CODE_ONLY, "MAX_ROWS": max_rows}):
        result = services.execute(
            None,
            _q(
                "shop_order", "id", order_by=[{"table_id": "t", "column": "id", "direction": "ASC"}]
            ),
        )
    assert result.truncated is truncated
    assert result.row_count == returned


@pytest.mark.django_db
@override_settings(PRISMIQ=CODE_ONLY)
def test_requested_limit_truncation_and_preview() -> None:
    _data()
    base = _q("shop_order", "id", order_by=[{"table_id": "t", "column": "id", "direction": "ASC"}])
    assert services.execute(None, {**base, "limit": 2}).truncated is True
    assert services.execute(None, {**base, "limit": 3}).truncated is False
    preview = services.preview(None, base, limit=1)
    assert preview.row_count == 1
    assert preview.truncated is True
    assert services.preview(None, {**base, "limit": 2}, limit=100).row_count == 2
    with pytest.raises(QueryValidationError):
        services.preview(None, base, limit=-1)


@pytest.mark.django_db
@override_settings(PRISMIQ={**CODE_ONLY, "TENANT_CALLBACK": "tests.support.tenants.tenant_of"})
def test_tenant_scopes_and_fail_closed() -> None:
    _data()
    ExposedTable.objects.create(name="shop_order", is_exposed=False, tenant_column="tenant_id")
    definition = _q(
        "shop_order",
        "status",
        "total",
        order_by=[{"table_id": "t", "column": "total", "direction": "ASC"}],
    )
    with pytest.raises(QueryValidationError) as info:
        services.execute(None, definition)
    assert [e.code for e in info.value.errors] == ["invalid_definition"]
    assert [e.code for e in services.validate(SimpleNamespace(), definition)] == [
        "invalid_definition"
    ]
    one = services.execute(SimpleNamespace(tenant=1), definition)
    assert one.rows == [["pending", 5.25], ["paid", 10.5]]
    two = services.execute(SimpleNamespace(tenant=2), definition)
    assert two.rows == [["paid", 7]]
    both = services.execute(SimpleNamespace(tenant=[1, 2]), definition)
    assert both.row_count == 3
    assert services.column_values(SimpleNamespace(tenant=2), "shop_order", "status") == ["paid"]
    assert services.execute(SimpleNamespace(tenant=[]), definition).rows == []


@pytest.mark.django_db
@override_settings(PRISMIQ=CODE_ONLY)
def test_column_values_distinct_sorted_searched_limited() -> None:
    _data()
    assert services.column_values(None, "shop_order", "status") == ["paid", "pending"]
    assert services.column_values(None, "shop_order", "status", search="END") == ["pending"]
    assert services.column_values(None, "shop_order", "status", limit=1) == ["paid"]
    assert services.column_values(None, "shop_order", "shipped_on") == ["2024-03-02"]
    assert services.column_values(None, "shop_customer", "city", search="%") == []
    with pytest.raises(ObjectNotFound):
        services.column_values(None, "shop_order", "nope")
    with pytest.raises(ObjectNotFound):
        services.column_values(None, "auth_user", "password")
    with pytest.raises(QueryValidationError):
        services.column_values(None, "shop_order", "status", limit=-1)
    with pytest.raises(QueryValidationError) as info:
        services.column_values(None, "shop_order", "tenant_id", search="1")
    # issue 23 item 4: a clear refusal naming search (not an operator the caller never sent)
    assert [(e.code, e.path) for e in info.value.errors] == [("invalid_value", "/search")]
    assert "search" in info.value.errors[0].message
    assert "integer" in info.value.errors[0].message
    assert services.column_values(None, "shop_order", "tenant_id") == [1, 2]
    assert services.column_values(None, "shop_order", "total", limit=5000) == [5.25, 7, 10.5]


@pytest.mark.django_db
@override_settings(PRISMIQ=CODE_ONLY)
def test_to_sql_validate_and_explain() -> None:
    _data()
    definition = _q(
        "shop_order",
        "status",
        filters=[
            {"table_id": "t", "column": "status", "operator": "eq", "value": "paid'; DROP TABLE x"}
        ],
    )
    compiled = services.to_sql(None, definition)
    assert "DROP" not in compiled.sql
    assert "paid'; DROP TABLE x" in compiled.params
    assert services.validate(None, definition) == []
    plan = services.explain(None, definition)
    assert plan
    assert services.execute(None, definition).rows == []


@pytest.mark.django_db
@override_settings(PRISMIQ=CODE_ONLY)
def test_catalog_is_cached_between_requests() -> None:
    services.get_catalog(None)
    with CaptureQueriesContext(connection) as captured:
        for _ in range(5):
            assert "shop_order" in services.get_catalog(None).tables
    assert captured.captured_queries == []


@pytest.mark.django_db
def test_exposure_changes_invalidate_the_cached_catalog() -> None:
    assert services.table_names(None) == []
    row = ExposedTable.objects.create(name="shop_order", is_exposed=True)
    assert services.table_names(None) == ["shop_order"]
    column = ExposedColumn.objects.create(table=row, name="total", is_hidden=True)
    assert "total" not in services.get_catalog(None).tables["shop_order"].column_names
    column.delete()
    assert "total" in services.get_catalog(None).tables["shop_order"].column_names
    row.delete()
    assert services.table_names(None) == []


@pytest.mark.django_db
def test_catalog_cache_is_shared_through_the_django_cache() -> None:
    """Another process (simulated by clearing this process's memo) reads the cached entry."""
    with override_settings(PRISMIQ=CODE_ONLY):
        first = services.get_catalog(None)
        store.forget_process_memo()
        with CaptureQueriesContext(connection) as captured:
            second = services.get_catalog(None)
        assert captured.captured_queries == []
        assert second.tables == first.tables
        assert second.relationships == first.relationships


@pytest.mark.django_db
def test_cache_outage_degrades_to_rebuilding() -> None:
    caches = {
        **settings.CACHES,
        "down": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        },
    }
    _data()
    with override_settings(CACHES=caches, PRISMIQ={**CODE_ONLY, "CACHE_ALIAS": "down"}):
        services.invalidate_catalog()
        assert "shop_order" in services.table_names(None)
        assert services.execute(None, _q("shop_order", "status")).row_count == 3
        # While it is down, this process keeps its catalog instead of introspecting per request.
        with CaptureQueriesContext(connection) as captured:
            assert "shop_order" in services.table_names(None)
        assert captured.captured_queries == []


@pytest.mark.django_db
def test_schema_cache_ttl_zero_rebuilds_every_time() -> None:
    with override_settings(PRISMIQ={**CODE_ONLY, "SCHEMA_CACHE_TTL": 0}):
        services.get_catalog(None)
        with CaptureQueriesContext(connection) as second:
            services.get_catalog(None)
        with CaptureQueriesContext(connection) as third:
            services.get_catalog(None)
    # Every call reads the database's catalog again, the same statements each time.
    statements = [query["sql"] for query in third.captured_queries]
    assert statements == [query["sql"] for query in second.captured_queries]
    system_catalog = {"postgresql": "pg_catalog", "mysql": "information_schema"}.get(
        connection.vendor, "sqlite_master"
    )
    assert sum(system_catalog in sql for sql in statements) >= 2


@pytest.mark.django_db
def test_hidden_column_cannot_be_joined_on_or_bucketed() -> None:
    _data()
    order = ExposedTable.objects.create(name="shop_order", is_exposed=True)
    ExposedTable.objects.create(name="shop_customer", is_exposed=True)
    ExposedColumn.objects.create(table=order, name="customer_id", is_hidden=True)
    ExposedColumn.objects.create(table=order, name="ordered_at", is_hidden=True)
    join = {
        "tables": [{"id": "o", "name": "shop_order"}, {"id": "c", "name": "shop_customer"}],
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
    assert "column_not_found" in {e.code for e in services.validate(None, join)}
    bucket = _q(
        "shop_order",
        "status",
        time_series={"table_id": "t", "date_column": "ordered_at", "interval": "month"},
    )
    assert "column_not_found" in {e.code for e in services.validate(None, bucket)}
    trunc = {
        **_q("shop_order"),
        "columns": [{"table_id": "t", "column": "ordered_at", "date_trunc": "day"}],
    }
    assert [e.code for e in services.validate(None, trunc)] == ["column_not_found"]
    assert services.get_catalog(None).relationships == ()


@pytest.mark.postgres
@pytest.mark.django_db
def test_other_db_schema_mixed_case_names_end_to_end() -> None:
    from tests.catalog.test_introspect import PG_FIXTURE

    with connection.cursor() as cursor:
        cursor.execute(PG_FIXTURE)
        cursor.execute(
            'INSERT INTO glue_a."Mixed Case Table" ("Weird Col", mood, price, tags, doc, u, d, '
            "dur, b, num) VALUES ('it''s', 'happy', 2.50, ARRAY['a', 'b'], '{\"k\": 1}', "
            "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2024-05-06', '90 seconds', '\\x01', 3.5)"
        )
        cursor.execute(
            "INSERT INTO glue_a.orders (thing_id, status) SELECT id, 'x' "
            'FROM glue_a."Mixed Case Table"'
        )
    prismiq = {
        "DB_SCHEMA": ["glue_a", "glue_b"],
        "EXPOSED_TABLES": ["Mixed Case Table", "orders", "events", "order_counts"],
    }
    with override_settings(PRISMIQ=prismiq):
        assert services.table_names(None) == sorted(prismiq["EXPOSED_TABLES"])
        cols = ["Weird Col", "mood", "price", "tags", "doc", "u", "d", "dur", "b", "num"]
        result = services.execute(None, _q("Mixed Case Table", *cols))
        assert result.column_types == [
            "string",
            "string",
            "decimal",
            "array",
            "json",
            "uuid",
            "date",
            "duration",
            "binary",
            "decimal",
        ]
        assert result.rows == [
            [
                "it's",
                "happy",
                2.5,
                ["a", "b"],
                {"k": 1},
                "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                "2024-05-06",
                90.0,
                "AQ==",
                3.5,
            ]
        ]
        joined = services.execute(
            None,
            {
                "tables": [{"id": "o", "name": "orders"}, {"id": "m", "name": "Mixed Case Table"}],
                "joins": [
                    {
                        "from_table_id": "o",
                        "from_column": "thing_id",
                        "to_table_id": "m",
                        "to_column": "id",
                    }
                ],
                "columns": [
                    {"table_id": "m", "column": "Weird Col"},
                    {"table_id": "o", "column": "id", "aggregation": "count", "alias": "n"},
                ],
            },
        )
        assert joined.rows == [["it's", 1]]
        events = services.execute(
            None,
            _q("events", "kind", "id", filters=[])
            | {"columns": [{"table_id": "t", "column": "id", "aggregation": "count"}]},
        )
        assert events.rows == [[500]]
        assert services.column_values(None, "Mixed Case Table", "mood") == ["happy"]


@pytest.mark.sqlite
@pytest.mark.django_db
def test_sqlite_mixed_case_and_spaces_end_to_end() -> None:
    from tests.catalog.test_introspect import SQLITE_FIXTURE

    with connection.cursor() as cursor:
        for sql in SQLITE_FIXTURE:
            cursor.execute(sql)
        cursor.execute(
            'INSERT INTO "Mixed Case Table" ("Weird Col", doc, flag, price, ratio, d, ts, b) '
            "VALUES ('it''s', '{\"k\": [1]}', 1, 2.5, 0.25, '2024-05-06', "
            "'2024-05-06 07:08:09', x'01')"
        )
    with override_settings(PRISMIQ={"EXPOSED_TABLES": ["Mixed Case Table"]}):
        cols = ["Weird Col", "doc", "flag", "price", "ratio", "d", "ts", "b"]
        result = services.execute(None, _q("Mixed Case Table", *cols))
        assert result.column_types == [
            "string",
            "json",
            "boolean",
            "decimal",
            "float",
            "date",
            "datetime",
            "binary",
        ]
        assert result.rows == [
            ["it's", {"k": [1]}, True, 2.5, 0.25, "2024-05-06", "2024-05-06T07:08:09+00:00", "AQ=="]
        ]


@pytest.mark.django_db
def test_names_with_quotes_dots_and_percent_end_to_end() -> None:
    table, column = 'we"ird.table %s', 'a "b" %%'
    mark = "`" if connection.vendor == "mysql" else '"'  # MySQL quotes with backticks
    quoted_table = mark + table.replace(mark, mark * 2) + mark
    quoted_column = mark + column.replace(mark, mark * 2) + mark
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {quoted_table} (id integer PRIMARY KEY, {quoted_column} text)"
        )
        cursor.execute(
            f"INSERT INTO {quoted_table} VALUES (1, 'x'), (2, 'y')".replace("%", "%%"), []
        )
    with override_settings(PRISMIQ={"EXPOSED_TABLES": [table]}):
        assert services.table_names(None) == [table]
        assert [c["name"] for c in services.table_schema(None, table)["columns"]] == ["id", column]
        result = services.execute(
            None,
            _q(
                table,
                column,
                "id",
                filters=[{"table_id": "t", "column": column, "operator": "neq", "value": "y"}],
            ),
        )
        assert result.columns == [column, "id"]
        assert result.rows == [["x", 1]]
        assert services.column_values(None, table, column, search="Y") == ["y"]


@pytest.mark.django_db
@override_settings(PRISMIQ=CODE_ONLY)
def test_time_buckets_are_wall_clock_in_the_site_zone_on_both_backends() -> None:
    """The bucket is the day in Paris, labelled with Paris's offset at its start (issue 15
    item 13); the plain value stays in UTC."""
    from django.utils import timezone

    ada = Customer.objects.create(
        tenant_id=1,
        name="Ada",
        email="a@x",
        city="P",
        country="FR",
        created_at=datetime(2024, 1, 1, tzinfo=UTC),
    )
    for hour in (22, 23):  # 23:30 UTC on 1 March is 00:30 on 2 March in Paris
        Order.objects.create(
            tenant_id=1,
            customer=ada,
            status="paid",
            total=Decimal(1),
            ordered_at=datetime(2024, 3, 1, hour, 30, tzinfo=UTC),
        )
    definition = {
        **_q("shop_order"),
        "columns": [
            {"table_id": "t", "column": "ordered_at", "date_trunc": "day", "alias": "day"},
            {"table_id": "t", "column": "id", "aggregation": "count", "alias": "n"},
            {"table_id": "t", "column": "ordered_at", "aggregation": "max", "alias": "last"},
        ],
        "order_by": [{"alias": "day", "direction": "ASC"}],
    }
    with timezone.override("Europe/Paris"):
        result = services.execute(None, definition)
    assert result.column_types == ["datetime", "integer", "datetime"]
    assert result.rows == [
        ["2024-03-01T00:00:00+01:00", 1, "2024-03-01T22:30:00+00:00"],
        ["2024-03-02T00:00:00+01:00", 1, "2024-03-01T23:30:00+00:00"],
    ]


def test_catalog_cache_key_names_the_database_behind_the_alias(monkeypatch: Any) -> None:
    """Same alias and NAME on another host, one shared Redis: never the same catalog entry."""
    before = store.configuration_key()
    monkeypatch.setitem(settings.DATABASES["default"], "HOST", "db.elsewhere.internal")
    assert store.configuration_key() != before


def test_catalog_cache_key_follows_every_settings_change(settings: Any) -> None:
    """The key is kept between requests, yet every change of what it hashes changes it."""
    base = store.configuration_key()
    assert store.configuration_key() == base
    hashed = []
    sha256 = hashlib.sha256

    def counted(data: bytes) -> Any:
        hashed.append(data)
        return sha256(data)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(hashlib, "sha256", counted)
        assert store.configuration_key() == base
    assert hashed == []  # not hashed again for the same configuration
    with override_settings(PRISMIQ={"EXPOSED_TABLES": list(SHOP)}):
        listed = store.configuration_key()
        assert listed != base
        with override_settings(PRISMIQ={"EXPOSED_TABLES": SHOP[:2]}):
            assert store.configuration_key() not in (base, listed)
        assert store.configuration_key() == listed
        with override_settings(PRISMIQ={"EXPOSED_TABLES": list(SHOP), "DB_SCHEMA": "other"}):
            assert store.configuration_key() not in (base, listed)
        with override_settings(PRISMIQ={"EXPOSED_TABLES": list(SHOP), "MAX_ROWS": 5}):
            assert store.configuration_key() == listed  # equal content, other objects
    assert store.configuration_key() == base
    # The same list, edited and set again: the change signal forgets the kept key.
    names = list(SHOP)
    settings.PRISMIQ = {"EXPOSED_TABLES": names}
    assert store.configuration_key() == listed
    names.pop()
    settings.PRISMIQ = {"EXPOSED_TABLES": names}
    assert store.configuration_key() != listed


def test_catalog_cache_key_follows_what_is_protected(settings: Any) -> None:
    """A catalog built under another protection is never read: the site's PROTECTED_TABLES,
    and the settings that protect more tables (a database cache, another user or session
    model), are part of the key."""
    base = store.configuration_key()
    settings.PRISMIQ = {"PROTECTED_TABLES": ["vault_*"]}
    vault = store.configuration_key()
    assert vault != base
    settings.PRISMIQ = {}
    assert store.configuration_key() == base
    settings.CACHES = {
        **settings.CACHES,
        "db": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "site_cache"},
    }
    assert store.configuration_key() not in (base, vault)


@pytest.mark.django_db
def test_exposure_changes_renew_the_catalog_version_again_at_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Another process may rebuild from pre-commit rows under the first new token: the token
    is renewed once more when the transaction commits, orphaning such a stale entry."""
    from django.core.cache import caches

    cache = caches["default"]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        ExposedTable.objects.create(name="shop_order", is_exposed=True)
        during = cache.get(services.CATALOG_VERSION_KEY)
        assert during is not None
    assert len(callbacks) >= 1
    after = cache.get(services.CATALOG_VERSION_KEY)
    assert after is not None
    assert after != during
