"""Request dict -> validated :class:`~prismiq_django.query.ast.Query`.

:func:`parse` checks every name against the :class:`Catalog`, coerces every value to its column's
type, enforces the complexity :class:`Limits`, and reports *all* problems of a request at once as
one :class:`QueryValidationError` (each with a stable code and a JSON-pointer path). Whatever the
input — wrong JSON shapes, hostile strings, huge lists, deep nesting — nothing but a
``QueryError`` escapes. Unknown keys are ignored.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, Final, TypeAlias, cast
from uuid import UUID

from prismiq_django.query import dates
from prismiq_django.query.ast import (
    AGGREGATIONS,
    JOIN_TYPES,
    OPERATORS,
    TRUNC_UNITS,
    Aggregation,
    ColumnRef,
    Condition,
    Direction,
    Expr,
    FilterNode,
    Group,
    Join,
    JoinType,
    Not,
    Operator,
    OrderItem,
    Query,
    SelectItem,
    TableRef,
    TruncUnit,
    expr_key,
)
from prismiq_django.query.catalog import (
    EQUALITY_TYPES,
    NUMERIC_TYPES,
    ORDERED_TYPES,
    TEMPORAL_TYPES,
    Catalog,
    LogicalType,
)
from prismiq_django.query.catalog import JOINABLE_TYPES as _JOINABLE
from prismiq_django.query.catalog import UNSORTABLE_TYPES as _UNSORTABLE
from prismiq_django.query.errors import ErrorCode, ErrorDetail, QueryValidationError, pointer
from prismiq_django.query.limits import (
    DEFAULT_LIMITS,
    INT64_MAX,
    INT64_MIN,
    MAX_IDENTIFIER_BYTES,
    MAX_STRING_VALUE,
    Limits,
)
from prismiq_django.query.tenancy import missing_tenant_scope

MAX_OFFSET: Final = 2**62

_EQ_OPS: Final = frozenset({"eq", "neq"})
_ORDER_OPS: Final = frozenset({"gt", "gte", "lt", "lte"})
_LIST_OPS: Final = frozenset({"in", "not_in", "in_or_null"})
_LIKE_OPS: Final = frozenset({"like", "ilike", "not_like", "not_ilike"})
_TEXT_OPS: Final = frozenset({"contains", "starts_with", "ends_with"})
_NULL_OPS: Final = frozenset({"is_null", "is_not_null"})
_FLIP: Final[dict[str, JoinType]] = {
    "LEFT": "RIGHT",
    "RIGHT": "LEFT",
    "INNER": "INNER",
    "FULL": "FULL",
}

_FAIL: Final = object()

Path: TypeAlias = tuple[str | int, ...]


def _show(value: object) -> str:
    """A short, safe rendering of a request value for an error message."""
    text = repr(value) if isinstance(value, str) else type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."


def _suggest(name: object, candidates: Iterable[str]) -> str:
    """Return a "Did you mean 'x'?" hint among ``candidates`` (exposed names only), or ''."""
    if not isinstance(name, str) or len(name) > 200:
        return ""
    match = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" Did you mean {match[0]!r}?" if match else ""


def _valid_text(value: str) -> bool:
    if "\x00" in value or len(value) > MAX_STRING_VALUE:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


#: Numbers given as text: ASCII digits only (``int``/``Decimal`` would also take "1_000" and "١٢").
_ASCII_INTEGER: Final = re.compile(r"[+-]?[0-9]+", re.ASCII)
_ASCII_DECIMAL: Final = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", re.ASCII)
_DECIMAL_MAX: Final = Decimal(10) ** 38
_DECIMAL_MIN: Final = Decimal(10) ** -38

#: The keys that say what a filter node is; a node has exactly one of them.
_FILTER_SHAPES: Final = ("all", "any", "not", "operator")


class _Parser:
    """One parse run: holds the error list so that every problem is reported at once."""

    def __init__(self, catalog: Catalog, limits: Limits, now: datetime, tz: tzinfo) -> None:
        self.catalog = catalog
        self.limits = limits
        self.now = now
        self.tz = tz
        self.errors: list[ErrorDetail] = []
        self.refs: dict[str, TableRef] = {}
        self.bad_ids: set[str] = set()  # declared ids whose table was refused (reported once)
        self.tables_refused = False  # "tables" itself was refused: table ids are not reported
        self.filter_count = 0
        self.select_paths: list[Path] = []  # path of each select item
        self.order_paths: list[Path] = []  # path of each order item

    # -- helpers ---------------------------------------------------------------------------
    def error(self, code: ErrorCode, message: str, *path: str | int) -> None:
        self.errors.append(ErrorDetail(code, message, pointer(*path)))

    def list_of(self, data: Mapping[str, Any], key: str, *, required: bool) -> list[Any]:
        value = data.get(key)
        if value is None:
            if required:
                self.error("invalid_definition", f"'{key}' is required.", key)
            return []
        if not isinstance(value, list):
            self.error("invalid_definition", f"'{key}' must be a list.", key)
            return []
        return value

    def mapping(self, item: object, *path: str | int) -> Mapping[str, Any] | None:
        if isinstance(item, Mapping):
            return item
        self.error("invalid_definition", "Expected an object.", *path)
        return None

    def text(self, item: Mapping[str, Any], key: str, *path: str | int) -> str | None:
        value = item.get(key)
        if isinstance(value, str) and value:
            return value
        if value is None:
            self.error("invalid_definition", f"'{key}' is required.", *path, key)
        else:
            self.error("invalid_value", f"'{key}' must be a non-empty string.", *path, key)
        return None

    def aggregation(self, item: Mapping[str, Any], *path: str | int) -> object:
        value = item.get("aggregation")
        if value is None or value == "none":
            return None
        if isinstance(value, str) and value in AGGREGATIONS:
            return value
        self.error(
            "invalid_aggregation",
            f"Unknown aggregation {_show(value)}.{_suggest(value, AGGREGATIONS)}",
            *path,
            "aggregation",
        )
        return _FAIL

    def table_ref(self, item: Mapping[str, Any], key: str, *path: str | int) -> TableRef | None:
        table_id = item.get(key)
        if isinstance(table_id, str) and table_id in self.refs:
            return self.refs[table_id]
        if table_id is None:
            self.error("invalid_definition", f"'{key}' is required.", *path, key)
        elif self.tables_refused or (isinstance(table_id, str) and table_id in self.bad_ids):
            pass
        elif not isinstance(table_id, str):
            self.error("invalid_value", f"'{key}' must be a string.", *path, key)
        else:
            self.error(
                "invalid_reference",
                f"Unknown table id {_show(table_id)}.{_suggest(table_id, self.refs)}",
                *path,
                key,
            )
        return None

    def column_ref(
        self,
        item: Mapping[str, Any],
        table_key: str,
        column_key: str,
        *path: str | int,
        star: bool = False,
    ) -> ColumnRef | None:
        ref = self.table_ref(item, table_key, *path)
        name = item.get(column_key)
        if not isinstance(name, str) or not name:
            if name is None:
                self.error("invalid_definition", f"'{column_key}' is required.", *path, column_key)
            else:
                msg = f"'{column_key}' must be a non-empty string."
                self.error("invalid_value", msg, *path, column_key)
            return None
        if ref is None:
            return None
        if name == "*" and star:
            return ColumnRef(ref, None)
        column = ref.table.column(name)
        if column is None:
            self.error(
                "column_not_found",
                f"Column {_show(name)} not found in table {ref.table.name!r}."
                f"{_suggest(name, ref.table.column_names)}",
                *path,
                column_key,
            )
            return None
        return ColumnRef(ref, column)

    # -- sections --------------------------------------------------------------------------
    def parse(self, data: object) -> Query:
        if not isinstance(data, Mapping):
            self.error("invalid_definition", "The query definition must be an object.")
            raise QueryValidationError(self.errors)
        self.parse_tables(data)
        joins = self.parse_joins(data)
        select = self.parse_columns(data)
        where, having = self.parse_filters(data)
        group_by_raw = self.parse_group_by(data)
        order = self.parse_order_by(data, select)
        limit, offset = self.parse_paging(data)
        self.check_order_sortable(order, select)
        if self.errors:
            raise QueryValidationError(self.errors)
        aggregated = (
            bool(having)
            or bool(group_by_raw)
            or any(s.expr.is_aggregate for s in select)
            or any(o.expr is not None and o.expr.is_aggregate for o in order)
            or isinstance(data.get("time_series"), Mapping)
        )
        group_by: tuple[Expr, ...] = ()
        if aggregated:
            group_by = self.resolve_group_by(group_by_raw, select)
            self.check_order_grouped(order, group_by)
        if self.errors:
            raise QueryValidationError(self.errors)
        return Query(
            tables=tuple(self.refs.values()),
            joins=joins,
            select=select,
            where=where,
            having=having,
            group_by=group_by,
            order_by=order,
            limit=limit,
            offset=offset,
            tz_name=dates.tz_name(self.tz),
        )

    def parse_tables(self, data: Mapping[str, Any]) -> None:
        errors_before = len(self.errors)
        items = self.list_of(data, "tables", required=True)
        if not items and isinstance(data.get("tables"), list):
            self.error("invalid_definition", "At least one table is required.", "tables")
        if len(items) > self.limits.max_tables:
            self.error("too_complex", f"At most {self.limits.max_tables} tables.", "tables")
        if len(self.errors) > errors_before:
            self.tables_refused = True
            return
        for i, raw in enumerate(items):
            item = self.mapping(raw, "tables", i)
            if item is None:
                continue
            table_id = self.text(item, "id", "tables", i)
            name = item.get("name")
            table = None
            if isinstance(name, str):
                table = self.catalog.table(name)
                if table is None:
                    self.error(
                        "table_not_found",
                        f"Table {_show(name)} not found.{_suggest(name, self.catalog.tables)}",
                        "tables",
                        i,
                        "name",
                    )
                else:
                    unscoped = missing_tenant_scope(self.catalog, table, i)
                    if unscoped is not None:
                        self.errors.append(unscoped)
                        table = None
            elif name is None:
                self.error("invalid_definition", "'name' is required.", "tables", i, "name")
            else:
                self.error("invalid_value", "'name' must be a string.", "tables", i, "name")
            if table_id is None:
                continue
            if table_id in self.refs:
                self.error(
                    "invalid_definition",
                    f"Duplicate table id {_show(table_id)}.",
                    "tables",
                    i,
                    "id",
                )
                continue
            if table is not None:
                self.refs[table_id] = TableRef(table_id, table, i)
            else:
                self.bad_ids.add(table_id)

    def parse_joins(self, data: Mapping[str, Any]) -> tuple[Join, ...]:
        items = self.list_of(data, "joins", required=False)
        if len(items) > self.limits.max_tables:
            self.error("too_complex", f"At most {self.limits.max_tables} joins.", "joins")
            return ()
        pending: list[Join] = []
        for i, raw in enumerate(items):
            item = self.mapping(raw, "joins", i)
            if item is None:
                continue
            left = self.column_ref(item, "from_table_id", "from_column", "joins", i)
            right = self.column_ref(item, "to_table_id", "to_column", "joins", i)
            kind_raw = item.get("join_type", "INNER")
            kind = kind_raw.upper() if isinstance(kind_raw, str) else None
            if kind not in JOIN_TYPES:
                self.error(
                    "invalid_join", f"Unknown join type {_show(kind_raw)}.", "joins", i, "join_type"
                )
                continue
            if left is None or right is None:
                continue
            lt, rt = left.type, right.type
            if (
                lt not in _JOINABLE
                or rt not in _JOINABLE
                or (lt != rt and not (lt in NUMERIC_TYPES and rt in NUMERIC_TYPES))
            ):
                self.error(
                    "invalid_join",
                    f"Cannot join a {lt} column to a {rt} column.",
                    "joins",
                    i,
                )
                continue
            if left.ref.position == right.ref.position:
                self.error("invalid_join", "A join needs two different tables.", "joins", i)
                continue
            pending.append(Join(left, right, cast(JoinType, kind), i))
        if self.errors or not self.refs:
            return ()
        return self.order_joins(pending)

    def order_joins(self, pending: list[Join]) -> tuple[Join, ...]:
        first = min(self.refs.values(), key=lambda r: r.position)
        introduced = {first.position}
        ordered: list[Join] = []
        progress = True
        while pending and progress:
            progress = False
            for join in list(pending):
                lp, rp = join.left.ref.position, join.right.ref.position
                if lp in introduced and rp in introduced:
                    self.error(
                        "invalid_join",
                        "This join connects two tables that are already joined.",
                        "joins",
                        join.index,
                    )
                elif lp in introduced:
                    ordered.append(join)
                    introduced.add(rp)
                elif rp in introduced:
                    ordered.append(Join(join.right, join.left, _FLIP[join.kind], join.index))
                    introduced.add(lp)
                else:
                    continue
                pending.remove(join)
                progress = True
        for join in pending:
            self.error(
                "invalid_join",
                "This join is not connected to the first table.",
                "joins",
                join.index,
            )
        for ref in self.refs.values():
            if ref.position not in introduced:
                self.error(
                    "invalid_join",
                    f"Table id {_show(ref.id)} is not joined to the other tables.",
                    "tables",
                    ref.position,
                )
        return tuple(ordered)

    def expr(
        self,
        item: Mapping[str, Any],
        *path: str | int,
        table_key: str = "table_id",
        column_key: str = "column",
        allow_trunc: bool = False,
    ) -> Expr | None:
        agg = self.aggregation(item, *path)
        col = self.column_ref(item, table_key, column_key, *path, star=agg == "count")
        trunc_raw = item.get("date_trunc") if allow_trunc else None
        trunc: TruncUnit | None = None
        if trunc_raw is not None:
            if not isinstance(trunc_raw, str) or trunc_raw not in TRUNC_UNITS:
                self.error(
                    "invalid_value",
                    f"Unknown date_trunc {_show(trunc_raw)}.{_suggest(trunc_raw, TRUNC_UNITS)}",
                    *path,
                    "date_trunc",
                )
                return None
            trunc = cast(TruncUnit, trunc_raw)
        if col is None or agg is _FAIL:
            return None
        aggregation = cast("Aggregation | None", agg)
        return self.check_expr(Expr(col, aggregation, trunc), *path)

    def check_expr(self, expr: Expr, *path: str | int) -> Expr | None:
        base = expr.col.type
        agg = expr.aggregation
        if expr.date_trunc is not None:
            if base not in TEMPORAL_TYPES:
                self.error(
                    "invalid_value",
                    "date_trunc needs a date or datetime column.",
                    *path,
                    "date_trunc",
                )
                return None
            if base == "date" and expr.date_trunc in ("minute", "hour"):
                self.error(
                    "invalid_value",
                    f"A date column cannot be truncated to the {expr.date_trunc}.",
                    *path,
                    "date_trunc",
                )
                return None
            if agg is not None:
                self.error(
                    "invalid_aggregation",
                    "date_trunc cannot be combined with an aggregation.",
                    *path,
                    "aggregation",
                )
                return None
        if agg is None or agg == "count":
            return expr
        ok = (
            (agg in ("sum", "avg") and base in NUMERIC_TYPES)
            or (agg in ("min", "max") and base in ORDERED_TYPES)
            or (agg == "count_distinct" and base in _JOINABLE)
        )
        if not ok:
            self.error(
                "invalid_aggregation",
                f"Aggregation {agg!r} is not available for a {base} column.",
                *path,
                "aggregation",
            )
            return None
        return expr

    def output_name(self, raw: object, default: str, *path: str | int) -> str | None:
        if raw is None:
            return default
        if not isinstance(raw, str) or not raw:
            self.error("invalid_value", "'alias' must be a non-empty string.", *path, "alias")
            return None
        if "\x00" in raw or "[" in raw:
            # NUL: no database carries it. "[": Python's sqlite3 (as Django configures it) cuts
            # column names at "[" and looks up a value converter by what follows.
            self.error(
                "invalid_value", "'alias' cannot contain a NUL or '[' character.", *path, "alias"
            )
            return None
        try:
            size = len(raw.encode("utf-8"))
        except UnicodeEncodeError:
            self.error("invalid_value", "'alias' is not valid Unicode text.", *path, "alias")
            return None
        if size > MAX_IDENTIFIER_BYTES:
            self.error(
                "invalid_value",
                f"'alias' is longer than {MAX_IDENTIFIER_BYTES} bytes in UTF-8.",
                *path,
                "alias",
            )
            return None
        return raw

    def parse_columns(self, data: Mapping[str, Any]) -> tuple[SelectItem, ...]:
        items = self.list_of(data, "columns", required=True)
        if not items and isinstance(data.get("columns"), list):
            self.error("invalid_definition", "At least one column is required.", "columns")
        if len(items) > self.limits.max_columns:
            self.error("too_complex", f"At most {self.limits.max_columns} columns.", "columns")
            return ()
        select: list[SelectItem] = []
        names: dict[str, Path] = {}
        ts = self.parse_time_series(data)
        if ts is not None:
            select.append(ts[0])
            names[ts[0].name] = ("time_series",)
            self.select_paths.append(("time_series",))
        for i, raw in enumerate(items):
            item = self.mapping(raw, "columns", i)
            if item is None:
                continue
            expr = self.expr(item, "columns", i, allow_trunc=True)
            if expr is None:
                continue
            column = expr.col.column
            default = column.name if column is not None else "count"
            name = self.output_name(item.get("alias"), default, "columns", i)
            if name is None:
                continue
            if name in names:
                self.error(
                    "invalid_definition",
                    f"Duplicate output column name {_show(name)}; give one of them an alias.",
                    "columns",
                    i,
                    "alias" if "alias" in item else "column",
                )
                continue
            names[name] = ("columns", i)
            self.select_paths.append(names[name])
            select.append(SelectItem(expr, name))
        return tuple(select)

    def parse_time_series(self, data: Mapping[str, Any]) -> tuple[SelectItem] | None:
        raw = data.get("time_series")
        if raw is None:
            return None
        item = self.mapping(raw, "time_series")
        if item is None:
            return None
        col = self.column_ref(item, "table_id", "date_column", "time_series")
        interval = item.get("interval")
        if not isinstance(interval, str) or interval not in TRUNC_UNITS:
            self.error(
                "invalid_value",
                f"Unknown interval {_show(interval)}.{_suggest(interval, TRUNC_UNITS)}",
                "time_series",
                "interval",
            )
            return None
        if col is None or col.column is None:
            return None
        if col.type not in TEMPORAL_TYPES:
            self.error(
                "invalid_value",
                "time_series needs a date or datetime column.",
                "time_series",
                "date_column",
            )
            return None
        expr = self.check_expr(Expr(col, None, cast(TruncUnit, interval)), "time_series")
        name = self.output_name(item.get("alias"), col.column.name, "time_series")
        if expr is None or name is None:
            return None
        return (SelectItem(expr, name),)

    # -- filters ---------------------------------------------------------------------------
    def parse_filters(
        self, data: Mapping[str, Any]
    ) -> tuple[tuple[FilterNode, ...], tuple[FilterNode, ...]]:
        items = self.list_of(data, "filters", required=False)
        where: list[FilterNode] = []
        having: list[FilterNode] = []
        for i, raw in enumerate(items):
            parsed = self.filter_node(raw, 1, "filters", i)
            if parsed is None:
                continue
            node, has_agg, has_plain = parsed
            if has_agg and has_plain:
                self.error(
                    "invalid_definition",
                    "A filter group cannot mix aggregated and plain conditions.",
                    "filters",
                    i,
                )
            elif has_agg:
                having.append(node)
            else:
                where.append(node)
            if self.filter_count > self.limits.max_filters:
                break
        return tuple(where), tuple(having)

    def filter_node(
        self, raw: object, depth: int, *path: str | int
    ) -> tuple[FilterNode, bool, bool] | None:
        self.filter_count += 1
        if self.filter_count == self.limits.max_filters + 1:
            self.error("too_complex", f"At most {self.limits.max_filters} filters.", *path)
        if self.filter_count > self.limits.max_filters:
            return None
        if depth > self.limits.max_depth:
            self.error(
                "too_complex", f"Filters nest deeper than {self.limits.max_depth} levels.", *path
            )
            return None
        item = self.mapping(raw, *path)
        if item is None:
            return None
        shapes = [key for key in _FILTER_SHAPES if key in item]
        if len(shapes) > 1:
            # {"all": [], "any": [...]} would otherwise keep one part and drop the other.
            self.error(
                "invalid_definition",
                f"A filter has exactly one of 'all', 'any', 'not' or 'operator', not "
                f"{' and '.join(repr(k) for k in shapes)}.",
                *path,
            )
            return None
        for kind in ("all", "any"):
            if kind in item:
                children = item[kind]
                if not isinstance(children, list):
                    self.error("invalid_definition", f"'{kind}' must be a list.", *path, kind)
                    return None
                nodes: list[FilterNode] = []
                has_agg = has_plain = False
                for j, child in enumerate(children):
                    parsed = self.filter_node(child, depth + 1, *path, kind, j)
                    if parsed is None:
                        if self.filter_count > self.limits.max_filters:
                            return None
                        continue
                    nodes.append(parsed[0])
                    has_agg |= parsed[1]
                    has_plain |= parsed[2]
                return Group(cast(Any, kind), tuple(nodes)), has_agg, has_plain
        if "not" in item:
            parsed = self.filter_node(item["not"], depth + 1, *path, "not")
            if parsed is None:
                return None
            return Not(parsed[0]), parsed[1], parsed[2]
        cond = self.condition(item, *path)
        if cond is None:
            return None
        agg = cond.expr.is_aggregate
        return cond, agg, not agg

    def condition(self, item: Mapping[str, Any], *path: str | int) -> Condition | None:
        op_raw = item.get("operator")
        op: str | None = op_raw if isinstance(op_raw, str) else None
        if op == "in_":
            op = "in"
        expr = self.expr(item, *path)
        if op is None or op not in OPERATORS:
            if op_raw is None:
                self.error("invalid_definition", "'operator' is required.", *path, "operator")
            else:
                self.error(
                    "invalid_operator",
                    f"Unknown operator {_show(op_raw)}.{_suggest(op_raw, OPERATORS)}",
                    *path,
                    "operator",
                )
            return None
        if expr is None:
            return None
        if expr.col.column is None and expr.aggregation is None:
            return None
        type_ = expr.type
        if not self.operator_fits(op, type_):
            self.error(
                "invalid_operator",
                f"Operator {op!r} is not available for a {type_} value.",
                *path,
                "operator",
            )
            return None
        value = self.filter_value(op, type_, item.get("value"), *path, "value")
        if value is _FAIL:
            return None
        return Condition(expr, cast(Operator, op), value, path)

    @staticmethod
    def operator_fits(op: str, type_: LogicalType) -> bool:
        if op in _NULL_OPS:
            return True
        if op in _EQ_OPS or op in _LIST_OPS:
            return type_ in EQUALITY_TYPES
        if op in _ORDER_OPS or op == "between":
            return type_ in ORDERED_TYPES
        if op in _LIKE_OPS or op in _TEXT_OPS:
            return type_ == "string"
        return type_ in TEMPORAL_TYPES  # date_relative

    def filter_value(self, op: str, type_: LogicalType, raw: Any, *path: str | int) -> object:
        if op in _NULL_OPS:
            return None
        if op in _EQ_OPS and raw is None:
            return None
        if op in _LIST_OPS or op == "between":
            if not isinstance(raw, list):
                self.error("invalid_value", f"Operator {op!r} needs a list value.", *path)
                return _FAIL
            if op == "between" and len(raw) != 2:
                self.error("invalid_value", "'between' needs exactly [low, high].", *path)
                return _FAIL
            if len(raw) > self.limits.max_list_values:
                self.error(
                    "too_complex", f"At most {self.limits.max_list_values} list values.", *path
                )
                return _FAIL
            out = []
            ok = True
            for j, element in enumerate(raw):
                value = self.coerce(element, type_, *path, j)
                ok = ok and value is not _FAIL
                out.append(value)
            return tuple(out) if ok else _FAIL
        if op == "date_relative":
            return self.relative(raw, type_, *path)
        if op in _TEXT_OPS or op in _LIKE_OPS:
            if not isinstance(raw, str) or not _valid_text(raw):
                self.error("invalid_value", f"Operator {op!r} needs a text value.", *path)
                return _FAIL
            if op in _LIKE_OPS and (len(raw) - len(raw.rstrip("\\"))) % 2:
                self.error(
                    "invalid_value", "A LIKE pattern cannot end with the escape character.", *path
                )
                return _FAIL
            return raw
        return self.coerce(raw, type_, *path)

    def relative(self, raw: Any, type_: LogicalType, *path: str | int) -> object:
        spec: tuple[dates.Unit, int, int] | None = None
        if isinstance(raw, Mapping):
            preset = raw.get("preset")
            if preset is not None:
                spec = dates.PRESETS.get(preset) if isinstance(preset, str) else None
                if spec is None:
                    self.error(
                        "invalid_value",
                        f"Unknown preset {_show(preset)}.{_suggest(preset, dates.PRESETS)}",
                        *path,
                        "preset",
                    )
                    return _FAIL
            else:
                last, unit = raw.get("last"), raw.get("unit")
                if (
                    not isinstance(last, int)
                    or isinstance(last, bool)
                    or not 1 <= last <= dates.MAX_LAST
                    or not isinstance(unit, str)
                    or unit not in dates.UNITS
                ):
                    self.error(
                        "invalid_value",
                        f"Expected {{'last': 1..{dates.MAX_LAST}, 'unit': "
                        "day|week|month|quarter|year}.",
                        *path,
                    )
                    return _FAIL
                spec = (cast(dates.Unit, unit), last - 1, last)
        if spec is None:
            self.error(
                "invalid_value", "Expected {'preset': ...} or {'last': N, 'unit': ...}.", *path
            )
            return _FAIL
        try:
            start, end = dates.relative_range(*spec, now=self.now, tz=self.tz)
            if type_ == "date":
                return (start, end)
            return (
                dates.local_midnight(start, self.tz).astimezone(UTC),
                dates.local_midnight(end, self.tz).astimezone(UTC),
            )
        except (ValueError, OverflowError):
            self.error("invalid_value", "The relative date range leaves the calendar.", *path)
            return _FAIL

    def coerce(self, raw: Any, type_: LogicalType, *path: str | int) -> object:
        """Coerce a JSON scalar to the Python type of ``type_``; record an error and return
        ``_FAIL`` when it does not fit."""
        value = _coerce(raw, type_, self.tz)
        if value is _FAIL:
            self.error("invalid_value", f"{_show(raw)} is not a valid {type_} value.", *path)
        return value

    # -- group by / order by / paging -------------------------------------------------------
    def parse_group_by(self, data: Mapping[str, Any]) -> list[ColumnRef]:
        out: list[ColumnRef] = []
        items = self.list_of(data, "group_by", required=False)
        if len(items) > self.limits.max_columns:
            self.error("too_complex", f"At most {self.limits.max_columns} group_by.", "group_by")
            return out
        for i, raw in enumerate(items):
            item = self.mapping(raw, "group_by", i)
            if item is None:
                continue
            col = self.column_ref(item, "table_id", "column", "group_by", i)
            if col is not None:
                out.append(col)
        return out

    def resolve_group_by(
        self, raw: list[ColumnRef], select: tuple[SelectItem, ...]
    ) -> tuple[Expr, ...]:
        plain = [s for s in select if not s.expr.is_aggregate]
        for s, path in zip(select, self.select_paths, strict=True):
            if not s.expr.is_aggregate and s.expr.type in _UNSORTABLE:
                self.error(
                    "invalid_definition",
                    f"A {s.expr.type} column cannot be grouped; aggregate it with count.",
                    *path,
                )
        for i, col in enumerate(raw):
            if col.type in _UNSORTABLE:
                self.error(
                    "invalid_definition", f"A {col.type} column cannot be grouped.", "group_by", i
                )
        if not raw:
            seen: dict[tuple[int, str, str | None, str | None], Expr] = {}
            for s in plain:
                seen.setdefault(expr_key(s.expr), s.expr)
            return tuple(seen.values())
        result: dict[tuple[int, str, str | None, str | None], Expr] = {}
        grouped_cols: set[tuple[int, str]] = set()
        for col in raw:
            ident = col.key
            grouped_cols.add(ident)
            matches = [s.expr for s in plain if s.expr.col.key == ident]
            for expr in matches or [Expr(col)]:
                result.setdefault(expr_key(expr), expr)
        for s, path in zip(select, self.select_paths, strict=True):
            if s.expr.is_aggregate:
                continue
            if path == ("time_series",):  # the bucket is always grouped
                result.setdefault(expr_key(s.expr), s.expr)
            elif s.expr.col.key not in grouped_cols:
                self.error(
                    "invalid_definition",
                    f"Output column {_show(s.name)} must be aggregated or listed in group_by.",
                    *path,
                )
        return tuple(result.values())

    def parse_order_by(
        self, data: Mapping[str, Any], select: tuple[SelectItem, ...]
    ) -> tuple[OrderItem, ...]:
        out: list[OrderItem] = []
        if isinstance(data.get("time_series"), Mapping) and select:
            out.append(OrderItem("ASC", output=0))
            self.order_paths.append(("time_series",))
        items = self.list_of(data, "order_by", required=False)
        if len(items) > self.limits.max_columns:
            self.error("too_complex", f"At most {self.limits.max_columns} order_by.", "order_by")
            return tuple(out)
        names = {s.name: n for n, s in enumerate(select)}
        for i, raw in enumerate(items):
            item = self.mapping(raw, "order_by", i)
            if item is None:
                continue
            direction_raw = item.get("direction", "ASC")
            direction = direction_raw.upper() if isinstance(direction_raw, str) else None
            if direction not in ("ASC", "DESC"):
                self.error(
                    "invalid_value", "'direction' must be ASC or DESC.", "order_by", i, "direction"
                )
                continue
            dir_ = cast(Direction, direction)
            if "alias" in item and "table_id" not in item:
                alias = item["alias"]
                if isinstance(alias, str) and alias in names:
                    out.append(OrderItem(dir_, output=names[alias]))
                    self.order_paths.append(("order_by", i))
                else:
                    self.error(
                        "invalid_reference",
                        f"No output column is called {_show(alias)}.{_suggest(alias, names)}",
                        "order_by",
                        i,
                        "alias",
                    )
                continue
            expr = self.expr(item, "order_by", i)
            if expr is None:
                continue
            position = None
            if expr.aggregation is None:
                ident = expr.col.key
                for n, s in enumerate(select):
                    if not s.expr.is_aggregate and s.expr.col.key == ident:
                        position = n
                        break
            else:
                key = expr_key(expr)
                position = next((n for n, s in enumerate(select) if expr_key(s.expr) == key), None)
            if position is not None:
                out.append(OrderItem(dir_, output=position))
            else:
                out.append(OrderItem(dir_, expr=expr))
            self.order_paths.append(("order_by", i))
        return tuple(out)

    def check_order_sortable(
        self, order: tuple[OrderItem, ...], select: tuple[SelectItem, ...]
    ) -> None:
        for o, path in zip(order, self.order_paths, strict=True):
            expr = o.expr if o.output is None else select[o.output].expr
            if expr is not None and expr.type in _UNSORTABLE:
                self.error("invalid_definition", f"A {expr.type} value cannot be sorted.", *path)

    def check_order_grouped(self, order: tuple[OrderItem, ...], group_by: tuple[Expr, ...]) -> None:
        grouped = {e.col.key for e in group_by}
        for o, path in zip(order, self.order_paths, strict=True):
            expr = o.expr
            if expr is not None and not expr.is_aggregate and expr.col.key not in grouped:
                self.error(
                    "invalid_definition",
                    "In an aggregated query, order_by needs a grouped column or an aggregate.",
                    *path,
                )

    def parse_paging(self, data: Mapping[str, Any]) -> tuple[int, int]:
        limit = self.limits.max_rows
        raw = data.get("limit")
        if raw is not None:
            if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
                self.error("invalid_value", "'limit' must be an integer >= 0.", "limit")
            else:
                limit = min(raw, self.limits.max_rows)
        offset = 0
        raw = data.get("offset")
        if raw is not None:
            if not isinstance(raw, int) or isinstance(raw, bool) or not 0 <= raw <= MAX_OFFSET:
                self.error("invalid_value", "'offset' must be an integer >= 0.", "offset")
            else:
                offset = raw
        return limit, offset


def _coerce(raw: Any, type_: LogicalType, tz: tzinfo) -> object:
    if raw is None or isinstance(raw, (list, dict)):
        return _FAIL
    try:
        if type_ == "string":
            return raw if isinstance(raw, str) and _valid_text(raw) else _FAIL
        if type_ == "boolean":
            return raw if isinstance(raw, bool) else _FAIL
        if isinstance(raw, bool):
            return _FAIL
        if type_ == "integer":
            if isinstance(raw, float):
                if not raw.is_integer():
                    return _FAIL
                raw = int(raw)
            elif isinstance(raw, str):
                if len(raw) > 30 or not _ASCII_INTEGER.fullmatch(raw):
                    return _FAIL
                raw = int(raw)
            if isinstance(raw, int) and INT64_MIN <= raw <= INT64_MAX:
                return raw
            return _FAIL
        if type_ == "decimal":
            if isinstance(raw, str) and len(raw) > 60:
                return _FAIL
            if isinstance(raw, float):
                raw = repr(raw)
            if isinstance(raw, int) and abs(raw) >= 10**38:
                return _FAIL
            if not isinstance(raw, (int, str)):
                return _FAIL
            if isinstance(raw, str) and not _ASCII_DECIMAL.fullmatch(raw):
                return _FAIL  # no "1_000", no non-ASCII digits, no NaN/Infinity spellings
            value = Decimal(raw)
            if abs(value) >= _DECIMAL_MAX or (value and abs(value) < _DECIMAL_MIN):
                # Beyond what a database numeric or a double carries: 1e-400 would bind as 0.0.
                return _FAIL
            return value
        if type_ == "float":
            if isinstance(raw, str) and len(raw) > 60:
                return _FAIL
            if not isinstance(raw, (int, float, str)):
                return _FAIL
            number = float(raw)
            return number if math.isfinite(number) else _FAIL
        if not isinstance(raw, str) or len(raw) > 64:
            return _FAIL
        if type_ == "date":
            return date.fromisoformat(raw)
        if type_ == "datetime":
            parsed = datetime.fromisoformat(raw)  # a bare date means its midnight
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=tz)
            return parsed.astimezone(UTC)
        if type_ == "time":
            parsed_time = time.fromisoformat(raw)
            return _FAIL if parsed_time.tzinfo is not None else parsed_time
        if type_ == "uuid":
            return UUID(raw)
    except (ValueError, TypeError, OverflowError, InvalidOperation, ArithmeticError):
        return _FAIL
    return _FAIL


def parse(
    data: object,
    catalog: Catalog,
    *,
    limits: Limits = DEFAULT_LIMITS,
    now: datetime | None = None,
    tz: tzinfo = UTC,
) -> Query:
    """Validate a query definition against ``catalog`` and return its AST.

    ``now`` (default: the current time) and ``tz`` (default UTC; a ``ZoneInfo`` or UTC) resolve
    ``date_relative`` filters and naive datetime values, and name the zone of date truncation.
    Raises :class:`QueryValidationError` listing every problem found.
    """
    current = now if now is not None else datetime.now(tz)
    return _Parser(catalog, limits, current, tz).parse(data)


__all__ = ["DEFAULT_LIMITS", "MAX_IDENTIFIER_BYTES", "Limits", "expr_key", "parse"]
