"""Catalog identifiers with quotes, percent signs, ``%s`` and non-ASCII run on the real database.

The table is created with raw DDL (no parameters, so no ``%`` escaping); the compiled statement
has parameters, so Django's cursor turns its doubled ``%%`` back into ``%``. Both must name the
same objects.
"""

from __future__ import annotations

import pytest
from django.db import connection

from prismiq_django.query import Catalog, Column, Table, build
from tests.semantics.conftest import run, sql_names

TABLE = 'we"ird%s tab'
COLUMNS = (
    Column("id", "integer", "integer"),
    Column('co"l', "varchar", "string"),
    Column("100%", "integer", "integer"),
    Column("ü ñ", "varchar", "string"),
    Column("a%sb", "integer", "integer"),
)


def _q(name: str) -> str:
    mark = "`" if connection.vendor == "mysql" else '"'  # MySQL quotes with backticks
    return mark + name.replace(mark, mark * 2) + mark


@pytest.fixture
def hostile_table(db: None) -> Catalog:
    with connection.cursor() as cursor:
        names = [_q(c.name) for c in COLUMNS]
        types = ["integer", "varchar(20)", "integer", "varchar(20)", "integer"]
        columns = ", ".join(f"{n} {t}" for n, t in zip(names, types, strict=True))
        cursor.execute(f"CREATE TABLE {_q(TABLE)} ({columns})")
        for row in [(1, "x", 10, "é", 5), (2, "y", 20, "e", 5), (3, "x", 30, None, 6)]:
            cursor.execute(
                f"INSERT INTO {_q(TABLE).replace('%', '%%')} VALUES (%s, %s, %s, %s, %s)", list(row)
            )  # fmt: skip
    return Catalog.build([Table(TABLE, COLUMNS)])


def test_hostile_identifiers_execute(hostile_table: Catalog) -> None:
    compiled = build(
        {
            "tables": [{"id": "t", "name": TABLE}],
            "columns": [
                {"table_id": "t", "column": 'co"l', "alias": '"%s%%'},
                {"table_id": "t", "column": "100%", "aggregation": "sum", "alias": "50% off"},
                {"table_id": "t", "column": "a%sb", "aggregation": "max"},
            ],
            "filters": [
                {"table_id": "t", "column": "ü ñ", "operator": "is_not_null"},
                {"table_id": "t", "column": "100%", "operator": "lt", "value": 100},
            ],
            "order_by": [{"alias": "50% off", "direction": "DESC"}],
        },
        hostile_table,
        connection.vendor,
    )
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, compiled.params)
        assert [d[0] for d in cursor.description] == sql_names(['"%s%%', "50% off", "a%sb"])
        assert list(compiled.columns) == ['"%s%%', "50% off", "a%sb"]
        rows = [tuple(r) for r in cursor.fetchall()]
    assert rows == [("x", 10, 5), ("y", 20, 5)] or rows == [("y", 20, 5), ("x", 10, 5)]
    assert rows[0][1] == 20
    assert run(f"SELECT COUNT(*) FROM {_q(TABLE)}".replace("%", "%%"), [])[0][0] == 3
