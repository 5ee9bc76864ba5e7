"""Adversarial checks of the one-message PostgreSQL path (``execution.guarded_statement``).

The path sends ``BEGIN READ ONLY; set_config(statement_timeout); <statement>; ROLLBACK`` as one
simple-protocol message. These tests try what could make it do more than one read-only
statement, leave state behind on the (pooled) connection, or report errors wrongly.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, connections

from prismiq_django.exceptions import QueryExecutionError, QueryTimeout
from prismiq_django.execution import execute_compiled
from tests.support.glue import Stmt, extra_alias

pytestmark = pytest.mark.postgres


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
    with django_db_blocker.unblock(), extra_alias("ssb", {"OPTIONS": options}) as alias:
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


HOSTILE_TABLE = "t; ROLLBACK; --x /* %s %% $1 ' \\ é"
HOSTILE_COLUMNS = {
    "id": "integer",
    "v; DELETE FROM shop_customer; --": "text",
    "n */ %(x)s '": "numeric",
    "ts $$ ` ROLLBACK": "timestamp with time zone",
}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@pytest.fixture
def hostile(transactional_db: None) -> Iterator[str]:
    from django.test import override_settings

    from prismiq_django import services

    columns = ", ".join(f"{_q(n)} {t}" for n, t in HOSTILE_COLUMNS.items())
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {_q(HOSTILE_TABLE)} ({columns})".replace("%", "%%"), [])
        cursor.execute(
            f"INSERT INTO {_q(HOSTILE_TABLE)} SELECT g, 'v' || (g % 7) || E' \\'; ROLLBACK; --',"
            " (g % 5) - 2.5, timestamptz '2024-01-01' + g * interval '7 hours'"
            " FROM generate_series(1, 300) g"
        )
    services.invalidate_catalog()
    with override_settings(PRISMIQ={"EXPOSED_TABLES": [HOSTILE_TABLE]}):
        yield HOSTILE_TABLE
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_q(HOSTILE_TABLE)}".replace("%", "%%"), [])


def test_hostile_identifiers_and_values_in_one_message(hostile: str) -> None:
    """Identifiers and string values with ``;``, ``--``, ``/*``, quotes, ``%``, ``$$``: the one
    message still carries exactly one read-only statement and ends its transaction."""
    from django.test.utils import CaptureQueriesContext

    from prismiq_django import services

    v, n, ts = list(HOSTILE_COLUMNS)[1:]
    ref = {"table_id": "t"}
    definition = {
        "tables": [{"id": "t", "name": hostile}],
        "columns": [
            {**ref, "column": v, "alias": "v'; ROLLBACK; --"},
            {**ref, "column": n, "aggregation": "sum", "alias": "s /* %s"},
            {**ref, "column": ts, "aggregation": "max", "alias": "m $1"},
            {**ref, "column": "id", "aggregation": "count", "alias": "k"},
        ],
        "filters": [
            {**ref, "column": n, "operator": "gt", "value": -2},
            {**ref, "column": n, "operator": "gt", "value": -3.5},
            {
                **ref,
                "column": v,
                "operator": "not_in",
                "value": ["'; ROLLBACK; DELETE FROM shop_customer; --", "$$ \\ %s %% */"],
            },
            {**ref, "column": v, "operator": "contains", "value": "ROLLBACK; --"},
        ],
        "group_by": [{**ref, "column": v}],
        "order_by": [{"alias": "s /* %s", "direction": "DESC"}, {"alias": "v'; ROLLBACK; --"}],
    }
    assert connection.get_autocommit()
    services.execute(
        None, {"tables": [{"id": "t", "name": hostile}], "columns": [ref | {"column": "id"}]}
    )
    with CaptureQueriesContext(connection) as captured:
        result = services.execute(None, definition, bypass_cache=True)
    sent = [q["sql"] for q in captured.captured_queries]
    assert len(sent) == 1
    assert sent[0].startswith("BEGIN READ ONLY;")
    assert sent[0].endswith("; ROLLBACK")
    assert result.columns == ["v'; ROLLBACK; --", "s /* %s", "m $1", "k"]
    assert result.row_count == 7
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_q(v)}, sum({_q(n)}) FROM {_q(hostile)} WHERE {_q(n)} > -2"
            f" GROUP BY 1 ORDER BY 2 DESC, 1".replace("%", "%%"),
            [],
        )
        expected = [[a, float(b)] for a, b in cursor.fetchall()]
    assert [row[:2] for row in result.rows] == expected
    _idle_and_clean("default")


def test_pooled_connection_keeps_its_own_settings_through_every_outcome(
    django_db_setup: None, django_db_blocker: Any
) -> None:
    """A persistent connection (``CONN_MAX_AGE``) whose role or server sets its own
    ``statement_timeout`` and ``default_transaction_read_only``: after a result, a timeout and a
    failed statement, it is idle, keeps those session values and is reused by Django."""
    options = {
        **connections.settings["default"].get("OPTIONS", {}),
        "options": "-c statement_timeout=30000 -c default_transaction_read_only=on",
    }
    overrides = {"CONN_MAX_AGE": 600, "OPTIONS": options}
    with django_db_blocker.unblock(), extra_alias("pooled", overrides) as alias:
        conn = connections[alias]
        conn.ensure_connection()
        pid = conn.connection.info.backend_pid

        def check() -> None:
            conn.close_if_unusable_or_obsolete()  # what Django does at the end of a request
            assert conn.connection is not None
            assert conn.connection.info.backend_pid == pid
            assert conn.connection.info.transaction_status == 0
            with conn.cursor() as cursor:
                cursor.execute(
                    "SELECT current_setting('statement_timeout'),"
                    " current_setting('default_transaction_read_only'),"
                    " current_setting('transaction_read_only')"
                )
                assert cursor.fetchone() == ("30s", "on", "on")

        result = execute_compiled(
            Stmt("SELECT current_setting('statement_timeout')", columns=("st",)),
            alias=alias,
            timeout=1.5,
        )
        assert result.rows == [["1500ms"]]
        check()
        with pytest.raises(QueryTimeout):
            execute_compiled(Stmt("SELECT pg_sleep(5)"), alias=alias, timeout=0.2)
        check()
        with pytest.raises(QueryExecutionError) as info:
            execute_compiled(Stmt("SELECT 1 / (SELECT 0)"), alias=alias, timeout=5)
        assert "division" not in info.value.message
        check()
        with pytest.raises(QueryExecutionError):
            execute_compiled(
                Stmt("SELECT count(*) FROM (DELETE FROM shop_customer RETURNING 1) d"),
                alias=alias,
                timeout=5,
            )
        check()


def test_a_nul_character_in_a_value_is_refused_before_the_database(hostile: str) -> None:
    """PostgreSQL text cannot hold NUL: the parser refuses the value, nothing is sent."""
    from prismiq_django import services
    from prismiq_django.query.errors import QueryValidationError

    v = list(HOSTILE_COLUMNS)[1]
    definition = {
        "tables": [{"id": "t", "name": hostile}],
        "columns": [{"table_id": "t", "column": "id"}],
        "filters": [{"table_id": "t", "column": v, "operator": "eq", "value": "a\x00b"}],
    }
    with pytest.raises(QueryValidationError):
        services.execute(None, definition, bypass_cache=True)
    _idle_and_clean("default")


@pytest.mark.django_db(transaction=True)
def test_a_transaction_django_does_not_know_about_is_never_rolled_back() -> None:
    """A transaction opened with a raw ``BEGIN`` on an autocommit connection: the one message's
    ``ROLLBACK`` would silently discard its work, so that path must not be taken."""
    from example_project.shop.models import Customer
    from prismiq_django.exceptions import PrismiqError

    assert connection.get_autocommit()
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute(
            "INSERT INTO shop_customer (tenant_id, name, email, city, country, is_active,"
            " created_at, api_token) VALUES (1, 'Kept', 'k@x', 'X', 'XX', true, now(), '')"
        )
    # Refusing is fine; losing the caller's transaction is not.
    with contextlib.suppress(PrismiqError):
        execute_compiled(Stmt("SELECT count(*) FROM shop_customer"), alias="default", timeout=5)
    with connection.cursor() as cursor:
        cursor.execute("COMMIT")
    assert list(Customer.objects.values_list("name", flat=True)) == ["Kept"]
