"""A query's catalog is checked in the result cache's own read: one round trip per cache hit,
and an invalidation made by another process still takes effect on the very next request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import caches

from prismiq_django import services
from prismiq_django.models import ExposedColumn, ExposedTable
from prismiq_django.query import QueryValidationError

QUERY = {
    "tables": [{"id": "c", "name": "shop_customer"}],
    "columns": [{"table_id": "c", "column": "name"}, {"table_id": "c", "column": "email"}],
    "order_by": [{"table_id": "c", "column": "name", "direction": "ASC"}],
}


@pytest.fixture
def shop(settings: Any, customers: list[Any]) -> Iterator[ExposedTable]:
    table = ExposedTable.objects.create(name="shop_customer", is_exposed=True)
    settings.PRISMIQ = {"SCHEMA_CACHE_TTL": 600, "RESULT_CACHE_TTL": 300, "RATE_LIMIT": None}
    services.invalidate_catalog()
    yield table
    services.invalidate_catalog()


class _Counted:
    """Counts the reads this thread's ``default`` cache makes (the real cache answers them)."""

    def __init__(self, monkeypatch: Any) -> None:
        self.calls: list[str] = []
        self._depth = 0
        cache = caches["default"]
        for name in ("get", "get_many"):
            real = getattr(cache, name)
            monkeypatch.setattr(cache, name, self._wrap(name, real))

    def _wrap(self, name: str, real: Any) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            if not self._depth:  # locmem's get_many calls get per key: count the outer call
                self.calls.append(name)
            self._depth += 1
            try:
                return real(*args, **kwargs)
            finally:
                self._depth -= 1

        return counted


def _elsewhere_set_version(token: str) -> None:
    """What ``invalidate_catalog`` in another process leaves behind: a new token, while this
    process still holds its memo of the old catalog."""
    caches["default"].set(services.CATALOG_VERSION_KEY, token, 3600)


def test_a_cache_hit_makes_one_cache_read(shop: ExposedTable, monkeypatch: Any) -> None:
    services.execute(None, QUERY)
    assert services.execute(None, QUERY).is_from_cache is True
    counted = _Counted(monkeypatch)
    hit = services.execute(None, QUERY)
    assert hit.is_from_cache is True
    assert counted.calls == ["get_many"]


def test_a_column_hidden_by_another_process_is_refused_at_once(shop: ExposedTable) -> None:
    services.execute(None, QUERY)
    assert services.execute(None, QUERY).is_from_cache is True
    # Another process hides the column (no signal reaches this one) and renews the token.
    ExposedColumn.objects.bulk_create([ExposedColumn(table=shop, name="email", is_hidden=True)])
    _elsewhere_set_version("renewed-elsewhere")
    with pytest.raises(QueryValidationError) as info:
        services.execute(None, QUERY)
    assert info.value.errors[0].path == "/columns/1/column"


def test_a_column_shown_by_another_process_is_usable_at_once(shop: ExposedTable) -> None:
    hidden = ExposedColumn.objects.create(table=shop, name="email", is_hidden=True)
    services.invalidate_catalog()
    with pytest.raises(QueryValidationError):
        services.execute(None, QUERY)
    services.execute(None, {**QUERY, "columns": QUERY["columns"][:1]})  # memo is warm
    ExposedColumn.objects.filter(pk=hidden.pk).update(is_hidden=False)  # no signal
    _elsewhere_set_version("renewed-elsewhere")
    result = services.execute(None, QUERY)
    assert result.columns == ["name", "email"]
