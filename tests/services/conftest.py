"""Fixtures of the services tests."""

from __future__ import annotations

from tests.support.glue import fresh_catalog  # noqa: F401  (autouse: a clean catalog cache)
