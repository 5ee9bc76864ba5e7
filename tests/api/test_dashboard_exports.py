"""``POST dashboards/{id}/widgets/{wid}/export`` (SPEC sections 9 and 11): a widget's whole
result as a download, with the dashboard filters merged exactly as ``execute`` merges them; the
dashboard's read access rules; the export rate limit; errors before the first byte as JSON."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from prismiq_django.models import SavedQuery
from tests.api.conftest import Shop, configure
from tests.api.test_dashboards import REVENUE_BY_STATUS, create, pos, post

pytestmark = pytest.mark.django_db

LISTING: dict[str, Any] = {
    "tables": [{"id": "o", "name": "shop_order"}, {"id": "c", "name": "shop_customer"}],
    "joins": [
        {"from_table_id": "o", "from_column": "customer_id", "to_table_id": "c", "to_column": "id"}
    ],
    "columns": [
        {"table_id": "o", "column": "id"},
        {"table_id": "c", "column": "country"},
        {"table_id": "o", "column": "status"},
        {"table_id": "o", "column": "total"},
    ],
    "order_by": [{"table_id": "o", "column": "id", "direction": "ASC"}],
    "limit": 1000,
}


def _rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.content
    assert response.streaming, "an export is a streaming response"
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline="")))


def _widgets(created: dict[str, Any]) -> dict[str, int]:
    return {w["title"]: w["id"] for w in created["widgets"]}


def _board(client: APIClient, **overrides: Any) -> dict[str, Any]:
    return create(
        client,
        widgets=[
            {"type": "table", "title": "Orders", "query": LISTING, "position": pos()},
            {
                "type": "bar_chart",
                "title": "By status",
                "query": REVENUE_BY_STATUS,
                "position": pos(6),
            },
            {"type": "text", "title": "Note", "position": pos(0, 4), "config": {"content": "x"}},
        ],
        **overrides,
    )


def test_the_file_holds_what_execute_answers_with_the_same_filters(
    client: APIClient, shop: Shop
) -> None:
    created = _board(client)
    widget = _widgets(created)["Orders"]
    url = f"dashboards/{created['id']}/widgets/{widget}"
    values = [{"filter_id": "country", "value": "DE"}, {"filter_id": "status", "value": ["paid"]}]
    answer = post(client, f"{url}/execute", values).json()
    exported = _rows(post(client, f"{url}/export", {"format": "csv", "filter_values": values}))
    assert exported[0] == ["id", "country", "status", "total"]
    assert [[int(r[0]), r[1], r[2], Decimal(r[3])] for r in exported[1:]] == [
        [row[0], row[1], row[2], Decimal(str(row[3]))] for row in answer["rows"]
    ]
    # The filters really applied: Ann's and Cid's paid orders only (o1 and o5).
    assert [(int(r[0]), r[1], r[2], Decimal(r[3])) for r in exported[1:]] == [
        (shop.orders["o1"], "DE", "paid", Decimal("120.00")),
        (shop.orders["o5"], "DE", "paid", Decimal("60.25")),
    ]
    unfiltered = _rows(post(client, f"{url}/export", {"format": "csv"}))
    assert len(unfiltered) == 1 + len(shop.orders)


def test_xlsx_and_the_file_name(client: APIClient, shop: Shop) -> None:
    created = _board(client)
    widget = _widgets(created)["By status"]
    response = post(
        client, f"dashboards/{created['id']}/widgets/{widget}/export", {"format": "xlsx"}
    )
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="By status.xlsx"'
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = [list(r) for r in book.active.iter_rows(values_only=True)]
    assert rows[0] == ["status", "revenue"]
    by_status = {r[0]: r[1] for r in rows[1:]}
    assert by_status["paid"] == pytest.approx(540.25)  # a number cell, not text
    named = post(
        client,
        f"dashboards/{created['id']}/widgets/{widget}/export",
        {"filename": "../etc/Q1 report"},
    )
    assert named["Content-Disposition"] == 'attachment; filename="etc_Q1 report.csv"'
    assert b"".join(named.streaming_content).startswith(b"status,revenue")


def test_a_saved_query_widget_exports_its_saved_query(
    client: APIClient, alice: User, shop: Shop
) -> None:
    saved = SavedQuery.objects.create(owner=alice, name="Listing", query=LISTING)
    created = create(
        client,
        widgets=[{"type": "table", "title": "Saved", "saved_query": saved.pk, "position": pos()}],
    )
    widget = created["widgets"][0]["id"]
    rows = _rows(
        post(
            client,
            f"dashboards/{created['id']}/widgets/{widget}/export",
            {"filter_values": [{"filter_id": "country", "value": "FR"}]},
        )
    )
    assert {r[1] for r in rows[1:]} == {"FR"}
    assert len(rows) == 1 + 2  # Bob's two orders (Eve has none)


def test_access_is_the_dashboards_read_access(
    client: APIClient, anon: APIClient, bob: User, client_for: Any, shop: Shop
) -> None:
    private = _board(client, name="private")
    public = _board(client, name="public", is_public=True)
    other = client_for(bob)
    bobs = _board(other, name="bob's")
    p_widget = _widgets(private)["Orders"]
    # Not visible: 404 exactly like a missing dashboard; a widget under another dashboard: 404.
    for who, path in [
        (other, f"dashboards/{private['id']}/widgets/{p_widget}/export"),
        (client, f"dashboards/{private['id']}/widgets/{_widgets(bobs)['Orders']}/export"),
        (client, f"dashboards/{private['id']}/widgets/999999/export"),
        (client, "dashboards/999999/widgets/1/export"),
    ]:
        response = post(who, path, {"format": "csv"})
        assert response.status_code == 404, (path, response.content)
        assert response.json() == {"detail": "Not found."}
    # Visible but not editable: exporting reads only, so it is allowed.
    widget = _widgets(public)["Orders"]
    assert len(_rows(post(other, f"dashboards/{public['id']}/widgets/{widget}/export", {}))) == 11
    anonymous = post(anon, f"dashboards/{public['id']}/widgets/{widget}/export", {})
    assert anonymous.status_code in (401, 403)
    assert not anonymous.streaming


def test_errors_before_the_first_byte_are_json(client: APIClient, shop: Shop) -> None:
    created = _board(client)
    ids = _widgets(created)
    base = f"dashboards/{created['id']}/widgets"
    text = post(client, f"{base}/{ids['Note']}/export", {})
    assert text.status_code == 404
    assert not text.streaming
    bad_format = post(client, f"{base}/{ids['Orders']}/export", {"format": "pdf"})
    assert bad_format.status_code == 400
    assert not bad_format.streaming
    bad_value = post(
        client,
        f"{base}/{ids['Orders']}/export",
        {"filter_values": [{"filter_id": "period", "value": {"start": "yesterday'"}}]},
    )
    assert bad_value.status_code == 400, bad_value.content
    assert not bad_value.streaming
    paths = [e["path"] for e in bad_value.json()["errors"]]
    assert paths
    assert all(p.startswith("/filter_values/0") for p in paths), paths
    not_a_list = post(client, f"{base}/{ids['Orders']}/export", {"filter_values": "all"})
    assert not_a_list.status_code == 400, not_a_list.content
    assert not not_a_list.streaming
    assert [e["path"] for e in not_a_list.json()["errors"]] == ["/filter_values"]
    huge = post(client, f"{base}/{ids['Orders']}/export", {"filename": "x" * 201})
    assert huge.status_code == 400
    assert not huge.streaming
    unknown = post(
        client,
        f"{base}/{ids['Orders']}/export",
        {"filter_values": [{"filter_id": "nope'; drop table x", "value": 1}]},
    )
    assert unknown.status_code == 400
    assert "drop table" not in unknown.content.decode()


@pytest.mark.usefixtures("counters")
def test_widget_exports_count_against_the_export_rate_limit(
    client: APIClient, shop: Shop, settings: Any
) -> None:
    configure(settings, EXPORT_RATE_LIMIT="2/m", RATE_LIMIT="1000/m")
    created = _board(client)
    url = f"dashboards/{created['id']}/widgets/{_widgets(created)['Orders']}/export"
    statuses = []
    for _ in range(3):
        response = post(client, url, {})
        statuses.append(response.status_code)
        if response.streaming:
            b"".join(response.streaming_content)
    assert statuses == [200, 200, 429]
    # ... and not against the query rate limit: execute still answers.
    execute = f"dashboards/{created['id']}/widgets/{_widgets(created)['Orders']}/execute"
    assert post(client, execute, []).status_code == 200


def test_a_title_with_nothing_ascii_names_the_file_export(client: APIClient, shop: Shop) -> None:
    created = create(
        client, widgets=[{"type": "table", "title": "売上 📈", "query": LISTING, "position": pos()}]
    )
    response = post(
        client, f"dashboards/{created['id']}/widgets/{created['widgets'][0]['id']}/export", {}
    )
    assert response["Content-Disposition"] == 'attachment; filename="export.csv"'
    assert len(_rows(response)) == 11
