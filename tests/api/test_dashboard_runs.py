"""How ``dashboards/{id}/execute`` runs its statements on PostgreSQL: in worker threads, at most
``DASHBOARD_CONCURRENCY`` at a time, each on its own connection, closed afterwards; and through
the result cache like ``query/execute``."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from rest_framework.test import APIClient

from prismiq_django.services import dashboard_runs
from tests.api.conftest import Shop, api, configure

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def count_by(column: str) -> dict[str, Any]:
    return {
        "tables": [{"id": "o", "name": "shop_order"}],
        "columns": [
            {"table_id": "o", "column": column},
            {"table_id": "o", "column": "*", "aggregation": "count", "alias": "n"},
        ],
        "order_by": [{"table_id": "o", "column": column, "direction": "ASC"}],
    }


def backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


@pytest.fixture
def board(
    alice: User, exposed: dict[str, Any], shop: Shop, client_for: Any
) -> tuple[APIClient, str]:
    client: APIClient = client_for(alice)
    columns = ["status", "customer_id", "shipped_on", "total", "tenant_id", "id"]
    widgets = [
        {"type": "table", "query": count_by(c), "position": {"x": 0, "y": i, "w": 6, "h": 1}}
        for i, c in enumerate(columns)
    ]
    response = client.post(
        api("dashboards"),
        json.dumps({"name": "six", "widgets": widgets}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return client, response.json()["id"]


def test_at_most_the_configured_number_run_at_once_each_on_its_own_connection(
    board: tuple[APIClient, str], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, dashboard = board
    configure(settings, DASHBOARD_CONCURRENCY=2)
    lock = threading.Lock()
    in_flight = [0]
    peak = [0]
    threads: set[int] = set()
    real = dashboard_runs.run_prepared

    def observed(*args: Any, **kwargs: Any) -> Any:
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
            threads.add(threading.get_ident())
        try:
            time.sleep(0.05)  # so that runs overlap when they may
            return real(*args, **kwargs)
        finally:
            with lock:
                in_flight[0] -= 1

    monkeypatch.setattr(dashboard_runs, "run_prepared", observed)
    before = backends()
    response = client.post(api(f"dashboards/{dashboard}/execute"), {}, format="json")
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 6
    assert all("rows" in entry for entry in results.values())
    assert peak[0] == 2
    assert threading.get_ident() not in threads  # worker threads, not the request's
    # The workers' connections are closed (a backend leaves pg_stat_activity a moment after).
    deadline = time.monotonic() + 5
    while backends() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert backends() == before


def test_results_go_through_the_result_cache(board: tuple[APIClient, str], settings: Any) -> None:
    client, dashboard = board
    configure(settings, RESULT_CACHE_TTL=300)
    first = client.post(api(f"dashboards/{dashboard}/execute"), {}, format="json").json()["results"]
    second = client.post(api(f"dashboards/{dashboard}/execute"), {}, format="json").json()[
        "results"
    ]
    assert not any(entry["is_from_cache"] for entry in first.values())
    assert all(entry["is_from_cache"] for entry in second.values())
    assert [e["rows"] for e in first.values()] == [e["rows"] for e in second.values()]
    bypassed = client.post(
        api(f"dashboards/{dashboard}/execute"), {"bypass_cache": True}, format="json"
    ).json()["results"]
    assert not any(entry["is_from_cache"] for entry in bypassed.values())
