"""Execution rails on real SQLite, PostgreSQL and MariaDB: read-only, timeout, row cap, errors."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from django.db import connection, connections

from example_project.shop.models import Customer
from prismiq_django.exceptions import DatabaseUnavailable, QueryExecutionError, QueryTimeout
from prismiq_django.execution import execute_compiled, explain_compiled
from tests.support.glue import Stmt, admin_connection, extra_alias, slow_refusal

ALIAS = "default"
COUNT_TO = (
    "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < %s) "
    "SELECT n FROM s ORDER BY n LIMIT %s"
)


def _customer(name: str = "Ada", tenant: int = 1) -> Customer:
    return Customer.objects.create(
        tenant_id=tenant,
        name=name,
        email=f"{name.lower()}@example.com",
        city="Paris",
        country="FR",
        created_at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


def _writes() -> list[str]:
    writes = [
        "INSERT INTO shop_customer (tenant_id, name, email, city, country, is_active, created_at,"
        " api_token) VALUES (9, 'Eve', 'e@x', 'X', 'XX', true, '2024-01-01', '')",
        "UPDATE shop_customer SET name = 'Mallory'",
        "DELETE FROM shop_customer",
    ]
    if connection.vendor == "postgresql":
        writes.append("WITH d AS (DELETE FROM shop_customer RETURNING id) SELECT count(*) FROM d")
        writes.append("SELECT n FROM (SELECT 1 AS n) s; DELETE FROM shop_customer")
    if connection.vendor == "mysql":
        # DDL commits the transaction before it runs (READ ONLY or not): refused unsent.
        writes.append("TRUNCATE TABLE shop_customer")
        writes.append("CREATE TABLE glue_written (id int)")
        writes.append("SELECT id FROM shop_customer; DELETE FROM shop_customer")
        writes.append("SELECT id FROM shop_customer FOR UPDATE")
        writes.append("SELECT id INTO @stolen FROM shop_customer LIMIT 1")
        writes.append("REPLACE INTO shop_customer (id) SELECT id FROM shop_customer")
    return writes


def _assert_writes_refused() -> None:
    _customer()
    for sql in _writes():
        with pytest.raises(QueryExecutionError) as info:
            execute_compiled(Stmt(sql), alias=ALIAS, timeout=5)
        assert "shop_customer" not in info.value.message
        assert "read-only" not in info.value.message
    assert list(Customer.objects.values_list("name", flat=True)) == ["Ada"]
    # The rails are gone afterwards: ordinary writes work again on the same connection.
    _customer("Bob")
    assert Customer.objects.count() == 2


@pytest.mark.django_db
def test_writes_are_refused_inside_a_test_transaction() -> None:
    _assert_writes_refused()


@pytest.mark.django_db(transaction=True)
def test_writes_are_refused_in_autocommit_mode() -> None:
    assert connection.get_autocommit()
    _assert_writes_refused()


def _slow_sql() -> str:
    if connection.vendor == "postgresql":
        return "SELECT pg_sleep(5)"
    if connection.vendor == "mysql":
        return "SELECT SLEEP(5)"
    return "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s) SELECT count(*) FROM s"


def _mysql_session() -> tuple[float, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@SESSION.max_statement_time, @@SESSION.time_zone")
        limit, zone = cursor.fetchone()
    return float(limit), str(zone)


def _assert_timeout_then_usable() -> None:
    before = _mysql_session()[1] if connection.vendor == "mysql" else ""
    started = time.monotonic()
    with pytest.raises(QueryTimeout):
        execute_compiled(Stmt(_slow_sql()), alias=ALIAS, timeout=0.3)
    assert time.monotonic() - started < 3
    result = execute_compiled(Stmt("SELECT 1 AS one", columns=("one",)), alias=ALIAS, timeout=5)
    assert result.rows == [[1]]
    assert Customer.objects.count() == 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "0"
            cursor.execute("SHOW transaction_read_only")
            assert cursor.fetchone()[0] == "off"
    if connection.vendor == "mysql":  # the limit and the zone were the statement's alone
        assert _mysql_session() == (0, before)


@pytest.mark.django_db
def test_timeout_stops_the_statement_and_the_connection_stays_usable() -> None:
    _assert_timeout_then_usable()


@pytest.mark.django_db(transaction=True)
def test_timeout_in_autocommit_mode() -> None:
    _assert_timeout_then_usable()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("available", "truncated"), [(4, False), (5, False), (6, True), (0, False)]
)
def test_truncated_is_exact_around_the_cap(available: int, truncated: bool) -> None:
    cap = 5
    stmt = Stmt(COUNT_TO, params=(max(available, 1), cap + 1), columns=("n",), limit=cap)
    if available == 0:
        stmt = Stmt(
            COUNT_TO.replace("SELECT n FROM s", "SELECT n FROM s WHERE n < 0"),
            params=(1, cap + 1),
            columns=("n",),
            limit=cap,
        )
    result = execute_compiled(stmt, alias=ALIAS, timeout=5, column_types=["integer"])
    assert result.truncated is truncated
    assert result.rows == [[n] for n in range(1, min(available, cap) + 1)]
    assert result.row_count == len(result.rows)
    assert result.columns == ["n"]
    assert result.column_types == ["integer"]


@pytest.mark.django_db
def test_fetch_never_returns_more_than_limit_even_if_the_sql_has_no_cap() -> None:
    stmt = Stmt(COUNT_TO, params=(50, 1000), columns=("n",), limit=3)
    result = execute_compiled(stmt, alias=ALIAS, timeout=5)
    assert result.rows == [[1], [2], [3]]
    assert result.truncated is True


@pytest.mark.django_db
def test_database_error_becomes_a_generic_execution_error() -> None:
    with pytest.raises(QueryExecutionError) as info:
        execute_compiled(Stmt("SELECT * FROM no_such_table_xyz"), alias=ALIAS, timeout=5)
    assert "no_such_table_xyz" not in str(info.value)
    assert info.value.message == QueryExecutionError.default_message
    assert Customer.objects.count() == 0  # the connection is still usable


def test_unreachable_database_is_unavailable(tmp_path: Any, django_db_blocker: Any) -> None:
    if connection.vendor == "postgresql":
        overrides: dict[str, Any] = {"HOST": "127.0.0.1", "PORT": 1, "NAME": "nope"}
    else:
        overrides = {"NAME": str(tmp_path / "missing-dir" / "db.sqlite3")}
    with (
        django_db_blocker.unblock(),
        extra_alias("unreachable", overrides) as alias,
        pytest.raises(DatabaseUnavailable),
    ):
        execute_compiled(Stmt("SELECT 1"), alias=alias, timeout=5)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_dropped_connection_is_unavailable_then_recovers() -> None:
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    killer = admin_connection()
    try:
        killer.execute("SELECT pg_terminate_backend(%s)", [pid])
        for _ in range(100):  # wait until the backend is really gone
            if not killer.execute(
                "SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]
            ).fetchone():
                break
            time.sleep(0.05)
    finally:
        killer.close()
    with pytest.raises(DatabaseUnavailable):
        execute_compiled(Stmt("SELECT 1"), alias=ALIAS, timeout=5)
    connection.close_if_unusable_or_obsolete()
    result = execute_compiled(Stmt("SELECT 1 AS one", columns=("one",)), alias=ALIAS, timeout=5)
    assert result.rows == [[1]]


PG_TYPES_SQL = """
SELECT 1::int2 AS i2, 2::int4 AS i4, 9007199254740993::int8 AS i8, 12.50::numeric(10,2) AS num,
       123456789012345678901234567890::numeric AS bignum,
       9007199254740993::numeric AS big_exact, 1.5::float8 AS f8, 'x'::text AS txt,
       'y'::varchar(5) AS vc, true AS flag, DATE '2024-01-02' AS d,
       TIMESTAMPTZ '2024-01-02 03:04:05.5+00' AS ts, TIMESTAMP '2024-01-02 03:04:05' AS ts_naive,
       TIME '03:04:05' AS t, INTERVAL '1 day 2 hours' AS dur, '{"a": [1, 2.5]}'::jsonb AS jb,
       '{"b": null}'::json AS j, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u,
       '\\xdeadbeef'::bytea AS bin, ARRAY[1, 2]::int[] AS arr, ARRAY['2024-01-01'::date] AS darr,
       'NaN'::float8 AS nan, '10.0.0.1'::inet AS ip, int4range(1, 5) AS rng,
       'Infinity'::numeric AS inf, -0.001::numeric AS tiny, TIMETZ '03:04:05+02' AS ttz
"""
PG_EXPECTED = {
    "i2": ("integer", 1),
    "i4": ("integer", 2),
    "i8": ("integer", 9007199254740993),
    "num": ("decimal", 12.5),
    "bignum": ("decimal", 1.2345678901234568e29),
    "big_exact": ("decimal", 9007199254740993),
    "f8": ("float", 1.5),
    "txt": ("string", "x"),
    "vc": ("string", "y"),
    "flag": ("boolean", True),
    "d": ("date", "2024-01-02"),
    "ts": ("datetime", "2024-01-02T03:04:05.500000+00:00"),
    "ts_naive": ("datetime", "2024-01-02T03:04:05"),
    "t": ("time", "03:04:05"),
    "dur": ("duration", 93600.0),
    "jb": ("json", {"a": [1, 2.5]}),
    "j": ("json", {"b": None}),
    "u": ("uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
    "bin": ("binary", "3q2+7w=="),
    "arr": ("array", [1, 2]),
    "darr": ("array", ["2024-01-01"]),
    "nan": ("float", None),
    "ip": ("string", "10.0.0.1"),
    "rng": ("unknown", "[1, 5)"),
    "inf": ("decimal", None),
    "tiny": ("decimal", -0.001),
    "ttz": ("time", "03:04:05+02:00"),
}


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_types_and_values_round_trip() -> None:
    names = tuple(PG_EXPECTED)
    sql = PG_TYPES_SQL
    both = f"{sql} UNION ALL SELECT {', '.join('NULL' for _ in names)}"
    result = execute_compiled(Stmt(both, columns=names), alias=ALIAS, timeout=5)
    assert result.columns == list(names)
    assert dict(zip(names, result.column_types, strict=True)) == {
        k: v[0] for k, v in PG_EXPECTED.items()
    }
    assert dict(zip(names, result.rows[0], strict=True)) == {
        k: v[1] for k, v in PG_EXPECTED.items()
    }
    assert result.rows[1] == [None] * len(names)
    empty = execute_compiled(Stmt(f"{sql} WHERE false", columns=names), alias=ALIAS, timeout=5)
    assert empty.rows == []
    assert empty.columns == list(names)
    assert empty.column_types == result.column_types


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_enum_and_domain_types_from_the_description() -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TYPE glue_mood AS ENUM ('sad', 'happy')")
        cursor.execute("CREATE DOMAIN glue_money AS numeric(10, 2) CHECK (VALUE >= 0)")
    sql = (
        "SELECT 'happy'::glue_mood AS mood, 3.25::glue_money AS price, "
        "ARRAY['sad'::glue_mood] AS moods"
    )
    result = execute_compiled(Stmt(sql, columns=("mood", "price", "moods")), alias=ALIAS, timeout=5)
    assert result.column_types == ["string", "decimal", "array"]
    assert result.rows == [["happy", 3.25, ["sad"]]]


@pytest.mark.django_db
def test_model_values_round_trip_with_hints() -> None:
    from example_project.shop.models import Product

    sku = uuid4()
    Product.objects.create(
        tenant_id=1,
        name="Lamp",
        category="home",
        price=Decimal("19.99"),
        sku=sku,
        attributes={"color": "red", "sizes": [1, 2]},
    )
    _customer()
    sql = (
        "SELECT p.name, p.price, p.attributes, c.is_active, c.created_at, c.tenant_id "
        "FROM shop_product p, shop_customer c"
    )
    hints = ["string", "decimal", "json", "boolean", "datetime", "integer"]
    cols = ("name", "price", "attributes", "is_active", "created_at", "tenant_id")
    result = execute_compiled(Stmt(sql, columns=cols), alias=ALIAS, timeout=5, column_types=hints)
    assert result.column_types == hints
    assert result.rows == [
        ["Lamp", 19.99, {"color": "red", "sizes": [1, 2]}, True, "2024-01-02T03:04:05+00:00", 1]
    ]


@pytest.mark.sqlite
@pytest.mark.django_db
def test_sqlite_types_inferred_without_hints_and_unknown_when_all_null() -> None:
    sql = "SELECT 1 AS i, 1.5 AS f, 'x' AS s, NULL AS n, x'00ff' AS b"
    result = execute_compiled(Stmt(sql, columns=("i", "f", "s", "n", "b")), alias=ALIAS, timeout=5)
    assert result.column_types == ["integer", "float", "string", "unknown", "binary"]
    assert result.rows == [[1, 1.5, "x", None, "AP8="]]


@pytest.mark.sqlite
@pytest.mark.django_db
def test_sqlite_expression_values_follow_the_hinted_types() -> None:
    sql = (
        "SELECT '2024-01-02 03:00:00' AS bucket, '2024-01-02' AS day, 1 AS flag, "
        "'{\"a\": 1}' AS doc, 0 AS off"
    )
    hints = ["datetime", "date", "boolean", "json", "boolean"]
    cols = ("bucket", "day", "flag", "doc", "off")
    result = execute_compiled(Stmt(sql, columns=cols), alias=ALIAS, timeout=5, column_types=hints)
    assert result.rows == [["2024-01-02T03:00:00+00:00", "2024-01-02", True, {"a": 1}, False]]
    empty = execute_compiled(
        Stmt(sql + " WHERE 0", columns=cols), alias=ALIAS, timeout=5, column_types=hints
    )
    assert empty.columns == list(cols)
    assert empty.column_types == hints


@pytest.mark.django_db
def test_explain_returns_the_plan() -> None:
    _customer()
    stmt = Stmt("SELECT name FROM shop_customer WHERE tenant_id = %s", params=(1,), limit=10)
    plan = explain_compiled(stmt, alias=ALIAS, timeout=5, analyze=False)
    if connection.vendor == "postgresql":
        assert isinstance(plan, list)
        assert "Plan" in plan[0]
        analyzed = explain_compiled(stmt, alias=ALIAS, timeout=5, analyze=True)
        assert "Actual Rows" in analyzed[0]["Plan"]
    elif connection.vendor == "mysql":
        assert "shop_customer" in str(plan["query_block"])
        analyzed = explain_compiled(stmt, alias=ALIAS, timeout=5, analyze=True)
        assert "r_rows" in str(analyzed["query_block"])  # the counts of the run
    else:
        assert plan
        assert all(set(step) == {"id", "parent", "detail"} for step in plan)
        assert any("shop_customer" in step["detail"] for step in plan)


@pytest.mark.postgres
@pytest.mark.django_db
def test_explain_analyze_cannot_write() -> None:
    _customer()
    stmt = Stmt("DELETE FROM shop_customer")
    with pytest.raises(QueryExecutionError):
        explain_compiled(stmt, alias=ALIAS, timeout=5, analyze=True)
    assert Customer.objects.count() == 1


def test_as_dict_has_the_wire_shape() -> None:
    from prismiq_django.execution import QueryResult

    result = QueryResult(["a"], ["integer"], [[1]], 1, False, 1.5)
    assert result.as_dict() == {
        "columns": ["a"],
        "column_types": ["integer"],
        "rows": [[1]],
        "row_count": 1,
        "truncated": False,
        "execution_time_ms": 1.5,
        "is_from_cache": False,
        "cached_at": None,
    }


@pytest.mark.sqlite
@pytest.mark.django_db
def test_sqlite_every_hinted_logical_type() -> None:
    sql = (
        "SELECT 1 AS i, 2.5 AS dec, 0.5 AS f, 'x' AS s, 1 AS b, '2024-01-02' AS d, "
        "'2024-01-02 03:04:05.250000' AS dt, '03:04:05' AS t, 90 AS dur, "
        "'[1, {\"a\": null}]' AS j, "
        "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' AS u, x'ff00' AS bin, '?' AS unk"
    )
    hints = [
        "integer",
        "decimal",
        "float",
        "string",
        "boolean",
        "date",
        "datetime",
        "time",
        "duration",
        "json",
        "uuid",
        "binary",
        "unknown",
    ]
    cols = ("i", "dec", "f", "s", "b", "d", "dt", "t", "dur", "j", "u", "bin", "unk")
    result = execute_compiled(Stmt(sql, columns=cols), alias=ALIAS, timeout=5, column_types=hints)
    assert result.column_types == hints
    assert result.rows == [
        [
            1,
            2.5,
            0.5,
            "x",
            True,
            "2024-01-02",
            "2024-01-02T03:04:05.250000+00:00",
            "03:04:05",
            90,
            [1, {"a": None}],
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "/wA=",
            "?",
        ]
    ]
    nulls = execute_compiled(
        Stmt("SELECT " + ", ".join(f"NULL AS {c}" for c in cols), columns=cols),
        alias=ALIAS,
        timeout=5,
        column_types=hints,
    )
    assert nulls.rows == [[None] * len(cols)]


@pytest.mark.sqlite
@pytest.mark.django_db
def test_sqlite_query_only_is_restored_to_its_previous_value() -> None:
    raw = connection.connection
    raw.execute("PRAGMA query_only = ON")
    try:
        execute_compiled(Stmt("SELECT 1"), alias=ALIAS, timeout=5)
        assert raw.execute("PRAGMA query_only").fetchone()[0] == 1
    finally:
        raw.execute("PRAGMA query_only = OFF")
    execute_compiled(Stmt("SELECT 1"), alias=ALIAS, timeout=5)
    assert raw.execute("PRAGMA query_only").fetchone()[0] == 0


@pytest.mark.postgres
@pytest.mark.django_db
def test_explain_analyze_is_bound_by_the_timeout() -> None:
    with pytest.raises(QueryTimeout):
        explain_compiled(Stmt("SELECT pg_sleep(5)"), alias=ALIAS, timeout=0.3, analyze=True)
    assert Customer.objects.count() == 0


@pytest.mark.postgres
def test_services_run_on_the_configured_analytics_alias(
    django_db_setup: None, django_db_blocker: Any
) -> None:
    """A second alias (a replica or read-only role in production) serves the analytics queries.

    Not a ``django_db`` test: the alias is added at run time, which pytest-django's per-test
    database guard would refuse; the row written here is deleted at the end.
    """
    from django.test import override_settings
    from django.test.utils import CaptureQueriesContext

    from prismiq_django import services

    with django_db_blocker.unblock(), extra_alias("analytics", {}) as alias:
        ada = _customer()
        try:
            prismiq = {"DATABASE": alias, "EXPOSED_TABLES": ["shop_customer"]}
            with (
                override_settings(PRISMIQ=prismiq),
                CaptureQueriesContext(connections[alias]) as on_alias,
                CaptureQueriesContext(connection) as on_default,
            ):
                services.invalidate_catalog()
                result = services.execute(
                    None,
                    {
                        "tables": [{"id": "c", "name": "shop_customer"}],
                        "columns": [{"table_id": "c", "column": "name"}],
                    },
                )
            assert result.rows == [["Ada"]]
            assert any("shop_customer" in q["sql"] for q in on_alias.captured_queries)
            assert not any("shop_customer" in q["sql"] for q in on_default.captured_queries)
        finally:
            ada.delete()
            services.invalidate_catalog()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_one_message_carries_rails_statement_and_rollback() -> None:
    from django.test.utils import CaptureQueriesContext

    _customer()
    assert connection.get_autocommit()
    with CaptureQueriesContext(connection) as captured:
        result = execute_compiled(
            Stmt(
                "SELECT name, current_setting('transaction_read_only') AS ro,"
                " current_setting('statement_timeout') AS st FROM shop_customer",
                columns=("name", "ro", "st"),
            ),
            alias=ALIAS,
            timeout=2.5,
        )
    assert result.rows == [["Ada", "on", "2500ms"]]
    sent = [q["sql"] for q in captured.captured_queries]
    assert len(sent) == 1
    assert sent[0].startswith("BEGIN READ ONLY; SELECT set_config('statement_timeout', '2500'")
    assert sent[0].endswith("; ROLLBACK")
    assert connection.connection.info.transaction_status == 0  # idle: nothing left open
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_failed_statement_leaves_no_transaction_open() -> None:
    with pytest.raises(QueryExecutionError):
        execute_compiled(Stmt("SELECT 1 / (SELECT 0)"), alias=ALIAS, timeout=5)
    assert connection.connection.info.transaction_status == 0
    _customer("Bob")  # ordinary writes work on the same connection
    assert Customer.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_inside_an_atomic_block_the_savepoint_path_is_used() -> None:
    from django.db import transaction
    from django.test.utils import CaptureQueriesContext

    with transaction.atomic():
        _customer()
        with CaptureQueriesContext(connection) as captured:
            result = execute_compiled(
                Stmt("SELECT count(*) FROM shop_customer"), alias=ALIAS, timeout=5
            )
        _customer("Bob")
    assert result.rows == [[1]]
    assert not any(q["sql"].startswith("BEGIN") for q in captured.captured_queries)
    assert Customer.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_cancel_before_the_timeout_is_unavailable_not_a_timeout() -> None:
    """pg_cancel_backend raises the timeout's SQLSTATE (57014): when it comes before the
    statement timeout could have fired, it is a 503 (try again), not a 504."""
    import threading

    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    canceled = threading.Event()

    def cancel_when_running() -> None:
        with admin_connection() as killer:
            for _ in range(200):
                row = killer.execute(
                    "SELECT state FROM pg_stat_activity WHERE pid = %s", [pid]
                ).fetchone()
                if row and row[0] == "active":
                    killer.execute("SELECT pg_cancel_backend(%s)", [pid])
                    canceled.set()
                    return
                time.sleep(0.02)

    thread = threading.Thread(target=cancel_when_running)
    thread.start()
    try:
        with pytest.raises(DatabaseUnavailable):
            execute_compiled(Stmt("SELECT pg_sleep(20)"), alias=ALIAS, timeout=30)
    finally:
        thread.join(timeout=30)
    assert canceled.is_set()
    # the connection stays usable, and a real timeout is still a timeout
    with pytest.raises(QueryTimeout):
        execute_compiled(Stmt("SELECT pg_sleep(2)"), alias=ALIAS, timeout=0.2)
    result = execute_compiled(Stmt("SELECT 1 AS one", columns=("one",)), alias=ALIAS, timeout=5)
    assert result.rows == [[1]]


# --- the tolerant re-run shares the first run's deadline ---------------------------------------
# A value psycopg refuses ('infinity'::date here) makes the statement run a second time with
# tolerant loaders (see execute_compiled): both runs together are bound by one QUERY_TIMEOUT.


def _timeout_ms(shown: str) -> int:
    """``statement_timeout`` as PostgreSQL shows it (``2987ms``, ``3s``), in milliseconds."""
    if shown.endswith("ms"):
        return int(shown[:-2])
    assert shown.endswith("s"), shown
    return int(shown[:-1]) * 1000


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("inside_a_transaction", [False, True], ids=["one-message", "savepoint"])
def test_the_tolerant_rerun_gets_only_the_time_left(inside_a_transaction: bool) -> None:
    from django.db import transaction

    stmt = Stmt(
        "SELECT current_setting('statement_timeout') AS st, 'infinity'::date AS d"
        " FROM pg_sleep(0.3)",
        columns=("st", "d"),
    )
    started = time.monotonic()
    if inside_a_transaction:
        with transaction.atomic():
            result = execute_compiled(stmt, alias=ALIAS, timeout=3)
    else:
        result = execute_compiled(stmt, alias=ALIAS, timeout=3)
    elapsed = time.monotonic() - started
    [[shown, value]] = result.rows
    assert value == "infinity"  # the second, tolerant run's row
    # Its timeout is what the first run left: 3 s less at least the first run's 0.3 s of sleep.
    assert 0 < _timeout_ms(shown) <= 2700
    assert elapsed >= 0.6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_tolerant_rerun_times_out_at_the_first_runs_deadline() -> None:
    started = time.monotonic()
    with pytest.raises(QueryTimeout):
        # 0.6 s then a refused value; the re-run has about 0.4 s left for its 0.6 s.
        execute_compiled(
            Stmt("SELECT 'infinity'::date AS d FROM pg_sleep(0.6)", columns=("d",)),
            alias=ALIAS,
            timeout=1.0,
        )
    assert time.monotonic() - started < 1.0 + 0.5
    result = execute_compiled(Stmt("SELECT 1 AS one", columns=("one",)), alias=ALIAS, timeout=5)
    assert result.rows == [[1]]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_no_time_left_for_the_tolerant_rerun_is_a_timeout_without_running_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.test.utils import CaptureQueriesContext

    # loading a large result took the rest of the deadline, and more
    slow_refusal(monkeypatch, 0.6)
    with CaptureQueriesContext(connection) as captured, pytest.raises(QueryTimeout):
        execute_compiled(Stmt("SELECT 'infinity'::date AS d"), alias=ALIAS, timeout=0.5)
    assert sum("'infinity'::date" in q["sql"] for q in captured.captured_queries) == 1
