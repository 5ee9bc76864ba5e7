"""The query builder in a real browser: build a query from the schema, preview it (table and
chart), save it as a saved query; and the 390 px layout."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Count, Sum

from example_project.shop.models import Order
from prismiq_django.models import SavedQuery
from tests.browser.conftest import new_page, ready, screenshot

pytestmark = pytest.mark.browser


def _build_revenue_by_status(page: Any) -> None:
    page.get_by_label("Table", exact=True).select_option("shop_order")
    page.get_by_label("Column 1", exact=True).select_option("t0.status")
    page.get_by_role("button", name="Add column").click()
    page.get_by_label("Column 2", exact=True).select_option("t0.total")
    page.locator("[data-key=agg-1]").select_option("sum")
    page.get_by_role("button", name="Add column").click()
    page.get_by_label("Column 3", exact=True).select_option("t0.*")
    page.get_by_role("button", name="Add filter").click()
    page.get_by_label("Filter 1 column", exact=True).select_option("t0.status")
    page.get_by_label("Operator", exact=True).select_option("neq")
    page.locator("[data-key=fval-0]").fill("cancelled")
    page.locator("[data-key=fval-0]").press("Tab")
    page.get_by_role("button", name="Add sort").click()
    page.get_by_label("Sort 1 by", exact=True).select_option("1")
    page.get_by_label("Direction", exact=True).select_option("DESC")


def test_build_preview_and_save_a_query(page: Any) -> None:
    ready(page, "/analytics/query/")
    _build_revenue_by_status(page)
    page.get_by_role("button", name="Preview").click()
    page.wait_for_selector("#preview-table table")

    expected = list(
        Order.objects.exclude(status="cancelled")
        .values("status")
        .annotate(revenue=Sum("total"), n=Count("id"))
        .order_by("-revenue")
    )
    rows = page.eval_on_selector_all(
        "#preview-table tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))"
    )
    assert [r[0] for r in rows] == [e["status"] for e in expected]
    series = page.evaluate(
        "prismiqCharts['builder-preview'].getOption().series"
        ".map(s => ({name: s.name, data: s.data}))"
    )
    assert series[0]["name"] == "sum_total"
    assert [Decimal(str(v)) for v in series[0]["data"]] == [e["revenue"] for e in expected]
    assert series[1]["data"] == [e["n"] for e in expected]
    screenshot(page, "builder.png")

    page.get_by_label("Name", exact=True).fill("Revenue by status")
    page.get_by_label("Description", exact=True).first.fill("Without cancelled orders")
    page.get_by_role("button", name="Save query").click()
    page.wait_for_selector("#save-message:not([hidden])")
    assert "Saved query" in page.inner_text("#save-message")
    saved = SavedQuery.objects.get(name="Revenue by status")
    assert saved.description == "Without cancelled orders"
    assert saved.query["tables"] == [{"id": "t0", "name": "shop_order"}]
    assert saved.query["filters"] == [
        {"table_id": "t0", "column": "status", "operator": "neq", "value": "cancelled"}
    ]
    assert saved.query["order_by"] == [{"alias": "sum_total", "direction": "DESC"}]

    # Reopened from its id, the builder shows the same definition and runs it.
    ready(page, f"/analytics/query/?saved={saved.pk}")
    page.wait_for_selector("#preview-table table")
    assert page.evaluate("prismiqBuilder.definition()") == saved.query


def test_join_time_bucket_and_api_errors_are_shown(page: Any) -> None:
    ready(page, "/analytics/query/")
    page.get_by_label("Table", exact=True).select_option("shop_order")
    page.get_by_label("Relationship to join", exact=True).select_option(index=1)
    page.get_by_role("button", name="Join a table").click()
    page.get_by_label("Column 1", exact=True).select_option("t0.ordered_at")
    page.get_by_label("Bucket", exact=True).select_option("month")
    page.get_by_role("button", name="Add column").click()
    page.get_by_label("Column 2", exact=True).select_option("t0.total")
    page.locator("[data-key=agg-1]").select_option("sum")
    page.get_by_role("button", name="Add filter").click()
    page.get_by_label("Filter 1 column", exact=True).select_option("t1.country")
    page.get_by_label("Operator", exact=True).select_option("in_")
    page.locator("[data-key=fval-0]").fill("DE, FR")
    page.locator("[data-key=fval-0]").press("Tab")
    page.get_by_role("button", name="Preview").click()
    page.wait_for_selector("#preview-table table")
    definition = page.evaluate("prismiqBuilder.definition()")
    assert definition["joins"] == [
        {
            "from_table_id": "t0",
            "from_column": "customer_id",
            "to_table_id": "t1",
            "to_column": "id",
            "join_type": "INNER",
        }
    ]
    months = Order.objects.filter(customer__country__in=["DE", "FR"]).dates("ordered_at", "month")
    assert page.locator("#preview-table tbody tr").count() == min(len(months), 25)

    # An invalid value: the API's message is shown, with its JSON pointer.
    page.evaluate(
        """prismiqBuilder.load({...prismiqBuilder.definition(), filters: [
             {table_id: "t0", column: "total", operator: "gt", value: "lots"}]})"""
    )
    page.get_by_role("button", name="Preview").click()
    page.wait_for_selector("#builder-error:not([hidden])")
    assert "/query/filters/0/value" in page.inner_text("#builder-error")


def test_builder_is_usable_at_390_px(browser: Any, live_server: Any, demo_user: Any) -> None:
    page = new_page(browser, live_server, demo_user, width=390, height=844)
    ready(page, "/analytics/query/")
    # Nothing wider than the screen: no horizontal scrolling of the page itself.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # Every form control has an accessible name.
    unlabelled = page.evaluate(
        """[...document.querySelectorAll('input, select, textarea, button')]
             .filter(el => el.offsetParent !== null)
             .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                           && !el.textContent.trim())
             .map(el => el.outerHTML)"""
    )
    assert unlabelled == []
    # Keyboard only: tab to the table select and change it with the arrow keys.
    page.focus("[data-key=table-0]")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("prismiqBuilder.definition().tables[0].name") != "shop_customer"
    page.context.close()


def test_a_built_query_becomes_a_widget_of_a_dashboard(
    page: Any, demo_dashboard: dict[str, Any]
) -> None:
    from prismiq_django.models import Widget

    before = Widget.objects.filter(dashboard_id=demo_dashboard["id"]).count()
    ready(page, "/analytics/query/")
    _build_revenue_by_status(page)
    page.get_by_label("Dashboard", exact=True).select_option(label=demo_dashboard["name"])
    page.get_by_label("Widget title", exact=True).fill("Revenue by status, not cancelled")
    page.get_by_label("Widget type", exact=True).select_option("pie_chart")
    page.get_by_role("button", name="Add to dashboard").click()
    page.wait_for_function(
        "/Added widget|rror/.test(document.querySelector('#save-message').textContent)"
    )
    assert "Added widget" in page.inner_text("#save-message"), page.inner_text("#save-message")
    added = Widget.objects.filter(dashboard_id=demo_dashboard["id"]).order_by("-pk").first()
    assert added is not None
    assert Widget.objects.filter(dashboard_id=demo_dashboard["id"]).count() == before + 1
    assert (added.title, added.type) == ("Revenue by status, not cancelled", "pie_chart")
    assert added.query["filters"] == [
        {"table_id": "t0", "column": "status", "operator": "neq", "value": "cancelled"}
    ]
    # The link opens the dashboard, where the new widget draws its chart.
    page.get_by_role("link", name="Open the dashboard").click()
    page.wait_for_function("document.body.dataset.executed === '1'")
    series = page.evaluate(f"prismiqCharts['widget-{added.pk}'].getOption().series[0].data")
    expected = Order.objects.exclude(status="cancelled").values("status").distinct().count()
    assert len(series) == expected
