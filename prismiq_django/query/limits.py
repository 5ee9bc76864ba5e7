"""Size limits of a query definition: the configurable :class:`Limits` and the fixed bounds.

The fixed bounds are what every supported database (and the JSON layer) can carry faithfully;
they are not settings. ``INT64_MIN``/``INT64_MAX`` are the one definition of the 64-bit integer
range for the whole package: a value outside it is refused as an integer by the parser and bound
as a REAL by the SQLite dialect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Limits:
    """Complexity limits of one query definition (SPEC section 3); settings may change them."""

    max_rows: int = 10_000
    max_tables: int = 20
    max_columns: int = 100
    max_filters: int = 200
    max_depth: int = 8
    max_list_values: int = 1_000


DEFAULT_LIMITS: Final = Limits()

#: Output names the database can carry faithfully: PostgreSQL truncates identifiers at 63 bytes.
MAX_IDENTIFIER_BYTES: Final = 63
#: Longest text value (characters) a filter accepts.
MAX_STRING_VALUE: Final = 10_000

#: Smallest and largest signed 64-bit integers (``bigint``, SQLite ``INTEGER``), inclusive.
INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1

__all__ = [
    "DEFAULT_LIMITS",
    "INT64_MAX",
    "INT64_MIN",
    "MAX_IDENTIFIER_BYTES",
    "MAX_STRING_VALUE",
    "Limits",
]
