"""Where the analytics alias points: a primary or a streaming replica, and how far behind it is.

:func:`replica_status` asks the server of ``PRISMIQ["DATABASE"]`` (PostgreSQL only; other vendors
answer None) whether it is in recovery and, if so, its replay lag in seconds: 0 when everything it
has received is replayed, else the age of the last replayed transaction. It never raises: a
database that does not answer gives None (the database check reports it as down). Used by
``GET health`` (a detail of the database check) and ``GET metrics``
(``prismiq_replica_lag_seconds``, set at scrape time).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import connections

from prismiq_django.conf import prismiq_settings

logger = logging.getLogger("prismiq_django.health")

# The lag is 0 while the replica has replayed all it received (an idle primary writes nothing,
# so the last replayed transaction ages without the replica falling behind).
_STATUS_SQL = """
SELECT pg_is_in_recovery(),
       CASE WHEN NOT pg_is_in_recovery() THEN NULL
            WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
            ELSE GREATEST(
                EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp()), 0)
       END
"""


@dataclass(frozen=True, slots=True)
class ReplicaStatus:
    """``in_recovery``: the server is a standby; ``lag_seconds``: None on a primary."""

    in_recovery: bool
    lag_seconds: float | None


def replica_status(alias: str | None = None) -> ReplicaStatus | None:
    """The recovery state of the analytics alias' server, or None (not PostgreSQL, or down)."""
    alias = alias or str(prismiq_settings.DATABASE)
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return None
    try:
        with connection.cursor() as cursor:
            cursor.execute(_STATUS_SQL)
            row = cursor.fetchone()
    except Exception as exc:
        logger.warning(
            "Health: replica status of %r unavailable (%s)",
            alias,
            type(exc).__name__,
            extra={"event": "health_replica_unknown", "database": alias},
        )
        return None
    if row is None:
        return None
    in_recovery, lag = row
    return ReplicaStatus(bool(in_recovery), None if lag is None else round(float(lag), 3))


__all__ = ["ReplicaStatus", "replica_status"]
