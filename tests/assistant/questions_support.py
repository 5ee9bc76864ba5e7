"""Sample values of the demo schema's text columns, as the ask service hands them to a backend
when ``ASSISTANT["SAMPLE_VALUES"]`` is on."""

from __future__ import annotations

SAMPLES: dict[tuple[str, str], list[object]] = {
    ("shop_order", "status"): ["cancelled", "paid", "pending", "shipped"],
    ("shop_customer", "country"): ["DE", "FR", "US"],
    ("shop_customer", "city"): ["Berlin", "Lyon", "Munich", "New York", "Paris"],
    ("shop_product", "category"): ["apparel", "media", "tools"],
}
