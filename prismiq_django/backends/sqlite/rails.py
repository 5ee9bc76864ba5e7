"""SQLite's rails: ``PRAGMA query_only`` for the duration (the previous value restored) and a
progress handler that interrupts the statement once the deadline has passed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from django.db.backends.base.base import BaseDatabaseWrapper

from prismiq_django.backends.base import Deadline

#: How many SQLite virtual-machine instructions run between two deadline checks.
SQLITE_PROGRESS_STEPS: Final = 10_000


@contextmanager
def sqlite_rails(
    connection: BaseDatabaseWrapper, cursor: Any, deadline: Deadline
) -> Iterator[None]:
    raw = connection.connection
    previous = raw.execute("PRAGMA query_only").fetchone()[0]
    ends_at = time.monotonic() + deadline.seconds

    def check_deadline() -> int:
        if time.monotonic() > ends_at:
            deadline.fired = True
            return 1
        return 0

    try:  # set up inside the try: a failure half way still restores both
        raw.execute("PRAGMA query_only = ON")
        raw.set_progress_handler(check_deadline, SQLITE_PROGRESS_STEPS)
        yield
    finally:
        raw.set_progress_handler(None, 0)
        raw.execute(f"PRAGMA query_only = {1 if previous else 0}")


__all__ = ["SQLITE_PROGRESS_STEPS", "sqlite_rails"]
