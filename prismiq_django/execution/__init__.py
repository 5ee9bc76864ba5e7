"""Running compiled statements: the rails, the runner, value conversion and query plans.

``results`` (:class:`QueryResult`), ``rails`` (the guarded read-only transaction and error
translation), ``runner`` (:func:`execute_compiled`), ``values`` and ``columns`` (database values to
JSON-ready values), ``buckets`` (labels of time buckets of instants), ``plans``
(:func:`explain_compiled` and plan redaction); and :func:`session_settings`, the block within
which the rails set ``PG_SESSION_SETTINGS``.
"""

from __future__ import annotations

from prismiq_django.backends.postgresql.session import session_settings
from prismiq_django.execution.plans import explain_compiled
from prismiq_django.execution.rails import guarded_cursor, guarded_statement
from prismiq_django.execution.results import CompiledStatement, QueryResult
from prismiq_django.execution.runner import execute_compiled

__all__ = [
    "CompiledStatement",
    "QueryResult",
    "execute_compiled",
    "explain_compiled",
    "guarded_cursor",
    "guarded_statement",
    "session_settings",
]
