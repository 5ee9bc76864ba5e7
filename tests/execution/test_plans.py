"""Plans never name indexes, or relations and expressions that are not exposed tables."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import override_settings

from prismiq_django import services
from prismiq_django.execution.plans import HIDDEN, INDEX, redact_plan

SECRET_INDEX = "shop_customer_country_api_token_idx"


def test_postgres_plan_keeps_shape_and_exposed_names_but_not_index_names() -> None:
    plan = [
        {
            "Plan": {
                "Node Type": "Limit",
                "Total Cost": 1.5,
                "Plans": [
                    {
                        "Node Type": "Index Scan",
                        "Relation Name": "shop_customer",
                        "Alias": "t0",
                        "Index Name": SECRET_INDEX,
                        "Index Cond": "(country = 'FR')",
                        "Plan Rows": 3,
                    }
                ],
            },
            "Planning Time": 0.1,
        }
    ]
    redacted = redact_plan(plan, {"shop_customer"})
    node = redacted[0]["Plan"]["Plans"][0]
    assert node["Index Name"] == INDEX
    assert node["Relation Name"] == "shop_customer"
    assert node["Index Cond"] == "(country = 'FR')"
    assert node["Plan Rows"] == 3
    assert redacted[0]["Planning Time"] == 0.1
    assert SECRET_INDEX not in json.dumps(redacted)
    assert plan[0]["Plan"]["Plans"][0]["Index Name"] == SECRET_INDEX  # input untouched


def test_postgres_nodes_under_a_view_lose_names_and_expressions() -> None:
    plan = [
        {
            "Plan": {
                "Node Type": "Seq Scan",
                "Relation Name": "auth_user",
                "Schema": "public",
                "Alias": "auth_user",
                "Filter": "((password)::text ~~ 'pbkdf2%'::text)",
                "Output": ["password"],
                "Plan Rows": 1,
            }
        }
    ]
    node = redact_plan(plan, {"active_users_view"})[0]["Plan"]
    assert node == {
        "Node Type": "Seq Scan",
        "Relation Name": HIDDEN,
        "Schema": HIDDEN,
        "Alias": HIDDEN,
        "Plan Rows": 1,
    }


@pytest.mark.parametrize(
    ("detail", "expected"),
    [
        (
            f"SEARCH t0 USING INDEX {SECRET_INDEX} (country=?)",
            f"SEARCH t0 USING INDEX {INDEX} (country=?)",
        ),
        (
            f"SCAN t0 USING COVERING INDEX {SECRET_INDEX}",
            f"SCAN t0 USING COVERING INDEX {INDEX}",
        ),
        ("SCAN auth_user", f"SCAN {HIDDEN}"),
        ('SCAN "django_session"', f"SCAN {HIDDEN}"),
        ("SCAN shop_customer", "SCAN shop_customer"),
        ("SEARCH t1 USING INTEGER PRIMARY KEY (rowid=?)",) * 2,
        ("USE TEMP B-TREE FOR ORDER BY", "USE TEMP B-TREE FOR ORDER BY"),
    ],
)  # fmt: skip
def test_sqlite_details(detail: str, expected: str) -> None:
    plan = [{"id": 3, "parent": 0, "detail": detail}]
    assert redact_plan(plan, {"shop_customer"}) == [{"id": 3, "parent": 0, "detail": expected}]


@pytest.mark.sqlite
@pytest.mark.django_db
@override_settings(PRISMIQ={"EXPOSED_TABLES": ["shop_customer"]})
def test_explain_through_the_services_never_names_the_index() -> None:
    """SQLite picks the index for an equality filter at once, so the leak was real here."""
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE INDEX "{SECRET_INDEX}" ON shop_customer (country, api_token)')
    definition = {
        "tables": [{"id": "c", "name": "shop_customer"}],
        "columns": [{"table_id": "c", "column": "country"}],
        "filters": [{"table_id": "c", "column": "country", "operator": "eq", "value": "FR"}],
    }
    compiled = services.to_sql(None, definition)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + compiled.sql, compiled.params)
        raw = " ".join(str(row) for row in cursor.fetchall())
    assert SECRET_INDEX in raw  # the database does name it ...
    plan = services.explain(None, definition)
    assert SECRET_INDEX not in json.dumps(plan)  # ... the API does not
    assert "api_token" not in json.dumps(plan)
    assert INDEX in json.dumps(plan)


@pytest.mark.django_db
@override_settings(PRISMIQ={"EXPOSED_TABLES": ["shop_order", "shop_customer"]})
def test_schema_hides_the_all_tenants_row_estimate_of_tenant_tables() -> None:
    from example_project.shop.models import Customer
    from prismiq_django.models import ExposedTable

    created = "2024-01-01T00:00:00Z"
    Customer.objects.bulk_create(
        Customer(tenant_id=i % 2, name="n", email="e", city="c", country="FR", created_at=created)
        for i in range(20)
    )
    with connection.cursor() as cursor:
        if connection.vendor == "mysql":  # one table at a time there, and a status row
            cursor.execute("ANALYZE TABLE shop_customer")
            cursor.fetchall()
        else:
            cursor.execute("ANALYZE")
    services.invalidate_catalog()
    counts = {t["name"]: t["row_count"] for t in services.schema(None)["tables"]}
    assert counts["shop_customer"] == 20
    ExposedTable.objects.create(name="shop_customer", tenant_column="tenant_id")
    services.invalidate_catalog()
    counts = {t["name"]: t["row_count"] for t in services.schema(None)["tables"]}
    assert counts["shop_customer"] is None
    assert services.table_schema(None, "shop_customer")["row_count"] is None


def test_nodes_above_a_hidden_relation_lose_their_expressions() -> None:
    """A join over a view's tables names their columns in Hash Cond / Sort Key above them."""
    plan = [
        {
            "Plan": {
                "Node Type": "Sort",
                "Sort Key": ["u.password"],
                "Plans": [
                    {
                        "Node Type": "Hash Join",
                        "Hash Cond": "(o.user_id = u.id)",
                        "Plans": [
                            {"Node Type": "Seq Scan", "Relation Name": "shop_order", "Alias": "o",
                             "Filter": "(status = 'paid')"},
                            {"Node Type": "Seq Scan", "Relation Name": "auth_user", "Alias": "u"},
                        ],
                    }
                ],
            }
        },
        {"Plan": {"Node Type": "Seq Scan", "Relation Name": "shop_order", "Filter": "(id > 1)"}},
    ]  # fmt: skip
    redacted = redact_plan(plan, {"shop_order", "orders_with_users"})
    text = json.dumps(redacted)
    assert "password" not in text
    assert "user_id" not in text
    assert "auth_user" not in text
    sort = redacted[0]["Plan"]
    assert "Sort Key" not in sort
    assert "Hash Cond" not in sort["Plans"][0]
    exposed_scan = sort["Plans"][0]["Plans"][0]
    assert exposed_scan["Filter"] == "(status = 'paid')"  # its own subtree reads nothing hidden
    assert redacted[1]["Plan"]["Filter"] == "(id > 1)"  # a separate plan is unaffected
