"""Golden table: (definition, dialect) -> (sql, params). Reviewed by hand; regenerate with care."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID


def _pg_bucket(unit: str, end: str) -> str:
    """PostgreSQL's month/quarter/year bucket of ``"t0"."ordered_at"`` (a timestamptz): the first,
    partial bucket of 4714 BC is labelled with PostgreSQL's earliest value, without converting
    the values of its first day (their wall-clock time may precede the earliest value)."""
    local = '"t0"."ordered_at" AT TIME ZONE %s'
    return (
        f'CASE WHEN "t0"."ordered_at" >= timestamptz \'4713-01-03 00:00:00+00 BC\''
        f" THEN date_trunc('{unit}', {local})"
        ' WHEN "t0"."ordered_at" > \'-infinity\''
        ' AND "t0"."ordered_at" < timestamptz \'4714-11-25 00:00:00+00 BC\''
        " THEN timestamp '4714-11-24 BC'"
        f" WHEN ({local}) > '-infinity' AND ({local})"
        f" < timestamp '{end}' THEN timestamp '4714-11-24 BC' ELSE date_trunc('{unit}', {local})"
        " END"
    )


GOLDEN: list[dict[str, Any]] = [
    {
        "name": "eq",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "filters": [{"table_id": "o", "column": "status", "operator": "eq", "value": "paid"}],
            "limit": 100,
        },
        "postgresql": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."status" = %s LIMIT %s',
            ("paid", 101),
        ),
        "sqlite": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."status" = %s LIMIT %s',
            ("paid", 101),
        ),
    },
    {
        "name": "eq_null",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "filters": [{"table_id": "o", "column": "shipped_on", "operator": "eq", "value": None}],
            "limit": 100,
        },
        "postgresql": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."shipped_on" IS NULL '
            "LIMIT %s",
            (101,),
        ),
        "sqlite": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."shipped_on" IS NULL '
            "LIMIT %s",
            (101,),
        ),
    },
    {
        "name": "neq",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "filters": [{"table_id": "o", "column": "status", "operator": "neq", "value": "paid"}],
            "limit": 100,
        },
        "postgresql": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."status" <> %s LIMIT %s',
            ("paid", 101),
        ),
        "sqlite": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."status" <> %s LIMIT %s',
            ("paid", 101),
        ),
    },
    {
        "name": "neq_null",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "filters": [
                {"table_id": "o", "column": "shipped_on", "operator": "neq", "value": None}
            ],
            "limit": 100,
        },
        "postgresql": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."shipped_on" IS NOT '
            "NULL LIMIT %s",
            (101,),
        ),
        "sqlite": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."shipped_on" IS NOT NULL '
            "LIMIT %s",
            (101,),
        ),
    },
    {
        "name": "gt_decimal",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "filters": [{"table_id": "o", "column": "total", "operator": "gt", "value": 10.5}],
            "limit": 100,
        },
        "postgresql": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."total" > %s LIMIT %s',
            (Decimal("10.5"), 101),
        ),
        "sqlite": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."total" > %s LIMIT %s',
            (10.5, 101),
        ),
    },
    {
        "name": "gte_int_string",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "filters": [{"table_id": "o", "column": "id", "operator": "gte", "value": "3"}],
            "limit": 100,
        },
        "postgresql": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."id" >= %s LIMIT %s',
            (3, 101),
        ),
        "sqlite": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."id" >= %s LIMIT %s',
            (3, 101),
        ),
    },
    {
        "name": "lt_datetime_naive_local",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "filters": [
                {
                    "table_id": "o",
                    "column": "ordered_at",
                    "operator": "lt",
                    "value": "2024-03-31T02:30:00",
                }
            ],
            "limit": 100,
        },
        "postgresql": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."ordered_at" < %s LIMIT %s',
            (datetime.datetime(2024, 3, 31, 2, 30, tzinfo=datetime.UTC), 101),
        ),
        "sqlite": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."ordered_at" < %s LIMIT %s',
            ("2024-03-31 02:30:00", 101),
        ),
    },
    {
        "name": "lte_date",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "filters": [
                {"table_id": "o", "column": "shipped_on", "operator": "lte", "value": "2024-01-10"}
            ],
            "limit": 100,
        },
        "postgresql": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."shipped_on" <= %s '
            "LIMIT %s",
            (datetime.date(2024, 1, 10), 101),
        ),
        "sqlite": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."shipped_on" <= %s LIMIT '
            "%s",
            ("2024-01-10", 101),
        ),
    },
    {
        "name": "in_",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "filters": [
                {
                    "table_id": "o",
                    "column": "status",
                    "operator": "in_",
                    "value": ["paid", "shipped"],
                }
            ],
            "limit": 100,
        },
        "postgresql": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."status" IN (%s, %s) '
            "LIMIT %s",
            ("paid", "shipped", 101),
        ),
        "sqlite": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."status" IN (%s, %s) '
            "LIMIT %s",
            ("paid", "shipped", 101),
        ),
    },
    {
        "name": "in",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "filters": [{"table_id": "o", "column": "id", "operator": "in", "value": [1, 2, 3]}],
            "limit": 100,
        },
        "postgresql": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."id" IN (%s, %s, %s) '
            "LIMIT %s",
            (1, 2, 3, 101),
        ),
        "sqlite": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."id" IN (%s, %s, %s) '
            "LIMIT %s",
            (1, 2, 3, 101),
        ),
    },
    {
        "name": "in_empty",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "filters": [{"table_id": "o", "column": "status", "operator": "in", "value": []}],
            "limit": 100,
        },
        "postgresql": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE 1 = 0 LIMIT %s',
            (101,),
        ),
        "sqlite": ('SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE 1 = 0 LIMIT %s', (101,)),
    },
    {
        "name": "not_in",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "filters": [
                {"table_id": "o", "column": "status", "operator": "not_in", "value": ["cancelled"]}
            ],
            "limit": 100,
        },
        "postgresql": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."status" NOT IN (%s) '
            "LIMIT %s",
            ("cancelled", 101),
        ),
        "sqlite": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."status" NOT IN (%s) '
            "LIMIT %s",
            ("cancelled", 101),
        ),
    },
    {
        "name": "not_in_empty",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "filters": [{"table_id": "o", "column": "status", "operator": "not_in", "value": []}],
            "limit": 100,
        },
        "postgresql": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE 1 = 1 LIMIT %s',
            (101,),
        ),
        "sqlite": ('SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE 1 = 1 LIMIT %s', (101,)),
    },
    {
        "name": "in_or_null",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "filters": [
                {
                    "table_id": "o",
                    "column": "shipped_on",
                    "operator": "in_or_null",
                    "value": ["2024-01-09"],
                }
            ],
            "limit": 100,
        },
        "postgresql": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE ("t0"."shipped_on" IN (%s) '
            'OR "t0"."shipped_on" IS NULL) LIMIT %s',
            (datetime.date(2024, 1, 9), 101),
        ),
        "sqlite": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE ("t0"."shipped_on" IN (%s) OR '
            '"t0"."shipped_on" IS NULL) LIMIT %s',
            ("2024-01-09", 101),
        ),
    },
    {
        "name": "in_or_null_empty",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "filters": [
                {"table_id": "o", "column": "shipped_on", "operator": "in_or_null", "value": []}
            ],
            "limit": 100,
        },
        "postgresql": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."shipped_on" IS NULL '
            "LIMIT %s",
            (101,),
        ),
        "sqlite": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."shipped_on" IS NULL '
            "LIMIT %s",
            (101,),
        ),
    },
    {
        "name": "like",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "filters": [{"table_id": "o", "column": "status", "operator": "like", "value": "p%"}],
            "limit": 100,
        },
        "postgresql": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."status" LIKE %s '
            "ESCAPE '\\' LIMIT %s",
            ("p%", 101),
        ),
        "sqlite": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."status" GLOB %s LIMIT %s',
            ("p*", 101),
        ),
    },
    {
        "name": "ilike",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "filters": [{"table_id": "o", "column": "status", "operator": "ilike", "value": "P%"}],
            "limit": 100,
        },
        "postgresql": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."status" ILIKE %s '
            "ESCAPE '\\' LIMIT %s",
            ("P%", 101),
        ),
        "sqlite": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."status" LIKE %s ESCAPE '
            "'\\' LIMIT %s",
            ("P%", 101),
        ),
    },
    {
        "name": "not_like",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "filters": [
                {"table_id": "o", "column": "status", "operator": "not_like", "value": "%d"}
            ],
            "limit": 100,
        },
        "postgresql": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."status" NOT LIKE %s '
            "ESCAPE '\\' LIMIT %s",
            ("%d", 101),
        ),
        "sqlite": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."status" NOT GLOB %s '
            "LIMIT %s",
            ("*d", 101),
        ),
    },
    {
        "name": "not_ilike",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "filters": [
                {"table_id": "o", "column": "status", "operator": "not_ilike", "value": "%D"}
            ],
            "limit": 100,
        },
        "postgresql": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."status" NOT ILIKE %s '
            "ESCAPE '\\' LIMIT %s",
            ("%D", 101),
        ),
        "sqlite": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."status" NOT LIKE %s '
            "ESCAPE '\\' LIMIT %s",
            ("%D", 101),
        ),
    },
    {
        "name": "contains_escapes",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "filters": [
                {"table_id": "o", "column": "status", "operator": "contains", "value": "50%_\\off"}
            ],
            "limit": 100,
        },
        "postgresql": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."status" ILIKE %s '
            "ESCAPE '\\' LIMIT %s",
            ("%50\\%\\_\\\\off%", 101),
        ),
        "sqlite": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."status" LIKE %s ESCAPE '
            "'\\' LIMIT %s",
            ("%50\\%\\_\\\\off%", 101),
        ),
    },
    {
        "name": "starts_with",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "filters": [
                {"table_id": "o", "column": "status", "operator": "starts_with", "value": "pa"}
            ],
            "limit": 100,
        },
        "postgresql": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."status" ILIKE %s '
            "ESCAPE '\\' LIMIT %s",
            ("pa%", 101),
        ),
        "sqlite": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."status" LIKE %s ESCAPE '
            "'\\' LIMIT %s",
            ("pa%", 101),
        ),
    },
    {
        "name": "ends_with",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "filters": [
                {"table_id": "o", "column": "status", "operator": "ends_with", "value": "_d"}
            ],
            "limit": 100,
        },
        "postgresql": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."status" ILIKE %s '
            "ESCAPE '\\' LIMIT %s",
            ("%\\_d", 101),
        ),
        "sqlite": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."status" LIKE %s ESCAPE '
            "'\\' LIMIT %s",
            ("%\\_d", 101),
        ),
    },
    {
        "name": "between",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "filters": [
                {"table_id": "o", "column": "total", "operator": "between", "value": [1, "99.5"]}
            ],
            "limit": 100,
        },
        "postgresql": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."total" BETWEEN %s '
            "AND %s LIMIT %s",
            (Decimal("1"), Decimal("99.5"), 101),
        ),
        "sqlite": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."total" BETWEEN %s AND %s '
            "LIMIT %s",
            (1, 99.5, 101),
        ),
    },
    {
        "name": "is_null",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "filters": [
                {"table_id": "o", "column": "shipped_on", "operator": "is_null", "value": "ignored"}
            ],
            "limit": 100,
        },
        "postgresql": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."shipped_on" IS NULL '
            "LIMIT %s",
            (101,),
        ),
        "sqlite": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."shipped_on" IS NULL '
            "LIMIT %s",
            (101,),
        ),
    },
    {
        "name": "is_not_null",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "filters": [
                {"table_id": "o", "column": "shipped_on", "operator": "is_not_null", "value": None}
            ],
            "limit": 100,
        },
        "postgresql": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."shipped_on" IS NOT '
            "NULL LIMIT %s",
            (101,),
        ),
        "sqlite": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE "t0"."shipped_on" IS NOT NULL '
            "LIMIT %s",
            (101,),
        ),
    },
    {
        "name": "date_relative_preset",
        "catalog": "SHOP",
        "tz": "Europe/Paris",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "filters": [
                {
                    "table_id": "o",
                    "column": "ordered_at",
                    "operator": "date_relative",
                    "value": {"preset": "last_month"},
                }
            ],
            "limit": 100,
        },
        "postgresql": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE ("t0"."ordered_at" >= %s '
            'AND "t0"."ordered_at" < %s) LIMIT %s',
            (
                datetime.datetime(2024, 8, 31, 22, 0, tzinfo=datetime.UTC),
                datetime.datetime(2024, 9, 30, 22, 0, tzinfo=datetime.UTC),
                101,
            ),
        ),
        "sqlite": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE ("t0"."ordered_at" >= %s AND '
            '"t0"."ordered_at" < %s) LIMIT %s',
            ("2024-08-31 22:00:00", "2024-09-30 22:00:00", 101),
        ),
    },
    {
        "name": "date_relative_last_date_column",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "filters": [
                {
                    "table_id": "o",
                    "column": "shipped_on",
                    "operator": "date_relative",
                    "value": {"last": 3, "unit": "week"},
                }
            ],
            "limit": 100,
        },
        "postgresql": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE ("t0"."shipped_on" >= %s '
            'AND "t0"."shipped_on" < %s) LIMIT %s',
            (datetime.date(2024, 9, 16), datetime.date(2024, 10, 7), 101),
        ),
        "sqlite": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE ("t0"."shipped_on" >= %s AND '
            '"t0"."shipped_on" < %s) LIMIT %s',
            ("2024-09-16", "2024-10-07", 101),
        ),
    },
    {
        "name": "boolean_and_uuid",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "c", "name": "shop_customer"}, {"id": "p", "name": "shop_product"}],
            "joins": [
                {"from_table_id": "c", "from_column": "id", "to_table_id": "p", "to_column": "id"}
            ],
            "columns": [{"table_id": "c", "column": "name"}, {"table_id": "p", "column": "sku"}],
            "filters": [
                {"table_id": "c", "column": "is_active", "operator": "eq", "value": True},
                {
                    "table_id": "p",
                    "column": "sku",
                    "operator": "eq",
                    "value": "1B4E28BA-2FA1-11D2-883F-0016D3CCA427",
                },
            ],
        },
        "postgresql": (
            'SELECT "t0"."name" AS "name", "t1"."sku" AS "sku" FROM "shop_customer" "t0" '
            'INNER JOIN "shop_product" "t1" ON "t0"."id" = "t1"."id" WHERE "t0"."is_active" = '
            '%s AND "t1"."sku" = %s LIMIT %s',
            (True, UUID("1b4e28ba-2fa1-11d2-883f-0016d3cca427"), 10001),
        ),
        "sqlite": (
            'SELECT "t0"."name" AS "name", "t1"."sku" AS "sku" FROM "shop_customer" "t0" INNER '
            'JOIN "shop_product" "t1" ON "t0"."id" = "t1"."id" WHERE "t0"."is_active" = %s AND '
            '"t1"."sku" = %s LIMIT %s',
            (True, "1b4e28ba2fa111d2883f0016d3cca427", 10001),
        ),
    },
    {
        "name": "groups_all_any_not",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "filters": [
                {
                    "any": [
                        {
                            "all": [
                                {
                                    "table_id": "o",
                                    "column": "status",
                                    "operator": "eq",
                                    "value": "paid",
                                },
                                {
                                    "table_id": "o",
                                    "column": "total",
                                    "operator": "gt",
                                    "value": 100,
                                },
                            ]
                        },
                        {
                            "not": {
                                "table_id": "o",
                                "column": "id",
                                "operator": "in",
                                "value": [1, 2],
                            }
                        },
                        {"all": []},
                        {"any": []},
                    ]
                }
            ],
            "limit": 100,
        },
        "postgresql": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE (("t0"."status" = %s AND '
            '"t0"."total" > %s) OR NOT ("t0"."id" IN (%s, %s)) OR 1 = 1 OR 1 = 0) LIMIT %s',
            ("paid", Decimal("100"), 1, 2, 101),
        ),
        "sqlite": (
            'SELECT "t0"."id" AS "id" FROM "shop_order" "t0" WHERE (("t0"."status" = %s AND '
            '"t0"."total" > %s) OR NOT ("t0"."id" IN (%s, %s)) OR 1 = 1 OR 1 = 0) LIMIT %s',
            ("paid", 100, 1, 2, 101),
        ),
    },
    {
        "name": "aggregations",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [
                {"table_id": "o", "column": "status"},
                {"table_id": "o", "column": "*", "aggregation": "count"},
                {
                    "table_id": "o",
                    "column": "customer_id",
                    "aggregation": "count_distinct",
                    "alias": "customers",
                },
                {"table_id": "o", "column": "total", "aggregation": "sum", "alias": "revenue"},
                {"table_id": "o", "column": "total", "aggregation": "avg", "alias": "avg_total"},
                {"table_id": "o", "column": "ordered_at", "aggregation": "min", "alias": "first"},
                {"table_id": "o", "column": "ordered_at", "aggregation": "max", "alias": "last"},
                {"table_id": "o", "column": "id", "aggregation": "count", "alias": "orders"},
            ],
        },
        "postgresql": (
            'SELECT "t0"."status" AS "status", COUNT(*) AS "count", COUNT(DISTINCT '
            '"t0"."customer_id") AS "customers", SUM("t0"."total") AS "revenue", '
            'AVG("t0"."total") AS "avg_total", MIN("t0"."ordered_at") AS "first", '
            'MAX("t0"."ordered_at") AS "last", COUNT("t0"."id") AS "orders" FROM "shop_order" '
            '"t0" GROUP BY 1 LIMIT %s',
            (10001,),
        ),
        "sqlite": (
            'SELECT "t0"."status" AS "status", COUNT(*) AS "count", COUNT(DISTINCT '
            '"t0"."customer_id") AS "customers", SUM("t0"."total") AS "revenue", '
            'AVG("t0"."total") AS "avg_total", MIN("t0"."ordered_at") AS "first", '
            'MAX("t0"."ordered_at") AS "last", COUNT("t0"."id") AS "orders" FROM "shop_order" '
            '"t0" GROUP BY 1 LIMIT %s',
            (10001,),
        ),
    },
    {
        "name": "having_and_order_by_aggregate",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [
                {"table_id": "o", "column": "customer_id"},
                {"table_id": "o", "column": "total", "aggregation": "sum", "alias": "revenue"},
            ],
            "filters": [
                {"table_id": "o", "column": "status", "operator": "neq", "value": "cancelled"},
                {
                    "table_id": "o",
                    "column": "*",
                    "operator": "gte",
                    "value": 2,
                    "aggregation": "count",
                },
                {
                    "table_id": "o",
                    "column": "total",
                    "operator": "between",
                    "value": [10, 1000],
                    "aggregation": "sum",
                },
            ],
            "order_by": [
                {"table_id": "o", "column": "total", "aggregation": "sum", "direction": "DESC"},
                {"table_id": "o", "column": "id", "aggregation": "max", "direction": "asc"},
            ],
            "limit": 10,
            "offset": 20,
        },
        "postgresql": (
            'SELECT "t0"."customer_id" AS "customer_id", SUM("t0"."total") AS "revenue" FROM '
            '"shop_order" "t0" WHERE "t0"."status" <> %s GROUP BY 1 HAVING COUNT(*) >= %s AND '
            'SUM("t0"."total") BETWEEN %s AND %s ORDER BY 2 DESC, MAX("t0"."id") ASC LIMIT %s '
            "OFFSET %s",
            ("cancelled", 2, Decimal("10"), Decimal("1000"), 11, 20),
        ),
        "sqlite": (
            'SELECT "t0"."customer_id" AS "customer_id", SUM("t0"."total") AS "revenue" FROM '
            '"shop_order" "t0" WHERE "t0"."status" <> %s GROUP BY 1 HAVING COUNT(*) >= %s AND '
            'SUM("t0"."total") BETWEEN %s AND %s ORDER BY 2 DESC NULLS FIRST, MAX("t0"."id") ASC '
            "NULLS LAST LIMIT %s OFFSET %s",
            ("cancelled", 2, 10, 1000, 11, 20),
        ),
    },
    {
        "name": "order_by_alias",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [
                {"table_id": "o", "column": "status", "alias": "State"},
                {"table_id": "o", "column": "total", "alias": '100% "total"'},
            ],
            "order_by": [{"alias": '100% "total"', "direction": "DESC"}, {"alias": "State"}],
        },
        "postgresql": (
            'SELECT "t0"."status" AS "State", "t0"."total" AS "100%% ""total""" FROM '
            '"shop_order" "t0" ORDER BY 2 DESC, 1 ASC LIMIT %s',
            (10001,),
        ),
        "sqlite": (
            'SELECT "t0"."status" AS "State", "t0"."total" AS "100%% ""total""" FROM "shop_order" '
            '"t0" ORDER BY 2 DESC NULLS FIRST, 1 ASC NULLS LAST LIMIT %s',
            (10001,),
        ),
    },
    {
        "name": "explicit_group_by",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [
                {"table_id": "o", "column": "status"},
                {"table_id": "o", "column": "total", "aggregation": "sum"},
            ],
            "group_by": [
                {"table_id": "o", "column": "status"},
                {"table_id": "o", "column": "customer_id"},
            ],
        },
        "postgresql": (
            'SELECT "t0"."status" AS "status", SUM("t0"."total") AS "total" FROM "shop_order" '
            '"t0" GROUP BY 1, "t0"."customer_id" LIMIT %s',
            (10001,),
        ),
        "sqlite": (
            'SELECT "t0"."status" AS "status", SUM("t0"."total") AS "total" FROM "shop_order" '
            '"t0" GROUP BY 1, "t0"."customer_id" LIMIT %s',
            (10001,),
        ),
    },
    {
        "name": "join_inner",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "c", "name": "shop_customer"}, {"id": "o", "name": "shop_order"}],
            "joins": [
                {
                    "from_table_id": "c",
                    "from_column": "id",
                    "to_table_id": "o",
                    "to_column": "customer_id",
                    "join_type": "INNER",
                }
            ],
            "columns": [{"table_id": "c", "column": "name"}, {"table_id": "o", "column": "total"}],
            "filters": [
                {"table_id": "o", "column": "status", "operator": "eq", "value": "paid"},
                {"table_id": "c", "column": "country", "operator": "eq", "value": "FR"},
                {
                    "any": [
                        {"table_id": "o", "column": "total", "operator": "gt", "value": 5},
                        {"table_id": "c", "column": "id", "operator": "eq", "value": 1},
                    ]
                },
            ],
        },
        "postgresql": (
            'SELECT "t0"."name" AS "name", "t1"."total" AS "total" FROM "shop_customer" "t0" '
            'INNER JOIN "shop_order" "t1" ON "t0"."id" = "t1"."customer_id" WHERE '
            '"t1"."status" = %s AND "t0"."country" = %s AND ("t1"."total" > %s OR "t0"."id" = '
            "%s) LIMIT %s",
            ("paid", "FR", Decimal("5"), 1, 10001),
        ),
        "sqlite": (
            'SELECT "t0"."name" AS "name", "t1"."total" AS "total" FROM "shop_customer" "t0" '
            'INNER JOIN "shop_order" "t1" ON "t0"."id" = "t1"."customer_id" WHERE "t1"."status" = '
            '%s AND "t0"."country" = %s AND ("t1"."total" > %s OR "t0"."id" = %s) LIMIT %s',
            ("paid", "FR", 5, 1, 10001),
        ),
    },
    {
        "name": "join_left",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "c", "name": "shop_customer"}, {"id": "o", "name": "shop_order"}],
            "joins": [
                {
                    "from_table_id": "c",
                    "from_column": "id",
                    "to_table_id": "o",
                    "to_column": "customer_id",
                    "join_type": "LEFT",
                }
            ],
            "columns": [{"table_id": "c", "column": "name"}, {"table_id": "o", "column": "total"}],
            "filters": [
                {"table_id": "o", "column": "status", "operator": "eq", "value": "paid"},
                {"table_id": "c", "column": "country", "operator": "eq", "value": "FR"},
                {
                    "any": [
                        {"table_id": "o", "column": "total", "operator": "gt", "value": 5},
                        {"table_id": "c", "column": "id", "operator": "eq", "value": 1},
                    ]
                },
            ],
        },
        "postgresql": (
            'SELECT "t0"."name" AS "name", "t1"."total" AS "total" FROM "shop_customer" "t0" '
            'LEFT OUTER JOIN "shop_order" "t1" ON "t0"."id" = "t1"."customer_id" AND '
            '"t1"."status" = %s WHERE "t0"."country" = %s AND ("t1"."total" > %s OR "t0"."id" '
            "= %s) LIMIT %s",
            ("paid", "FR", Decimal("5"), 1, 10001),
        ),
        "sqlite": (
            'SELECT "t0"."name" AS "name", "t1"."total" AS "total" FROM "shop_customer" "t0" LEFT '
            'OUTER JOIN "shop_order" "t1" ON "t0"."id" = "t1"."customer_id" AND "t1"."status" = '
            '%s WHERE "t0"."country" = %s AND ("t1"."total" > %s OR "t0"."id" = %s) LIMIT %s',
            ("paid", "FR", 5, 1, 10001),
        ),
    },
    {
        "name": "join_right",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "c", "name": "shop_customer"}, {"id": "o", "name": "shop_order"}],
            "joins": [
                {
                    "from_table_id": "c",
                    "from_column": "id",
                    "to_table_id": "o",
                    "to_column": "customer_id",
                    "join_type": "RIGHT",
                }
            ],
            "columns": [{"table_id": "c", "column": "name"}, {"table_id": "o", "column": "total"}],
            "filters": [
                {"table_id": "o", "column": "status", "operator": "eq", "value": "paid"},
                {"table_id": "c", "column": "country", "operator": "eq", "value": "FR"},
                {
                    "any": [
                        {"table_id": "o", "column": "total", "operator": "gt", "value": 5},
                        {"table_id": "c", "column": "id", "operator": "eq", "value": 1},
                    ]
                },
            ],
        },
        "postgresql": (
            'SELECT "t0"."name" AS "name", "t1"."total" AS "total" FROM "shop_customer" "t0" '
            'RIGHT OUTER JOIN "shop_order" "t1" ON "t0"."id" = "t1"."customer_id" AND '
            '"t0"."country" = %s WHERE "t1"."status" = %s AND ("t1"."total" > %s OR "t0"."id" '
            "= %s) LIMIT %s",
            ("FR", "paid", Decimal("5"), 1, 10001),
        ),
        "sqlite": (
            'SELECT "t0"."name" AS "name", "t1"."total" AS "total" FROM "shop_customer" "t0" '
            'RIGHT OUTER JOIN "shop_order" "t1" ON "t0"."id" = "t1"."customer_id" AND '
            '"t0"."country" = %s WHERE "t1"."status" = %s AND ("t1"."total" > %s OR "t0"."id" = '
            "%s) LIMIT %s",
            ("FR", "paid", 5, 1, 10001),
        ),
    },
    {
        "name": "join_full",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "c", "name": "shop_customer"}, {"id": "o", "name": "shop_order"}],
            "joins": [
                {
                    "from_table_id": "c",
                    "from_column": "id",
                    "to_table_id": "o",
                    "to_column": "customer_id",
                    "join_type": "FULL",
                }
            ],
            "columns": [{"table_id": "c", "column": "name"}, {"table_id": "o", "column": "total"}],
            "filters": [
                {"table_id": "o", "column": "status", "operator": "eq", "value": "paid"},
                {"table_id": "c", "column": "country", "operator": "eq", "value": "FR"},
                {
                    "any": [
                        {"table_id": "o", "column": "total", "operator": "gt", "value": 5},
                        {"table_id": "c", "column": "id", "operator": "eq", "value": 1},
                    ]
                },
            ],
        },
        "postgresql": (
            'SELECT "t0"."name" AS "name", "t1"."total" AS "total" FROM "shop_customer" "t0" '
            'FULL OUTER JOIN "shop_order" "t1" ON "t0"."id" = "t1"."customer_id" AND '
            '"t1"."status" = %s AND "t0"."country" = %s WHERE ("t1"."total" > %s OR "t0"."id" '
            "= %s) LIMIT %s",
            ("paid", "FR", Decimal("5"), 1, 10001),
        ),
        "sqlite": (
            'SELECT "t0"."name" AS "name", "t1"."total" AS "total" FROM "shop_customer" "t0" FULL '
            'OUTER JOIN "shop_order" "t1" ON "t0"."id" = "t1"."customer_id" AND "t1"."status" = '
            '%s AND "t0"."country" = %s WHERE ("t1"."total" > %s OR "t0"."id" = %s) LIMIT %s',
            ("paid", "FR", 5, 1, 10001),
        ),
    },
    {
        "name": "join_flipped_direction",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "c", "name": "shop_customer"}, {"id": "o", "name": "shop_order"}],
            "joins": [
                {
                    "from_table_id": "o",
                    "from_column": "customer_id",
                    "to_table_id": "c",
                    "to_column": "id",
                    "join_type": "LEFT",
                }
            ],
            "columns": [{"table_id": "c", "column": "name"}, {"table_id": "o", "column": "id"}],
        },
        "postgresql": (
            'SELECT "t0"."name" AS "name", "t1"."id" AS "id" FROM "shop_customer" "t0" RIGHT '
            'OUTER JOIN "shop_order" "t1" ON "t0"."id" = "t1"."customer_id" LIMIT %s',
            (10001,),
        ),
        "sqlite": (
            'SELECT "t0"."name" AS "name", "t1"."id" AS "id" FROM "shop_customer" "t0" RIGHT '
            'OUTER JOIN "shop_order" "t1" ON "t0"."id" = "t1"."customer_id" LIMIT %s',
            (10001,),
        ),
    },
    {
        "name": "self_join",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "a", "name": "shop_order"}, {"id": "b", "name": "shop_order"}],
            "joins": [
                {
                    "from_table_id": "a",
                    "from_column": "customer_id",
                    "to_table_id": "b",
                    "to_column": "customer_id",
                }
            ],
            "columns": [
                {"table_id": "a", "column": "id", "alias": "a_id"},
                {"table_id": "b", "column": "id", "alias": "b_id"},
            ],
            "filters": [{"table_id": "b", "column": "id", "operator": "lt", "value": 5}],
        },
        "postgresql": (
            'SELECT "t0"."id" AS "a_id", "t1"."id" AS "b_id" FROM "shop_order" "t0" INNER '
            'JOIN "shop_order" "t1" ON "t0"."customer_id" = "t1"."customer_id" WHERE '
            '"t1"."id" < %s LIMIT %s',
            (5, 10001),
        ),
        "sqlite": (
            'SELECT "t0"."id" AS "a_id", "t1"."id" AS "b_id" FROM "shop_order" "t0" INNER JOIN '
            '"shop_order" "t1" ON "t0"."customer_id" = "t1"."customer_id" WHERE "t1"."id" < %s '
            "LIMIT %s",
            (5, 10001),
        ),
    },
    {
        "name": "three_table_join_scoped",
        "catalog": "tenant",
        "tz": "UTC",
        "definition": {
            "tables": [
                {"id": "c", "name": "shop_customer"},
                {"id": "o", "name": "shop_order"},
                {"id": "i", "name": "shop_orderitem"},
            ],
            "joins": [
                {
                    "from_table_id": "c",
                    "from_column": "id",
                    "to_table_id": "o",
                    "to_column": "customer_id",
                },
                {
                    "from_table_id": "o",
                    "from_column": "id",
                    "to_table_id": "i",
                    "to_column": "order_id",
                    "join_type": "LEFT",
                },
            ],
            "columns": [
                {"table_id": "c", "column": "name"},
                {"table_id": "i", "column": "quantity", "aggregation": "sum", "alias": "units"},
            ],
            "order_by": [{"alias": "units", "direction": "DESC"}],
            "limit": 10,
        },
        "postgresql": (
            'SELECT "t0"."name" AS "name", SUM("t2"."quantity") AS "units" FROM '
            '"shop_customer" "t0" INNER JOIN "shop_order" "t1" ON "t0"."id" = '
            '"t1"."customer_id" LEFT OUTER JOIN "shop_orderitem" "t2" ON "t1"."id" = '
            '"t2"."order_id" AND "t2"."tenant_id" = %s WHERE "t0"."tenant_id" = %s AND '
            '"t1"."tenant_id" = %s GROUP BY 1 ORDER BY 2 DESC LIMIT %s',
            (7, 7, 7, 11),
        ),
        "sqlite": (
            'SELECT "t0"."name" AS "name", SUM("t2"."quantity") AS "units" FROM "shop_customer" '
            '"t0" INNER JOIN "shop_order" "t1" ON "t0"."id" = "t1"."customer_id" LEFT OUTER JOIN '
            '"shop_orderitem" "t2" ON "t1"."id" = "t2"."order_id" AND "t2"."tenant_id" = %s WHERE '
            '"t0"."tenant_id" = %s AND "t1"."tenant_id" = %s GROUP BY 1 ORDER BY 2 DESC NULLS '
            "FIRST LIMIT %s",
            (7, 7, 7, 11),
        ),
    },
    {
        "name": "full_join_scoped",
        "catalog": "tenant",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "c", "name": "shop_customer"}, {"id": "o", "name": "shop_order"}],
            "joins": [
                {
                    "from_table_id": "c",
                    "from_column": "id",
                    "to_table_id": "o",
                    "to_column": "customer_id",
                    "join_type": "FULL",
                }
            ],
            "columns": [{"table_id": "c", "column": "name"}, {"table_id": "o", "column": "id"}],
            "filters": [{"table_id": "o", "column": "status", "operator": "eq", "value": "paid"}],
        },
        "postgresql": (
            'SELECT "t0"."name" AS "name", "t1"."id" AS "id" FROM (SELECT * FROM '
            '"shop_customer" WHERE "shop_customer"."tenant_id" = %s) "t0" FULL OUTER JOIN '
            '(SELECT * FROM "shop_order" WHERE "shop_order"."tenant_id" = %s) "t1" ON '
            '"t0"."id" = "t1"."customer_id" AND "t1"."status" = %s LIMIT %s',
            (7, 7, "paid", 10001),
        ),
        "sqlite": (
            'SELECT "t0"."name" AS "name", "t1"."id" AS "id" FROM (SELECT * FROM "shop_customer" '
            'WHERE "shop_customer"."tenant_id" = %s) "t0" FULL OUTER JOIN (SELECT * FROM '
            '"shop_order" WHERE "shop_order"."tenant_id" = %s) "t1" ON "t0"."id" = '
            '"t1"."customer_id" AND "t1"."status" = %s LIMIT %s',
            (7, 7, "paid", 10001),
        ),
    },
    {
        "name": "right_join_scoped",
        "catalog": "tenant",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "c", "name": "shop_customer"}, {"id": "o", "name": "shop_order"}],
            "joins": [
                {
                    "from_table_id": "c",
                    "from_column": "id",
                    "to_table_id": "o",
                    "to_column": "customer_id",
                    "join_type": "RIGHT",
                }
            ],
            "columns": [{"table_id": "c", "column": "name"}, {"table_id": "o", "column": "id"}],
        },
        "postgresql": (
            'SELECT "t0"."name" AS "name", "t1"."id" AS "id" FROM "shop_customer" "t0" RIGHT '
            'OUTER JOIN "shop_order" "t1" ON "t0"."id" = "t1"."customer_id" AND '
            '"t0"."tenant_id" = %s WHERE "t1"."tenant_id" = %s LIMIT %s',
            (7, 7, 10001),
        ),
        "sqlite": (
            'SELECT "t0"."name" AS "name", "t1"."id" AS "id" FROM "shop_customer" "t0" RIGHT '
            'OUTER JOIN "shop_order" "t1" ON "t0"."id" = "t1"."customer_id" AND "t0"."tenant_id" '
            '= %s WHERE "t1"."tenant_id" = %s LIMIT %s',
            (7, 7, 10001),
        ),
    },
    {
        "name": "date_trunc_minute",
        "catalog": "SHOP",
        "tz": "Europe/Paris",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [
                {
                    "table_id": "o",
                    "column": "ordered_at",
                    "date_trunc": "minute",
                    "alias": "bucket",
                },
                {"table_id": "o", "column": "total", "aggregation": "sum"},
            ],
            "order_by": [{"table_id": "o", "column": "ordered_at", "direction": "DESC"}],
        },
        "postgresql": (
            'SELECT date_trunc(\'minute\', "t0"."ordered_at" AT TIME ZONE %s) AS "bucket", '
            'SUM("t0"."total") AS "total" FROM "shop_order" "t0" GROUP BY 1 ORDER BY 1 DESC '
            "LIMIT %s",
            ("Europe/Paris", 10001),
        ),
        "sqlite": (
            "SELECT django_datetime_trunc('minute', \"t0\".\"ordered_at\", %s, 'UTC') AS "
            '"bucket", SUM("t0"."total") AS "total" FROM "shop_order" "t0" GROUP BY 1 ORDER BY 1 '
            "DESC NULLS FIRST LIMIT %s",
            ("Europe/Paris", 10001),
        ),
    },
    {
        "name": "date_trunc_hour",
        "catalog": "SHOP",
        "tz": "Europe/Paris",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [
                {"table_id": "o", "column": "ordered_at", "date_trunc": "hour", "alias": "bucket"},
                {"table_id": "o", "column": "total", "aggregation": "sum"},
            ],
            "order_by": [{"table_id": "o", "column": "ordered_at", "direction": "DESC"}],
        },
        "postgresql": (
            'SELECT date_trunc(\'hour\', "t0"."ordered_at" AT TIME ZONE %s) AS "bucket", '
            'SUM("t0"."total") AS "total" FROM "shop_order" "t0" GROUP BY 1 ORDER BY 1 DESC '
            "LIMIT %s",
            ("Europe/Paris", 10001),
        ),
        "sqlite": (
            'SELECT django_datetime_trunc(\'hour\', "t0"."ordered_at", %s, \'UTC\') AS "bucket", '
            'SUM("t0"."total") AS "total" FROM "shop_order" "t0" GROUP BY 1 ORDER BY 1 DESC NULLS '
            "FIRST LIMIT %s",
            ("Europe/Paris", 10001),
        ),
    },
    {
        "name": "date_trunc_day",
        "catalog": "SHOP",
        "tz": "Europe/Paris",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [
                {"table_id": "o", "column": "ordered_at", "date_trunc": "day", "alias": "bucket"},
                {"table_id": "o", "column": "total", "aggregation": "sum"},
            ],
            "order_by": [{"table_id": "o", "column": "ordered_at", "direction": "DESC"}],
        },
        "postgresql": (
            'SELECT date_trunc(\'day\', "t0"."ordered_at" AT TIME ZONE %s) AS "bucket", '
            'SUM("t0"."total") AS "total" FROM "shop_order" "t0" GROUP BY 1 ORDER BY 1 DESC '
            "LIMIT %s",
            ("Europe/Paris", 10001),
        ),
        "sqlite": (
            'SELECT django_datetime_trunc(\'day\', "t0"."ordered_at", %s, \'UTC\') AS "bucket", '
            'SUM("t0"."total") AS "total" FROM "shop_order" "t0" GROUP BY 1 ORDER BY 1 DESC NULLS '
            "FIRST LIMIT %s",
            ("Europe/Paris", 10001),
        ),
    },
    {
        "name": "date_trunc_week",
        "catalog": "SHOP",
        "tz": "Europe/Paris",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [
                {"table_id": "o", "column": "ordered_at", "date_trunc": "week", "alias": "bucket"},
                {"table_id": "o", "column": "total", "aggregation": "sum"},
            ],
            "order_by": [{"table_id": "o", "column": "ordered_at", "direction": "DESC"}],
        },
        "postgresql": (
            'SELECT date_trunc(\'week\', "t0"."ordered_at" AT TIME ZONE %s) AS "bucket", '
            'SUM("t0"."total") AS "total" FROM "shop_order" "t0" GROUP BY 1 ORDER BY 1 DESC '
            "LIMIT %s",
            ("Europe/Paris", 10001),
        ),
        "sqlite": (
            'SELECT django_datetime_trunc(\'week\', "t0"."ordered_at", %s, \'UTC\') AS "bucket", '
            'SUM("t0"."total") AS "total" FROM "shop_order" "t0" GROUP BY 1 ORDER BY 1 DESC NULLS '
            "FIRST LIMIT %s",
            ("Europe/Paris", 10001),
        ),
    },
    {
        "name": "date_trunc_month",
        "catalog": "SHOP",
        "tz": "Europe/Paris",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [
                {"table_id": "o", "column": "ordered_at", "date_trunc": "month", "alias": "bucket"},
                {"table_id": "o", "column": "total", "aggregation": "sum"},
            ],
            "order_by": [{"table_id": "o", "column": "ordered_at", "direction": "DESC"}],
        },
        "postgresql": (
            "SELECT " + _pg_bucket("month", "4714-12-01 BC") + ' AS "bucket", '
            'SUM("t0"."total") AS "total" FROM "shop_order" "t0" GROUP BY 1 ORDER BY 1 DESC '
            "LIMIT %s",
            ("Europe/Paris",) * 4 + (10001,),
        ),
        "sqlite": (
            'SELECT django_datetime_trunc(\'month\', "t0"."ordered_at", %s, \'UTC\') AS "bucket", '
            'SUM("t0"."total") AS "total" FROM "shop_order" "t0" GROUP BY 1 ORDER BY 1 DESC NULLS '
            "FIRST LIMIT %s",
            ("Europe/Paris", 10001),
        ),
    },
    {
        "name": "date_trunc_quarter",
        "catalog": "SHOP",
        "tz": "Europe/Paris",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [
                {
                    "table_id": "o",
                    "column": "ordered_at",
                    "date_trunc": "quarter",
                    "alias": "bucket",
                },
                {"table_id": "o", "column": "total", "aggregation": "sum"},
            ],
            "order_by": [{"table_id": "o", "column": "ordered_at", "direction": "DESC"}],
        },
        "postgresql": (
            "SELECT " + _pg_bucket("quarter", "4713-01-01 BC") + ' AS "bucket", '
            'SUM("t0"."total") AS "total" FROM "shop_order" "t0" GROUP BY 1 ORDER BY 1 DESC '
            "LIMIT %s",
            ("Europe/Paris",) * 4 + (10001,),
        ),
        "sqlite": (
            "SELECT django_datetime_trunc('quarter', \"t0\".\"ordered_at\", %s, 'UTC') AS "
            '"bucket", SUM("t0"."total") AS "total" FROM "shop_order" "t0" GROUP BY 1 ORDER BY 1 '
            "DESC NULLS FIRST LIMIT %s",
            ("Europe/Paris", 10001),
        ),
    },
    {
        "name": "date_trunc_year",
        "catalog": "SHOP",
        "tz": "Europe/Paris",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [
                {"table_id": "o", "column": "ordered_at", "date_trunc": "year", "alias": "bucket"},
                {"table_id": "o", "column": "total", "aggregation": "sum"},
            ],
            "order_by": [{"table_id": "o", "column": "ordered_at", "direction": "DESC"}],
        },
        "postgresql": (
            "SELECT " + _pg_bucket("year", "4713-01-01 BC") + ' AS "bucket", '
            'SUM("t0"."total") AS "total" FROM "shop_order" "t0" GROUP BY 1 ORDER BY 1 DESC '
            "LIMIT %s",
            ("Europe/Paris",) * 4 + (10001,),
        ),
        "sqlite": (
            'SELECT django_datetime_trunc(\'year\', "t0"."ordered_at", %s, \'UTC\') AS "bucket", '
            'SUM("t0"."total") AS "total" FROM "shop_order" "t0" GROUP BY 1 ORDER BY 1 DESC NULLS '
            "FIRST LIMIT %s",
            ("Europe/Paris", 10001),
        ),
    },
    {
        "name": "date_trunc_date_column",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [
                {"table_id": "o", "column": "shipped_on", "date_trunc": "week"},
                {"table_id": "o", "column": "*", "aggregation": "count"},
            ],
        },
        "postgresql": (
            # Dates past timestamp's range (294276 AD) are truncated with date arithmetic.
            'SELECT CASE WHEN "t0"."shipped_on" < \'294277-01-01\' '
            'THEN CAST(date_trunc(\'week\', CAST("t0"."shipped_on" AS timestamp)) AS date) '
            'WHEN isfinite("t0"."shipped_on") '
            'THEN "t0"."shipped_on" - '
            '(CAST(extract(isodow FROM "t0"."shipped_on") AS integer) - 1) '
            'ELSE "t0"."shipped_on" END '
            'AS "shipped_on", COUNT(*) AS "count" FROM "shop_order" "t0" GROUP BY 1 LIMIT %s',
            (10001,),
        ),
        "sqlite": (
            'SELECT django_date_trunc(\'week\', "t0"."shipped_on", NULL, NULL) AS "shipped_on", '
            'COUNT(*) AS "count" FROM "shop_order" "t0" GROUP BY 1 LIMIT %s',
            (10001,),
        ),
    },
    {
        "name": "date_trunc_without_aggregation",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [
                {"table_id": "o", "column": "id"},
                {"table_id": "o", "column": "ordered_at", "date_trunc": "day"},
            ],
            "order_by": [{"table_id": "o", "column": "ordered_at"}],
        },
        "postgresql": (
            'SELECT "t0"."id" AS "id", date_trunc(\'day\', "t0"."ordered_at" AT TIME ZONE %s) '
            'AS "ordered_at" FROM "shop_order" "t0" ORDER BY 2 ASC LIMIT %s',
            ("UTC", 10001),
        ),
        "sqlite": (
            'SELECT "t0"."id" AS "id", django_datetime_trunc(\'day\', "t0"."ordered_at", %s, '
            '\'UTC\') AS "ordered_at" FROM "shop_order" "t0" ORDER BY 2 ASC NULLS LAST LIMIT %s',
            ("UTC", 10001),
        ),
    },
    {
        "name": "time_series",
        "catalog": "SHOP",
        "tz": "America/New_York",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "time_series": {
                "table_id": "o",
                "date_column": "ordered_at",
                "interval": "month",
                "alias": "month",
            },
            "columns": [
                {"table_id": "o", "column": "total", "aggregation": "sum", "alias": "revenue"}
            ],
            "filters": [
                {
                    "table_id": "o",
                    "column": "ordered_at",
                    "operator": "date_relative",
                    "value": {"preset": "this_year"},
                }
            ],
        },
        "postgresql": (
            "SELECT " + _pg_bucket("month", "4714-12-01 BC") + ' AS "month", '
            'SUM("t0"."total") AS "revenue" FROM "shop_order" "t0" WHERE ("t0"."ordered_at" '
            '>= %s AND "t0"."ordered_at" < %s) GROUP BY 1 ORDER BY 1 ASC LIMIT %s',
            (
                *("America/New_York",) * 4,
                datetime.datetime(2024, 1, 1, 5, 0, tzinfo=datetime.UTC),
                datetime.datetime(2025, 1, 1, 5, 0, tzinfo=datetime.UTC),
                10001,
            ),
        ),
        "sqlite": (
            'SELECT django_datetime_trunc(\'month\', "t0"."ordered_at", %s, \'UTC\') AS "month", '
            'SUM("t0"."total") AS "revenue" FROM "shop_order" "t0" WHERE ("t0"."ordered_at" >= %s '
            'AND "t0"."ordered_at" < %s) GROUP BY 1 ORDER BY 1 ASC NULLS LAST LIMIT %s',
            ("America/New_York", "2024-01-01 05:00:00", "2025-01-01 05:00:00", 10001),
        ),
    },
    {
        "name": "limit_capped",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "limit": 1000000000,
        },
        "postgresql": ('SELECT "t0"."id" AS "id" FROM "shop_order" "t0" LIMIT %s', (10001,)),
        "sqlite": ('SELECT "t0"."id" AS "id" FROM "shop_order" "t0" LIMIT %s', (10001,)),
    },
    {
        "name": "no_limit",
        "catalog": "SHOP",
        "tz": "UTC",
        "definition": {
            "tables": [{"id": "o", "name": "shop_order"}],
            "columns": [{"table_id": "o", "column": "id"}],
            "offset": 0,
        },
        "postgresql": ('SELECT "t0"."id" AS "id" FROM "shop_order" "t0" LIMIT %s', (10001,)),
        "sqlite": ('SELECT "t0"."id" AS "id" FROM "shop_order" "t0" LIMIT %s', (10001,)),
    },
]
