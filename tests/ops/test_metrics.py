"""The metrics endpoint: permissions, Prometheus text format, counts, multi-process aggregation."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from prismiq_django.ops.observability import record_query
from tests.support.ops import API

ROOT = Path(__file__).resolve().parents[2]
NAMES = {
    "prismiq_queries": "counter",
    "prismiq_query_duration_seconds": "histogram",
    "prismiq_cache_requests": "counter",
    "prismiq_requests": "counter",
    "prismiq_rows_returned": "histogram",
}


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def _scrape(client: Any) -> str:
    response = client.get(API + "metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return str(response.content.decode())


@pytest.mark.django_db
def test_metrics_refuses_anonymous_callers(client: Any) -> None:
    response = client.get(API + "metrics", HTTP_ACCEPT="text/plain")
    assert response.status_code in (401, 403)
    assert b"prismiq_" not in response.content


def test_metrics_refuses_non_staff_users(client: Any, user: Any) -> None:
    client.force_login(user)
    response = client.get(API + "metrics/")
    assert response.status_code == 403


def test_metrics_follow_the_permission_setting(client: Any, user: Any, settings: Any) -> None:
    settings.PRISMIQ = {
        "METRICS_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"]
    }
    client.force_login(user)
    assert client.get(API + "metrics").status_code == 200


def test_metrics_text_parses_and_names_every_metric(client: Any, staff: Any) -> None:
    client.force_login(staff)
    text = _scrape(client)
    families = {f.name: f.type for f in text_string_to_metric_families(text)}
    for name, kind in NAMES.items():
        assert families.get(name) == kind, name


def test_metrics_count_what_happened(client: Any, staff: Any) -> None:
    client.force_login(staff)
    before = _samples(_scrape(client))
    record_query(fingerprint="abc", duration_s=0.02, rows=7, cache_hit=False, status="ok")
    record_query(fingerprint="abc", duration_s=0.01, rows=7, cache_hit=True, status="ok")
    record_query(fingerprint="def", duration_s=30.0, rows=0, cache_hit=False, status="timeout")
    after = _samples(_scrape(client))

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert delta("prismiq_queries_total", status="ok") == 2
    assert delta("prismiq_queries_total", status="timeout") == 1
    assert delta("prismiq_query_duration_seconds_count") == 3
    assert delta("prismiq_query_duration_seconds_sum") == pytest.approx(30.03)
    assert delta("prismiq_query_duration_seconds_bucket", le="0.025") == 2
    assert delta("prismiq_rows_returned_count") == 2
    assert delta("prismiq_rows_returned_sum") == 14
    assert delta("prismiq_rows_returned_bucket", le="10.0") == 2


def test_requests_are_counted_by_endpoint_and_status(
    client: Any, staff: Any, with_middleware: None
) -> None:
    client.force_login(staff)
    before = _samples(_scrape(client))
    client.get(API + "health/live")
    client.get(API + "health/live/")
    client.logout()
    client.get(API + "metrics")
    client.force_login(staff)
    after = _samples(_scrape(client))

    def delta(**labels: str) -> float:
        key = ("prismiq_requests_total", tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert delta(endpoint="health-live", status="200") == 2
    refused = delta(endpoint="metrics", status="403") + delta(endpoint="metrics", status="401")
    assert refused == 1
    assert delta(endpoint="metrics", status="200") == 1  # the first scrape, counted after it


_WORKER = textwrap.dedent(
    """
    import sys
    import django
    django.setup()
    from prismiq_django.observability import record_cache, record_query
    n = int(sys.argv[1])
    for i in range(n):
        record_query(fingerprint="f", duration_s=0.01, rows=3, cache_hit=False, status="ok")
        record_cache("hit")
    """
)
_READER = textwrap.dedent(
    """
    import sys
    import django
    django.setup()
    from prismiq_django.observability import multiprocess_enabled, render_metrics
    assert multiprocess_enabled()
    body, content_type = render_metrics()
    sys.stdout.write(body.decode())
    """
)


def test_multiprocess_mode_sums_every_worker(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": str(ROOT),
    }
    workers = [
        subprocess.Popen([sys.executable, "-c", _WORKER, str(n)], env=env, cwd=ROOT)  # noqa: S603
        for n in (5, 7)
    ]
    for proc in workers:
        assert proc.wait(timeout=60) == 0
    assert len(list(tmp_path.glob("*.db"))) >= 2  # one file per worker process

    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", _READER],
        env=env,
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        check=True,
    )
    samples = _samples(out.stdout.decode())
    assert samples[("prismiq_queries_total", (("status", "ok"),))] == 12
    assert samples[("prismiq_cache_requests_total", (("result", "hit"),))] == 12
    assert samples[("prismiq_query_duration_seconds_count", ())] == 12
    assert samples[("prismiq_rows_returned_sum", ())] == 36
