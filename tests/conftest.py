"""Shared pytest configuration.

Markers select the backend a test needs:

- ``@pytest.mark.postgres`` / ``@pytest.mark.sqlite`` / ``@pytest.mark.mysql``: runs only when the
  ``default`` database is that vendor (``mysql``: MySQL or MariaDB); it is skipped in the other
  passes (CI runs all three, so nothing is left unrun).
- ``@pytest.mark.redis``: needs the ``default`` cache to be django-redis (``REDIS_URL``).

With ``PRISMIQ_REQUIRE_SERVICES=1`` (set by ``make test-postgres`` and ``make test-mariadb``) the
run fails at once when the configured database or cache is not reachable, instead of skipping.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

#: Fixtures and helpers of stateless token authentication (djangorestframework-simplejwt).
pytest_plugins = ("tests.tokens",)


def _vendor() -> str:
    from django.db import connection

    return str(connection.vendor)


def _redis_configured() -> bool:
    from django.conf import settings

    return "django_redis" in str(settings.CACHES["default"]["BACKEND"])


def _check_database_reachable(url: str) -> None:
    """Connect once to the ``DATABASE_URL`` server; a :class:`pytest.UsageError` when it is down."""
    if url.startswith(("postgres", "postgresql")):
        import psycopg

        try:
            psycopg.connect(url, connect_timeout=5).close()
        except psycopg.Error as exc:
            raise pytest.UsageError(f"PostgreSQL is not reachable at DATABASE_URL: {exc}") from exc
        return
    import MySQLdb
    from django.db import connection

    params = connection.get_connection_params()
    params.pop("database", None)  # the server, not a database that the tests create
    params["connect_timeout"] = 5
    try:
        MySQLdb.connect(**params).close()
    except MySQLdb.Error as exc:
        raise pytest.UsageError(f"MySQL/MariaDB is not reachable at DATABASE_URL: {exc}") from exc


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("PRISMIQ_REQUIRE_SERVICES") != "1":
        return
    import django

    django.setup()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres", "postgresql", "mysql")):
        raise pytest.UsageError(
            "PRISMIQ_REQUIRE_SERVICES=1 needs DATABASE_URL=postgres://... or mysql://..."
        )
    if not _redis_configured():
        raise pytest.UsageError("PRISMIQ_REQUIRE_SERVICES=1 needs REDIS_URL=redis://...")
    import redis

    _check_database_reachable(url)
    try:
        redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        raise pytest.UsageError(f"Redis is not reachable at REDIS_URL: {exc}") from exc


#: Marker -> Django's ``connection.vendor`` of the pass it runs in.
_VENDOR_MARKERS = {"postgres": "postgresql", "sqlite": "sqlite", "mysql": "mysql"}


def pytest_runtest_setup(item: pytest.Item) -> None:
    vendor = None
    for name, wanted in _VENDOR_MARKERS.items():
        if item.get_closest_marker(name) is not None:
            vendor = vendor or _vendor()
            if vendor != wanted:
                pytest.skip(f"runs in the {wanted} pass")
    if item.get_closest_marker("redis") is not None and not _redis_configured():
        pytest.skip("runs in the Redis pass (REDIS_URL)")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """pytest-django's test databases, and always the ``default`` one.

    pytest-django creates only the databases that the selected tests declare (``django_db``
    marks, the ``db`` fixtures). A few tests take ``django_db_setup`` directly, because they add
    a database alias at run time, which the per-test guard of a ``django_db`` test refuses: run
    on their own, nothing declared ``default`` and they would run on the real database named by
    ``DATABASE_URL``. Here the test database is created for them too.
    """
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    if connection.settings_dict["NAME"] == connection.creation._get_test_db_name():
        _mysql_baseline(django_db_blocker)
        yield  # already set up (or an in-memory SQLite database, which is its own)
        return
    with django_db_blocker.unblock():
        created = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    _mysql_baseline(django_db_blocker)
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            teardown_databases(created, verbosity=0)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``slow`` (the 10,000-example property runs) run only in ``make test-slow``
    (``PRISMIQ_SLOW_TESTS=1``); every other pass deselects them."""
    if os.environ.get("PRISMIQ_SLOW_TESTS") == "1":
        return
    slow = [item for item in items if item.get_closest_marker("slow") is not None]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if item.get_closest_marker("slow") is None]


#: Per test database (one per xdist worker): each base table after migrations -> whether it has
#: an ``id`` column (see ``_mysql_probe``) and the value the probe then read.
_MYSQL_BASELINE: dict[str, dict[str, tuple[bool, int]]] = {}


def _mysql_baseline(blocker: Any) -> None:
    """Record the test database's tables and their probe values (MySQL only)."""
    from django.db import connection

    if connection.vendor != "mysql":
        return
    with blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.TABLE_NAME, c.COLUMN_NAME IS NOT NULL FROM information_schema.TABLES t"
            " LEFT JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = t.TABLE_SCHEMA"
            " AND c.TABLE_NAME = t.TABLE_NAME AND c.COLUMN_NAME = 'id'"
            " WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE'"
        )
        has_id = {str(name): bool(flag) for name, flag in cursor.fetchall()}
        values = _mysql_probe(cursor, has_id)
        _MYSQL_BASELINE[connection.settings_dict["NAME"]] = {
            name: (has_id[name], values[name]) for name in has_id
        }


def _mysql_probe(cursor: Any, has_id: dict[str, bool]) -> dict[str, int]:
    """One query: the largest ``id`` of each table that has one, the row count of the others."""
    names = sorted(has_id)
    parts = [
        f"(SELECT {'COALESCE(MAX(id), 0)' if has_id[name] else 'COUNT(*)'} FROM `{name}`)"
        for name in names
    ]
    cursor.execute("SELECT " + ", ".join(parts))
    return dict(zip(names, (int(v) for v in cursor.fetchone()), strict=True))


def _mysql_undo_committed(cursor: Any, baseline: dict[str, tuple[bool, int]]) -> None:
    """Drop the tables and views that are not in ``baseline`` and delete the rows added since
    it (above the largest ``id`` then; a table without one is emptied if it was empty)."""
    cursor.execute(
        "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES"
        " WHERE TABLE_SCHEMA = DATABASE()"
    )
    current = {str(name): kind for name, kind in cursor.fetchall()}
    extra = [name for name in current if name not in baseline]
    present = {name: flag for name, (flag, _) in baseline.items() if name in current}
    now = _mysql_probe(cursor, present)
    changed = [name for name in present if now[name] != baseline[name][1]]
    if not extra and not changed:
        return
    cursor.execute("SET FOREIGN_KEY_CHECKS = 0")
    try:
        for name in extra:
            kind = "VIEW" if current[name] == "VIEW" else "TABLE"
            cursor.execute(f"DROP {kind} IF EXISTS `{name}`")
        for name in changed:
            has_id, value = baseline[name]
            if has_id:
                cursor.execute(f"DELETE FROM `{name}` WHERE id > %s", [value])
            elif value == 0:
                cursor.execute(f"DELETE FROM `{name}`")
    finally:
        cursor.execute("SET FOREIGN_KEY_CHECKS = 1")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """MySQL and MariaDB commit the open transaction before any DDL statement (``CREATE TABLE``
    in a test or a fixture): what the test wrote before it, and the tables it created, outlive
    the test's rollback (and so does code that commits on its own). Once every fixture of a
    test is torn down (its transaction rolled back), one query compares each table with the
    database after migrations; when something outlived the test, the tables and views that were
    not there are dropped and the rows added since are deleted (``_mysql_undo_committed``), so
    that every test starts from the same database, as on SQLite and PostgreSQL. Nothing is done
    on the other vendors."""
    result = yield
    if not _MYSQL_BASELINE:
        return result
    from django.db import connection
    from pytest_django.plugin import blocking_manager_key

    baseline = _MYSQL_BASELINE.get(connection.settings_dict["NAME"])
    if baseline is not None and not connection.in_atomic_block:
        with item.config.stash[blocking_manager_key].unblock(), connection.cursor() as cursor:
            _mysql_undo_committed(cursor, baseline)
    return result
