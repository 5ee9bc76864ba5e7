"""Every hostile statement of :data:`tests.query.rawsql_cases.HOSTILE` is refused by the checker
(pure: no database), with a stable code and a message that repeats nothing the caller did not
write; none of them produces SQL text."""

from __future__ import annotations

import re

import pytest

from prismiq_django.query.rawsql import SQL_ERROR_CODES, RawSQLError, check_sql
from tests.query.catalogs import SHOP
from tests.query.rawsql_cases import HOSTILE

CASES = [
    pytest.param(sql, vendor, id=f"{vendor}-{n}")
    for n, (sql, vendors) in enumerate(HOSTILE)
    for vendor in vendors
]


def test_the_hostile_file_is_large_enough() -> None:
    assert len(HOSTILE) >= 60
    assert len({sql for sql, _ in HOSTILE}) == len(HOSTILE)


@pytest.mark.parametrize(("sql", "vendor"), CASES)
def test_hostile_statement_is_refused(sql: str, vendor: str) -> None:
    with pytest.raises(RawSQLError) as caught:
        check_sql(sql, SHOP, vendor, params={"s": "x"} if ":s" in sql else None)
    errors = caught.value.errors
    assert errors
    for error in errors:
        assert error.code in SQL_ERROR_CODES
        # Names quoted in a message are the caller's own spelling (or a function/parameter
        # they wrote): nothing from the catalog or the database is revealed.
        written = sql.lower().replace('""', '"')  # a quoted name as the caller meant it
        for quoted in re.findall(r"'([^']*)'", error.message):
            assert quoted.lower().lstrip(":") in written, (quoted, sql)
        assert "Traceback" not in error.message
        assert "\x1b" not in error.message  # sqlglot's highlighted excerpt never leaks out


@pytest.mark.parametrize(
    ("sql", "code"),
    [
        ("SELECT 1; SELECT 2", "sql_multiple_statements"),
        ("DELETE FROM shop_order", "sql_not_a_query"),
        ("WITH d AS (DELETE FROM shop_order RETURNING *) SELECT * FROM d", "sql_not_a_query"),
        ("SELECT * INTO x FROM shop_order", "sql_forbidden_clause"),
        ("SELECT * FROM shop_order FOR UPDATE", "sql_forbidden_clause"),
        ("SELECT pg_sleep(1)", "sql_forbidden_function"),
        ("SELECT lo_unlink(1)", "sql_forbidden_function"),
        ("SELECT made_up_function(1)", "sql_forbidden_function"),
        ("SELECT * FROM api_canary", "table_not_found"),
        ("SELECT api_token FROM shop_customer", "column_not_found"),
        ("SELECT ctid FROM shop_order", "column_not_found"),
        (
            "SELECT id FROM shop_order o JOIN shop_customer c ON c.id = o.customer_id",
            "sql_ambiguous_column",
        ),
        ("SELECT id FROM shop_order WHERE id = ?", "sql_invalid_parameter"),
        ("SELECT $$x$$", "sql_unsupported"),
        ("SELECT * FROM shop_order WHERE", "sql_syntax_error"),
        ("", "sql_empty"),
    ],
)
def test_refusal_codes_are_stable(sql: str, code: str) -> None:
    with pytest.raises(RawSQLError) as caught:
        check_sql(sql, SHOP, "postgresql")
    assert [e.code for e in caught.value.errors] == [code]


def test_syntax_errors_give_a_position_not_the_text() -> None:
    with pytest.raises(RawSQLError) as caught:
        check_sql("SELECT id FROM shop_order WHERE (", SHOP, "postgresql")
    (error,) = caught.value.errors
    assert error.code == "sql_syntax_error"
    assert "shop_order" not in error.message
    assert "line 1" in error.message


def test_forbidden_functions_come_from_the_setting() -> None:
    assert check_sql("SELECT lower(name) FROM shop_customer", SHOP, "sqlite").sql
    with pytest.raises(RawSQLError) as caught:
        check_sql(
            "SELECT lower(name) FROM shop_customer", SHOP, "sqlite", forbidden_functions=["low*"]
        )
    assert caught.value.errors[0].code == "sql_forbidden_function"
