"""The loaded demo data through prismiq_django's services, and the benchmark's workloads."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import pytest
from django.db.models import Sum

from example_project.shop.models import Customer, Order
from prismiq_django import services
from prismiq_django.exceptions import ObjectNotFound
from prismiq_django.query import QueryValidationError
from tests.example.conftest import SMALL, Loader

pytestmark = pytest.mark.django_db

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _bench(module: str) -> ModuleType:
    """Import ``benchmarks/e2e/<module>.py`` (``benchmarks/`` is a script directory)."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    return importlib.import_module(f"e2e.{module}")


def test_exposed_demo_tables_are_queryable_and_the_token_is_invisible(load: Loader) -> None:
    load(*SMALL, "--no-user")
    assert set(services.table_names(None)) >= {
        "shop_customer",
        "shop_product",
        "shop_order",
        "shop_orderitem",
    }
    columns = {column["name"] for column in services.table_schema(None, "shop_customer")["columns"]}
    assert "api_token" not in columns
    assert {"id", "tenant_id", "name", "email", "country", "created_at"} <= columns
    with pytest.raises(ObjectNotFound):
        services.column_values(None, "shop_customer", "api_token")
    problems = services.validate(
        None,
        {"tables": [{"id": "c", "name": "shop_customer"}], "columns": [_col("c", "api_token")]},
    )
    assert [problem.code for problem in problems] == ["column_not_found"]


def test_revenue_per_country_matches_the_orm(load: Loader) -> None:
    load(*SMALL, "--no-user")
    result = services.execute(
        None,
        {
            "tables": [{"id": "o", "name": "shop_order"}, {"id": "c", "name": "shop_customer"}],
            "joins": [
                {
                    "from_table_id": "o",
                    "from_column": "customer_id",
                    "to_table_id": "c",
                    "to_column": "id",
                }
            ],
            "columns": [
                _col("c", "country"),
                _col("o", "total", aggregation="sum", alias="revenue"),
            ],
            "order_by": [{"alias": "revenue", "direction": "DESC"}],
        },
        bypass_cache=True,
    )
    expected = dict(Order.objects.values_list("customer__country").annotate(revenue=Sum("total")))
    assert result.columns == ["country", "revenue"]
    assert {row[0]: round(float(row[1]), 2) for row in result.rows} == {
        country: round(float(total), 2) for country, total in expected.items()
    }
    revenues = [row[1] for row in result.rows]
    assert revenues == sorted(revenues, reverse=True)


def test_column_values_list_the_loaded_countries(load: Loader) -> None:
    load(*SMALL, "--no-user")
    values = services.column_values(None, "shop_customer", "country")
    assert values == sorted(set(Customer.objects.values_list("country", flat=True)))


def test_tenant_scoped_exposure_fails_closed_without_a_tenant(load: Loader) -> None:
    load(*SMALL, "--no-user", "--tenant-scoped")
    with pytest.raises(QueryValidationError) as caught:
        services.execute(
            None,
            {"tables": [{"id": "o", "name": "shop_order"}], "columns": [_col("o", "total")]},
        )
    assert [error.code for error in caught.value.errors] == ["invalid_definition"]


def test_every_benchmark_workload_is_a_valid_definition(load: Loader) -> None:
    load(*SMALL, "--no-user")
    bench = _bench("workloads")
    definitions = [
        workload.definition if workload.definition is not None else workload.raw_definition
        for workload in bench.WORKLOADS
    ]
    checked = [d for d in definitions if d is not None]
    assert len(checked) >= 6
    for definition in checked:
        assert services.validate(None, definition) == [], definition
        services.execute(None, definition, bypass_cache=True)


def test_benchmark_percentiles_are_nearest_rank() -> None:
    bench = _bench("measure")
    timings = bench.Timings([0.001 * n for n in range(1, 21)])  # 1..20 ms
    assert timings.median_ms == pytest.approx(10.5)
    assert timings.p95_ms == pytest.approx(19.0)
    assert bench.Timings([0.004]).p95_ms == pytest.approx(4.0)
    assert bench.Timings().median_ms is None


def _col(table: str, column: str, **extra: object) -> dict[str, object]:
    return {"table_id": table, "column": column, **extra}


def test_reloading_invalidates_cached_results(load: Loader) -> None:
    load(*SMALL, "--no-user")
    revenue = {
        "tables": [{"id": "o", "name": "shop_order"}],
        "columns": [_col("o", "total", aggregation="sum", alias="revenue")],
    }
    first = services.execute(None, revenue)
    assert services.execute(None, revenue).is_from_cache
    load(*SMALL, "--no-user", "--reset", "--seed=7")
    after = services.execute(None, revenue)
    assert not after.is_from_cache
    assert after.rows != first.rows
    assert after.rows[0][0] == pytest.approx(float(Order.objects.aggregate(s=Sum("total"))["s"]))
