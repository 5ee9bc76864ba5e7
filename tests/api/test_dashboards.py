"""Dashboards through the HTTP API (SPEC section 9), on SQLite and PostgreSQL: created with
widgets and filters inline, filtered, executed in one request, exported and imported.

The execute tests are transactional: on PostgreSQL the widgets run in worker threads on their
own connections, which only see committed rows.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from prismiq_django.models import Dashboard, Widget
from tests.api.conftest import Shop, api

REVENUE_BY_STATUS: dict[str, Any] = {
    "tables": [{"id": "o", "name": "shop_order"}],
    "columns": [
        {"table_id": "o", "column": "status"},
        {"table_id": "o", "column": "total", "aggregation": "sum", "alias": "revenue"},
    ],
    "order_by": [{"table_id": "o", "column": "status", "direction": "ASC"}],
}
REVENUE_BY_COUNTRY: dict[str, Any] = {
    "tables": [{"id": "o", "name": "shop_order"}, {"id": "c", "name": "shop_customer"}],
    "joins": [
        {"from_table_id": "o", "from_column": "customer_id", "to_table_id": "c", "to_column": "id"}
    ],
    "columns": [
        {"table_id": "c", "column": "country"},
        {"table_id": "o", "column": "total", "aggregation": "sum", "alias": "revenue"},
    ],
    "order_by": [{"table_id": "c", "column": "country", "direction": "ASC"}],
}
ORDER_COUNT: dict[str, Any] = {
    "tables": [{"id": "o", "name": "shop_order"}],
    "columns": [{"table_id": "o", "column": "*", "aggregation": "count", "alias": "orders"}],
}
FILTERS = [
    {"id": "period", "type": "date_range", "label": "Period", "field": "ordered_at"},
    {"id": "country", "type": "select", "label": "Country", "field": "country"},
    {"id": "status", "type": "multi_select", "label": "Status", "field": "status"},
]


def pos(x: int = 0, y: int = 0, w: int = 6, h: int = 4) -> dict[str, int]:
    return {"x": x, "y": y, "w": w, "h": h}


def body(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Sales",
        "description": "Revenue",
        "filters": FILTERS,
        "widgets": [
            {
                "type": "bar_chart",
                "title": "By status",
                "query": REVENUE_BY_STATUS,
                "position": pos(),
            },
            {
                "type": "table",
                "title": "By country",
                "query": REVENUE_BY_COUNTRY,
                "position": pos(6),
            },
            {
                "type": "metric",
                "title": "Orders",
                "query": ORDER_COUNT,
                "position": pos(0, 4, 3, 2),
            },
            {
                "type": "text",
                "title": "Note",
                "position": pos(3, 4, 9, 2),
                "config": {"content": "Hi"},
            },
        ],
    }
    data.update(overrides)
    return data


def post(client: APIClient, path: str, data: object) -> Any:
    return client.post(api(path), json.dumps(data), content_type="application/json")


def patch(client: APIClient, path: str, data: object) -> Any:
    return client.patch(api(path), json.dumps(data), content_type="application/json")


def put(client: APIClient, path: str, data: object) -> Any:
    return client.put(api(path), json.dumps(data), content_type="application/json")


def create(client: APIClient, **overrides: Any) -> dict[str, Any]:
    response = post(client, "dashboards", body(**overrides))
    assert response.status_code == 201, response.content
    created: dict[str, Any] = response.json()
    return created


@pytest.fixture
def tclient(alice: User, exposed: dict[str, Any], client_for: Any) -> APIClient:
    """Alice's client with the shop exposed, for transactional tests (no canary table: it is
    dropped by the rollback of ordinary tests only)."""
    made: APIClient = client_for(alice)
    return made


def rows_of(entry: dict[str, Any]) -> list[list[Any]]:
    assert "error" not in entry, entry
    rows: list[list[Any]] = entry["rows"]
    return rows


@pytest.mark.django_db(transaction=True)
def test_created_filtered_executed_in_one_request_exported_and_imported(
    tclient: APIClient, shop: Shop, django_assert_max_num_queries: Any
) -> None:
    client = tclient
    created = create(client)
    assert set(created) == {
        "id", "name", "description", "layout", "widgets", "filters", "owner", "is_public",
        "created_at", "updated_at",
    }  # fmt: skip
    assert created["layout"] == {"columns": 12, "row_height": 50, "margin": [10, 10]}
    assert created["is_public"] is False
    assert isinstance(created["id"], str)
    assert [w["type"] for w in created["widgets"]] == ["bar_chart", "table", "metric", "text"]
    assert created["widgets"][0]["position"] == pos()
    assert created["filters"] == FILTERS
    bar, table, metric, _text = (w["id"] for w in created["widgets"])

    # All widgets in one request, no filter value: everything.
    response = post(client, f"dashboards/{created['id']}/execute", {})
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert set(results) == {bar, table, metric}  # a text widget has no query
    assert rows_of(results[metric]) == [[10]]
    assert [r[0] for r in rows_of(results[table])] == ["DE", "FR", "US"]

    # Filtered: January 2024 (the end day whole), customers in DE, paid or shipped.
    values = [
        {"filter_id": "period", "value": {"start": "2024-01-01", "end": "2024-01-20"}},
        {"filter_id": "country", "value": "DE"},
        {"filter_id": "status", "value": ["paid", "shipped"]},
    ]
    results = post(client, f"dashboards/{created['id']}/execute", {"filter_values": values}).json()[
        "results"
    ]
    # o1 (ann, paid, Jan 5, 120.00) and o2 (ann, shipped, Jan 20 12:00, 35.50); o3 is FR.
    # The order table has no country column: the filter applies where the field exists.
    assert rows_of(results[table]) == [["DE", 155.5]]
    assert rows_of(results[bar]) == [["paid", 270.0], ["shipped", 35.5]]  # no country there
    assert rows_of(results[metric]) == [[3]]  # o1, o2, o3 in the period with those statuses

    # One widget.
    one = post(client, f"dashboards/{created['id']}/widgets/{metric}/execute", values[:1])
    assert one.status_code == 200
    assert one.json()["rows"] == [[3]]

    # Export: no ids, no owner; filter ids kept.
    exported = client.get(api(f"dashboards/{created['id']}/export")).json()
    assert set(exported) == {"version", "name", "description", "layout", "filters", "widgets"}
    assert exported["version"] == "1"
    assert exported["filters"] == FILTERS
    assert all("id" not in w for w in exported["widgets"])
    assert "owner" not in json.dumps(exported)

    imported = post(client, "dashboards/import", {"export_data": exported, "name_override": "Copy"})
    assert imported.status_code == 201, imported.content
    copy = imported.json()
    assert copy["name"] == "Copy"
    assert copy["id"] != created["id"]
    assert [w["query"] for w in copy["widgets"]] == [w["query"] for w in created["widgets"]]
    again = post(client, f"dashboards/{copy['id']}/execute", {"filter_values": values}).json()
    copied_metric = copy["widgets"][2]["id"]
    assert rows_of(again["results"][copied_metric]) == [[3]]

    # Listing costs a constant number of queries, whatever the number of dashboards.
    with django_assert_max_num_queries(4):
        listed = client.get(api("dashboards"))
    assert [d["name"] for d in listed.json()] == ["Copy", "Sales"]


@pytest.mark.django_db(transaction=True)
def test_identical_statements_run_once_and_one_failure_stays_in_its_entry(
    tclient: APIClient, shop: Shop
) -> None:
    client = tclient
    from prismiq_django.ops import observability

    bad = {**ORDER_COUNT, "columns": [{"table_id": "o", "column": "nope"}]}
    created = create(
        client,
        filters=[],
        widgets=[
            {"type": "metric", "query": ORDER_COUNT, "position": pos()},
            {"type": "metric", "query": ORDER_COUNT, "position": pos(6)},
            {"type": "table", "query": REVENUE_BY_STATUS, "position": pos(0, 4)},
        ],
    )
    first, second, third = (w["id"] for w in created["widgets"])
    # Break the third widget behind the API's back (exposure changed since it was saved).
    Widget.objects.filter(pk=third).update(query=bad)
    seen: list[str] = []
    original = observability.record_query

    def counting(**kwargs: Any) -> None:
        seen.append(kwargs["status"])
        original(**kwargs)

    import prismiq_django.services.queries as queries

    queries.record_query, saved = counting, queries.record_query
    try:
        results = post(client, f"dashboards/{created['id']}/execute", {}).json()["results"]
    finally:
        queries.record_query = saved
    assert rows_of(results[first]) == rows_of(results[second]) == [[10]]
    assert seen == ["invalid", "ok"]  # the two identical statements ran once
    error = results[third]["error"]
    assert error["status"] == 400
    assert error["detail"] == "Query validation failed"
    assert error["errors"][0]["path"] == "/query/columns/0/column"


@pytest.mark.django_db(transaction=True)
def test_a_bad_filter_value_is_a_400_at_its_path(tclient: APIClient, shop: Shop) -> None:
    client = tclient
    created = create(client)
    cases = [
        ([{"filter_id": "period", "value": {"start": "yesterday-ish"}}], "/filter_values/0/value"),
        (
            [{"filter_id": "country", "value": "DE"}, {"filter_id": "status", "value": "paid"}],
            "/filter_values/1/value",
        ),
        ([{"filter_id": "nope", "value": 1}], "/filter_values/0/filter_id"),
    ]
    for values, path in cases:
        response = post(client, f"dashboards/{created['id']}/execute", {"filter_values": values})
        assert response.status_code == 400, response.content
        assert [e["path"] for e in response.json()["errors"]] == [path]
    bad_ids = post(client, f"dashboards/{created['id']}/execute", {"widget_ids": ["999999"]})
    assert bad_ids.status_code == 400
    assert bad_ids.json()["errors"][0]["path"] == "/widget_ids/0"


def test_every_widget_query_is_validated_on_save_with_paths_into_the_request(
    client: APIClient,
) -> None:
    bad = {**ORDER_COUNT, "columns": [{"table_id": "o", "column": "passwd"}]}
    response = post(
        client,
        "dashboards",
        body(
            widgets=[
                {"type": "metric", "query": ORDER_COUNT, "position": pos()},
                {"type": "pie_chart", "query": ORDER_COUNT, "position": pos(8, 0, 6)},
                {"type": "table", "query": bad, "position": pos()},
                {"type": "donut", "query": ORDER_COUNT, "position": pos()},
                {"type": "text", "position": pos(), "config": {"content": "x" * 17_000}},
            ],
            filters=[{"id": "s", "type": "select", "field": "customer_id", "default_value": "x"}],
        ),
    )
    assert response.status_code == 400
    paths = [e["path"] for e in response.json()["errors"]]
    assert paths == [
        "/widgets/1/position/w",
        "/widgets/2/query/columns/0/column",
        "/widgets/3/type",
        "/widgets/4/config",
        "/filters/0/default_value",
    ]
    assert Dashboard.objects.count() == 0


def test_patch_replaces_widgets_keeping_ids_and_layout_in_one_transaction(
    client: APIClient,
) -> None:
    created = create(client)
    dashboard = created["id"]
    kept, dropped = created["widgets"][0], created["widgets"][1]
    response = patch(
        client,
        f"dashboards/{dashboard}",
        {
            "name": "Renamed",
            "widgets": [
                {**kept, "title": "Kept"},
                {"type": "metric", "query": ORDER_COUNT, "position": pos(0, 8, 2, 2)},
            ],
        },
    )
    assert response.status_code == 200, response.content
    after = response.json()
    assert after["name"] == "Renamed"
    assert after["widgets"][0]["id"] == kept["id"]
    assert after["widgets"][0]["title"] == "Kept"
    assert dropped["id"] not in {w["id"] for w in after["widgets"]}
    assert len(after["widgets"]) == 2
    # A bad item refuses the whole replacement: nothing changes.
    refused = patch(
        client,
        f"dashboards/{dashboard}",
        {"widgets": [{**kept, "title": "No"}, {"id": "999999", **kept}]},
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["path"] == "/widgets/1/id"
    assert client.get(api(f"dashboards/{dashboard}")).json()["widgets"] == after["widgets"]

    new_id = after["widgets"][1]["id"]
    moved = put(
        client,
        f"dashboards/{dashboard}/layout",
        [
            {"id": kept["id"], "x": 6, "y": 0, "w": 6, "h": 3},
            {"id": new_id, "x": 0, "y": 0, "w": 6, "h": 3},
        ],
    )
    assert moved.status_code == 200, moved.content
    assert [w["position"] for w in moved.json()["widgets"]] == [pos(6, 0, 6, 3), pos(0, 0, 6, 3)]
    out_of_grid = put(
        client,
        f"dashboards/{dashboard}/layout",
        [
            {"id": kept["id"], "x": 0, "y": 0, "w": 1, "h": 1},
            {"id": new_id, "x": 10, "y": 0, "w": 6, "h": 3},
        ],
    )
    assert out_of_grid.status_code == 400
    assert out_of_grid.json()["errors"][0]["path"] == "/1/w"
    assert Widget.objects.get(pk=kept["id"]).position == pos(6, 0, 6, 3)  # nothing moved


def test_widget_endpoints(client: APIClient) -> None:
    created = create(client)
    dashboard = created["id"]
    added = post(
        client,
        f"dashboards/{dashboard}/widgets",
        {"type": "line_chart", "title": "Line", "query": REVENUE_BY_STATUS, "position": pos()},
    )
    assert added.status_code == 201, added.content
    widget = added.json()
    changed = patch(client, f"dashboards/{dashboard}/widgets/{widget['id']}", {"title": "Renamed"})
    assert changed.status_code == 200
    assert changed.json()["title"] == "Renamed"
    assert changed.json()["query"] == REVENUE_BY_STATUS
    too_wide = patch(
        client, f"dashboards/{dashboard}/widgets/{widget['id']}", {"position": pos(8, 0, 6)}
    )
    assert too_wide.status_code == 400
    assert too_wide.json()["errors"][0]["path"] == "/position/w"
    copy = post(client, f"dashboards/{dashboard}/widgets/{widget['id']}/duplicate", None)
    assert copy.status_code == 201
    assert copy.json()["id"] != widget["id"]
    assert copy.json()["title"] == "Renamed"
    assert copy.json()["position"]["y"] >= 6  # below every other widget
    deleted = client.delete(api(f"dashboards/{dashboard}/widgets/{widget['id']}"))
    assert deleted.status_code == 204
    again = client.delete(api(f"dashboards/{dashboard}/widgets/{widget['id']}"))
    assert again.status_code == 404
    assert client.delete(api(f"dashboards/{dashboard}")).status_code == 204
    assert client.get(api(f"dashboards/{dashboard}")).status_code == 404


def test_access_rules_with_two_real_users(
    client: APIClient, bob: User, client_for: Any, shop: Shop
) -> None:
    alice_private = create(client, name="private")
    alice_public = create(client, name="public", is_public=True)
    other = client_for(bob)
    bobs = create(other, name="bob's")
    bob_widget = bobs["widgets"][0]["id"]

    # Not visible: 404 for every method, exactly like a missing dashboard.
    private = alice_private["id"]
    for response in (
        other.get(api(f"dashboards/{private}")),
        patch(other, f"dashboards/{private}", {"name": "x"}),
        other.delete(api(f"dashboards/{private}")),
        post(other, f"dashboards/{private}/execute", {}),
        other.get(api(f"dashboards/{private}/export")),
        post(other, f"dashboards/{private}/widgets", {"type": "text", "position": pos()}),
        other.get(api("dashboards/999999")),
    ):
        assert response.status_code == 404, response.content
        assert response.json() == {"detail": "Not found."}

    # Visible (public) but not editable: reads and runs, 403 for every write.
    public = alice_public["id"]
    widget = alice_public["widgets"][0]["id"]
    assert other.get(api(f"dashboards/{public}")).status_code == 200
    assert post(other, f"dashboards/{public}/execute", {}).status_code == 200
    assert other.get(api(f"dashboards/{public}/export")).status_code == 200
    for response in (
        patch(other, f"dashboards/{public}", {"name": "x"}),
        other.delete(api(f"dashboards/{public}")),
        put(other, f"dashboards/{public}/layout", []),
        post(other, f"dashboards/{public}/widgets", {"type": "text", "position": pos()}),
        patch(other, f"dashboards/{public}/widgets/{widget}", {"title": "x"}),
        other.delete(api(f"dashboards/{public}/widgets/{widget}")),
        post(other, f"dashboards/{public}/widgets/{widget}/duplicate", None),
    ):
        assert response.status_code == 403, response.content
    assert Dashboard.objects.get(pk=public).name == "public"

    # A widget of another dashboard under this one's URL: 404 (no IDOR), also for the owner.
    for response in (
        patch(client, f"dashboards/{public}/widgets/{bob_widget}", {"title": "x"}),
        client.delete(api(f"dashboards/{private}/widgets/{bob_widget}")),
        post(client, f"dashboards/{private}/widgets/{bob_widget}/duplicate", None),
        post(client, f"dashboards/{private}/widgets/{bob_widget}/execute", []),
        patch(other, f"dashboards/{bobs['id']}/widgets/{widget}", {"title": "x"}),
    ):
        assert response.status_code == 404, response.content
    assert Widget.objects.get(pk=bob_widget).title == "By status"
    # A layout naming another dashboard's widget is refused, and moves nothing.
    layout = put(client, f"dashboards/{private}/layout", [{"id": bob_widget, **pos()}])
    assert layout.status_code == 400

    names = sorted(d["name"] for d in other.get(api("dashboards")).json())
    assert names == ["bob's", "public"]

    # A staff user (DASHBOARD_ADMIN_PERMISSION_CLASSES) edits anyone's dashboard.
    bob.is_staff = True
    bob.save()
    assert patch(other, f"dashboards/{private}", {"name": "by staff"}).status_code == 200


def test_anonymous_callers_get_nothing(anon: APIClient, client: APIClient) -> None:
    created = create(client, is_public=True)
    for response in (
        anon.get(api("dashboards")),
        anon.get(api(f"dashboards/{created['id']}")),
        post(anon, f"dashboards/{created['id']}/execute", {}),
        post(anon, "dashboards", body()),
    ):
        assert response.status_code in (401, 403)


def test_tenants_never_see_each_others_dashboards(
    client: APIClient, alice: User, bob: User, client_for: Any, settings: Any
) -> None:
    from tests.api.conftest import configure

    configure(settings, TENANT_CALLBACK="tests.api.test_dashboards.tenant_of")
    set_tenant(alice, "acme")
    set_tenant(bob, "globex")
    mine = create(client, name="acme", is_public=True)
    other = client_for(bob)
    theirs = create(other, name="globex", is_public=True)
    assert Dashboard.objects.get(pk=mine["id"]).tenant == "acme"
    assert [d["name"] for d in other.get(api("dashboards")).json()] == ["globex"]
    assert other.get(api(f"dashboards/{mine['id']}")).status_code == 404
    assert post(other, f"dashboards/{mine['id']}/execute", {}).status_code == 404
    bob.is_staff = True
    bob.save()
    # Staff of another tenant: still a 404.
    assert patch(other, f"dashboards/{mine['id']}", {"name": "x"}).status_code == 404
    # The same user without a tenant sees only tenant-less dashboards (none).
    set_tenant(bob, "")
    assert other.get(api("dashboards")).json() == []
    assert other.get(api(f"dashboards/{theirs['id']}")).status_code == 404
    # Several tenants: reads any of them, cannot create (which tenant would it be?).
    set_tenant(bob, "acme,globex")
    assert sorted(d["name"] for d in other.get(api("dashboards")).json()) == ["acme", "globex"]
    assert post(other, "dashboards", body()).status_code == 403


def tenant_of(request: Any) -> Any:
    """The tests' TENANT_CALLBACK: the user's ``last_name`` ("" = none, "a,b" = several)."""
    user = User.objects.get(pk=request.user.pk)
    if not user.last_name:
        return None
    return user.last_name.split(",") if "," in user.last_name else user.last_name


def set_tenant(user: User, tenant: str) -> None:
    user.last_name = tenant
    user.save()


def test_hostile_inputs_are_refused_never_a_server_error(client: APIClient) -> None:
    created = create(client)
    dashboard = created["id"]
    widget = created["widgets"][0]["id"]
    injection = "x'); DROP TABLE shop_order; --"
    for path, data, expected in [
        ("dashboards", body(name="nul\x00name"), 400),
        (
            "dashboards",
            body(widgets=[{"type": "text", "position": pos(), "config": {"k\x00": 1}}]),
            400,
        ),
        ("dashboards", body(name=""), 400),
        ("dashboards", body(name=None), 400),
        ("dashboards", body(name="x" * 201), 400),
        ("dashboards", body(layout={"columns": 10**30}), 400),
        ("dashboards", body(widgets="nope"), 400),
        ("dashboards", body(widgets=[None]), 400),
        ("dashboards", body(filters=[{"id": injection, "type": "select", "field": "status"}]), 400),
        ("dashboards", body(is_public="yes"), 400),
        ("dashboards", [1, 2], 400),
        ("dashboards/import", {"export_data": "nope"}, 400),
        ("dashboards/import", {"export_data": {"version": "2", "name": "x"}}, 400),
        (f"dashboards/{dashboard}/execute", {"filter_values": "all"}, 400),
        (f"dashboards/{dashboard}/execute", {"bypass_cache": "yes"}, 400),
        (f"dashboards/{dashboard}/execute", {"widget_ids": [injection, 10**30]}, 400),
        (
            f"dashboards/{dashboard}/execute",
            {"filter_values": [{"filter_id": "country", "value": injection}]},
            200,
        ),
    ]:
        response = post(client, path, data)
        assert response.status_code == expected, (path, data, response.content)
    # The injection reached the database as a bound value: no row, no harm.
    results = post(
        client,
        f"dashboards/{dashboard}/execute",
        {"filter_values": [{"filter_id": "country", "value": injection}]},
    ).json()["results"]
    assert rows_of(results[created["widgets"][1]["id"]]) == []
    assert post(client, f"dashboards/{dashboard}/execute", {}).status_code == 200
    for url in (
        f"dashboards/{'9' * 30}",
        f"dashboards/{dashboard}/widgets/{'9' * 30}",
        "dashboards/\u0661",
        f"dashboards/{dashboard}/widgets/-1",
    ):
        assert client.get(api(url)).status_code in (404, 405)
        assert patch(client, url, {"title": "x"}).status_code == 404
    big = patch(
        client,
        f"dashboards/{dashboard}",
        {"widgets": [{"id": "9" * 30, "type": "text", "position": pos()}]},
    )
    assert big.status_code == 400
    assert (
        patch(
            client, f"dashboards/{dashboard}/widgets/{widget}", {"query": {"tables": injection}}
        ).status_code
        == 400
    )
    assert put(client, f"dashboards/{dashboard}/layout", {"id": widget}).status_code == 400
    assert (
        put(
            client,
            f"dashboards/{dashboard}/layout",
            [{"id": widget, "x": "0", "y": 0, "w": 1, "h": 1}],
        ).status_code
        == 400
    )
