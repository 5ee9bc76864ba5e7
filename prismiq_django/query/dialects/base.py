"""The :class:`Dialect` every vendor subclasses, and what they share (LIKE escaping, zones)."""

from __future__ import annotations

from typing import ClassVar

from prismiq_django.query.catalog import Column, LogicalType, Table

#: The escape character used in every LIKE pattern, on every dialect.
LIKE_ESCAPE = "\\"


def escape_like(text: str) -> str:
    """Escape ``\\``, ``%`` and ``_`` so that ``text`` matches literally inside a LIKE pattern."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_to_glob(pattern: str) -> str:
    """Translate a LIKE pattern (``\\`` escapes) to an equivalent SQLite GLOB pattern."""
    out: list[str] = []
    chars = iter(pattern)
    for ch in chars:
        if ch == "%":
            out.append("*")
        elif ch == "_":
            out.append("?")
        else:
            literal = next(chars, "") if ch == LIKE_ESCAPE else ch
            out.append(f"[{literal}]" if literal in ("*", "?", "[") else literal)
    return "".join(out)


class Dialect:
    """SQL generation details of one database vendor. Instances are stateless and shared."""

    vendor: ClassVar[str] = ""
    #: Whether ``NULLS FIRST/LAST`` must be spelled out to match PostgreSQL's default ordering
    #: (NULLs sort as larger than every value).
    explicit_nulls_order: ClassVar[bool] = False
    #: Whether ``explain_sql(..., analyze=True)`` runs the statement (EXPLAIN ANALYZE); where
    #: not, the plan is the plain one and the API says ``analyzed: false``.
    explain_analyzes: ClassVar[bool] = False
    #: Whether NULLs sort as smaller than every value and ``NULLS FIRST/LAST`` does not exist
    #: (MySQL): the compiler then puts ``x IS NULL`` (``x IS NOT NULL`` descending) before each
    #: sort key, so that the order is PostgreSQL's.
    nulls_sort_low: ClassVar[bool] = False
    #: Whether ``FULL OUTER JOIN`` exists; the compiler refuses a full join where it does not.
    full_join: ClassVar[bool] = True

    def quote(self, name: str) -> str:
        """Quote an identifier taken from the catalog (or a validated output alias)."""
        return '"' + name.replace('"', '""').replace("%", "%%") + '"'

    def table_sql(self, table: Table) -> str:
        """The (schema-qualified) quoted name of a catalog table."""
        if table.schema_name:
            return self.quote(table.schema_name) + "." + self.quote(table.name)
        return self.quote(table.name)

    def column_sql(self, sql: str, column: Column) -> str:
        """The SQL that reads catalog ``column`` (``sql``: its qualified, quoted name) as a
        value of its logical type, wherever the compiler reads it (select, filters,
        aggregations, grouping, ordering): ``sql`` itself unless the vendor's type needs a
        cast."""
        return sql

    def date_trunc(
        self, sql: str, unit: str, column: Column, tz_name: str
    ) -> tuple[str, tuple[object, ...]]:
        """Truncate ``sql`` (a date or datetime column) to ``unit``, weeks starting Monday.

        Datetimes are truncated in the wall-clock time of ``tz_name`` (those of
        :meth:`zoned_bucket`) and come back as naive local timestamps; dates come back as
        dates. ``unit`` is from the closed vocabulary.
        """
        raise NotImplementedError

    def stores_wall_clock(self, column: Column) -> bool:
        """Whether datetime ``column``, on a site that stores naive datetimes
        (``USE_TZ = False``), holds them as written: the site's wall-clock time, not an
        instant. Its buckets are then :meth:`wall_clock_trunc` and its filter values are bound
        as naive wall-clock times of the site's zone
        (:attr:`~prismiq_django.query.ast.Query.naive_datetimes`).

        False by default: PostgreSQL's ``timestamptz`` is an instant whatever ``USE_TZ`` says
        (Django sets the session's ``TimeZone`` to ``TIME_ZONE``, which reads and writes it as
        that wall-clock time), and its naive ``timestamp`` is truncated as stored anyway.
        """
        return False

    def wall_clock_trunc(self, sql: str, unit: str) -> tuple[str, tuple[object, ...]]:
        """Truncate datetime ``sql`` to ``unit`` as stored, with no conversion (a naive
        timestamp back). Called only for columns :meth:`stores_wall_clock` accepts."""
        raise NotImplementedError

    def zoned_bucket(self, column: Column) -> bool:
        """Whether :meth:`date_trunc` of ``column`` truncates the wall-clock time, in the
        site's zone, of an instant: the vendor's "timestamp with time zone". Such a bucket
        names an instant, and the execution layer spells its label with the zone's offset at
        the bucket's start when ``USE_TZ`` (``"2023-01-01T00:00:00+01:00"``). False for dates
        and for timestamps stored without a zone, which are truncated as stored and stay naive.

        The default is PostgreSQL's rule (:func:`zoned_timestamp`: ``timestamptz``, not
        ``timestamp``); a vendor whose every datetime is Django's UTC overrides it.
        """
        return zoned_timestamp(column)

    def like(
        self, sql: str, pattern: str, *, negate: bool, case_insensitive: bool
    ) -> tuple[str, object]:
        """Match ``sql`` against a LIKE ``pattern`` (``%``, ``_``, ``\\`` escapes).

        Returns the SQL fragment (one ``%s``) and its parameter; a vendor may rewrite the
        pattern (SQLite turns case-sensitive matches into GLOB patterns).
        """
        raise NotImplementedError

    def output_alias(self, position: int, name: str) -> str:
        """The SQL name of output column ``position`` (0-based), whose name in the answer is
        ``name`` (the answer takes its names from :attr:`Compiled.columns`, not the cursor)."""
        return self.quote(name)

    def exact_text(self, sql: str) -> str:
        """``sql`` (a string expression) spelled so that comparisons (``=``, ``<``, ``IN``,
        ``BETWEEN``...) compare it by code point, whatever the column's collation; unchanged
        where they do."""
        return sql

    def order_suffix(self, descending: bool) -> str:
        if not self.explicit_nulls_order:
            return " DESC" if descending else " ASC"
        return " DESC NULLS FIRST" if descending else " ASC NULLS LAST"

    def adapt(self, value: object, type_: LogicalType) -> object:
        """Convert a coerced Python value to what the vendor's Django cursor compares right."""
        return value

    def limit_offset(self, limit: int, offset: int) -> tuple[str, tuple[object, ...]]:
        if offset:
            return " LIMIT %s OFFSET %s", (limit, offset)
        return " LIMIT %s", (limit,)

    def explain_sql(self, sql: str, *, analyze: bool) -> str:
        """Wrap a compiled statement so that running it returns the plan."""
        raise NotImplementedError


def naive_timestamp(column: Column) -> bool:
    kind = column.data_type.lower()
    return (
        kind.startswith("timestamp")
        and not kind.startswith("timestamptz")
        and ("with time zone" not in kind)
    )


def zoned_timestamp(column: Column | None) -> bool:
    """True for a column whose time buckets are computed in the site's time zone: a
    ``datetime`` that is not PostgreSQL's naive ``timestamp`` (``timestamptz``, or SQLite's
    datetimes, which Django stores in UTC)."""
    return column is not None and column.type == "datetime" and not naive_timestamp(column)


__all__ = [
    "LIKE_ESCAPE",
    "Dialect",
    "escape_like",
    "like_to_glob",
    "naive_timestamp",
    "zoned_timestamp",
]
