"""A run refused by the result cache's catalog check (``StaleRead``) is redone once on the
verified catalog, and every request is counted once in the query and cache metrics."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import caches

from prismiq_django import services
from prismiq_django.models import ExposedTable
from prismiq_django.ops.observability import REGISTRY
from tests.support.ops import DEAD_REDIS

QUERY = {
    "tables": [{"id": "c", "name": "shop_customer"}],
    "columns": [{"table_id": "c", "column": "name"}],
    "order_by": [{"table_id": "c", "column": "name", "direction": "ASC"}],
}


def _counts() -> dict[str, float]:
    samples = {
        f"q:{status}": REGISTRY.get_sample_value("prismiq_queries_total", {"status": status})
        for status in ("ok", "invalid", "error", "timeout", "unavailable")
    }
    samples.update(
        {
            f"c:{result}": REGISTRY.get_sample_value(
                "prismiq_cache_requests_total", {"result": result}
            )
            for result in ("hit", "miss", "bypass", "error")
        }
    )
    return {name: value or 0.0 for name, value in samples.items()}


def _delta(before: dict[str, float]) -> dict[str, float]:
    after = _counts()
    return {name: after[name] - before[name] for name in after if after[name] != before[name]}


@pytest.fixture
def shop(settings: Any, customers: list[Any]) -> Iterator[None]:
    ExposedTable.objects.create(name="shop_customer", is_exposed=True)
    settings.PRISMIQ = {"SCHEMA_CACHE_TTL": 600, "RESULT_CACHE_TTL": 300, "RATE_LIMIT": None}
    services.invalidate_catalog()
    yield
    services.invalidate_catalog()


def test_an_evicted_catalog_version_is_one_retry_counted_once(shop: None) -> None:
    expected = services.execute(None, QUERY)
    assert services.execute(None, QUERY).is_from_cache is True
    caches["default"].delete(services.CATALOG_VERSION_KEY)  # evicted (maxmemory policy)

    before = _counts()
    again = services.execute(None, QUERY)

    assert again.rows == expected.rows
    delta = _delta(before)
    assert delta.get("q:ok") == 1
    assert sum(v for k, v in delta.items() if k.startswith("q:")) == 1
    assert sum(v for k, v in delta.items() if k.startswith("c:")) == 1
    assert services.execute(None, QUERY).is_from_cache is True  # settled: no retry every time


def test_a_token_changed_on_every_read_cannot_loop(shop: None, monkeypatch: Any) -> None:
    """Even if the token never matches (another process renewing it without end), one retry."""
    services.execute(None, QUERY)
    cache = caches["default"]
    real = cache.get_many
    reads: list[int] = []

    def renewing(keys: Any, *args: Any, **kwargs: Any) -> Any:
        reads.append(1)
        cache.set(services.CATALOG_VERSION_KEY, f"renewed-{len(reads)}", 3600)
        return real(keys, *args, **kwargs)

    monkeypatch.setattr(cache, "get_many", renewing)
    before = _counts()
    result = services.execute(None, QUERY)
    assert result.row_count > 0
    assert sum(v for k, v in _delta(before).items() if k.startswith("q:")) == 1


def test_a_dead_cache_hiding_its_errors_is_counted_once(shop: None, settings: Any) -> None:
    """django-redis IGNORE_EXCEPTIONS answers ``{}``: the token check fails, the retry runs
    uncached, and the request is one query and one cache error."""
    services.execute(None, QUERY)  # the process's catalog memo (with its token) is warm
    settings.CACHES = {
        **settings.CACHES,
        "quiet": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 0.2,
                "SOCKET_TIMEOUT": 0.2,
                "IGNORE_EXCEPTIONS": True,
            },
        },
    }
    settings.PRISMIQ = {**settings.PRISMIQ, "CACHE_ALIAS": "quiet"}
    before = _counts()
    result = services.execute(None, QUERY)
    assert result.is_from_cache is False
    delta = _delta(before)
    assert sum(v for k, v in delta.items() if k.startswith("q:")) == 1
    assert delta.get("c:error") == 1
