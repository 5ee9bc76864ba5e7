"""The demo's dashboards over the shop data (``load_demo_data`` creates them for the demo user).

Two dashboards, written through the same service as ``POST dashboards`` (every widget query is
validated against the exposed catalog): "Sales overview" (revenue by month, orders by status,
top customers, total revenue; a date range and a country filter) and "Products" (units and
revenue by category, best sellers; a category filter).
"""

from __future__ import annotations

from typing import Any

ORDER_AND_CUSTOMER: dict[str, Any] = {
    "tables": [{"id": "o", "name": "shop_order"}, {"id": "c", "name": "shop_customer"}],
    "joins": [
        {"from_table_id": "o", "from_column": "customer_id", "to_table_id": "c", "to_column": "id"}
    ],
}
ITEM_AND_PRODUCT: dict[str, Any] = {
    "tables": [
        {"id": "i", "name": "shop_orderitem"},
        {"id": "p", "name": "shop_product"},
        {"id": "o", "name": "shop_order"},
    ],
    "joins": [
        {"from_table_id": "i", "from_column": "product_id", "to_table_id": "p", "to_column": "id"},
        {"from_table_id": "i", "from_column": "order_id", "to_table_id": "o", "to_column": "id"},
    ],
}
REVENUE = {"table_id": "o", "column": "total", "aggregation": "sum", "alias": "revenue"}


def _countries() -> list[str]:
    from example_project.shop.management.commands.load_demo_data import CITIES

    return sorted({country for _, country, _ in CITIES})


COUNTRIES = _countries()


def _at(x: int, y: int, w: int, h: int) -> dict[str, int]:
    return {"x": x, "y": y, "w": w, "h": h}


SALES_OVERVIEW: dict[str, Any] = {
    "name": "Sales overview",
    "description": "Revenue and orders of the shop; filter by period and customer country.",
    "is_public": True,
    "filters": [
        {
            "id": "period",
            "type": "date_range",
            "label": "Period",
            "field": "ordered_at",
            "table": "shop_order",
        },
        {
            "id": "country",
            "type": "select",
            "label": "Country",
            "field": "country",
            "table": "shop_customer",
            "options": [{"value": c, "label": c} for c in COUNTRIES],
        },
    ],
    "widgets": [
        {
            "type": "metric",
            "title": "Total revenue",
            "query": {**ORDER_AND_CUSTOMER, "columns": [REVENUE]},
            "position": _at(0, 0, 3, 2),
            "config": {"value_format": "currency"},
        },
        {
            "type": "line_chart",
            "title": "Revenue by month",
            "query": {
                **ORDER_AND_CUSTOMER,
                "columns": [REVENUE],
                "time_series": {
                    "table_id": "o",
                    "date_column": "ordered_at",
                    "interval": "month",
                    "alias": "month",
                },
            },
            "position": _at(3, 0, 9, 4),
            "config": {"x_axis": "month", "y_axis": ["revenue"], "show_legend": False},
        },
        {
            "type": "bar_chart",
            "title": "Orders by status",
            "query": {
                **ORDER_AND_CUSTOMER,
                "columns": [
                    {"table_id": "o", "column": "status"},
                    {"table_id": "o", "column": "*", "aggregation": "count", "alias": "orders"},
                ],
                "order_by": [{"alias": "orders", "direction": "DESC"}],
            },
            "position": _at(0, 4, 6, 4),
            "config": {"x_axis": "status", "y_axis": ["orders"]},
        },
        {
            "type": "table",
            "title": "Top customers",
            "query": {
                **ORDER_AND_CUSTOMER,
                "columns": [
                    {"table_id": "c", "column": "name"},
                    {"table_id": "c", "column": "country"},
                    REVENUE,
                ],
                "group_by": [
                    {"table_id": "c", "column": "id"},
                    {"table_id": "c", "column": "name"},
                    {"table_id": "c", "column": "country"},
                ],
                "order_by": [{"alias": "revenue", "direction": "DESC"}],
                "limit": 10,
            },
            "position": _at(6, 4, 6, 4),
            "config": {"page_size": 10},
        },
    ],
}

PRODUCTS: dict[str, Any] = {
    "name": "Products",
    "description": "What sells: units and order lines by product category.",
    "is_public": True,
    "filters": [
        {
            "id": "category",
            "type": "multi_select",
            "label": "Category",
            "field": "category",
            "table": "shop_product",
        },
        {
            "id": "period",
            "type": "date_range",
            "label": "Period",
            "field": "ordered_at",
            "table": "shop_order",
            "date_preset": "last_30_days",
        },
    ],
    "widgets": [
        {
            "type": "pie_chart",
            "title": "Units by category",
            "query": {
                **ITEM_AND_PRODUCT,
                "columns": [
                    {"table_id": "p", "column": "category"},
                    {"table_id": "i", "column": "quantity", "aggregation": "sum", "alias": "units"},
                ],
                "order_by": [{"alias": "units", "direction": "DESC"}],
            },
            "position": _at(0, 0, 4, 4),
            "config": {"x_axis": "category", "y_axis": ["units"], "show_legend": True},
        },
        {
            "type": "bar_chart",
            "title": "Order lines by category",
            "query": {
                **ITEM_AND_PRODUCT,
                "columns": [
                    {"table_id": "p", "column": "category"},
                    {"table_id": "i", "column": "*", "aggregation": "count", "alias": "lines"},
                ],
                "order_by": [{"table_id": "p", "column": "category", "direction": "ASC"}],
            },
            "position": _at(4, 0, 8, 4),
            "config": {"x_axis": "category", "y_axis": ["lines"]},
        },
        {
            "type": "table",
            "title": "Best sellers",
            "query": {
                **ITEM_AND_PRODUCT,
                "columns": [
                    {"table_id": "p", "column": "name"},
                    {"table_id": "p", "column": "category"},
                    {"table_id": "i", "column": "quantity", "aggregation": "sum", "alias": "units"},
                ],
                "group_by": [
                    {"table_id": "p", "column": "id"},
                    {"table_id": "p", "column": "name"},
                    {"table_id": "p", "column": "category"},
                ],
                "order_by": [{"alias": "units", "direction": "DESC"}],
                "limit": 20,
            },
            "position": _at(0, 4, 8, 5),
            "config": {"page_size": 20},
        },
        {
            "type": "text",
            "title": "About",
            "position": _at(8, 4, 4, 5),
            "config": {
                "content": "Units are order-item quantities; the period filter defaults "
                "to the last 30 days."
            },
        },
    ],
}

DEMO_DASHBOARDS = (SALES_OVERVIEW, PRODUCTS)


def create_demo_dashboards(user: Any) -> list[str]:
    """Create the demo dashboards owned by ``user`` (a saved user) unless it already has
    dashboards of those names; return the names created."""
    from types import SimpleNamespace

    from prismiq_django.models import Dashboard, DashboardViewer
    from prismiq_django.services import dashboards

    request = SimpleNamespace(user=user)
    viewer = DashboardViewer(user_pk=user.pk)  # no tenant: tenant-less dashboards
    created = []
    for document in DEMO_DASHBOARDS:
        if Dashboard.objects.filter(owner=user, name=document["name"]).exists():
            continue
        dashboards.create(request, viewer, document)
        created.append(str(document["name"]))
    return created
