"""Staff raw SQL (SPEC section 12): a parsed, allowlisted, catalog-resolved SELECT.

    from prismiq_django.query.rawsql import check_sql
    checked = check_sql("SELECT status, count(*) FROM shop_order GROUP BY 1", catalog, "sqlite")
    checked.sql, checked.params, checked.tables, checked.limit

Pure like the rest of the core: no Django import, no I/O.
"""

from __future__ import annotations

from prismiq_django.query.rawsql.allowlist import DEFAULT_FORBIDDEN_FUNCTIONS
from prismiq_django.query.rawsql.check import MAX_SQL_LENGTH, CheckedSQL, check_sql
from prismiq_django.query.rawsql.errors import SQL_ERROR_CODES, RawSQLError, SQLProblem

__all__ = [
    "DEFAULT_FORBIDDEN_FUNCTIONS",
    "MAX_SQL_LENGTH",
    "SQL_ERROR_CODES",
    "CheckedSQL",
    "RawSQLError",
    "SQLProblem",
    "check_sql",
]
