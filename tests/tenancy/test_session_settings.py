"""``PG_SESSION_SETTINGS`` without a policy: what the setting holds for each tenant value, that it
travels on the request's catalog and into the result-cache key, the SQL the rails send, and the
system checks E008 / W003. (The policy itself filtering through the app: ``test_rls.py``.)"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import override_settings

from prismiq_django.cache.keys import result_key
from prismiq_django.checks import check_settings
from prismiq_django.execution import guarded_statement, session_settings
from prismiq_django.query import Catalog, Compiled
from prismiq_django.tenancy.scopes import (
    cache_scopes,
    scoped_catalog,
    session_settings_for,
    setting_text,
)

CALLS: list[object] = []


class Caller:
    def __init__(self, tenant: object) -> None:
        self.tenant = tenant


def tenant_of(request: Any) -> object:
    CALLS.append(request)
    return request.tenant


SITE = {
    "TENANT_CALLBACK": "tests.tenancy.test_session_settings.tenant_of",
    "PG_SESSION_SETTINGS": {"app.tenant_id": "tenant", "app.other": "tenant"},
}


@pytest.mark.parametrize(
    ("value", "text"),
    [(7, "7"), ("acme", "acme"), ([3, 1, 3], "1,3"), (("b", "a"), "a,b"), (None, ""), ([], "")],
)
def test_the_text_of_each_tenant_value(value: object, text: str) -> None:
    assert setting_text(value) == text


def test_the_settings_travel_on_the_catalog_with_one_callback_call() -> None:
    empty = Catalog.build([])
    with override_settings(PRISMIQ=SITE):
        CALLS.clear()
        catalog = scoped_catalog(Caller(5), empty, ())
        assert len(CALLS) == 1
        assert catalog.session_settings == (("app.other", "5"), ("app.tenant_id", "5"))
        # Row scopes replaced later keep the settings.
        assert catalog.with_row_scopes([]).session_settings == catalog.session_settings
        assert session_settings_for(None) == (("app.other", ""), ("app.tenant_id", ""))
    # Not configured: no call when no table needs the value, no settings.
    CALLS.clear()
    with override_settings(PRISMIQ={"TENANT_CALLBACK": SITE["TENANT_CALLBACK"]}):
        assert scoped_catalog(Caller(5), empty, ()).session_settings == ()
    assert CALLS == []


def test_two_tenants_never_share_a_cache_key() -> None:
    empty = Catalog.build([])
    compiled = Compiled('SELECT 1 FROM "t"', (), frozenset({"t"}), ("x",), 10)
    with override_settings(PRISMIQ=SITE):
        one, two = (scoped_catalog(Caller(t), empty, ()) for t in (1, 2))
    keys = {
        result_key(alias="default", compiled=compiled, scopes=cache_scopes(c))
        for c in (one, two, empty)
    }
    assert len(keys) == 3
    # Without session settings the key is the one it always was.
    assert cache_scopes(empty) is empty.row_scopes


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_rails_bind_names_and_values() -> None:
    """On PostgreSQL the settings are in force for the statement, bound as parameters (a name
    or value with quotes is just text), and gone once it has run."""
    hostile = "x'; SET ROLE postgres; --"
    pairs = (("app.tenant_id", hostile), ("app.second", "2"))
    sql = "SELECT current_setting('app.tenant_id'), current_setting('app.second')"
    with session_settings(pairs), guarded_statement("default", 5.0, sql, []) as (_, cursor):
        assert cursor.fetchone() == (hostile, "2")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.tenant_id', true)")
        assert cursor.fetchone()[0] in (None, "")


@pytest.mark.sqlite
@pytest.mark.django_db
def test_sqlite_ignores_them() -> None:
    pairs = (("app.tenant_id", "1"),)
    with session_settings(pairs), guarded_statement("default", 5.0, "SELECT 1", []) as (_, c):
        assert c.fetchone() == (1,)


def ids(messages: list[Any]) -> list[str]:
    return [m.id for m in messages]


@pytest.mark.parametrize(
    "value",
    [
        ["app.tenant_id"],
        {"statement_timeout": "tenant"},
        {"transaction_read_only": "tenant"},
        {"app.tenant_id; DROP": "tenant"},
        {"app.": "tenant"},
        {"app.tenant_id": "user"},
        {"app.tenant_id": None},
    ],
)
def test_e008_what_pg_session_settings_may_hold(value: object) -> None:
    with override_settings(PRISMIQ={**SITE, "PG_SESSION_SETTINGS": value}):
        messages = check_settings()
    assert "prismiq_django.E008" in ids(messages)
    assert all(m.hint for m in messages)


def test_valid_pg_session_settings_pass() -> None:
    with override_settings(PRISMIQ={**SITE, "PG_SESSION_SETTINGS": {"app.tenant": "tenant"}}):
        messages = check_settings()
    assert [m for m in ids(messages) if m in {"prismiq_django.E008", "prismiq_django.W003"}] == (
        [] if connection.vendor == "postgresql" else ["prismiq_django.W003"]
    )


def test_w003_without_a_tenant_callback() -> None:
    with override_settings(PRISMIQ={"PG_SESSION_SETTINGS": {"app.tenant_id": "tenant"}}):
        messages = check_settings()
    assert ids(messages) == ["prismiq_django.W003"]
    assert "TENANT_CALLBACK" in messages[0].msg


@pytest.mark.sqlite
def test_w003_on_a_database_that_is_not_postgresql() -> None:
    with override_settings(PRISMIQ=SITE):
        messages = check_settings()
    assert ids(messages) == ["prismiq_django.W003"]
    assert "not PostgreSQL" in messages[0].msg
