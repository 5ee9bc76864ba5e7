"""Parse + compile latency of the pure query core (no database, no Django).

Usage::

    python benchmarks/bench_compile.py [--iterations 5000] [--dialect postgresql] [--runs 1]

Prints, per query, the median and 95th percentile of one ``build()`` call (parse, validate
against the catalog, compile to SQL) in microseconds, with a multi-tenant catalog (row scopes on
every table), as the HTTP layer calls it.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prismiq_django.query import (
    Catalog,
    Column,
    Relationship,
    RowScope,
    Table,
    build,
)


def _table(name: str, *cols: tuple[str, str, str]) -> Table:
    columns = [Column("id", "bigint", "integer", is_primary_key=True, is_nullable=False)]
    columns.append(Column("tenant_id", "integer", "integer"))
    columns += [Column(n, d, t) for n, d, t in cols]  # type: ignore[arg-type]
    return Table(name, tuple(columns), tenant_column="tenant_id")


TABLES = [
    _table(
        "shop_customer",
        ("name", "varchar", "string"),
        ("email", "varchar", "string"),
        ("city", "varchar", "string"),
        ("country", "varchar", "string"),
        ("is_active", "boolean", "boolean"),
        ("created_at", "timestamp with time zone", "datetime"),
    ),
    _table(
        "shop_product",
        ("name", "varchar", "string"),
        ("category", "varchar", "string"),
        ("price", "numeric", "decimal"),
    ),
    _table(
        "shop_order",
        ("customer_id", "bigint", "integer"),
        ("status", "varchar", "string"),
        ("ordered_at", "timestamp with time zone", "datetime"),
        ("shipped_on", "date", "date"),
        ("total", "numeric", "decimal"),
    ),
    _table(
        "shop_orderitem",
        ("order_id", "bigint", "integer"),
        ("product_id", "bigint", "integer"),
        ("quantity", "integer", "integer"),
        ("unit_price", "numeric", "decimal"),
    ),
]
CATALOG = Catalog.build(
    TABLES,
    [
        Relationship("shop_order", "customer_id", "shop_customer", "id"),
        Relationship("shop_orderitem", "order_id", "shop_order", "id"),
        Relationship("shop_orderitem", "product_id", "shop_product", "id"),
    ],
    [RowScope(t.name, "tenant_id", (42,)) for t in TABLES],
)


def _f(tid: str, col: str, op: str, value: Any = None, **kw: Any) -> dict[str, Any]:
    return {"table_id": tid, "column": col, "operator": op, "value": value, **kw}


JOIN_CO = {
    "from_table_id": "o",
    "from_column": "customer_id",
    "to_table_id": "c",
    "to_column": "id",
}
JOIN_OI = {"from_table_id": "i", "from_column": "order_id", "to_table_id": "o", "to_column": "id"}

QUERIES: dict[str, dict[str, Any]] = {
    "single table, 1 filter": {
        "tables": [{"id": "o", "name": "shop_order"}],
        "columns": [{"table_id": "o", "column": "id"}, {"table_id": "o", "column": "total"}],
        "filters": [_f("o", "status", "eq", "paid")],
        "limit": 100,
    },
    "top-10 customers by revenue": {
        "tables": [{"id": "c", "name": "shop_customer"}, {"id": "o", "name": "shop_order"}],
        "joins": [JOIN_CO],
        "columns": [
            {"table_id": "c", "column": "name"},
            {"table_id": "o", "column": "total", "aggregation": "sum", "alias": "revenue"},
        ],
        "filters": [_f("o", "status", "in_", ["paid", "shipped"])],
        "order_by": [{"alias": "revenue", "direction": "DESC"}],
        "limit": 10,
    },
    "3-table join, 10 filters": {
        "tables": [
            {"id": "c", "name": "shop_customer"},
            {"id": "o", "name": "shop_order"},
            {"id": "i", "name": "shop_orderitem"},
        ],
        "joins": [JOIN_CO, {**JOIN_OI, "join_type": "LEFT"}],
        "columns": [
            {"table_id": "c", "column": "country"},
            {"table_id": "o", "column": "ordered_at", "date_trunc": "month", "alias": "month"},
            {"table_id": "i", "column": "quantity", "aggregation": "sum", "alias": "units"},
            {"table_id": "o", "column": "id", "aggregation": "count_distinct", "alias": "orders"},
        ],
        "filters": [
            _f("o", "status", "in_", ["paid", "shipped"]),
            _f("o", "total", "gte", 10),
            _f("o", "total", "lt", "10000.50"),
            _f("o", "ordered_at", "date_relative", {"preset": "last_year"}),
            _f("c", "is_active", "eq", True),
            _f("c", "country", "not_in", ["XX", "YY"]),
            _f("c", "email", "ends_with", "@example.com"),
            _f("c", "name", "contains", "50%_off"),
            _f("i", "quantity", "between", [1, 100]),
            _f("o", "shipped_on", "is_not_null"),
        ],
        "order_by": [{"alias": "month"}, {"alias": "units", "direction": "DESC"}],
        "limit": 500,
    },
    "time series with nested filter groups": {
        "tables": [{"id": "o", "name": "shop_order"}],
        "time_series": {
            "table_id": "o",
            "date_column": "ordered_at",
            "interval": "week",
            "alias": "week",
        },
        "columns": [{"table_id": "o", "column": "total", "aggregation": "sum", "alias": "rev"}],
        "filters": [
            {
                "any": [
                    {"all": [_f("o", "status", "eq", "paid"), _f("o", "total", "gt", 100)]},
                    {"not": _f("o", "status", "in", ["cancelled", "pending"])},
                ]
            },
            _f("o", "total", "gt", 1000, aggregation="sum"),
        ],
    },
}


def measure(
    definition: dict[str, Any], dialect: str, iterations: int
) -> tuple[list[float], list[float]]:
    """Return (wall-clock, thread CPU) samples in microseconds.

    CPU time is reported too because on a shared machine the wall-clock tail mostly measures
    preemption by other processes, not this code.
    """
    now = datetime(2025, 6, 15, 12, tzinfo=UTC)
    tz = ZoneInfo("Europe/Paris")
    for _ in range(200):  # warm-up
        build(definition, CATALOG, dialect, now=now, tz=tz)
    wall: list[float] = []
    cpu: list[float] = []
    clock = time.perf_counter_ns
    cpu_clock = time.thread_time_ns
    gc.disable()
    try:
        for _ in range(iterations):
            start, cpu_start = clock(), cpu_clock()
            build(definition, CATALOG, dialect, now=now, tz=tz)
            cpu_end, end = cpu_clock(), clock()
            wall.append((end - start) / 1000)
            cpu.append((cpu_end - cpu_start) / 1000)
    finally:
        gc.enable()
    return wall, cpu


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=5000)
    parser.add_argument("--dialect", default="postgresql", choices=["postgresql", "sqlite"])
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="measure each query this many times and keep the run with the lowest median "
        "(on a shared machine, other processes inflate whole runs)",
    )
    args = parser.parse_args()
    version = sys.version.split()[0]
    runs = f", best of {args.runs} runs" if args.runs > 1 else ""
    print(f"parse + compile, {args.dialect}, {args.iterations} iterations{runs}, Python {version}")
    print(f"{'query':40} {'median µs':>10} {'p95 µs':>9} {'CPU median':>11} {'CPU p95':>9}")
    for name, definition in QUERIES.items():
        samples = [
            measure(definition, args.dialect, args.iterations) for _ in range(max(1, args.runs))
        ]
        wall, cpu = min(samples, key=lambda run: statistics.median(run[0]))
        print(
            f"{name:40} {statistics.median(wall):10.1f} {_p95(wall):9.1f}"
            f" {statistics.median(cpu):11.1f} {_p95(cpu):9.1f}"
        )


if __name__ == "__main__":
    main()
