"""Fixtures of the catalog tests (glue and operations fixtures)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.db import connection

from tests.support.glue import fresh_catalog  # noqa: F401  (autouse: a clean catalog cache)
from tests.support.ops import (  # noqa: F401  (fixtures; isolated_cache is autouse)
    customers,
    dead_cache,
    dead_database,
    exposed_shop,
    isolated_cache,
    log_lines,
    other_user,
    staff,
    user,
    with_middleware,
)


@pytest.fixture
def drop_added_column() -> Iterator[Callable[[str, str], None]]:
    """``drop_added_column(table, column)`` names a column the test adds with ``ALTER TABLE``;
    on MySQL/MariaDB, whose DDL commits (the test's rollback does not undo it, nor does the
    suite's teardown hook, which only drops added tables and deletes added rows), it is dropped
    after the test, so that a later test in the same database does not see it."""
    added: list[tuple[str, str]] = []
    yield lambda table, column: added.append((table, column))
    if connection.vendor != "mysql" or not added:
        return
    with connection.cursor() as cursor:
        for table, column in added:
            cursor.execute(
                "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()"
                " AND TABLE_NAME = %s AND COLUMN_NAME = %s",
                [table, column],
            )
            if cursor.fetchone()[0]:
                cursor.execute(f"ALTER TABLE `{table}` DROP COLUMN `{column}`")
