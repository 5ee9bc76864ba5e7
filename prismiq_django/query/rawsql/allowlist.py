"""What a raw statement may contain: node kinds, their clauses, functions and cast types.

The checker walks every node of the parsed statement and refuses any whose kind is not listed
here (an allowlist: a construct sqlglot learns in a later release is refused until it is added).
Query-structure nodes also list the clauses (sqlglot argument names) they may carry: ``INTO``,
locking clauses, ``TABLESAMPLE``, ``NATURAL`` and the like are simply absent. Functions are
allowed by sqlglot's typed function kinds or, for functions sqlglot does not model, by name; a
name on ``SQL_FORBIDDEN_FUNCTIONS`` is refused whatever else says.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlglot import exp

#: Clauses each query-structure node may carry (any other non-empty argument is refused).
STRUCTURE_ARGS: dict[type, frozenset[str]] = {
    exp.Select: frozenset(
        {
            "with_",
            "expressions",
            "distinct",
            "from_",
            "joins",
            "where",
            "group",
            "having",
            "windows",
            "order",
            "limit",
            "offset",
        }
    ),
    exp.Union: frozenset({"with_", "this", "expression", "distinct", "order", "limit", "offset"}),
    exp.Intersect: frozenset(
        {"with_", "this", "expression", "distinct", "order", "limit", "offset"}
    ),
    exp.Except: frozenset({"with_", "this", "expression", "distinct", "order", "limit", "offset"}),
    exp.Subquery: frozenset({"this", "alias", "order", "limit", "offset"}),
    exp.Table: frozenset({"this", "alias", "db", "catalog"}),
    exp.Join: frozenset({"this", "on", "side", "kind", "using"}),
    exp.TableAlias: frozenset({"this", "columns"}),
    exp.Column: frozenset({"this", "table", "db", "catalog"}),
    exp.With: frozenset({"expressions", "recursive"}),
    exp.CTE: frozenset({"this", "alias", "materialized"}),
    exp.From: frozenset({"this"}),
    exp.Where: frozenset({"this"}),
    exp.Having: frozenset({"this"}),
    exp.Group: frozenset({"expressions"}),
    exp.Order: frozenset({"expressions"}),
    exp.Ordered: frozenset({"this", "desc", "nulls_first"}),
    exp.Limit: frozenset({"expression"}),
    exp.Offset: frozenset({"expression"}),
    exp.Distinct: frozenset({"expressions", "on"}),
    exp.Alias: frozenset({"this", "alias"}),
    exp.Star: frozenset(),
    exp.Identifier: frozenset({"this", "quoted"}),
    exp.Placeholder: frozenset({"this"}),
    exp.Window: frozenset({"this", "partition_by", "order", "spec", "alias", "over"}),
    exp.WindowSpec: frozenset({"kind", "start", "start_side", "end", "end_side"}),
    exp.DataType: frozenset({"this", "expressions", "nested"}),
    exp.Cast: frozenset({"this", "to"}),
}

#: Expression kinds allowed with any arguments (each argument is itself walked and checked).
EXPRESSIONS: frozenset[type] = frozenset(
    {
        # literals
        exp.Literal,
        exp.Null,
        exp.Boolean,
        exp.Interval,
        exp.DataTypeParam,
        # logic and comparison
        exp.And,
        exp.Or,
        exp.Not,
        exp.Paren,
        exp.Tuple,
        exp.EQ,
        exp.NEQ,
        exp.GT,
        exp.GTE,
        exp.LT,
        exp.LTE,
        exp.NullSafeEQ,
        exp.NullSafeNEQ,
        exp.Is,
        exp.Between,
        exp.In,
        exp.Like,
        exp.ILike,
        exp.Escape,
        exp.Exists,
        exp.Any,
        exp.All,
        exp.Case,
        exp.If,
        # arithmetic and text operators
        exp.Neg,
        exp.Add,
        exp.Sub,
        exp.Mul,
        exp.Div,
        exp.IntDiv,
        exp.Mod,
        exp.DPipe,
        exp.BitwiseAnd,
        exp.BitwiseOr,
        exp.BitwiseXor,
        exp.AtTimeZone,
        # aggregates
        exp.Sum,
        exp.Avg,
        exp.Count,
        exp.Min,
        exp.Max,
        exp.Stddev,
        exp.StddevPop,
        exp.StddevSamp,
        exp.Variance,
        exp.VariancePop,
        exp.GroupConcat,
        exp.LogicalAnd,
        exp.LogicalOr,
        exp.PercentileCont,
        exp.PercentileDisc,
        exp.WithinGroup,
        exp.Filter,
        # window functions
        exp.RowNumber,
        exp.Rank,
        exp.DenseRank,
        exp.Ntile,
        exp.Lag,
        exp.Lead,
        exp.FirstValue,
        exp.LastValue,
        exp.NthValue,
        exp.PercentRank,
        exp.CumeDist,
        # numbers
        exp.Round,
        exp.Abs,
        exp.Ceil,
        exp.Floor,
        exp.Sqrt,
        exp.Pow,
        exp.Ln,
        exp.Log,
        exp.Exp,
        exp.Sign,
        exp.Trunc,
        exp.WidthBucket,
        # text
        exp.Lower,
        exp.Upper,
        exp.Length,
        exp.Substring,
        exp.Trim,
        exp.Replace,
        exp.Concat,
        exp.ConcatWs,
        exp.Initcap,
        exp.Pad,
        exp.Reverse,
        exp.Left,
        exp.Right,
        exp.StrPosition,
        exp.SplitPart,
        # null handling
        exp.Coalesce,
        exp.Nullif,
        exp.Greatest,
        exp.Least,
        # dates and times
        exp.TimestampTrunc,
        exp.DateTrunc,
        exp.Extract,
        exp.CurrentTimestamp,
        exp.CurrentDate,
        exp.CurrentTime,
        exp.TimeToStr,
        exp.StrToDate,
        exp.Date,
        exp.Datetime,
        exp.Anonymous,  # by name: ALLOWED_FUNCTION_NAMES
        exp.Var,  # only as a unit keyword: see VAR_PARENTS
    }
)

#: Where a bare keyword (``Var``: ``YEAR`` in ``EXTRACT(YEAR FROM ...)``) may stand.
VAR_PARENTS: tuple[type[exp.Expression], ...] = (
    exp.Extract,
    exp.TimestampTrunc,
    exp.DateTrunc,
    exp.Interval,
)

#: Functions sqlglot does not model, allowed by their (lower-case) name.
ALLOWED_FUNCTION_NAMES: frozenset[str] = frozenset(
    {
        "age",
        "btrim",
        "char_length",
        "date_part",
        "every",
        "ifnull",
        "julianday",
        "ltrim",
        "make_date",
        "make_timestamp",
        "octet_length",
        "rtrim",
        "strftime",
        "time",
        "to_number",
        "total",
        "unixepoch",
    }
)

#: The default of ``PRISMIQ["SQL_FORBIDDEN_FUNCTIONS"]``: names (``*`` at the end: a prefix)
#: refused in any raw statement, even where another rule would allow them. File, network,
#: sleep, configuration, large-object, lock, sequence, session and code-running functions of
#: PostgreSQL, SQLite and MySQL.
DEFAULT_FORBIDDEN_FUNCTIONS: tuple[str, ...] = (
    # files
    "pg_read_file",
    "pg_read_binary_file",
    "pg_ls_*",
    "pg_stat_file",
    "pg_file_*",
    "readfile",
    "writefile",
    "edit",
    "load_file",
    "load_extension",
    # large objects
    "lo_*",
    "loread",
    "lowrite",
    # network and other databases
    "dblink*",
    "inet_*",
    # sleeping and busy loops
    "pg_sleep*",
    "sleep",
    "benchmark",
    # configuration and session
    "set_config",
    "current_setting",
    "pg_reload_conf",
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_backend_pid",
    "pg_notify",
    "pg_export_snapshot",
    "pg_switch_wal",
    "pg_logical_*",
    "txid_*",
    "pg_current_*",
    "version",
    "sqlite_*",
    "fts3_tokenizer",
    # locks and sequences
    "pg_advisory_*",
    "pg_try_advisory_*",
    "get_lock",
    "release_lock",
    "release_all_locks",
    "is_free_lock",
    "is_used_lock",
    "nextval",
    "setval",
    "currval",
    "lastval",
    # functions that run SQL text or read the catalog
    "query_to_xml*",
    "table_to_xml*",
    "cursor_to_xml*",
    "schema_to_xml*",
    "database_to_xml*",
    "ts_stat",
    "has_*_privilege",
    "to_reg*",
    "pg_get_*",
    "pg_*",
    # memory
    "zeroblob",
    "randomblob",
)

#: Types a CAST may name (no ``regclass``/``regproc`` catalog lookups, no user-defined types).
CAST_TYPES: frozenset[object] = frozenset(
    exp.DataType.Type[name]
    for name in (
        "SMALLINT",
        "INT",
        "BIGINT",
        "TINYINT",
        "MEDIUMINT",
        "DECIMAL",
        "DOUBLE",
        "FLOAT",
        "MONEY",
        "TEXT",
        "VARCHAR",
        "CHAR",
        "NCHAR",
        "NVARCHAR",
        "BPCHAR",
        "BOOLEAN",
        "DATE",
        "DATETIME",
        "TIMESTAMP",
        "TIMESTAMPTZ",
        "TIMESTAMPLTZ",
        "TIMESTAMPNTZ",
        "TIME",
        "TIMETZ",
        "INTERVAL",
        "UUID",
        "JSON",
        "JSONB",
    )
)


def function_name(node: exp.Func) -> str:
    """The lower-case SQL name of a function call (sqlglot's name for the functions it models)."""
    if type(node) is exp.Anonymous:
        return str(node.args.get("this")).lower()
    return node.sql_name().lower()


def is_forbidden(name: str, forbidden: Iterable[str]) -> bool:
    """Whether ``name`` (lower case) matches one of the ``forbidden`` names or ``prefix*``."""
    for entry in forbidden:
        pattern = entry.lower()
        if pattern.endswith("*"):
            if name.startswith(pattern[:-1]):
                return True
        elif name == pattern:
            return True
        elif "*" in pattern:
            head, _, tail = pattern.partition("*")
            if name.startswith(head) and name.endswith(tail) and len(name) >= len(pattern) - 1:
                return True
    return False


__all__ = [
    "ALLOWED_FUNCTION_NAMES",
    "CAST_TYPES",
    "DEFAULT_FORBIDDEN_FUNCTIONS",
    "EXPRESSIONS",
    "STRUCTURE_ARGS",
    "VAR_PARENTS",
    "function_name",
    "is_forbidden",
]
