"""The memo of compiled definitions: a hit skips parse + compile, and nothing that changes the
statement (tenant, scopes, their types, the catalog, limits, zone, the clock) ever shares an
entry. Each test counts the compilations actually done."""

from __future__ import annotations

from datetime import UTC
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.test import override_settings

from prismiq_django import services
from prismiq_django.catalog import store
from prismiq_django.models import ExposedColumn, ExposedTable
from prismiq_django.query import QueryValidationError
from prismiq_django.services import memo
from prismiq_django.services.memo import CompiledMemo, compiled_memo, memo_key
from prismiq_django.services.queries import prepare
from tests.support.ops import (  # noqa: F401  (fixtures)
    customer_query,
    customers,
    exposed_shop,
    isolated_cache,
)

pytestmark = pytest.mark.django_db

TENANT_OF: dict[str, object] = {}


def tenant_by_name(request: Any) -> object:
    """``TENANT_CALLBACK`` of these tests: whatever :data:`TENANT_OF` says for the user."""
    return TENANT_OF.get(getattr(request.user, "username", ""))


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The compilations done (each a parse + compile that the memo did not answer)."""
    done: list[object] = []
    real = memo.compile_query

    def counted(query: Any, catalog: Any, dialect: Any) -> Any:
        done.append(query)
        return real(query, catalog, dialect)

    compiled_memo.clear()
    monkeypatch.setattr(memo, "compile_query", counted)
    return done


@pytest.fixture
def caller(db: None) -> Any:
    def make(name: str) -> Any:
        user, _ = User.objects.get_or_create(username=name)
        return SimpleNamespace(user=user, auth=None)

    return make


@pytest.fixture
def schema_cached(settings: Any, exposed_shop: Any) -> None:  # noqa: F811
    settings.PRISMIQ = {**settings.PRISMIQ, "SCHEMA_CACHE_TTL": 300}


def test_a_repeated_definition_is_compiled_once(
    schema_cached: None, caller: Any, compiles: list[object]
) -> None:
    alice = caller("alice")
    first = services.to_sql(alice, customer_query())
    again = services.to_sql(alice, customer_query())
    assert again is first
    assert len(compiles) == 1


def test_tenants_never_share_an_entry(
    schema_cached: None, caller: Any, compiles: list[object]
) -> None:
    alice, bob = caller("alice"), caller("bob")  # tests.support.ops: tenants 1 and 2
    a1 = services.to_sql(alice, customer_query())
    b1 = services.to_sql(bob, customer_query())
    a2 = services.to_sql(alice, customer_query())
    b2 = services.to_sql(bob, customer_query())
    assert 1 in a1.params
    assert 2 not in a1.params
    assert 2 in b1.params
    assert 1 not in b1.params
    assert (a2, b2) == (a1, b1)
    assert len(compiles) == 2
    with pytest.raises(QueryValidationError):  # no tenant: refused, never alice's entry
        services.to_sql(caller("mallory"), customer_query())


@pytest.mark.parametrize("values", [(1, True), (1, 1.0), (1, "1"), (0, False), ([1, 2], [2, 1])])
def test_scope_values_equal_in_python_never_share_an_entry(
    schema_cached: None, caller: Any, compiles: list[object], settings: Any, values: Any
) -> None:
    settings.PRISMIQ = {**settings.PRISMIQ, "TENANT_CALLBACK": f"{__name__}.tenant_by_name"}
    TENANT_OF.clear()
    TENANT_OF.update({"u1": values[0], "u2": values[1]})
    first = services.to_sql(caller("u1"), customer_query())
    second = services.to_sql(caller("u2"), customer_query())
    assert len(compiles) == 2
    assert [repr(p) for p in first.params] != [repr(p) for p in second.params]


def test_users_with_the_same_scopes_share_and_a_changed_scope_does_not(
    schema_cached: None, caller: Any, compiles: list[object], settings: Any
) -> None:
    settings.PRISMIQ = {**settings.PRISMIQ, "TENANT_CALLBACK": f"{__name__}.tenant_by_name"}
    TENANT_OF.clear()
    TENANT_OF.update({"u1": 1, "u2": 1})
    one = services.to_sql(caller("u1"), customer_query())
    assert services.to_sql(caller("u2"), customer_query()) is one  # the same statement
    TENANT_OF["u2"] = 3  # the user's scope changes between requests
    moved = services.to_sql(caller("u2"), customer_query())
    assert 3 in moved.params
    assert 1 not in moved.params
    assert len(compiles) == 2


def test_a_catalog_change_never_serves_the_old_entry(
    schema_cached: None, caller: Any, compiles: list[object]
) -> None:
    alice = caller("alice")
    services.to_sql(alice, customer_query())
    table = ExposedTable.objects.get(name="shop_customer")
    ExposedColumn.objects.create(table=table, name="city", is_hidden=True)  # invalidates
    store.invalidate_catalog()
    with pytest.raises(QueryValidationError):
        services.to_sql(alice, customer_query())  # city is gone: never the memoized SQL
    assert len(compiles) == 1


def test_an_entry_of_other_tables_is_refused_even_with_the_same_key(
    schema_cached: None, caller: Any
) -> None:
    alice = caller("alice")
    old = services.get_catalog(alice)
    store.invalidate_catalog()
    new = services.get_catalog(alice)
    assert new.tables is not old.tables
    table = CompiledMemo(size=4)
    key = memo_key(customer_query(), old, services.limits(), UTC, "sqlite")
    assert key is not None
    query, compiled = prepare(alice, customer_query(), old)[1:]
    table.put(key, old, (query, compiled))
    assert table.get(key, new) is None
    assert len(table) == 0


def test_limits_and_zone_are_part_of_the_key(
    schema_cached: None, caller: Any, compiles: list[object], settings: Any
) -> None:
    alice = caller("alice")
    capped = services.to_sql(alice, customer_query())
    settings.PRISMIQ = {**settings.PRISMIQ, "MAX_ROWS": 7}
    smaller = services.to_sql(alice, customer_query())
    assert smaller.sql != capped.sql or smaller.params != capped.params
    with override_settings(TIME_ZONE="Asia/Kathmandu"):
        services.to_sql(alice, customer_query())
    assert len(compiles) == 3
    with override_settings(USE_TZ=False):
        services.to_sql(alice, customer_query())
    assert len(compiles) == 4
    key_utc = memo_key(customer_query(), services.get_catalog(alice), services.limits(), UTC, "x")
    key_zone = memo_key(
        customer_query(), services.get_catalog(alice), services.limits(), ZoneInfo("UTC"), "x"
    )
    assert key_utc != key_zone


def test_relative_dates_are_never_memoized(
    schema_cached: None, caller: Any, compiles: list[object]
) -> None:
    query = customer_query(
        filters=[
            {"table_id": "c", "column": "city", "operator": "eq", "value": "date_relative"},
        ]
    )
    services.to_sql(caller("alice"), query)
    services.to_sql(caller("alice"), query)
    assert len(compiles) == 2  # any mention of date_relative: compiled every time


def test_json_types_stay_apart_in_the_key(schema_cached: None, caller: Any) -> None:
    catalog = services.get_catalog(caller("alice"))
    keys = {
        memo_key(customer_query(limit=value), catalog, services.limits(), UTC, "x")
        for value in (1, 1.0, True, "1")
    }
    assert len(keys) == 4
    assert memo_key({1: "x"}, catalog, services.limits(), UTC, "x") is None


def test_the_memo_is_bounded() -> None:
    table = CompiledMemo(size=2)
    catalog = SimpleNamespace(tables={}, relationships=(), row_scopes={}, session_settings=())
    for n in range(5):
        key = memo_key({"n": n}, catalog, services.limits(), UTC, "x")  # type: ignore[arg-type]
        assert key is not None
        table.put(key, catalog, (object(), object()))  # type: ignore[arg-type]
    assert len(table) == 2
