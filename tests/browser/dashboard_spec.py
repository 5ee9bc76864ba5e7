"""The dashboard the browser tests draw: every widget type and filter kind over the demo shop
tables, in the wire format of ``POST dashboards`` (SPEC section 9)."""

from __future__ import annotations

from typing import Any

ORDERS = {"id": "o", "name": "shop_order"}
CUSTOMERS = {"id": "c", "name": "shop_customer"}
ORDER_CUSTOMER = {
    "from_table_id": "o",
    "from_column": "customer_id",
    "to_table_id": "c",
    "to_column": "id",
}


def _metric(
    title: str, column: str, aggregation: str, alias: str, x: int, **config: Any
) -> dict[str, Any]:
    return {
        "type": "metric",
        "title": title,
        "query": {
            "tables": [ORDERS],
            "columns": [
                {"table_id": "o", "column": column, "aggregation": aggregation, "alias": alias}
            ],
        },
        "position": {"x": x, "y": 0, "w": 3, "h": 3},
        "config": config,
    }


def _count(alias: str = "orders") -> dict[str, Any]:
    return {"table_id": "o", "column": "*", "aggregation": "count", "alias": alias}


def _revenue() -> dict[str, Any]:
    return {"table_id": "o", "column": "total", "aggregation": "sum", "alias": "revenue"}


SHOP_OVERVIEW: dict[str, Any] = {
    "name": "Shop overview",
    "description": "Revenue, orders and customers of the demo shop: every widget type.",
    "layout": {"columns": 12, "row_height": 50, "margin": [10, 10]},
    "filters": [
        {
            "id": "period",
            "type": "date_range",
            "label": "Order date",
            "field": "ordered_at",
            "table": "shop_order",
        },
        {
            "id": "status",
            "type": "select",
            "label": "Status",
            "field": "status",
            "table": "shop_order",
            "options": [
                {"value": s, "label": s.capitalize()}
                for s in ("pending", "paid", "shipped", "cancelled")
            ],
        },
        {
            "id": "country",
            "type": "multi_select",
            "label": "Country",
            "field": "country",
            "table": "shop_customer",
        },
    ],
    "widgets": [
        _metric("Revenue", "total", "sum", "revenue", 0, value_format="currency"),
        _metric("Orders", "*", "count", "orders", 3, value_format="integer"),
        _metric("Average order", "total", "avg", "average", 6, value_format="currency"),
        _metric(
            "Customers", "customer_id", "count_distinct", "customers", 9, value_format="integer"
        ),
        {
            "type": "line_chart",
            "title": "Revenue by month",
            "query": {
                "tables": [ORDERS],
                "columns": [_revenue()],
                "time_series": {
                    "table_id": "o",
                    "date_column": "ordered_at",
                    "interval": "month",
                    "alias": "month",
                },
            },
            "position": {"x": 0, "y": 3, "w": 8, "h": 6},
            "config": {"x_axis": "month", "y_axis": ["revenue"], "show_legend": False},
        },
        {
            "type": "pie_chart",
            "title": "Orders by status",
            "query": {
                "tables": [ORDERS],
                "columns": [{"table_id": "o", "column": "status"}, _count()],
                "order_by": [{"alias": "orders", "direction": "DESC"}],
            },
            "position": {"x": 8, "y": 3, "w": 4, "h": 6},
            "config": {"x_axis": "status", "y_axis": ["orders"]},
        },
        {
            "type": "bar_chart",
            "title": "Revenue by country (top 10)",
            "query": {
                "tables": [ORDERS, CUSTOMERS],
                "joins": [ORDER_CUSTOMER],
                "columns": [{"table_id": "c", "column": "country"}, _revenue()],
                "order_by": [{"alias": "revenue", "direction": "DESC"}],
                "limit": 10,
            },
            "position": {"x": 0, "y": 9, "w": 6, "h": 6},
            "config": {"x_axis": "country", "y_axis": ["revenue"], "show_legend": False},
        },
        {
            "type": "area_chart",
            "title": "Orders per quarter by status",
            "query": {
                "tables": [ORDERS],
                "columns": [
                    {
                        "table_id": "o",
                        "column": "ordered_at",
                        "date_trunc": "quarter",
                        "alias": "quarter",
                    },
                    {"table_id": "o", "column": "status"},
                    _count(),
                ],
                "order_by": [{"alias": "quarter", "direction": "ASC"}],
            },
            "position": {"x": 6, "y": 9, "w": 6, "h": 6},
            "config": {
                "x_axis": "quarter",
                "y_axis": ["orders"],
                "series_column": "status",
                "stacked": True,
            },
        },
        {
            "type": "scatter_chart",
            "title": "Customers: orders vs revenue",
            "query": {
                "tables": [ORDERS, CUSTOMERS],
                "joins": [ORDER_CUSTOMER],
                "columns": [
                    {"table_id": "c", "column": "id", "alias": "customer"},
                    _count(),
                    _revenue(),
                ],
                "order_by": [{"alias": "revenue", "direction": "DESC"}],
                "limit": 200,
            },
            "position": {"x": 0, "y": 15, "w": 6, "h": 6},
            "config": {"x_axis": "orders", "y_axis": ["revenue"], "show_legend": False},
        },
        {
            "type": "table",
            "title": "Top customers",
            "query": {
                "tables": [ORDERS, CUSTOMERS],
                "joins": [ORDER_CUSTOMER],
                "columns": [
                    {"table_id": "c", "column": "name"},
                    {"table_id": "c", "column": "country"},
                    _count(),
                    _revenue(),
                ],
                "order_by": [{"alias": "revenue", "direction": "DESC"}],
                "limit": 50,
            },
            "position": {"x": 6, "y": 15, "w": 6, "h": 6},
            "config": {"page_size": 6},
        },
        {
            "type": "text",
            "title": "About this dashboard",
            "query": None,
            "position": {"x": 0, "y": 21, "w": 12, "h": 2},
            "config": {
                "content": "Demo data generated by manage.py load_demo_data. Change the filters "
                "above: every widget is re-run in one request."
            },
        },
    ],
}
