"""Fixtures of the result cache tests (an isolated cache namespace per test, dead services)."""

from __future__ import annotations

from tests.support.ops import (  # noqa: F401  (fixtures; isolated_cache is autouse)
    customers,
    dead_cache,
    dead_database,
    exposed_shop,
    isolated_cache,
    log_lines,
    other_user,
    staff,
    user,
    with_middleware,
)
