"""The MySQL rails' statement gate and pattern rewriting (pure: no database needed)."""

from __future__ import annotations

import pytest

from prismiq_django.backends.mysql.rails import RefusedStatement, check_statement
from prismiq_django.query.dialects.mysql import mysql_like_pattern


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT `t0`.`id` AS `id` FROM `shop_order` `t0` LIMIT %s",
        "  select 1",
        "WITH s AS (SELECT 1 AS n) SELECT n FROM s",
        "(SELECT 1) UNION ALL (SELECT 2)",
        "EXPLAIN FORMAT=JSON SELECT 1",
        "ANALYZE FORMAT=JSON SELECT 1",
        "SELECT `a;b`, 'x; DROP TABLE t', \"into\" FROM `into` WHERE `for` = 'update'",
        "SELECT 'it''s; fine', 'back\\\\'';still quoted' FROM t",
        "SELECT `t0`.`information` AS `forupdate` FROM `t` `t0`",
    ],
)
def test_reads_pass(sql: str) -> None:
    check_statement(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM shop_customer",
        "CREATE TABLE t (id int)",
        "DROP TABLE shop_customer",
        "TRUNCATE shop_customer",
        "SET autocommit = 1",
        "COMMIT",
        "ALTER TABLE shop_customer ADD x int",
        "EXPLAIN FORMAT=JSON DELETE FROM shop_customer",
        "ANALYZE FORMAT=JSON UPDATE t SET a = 1",
        "ANALYZE TABLE shop_customer",
        "SELECT 1; DELETE FROM shop_customer",
        "SELECT 1 ;",
        "SELECT id FROM t FOR UPDATE",
        "SELECT id FROM t FOR  share",
        "SELECT id FROM t LOCK IN SHARE MODE",
        "SELECT id INTO OUTFILE '/tmp/x' FROM t",
        "SELECT id FROM t INTO @x",
        "SELECT 'open quote; DELETE FROM t",
        "/* comment */ DELETE FROM t",
        "",
    ],
)
def test_everything_else_is_refused(sql: str) -> None:
    with pytest.raises(RefusedStatement) as info:
        check_statement(sql)
    assert "shop_customer" not in info.value.message


@pytest.mark.parametrize(
    ("pattern", "rewritten"),
    [
        ("Al%", "Al%"),
        ("a_b", "a_b"),
        ("50\\%\\_%", "50!%!_%"),
        ("wow!", "wow!!"),
        ("back\\\\slash", "back\\slash"),
        ("\\x", "x"),
        ("tail\\", "tail\\"),
        ("%!\\!%", "%!!!!%"),
    ],
)
def test_like_patterns_move_to_the_bang_escape(pattern: str, rewritten: str) -> None:
    assert mysql_like_pattern(pattern) == rewritten
