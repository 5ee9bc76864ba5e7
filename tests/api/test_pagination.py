"""Pagination and ``count_total`` on ``query/execute`` and ``saved-queries/{id}/execute`` (SPEC
section 11, issue 23 item 12), on the real database of the pass (SQLite or PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from example_project.shop.models import Order
from prismiq_django.models import SavedQuery
from tests.api.conftest import Shop, api, configure

pytestmark = pytest.mark.django_db

#: Ties everywhere: many orders share a status, and several customers share a country.
TIED: dict[str, Any] = {
    "tables": [{"id": "o", "name": "shop_order"}, {"id": "c", "name": "shop_customer"}],
    "joins": [
        {"from_table_id": "o", "from_column": "customer_id", "to_table_id": "c", "to_column": "id"}
    ],
    "columns": [
        {"table_id": "c", "column": "country"},
        {"table_id": "o", "column": "status"},
        {"table_id": "o", "column": "total"},
        {"table_id": "o", "column": "shipped_on"},
    ],
    "order_by": [{"table_id": "c", "column": "country", "direction": "DESC"}],
}


def _more_orders(shop: Shop, count: int = 53) -> None:
    customers = list(shop.customers.values())
    first = Order.objects.first()
    assert first is not None
    for n in range(count):  # repeated (status, total) pairs: ties and duplicate rows
        Order.objects.create(
            tenant_id=1,
            customer_id=customers[n % len(customers)],
            status=("paid", "shipped", "pending")[n % 3],
            ordered_at=first.ordered_at,
            shipped_on=None if n % 4 else first.ordered_at.date(),
            total=(n % 5) * 10,
        )


def _run(client: APIClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(api("query/execute"), body, format="json")
    assert response.status_code == 200, response.content
    return dict(response.json())


def _whole(client: APIClient, query: dict[str, Any]) -> list[list[Any]]:
    """The whole result in the stable order, spelled out in the request (tie-breakers given)."""
    order = list(query["order_by"])
    named = {(o["table_id"], o["column"]) for o in order}
    order += [
        {"table_id": c["table_id"], "column": c["column"], "direction": "ASC"}
        for c in query["columns"]
        if (c["table_id"], c["column"]) not in named
    ]
    result = _run(client, {"query": {**query, "order_by": order}})
    assert not result["truncated"]
    return list(result["rows"])


@pytest.mark.parametrize("size", [1, 7, 10, 63, 500])
def test_concatenated_pages_are_the_whole_ordered_result(
    client: APIClient, shop: Shop, size: int
) -> None:
    _more_orders(shop)
    whole = _whole(client, TIED)
    assert len(whole) == 63
    pages: list[list[Any]] = []
    page = 1
    while True:
        result = _run(client, {"query": TIED, "page": page, "page_size": size})
        assert result["page"] == page
        assert result["page_size"] == size
        assert result["row_count"] == len(result["rows"]) <= size
        pages.extend(result["rows"])
        if not result["has_next"]:
            break
        assert result["row_count"] == size
        page += 1
    assert pages == whole
    assert page == -(-63 // size)


def test_pages_within_the_definitions_own_offset_and_limit(client: APIClient, shop: Shop) -> None:
    _more_orders(shop)
    query = {**TIED, "offset": 3, "limit": 20}
    whole = _whole(client, {**TIED})[3:23]
    first = _run(client, {"query": query, "page": 1, "page_size": 8})
    second = _run(client, {"query": query, "page": 2, "page_size": 8})
    third = _run(client, {"query": query, "page": 3, "page_size": 8})
    beyond = _run(client, {"query": query, "page": 9, "page_size": 8})
    assert first["rows"] + second["rows"] + third["rows"] == whole
    assert (first["has_next"], second["has_next"], third["has_next"]) == (True, True, False)
    assert third["row_count"] == 4
    assert third["truncated"] is False
    assert beyond["rows"] == []
    assert beyond["has_next"] is False


def test_paging_beyond_max_rows(client: APIClient, shop: Shop, settings: Any) -> None:
    """MAX_ROWS bounds a page, not the whole result: the pages go on past it."""
    _more_orders(shop)
    configure(settings, MAX_ROWS=10)
    capped = _run(client, {"query": TIED})
    assert capped["row_count"] == 10
    assert capped["truncated"] is True
    assert "page" not in capped
    last = _run(client, {"query": TIED, "page": 7, "page_size": 10})
    assert last["row_count"] == 3
    assert last["has_next"] is False


def test_page_size_alone_is_page_one_and_the_default_is_500(client: APIClient, shop: Shop) -> None:
    result = _run(client, {"query": TIED, "page_size": 4})
    assert (result["page"], result["page_size"], result["row_count"]) == (1, 4, 4)
    assert _run(client, {"query": TIED, "page": 1})["page_size"] == 500


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("page", 0),
        ("page", -1),
        ("page", "2"),
        ("page", 1.5),
        ("page", True),
        ("page_size", 0),
        ("page_size", 5001),
        ("page_size", "10"),
        ("count_total", "yes"),
        ("count_total", 1),
    ],
)
def test_bad_paging_values_are_400_at_their_path(
    client: APIClient, shop: Shop, field: str, value: Any
) -> None:
    response = client.post(api("query/execute"), {"query": TIED, field: value}, format="json")
    assert response.status_code == 400
    assert f"/{field}" in response.content.decode()


def test_max_page_size_is_a_setting(client: APIClient, shop: Shop, settings: Any) -> None:
    configure(settings, MAX_PAGE_SIZE=5)
    assert client.post(api("query/execute"), {"query": TIED, "page_size": 6},
                       format="json").status_code == 400  # fmt: skip
    assert _run(client, {"query": TIED, "page_size": 5})["row_count"] == 5


def test_a_page_beyond_the_largest_offset_is_400(client: APIClient, shop: Shop) -> None:
    response = client.post(
        api("query/execute"), {"query": TIED, "page": 2**62, "page_size": 500}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "/page"
    with_offset = client.post(
        api("query/execute"),
        {"query": {**TIED, "offset": 2**62}, "page": 2, "page_size": 500},
        format="json",
    )
    assert with_offset.status_code == 400
    assert with_offset.json()["errors"][0]["path"] == "/query/offset"


def test_count_total_counts_the_whole_result(client: APIClient, shop: Shop, settings: Any) -> None:
    _more_orders(shop)
    configure(settings, MAX_ROWS=10)
    result = _run(client, {"query": TIED, "count_total": True})
    assert result["total_rows"] == 63
    assert result["row_count"] == 10
    paged = _run(client, {"query": TIED, "count_total": True, "page": 3, "page_size": 25})
    assert (paged["total_rows"], paged["row_count"]) == (63, 13)
    limited = _run(client, {"query": {**TIED, "limit": 30, "offset": 40}, "count_total": True})
    assert limited["total_rows"] == 23  # rows 40..62 of 63, within the limit of 30
    assert "total_rows" not in _run(client, {"query": TIED})


def test_count_total_of_an_aggregate_counts_groups(client: APIClient, shop: Shop) -> None:
    query = {
        "tables": [{"id": "o", "name": "shop_order"}],
        "columns": [
            {"table_id": "o", "column": "status"},
            {"table_id": "o", "column": "id", "aggregation": "count", "alias": "n"},
        ],
        "filters": [{"table_id": "o", "column": "status", "operator": "neq", "value": "x'--"}],
    }
    result = _run(client, {"query": query, "count_total": True, "page": 1, "page_size": 2})
    assert result["total_rows"] == 4  # paid, shipped, cancelled, pending
    assert result["has_next"] is True


def test_count_runs_in_the_same_transaction_as_the_page(client: APIClient, shop: Shop) -> None:
    """The count is a second statement of the same read-only transaction, never a fetch of
    every row."""
    _more_orders(shop)
    with CaptureQueriesContext(connection) as queries:
        result = _run(client, {"query": TIED, "count_total": True, "page": 1, "page_size": 5})
    assert result["row_count"] == 5
    statements = [q["sql"] for q in queries.captured_queries]
    counts = [i for i, sql in enumerate(statements) if "SELECT count(*) FROM (" in sql]
    assert len(counts) == 1
    text = statements[counts[0]]
    if connection.vendor == "postgresql" and "BEGIN READ ONLY" in text:
        assert text.index("count(*)") < text.rindex("LIMIT") < text.index("ROLLBACK")
    else:  # the savepoint path: the count, then the page, in one atomic block
        page = next(i for i, sql in enumerate(statements) if "OFFSET" in sql or "LIMIT 6" in sql)
        assert page == counts[0] + 1
        assert not any(
            "RELEASE" in sql or "ROLLBACK" in sql for sql in statements[counts[0] : page]
        )


def test_cached_results_keep_their_total_apart(
    client: APIClient, shop: Shop, settings: Any
) -> None:
    configure(settings, RESULT_CACHE_TTL=60)
    plain = _run(client, {"query": TIED})
    counted = _run(client, {"query": TIED, "count_total": True})
    again = _run(client, {"query": TIED, "count_total": True})
    plain_again = _run(client, {"query": TIED})
    assert "total_rows" not in plain
    assert counted["total_rows"] == again["total_rows"] == 10
    assert again["is_from_cache"] is True
    assert "total_rows" not in plain_again
    assert plain_again["is_from_cache"] is True


def test_saved_query_pages_and_total(client: APIClient, shop: Shop, alice: Any) -> None:
    _more_orders(shop)
    saved = SavedQuery.objects.create(name="tied", query=TIED, owner=alice)
    whole = _whole(client, TIED)
    rows: list[Any] = []
    for page in (1, 2, 3):
        response = client.post(
            api(f"saved-queries/{saved.pk}/execute"),
            {"page": page, "page_size": 30, "count_total": True},
            format="json",
        )
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["total_rows"] == 63
        assert body["has_next"] is (page < 3)
        rows += body["rows"]
    assert rows == whole
    bad = client.post(api(f"saved-queries/{saved.pk}/execute"), {"page_size": 10**6}, format="json")
    assert bad.status_code == 400
