"""The demo's two dashboards: created by ``load_demo_data``, once, and runnable through the API
(every widget answers, the country and period filters narrow the sales)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from prismiq_django.models import Dashboard
from tests.example.conftest import SMALL, Loader

# Transactional: on PostgreSQL the widgets run on worker threads' own connections, which see
# committed rows only (and would wait on the loader's table locks inside a test transaction).
pytestmark = pytest.mark.django_db(transaction=True)


def test_load_demo_data_creates_the_two_dashboards_once(load: Loader, settings: Any) -> None:
    settings.PRISMIQ = {"RESULT_CACHE_TTL": 0, "RATE_LIMIT": None}
    run = load(*SMALL)
    assert "Demo dashboards: Sales overview, Products" in run.stdout
    load(*SMALL)  # again: no duplicates
    names = sorted(Dashboard.objects.values_list("name", flat=True))
    assert names == ["Products", "Sales overview"]
    sales = Dashboard.objects.get(name="Sales overview")
    assert {f["id"]: f["type"] for f in sales.filters} == {
        "period": "date_range",
        "country": "select",
    }
    assert sorted(w.type for w in sales.widgets.all()) == [
        "bar_chart",
        "line_chart",
        "metric",
        "table",
    ]

    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username="demo"))
    for dashboard in Dashboard.objects.all():
        response = client.post(
            f"/api/analytics/dashboards/{dashboard.pk}/execute", {}, format="json"
        )
        assert response.status_code == 200
        results = response.json()["results"]
        assert results
        assert all("rows" in entry for entry in results.values()), results
    metric = str(next(w.pk for w in sales.widgets.all() if w.type == "metric"))
    everything = client.post(f"/api/analytics/dashboards/{sales.pk}/execute", {}, format="json")
    total = everything.json()["results"][metric]["rows"][0][0]
    narrowed = client.post(
        f"/api/analytics/dashboards/{sales.pk}/execute",
        {
            "filter_values": [
                {"filter_id": "country", "value": "DE"},
                {"filter_id": "period", "value": {"start": "2025-05-01", "end": "2025-06-30"}},
            ]
        },
        format="json",
    )
    part = narrowed.json()["results"][metric]["rows"][0][0]
    assert 0 < part < total
