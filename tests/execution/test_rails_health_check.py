"""``CONN_HEALTH_CHECKS`` on the analytics alias: the one-message statement is the health check.

Django sends ``SELECT 1`` before a request's first query on a kept connection; on PostgreSQL's
one-message path prismiq's statement stands for it (``prismiq_django.backends.health``): no
``SELECT 1``, a connection dropped between requests replaced and the statement sent again, a
failure on a working connection raised once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.signals import request_finished, request_started
from django.db import connections
from django.test.utils import CaptureQueriesContext

from prismiq_django.exceptions import DatabaseUnavailable, QueryExecutionError, QueryTimeout
from prismiq_django.execution import execute_compiled, guarded_statement
from prismiq_django.execution.rails import Prelude
from tests.support.glue import Stmt, extra_alias

pytestmark = pytest.mark.postgres

KEPT = {"CONN_MAX_AGE": 600, "CONN_HEALTH_CHECKS": True}


@pytest.fixture
def kept(django_db_setup: None, django_db_blocker: Any) -> Iterator[str]:
    """An alias whose connection is kept between requests and checked before each one."""
    with django_db_blocker.unblock(), extra_alias("kept_checked", KEPT) as alias:
        yield alias


def _checks(alias: str, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The health checks (Django's ``is_usable``) made on ``alias``'s connection."""
    connection = connections[alias]
    made: list[bool] = []
    is_usable = connection.is_usable

    def counted() -> bool:
        usable = bool(is_usable())
        made.append(usable)
        return usable

    monkeypatch.setattr(connection, "is_usable", counted)
    return made


def _request(alias: str, stmt: Stmt, timeout: float = 5) -> Any:
    """One request's run of ``stmt``, between Django's request signals."""
    request_started.send(sender=__name__)
    try:
        return execute_compiled(stmt, alias=alias, timeout=timeout)
    finally:
        request_finished.send(sender=__name__)


def _backend(alias: str) -> int:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _terminate(alias: str, pid: int) -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])


SUM = Stmt("SELECT %s::int + 1 AS n", params=(41,), columns=("n",))


def test_no_select_1_before_the_statement(kept: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _request(kept, SUM).rows == [[42]]  # the connection opened: healthy, nothing checked
    checks = _checks(kept, monkeypatch)
    for _ in range(3):
        with CaptureQueriesContext(connections[kept]) as seen:
            assert _request(kept, SUM).rows == [[42]]
        assert len(seen.captured_queries) == 1  # the one message
    assert checks == []
    request_started.send(sender=__name__)
    assert execute_compiled(SUM, alias=kept, timeout=5).rows == [[42]]
    with connections[kept].cursor() as cursor:  # Django's own query, after ours in the request
        cursor.execute("SELECT 1")
    request_finished.send(sender=__name__)
    assert checks == []
    request_started.send(sender=__name__)
    with connections[kept].cursor() as cursor:  # Django's own query first: Django's check
        cursor.execute("SELECT 1")
    request_finished.send(sender=__name__)
    assert checks == [True]


def test_a_connection_dropped_between_requests_is_replaced(kept: str) -> None:
    assert _request(kept, SUM).rows == [[42]]
    for _ in range(2):
        dropped = _backend(kept)
        _terminate(kept, dropped)
        result = _request(kept, SUM)
        assert result.rows == [[42]]
        assert _backend(kept) != dropped
        with connections[kept].cursor() as cursor:
            cursor.execute("SELECT current_setting('transaction_read_only')")
            assert cursor.fetchone() == ("off",)  # the message's transaction was rolled back


def test_the_retried_statement_gets_what_is_left_of_the_timeout(kept: str) -> None:
    """The second sending runs under the same deadline: a sleep longer than the timeout is
    still cut at the timeout, once."""
    assert _request(kept, SUM).rows == [[42]]
    _terminate(kept, _backend(kept))
    with CaptureQueriesContext(connections[kept]) as seen, pytest.raises(QueryTimeout):
        _request(kept, Stmt("SELECT pg_sleep(%s)", params=(5,)), timeout=0.3)
    assert len(seen.captured_queries) == 2  # the dead connection's, then the new one's


def test_a_failure_on_a_working_connection_is_raised_once(
    kept: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _request(kept, SUM).rows == [[42]]
    checks = _checks(kept, monkeypatch)
    with CaptureQueriesContext(connections[kept]) as seen, pytest.raises(QueryExecutionError):
        _request(kept, Stmt("SELECT 1 / (%s::int - 1)", params=(1,)))
    assert len(seen.captured_queries) == 1
    assert checks == []  # the error says the connection works: no round trip to ask it
    with pytest.raises(QueryTimeout):
        _request(kept, Stmt("SELECT pg_sleep(%s)", params=(5,)), timeout=0.2)
    assert _request(kept, SUM).rows == [[42]]


def test_a_statement_whose_backend_is_terminated_while_it_runs_is_not_sent_again(
    kept: str,
) -> None:
    """Only a connection dead before the statement is replaced: a running query ended by the
    server (an operator's ``pg_terminate_backend``) is lost, as without the check."""
    assert _request(kept, SUM).rows == [[42]]
    pid = _backend(kept)

    def terminate_from_another_thread() -> None:
        try:
            _terminate(kept, pid)
        finally:
            connections.close_all()  # this thread's own connections

    killer = threading.Timer(1.5, terminate_from_another_thread)  # well after STALE_WITHIN
    killer.start()
    try:
        with CaptureQueriesContext(connections[kept]) as seen, pytest.raises(DatabaseUnavailable):
            _request(kept, Stmt("SELECT pg_sleep(%s)", params=(4,)), timeout=6)
    finally:
        killer.join()
    assert len(seen.captured_queries) == 1
    assert _request(kept, SUM).rows == [[42]]  # the next request: a new connection


def test_a_statement_with_a_prelude_sent_again_answers_both(kept: str) -> None:
    """``count_total``'s prelude travels in the same message: sent again on the new
    connection, it holds the new connection's answer, and the statement's rows follow it."""
    assert _request(kept, SUM).rows == [[42]]
    dropped = _backend(kept)
    _terminate(kept, dropped)
    prelude = Prelude("SELECT count(*) FROM generate_series(1, %s)", [7])
    request_started.send(sender=__name__)
    try:
        statement = guarded_statement(
            kept, 5, "SELECT pg_backend_pid(), %s::text", ["é'; --"], prelude=prelude
        )
        with statement as (_, cursor):
            (pid, text), *rest = cursor.fetchall()
    finally:
        request_finished.send(sender=__name__)
    assert (prelude.value, text, rest) == (7, "é'; --", [])
    assert pid != dropped
