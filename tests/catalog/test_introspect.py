"""Introspection of real schemas on SQLite and PostgreSQL, in a fixed number of queries."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import OperationalError, connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from prismiq_django.backends.postgresql.types import pg_logical_type
from prismiq_django.backends.sqlite.types import sqlite_logical_type
from prismiq_django.catalog.introspect import introspect, schema_names
from prismiq_django.query import Catalog, Relationship

PG_FIXTURE = """
CREATE SCHEMA glue_a;
CREATE SCHEMA glue_b;
CREATE TYPE glue_a.mood AS ENUM ('sad', 'happy');
CREATE DOMAIN glue_a.money AS numeric(10, 2) CHECK (VALUE >= 0);
CREATE TABLE glue_a."Mixed Case Table" (
    id serial PRIMARY KEY,
    "Weird Col" text,
    mood glue_a.mood,
    price glue_a.money,
    tags text[],
    doc jsonb NOT NULL DEFAULT '{}',
    j json,
    u uuid,
    created timestamptz DEFAULT now(),
    d date,
    t time,
    dur interval,
    b bytea,
    flag boolean NOT NULL DEFAULT true,
    num numeric(10, 2),
    f double precision,
    big bigint,
    ip inet
);
COMMENT ON TABLE glue_a."Mixed Case Table" IS 'Every type';
COMMENT ON COLUMN glue_a."Mixed Case Table"."Weird Col" IS 'A column with a space';
CREATE TABLE glue_a.orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    thing_id integer REFERENCES glue_a."Mixed Case Table" (id),
    status varchar(20) NOT NULL DEFAULT 'new',
    status_upper text GENERATED ALWAYS AS (upper(status)) STORED
);
CREATE TABLE glue_a.pairs (a int, b int, PRIMARY KEY (a, b));
CREATE TABLE glue_a.pair_refs (id int PRIMARY KEY, a int, b int,
                               FOREIGN KEY (a, b) REFERENCES glue_a.pairs (a, b));
CREATE TABLE glue_a.events (id int, happened date NOT NULL, kind text)
    PARTITION BY RANGE (happened);
CREATE TABLE glue_a.events_2023 PARTITION OF glue_a.events
    FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE glue_a.events_2024 PARTITION OF glue_a.events
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
INSERT INTO glue_a.events
    SELECT g, DATE '2023-06-01' + (g % 400), 'k' FROM generate_series(1, 500) g;
ANALYZE glue_a.events_2023;
ANALYZE glue_a.events_2024;
CREATE VIEW glue_a.order_view AS SELECT id, status FROM glue_a.orders;
CREATE MATERIALIZED VIEW glue_a.order_counts AS SELECT status, count(*) AS n FROM glue_a.orders
    GROUP BY status;
CREATE TABLE glue_b.orders (other int);
CREATE TABLE glue_b.only_b (x int);
"""


def _pg_fixture() -> Catalog:
    with connection.cursor() as cursor:
        cursor.execute(PG_FIXTURE)
    return introspect("default", db_schema=["glue_a", "glue_b"])


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_fixture_schema() -> None:
    catalog = _pg_fixture()
    assert set(catalog.tables) == {
        "Mixed Case Table",
        "orders",
        "pairs",
        "pair_refs",
        "events",
        "order_view",
        "order_counts",
        "only_b",
    }
    table = catalog.tables["Mixed Case Table"]
    assert table.schema_name == "glue_a"
    assert table.kind == "table"
    assert table.description == "Every type"
    types = {c.name: (c.data_type, c.type) for c in table.columns}
    assert types == {
        "id": ("integer", "integer"),
        "Weird Col": ("text", "string"),
        "mood": ("glue_a.mood", "string"),
        "price": ("glue_a.money", "decimal"),
        "tags": ("text[]", "array"),
        "doc": ("jsonb", "json"),
        "j": ("json", "json"),
        "u": ("uuid", "uuid"),
        "created": ("timestamp with time zone", "datetime"),
        "d": ("date", "date"),
        "t": ("time without time zone", "time"),
        "dur": ("interval", "duration"),
        "b": ("bytea", "binary"),
        "flag": ("boolean", "boolean"),
        "num": ("numeric(10,2)", "decimal"),
        "f": ("double precision", "float"),
        "big": ("bigint", "integer"),
        "ip": ("inet", "string"),
    }
    assert [c.name for c in table.columns][:3] == ["id", "Weird Col", "mood"]
    by_name = {c.name: c for c in table.columns}
    assert by_name["id"].is_primary_key
    assert not by_name["id"].is_nullable
    assert by_name["id"].default_value is not None
    assert "nextval" in by_name["id"].default_value
    assert by_name["flag"].default_value == "true"
    assert by_name["Weird Col"].description == "A column with a space"
    assert by_name["Weird Col"].is_nullable
    assert not by_name["doc"].is_nullable
    assert not by_name["mood"].is_primary_key

    # The first schema listed wins a name clash, like a search_path.
    orders = {c.name: c for c in catalog.tables["orders"].columns}
    assert list(orders) == ["id", "thing_id", "status", "status_upper"]
    assert orders["status"].default_value == "'new'::character varying"
    assert orders["status_upper"].default_value is None
    assert orders["id"].default_value is None
    assert catalog.tables["only_b"].schema_name == "glue_b"
    # Partitioned parent once, partitions hidden, row estimate summed over partitions.
    events = catalog.tables["events"]
    assert events.kind == "partitioned"
    assert events.row_count == 500
    assert not any(name.startswith("events_") for name in catalog.tables)
    assert catalog.tables["order_view"].kind == "view"
    assert catalog.tables["order_view"].row_count is None
    assert catalog.tables["order_counts"].kind == "materialized_view"
    # Single-column foreign keys become relationships; composite ones do not.
    assert catalog.relationships == (Relationship("orders", "thing_id", "Mixed Case Table", "id"),)
    assert {c.name for c in catalog.tables["pairs"].columns if c.is_primary_key} == {"a", "b"}


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_default_schema_is_public() -> None:
    catalog = _pg_fixture()
    public = introspect("default")
    assert "Mixed Case Table" not in public.tables
    assert "shop_order" in public.tables
    assert public.tables["shop_order"].schema_name == "public"
    assert "Mixed Case Table" in catalog.tables


SQLITE_FIXTURE = [
    'CREATE TABLE "Mixed Case Table" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, '
    '"Weird Col" varchar(20) NULL, '
    '"doc" text NOT NULL CHECK ((JSON_VALID("doc") OR "doc" IS NULL)),'
    ' "flag" bool NOT NULL DEFAULT 1, "price" decimal NOT NULL, "ratio" real, "d" date, '
    '"ts" datetime, "t" time, "b" blob, "u" char(32), "big" bigint, "untyped")',
    "CREATE TABLE glue_orders (id integer PRIMARY KEY, thing_id integer REFERENCES "
    "\"Mixed Case Table\" (id), status varchar(20) NOT NULL DEFAULT 'new')",
    "CREATE VIEW glue_order_view AS SELECT id, status FROM glue_orders",
]


@pytest.mark.sqlite
@pytest.mark.django_db
def test_sqlite_fixture_schema() -> None:
    with connection.cursor() as cursor:
        for sql in SQLITE_FIXTURE:
            cursor.execute(sql)
        cursor.execute("INSERT INTO glue_orders (status) VALUES ('a'), ('b'), ('c')")
        cursor.execute("CREATE INDEX glue_orders_status ON glue_orders (status)")
        cursor.execute("ANALYZE")
    catalog = introspect("default")
    assert not any(name.startswith("sqlite_") for name in catalog.tables)
    assert "shop_order" in catalog.tables
    table = catalog.tables["Mixed Case Table"]
    assert table.schema_name is None
    types = {c.name: (c.data_type, c.type) for c in table.columns}
    assert types == {
        "id": ("integer", "integer"),
        "Weird Col": ("varchar(20)", "string"),
        "doc": ("text", "json"),
        "flag": ("bool", "boolean"),
        "price": ("decimal", "decimal"),
        "ratio": ("real", "float"),
        "d": ("date", "date"),
        "ts": ("datetime", "datetime"),
        "t": ("time", "time"),
        "b": ("blob", "binary"),
        "u": ("char(32)", "string"),
        "big": ("bigint", "integer"),
        "untyped": ("", "unknown"),
    }
    by_name = {c.name: c for c in table.columns}
    assert by_name["id"].is_primary_key
    assert not by_name["id"].is_nullable
    assert by_name["Weird Col"].is_nullable
    assert by_name["flag"].default_value == "1"
    orders = catalog.tables["glue_orders"]
    assert orders.row_count == 3
    assert catalog.tables["glue_order_view"].kind == "view"
    assert catalog.tables["glue_order_view"].row_count is None
    assert Relationship("glue_orders", "thing_id", "Mixed Case Table", "id") in (
        catalog.relationships
    )
    assert Relationship("shop_order", "customer_id", "shop_customer", "id") in (
        catalog.relationships
    )


@pytest.mark.sqlite
@pytest.mark.django_db
def test_sqlite_broken_view_is_skipped_not_fatal() -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE glue_gone (x int)")
        cursor.execute("CREATE VIEW glue_broken AS SELECT x FROM glue_gone")
        cursor.execute("PRAGMA legacy_alter_table = ON")
        cursor.execute("DROP TABLE glue_gone")
        cursor.execute("PRAGMA legacy_alter_table = OFF")
    catalog = introspect("default")
    assert "glue_broken" not in catalog.tables
    assert "shop_order" in catalog.tables


def _make_tables(count: int, columns: int, prefix: str) -> None:
    statements = []
    for i in range(count):
        cols = [f"c{j} {'integer' if j % 2 else 'varchar(40)'}" for j in range(columns - 2)]
        ref = f", parent_id integer REFERENCES {prefix}{i - 1} (id)" if i else ", parent_id integer"
        statements.append(
            f"CREATE TABLE {prefix}{i} (id integer PRIMARY KEY{ref}, {', '.join(cols)})"
        )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("CREATE SCHEMA IF NOT EXISTS glue_bulk")
            cursor.execute("SET LOCAL search_path TO glue_bulk")
            for start in range(0, len(statements), 100):
                cursor.execute(";\n".join(statements[start : start + 100]))
            cursor.execute("SET LOCAL search_path TO public")
        else:
            for sql in statements:
                cursor.execute(sql)


def _count_queries(schema: list[str] | None) -> tuple[int, Catalog]:
    with CaptureQueriesContext(connection) as captured:
        catalog = introspect("default", db_schema=schema)
    return len(captured.captured_queries), catalog


@pytest.mark.django_db
def test_query_count_does_not_grow_with_tables() -> None:
    schema = ["glue_bulk"] if connection.vendor == "postgresql" else None
    _make_tables(5, 20, "small_")
    small_queries, small = _count_queries(schema)
    assert {f"small_{i}" for i in range(5)} <= set(small.tables)
    _make_tables(1_000, 20, "bulk_")
    big_queries, big = _count_queries(schema)
    bulk = [t for name, t in big.tables.items() if name.startswith("bulk_")]
    assert len(bulk) == 1_000
    assert sum(len(t.columns) for t in bulk) == 20_000
    assert sum(1 for r in big.relationships if r.from_table.startswith("bulk_")) == 999
    assert big_queries == small_queries
    assert big_queries <= 3


def test_logical_type_maps() -> None:
    assert pg_logical_type("int4") == "integer"
    assert pg_logical_type("_int4", "A") == "array"
    assert pg_logical_type("my_enum", "E") == "string"
    assert pg_logical_type("hstore", "U") == "unknown"
    assert pg_logical_type("timestamptz") == "datetime"
    assert sqlite_logical_type("BIGINT UNSIGNED") == "integer"
    assert sqlite_logical_type("Boolean") == "boolean"
    assert sqlite_logical_type("DATETIME") == "datetime"
    assert sqlite_logical_type("NUMERIC(10, 2)") == "decimal"
    assert sqlite_logical_type("DOUBLE PRECISION") == "float"
    assert sqlite_logical_type("") == "unknown"
    assert schema_names(None) == ["public"]
    assert schema_names("sales") == ["sales"]
    assert schema_names(["a", "b"]) == ["a", "b"]


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_lists_only_what_the_role_may_select() -> None:
    _pg_fixture()
    with connection.cursor() as cursor:
        cursor.execute("CREATE ROLE glue_reader_test NOLOGIN")
        cursor.execute("GRANT USAGE ON SCHEMA glue_a, glue_b TO glue_reader_test")
        cursor.execute("GRANT SELECT ON glue_a.orders, glue_a.order_view TO glue_reader_test")
        cursor.execute("SET LOCAL ROLE glue_reader_test")
    try:
        catalog = introspect("default", db_schema=["glue_a", "glue_b"])
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    assert set(catalog.tables) == {"orders", "order_view"}
    assert catalog.tables["orders"].schema_name == "glue_a"
    assert catalog.relationships == ()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgresql_connection_lost_during_introspection_is_unavailable() -> None:
    import time

    from prismiq_django.exceptions import DatabaseUnavailable
    from tests.support.glue import admin_connection

    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    with admin_connection() as killer:
        killer.execute("SELECT pg_terminate_backend(%s)", [pid])
        for _ in range(100):
            if not killer.execute(
                "SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]
            ).fetchone():
                break
            time.sleep(0.05)
    with pytest.raises(DatabaseUnavailable):
        introspect("default")
    connection.close()
    assert "shop_order" in introspect("default").tables


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_types_comments_and_defaults_per_column() -> None:
    """Type names are formatted per (type, modifier) pair; comments and defaults are per table."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE SCHEMA glue_pairs;
            CREATE TABLE glue_pairs.one (
                id int PRIMARY KEY, a varchar(20) DEFAULT 'x', b varchar(40), c numeric,
                d numeric(5, 1) DEFAULT 1.5, e timestamp(3), f int NOT NULL DEFAULT 7);
            CREATE TABLE glue_pairs.two (
                id int PRIMARY KEY REFERENCES glue_pairs.one (id), a varchar(40), b varchar(20),
                g int GENERATED ALWAYS AS (id * 2) STORED);
            CREATE TABLE glue_pairs.three (k text);
            COMMENT ON COLUMN glue_pairs.one.b IS 'one b';
            COMMENT ON COLUMN glue_pairs.two.b IS 'two b';
            COMMENT ON COLUMN glue_pairs.two.a IS 'two a';
            ALTER TABLE glue_pairs.one DROP COLUMN c;
            """
        )
    catalog = introspect("default", db_schema=["glue_pairs"])
    one, two, three = (catalog.tables[n] for n in ("one", "two", "three"))
    assert [(c.name, c.data_type, c.type) for c in one.columns] == [
        ("id", "integer", "integer"),
        ("a", "character varying(20)", "string"),
        ("b", "character varying(40)", "string"),
        ("d", "numeric(5,1)", "decimal"),
        ("e", "timestamp(3) without time zone", "datetime"),
        ("f", "integer", "integer"),
    ]
    assert [(c.name, c.data_type) for c in two.columns] == [
        ("id", "integer"),
        ("a", "character varying(40)"),
        ("b", "character varying(20)"),
        ("g", "integer"),
    ]
    assert [c.description for c in one.columns] == [None, None, "one b", None, None, None]
    assert [c.description for c in two.columns] == [None, "two a", "two b", None]
    assert [c.default_value for c in one.columns] == [
        None, "'x'::character varying", None, "1.5", None, "7",
    ]  # fmt: skip
    assert [c.default_value for c in two.columns] == [None, None, None, None]  # generated
    assert [c.is_primary_key for c in two.columns] == [True, False, False, False]
    assert [c.is_nullable for c in one.columns] == [False, True, True, True, True, False]
    assert [(c.name, c.data_type) for c in three.columns] == [("k", "text")]
    assert catalog.relationships == (Relationship("two", "id", "one", "id"),)


@pytest.mark.sqlite
@pytest.mark.django_db
def test_sqlite_error_that_is_not_a_lost_connection_is_a_server_error() -> None:
    """Only a lost connection is "unavailable" (503); an interrupted statement is a 500."""
    from rest_framework.test import APIClient

    from prismiq_django import services
    from prismiq_django.exceptions import QueryExecutionError

    connection.ensure_connection()
    raw = connection.connection
    raw.set_progress_handler(lambda: 1, 1)  # every statement is interrupted (OperationalError)
    try:
        with pytest.raises(QueryExecutionError) as caught:
            introspect("default")
        assert isinstance(caught.value.__cause__, OperationalError)
        services.invalidate_catalog()
        client = APIClient(raise_request_exception=False)
        client.force_authenticate(SimpleNamespace(is_authenticated=True, pk=1))
        with override_settings(PRISMIQ={"EXPOSED_TABLES": ["shop_order"]}):
            response = client.get("/api/analytics/schema")
    finally:
        raw.set_progress_handler(None, 1)
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
    assert "interrupted" not in response.content.decode()


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_rebuild_reuses_only_unchanged_tables() -> None:
    """A rebuild shares the tables built from identical rows; any change makes a new table."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE SCHEMA glue_reuse;
            CREATE DOMAIN glue_reuse.amount AS numeric(8, 2);
            CREATE TABLE glue_reuse.a (id int PRIMARY KEY, x glue_reuse.amount);
            CREATE TABLE glue_reuse.b (id int PRIMARY KEY, y text);
            CREATE TABLE glue_reuse.c (id int, z text);
            """
        )
    first = introspect("default", db_schema=["glue_reuse"])
    again = introspect("default", db_schema=["glue_reuse"])
    assert all(again.tables[n] is first.tables[n] for n in ("a", "b", "c"))
    with connection.cursor() as cursor:
        cursor.execute("COMMENT ON COLUMN glue_reuse.b.y IS 'why'")
        cursor.execute("ALTER TABLE glue_reuse.c ADD PRIMARY KEY (id)")
    changed = introspect("default", db_schema=["glue_reuse"])
    assert changed.tables["a"] is first.tables["a"]
    assert changed.tables["b"].columns[1].description == "why"
    assert changed.tables["c"].columns[0].is_primary_key
    with connection.cursor() as cursor:
        cursor.execute("ALTER DOMAIN glue_reuse.amount RENAME TO money_amount")
    renamed = introspect("default", db_schema=["glue_reuse"])
    assert renamed.tables["a"].columns[1].data_type == "glue_reuse.money_amount"
    assert renamed.tables["b"] == changed.tables["b"]
