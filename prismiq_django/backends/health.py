"""Django's connection health check (``CONN_HEALTH_CHECKS``) done by a request's first statement.

Django sends ``SELECT 1`` before the first query of each request on a kept connection and
reconnects when it fails: one network round trip on every request. For a statement that only
reads, and may be sent twice, the statement itself can be the check::

    sent_as_health_check(connection, send) -> send()'s value

- When a check is due (``CONN_HEALTH_CHECKS`` on, not done yet in this request, a connection
  open, no ``atomic`` block, no pool: the pool checks its own connections), it is marked done and
  ``send()`` runs without the ``SELECT 1``. If ``send()`` raises, within :data:`STALE_WITHIN`
  seconds, an error that says the connection is lost
  (:func:`~prismiq_django.backends.base.connection_lost`, as the rails read it), the connection
  was dead before it was used: it is closed and ``send()`` runs once more, on a new connection,
  what the check would have led to. Any other failure is ``send()``'s own, and a connection lost
  later in ``send()`` (a statement running for a while, then its backend terminated) is lost as
  it would be without the check: both are raised, once, with no further round trip.
- Otherwise ``send()`` runs as it is, under Django's own rules.

``send`` must leave nothing open when it raises (a cursor closed, a failed transaction rolled
back).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Final, TypeVar

from django.db import DatabaseError
from django.db.backends.base.base import BaseDatabaseWrapper

from prismiq_django.backends.base import connection_lost

T = TypeVar("T")

#: A connection found dead this soon after ``send()`` started was dead before it (a statement
#: that got as far as running is not sent again).
STALE_WITHIN: Final = 0.5


def health_check_due(connection: BaseDatabaseWrapper) -> bool:
    """True when Django would send its ``SELECT 1`` before the next query on ``connection``."""
    wrapper: Any = connection  # health_check_done is not in django-stubs
    return bool(
        wrapper.health_check_enabled
        and not wrapper.health_check_done
        and wrapper.connection is not None
        and not wrapper.in_atomic_block
        and not getattr(wrapper, "pool", None)
    )


def sent_as_health_check(connection: BaseDatabaseWrapper, send: Callable[[], T]) -> T:
    """``send()``, standing for the connection's due health check (see the module docstring)."""
    if not health_check_due(connection):
        return send()
    wrapper: Any = connection
    wrapper.health_check_done = True
    started = time.monotonic()
    try:
        return send()
    except DatabaseError as exc:
        if time.monotonic() - started > STALE_WITHIN or not connection_lost(exc, connection):
            raise  # lost while running, or not lost: the failure is send()'s own
    connection.close()
    return send()  # on a new connection, which is healthy by definition (Django's connect())


__all__ = ["STALE_WITHIN", "health_check_due", "sent_as_health_check"]
