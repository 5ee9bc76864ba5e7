"""Cache keys: no two different statements or scopes ever share a key (safety property)."""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from prismiq_django import cache
from prismiq_django.query import RowScope
from tests.support.ops import Counter, Stmt, make_result

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.binary(max_size=8),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.dates(),
    st.datetimes(timezones=st.sampled_from([None, UTC, timezone(timedelta(hours=2))])),
    st.uuids(),
)
params = st.lists(st.one_of(scalars, st.lists(scalars, max_size=3)), max_size=4).map(tuple)


def _typed(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return (type(value), tuple(_typed(v) for v in value))
    if isinstance(value, datetime):
        return (datetime, value, value.tzinfo)  # equal instants in other zones are not "same"
    return (type(value), value)


def _key(p: tuple[object, ...], scopes: object = ()) -> str:
    return cache.result_key(alias="default", compiled=Stmt("Q", p, frozenset({"t"})), scopes=scopes)


@settings(max_examples=150, deadline=None)
@given(params, params)
def test_equal_keys_only_for_identical_parameters(a: tuple[Any, ...], b: tuple[Any, ...]) -> None:
    if _key(a) == _key(b):
        assert _typed(a) == _typed(b)


@settings(max_examples=100, deadline=None)
@given(params)
def test_keys_are_deterministic(p: tuple[Any, ...]) -> None:
    assert _key(p) == _key(tuple(p))


scope_values = st.lists(st.one_of(st.integers(0, 5), st.text(max_size=2)), max_size=3).map(tuple)
scopes = st.lists(
    st.builds(RowScope, st.sampled_from(["a", "b"]), st.sampled_from(["tenant_id"]), scope_values),
    max_size=3,
)


@settings(max_examples=150, deadline=None)
@given(scopes, scopes)
def test_different_scope_sets_never_share(left: list[RowScope], right: list[RowScope]) -> None:
    def norm(s: list[RowScope]) -> list[Any]:
        return sorted(
            ((x.table, x.column, tuple(_typed(v) for v in x.values)) for x in s), key=repr
        )

    if _key((), tuple(left)) == _key((), tuple(right)):
        assert norm(left) == norm(right)


def test_examples_of_distinct_values() -> None:
    naive = datetime(2024, 1, 1, 12)
    keys = {
        _key((naive,)),
        _key((naive.replace(tzinfo=UTC),)),
        _key((date(2024, 1, 1),)),
        _key(("2024-01-01",)),
        _key((UUID(int=1),)),
        _key((str(UUID(int=1)),)),
        _key((Decimal("1.0"),)),
        _key((Decimal("1.00"),)),
        _key((timedelta(seconds=1),)),
        _key((1.0,)),
    }
    assert len(keys) == 10


def test_hostile_table_names_are_safe_cache_keys() -> None:
    names = ["weird name", "x" * 500, "tâble", "a:b\n", "shop_order; DROP TABLE x", ""]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Django's CacheKeyWarning included
        for name in names:
            stmt = Stmt(f"SELECT {len(name)}", (), frozenset({name}))
            compute = Counter(lambda: make_result([[1, 1]]))
            cache.fetch_result(
                alias="default", compiled=stmt, scopes=(), compute=compute, bypass=False
            )
            assert cache.invalidate(name) > 0
            again = cache.fetch_result(
                alias="default", compiled=stmt, scopes=(), compute=compute, bypass=False
            )
            assert again.is_from_cache is False
            assert compute.calls == 2
    # Long or odd names are hashed, so two of them never collide into one generation.
    assert cache.table_key("x" * 500) != cache.table_key("x" * 501)
    assert cache.table_key("a b") != cache.table_key("a_b")
