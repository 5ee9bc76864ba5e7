"""Fixtures of the catalog tests (glue and operations fixtures)."""

from __future__ import annotations

from tests.support.glue import fresh_catalog  # noqa: F401  (autouse: a clean catalog cache)
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
