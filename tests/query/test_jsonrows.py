"""``query.jsonrows``: which statements PostgreSQL may encode, and the wrapper it gets (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from prismiq_django.query import Catalog, Column, Table, compile_query, get_dialect, parse
from prismiq_django.query.bucketlabels import zone_params
from prismiq_django.query.jsonrows import json_rows_sql

ELIGIBLE = [
    ("bigint", "integer"),
    ("integer", "integer"),
    ("smallint", "integer"),
    ("numeric(12,2)", "decimal"),
    ("numeric", "decimal"),
    ("double precision", "float"),
    ("real", "float"),
    ("text", "string"),
    ("character varying(20)", "string"),
    ("character(5)", "string"),
    ("boolean", "boolean"),
    ("uuid", "uuid"),
    ("date", "date"),
    ("timestamp with time zone", "datetime"),
    ("timestamp(3) without time zone", "datetime"),
    ("json", "json"),
    ("jsonb", "json"),
]
INELIGIBLE = [
    ("interval", "duration"),
    ("bytea", "binary"),
    ("time without time zone", "time"),
    ("integer[]", "array"),
    ("money", "decimal"),
    ("inet", "string"),
    ("mood", "string"),  # an enum
    ("positive_int", "integer"),  # a domain
    ("bigint", "string"),  # a mapping the JSON path does not expect
]


def _catalog(data_type: str, logical: str) -> Catalog:
    columns = (
        Column("id", "bigint", "integer", is_primary_key=True),
        Column("v", data_type, logical),  # type: ignore[arg-type]
    )
    return Catalog.build([Table("t_x", columns)])


def _wrapped(data_type: str, logical: str, definition: dict[str, Any]) -> str | None:
    catalog = _catalog(data_type, logical)
    query = parse(definition, catalog)
    compiled = compile_query(query, catalog, get_dialect("postgresql"))
    return json_rows_sql(query, compiled.sql)


def _select(*columns: dict[str, Any]) -> dict[str, Any]:
    return {"tables": [{"id": "a", "name": "t_x"}], "columns": list(columns)}


V = {"table_id": "a", "column": "v"}
ID = {"table_id": "a", "column": "id"}


@pytest.mark.parametrize(("data_type", "logical"), ELIGIBLE)
def test_eligible_types_are_wrapped(data_type: str, logical: str) -> None:
    sql = _wrapped(data_type, logical, _select(ID, V))
    assert sql is not None
    if logical in ("date", "datetime"):
        # Rows of dates in years 1..9999 get the plain array; others the expanded spelling.
        in_range = '("c1" IS NULL OR "c1" >= \'0001-01-01\' AND "c1" < \'10000-01-01\')'
        assert sql.startswith(
            f'SELECT CASE WHEN {in_range} THEN json_build_array("c0", "c1")::text ELSE '
        )
    else:
        assert sql.startswith('SELECT json_build_array("c0", ')
        assert "CASE WHEN (" not in sql  # no per-row test where no date can be out of range
    assert sql.endswith(') AS "q"("c0", "c1")')
    float_guard = "nullif(nullif(nullif(\"c1\", 'NaN'), 'Infinity'), '-Infinity')"
    decimal_guard = f'CASE WHEN abs("c1") < {2**1024 - 2**970}::numeric THEN "c1" END'
    assert (float_guard in sql) is (logical == "float")
    assert (decimal_guard in sql) is (logical == "decimal")


@pytest.mark.parametrize(("data_type", "logical"), INELIGIBLE)
def test_other_types_keep_the_python_path(data_type: str, logical: str) -> None:
    assert _wrapped(data_type, logical, _select(ID, V)) is None


def test_counts_are_eligible_over_any_type() -> None:
    count = {**V, "aggregation": "count", "alias": "n"}
    assert _wrapped("interval", "duration", _select(count)) is not None
    assert _wrapped("bytea", "binary", _select({**V, "aggregation": "count", "alias": "n"}))
    assert _wrapped("interval", "duration", _select(ID, V)) is None


def test_averages_of_integers_are_guarded_as_decimals() -> None:
    sql = _wrapped("integer", "integer", _select({**V, "aggregation": "avg", "alias": "m"}))
    assert sql is not None
    assert 'CASE WHEN abs("c0") < ' in sql


def test_the_wrapper_holds_the_compiled_statement_and_only_generated_names() -> None:
    hostile = 'x"); DROP TABLE t_x; --'
    catalog = _catalog("text", "string")
    definition = _select({**V, "alias": hostile}, ID)
    query = parse(definition, catalog)
    compiled = compile_query(query, catalog, get_dialect("postgresql"))
    sql = json_rows_sql(query, compiled.sql)
    assert sql is not None
    head, _, tail = sql.partition(compiled.sql)
    assert head == 'SELECT json_build_array("c0", "c1")::text FROM ('
    assert tail == ') AS "q"("c0", "c1")'
    assert hostile not in head + tail


_ZONE_JOIN = ' CROSS JOIN (SELECT CAST(%s AS text)) AS "z"("zone")'


def test_a_timestamptz_bucket_is_labelled_with_the_zone_one_more_parameter() -> None:
    """A ``timestamptz`` bucket's label carries the site zone's offset (issue 15 item 13): the
    wrapper spells it with the zone, its one parameter after the compiled statement's; a naive
    ``timestamp``'s bucket and a plain ``timestamptz`` need no zone."""
    bucket = _select({"table_id": "a", "column": "v", "date_trunc": "month"})
    plain = _select({"table_id": "a", "column": "v"})
    catalog = _catalog("timestamp with time zone", "datetime")
    query = parse(bucket, catalog)
    assert zone_params(query) == ("UTC",)
    zoned = _wrapped("timestamp with time zone", "datetime", bucket)
    assert zoned is not None
    assert zoned.endswith(_ZONE_JOIN)
    assert "%" not in zoned.replace("%s", "")  # mod(), never a literal percent sign
    for data_type, definition in [
        ("timestamp without time zone", bucket),
        ("timestamp with time zone", plain),
    ]:
        wrapped = _wrapped(data_type, "datetime", definition)
        assert wrapped is not None
        assert _ZONE_JOIN not in wrapped
        assert zone_params(parse(definition, _catalog(data_type, "datetime"))) == ()
