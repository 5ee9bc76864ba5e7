"""``manage.py load_demo_data``: a deterministic demo shop dataset, fast on PostgreSQL and SQLite.

What it loads: ``--tenants`` tenants, ``--customers`` customers, ``--products`` products,
``--orders`` orders and about ``--items-per-order`` order items per order, spread over ``--days``
days (default 730, about two years) that end on ``--end-date`` (default: today in UTC, and then
up to the current time, so that relative date filters such as "last 30 days" find rows and "today"
shows nothing in the future; pass a fixed date for a dataset that is identical on every day). The
same ``--seed``, sizes and end date always give the same rows, ids included, on every backend.

Shape of the data: tenants of unequal size (tenant 1 is the biggest), customers whose order volume
follows a heavy-tailed distribution (so "top customers" means something), more orders towards the
end of the window, statuses ``shipped``/``paid``/``pending``/``cancelled`` with ``shipped_on`` set
only for shipped orders (NULL otherwise), order totals that equal the sum of their items, prices
as decimals, SKUs as UUIDs and product ``attributes`` as JSON objects. Every order, its customer,
its items and their products share one ``tenant_id``.

How it loads: PostgreSQL through ``COPY ... FROM STDIN`` on the psycopg 3 connection under Django's
connection, SQLite through ``executemany`` — all in one transaction, in chunks, with a progress line
on stderr at every 5%. On PostgreSQL the shop tables' foreign keys and secondary indexes are dropped
for the load and re-created before the commit (see :func:`postgres_bulk_mode`), and the id
sequences are reset (on MySQL/MariaDB each table's AUTO_INCREMENT, after the load commits).
Every backend ``ANALYZE``-s the tables afterwards.
When any shop table already holds rows, nothing is loaded unless ``--reset`` (which empties the
four shop tables first) is given. After a load, cached prismiq_django results that read the shop
tables are invalidated.

Afterwards, unless ``--no-expose``: the four tables are exposed to prismiq_django
(``ExposedTable``/``ExposedColumn`` rows; ``shop_customer.api_token`` hidden; with
``--tenant-scoped`` each table gets ``tenant_column = "tenant_id"``, which needs
``PRISMIQ["TENANT_CALLBACK"]``). Unless ``--no-user``: a ``demo``/``demo`` superuser.
"""

from __future__ import annotations

import json
import math
import random
import time
import uuid
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from example_project.shop.models import Customer, Order, OrderItem, Product

Row = tuple[Any, ...]

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo"  # noqa: S105 - the documented demo login, not a secret

#: Column order of the generated rows, per model (checked against the models by the tests).
COLUMNS: dict[type[models.Model], tuple[str, ...]] = {
    Customer: (
        "id",
        "tenant_id",
        "name",
        "email",
        "city",
        "country",
        "is_active",
        "created_at",
        "api_token",
    ),
    Product: ("id", "tenant_id", "name", "category", "price", "sku", "attributes"),
    Order: ("id", "tenant_id", "customer_id", "status", "ordered_at", "shipped_on", "total"),
    OrderItem: ("id", "tenant_id", "order_id", "product_id", "quantity", "unit_price"),
}

# fmt: off
FIRST_NAMES = (
    "Ada", "Alan", "Alice", "Amara", "Ana", "Arjun", "Ben", "Carla", "Chen", "Chloe", "Daniel",
    "Dara", "Elena", "Emil", "Eva", "Farid", "Grace", "Hana", "Hugo", "Ines", "Ivan", "Jamal",
    "Jana", "Jonas", "Kai", "Karin", "Lars", "Lea", "Liam", "Lina", "Luca", "Maya", "Mia",
    "Nadia", "Noah", "Nora", "Omar", "Oscar", "Paula", "Priya", "Rafael", "Rosa", "Sami",
    "Sara", "Sofia", "Tariq", "Theo", "Yara", "Yusuf", "Zoe",
)
LAST_NAMES = (
    "Adams", "Baker", "Bauer", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad",
    "Hansen", "Ito", "Jensen", "Kaur", "Kim", "Kowalski", "Larsen", "Lopez", "Martin", "Meyer",
    "Moreau", "Müller", "Nakamura", "Novak", "Okafor", "Patel", "Perez", "Rossi", "Sato",
    "Schmidt", "Silva", "Singh", "Smith", "Tanaka", "Wagner", "Walsh", "Weber", "Williams",
    "Wong", "Yilmaz", "Zhang",
)
# fmt: on
#: (city, ISO country, relative weight)
CITIES = (
    ("New York", "US", 9),
    ("Chicago", "US", 5),
    ("Austin", "US", 3),
    ("San Francisco", "US", 4),
    ("Toronto", "CA", 4),
    ("London", "GB", 7),
    ("Manchester", "GB", 3),
    ("Berlin", "DE", 6),
    ("Munich", "DE", 3),
    ("Paris", "FR", 6),
    ("Lyon", "FR", 2),
    ("Madrid", "ES", 4),
    ("Milan", "IT", 3),
    ("Amsterdam", "NL", 3),
    ("Stockholm", "SE", 2),
    ("Warsaw", "PL", 2),
    ("São Paulo", "BR", 4),
    ("Mexico City", "MX", 3),
    ("Tokyo", "JP", 5),
    ("Seoul", "KR", 3),
    ("Bangalore", "IN", 4),
    ("Sydney", "AU", 3),
    ("Lagos", "NG", 2),
    ("Cape Town", "ZA", 1),
)
#: category -> (typical price in cents, product nouns)
CATEGORIES = {
    "electronics": (14_900, ("Headphones", "Speaker", "Charger", "Monitor", "Keyboard", "Camera")),
    "books": (1_900, ("Novel", "Cookbook", "Atlas", "Biography", "Guide", "Anthology")),
    "home": (3_900, ("Lamp", "Kettle", "Blanket", "Vase", "Mirror", "Pan")),
    "garden": (2_900, ("Hose", "Planter", "Shears", "Rake", "Lantern", "Bench")),
    "toys": (2_400, ("Puzzle", "Kite", "Robot", "Blocks", "Doll", "Train")),
    "sports": (4_900, ("Racket", "Ball", "Helmet", "Mat", "Bottle", "Gloves")),
    "beauty": (1_800, ("Serum", "Soap", "Cream", "Brush", "Balm", "Oil")),
    "grocery": (700, ("Coffee", "Tea", "Honey", "Olive Oil", "Chocolate", "Pasta")),
}
# fmt: off
ADJECTIVES = (
    "Classic", "Compact", "Deluxe", "Eco", "Everyday", "Premium", "Pro", "Smart", "Travel",
    "Vintage",
)
COLORS = (
    "black", "white", "red", "blue", "green", "grey", "yellow", "navy",
)
TAGS = (
    "bestseller", "new", "gift", "limited", "organic", "refurbished", "sale",
)
# fmt: on
TLDS = ("com", "org", "net", "io")
#: Customers may have joined up to this many days before the first day of orders.
PRE_DAYS = 365
#: Upper bounds of the options that size in-memory tables (one string per day, items per order).
MAX_DAYS = 36_500
MAX_ITEMS_PER_ORDER = 100
#: Quantity of an order item: 1 is most common.
QUANTITIES = (1,) * 12 + (2,) * 5 + (3,) * 2 + (4,)


@dataclass(frozen=True, slots=True)
class DemoPlan:
    """Sizes and knobs of one dataset; the same plan always gives the same rows."""

    orders: int = 20_000
    customers: int = 2_000
    products: int = 200
    tenants: int = 3
    items_per_order: float = 3.0
    days: int = 730
    end_date: date = date(2026, 1, 1)
    seed: int = 42
    #: Seconds of ``end_date`` that timestamps may use (86400: the whole day). The command sets
    #: the current time of day when the data ends today, so nothing lies in the future.
    end_seconds: int = 86_400

    def check(self) -> None:
        """Raise :class:`CommandError` for sizes that cannot make a consistent dataset."""
        if self.orders < 0:
            raise CommandError("--orders must be >= 0.")
        if self.tenants < 1:
            raise CommandError("--tenants must be >= 1.")
        if self.customers < 1:
            raise CommandError("--customers must be >= 1.")
        if self.products < self.tenants:
            raise CommandError("--products must be >= --tenants (every tenant needs products).")
        if not 1 <= self.items_per_order <= MAX_ITEMS_PER_ORDER:  # also refuses NaN
            raise CommandError(f"--items-per-order must be between 1 and {MAX_ITEMS_PER_ORDER}.")
        if not 1 <= self.days <= MAX_DAYS:
            raise CommandError(f"--days must be between 1 and {MAX_DAYS}.")
        if self.end_date - date.min < timedelta(days=self.days + PRE_DAYS):
            raise CommandError("--end-date is too early for --days.")
        if self.end_date > date.max - timedelta(days=10):
            raise CommandError("--end-date is too late.")
        if not 0 <= self.end_seconds <= 86_400:
            raise CommandError("end_seconds must be between 0 and 86400.")


@dataclass(frozen=True, slots=True)
class Encoding:
    """How values that backends store differently are written (text of the database's types)."""

    tz_suffix: str  # appended to "YYYY-MM-DD HH:MM:SS"
    true: object
    false: object
    uuid_hex: bool  # Django stores UUIDField as 32 hex digits where there is no uuid type

    @classmethod
    def for_vendor(cls, vendor: str) -> Encoding:
        if vendor == "postgresql":
            return cls(tz_suffix="+00", true="t", false="f", uuid_hex=False)
        return cls(tz_suffix="", true=1, false=0, uuid_hex=True)


def _given(value: int | None, default: int) -> int:
    return default if value is None else value


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


class DemoGenerator:
    """Generates the rows of a :class:`DemoPlan` from one seeded ``random.Random``.

    Call :meth:`customers`, then :meth:`products`, then iterate :meth:`order_chunks` — in that
    order, exactly once: they share the random stream (which is what makes the data repeatable).
    """

    def __init__(self, plan: DemoPlan, encoding: Encoding) -> None:
        self.plan = plan
        self.enc = encoding
        self.rng = random.Random(plan.seed)
        # Day d (0 = first day of the window) is day_text[d + PRE_DAYS]; customers may have joined
        # up to PRE_DAYS before the window, and shipping dates run up to a week past its end.
        start = plan.end_date - timedelta(days=plan.days - 1 + PRE_DAYS)
        self.day_text = [
            (start + timedelta(days=d)).isoformat() for d in range(PRE_DAYS + plan.days + 8)
        ]
        self._customer_tenant: list[int] = []
        self._customer_day: list[int] = []
        self._customer_cum_weight: list[float] = []
        self._tenant_products: dict[int, tuple[list[int], list[int]]] = {}

    def _timestamp(self, day: int) -> str:
        # The last day only up to plan.end_seconds (the current instant when it is today); one
        # draw either way, so the rest of the data does not change.
        span = self.plan.end_seconds if day == self.plan.days - 1 else 86_400
        seconds = min(int(self.rng.random() * span), 86_399)
        hour, rest = divmod(seconds, 3600)
        clock = f"{hour:02d}:{rest // 60:02d}:{rest % 60:02d}"
        return f"{self.day_text[day + PRE_DAYS]} {clock}{self.enc.tz_suffix}"

    def customers(self) -> list[Row]:
        """Customer rows; tenants get Zipf-like shares, ordering activity is heavy-tailed.

        A customer joins on a uniform day from a year before the window to its end and orders at
        a constant (heavy-tailed) rate from then on, so order volume grows about threefold.
        """
        plan, rng, enc = self.plan, self.rng, self.enc
        tenant_ids = list(range(1, plan.tenants + 1))
        tenants = rng.choices(tenant_ids, weights=[1 / t for t in tenant_ids], k=plan.customers)
        city_weights = [weight for _, _, weight in CITIES]
        cities = rng.choices(CITIES, weights=city_weights, k=plan.customers)
        rows: list[Row] = []
        cumulative = 0.0
        for index in range(plan.customers):
            customer_id = index + 1
            first = FIRST_NAMES[int(rng.random() * len(FIRST_NAMES))]
            last = LAST_NAMES[int(rng.random() * len(LAST_NAMES))]
            tld = TLDS[int(rng.random() * len(TLDS))]
            day = int((PRE_DAYS + plan.days) * rng.random()) - PRE_DAYS
            city, country, _ = cities[index]
            rows.append(
                (
                    customer_id,
                    tenants[index],
                    f"{first} {last}",
                    f"{first}.{last}{customer_id}@example.{tld}".lower(),
                    city,
                    country,
                    enc.true if rng.random() < 0.92 else enc.false,
                    self._timestamp(day),
                    f"{rng.getrandbits(128):032x}",
                )
            )
            active_from = max(day, 0)
            cumulative += rng.paretovariate(1.3) * (plan.days - active_from)
            self._customer_cum_weight.append(cumulative)
            self._customer_tenant.append(tenants[index])
            self._customer_day.append(active_from)
        return rows

    def products(self) -> list[Row]:
        """Product rows; tenants take products in turn, so each tenant has some."""
        plan, rng = self.plan, self.rng
        names = list(CATEGORIES)
        rows: list[Row] = []
        for index in range(plan.products):
            product_id = index + 1
            tenant = index % plan.tenants + 1
            category = names[int(rng.random() * len(names))]
            base, nouns = CATEGORIES[category]
            noun = nouns[int(rng.random() * len(nouns))]
            adjective = ADJECTIVES[int(rng.random() * len(ADJECTIVES))]
            cents = max(99, int(base * rng.lognormvariate(0.0, 0.5)) // 10 * 10 + 9)
            sku = uuid.UUID(int=rng.getrandbits(128), version=4)
            attributes = {
                "color": COLORS[int(rng.random() * len(COLORS))],
                "weight_g": int(50 + rng.random() * 4950),
                "tags": sorted({TAGS[int(rng.random() * len(TAGS))] for _ in range(2)}),
                "in_stock": rng.random() < 0.85,
            }
            rows.append(
                (
                    product_id,
                    tenant,
                    f"{adjective} {noun} {product_id}",
                    category,
                    _money(cents),
                    sku.hex if self.enc.uuid_hex else str(sku),
                    json.dumps(attributes, sort_keys=True),
                )
            )
            ids, prices = self._tenant_products.setdefault(tenant, ([], []))
            ids.append(product_id)
            prices.append(cents)
        return rows

    def order_chunks(self, chunk_size: int) -> Iterator[tuple[list[Row], list[Row]]]:
        """Yield ``(order rows, their item rows)`` for consecutive chunks of ``chunk_size``."""
        plan, rng = self.plan, self.rng
        if not self._customer_cum_weight or not self._tenant_products:
            raise RuntimeError("customers() and products() must run before order_chunks().")
        weights = self._customer_cum_weight
        total_weight = weights[-1]
        last_customer = plan.customers - 1
        last_day = plan.days - 1
        # A uniform item count in 1..2m-1 has mean m (for integer m; close otherwise).
        item_span = 2 * plan.items_per_order - 1
        item_id = 0
        for first in range(0, plan.orders, chunk_size):
            count = min(chunk_size, plan.orders - first)
            orders: list[Row] = []
            items: list[Row] = []
            for offset in range(count):
                order_id = first + offset + 1
                # One draw per order (never per chunk), so the chunk size cannot change the data.
                customer = min(bisect_right(weights, rng.random() * total_weight), last_customer)
                tenant = self._customer_tenant[customer]
                joined = self._customer_day[customer]
                day = joined + int((plan.days - joined) * rng.random())
                roll = rng.random()
                shipped_on = None
                if roll < 0.07:
                    status = "cancelled"
                elif roll < 0.15:
                    status = "pending"
                elif roll < 0.27:
                    status = "paid"
                else:
                    ship_day = day + 1 + int(rng.random() * 6)
                    if ship_day > last_day:
                        status = "paid"
                    else:
                        status = "shipped"
                        shipped_on = self.day_text[ship_day + PRE_DAYS]
                ordered_at = self._timestamp(day)
                product_ids, prices = self._tenant_products[tenant]
                n_products = len(product_ids)
                total = 0
                for _ in range(1 + int(rng.random() * item_span)):
                    pick = int(n_products * rng.random() ** 2)
                    cents = prices[pick]
                    if rng.random() < 0.1:
                        cents = cents * 9 // 10
                    quantity = QUANTITIES[int(rng.random() * len(QUANTITIES))]
                    total += quantity * cents
                    item_id += 1
                    items.append(
                        (item_id, tenant, order_id, product_ids[pick], quantity, _money(cents))
                    )
                orders.append(
                    (order_id, tenant, customer + 1, status, ordered_at, shipped_on, _money(total))
                )
            yield orders, items


class Writer:
    """Writes rows into a table of one connection: COPY on PostgreSQL, executemany elsewhere
    (a multi-row INSERT per batch on MySQL)."""

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self.connection = connection
        self.is_postgres = connection.vendor == "postgresql"

    def write(self, model: type[models.Model], rows: Sequence[Row]) -> None:
        if not rows:
            return
        quote = self.connection.ops.quote_name
        table = quote(model._meta.db_table)
        columns = ", ".join(quote(name) for name in COLUMNS[model])
        raw = self.connection.connection
        if self.is_postgres:
            with (
                raw.cursor() as cursor,
                cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        elif self.connection.vendor == "mysql":
            # mysqlclient's executemany sends one multi-row INSERT per batch (%s placeholders).
            marks = ", ".join(["%s"] * len(COLUMNS[model]))
            sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
            with raw.cursor() as cursor:
                cursor.executemany(sql, rows)
        else:
            marks = ", ".join("?" * len(COLUMNS[model]))
            # Identifiers come from the models, quoted; values are bound.
            sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
            raw.executemany(sql, rows)


#: Foreign keys (added back with one validating join each) and secondary indexes (rebuilt with one
#: sort each) of the given tables: ``(drop statement, create statement)`` pairs, FKs first.
_POSTGRES_DEFERRABLE_SQL = """
SELECT format('ALTER TABLE %%I.%%I DROP CONSTRAINT %%I', n.nspname, t.relname, c.conname),
       format('ALTER TABLE %%I.%%I ADD CONSTRAINT %%I ', n.nspname, t.relname, c.conname)
           || pg_get_constraintdef(c.oid)
  FROM pg_constraint c
  JOIN pg_class t ON t.oid = c.conrelid
  JOIN pg_namespace n ON n.oid = t.relnamespace
 WHERE c.contype = 'f' AND c.conrelid = ANY(%s::text[]::regclass[])
UNION ALL
SELECT format('DROP INDEX %%I.%%I', n.nspname, ic.relname), pg_get_indexdef(i.indexrelid)
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_namespace n ON n.oid = ic.relnamespace
 WHERE i.indrelid = ANY(%s::text[]::regclass[]) AND NOT i.indisprimary
   AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
"""


@contextmanager
def postgres_bulk_mode(connection: BaseDatabaseWrapper, tables: list[str]) -> Iterator[None]:
    """Drop the tables' foreign keys and secondary indexes, and re-create them on exit.

    Checking 4 million deferred foreign-key events one by one at commit, and maintaining three
    random-order indexes row by row, cost more than the COPY itself; re-creating them afterwards
    validates each foreign key with one join and builds each index with one sort. Must run inside
    the loading transaction, so that a failure restores everything.
    """
    with connection.cursor() as cursor:
        cursor.execute(_POSTGRES_DEFERRABLE_SQL, [tables, tables])
        pairs = [(str(drop), str(create)) for drop, create in cursor.fetchall()]
        for drop, _ in pairs:
            cursor.execute(drop)
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _, create in reversed(pairs):  # indexes first, then the foreign keys
            cursor.execute(create)


class Command(BaseCommand):
    help = (
        "Load a deterministic demo shop dataset (customers, products, orders, order items over "
        "several tenants), expose its tables to prismiq_django and create the demo/demo login."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", type=int, default=20_000, help="Orders (default 20000).")
        parser.add_argument(
            "--customers", type=int, default=None, help="Customers (default: orders / 10)."
        )
        parser.add_argument(
            "--products", type=int, default=None, help="Products (default: orders / 200)."
        )
        parser.add_argument(
            "--items-per-order", type=float, default=3.0, help="Average items per order."
        )
        parser.add_argument("--tenants", type=int, default=3, help="Tenants (default 3).")
        parser.add_argument("--days", type=int, default=730, help="Days covered (default 730).")
        parser.add_argument(
            "--end-date",
            type=date.fromisoformat,
            default=None,
            help="Last day of the data, YYYY-MM-DD (default: today in UTC, up to now).",
        )
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default 42).")
        parser.add_argument("--reset", action="store_true", help="Empty the shop tables first.")
        parser.add_argument(
            "--no-expose", action="store_true", help="Do not expose the shop tables."
        )
        parser.add_argument("--no-user", action="store_true", help="Do not create demo/demo.")
        parser.add_argument(
            "--tenant-scoped",
            action="store_true",
            help="Expose with tenant_column=tenant_id (needs PRISMIQ['TENANT_CALLBACK']).",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="Database alias.")

    def handle(self, *args: Any, **options: Any) -> None:
        orders: int = options["orders"]
        now = datetime.now(UTC)
        plan = DemoPlan(
            orders=orders,
            customers=_given(options["customers"], max(100, orders // 10)),
            products=_given(options["products"], max(50, min(5_000, orders // 200))),
            tenants=options["tenants"],
            items_per_order=options["items_per_order"],
            days=options["days"],
            end_date=options["end_date"] or now.date(),
            seed=options["seed"],
            # Data that ends today ends now: relative filters ("today") never show the future.
            end_seconds=86_400
            if options["end_date"]
            else now.hour * 3600 + now.minute * 60 + now.second,
        )
        plan.check()
        alias: str = options["database"]
        if alias not in connections:
            raise CommandError(f"Unknown database alias {alias!r}.")
        connection = connections[alias]
        if options["reset"]:
            self._reset(connection)
        held = any(model._default_manager.using(alias).exists() for model in COLUMNS)
        if held:
            held_orders = Order.objects.using(alias).count()
            held_customers = Customer.objects.using(alias).count()
            self.stdout.write(
                f"The shop tables already hold {held_orders} orders and {held_customers} "
                "customers; nothing loaded (pass --reset to replace them)."
            )
        else:
            self._load(connection, plan)
            self._invalidate_results()
        self._exposed = not options["no_expose"] and not options["tenant_scoped"]
        if not options["no_expose"]:
            self._expose(alias, tenant_scoped=options["tenant_scoped"])
        if not options["no_user"]:
            self._demo_user(alias)

    def _progress(self, message: str) -> None:
        self.stderr.write(message)
        self.stderr.flush()

    def _reset(self, connection: BaseDatabaseWrapper) -> None:
        tables = [model._meta.db_table for model in COLUMNS]
        statements = connection.ops.sql_flush(
            no_style(), tables, reset_sequences=True, allow_cascade=False
        )
        connection.ops.execute_sql_flush(statements)
        self.stdout.write("Emptied the shop tables.")

    def _invalidate_results(self) -> None:
        """Drop cached query results that read the shop tables (their rows just changed)."""
        from prismiq_django import cache

        for model in COLUMNS:
            cache.invalidate(model._meta.db_table)

    def _load(self, connection: BaseDatabaseWrapper, plan: DemoPlan) -> None:
        started = time.perf_counter()
        generator = DemoGenerator(plan, Encoding.for_vendor(connection.vendor))
        writer = Writer(connection)
        self._progress(
            f"Loading {plan.orders} orders, {plan.customers} customers, {plan.products} "
            f"products, {plan.tenants} tenants ({plan.days} days to {plan.end_date}, "
            f"seed {plan.seed}) into {connection.vendor}..."
        )
        tables = [model._meta.db_table for model in COLUMNS]
        with transaction.atomic(using=connection.alias):
            connection.ensure_connection()
            bulk_mode = (
                postgres_bulk_mode(connection, tables)
                if connection.vendor == "postgresql"
                else nullcontext()
            )
            with bulk_mode:
                items = self._write_all(writer, generator, plan, started)
            if connection.vendor == "postgresql":
                sequences = connection.ops.sequence_reset_sql(no_style(), list(COLUMNS))
                with connection.cursor() as cursor:
                    for statement in sequences:
                        cursor.execute(statement)
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:  # statistics for the planner
            analyze = "ANALYZE TABLE" if connection.vendor == "mysql" else "ANALYZE"
            for table in tables:
                if connection.vendor == "mysql":
                    # The id counter never moves back by itself (a rolled-back load leaves it
                    # high): 1 is raised to MAX(id) + 1. DDL, so after the load's commit.
                    cursor.execute(f"ALTER TABLE {quote(table)} AUTO_INCREMENT = 1")
                cursor.execute(f"{analyze} {quote(table)}")
                if connection.vendor == "mysql":
                    cursor.fetchall()  # MySQL answers a status row per table
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"Loaded {plan.customers} customers, {plan.products} products, {plan.orders} orders "
            f"and {items} order items in {elapsed:.1f}s."
        )

    def _write_all(
        self, writer: Writer, generator: DemoGenerator, plan: DemoPlan, started: float
    ) -> int:
        """Write every row; print a progress line at each 5% of the orders; return the items."""
        writer.write(Customer, generator.customers())
        writer.write(Product, generator.products())
        chunk_size = max(1, min(50_000, math.ceil(plan.orders / 20)))
        next_step = 5
        done = items = 0
        for order_rows, item_rows in generator.order_chunks(chunk_size):
            writer.write(Order, order_rows)
            writer.write(OrderItem, item_rows)
            done += len(order_rows)
            items += len(item_rows)
            percent = done * 100 // plan.orders
            if percent >= next_step:
                elapsed = time.perf_counter() - started
                self._progress(
                    f"  {percent:3d}%  {done}/{plan.orders} orders, {items} items, {elapsed:.1f}s"
                )
                next_step = percent // 5 * 5 + 5
        return items

    def _expose(self, alias: str, *, tenant_scoped: bool) -> None:
        from prismiq_django.models import ExposedColumn, ExposedTable

        descriptions = {
            Customer: "Customers of the demo shop, one row per customer.",
            Product: "Products of the demo shop with price, SKU and JSON attributes.",
            Order: "Orders with status, order time, shipping date and total.",
            OrderItem: "Order lines: product, quantity and unit price.",
        }
        money = {"price", "total", "unit_price"}
        with transaction.atomic(using=alias):
            for model, description in descriptions.items():
                table, _ = ExposedTable.objects.using(alias).update_or_create(
                    db_schema="",
                    name=model._meta.db_table,
                    defaults={
                        "display_name": str(model._meta.verbose_name_plural).capitalize(),
                        "description": description,
                        "is_exposed": True,
                        "tenant_column": "tenant_id" if tenant_scoped else "",
                    },
                )
                for field in model._meta.concrete_fields:
                    ExposedColumn.objects.using(alias).update_or_create(
                        table=table,
                        name=field.column,
                        defaults={
                            "display_name": str(field.verbose_name).capitalize(),
                            "is_hidden": field.column == "api_token",
                            "format_hint": "currency" if field.column in money else "",
                        },
                    )
        self.stdout.write(
            "Exposed "
            + ", ".join(model._meta.db_table for model in descriptions)
            + " (shop_customer.api_token hidden)."
        )

    def _demo_user(self, alias: str) -> None:
        user_model = get_user_model()
        lookup: dict[str, Any] = {user_model.USERNAME_FIELD: DEMO_USERNAME}
        user, _ = user_model._default_manager.db_manager(alias).get_or_create(**lookup)
        user.is_staff = True
        user.is_superuser = True
        user.is_active = True
        user.set_password(DEMO_PASSWORD)
        user.save(using=alias)
        self.stdout.write(f"Demo login: {DEMO_USERNAME} / {DEMO_PASSWORD} (staff, superuser).")
        if not self._exposed:
            return
        from example_project.shop.demo_dashboards import create_demo_dashboards

        made = create_demo_dashboards(user)
        if made:
            self.stdout.write(f"Demo dashboards: {', '.join(made)} (GET dashboards).")
