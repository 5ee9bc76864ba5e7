"""Exports through the API (test client): files, values, scopes, limits, errors, rate limit.

Real HTTP behaviour (a failure mid-stream, a client that leaves) is in
``tests/exports/test_export_server.py`` under gunicorn.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl
import pytest
from django.db import connection
from rest_framework.test import APIClient

from prismiq_django.models import SavedQuery
from tests.api.conftest import CANARY_SECRET, Shop, api, configure, definition

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LISTING: dict[str, Any] = {
    "tables": [{"id": "o", "name": "shop_order"}, {"id": "c", "name": "shop_customer"}],
    "joins": [
        {"from_table_id": "o", "from_column": "customer_id", "to_table_id": "c", "to_column": "id"}
    ],
    "columns": [
        {"table_id": "o", "column": "id"},
        {"table_id": "c", "column": "name", "alias": "=customer"},
        {"table_id": "o", "column": "status"},
        {"table_id": "o", "column": "ordered_at"},
        {"table_id": "o", "column": "shipped_on"},
        {"table_id": "o", "column": "total"},
        {"table_id": "c", "column": "is_active"},
    ],
    "order_by": [{"table_id": "o", "column": "id", "direction": "ASC"}],
}


def _body(response: Any) -> bytes:
    assert response.streaming, "an export is a streaming response"
    return b"".join(response.streaming_content)


def _csv(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(_body(response).decode("utf-8"), newline="")))


def _export(client: APIClient, query: dict[str, Any], fmt: str = "csv", **extra: Any) -> Any:
    return client.post(api("query/export"), {"query": query, "format": fmt, **extra}, format="json")


def test_csv_export_is_the_whole_result_spelled_as_the_json_answer(
    client: APIClient, shop: Shop, settings: Any
) -> None:
    configure(settings, MAX_ROWS=3)  # does not apply to exports
    response = _export(client, LISTING)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="export.csv"'
    table = _csv(response)
    configure(settings, MAX_ROWS=100)
    executed = client.post(
        api("query/execute"), {"query": {**LISTING, "limit": 100}}, format="json"
    ).json()
    assert table[0] == ["id", "'=customer", "status", "ordered_at", "shipped_on", "total",
                        "is_active"]  # fmt: skip
    assert len(table) == 1 + 10
    for record, row in zip(table[1:], executed["rows"], strict=True):
        expected = [
            "" if v is None else ("true" if v is True else "false" if v is False else str(v))
            for v in row
        ]
        assert record[:3] == expected[:3]
        assert record[4] == expected[4]
        assert float(record[5]) == float(expected[5])
        assert record[6] == expected[6]
        # ISO 8601 either way (PostgreSQL writes the fraction it needs, Python six digits)
        assert record[3].replace(".000000", "") == expected[3].replace(".000000", "")
    assert table[1][3] == "2024-01-05T12:00:00+00:00"


def test_xlsx_export_has_typed_cells(client: APIClient, shop: Shop) -> None:
    response = _export(client, LISTING, "xlsx", filename="Ventes été 2024")
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"] == 'attachment; filename="Ventes ete 2024.xlsx"'
    sheet = openpyxl.load_workbook(io.BytesIO(_body(response))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("id", "=customer", "status", "ordered_at", "shipped_on", "total",
                       "is_active")  # fmt: skip
    assert len(rows) == 11
    first = rows[1]
    assert isinstance(first[0], int)
    assert first[2] == "paid"
    assert first[3].isoformat() == "2024-01-05T12:00:00"
    assert first[5] == 120
    assert first[6] is True
    assert rows[2][4].date().isoformat() == "2024-01-22"


def test_formula_escaping_can_be_turned_off(client: APIClient, shop: Shop, settings: Any) -> None:
    configure(settings, EXPORT_CSV_ESCAPE_FORMULAS=False)
    assert _csv(_export(client, LISTING))[0][1] == "=customer"


def test_hostile_text_is_escaped_in_csv(client: APIClient, shop: Shop) -> None:
    from example_project.shop.models import Customer

    Customer.objects.filter(pk=shop.customers["ann"]).update(name='=HYPERLINK("http://x","y")')
    Customer.objects.filter(pk=shop.customers["bob"]).update(name='-1+1, "quoted"\nline')
    table = _csv(_export(client, LISTING))
    names = {row[1] for row in table[1:]}
    assert '\'=HYPERLINK("http://x","y")' in names
    assert '\'-1+1, "quoted"\nline' in names


#: First characters around the four formula triggers: only a leading = + - @ is escaped.
EDGE_NAMES = ["", "=", "+1", "-", "@a", " =x", "a=1", "\t=x", "é=", "😀=", "\uff1dwide", "'=x"]


def test_only_text_starting_a_formula_is_escaped_whatever_its_first_character(
    client: APIClient, shop: Shop
) -> None:
    """The CSV of every path (PostgreSQL's COPY, the Python writer elsewhere) escapes exactly
    the names whose first character is = + - or @ (an empty name is an empty field)."""
    from example_project.shop.models import Customer

    template = Customer.objects.get(pk=shop.customers["ann"])
    Customer.objects.all().delete()
    for name in EDGE_NAMES:
        template.pk = None
        template.name = name
        template.save()
    query = {
        "tables": [{"id": "c", "name": "shop_customer"}],
        "columns": [{"table_id": "c", "column": "id"}, {"table_id": "c", "column": "name"}],
        "order_by": [{"table_id": "c", "column": "id", "direction": "ASC"}],
        "limit": len(EDGE_NAMES),
    }
    names = [row[1] for row in _csv(_export(client, query))[1:]]
    expected = [("'" + n if n[:1] in ("=", "+", "-", "@") else n) for n in EDGE_NAMES]
    assert names == expected


def test_the_definitions_limit_then_export_max_rows(
    client: APIClient, shop: Shop, settings: Any
) -> None:
    assert len(_csv(_export(client, {**LISTING, "limit": 4}))) == 1 + 4
    configure(settings, EXPORT_MAX_ROWS=6)
    assert len(_csv(_export(client, LISTING))) == 1 + 6
    assert len(_csv(_export(client, {**LISTING, "limit": 8}))) == 1 + 6
    assert len(_csv(_export(client, {**LISTING, "limit": 0}))) == 1


def test_row_scopes_apply(client: APIClient, shop: Shop, settings: Any) -> None:
    from example_project.shop.models import Order

    Order.objects.filter(pk__in=list(shop.orders.values())[:4]).update(tenant_id=2)
    configure(
        settings,
        EXPOSED_TABLES=None,
        TENANT_CALLBACK="tests.api.test_exports.tenant_two",
    )
    from prismiq_django.models import ExposedTable
    from prismiq_django.services import invalidate_catalog

    for name in ("shop_order", "shop_customer"):
        ExposedTable.objects.create(name=name, is_exposed=True, tenant_column="tenant_id")
    invalidate_catalog()
    ids = [row[0] for row in _csv(_export(client, LISTING))[1:]]
    assert ids == []  # customers are tenant 1: the inner join finds none of tenant 2
    only_orders = {**LISTING, "tables": LISTING["tables"][:1], "joins": [],
                   "columns": [c for c in LISTING["columns"] if c["table_id"] == "o"]}  # fmt: skip
    ids = [row[0] for row in _csv(_export(client, only_orders))[1:]]
    assert ids == [str(pk) for pk in list(shop.orders.values())[:4]]


def tenant_two(request: Any) -> int:
    return 2


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"format": "csv"}, 400),
        ({"query": definition(), "format": "pdf"}, 400),
        ({"query": definition()}, 400),
        ({"query": definition(), "format": "csv", "filename": "x" * 201}, 400),
        (
            {
                "query": {
                    "tables": [{"id": "z", "name": "api_canary"}],
                    "columns": [{"table_id": "z", "column": "secret"}],
                },
                "format": "csv",
            },
            400,
        ),
    ],
)
def test_errors_before_the_first_byte_are_json(
    client: APIClient, shop: Shop, body: dict[str, Any], status: int
) -> None:
    response = client.post(api("query/export"), body, format="json")
    assert response.status_code == status
    assert not response.streaming
    assert response["Content-Type"] == "application/json"
    assert CANARY_SECRET not in response.content.decode()


def test_invalid_definition_paths_point_into_the_body(client: APIClient, shop: Shop) -> None:
    bad = {**LISTING, "columns": [{"table_id": "o", "column": "nope"}]}
    response = _export(client, bad)
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "/query/columns/0/column"


def test_timeout_before_the_first_row_is_a_json_504(
    client: APIClient, shop: Shop, settings: Any
) -> None:
    from example_project.shop.models import Order

    first = Order.objects.get(pk=shop.orders["o1"])
    Order.objects.bulk_create(
        Order(tenant_id=1, customer_id=first.customer_id, status="paid",
              ordered_at=first.ordered_at, total=n)
        for n in range(1500)
    )  # fmt: skip
    # Every pair of orders (2.3 million), grouped: no row before all of them are joined.
    pairs = {
        "tables": [{"id": "a", "name": "shop_order"}, {"id": "b", "name": "shop_order"}],
        "joins": [{"from_table_id": "a", "from_column": "tenant_id",
                   "to_table_id": "b", "to_column": "tenant_id"}],
        "columns": [{"table_id": "a", "column": "status"},
                    {"table_id": "b", "column": "total", "aggregation": "count_distinct"}],
    }  # fmt: skip
    configure(settings, EXPORT_TIMEOUT=0.05)
    response = _export(client, pairs)
    assert response.status_code == 504
    assert not response.streaming
    assert response.json()["code"] == "query_timeout"


def test_anonymous_and_unknown_saved_queries(anon: APIClient, client: APIClient,
                                             bob: Any, shop: Shop) -> None:  # fmt: skip
    assert _export(anon, LISTING).status_code in (401, 403)
    private = SavedQuery.objects.create(name="bob's", query=LISTING, owner=bob)
    assert client.get(api(f"saved-queries/{private.pk}/export")).status_code == 404
    assert client.get(api("saved-queries/999999/export?format=csv")).status_code == 404


def test_saved_query_export(client: APIClient, alice: Any, shop: Shop) -> None:
    saved = SavedQuery.objects.create(name='Q1: orders/ "all"', query=LISTING, owner=alice)
    default = client.get(api(f"saved-queries/{saved.pk}/export"))
    assert default.status_code == 200
    assert default["Content-Disposition"] == 'attachment; filename="Q1_ orders_ _all.csv"'
    assert len(_csv(default)) == 11
    xlsx = client.get(api(f"saved-queries/{saved.pk}/export/?format=xlsx"))
    assert xlsx.status_code == 200
    assert xlsx["Content-Type"] == XLSX
    assert len(list(openpyxl.load_workbook(io.BytesIO(_body(xlsx))).active.iter_rows())) == 11
    bad = client.get(api(f"saved-queries/{saved.pk}/export?format=pdf"))
    assert bad.status_code in (400, 404)
    assert not bad.streaming


def test_accept_headers_of_the_file_types_are_served(client: APIClient, shop: Shop) -> None:
    response = client.post(
        api("query/export"), {"query": LISTING, "format": "csv"}, format="json",
        HTTP_ACCEPT="text/csv",
    )  # fmt: skip
    assert response.status_code == 200
    assert _csv(response)[0][0] == "id"
    failed = client.post(
        api("query/export"), {"query": {}, "format": "csv"}, format="json",
        HTTP_ACCEPT="text/csv",
    )  # fmt: skip
    assert failed.status_code == 400
    assert failed.json()["detail"]


@pytest.mark.usefixtures("counters")
def test_exports_have_their_own_rate_limit(client: APIClient, shop: Shop, settings: Any) -> None:
    configure(settings, EXPORT_RATE_LIMIT="2/m", RATE_LIMIT="100/m")
    for _ in range(2):
        response = _export(client, LISTING)
        assert response.status_code == 200
        _body(response)
        assert response["X-RateLimit-Limit"] == "2"
    refused = _export(client, LISTING)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert refused.json()["code"] == "rate_limited"
    # the query endpoints keep their own budget
    executed = client.post(api("query/execute"), {"query": LISTING}, format="json")
    assert executed.status_code == 200
    assert executed["X-RateLimit-Limit"] == "100"


@pytest.mark.django_db(transaction=True)
def test_the_export_transaction_ends_with_the_stream(client: APIClient, shop: Shop) -> None:
    response = _export(client, LISTING, "csv")
    chunks = iter(response.streaming_content)
    next(chunks)
    response.close()  # what the WSGI server does when the client leaves
    if connection.connection is not None:
        assert not connection.in_atomic_block
    with connection.cursor() as cursor:  # the connection is usable, no export left open
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
