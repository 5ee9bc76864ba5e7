"""Table names with quotes, line breaks, tabs, backslashes, U+2028 and non-ASCII letters survive
the cached catalog's JSON lines: a worker decoding them lazily finds each table, keeps its hidden
column hidden and its row scope in force."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import override_settings

from prismiq_django import services
from prismiq_django.catalog import store
from prismiq_django.catalog.codec import EncodedTables
from prismiq_django.models import ExposedTable
from prismiq_django.query import QueryValidationError

NAMES = [
    "naïve_ü",
    'qu"ote',
    "new\nline",
    "x" * 60,
    "日本語テーブル",
    "tab\tle",
    "back\\slash",
    "u\u2028sep",
]


def _quoted(name: str) -> str:
    mark = "`" if connection.vendor == "mysql" else '"'  # MySQL quotes with backticks
    return mark + name.replace(mark, mark * 2) + mark


@pytest.fixture
def odd_tables(transactional_db: None) -> Iterator[None]:
    with connection.cursor() as cursor:
        for name in NAMES:
            cursor.execute(
                f"CREATE TABLE {_quoted(name)} "
                "(id integer primary key, tenant_id integer, secret_token text)"
            )
            cursor.execute(f"INSERT INTO {_quoted(name)} VALUES (1, 1, 's1'), (2, 2, 's2')")
    yield
    with connection.cursor() as cursor:
        for name in NAMES:
            cursor.execute(f"DROP TABLE {_quoted(name)}")


def test_odd_table_names_through_the_lazily_decoded_catalog(odd_tables: None) -> None:
    for name in NAMES:
        row = ExposedTable.objects.create(name=name, is_exposed=True, tenant_column="tenant_id")
        row.columns.create(name="secret_token", is_hidden=True)
    prismiq = {
        "SCHEMA_CACHE_TTL": 3600,
        "RATE_LIMIT": None,
        "TENANT_CALLBACK": "tests.support.tenants.tenant_of",
    }
    with override_settings(PRISMIQ=prismiq):
        services.invalidate_catalog()
        built = services.exposed_catalog()
        assert set(NAMES) <= set(built.tables)
        store.forget_process_memo()  # another worker: decodes the stored entry
        lazy = services.exposed_catalog()
        assert isinstance(lazy.tables, EncodedTables)
        for name in NAMES:
            assert lazy.tables[name] == built.tables[name]
            assert lazy.tables[name].column("secret_token") is None
            query = {
                "tables": [{"id": "t", "name": name}],
                "columns": [{"table_id": "t", "column": "id"}],
            }
            rows = services.execute(SimpleNamespace(tenant=1), query, bypass_cache=True).rows
            assert [list(r) for r in rows] == [[1]], name
            assert services.column_values(SimpleNamespace(tenant=2), name, "id") == [2]
            with pytest.raises(QueryValidationError):
                services.execute(None, query)  # no tenant: refused
        assert b"secret_token" not in services.schema_json(None)
