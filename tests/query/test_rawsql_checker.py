"""The raw SQL checker on legitimate statements: what it accepts and the SQL it renders."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from prismiq_django.query import Catalog, Column, RowScope, Table
from prismiq_django.query.rawsql import RawSQLError, check_sql
from tests.query.catalogs import RELATIONSHIPS, SHOP, tenant_catalog
from tests.query.rawsql_cases import LEGIT, spelled_for

ROOT = Path(__file__).resolve().parents[2]
VENDORS = ["postgresql", "sqlite", "mysql"]


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize(("sql", "params"), LEGIT)
def test_legitimate_analytics_sql_passes(sql: str, params: dict[str, object], vendor: str) -> None:
    checked = check_sql(spelled_for(vendor, sql), SHOP, vendor, params=params)
    assert checked.sql.startswith(("SELECT ", "WITH ", "("))
    assert checked.sql.count("%s") == len(checked.params)
    assert checked.tables <= set(SHOP.tables)
    assert checked.tables
    assert set(checked.parameters) == set(params)


def test_every_table_is_read_through_its_visible_columns() -> None:
    hidden = Catalog.build([Table("t", (Column("id", "bigint", "integer"),))])
    checked = check_sql("SELECT * FROM t", hidden, "postgresql")
    assert checked.sql == ('SELECT "t"."id" FROM (SELECT "id" FROM "t") AS "t" LIMIT %s')
    assert checked.params == (10_001,)
    assert checked.column_types == ("integer",)


def test_star_expands_to_visible_columns_of_each_source() -> None:
    checked = check_sql(
        "SELECT o.*, c.name FROM shop_order o JOIN shop_customer c ON c.id = o.customer_id",
        SHOP,
        "sqlite",
    )
    head = checked.sql.split(" FROM ")[0]
    assert head.count('"o".') == len(SHOP.tables["shop_order"].columns)
    assert '"c"."name"' in head


def test_tenant_tables_are_replaced_by_scoped_subqueries() -> None:
    sql = (
        "WITH t AS (SELECT customer_id FROM shop_order) SELECT c.name FROM shop_customer c "
        "WHERE c.id IN (SELECT customer_id FROM t) AND EXISTS "
        "(SELECT 1 FROM shop_orderitem i WHERE i.tenant_id = c.tenant_id)"
    )
    checked = check_sql(sql, tenant_catalog(7), "postgresql")
    assert checked.sql.count('WHERE "tenant_id" = %s') == 3
    assert checked.params == (7, 7, 7, 10_001)
    assert checked.tables == {"shop_order", "shop_customer", "shop_orderitem"}


def test_several_tenant_values_are_an_in_list_and_none_is_no_row() -> None:
    many = tenant_catalog().with_row_scopes([RowScope("shop_order", "tenant_id", (1, 2))])
    with pytest.raises(RawSQLError) as caught:  # other tables need their scope (fail closed)
        check_sql("SELECT id FROM shop_customer", many, "sqlite")
    assert caught.value.errors[0].code == "invalid_definition"
    checked = check_sql("SELECT id FROM shop_order", many, "sqlite")
    assert 'WHERE "tenant_id" IN (%s, %s)' in checked.sql
    nobody = tenant_catalog().with_row_scopes([RowScope("shop_order", "tenant_id", ())])
    assert "WHERE 1 = 0" in check_sql("SELECT id FROM shop_order", nobody, "sqlite").sql


def test_row_cap_and_requested_limits() -> None:
    assert check_sql("SELECT id FROM shop_order", SHOP, "sqlite", max_rows=50).limit == 50
    capped = check_sql("SELECT id FROM shop_order LIMIT 500", SHOP, "sqlite", max_rows=50)
    assert (capped.limit, capped.params[-1]) == (50, 51)
    small = check_sql("SELECT id FROM shop_order LIMIT 5 OFFSET 2", SHOP, "sqlite", max_rows=50)
    assert (small.limit, small.params) == (5, (5, 2))  # LIMIT %s OFFSET %s
    with pytest.raises(RawSQLError):
        check_sql("SELECT id FROM shop_order LIMIT :n", SHOP, "sqlite", params={"n": 5})


def test_parameters_are_bound_never_spliced() -> None:
    hostile = "x' OR '1'='1"
    checked = check_sql(
        "SELECT id FROM shop_order WHERE status = :s OR status = :s",
        SHOP,
        "postgresql",
        params={"s": hostile},
    )
    assert hostile not in checked.sql
    assert checked.params == (hostile, hostile, 10_001)
    for params, code in [
        ({}, "sql_missing_parameter"),
        ({"s": "a", "t": "b"}, "sql_invalid_parameter"),
        ({"s": ["a"]}, "sql_invalid_parameter"),
        ({"s": "a\x00"}, "sql_invalid_parameter"),
    ]:
        with pytest.raises(RawSQLError) as caught:
            check_sql("SELECT id FROM shop_order WHERE status = :s", SHOP, "sqlite", params=params)
        assert caught.value.errors[0].code == code


def test_literal_percent_is_doubled_and_comments_are_dropped() -> None:
    checked = check_sql(
        "SELECT '50%' AS p, total % 2 /* %s */ FROM shop_order -- %(x)s", SHOP, "postgresql"
    )
    assert "'50%%'" in checked.sql
    assert '"total" %% 2' in checked.sql
    assert "/*" not in checked.sql
    assert "--" not in checked.sql


def test_identifier_case_follows_the_database() -> None:
    for sql in ["SELECT STATUS FROM SHOP_ORDER", 'SELECT "status" FROM "shop_order"']:
        assert check_sql(sql, SHOP, "postgresql").tables == {"shop_order"}
    # SQLite ignores case even in quoted names; the statement names the catalog's spelling.
    checked = check_sql('SELECT "Status" FROM "Shop_Order"', SHOP, "sqlite")
    assert '"shop_order"' in checked.sql
    assert '"status"' in checked.sql
    for sql in ['SELECT * FROM "Shop_Order"', 'SELECT "Status" FROM shop_order']:
        with pytest.raises(RawSQLError):
            check_sql(sql, SHOP, "postgresql")


def test_order_by_an_output_alias_sorts_by_the_output() -> None:
    checked = check_sql(
        "SELECT total * 2 AS total FROM shop_order ORDER BY total", SHOP, "postgresql"
    )
    assert checked.sql.split("ORDER BY ")[1].startswith('"total"')


def test_a_cte_may_shadow_an_exposed_table_with_checked_content() -> None:
    checked = check_sql(
        "WITH shop_customer AS (SELECT id, status FROM shop_order) "
        "SELECT status FROM shop_customer",
        SHOP,
        "sqlite",
    )
    assert checked.tables == {"shop_order"}


def test_schema_qualified_names_only_for_the_exposed_schema() -> None:
    tables = [Table(t.name, t.columns, schema_name="public") for t in SHOP.tables.values()]
    catalog = Catalog.build(tables, RELATIONSHIPS)
    checked = check_sql("SELECT id FROM public.shop_order", catalog, "postgresql")
    assert 'FROM "public"."shop_order"' in checked.sql
    with pytest.raises(RawSQLError):
        check_sql("SELECT id FROM reporting.shop_order", catalog, "postgresql")


def test_the_checker_is_pure() -> None:
    script = "import sys\nimport prismiq_django.query.rawsql\nassert 'django' not in sys.modules\n"
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True)  # noqa: S603


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT id FROM shop_order WHERE id = 1 /*!UNION SELECT secret FROM api_canary */",
        "SELECT /*!50000 sleep(5), */ id FROM shop_order",
    ],
)
def test_mysql_executable_comments_never_reach_the_database(sql: str) -> None:
    """MySQL runs the text of a ``/*! ... */`` comment: the statement sent is rendered from the
    checked tree without comments, so what one holds is neither checked nor run."""
    checked = check_sql(sql, SHOP, "mysql")
    assert "/*" not in checked.sql
    assert "api_canary" not in checked.sql
    assert "sleep" not in checked.sql.lower()
