"""Fixtures of the glue tests: a minimal compiled statement and a clean catalog cache."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest


@dataclass(frozen=True, slots=True)
class Stmt:
    """A hand-written statement with the attributes of ``prismiq_django.query.Compiled``.

    Used where a test needs SQL the compiler would never emit (writes, sleeps, literals of every
    type); ``sql`` must already carry the ``limit + 1`` cap when the test relies on it.
    """

    sql: str
    params: tuple[object, ...] = ()
    columns: tuple[str, ...] = ()
    limit: int = 10_000
    tables: frozenset[str] = field(default_factory=frozenset)


@pytest.fixture(autouse=True)
def _fresh_catalog() -> Iterator[None]:
    """Every test starts and ends with no cached catalog (tables are created per test)."""
    from prismiq_django import services

    services.invalidate_catalog()
    yield
    services.invalidate_catalog()
