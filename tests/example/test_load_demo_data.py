"""``load_demo_data`` on the test database (SQLite and PostgreSQL passes)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count, F, Sum

from example_project.shop.management.commands.load_demo_data import COLUMNS
from example_project.shop.models import Customer, Order, OrderItem, Product
from prismiq_django.models import ExposedColumn, ExposedTable
from tests.example.conftest import SMALL, Loader, checksum, counts

pytestmark = pytest.mark.django_db

SHOP_TABLES = {"shop_customer", "shop_product", "shop_order", "shop_orderitem"}


def test_generated_columns_are_exactly_the_model_columns() -> None:
    for model, columns in COLUMNS.items():
        assert list(columns) == sorted(
            (field.column for field in model._meta.concrete_fields), key=columns.index
        )
        assert set(columns) == {field.column for field in model._meta.concrete_fields}


def test_loads_the_requested_sizes(load: Loader) -> None:
    load(*SMALL, "--no-user", "--no-expose")
    customers, products, orders, items = counts()
    assert (customers, products, orders) == (60, 15, 400)
    # Uniform 1..5 items per order: the mean is 3, and 400 orders keep it well inside 2.6..3.4.
    assert 2.6 * orders <= items <= 3.4 * orders


def test_same_arguments_give_the_same_rows(load: Loader) -> None:
    load(*SMALL, "--no-user", "--no-expose")
    first = (counts(), checksum())
    load(*SMALL, "--no-user", "--no-expose", "--reset")
    assert (counts(), checksum()) == first


def test_another_seed_gives_other_rows(load: Loader) -> None:
    load(*SMALL, "--no-user", "--no-expose")
    first = checksum()
    load(*SMALL, "--no-user", "--no-expose", "--reset", "--seed=7")
    assert checksum() != first


def test_reset_replaces_the_data_with_the_new_size(load: Loader) -> None:
    load(*SMALL, "--no-user", "--no-expose")
    run = load(*SMALL, "--orders=150", "--no-user", "--no-expose", "--reset")
    assert "Emptied the shop tables." in run.stdout
    assert Order.objects.count() == 150
    assert Order.objects.order_by("pk").values_list("pk", flat=True).first() == 1
    assert Order.objects.order_by("-pk").values_list("pk", flat=True).first() == 150


def test_without_reset_existing_data_is_kept(load: Loader) -> None:
    load(*SMALL, "--no-user", "--no-expose")
    before = (counts(), checksum())
    run = load(*SMALL, "--orders=50", "--seed=9", "--no-user", "--no-expose")
    assert "already hold 400 orders" in run.stdout
    assert (counts(), checksum()) == before


def test_progress_lines_every_five_percent(load: Loader) -> None:
    run = load(*SMALL, "--orders=2000", "--no-user", "--no-expose")
    percents = [int(p) for p in re.findall(r"^\s*(\d+)%\s+\d+/2000 orders", run.stderr, re.M)]
    assert percents == list(range(5, 101, 5))
    assert "Loading 2000 orders" in run.stderr
    assert re.search(
        r"Loaded 60 customers, 15 products, 2000 orders and \d+ order items", run.stdout
    )


def test_every_order_is_consistent_with_its_items_customer_and_products(load: Loader) -> None:
    load(*SMALL, "--no-user", "--no-expose")
    sums = dict(
        OrderItem.objects.values_list("order_id")
        .annotate(total=Sum(F("quantity") * F("unit_price")))
        .values_list("order_id", "total")
    )
    assert len(sums) == 400  # every order has at least one item
    for order_id, total in Order.objects.values_list("pk", "total"):
        assert Decimal(total) == Decimal(sums[order_id]).quantize(Decimal("0.01"))
    assert not Order.objects.exclude(tenant_id=F("customer__tenant_id")).exists()
    assert not OrderItem.objects.exclude(tenant_id=F("order__tenant_id")).exists()
    assert not OrderItem.objects.exclude(tenant_id=F("product__tenant_id")).exists()
    assert OrderItem.objects.filter(quantity__lt=1).count() == 0
    assert Product.objects.filter(price__lte=0).count() == 0


def test_statuses_dates_and_nulls_have_a_realistic_spread(load: Loader) -> None:
    load(*SMALL, "--no-user", "--no-expose")
    statuses = dict(Order.objects.values_list("status").annotate(n=Count("pk")))
    assert set(statuses) == {"pending", "paid", "shipped", "cancelled"}
    assert statuses["shipped"] > 400 // 2
    assert not Order.objects.filter(status="shipped", shipped_on__isnull=True).exists()
    assert not Order.objects.exclude(status="shipped").filter(shipped_on__isnull=False).exists()
    first_day, last_day = date(2025, 6, 30) - timedelta(days=119), date(2025, 6, 30)
    window = (
        datetime.combine(first_day, datetime.min.time(), UTC),
        datetime.combine(last_day + timedelta(days=1), datetime.min.time(), UTC),
    )
    assert Order.objects.count() == Order.objects.filter(ordered_at__range=window).count()
    for ordered_at, shipped_on in Order.objects.filter(status="shipped").values_list(
        "ordered_at", "shipped_on"
    ):
        assert shipped_on is not None
        assert ordered_at.date() < shipped_on <= last_day
    assert set(Order.objects.values_list("tenant_id", flat=True)) == {1, 2, 3}
    assert Customer.objects.values("country").distinct().count() > 5
    assert Product.objects.values("category").distinct().count() > 3


def test_values_have_the_model_types(load: Loader) -> None:
    load(*SMALL, "--no-user", "--no-expose")
    product = Product.objects.order_by("pk").first()
    assert product is not None
    assert product.sku.version == 4
    assert set(product.attributes) == {"color", "weight_g", "tags", "in_stock"}
    assert isinstance(product.price, Decimal)
    customer = Customer.objects.order_by("pk").first()
    assert customer is not None
    assert re.fullmatch(r"[0-9a-f]{32}", customer.api_token)
    assert customer.created_at.tzinfo is not None
    assert "@example." in customer.email


def test_new_rows_get_fresh_ids_after_the_load(load: Loader) -> None:
    load(*SMALL, "--no-user", "--no-expose")
    customer = Customer.objects.create(
        tenant_id=1,
        name="New",
        email="n@example.com",
        city="Oslo",
        country="NO",
        created_at=datetime(2025, 7, 1, tzinfo=UTC),
    )
    order = Order.objects.create(
        tenant_id=1,
        customer=customer,
        status="pending",
        ordered_at=datetime(2025, 7, 1, tzinfo=UTC),
        total=Decimal("0.00"),
    )
    assert customer.pk == 61
    assert order.pk == 401


def test_tables_are_exposed_with_the_token_hidden(load: Loader) -> None:
    run = load(*SMALL, "--no-user")
    tables = {table.name: table for table in ExposedTable.objects.all()}
    assert set(tables) == SHOP_TABLES
    assert all(table.is_exposed and table.tenant_column == "" for table in tables.values())
    hidden = set(ExposedColumn.objects.filter(is_hidden=True).values_list("table__name", "name"))
    assert hidden == {("shop_customer", "api_token")}
    assert ExposedColumn.objects.filter(table__name="shop_customer").count() == 9
    assert "api_token hidden" in run.stdout
    # Running again updates the same rows instead of adding new ones.
    load(*SMALL, "--no-user")
    assert ExposedTable.objects.count() == 4
    assert ExposedColumn.objects.count() == sum(len(columns) for columns in COLUMNS.values())


def test_tenant_scoped_exposure_names_the_tenant_column(load: Loader) -> None:
    load(*SMALL, "--no-user", "--tenant-scoped")
    assert set(ExposedTable.objects.values_list("tenant_column", flat=True)) == {"tenant_id"}


def test_no_expose_and_no_user_leave_them_alone(load: Loader) -> None:
    load(*SMALL, "--no-user", "--no-expose")
    assert not ExposedTable.objects.exists()
    assert not get_user_model().objects.filter(username="demo").exists()


def test_demo_login_is_a_staff_superuser(load: Loader) -> None:
    run = load(*SMALL, "--no-expose")
    assert "Demo login: demo / demo" in run.stdout
    user = authenticate(username="demo", password="demo")
    assert user is not None
    assert user.is_staff
    assert user.is_superuser


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--orders=-1",), "--orders"),
        (("--tenants=0",), "--tenants"),
        (("--tenants=5", "--products=4"), "--products"),
        (("--items-per-order=0.5",), "--items-per-order"),
        (("--customers=0",), "--customers"),
        (("--days=0",), "--days"),
        (("--days=99999999",), "--days"),
        (("--items-per-order=nan",), "--items-per-order"),
        (("--items-per-order=inf",), "--items-per-order"),
        (("--items-per-order=1000",), "--items-per-order"),
        (("--end-date=0001-06-30",), "--end-date"),
        (("--end-date=9999-12-31",), "--end-date"),
        (("--database=nowhere",), "nowhere"),
    ],
)
def test_impossible_sizes_are_refused(load: Loader, args: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError, match=re.escape(message)):
        load(*args, "--no-user", "--no-expose")
    assert counts() == (0, 0, 0, 0)


def test_zero_orders_loads_customers_and_products_only(load: Loader) -> None:
    load("--orders=0", "--customers=10", "--products=5", "--no-user", "--no-expose")
    assert counts() == (10, 5, 0, 0)


def _constraints_and_indexes() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = ANY(%s::text[]::regclass[]) "
            "UNION ALL SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
            "ORDER BY 1, 2",
            [sorted(SHOP_TABLES), sorted(SHOP_TABLES)],
        )
        return [(str(name), str(definition)) for name, definition in cursor.fetchall()]


@pytest.mark.postgres
def test_postgres_load_restores_foreign_keys_and_indexes(load: Loader) -> None:
    before = _constraints_and_indexes()
    assert sum("FOREIGN KEY" in definition for _, definition in before) == 3
    load(*SMALL, "--no-user", "--no-expose")
    assert _constraints_and_indexes() == before


@pytest.mark.parametrize("orders", [1, 7, 33])
def test_progress_ends_at_one_hundred_percent_for_odd_sizes(load: Loader, orders: int) -> None:
    run = load(*SMALL, f"--orders={orders}", "--no-user", "--no-expose")
    percents = [int(p) for p in re.findall(r"^\s*(\d+)%", run.stderr, re.M)]
    assert percents[-1] == 100
    assert percents == sorted(set(percents))
    assert Order.objects.count() == orders


def test_existing_customers_without_orders_are_not_loaded_twice(load: Loader) -> None:
    load("--orders=0", "--customers=10", "--products=5", "--no-user", "--no-expose")
    run = load("--orders=0", "--customers=10", "--products=5", "--no-user", "--no-expose")
    assert "already hold 0 orders and 10 customers" in run.stdout
    assert counts() == (10, 5, 0, 0)


def test_a_malformed_end_date_is_refused(load: Loader) -> None:
    with pytest.raises(CommandError, match="end-date"):
        load("--end-date=31/12/2025", "--no-user", "--no-expose")


def test_a_failed_load_leaves_nothing_behind(load: Loader, monkeypatch: pytest.MonkeyPatch) -> None:
    from example_project.shop.management.commands import load_demo_data

    real = load_demo_data.DemoGenerator.order_chunks

    def failing(self: load_demo_data.DemoGenerator, chunk_size: int) -> Iterator[Any]:
        chunks = real(self, chunk_size)
        yield next(chunks)
        raise RuntimeError("generator broke mid-load")

    before = _constraints_and_indexes() if connection.vendor == "postgresql" else []
    monkeypatch.setattr(load_demo_data.DemoGenerator, "order_chunks", failing)
    with pytest.raises(RuntimeError, match="mid-load"):
        load(*SMALL, "--no-user", "--no-expose")
    assert counts() == (0, 0, 0, 0)
    if connection.vendor == "postgresql":
        assert _constraints_and_indexes() == before
    monkeypatch.undo()
    load(*SMALL, "--no-user", "--no-expose")  # and the next load works
    assert counts()[2] == 400


def test_data_that_ends_today_ends_now(load: Loader) -> None:
    """Issue 23 item 7: by default the data ends at the current instant, not at 23:59 of today,
    so "today" and other relative filters never show the future (customers' sign-ups too)."""
    before = datetime.now(UTC)
    load("--orders=1500", "--customers=100", "--products=15", "--days=1")
    after = datetime.now(UTC)
    latest = Order.objects.order_by("-ordered_at").values_list("ordered_at", flat=True)[0]
    assert latest.date() == before.date() or latest.date() == after.date()
    assert latest <= after
    assert Customer.objects.filter(created_at__gt=after).count() == 0
    # A fixed end date still uses the whole of its last day (the same rows on every run).
    load("--reset", "--orders=1500", "--customers=100", "--products=15", "--days=1",
         "--end-date=2025-06-30")  # fmt: skip
    fixed = Order.objects.order_by("-ordered_at").values_list("ordered_at", flat=True)[0]
    assert fixed.date() == date(2025, 6, 30)
    assert fixed.hour >= 20  # 1500 draws over the whole day reach its last hours
