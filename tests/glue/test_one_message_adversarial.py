"""Adversarial checks of the one-message PostgreSQL path (``execution.guarded_statement``).

The path sends ``BEGIN READ ONLY; set_config(statement_timeout); <statement>; ROLLBACK`` as one
simple-protocol message. These tests try what could make it do more than one read-only
statement, leave state behind on the (pooled) connection, or report errors wrongly.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection, connections

from prismiq_django.exceptions import QueryExecutionError, QueryTimeout
from prismiq_django.execution import execute_compiled
from tests.glue.conftest import Stmt

pytestmark = pytest.mark.postgres


@contextmanager
def _extra_alias(name: str, overrides: dict[str, Any]) -> Iterator[str]:
    config = {**connections.settings["default"], **overrides}
    connections.settings[name] = config
    try:
        yield name
    finally:
        if name in connections:
            connections[name].close()
            del connections[name]
        del connections.settings[name]


def _idle_and_clean(alias: str) -> None:
    conn = connections[alias]
    assert conn.connection.info.transaction_status == 0  # idle: nothing left open
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('statement_timeout'), current_setting('transaction_read_only')"
        )
        assert cursor.fetchone() == ("0", "off")


def test_server_side_binding_alias_runs_queries(
    django_db_setup: None, django_db_blocker: Any
) -> None:
    """``OPTIONS: {"server_side_binding": True}``: psycopg sends parameters separately, in the
    extended protocol, which refuses several statements in one message: the path must not be
    the one-message one there, and queries with parameters must still run under the rails."""
    options = {**connections.settings["default"].get("OPTIONS", {}), "server_side_binding": True}
    with django_db_blocker.unblock(), _extra_alias("ssb", {"OPTIONS": options}) as alias:
        result = execute_compiled(
            Stmt(
                "SELECT %s::int + 1 AS n, current_setting('transaction_read_only') AS ro,"
                " current_setting('statement_timeout') AS st",
                params=(41,),
                columns=("n", "ro", "st"),
            ),
            alias=alias,
            timeout=2.5,
        )
        assert result.rows == [[42, "on", "2500ms"]]
        _idle_and_clean(alias)
        with pytest.raises(QueryTimeout):
            execute_compiled(Stmt("SELECT pg_sleep(%s)", params=(5,)), alias=alias, timeout=0.2)
        _idle_and_clean(alias)
        with pytest.raises(QueryExecutionError):
            execute_compiled(
                Stmt("SELECT count(*) FROM (DELETE FROM shop_customer RETURNING 1) d"),
                alias=alias,
                timeout=5,
            )
        _idle_and_clean(alias)
