"""``query.csvrows``: which statements PostgreSQL may spell as CSV, and the COPY it gets (pure).

That the spelling equals the Python path's is tested on real PostgreSQL in tests/exports.
"""

from __future__ import annotations

from typing import Any

import pytest

from prismiq_django.query import Catalog, Column, Table, compile_query, get_dialect, parse
from prismiq_django.query.csvrows import csv_copy_sql

SPELLED = [
    ("bigint", "integer"),
    ("integer", "integer"),
    ("numeric(12,2)", "decimal"),
    ("double precision", "float"),
    ("text", "string"),
    ("character varying(20)", "string"),
    ("boolean", "boolean"),
    ("uuid", "uuid"),
    ("date", "date"),
    ("timestamp with time zone", "datetime"),
    ("timestamp(3) without time zone", "datetime"),
]
NOT_SPELLED = [
    ("json", "json"),
    ("jsonb", "json"),
    ("character(5)", "string"),  # blank-padded: the text expressions would drop the padding
    ("interval", "duration"),
    ("bytea", "binary"),
    ("time without time zone", "time"),
    ("integer[]", "array"),
    ("inet", "string"),
    ("positive_int", "integer"),  # a domain
]


def _copy(data_type: str, logical: str, escape: bool = True, **extra: Any) -> str | None:
    columns = (
        Column("id", "bigint", "integer", is_primary_key=True),
        Column("v", data_type, logical),  # type: ignore[arg-type]
    )
    catalog = Catalog.build([Table("t_x", columns)])
    definition = {
        "tables": [{"id": "a", "name": "t_x"}],
        "columns": [{"table_id": "a", "column": "id"}, {"table_id": "a", "column": "v", **extra}],
    }
    query = parse(definition, catalog)
    compiled = compile_query(query, catalog, get_dialect("postgresql"))
    return csv_copy_sql(query, compiled.sql, escape_formulas=escape)


@pytest.mark.parametrize(("data_type", "logical"), SPELLED)
def test_spelled_types_get_a_copy_statement(data_type: str, logical: str) -> None:
    sql = _copy(data_type, logical)
    assert sql is not None
    assert sql.startswith('COPY (SELECT "c0", ')
    assert sql.endswith(' AS "q"("c0", "c1") LIMIT %s) TO STDOUT (FORMAT csv)')
    assert sql.count("%s") == 2  # the compiled LIMIT and the export's row count


@pytest.mark.parametrize(("data_type", "logical"), NOT_SPELLED)
def test_other_types_keep_the_python_path(data_type: str, logical: str) -> None:
    assert _copy(data_type, logical) is None


def test_text_is_escaped_unless_escaping_is_off() -> None:
    escaped = _copy("text", "string")
    plain = _copy("text", "string", escape=False)
    assert escaped is not None
    assert plain is not None
    assert "ascii(\"c1\"::text) IN (61, 43, 45, 64) THEN '''' || \"c1\"::text" in escaped
    assert plain.startswith('COPY (SELECT "c0", "c1" FROM')


def test_booleans_and_dates_are_spelled_like_json() -> None:
    boolean = _copy("boolean", "boolean")
    assert boolean is not None
    assert "CASE WHEN \"c1\" THEN 'true' WHEN NOT \"c1\" THEN 'false' END" in boolean
    stamp = _copy("timestamp with time zone", "datetime")
    assert stamp is not None
    assert 'to_json("c1")' in stamp
    assert "#>> '{}'" in stamp


def test_counts_of_anything_are_spelled() -> None:
    assert _copy("jsonb", "json", aggregation="count") is not None


def test_no_percent_sign_but_the_placeholders() -> None:
    for data_type, logical in SPELLED:
        sql = _copy(data_type, logical)
        assert sql is not None
        assert sql.replace("%s", "").count("%") == 0


def test_zoned_timestamps_are_their_utc_wall_clock_time_and_text_tests_letters_first() -> None:
    stamp = _copy("timestamp with time zone", "datetime")
    assert stamp is not None
    assert "replace((\"c1\" AT TIME ZONE INTERVAL '00:00')::text, ' ', 'T') || '+00:00'" in stamp
    naive = _copy("timestamp(3) without time zone", "datetime")
    assert naive is not None
    assert "AT TIME ZONE" not in naive
    assert "THEN replace(\"c1\"::text, ' ', 'T') ELSE" in naive
    escaped = _copy("text", "string")
    assert escaped is not None
    assert 'CASE WHEN ascii("c1"::text) > 64 THEN "c1"::text WHEN ascii("c1"::text) IN (' in escaped
