"""Compiler details beyond the golden table: quoting, schemas, vendors, hostile catalog names."""

from __future__ import annotations

from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest

from prismiq_django.query import Catalog, Column, RowScope, Table, build, get_dialect
from prismiq_django.query.catalog import LogicalType
from prismiq_django.query.dialects import Dialect, escape_like, like_to_glob
from tests.query.catalogs import SHOP
from tests.query.sqlscan import scan


def _one(table: Table, **kw: Any) -> dict[str, Any]:
    return {
        "tables": [{"id": "x", "name": table.name}],
        "columns": [{"table_id": "x", "column": c.name} for c in table.columns],
        **kw,
    }


def test_hostile_catalog_identifiers_are_quoted_and_percent_doubled() -> None:
    table = Table(
        'we"ird%s table',
        (
            Column('co"l', "text", "string"),
            Column("100%", "integer", "integer"),
            Column("ü ñ 😀", "text", "string"),
        ),
        schema_name='sch"ema',
    )
    data = _one(
        table,
        filters=[{"table_id": "x", "column": "100%", "operator": "gt", "value": 1}],
        order_by=[{"table_id": "x", "column": 'co"l', "direction": "DESC"}],
    )
    compiled = build(data, Catalog.build([table]), "postgresql")
    assert compiled.sql == (
        'SELECT "t0"."co""l" AS "co""l", "t0"."100%%" AS "100%%", "t0"."ü ñ 😀" AS "ü ñ 😀" '
        'FROM "sch""ema"."we""ird%%s table" "t0" WHERE "t0"."100%%" > %s ORDER BY 1 DESC LIMIT %s'
    )
    assert compiled.params == (1, 10_001)
    assert set(scan(compiled.sql).identifiers) == {
        'co"l',
        "100%",
        "ü ñ 😀",
        'sch"ema',
        'we"ird%s table',
        "t0",
    }
    assert compiled.columns == ('co"l', "100%", "ü ñ 😀")


def test_unicode_and_quotes_in_every_request_string_field() -> None:
    nasty = "ü'\"%_\\;--😀"
    data = {
        "tables": [{"id": nasty, "name": "shop_order", "alias": nasty}],
        "columns": [
            {"table_id": nasty, "column": "status", "alias": nasty},
            {"table_id": nasty, "column": "total", "aggregation": "sum", "alias": nasty + "2"},
        ],
        "filters": [
            {"table_id": nasty, "column": "status", "operator": op, "value": nasty}
            for op in ("eq", "like", "ilike", "contains", "starts_with", "ends_with")
        ],
        "order_by": [{"alias": nasty, "direction": "desc"}],
    }
    for vendor in ("postgresql", "sqlite"):
        compiled = build(data, SHOP, vendor)
        parts = scan(compiled.sql)
        assert set(parts.identifiers) == {"t0", "status", "total", "shop_order", nasty, nasty + "2"}
        assert set(parts.literals) == {"\\"}
        like = nasty if vendor == "postgresql" else like_to_glob(nasty)
        assert compiled.params[:3] == (nasty, like, nasty)
        assert compiled.params[3:6] == tuple(
            p.format(escape_like(nasty)) for p in ("%{}%", "{}%", "%{}")
        )
        assert compiled.columns == (nasty, nasty + "2")


def test_order_by_a_column_that_is_not_selected() -> None:
    compiled = build(
        {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "order_by": [{"table_id": "o", "column": "total", "direction": "DESC"}],
        },
        SHOP,
        "postgresql",
    )
    assert 'ORDER BY "t0"."total" DESC' in compiled.sql


def test_naive_timestamp_columns_are_truncated_without_time_zone_conversion() -> None:
    table = Table("events", (Column("at", "timestamp without time zone", "datetime"),))
    data = _one(table, columns=[{"table_id": "x", "column": "at", "date_trunc": "day"}])
    compiled = build(data, Catalog.build([table]), "postgresql")
    assert compiled.sql.startswith('SELECT date_trunc(\'day\', "t0"."at") AS "at"')
    assert compiled.params == (10_001,)


def test_zoned_buckets_are_the_buckets_of_each_vendors_instants() -> None:
    """Issue 15 item 13: the statement names the buckets whose labels carry the zone's offset.
    PostgreSQL: ``timestamptz`` only; SQLite and MySQL: every datetime (Django's UTC)."""
    table = Table(
        "events",
        (
            Column("tz", "timestamp with time zone", "datetime"),
            Column("naive", "timestamp without time zone", "datetime"),
            Column("day", "date", "date"),
            Column("ts", "timestamp", "datetime"),  # SQLite's or MySQL's
        ),
    )
    data = _one(
        table,
        columns=[{"table_id": "x", "column": c.name, "date_trunc": "month"} for c in table.columns]
        + [{"table_id": "x", "column": "tz", "alias": "plain"}],  # no bucket
    )
    paris = ZoneInfo("Europe/Paris")
    by_vendor = {
        vendor: build(data, Catalog.build([table]), vendor, tz=paris)
        for vendor in ("postgresql", "sqlite", "mysql")
    }
    assert by_vendor["postgresql"].zoned_buckets == {0}
    assert by_vendor["sqlite"].zoned_buckets == {0, 1, 3}
    assert by_vendor["mysql"].zoned_buckets == {0, 1, 3}
    assert {c.tz_name for c in by_vendor.values()} == {"Europe/Paris"}
    plain = build(_one(table), Catalog.build([table]), "postgresql")
    assert plain.zoned_buckets == frozenset()


def test_scopes_on_hidden_columns_and_several_values() -> None:
    table = Table("docs", (Column("id", "integer", "integer"),), tenant_column="org")
    catalog = Catalog.build(
        [table],
        row_scopes=[RowScope("docs", "org", (1, 2)), RowScope("docs", "region", ("eu",))],
    )
    compiled = build(_one(table), catalog, "sqlite")
    assert compiled.sql == (
        'SELECT "t0"."id" AS "id" FROM "docs" "t0" WHERE "t0"."org" IN (%s, %s) '
        'AND "t0"."region" = %s LIMIT %s'
    )
    assert compiled.params == (1, 2, "eu", 10_001)


def test_dialect_registry() -> None:
    assert get_dialect("postgresql") is get_dialect("postgresql")
    assert get_dialect("sqlite").vendor == "sqlite"
    from prismiq_django.query import QueryValidationError

    with pytest.raises(QueryValidationError) as info:
        get_dialect("oracle")
    assert info.value.errors[0].code == "invalid_definition"


class _BacktickDialect(Dialect):
    """What a MySQL dialect overrides: quoting, truncation, LIKE, EXPLAIN (a sketch for tests)."""

    vendor: ClassVar[str] = "mysql-sketch"

    def quote(self, name: str) -> str:
        return "`" + name.replace("`", "``").replace("%", "%%") + "`"

    def date_trunc(
        self, sql: str, unit: str, column: Column, tz_name: str
    ) -> tuple[str, tuple[object, ...]]:
        return f"DATE(CONVERT_TZ({sql}, 'UTC', %s))", (tz_name,)

    def like(
        self, sql: str, pattern: str, *, negate: bool, case_insensitive: bool
    ) -> tuple[str, object]:
        return f"{sql} {'NOT ' if negate else ''}LIKE %s ESCAPE '\\\\'", pattern

    def adapt(self, value: object, type_: LogicalType) -> object:
        return value

    def explain_sql(self, sql: str, *, analyze: bool) -> str:
        return f"EXPLAIN FORMAT=JSON {sql}"


def test_a_new_vendor_is_one_small_subclass() -> None:
    compiled = build(
        {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [
                {"table_id": "o", "column": "ordered_at", "date_trunc": "day", "alias": "d"},
                {"table_id": "o", "column": "*", "aggregation": "count"},
            ],
            "filters": [
                {"table_id": "o", "column": "status", "operator": "contains", "value": "a"}
            ],
        },
        SHOP,
        _BacktickDialect(),
    )
    assert compiled.sql == (
        "SELECT DATE(CONVERT_TZ(`t0`.`ordered_at`, 'UTC', %s)) AS `d`, COUNT(*) AS `count` "
        "FROM `shop_order` `t0` WHERE `t0`.`status` LIKE %s ESCAPE '\\\\' GROUP BY 1 LIMIT %s"
    )


def test_like_to_glob() -> None:
    from prismiq_django.query.dialects import like_to_glob

    assert like_to_glob("a%b_c") == "a*b?c"
    assert like_to_glob("\\%\\_\\\\") == "%_\\"
    assert like_to_glob("*?[]") == "[*][?][[]]"
    assert like_to_glob("\\*x") == "[*]x"


def test_like_pattern_cannot_end_with_the_escape_character() -> None:
    from prismiq_django.query import QueryValidationError

    base = {
        "tables": [{"id": "o", "name": "shop_order"}],
        "columns": [{"table_id": "o", "column": "id"}],
    }
    for pattern, ok in (("a\\", False), ("a\\\\", True), ("a\\\\\\", False), ("\\%", True)):
        data = {
            **base,
            "filters": [
                {"table_id": "o", "column": "status", "operator": "like", "value": pattern}
            ],
        }
        if ok:
            build(data, SHOP, "postgresql")
        else:
            with pytest.raises(QueryValidationError):
                build(data, SHOP, "postgresql")
    # contains/starts_with/ends_with take plain text: a trailing backslash is just a character.
    data = {
        **base,
        "filters": [{"table_id": "o", "column": "status", "operator": "contains", "value": "a\\"}],
    }
    assert build(data, SHOP, "postgresql").params[0] == "%a\\\\%"


_NAIVE_DAY = {
    "tables": [{"id": "o", "name": "orders"}],
    "columns": [
        {"table_id": "o", "column": "ordered_at", "date_trunc": "day", "alias": "d"},
        {"table_id": "o", "column": "*", "aggregation": "count"},
    ],
    "filters": [
        {"table_id": "o", "column": "ordered_at", "operator": "gte", "value": "2024-01-02"}
    ],
}


def _orders(data_type: str) -> Catalog:
    return Catalog.build([Table("orders", (Column("ordered_at", data_type, "datetime"),))])


@pytest.mark.parametrize(
    ("vendor", "data_type", "bucket", "bound"),
    [
        # USE_TZ = False: SQLite and MySQL's DATETIME keep the local time as written (no
        # conversion, the value bound as that wall-clock time); PostgreSQL's timestamptz and
        # MySQL's TIMESTAMP stay instants.
        ("sqlite", "datetime", "django_datetime_trunc('day', \"t0\".\"ordered_at\", NULL, NULL)",
         "2024-01-02 00:00:00"),
        ("mysql", "datetime(6)", "CAST(DATE(`t0`.`ordered_at`) AS DATETIME)",
         "2024-01-02 00:00:00"),
        ("mysql", "timestamp", "CONVERT_TZ(`t0`.`ordered_at`, 'UTC', %s)", "2024-01-01 23:00:00"),
        ("postgresql", "timestamp with time zone", "AT TIME ZONE %s", "2024-01-01 23:00:00+00:00"),
    ],
)  # fmt: skip
def test_naive_datetimes_are_truncated_and_bound_as_stored_where_the_vendor_keeps_them(
    vendor: str, data_type: str, bucket: str, bound: str
) -> None:
    catalog = _orders(data_type)
    compiled = build(_NAIVE_DAY, catalog, vendor, tz=ZoneInfo("Europe/Paris"), naive_datetimes=True)
    assert bucket in compiled.sql
    converted = "%s" in bucket
    assert str(compiled.params[-2]) == bound
    assert ("Europe/Paris" in compiled.params) is converted
    assert compiled.zoned_buckets == (frozenset({0}) if converted else frozenset())


def test_a_dialect_that_keeps_no_wall_clock_times_is_unchanged_by_naive_datetimes() -> None:
    paris = ZoneInfo("Europe/Paris")
    dialect = _BacktickDialect()
    naive = build(_NAIVE_DAY, _orders("datetime"), dialect, tz=paris, naive_datetimes=True)
    aware = build(_NAIVE_DAY, _orders("datetime"), dialect, tz=paris)
    assert (naive.sql, naive.params) == (aware.sql, aware.params)
