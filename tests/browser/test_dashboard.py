"""A dashboard in a real browser: every widget drawn from one ``execute`` request, a filter
change that re-runs it with the right numbers, a widget's CSV download, and the editor moving
and resizing a widget that stays where it was put after a reload."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db.models import Count, Sum

from example_project.shop.models import Order
from prismiq_django.models import Widget
from tests.browser.conftest import new_page, ready, screenshot

pytestmark = pytest.mark.browser

CHARTS = {"bar_chart", "line_chart", "area_chart", "pie_chart", "scatter_chart"}


def _ids(dashboard: dict[str, Any]) -> dict[str, int]:
    return {w["title"]: w["id"] for w in dashboard["widgets"]}


def _executed(page: Any, count: int) -> None:
    page.wait_for_function(f"document.body.dataset.executed === '{count}'")


def _metric(page: Any, widget_id: int) -> Decimal:
    value = page.get_attribute(f"[data-widget-id='{widget_id}'] .metric-value", "data-value")
    assert value not in (None, ""), f"metric {widget_id} has no value"
    return Decimal(value)


def _series(page: Any, widget_id: int) -> list[dict[str, Any]]:
    series: list[dict[str, Any]] = page.evaluate(
        f"""(() => {{ const chart = prismiqCharts['widget-{widget_id}'];
             return chart ? chart.getOption().series.map(s => ({{name: s.name, data: s.data}}))
                          : null; }})()"""
    )
    return series


def test_every_widget_draws_and_a_filter_change_reruns_it(
    page: Any, demo_dashboard: dict[str, Any]
) -> None:
    ids = _ids(demo_dashboard)
    ready(page, f"/analytics/dashboards/{demo_dashboard['id']}/")
    _executed(page, 1)
    assert page.evaluate("prismiqDashboard.executeCount") == 1  # one request for every widget

    # Every chart has an ECharts instance with data; metrics and the table are filled.
    for widget in demo_dashboard["widgets"]:
        if widget["type"] in CHARTS:
            series = _series(page, widget["id"])
            assert series, f"{widget['title']}: no chart"
            assert all(len(s["data"]) > 0 for s in series), widget["title"]
    assert page.locator(f"[data-widget-id='{ids['Top customers']}'] tbody tr").count() == 6
    assert "load_demo_data" in page.inner_text(f"[data-widget-id='{ids['About this dashboard']}']")
    totals = Order.objects.aggregate(n=Count("id"), revenue=Sum("total"))
    assert _metric(page, ids["Orders"]) == totals["n"]
    assert _metric(page, ids["Revenue"]) == totals["revenue"]
    by_status = {
        r["status"]: r["n"] for r in Order.objects.values("status").annotate(n=Count("id"))
    }
    pie = _series(page, ids["Orders by status"])[0]["data"]
    assert {p["name"]: p["value"] for p in pie} == by_status
    top = list(
        Order.objects.values("customer__country")
        .annotate(revenue=Sum("total"))
        .order_by("-revenue")[:10]
    )
    bars = _series(page, ids["Revenue by country (top 10)"])[0]["data"]
    assert [Decimal(str(v)) for v in bars] == [r["revenue"] for r in top]
    screenshot(page, "dashboard.png")

    # A filter change: one more request, and the numbers of paid orders only.
    page.get_by_label("Status", exact=True).select_option(label="Paid")
    _executed(page, 2)
    assert page.evaluate("prismiqDashboard.executeCount") == 2
    paid = Order.objects.filter(status="paid").aggregate(n=Count("id"), revenue=Sum("total"))
    assert _metric(page, ids["Orders"]) == paid["n"]
    assert _metric(page, ids["Revenue"]) == paid["revenue"]
    pie = _series(page, ids["Orders by status"])[0]["data"]
    assert [(p["name"], p["value"]) for p in pie] == [("paid", by_status["paid"])]


def test_a_widget_downloads_as_csv_with_the_filters_in_force(
    page: Any, demo_dashboard: dict[str, Any], tmp_path: Path
) -> None:
    ready(page, f"/analytics/dashboards/{demo_dashboard['id']}/")
    _executed(page, 1)
    page.get_by_label("Status", exact=True).select_option(label="Shipped")
    _executed(page, 2)
    with page.expect_download() as info:
        page.get_by_role("button", name="Download Orders by status as CSV").click()
    download = info.value
    assert download.suggested_filename == "Orders by status.csv"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    rows = list(csv.reader(io.StringIO(target.read_text("utf-8"), newline="")))
    shipped = Order.objects.filter(status="shipped").count()
    assert rows == [["status", "orders"], ["shipped", str(shipped)]]


def test_the_editor_moves_and_resizes_a_widget_that_stays_after_a_reload(
    page: Any, demo_dashboard: dict[str, Any]
) -> None:
    ids = _ids(demo_dashboard)
    ready(page, f"/analytics/dashboards/{demo_dashboard['id']}/edit/")
    page.get_by_role("button", name="Edit Top customers", exact=True).click()
    dialog = page.locator("#widget-dialog")
    assert dialog.is_visible()
    dialog.get_by_label("Title", exact=True).fill("Best customers")
    dialog.get_by_label("Width", exact=True).fill("4")
    dialog.get_by_label("X", exact=True).fill("8")
    dialog.get_by_label("Height", exact=True).fill("7")
    dialog.get_by_role("button", name="Apply").click()
    assert not dialog.is_visible()
    screenshot(page, "editor.png")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_function(
        "/^Saved|rror/.test(document.querySelector('#editor-message').textContent)"
    )
    assert page.inner_text("#editor-message").startswith("Saved"), page.inner_text(
        "#editor-message"
    )

    stored = Widget.objects.get(pk=ids["Top customers"])
    assert stored.title == "Best customers"
    assert (stored.position["x"], stored.position["w"], stored.position["h"]) == (8, 4, 7)
    # Other widgets kept their ids (PATCH replaces the list, ids carried).
    kept = Widget.objects.filter(dashboard_id=demo_dashboard["id"]).values_list("pk", flat=True)
    assert set(kept) == {int(i) for i in ids.values()}

    # After a reload the editor and the dashboard show the new place.
    ready(page, f"/analytics/dashboards/{demo_dashboard['id']}/edit/")
    page.get_by_role("button", name="Edit Best customers", exact=True).click()
    assert page.locator("#wf-x").input_value() == "8"
    assert page.locator("#wf-w").input_value() == "4"
    page.locator("#widget-dialog").get_by_role("button", name="Cancel").click()
    ready(page, f"/analytics/dashboards/{demo_dashboard['id']}/")
    _executed(page, 1)
    placed = page.eval_on_selector(
        f"[data-widget-id='{ids['Top customers']}']",
        "el => [el.style.gridColumn, el.style.gridRow]",
    )
    assert placed[0] == "9 / span 4", placed
    assert placed[1].endswith("span 7"), placed


def test_the_dashboard_at_390_px_is_labelled_and_fits(
    browser: Any, live_server: Any, demo_user: Any, demo_dashboard: dict[str, Any]
) -> None:
    page = new_page(browser, live_server, demo_user, width=390, height=844)
    ready(page, f"/analytics/dashboards/{demo_dashboard['id']}/")
    _executed(page, 1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    unlabelled = page.evaluate(
        """[...document.querySelectorAll('input, select, textarea, button')]
             .filter(el => el.offsetParent !== null)
             .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                           && !el.textContent.trim())
             .map(el => el.outerHTML)"""
    )
    assert unlabelled == []
    # Keyboard: focus the status filter and pick a value with the arrow keys; the page re-runs.
    page.get_by_label("Status", exact=True).focus()
    page.keyboard.press("ArrowDown")
    _executed(page, 2)
    errors = list(page.prismiq_errors)
    page.context.close()
    assert not errors, errors


def test_a_date_range_filter_is_labelled_once_by_its_own_label(
    browser: Any, live_server: Any, demo_user: Any, demo_dashboard: dict[str, Any]
) -> None:
    """The preset list of a ``date_range`` filter carries the filter's label ("Order date"),
    as a select filter's list does; no second, fixed "Period" label under a visible legend."""
    page = new_page(browser, live_server, demo_user)
    ready(page, f"/analytics/dashboards/{demo_dashboard['id']}/")
    _executed(page, 1)
    presets = page.get_by_label("Order date", exact=True)
    assert presets.evaluate("el => el.tagName") == "SELECT"
    assert page.get_by_label("Period", exact=True).count() == 0
    legend = page.locator("fieldset[data-type=date_range] legend")
    assert legend.get_attribute("class") == "visually-hidden"
    presets.select_option("custom")
    assert page.get_by_label("From", exact=True).is_visible()
    errors = list(page.prismiq_errors)
    page.context.close()
    assert not errors, errors
