"""MariaDB's rails on the real server: the read-only transaction, the statement gate, the
statement timeout (504), the session left as it was, and errors read by number."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection, transaction

from example_project.shop.models import Customer
from prismiq_django.backends.mysql.rails import RefusedStatement
from prismiq_django.exceptions import DatabaseUnavailable, QueryExecutionError, QueryTimeout
from prismiq_django.execution import execute_compiled
from prismiq_django.execution.rails import guarded_cursor
from tests.support.glue import Stmt

pytestmark = pytest.mark.mysql

ALIAS = "default"
_WRITER = "glue_writer"


def _customer(name: str) -> Customer:
    return Customer.objects.create(
        tenant_id=1, name=name, email="e@x", city="c", country="FR", created_at="2024-01-01T00:00Z"
    )


@pytest.fixture
def writing_function(django_db_blocker: Any) -> Any:
    """A stored function that deletes every customer: a SELECT that writes, which only the
    READ ONLY transaction can stop (the gate sees a plain SELECT)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP FUNCTION IF EXISTS {_WRITER}")
        cursor.execute(
            f"CREATE FUNCTION {_WRITER}() RETURNS INT MODIFIES SQL DATA"
            " BEGIN DELETE FROM shop_customer; RETURN 1; END"
        )
    yield _WRITER
    with connection.cursor() as cursor:
        cursor.execute(f"DROP FUNCTION IF EXISTS {_WRITER}")


@pytest.mark.django_db(transaction=True)
def test_the_transaction_is_read_only_when_the_run_opens_it(writing_function: str) -> None:
    _customer("Ada")
    assert connection.get_autocommit()
    with pytest.raises(QueryExecutionError) as info:
        execute_compiled(Stmt(f"SELECT {writing_function}() AS n"), alias=ALIAS, timeout=5)
    assert not isinstance(info.value, RefusedStatement)  # the server refused it (error 1792)
    assert Customer.objects.count() == 1
    # The next transaction is an ordinary one again.
    with transaction.atomic():
        _customer("Bob")
    assert Customer.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_ddl_is_never_sent_even_inside_a_callers_transaction() -> None:
    """MariaDB commits the open transaction before DDL, READ ONLY or not: the gate refuses it
    before it reaches the server, so the caller's uncommitted work stays uncommitted."""
    with transaction.atomic():
        _customer("Ada")
        for sql in ("CREATE TABLE glue_ddl (id int)", "DROP TABLE shop_customer"):
            with pytest.raises(RefusedStatement):
                execute_compiled(Stmt(sql), alias=ALIAS, timeout=5)
        transaction.set_rollback(True)
    assert Customer.objects.count() == 0  # rolled back: nothing committed it on the way
    with connection.cursor() as cursor:
        cursor.execute("SHOW TABLES LIKE 'glue_ddl'")
        assert cursor.fetchall() == ()


@pytest.mark.django_db
def test_every_statement_of_the_run_goes_through_the_gate() -> None:
    with guarded_cursor(ALIAS, 5) as (_, cursor):
        cursor.execute("SELECT 1", ())
        assert cursor.fetchone() == (1,)
        with pytest.raises(RefusedStatement):
            cursor.execute("DELETE FROM shop_customer", ())


@pytest.mark.django_db(transaction=True)
def test_the_timeout_is_the_servers_and_a_query_timeout() -> None:
    started = time.monotonic()
    with pytest.raises(QueryTimeout):
        execute_compiled(Stmt("SELECT SLEEP(5) AS s"), alias=ALIAS, timeout=0.5)
    assert time.monotonic() - started < 3
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@SESSION.max_statement_time")
        assert float(cursor.fetchone()[0]) == 0


@pytest.mark.django_db(transaction=True)
def test_kill_query_by_an_administrator_is_unavailable_not_a_timeout() -> None:
    import MySQLdb

    connection.ensure_connection()
    thread_id = connection.connection.thread_id()
    params = connection.get_connection_params()

    def kill_soon() -> None:
        time.sleep(0.5)
        admin = MySQLdb.connect(**params)
        try:
            admin.cursor().execute(f"KILL QUERY {int(thread_id)}")
        finally:
            admin.close()

    killer = threading.Thread(target=kill_soon)
    killer.start()
    try:
        with pytest.raises(DatabaseUnavailable):
            execute_compiled(Stmt("SELECT SLEEP(5) AS s"), alias=ALIAS, timeout=30)
    finally:
        killer.join()
    result = execute_compiled(Stmt("SELECT 1 AS one", columns=("one",)), alias=ALIAS, timeout=5)
    assert result.rows == [[1]]
