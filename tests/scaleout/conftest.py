"""The scale-out pass (``make test-scaleout``): a real streaming replica and real gunicorn workers.

These tests need the replica of ``make replica`` (127.0.0.1:5433) beside the local PostgreSQL, and
Redis. They are *deselected* (not skipped) in the other passes; ``make test-scaleout`` sets
``PRISMIQ_SCALEOUT=1`` and then an unreachable primary, replica or Redis fails the run.
"""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("PRISMIQ_SCALEOUT") == "1":
        return
    mine = [item for item in items if item.get_closest_marker("scaleout") is not None]
    if mine:
        config.hook.pytest_deselected(items=mine)
        items[:] = [item for item in items if item.get_closest_marker("scaleout") is None]
