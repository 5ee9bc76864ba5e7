"""Analytics on a streaming replica, app models on the primary, N gunicorn workers sharing Redis.

Run by ``make test-scaleout`` (``make replica`` first). The proof that queries run on the replica
is black-box: with the replica's replay paused, a row committed on the primary is not in the API's
answer until replay resumes.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client import multiprocess as prom_multiprocess
from prometheus_client.parser import text_string_to_metric_families

from tests.scaleout.site import REPLICA, ROOT, ScaleoutSite, sql

pytestmark = pytest.mark.scaleout

COUNT = {
    "tables": [{"id": "t", "name": "scale_items"}],
    "columns": [{"table_id": "t", "column": "*", "aggregation": "count", "alias": "n"}],
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScaleoutSite]:
    assert sql(REPLICA + "postgres", "SELECT pg_is_in_recovery()")[0][0], (
        "127.0.0.1:5433 is not a streaming replica (run `make replica`)"
    )
    built = ScaleoutSite(tmp_path_factory.mktemp("scaleout"))
    try:
        yield built
    finally:
        sql(REPLICA + "postgres", "SELECT pg_wal_replay_resume()")
        built.close()


def _count(site: ScaleoutSite, *, user: str = "alice", bypass: bool = True) -> tuple[int, bool]:
    status, body, _ = site.request(
        "POST", "query/execute", {"query": COUNT, "bypass_cache": bypass}, user=user
    )
    assert status == 200, body
    return int(body["rows"][0][0]), bool(body["is_from_cache"])


def _metric(text: str, name: str, labels: dict[str, str] | None = None) -> float | None:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and (labels is None or sample.labels == labels):
                return float(sample.value)
    return None


def test_queries_run_on_the_replica_and_saved_queries_on_the_primary(site: ScaleoutSite) -> None:
    assert _count(site) == (10, False)
    sql(REPLICA + "postgres", "SELECT pg_wal_replay_pause()")
    try:
        sql(site.primary, "INSERT INTO scale_items VALUES (11, 'written on the primary')")
        assert sql(site.primary, "SELECT count(*) FROM scale_items")[0][0] == 11
        # The replica has not replayed the insert: the API's answer comes from the replica.
        for _ in range(6):
            assert _count(site) == (10, False)

        status, body, _ = site.request(
            "POST", "saved-queries/", {"name": "on the primary", "query": COUNT}, user="alice"
        )
        assert status == 201, body
        assert sql(site.primary, "SELECT name FROM prismiq_django_savedquery")[0][0] == (
            "on the primary"
        )

        status, health, _ = site.request("GET", "health", user="alice")
        assert status == 200, health
        database = health["checks"]["database"]
        assert database["status"] == "up"
        assert database["role"] == "replica"
        assert database["replica_lag_seconds"] > 0

        status, text, _ = site.request("GET", "metrics")
        assert status == 200
        lag = _metric(text, "prismiq_replica_lag_seconds")
        assert lag is not None
        assert lag > 0
    finally:
        sql(REPLICA + "postgres", "SELECT pg_wal_replay_resume()")
    site.wait_for_replay()
    assert _count(site) == (11, False)

    status, ready, _ = site.request("GET", "health/ready")
    assert (status, ready) == (200, {"status": "ready"})
    status, health, _ = site.request("GET", "health", user="alice")
    # Caught up again (other writers of the shared primary may keep it a moment behind).
    assert 0 <= health["checks"]["database"]["replica_lag_seconds"] < 10


def test_a_result_cached_by_one_worker_is_a_hit_on_the_other(
    site: ScaleoutSite, tmp_path: Path
) -> None:
    query = {**COUNT, "limit": 7}  # a statement of its own: no other test cached it

    def execute() -> bool:
        status, body, _ = site.request("POST", "query/execute", {"query": query}, user="carol")
        assert status == 200, body
        return bool(body["is_from_cache"])

    assert execute() is False
    assert site.on_each_worker(execute) == [True, True]
    counts = _per_worker(site.metrics_dir, tmp_path, "prismiq_cache_requests_total", "result")
    hitters = [name for name, result in counts.items() if result.get("hit", 0) > 0]
    assert len(hitters) == 2, counts
    assert sum(result.get("miss", 0) for result in counts.values()) == 1, counts


def _per_worker(
    metrics_dir: Path, tmp_path: Path, name: str, label: str
) -> dict[str, dict[str, float]]:
    """``{file: {label value: n}}`` of counter ``name`` from each worker's own multiprocess file."""
    counts: dict[str, dict[str, float]] = {}
    for path in metrics_dir.glob("counter_*.db"):
        alone = tmp_path / path.stem
        alone.mkdir(parents=True)
        shutil.copy(path, alone / path.name)
        registry = CollectorRegistry()
        prom_multiprocess.MultiProcessCollector(registry, path=str(alone))  # type: ignore[no-untyped-call]
        values: dict[str, float] = {}
        for family in registry.collect():
            for sample in family.samples:
                if sample.name == name:
                    key = sample.labels[label]
                    values[key] = values.get(key, 0.0) + sample.value
        counts[path.stem] = values
    return counts


def test_rate_limits_count_across_workers(site: ScaleoutSite, tmp_path: Path) -> None:
    def validate() -> int:
        status, _, headers = site.request("POST", "query/validate", COUNT, user="bob")
        assert status == 200
        assert headers["X-RateLimit-Limit"] == "300"
        return int(headers["X-RateLimit-Remaining"])

    # Each round asks every worker once, in turn: the workers alternate request by request.
    remaining = [left for _ in range(10) for left in site.on_each_worker(validate)]
    answered = _per_worker(site.metrics_dir, tmp_path, "prismiq_requests_total", "endpoint")
    workers = [c for c in answered.values() if c.get("query-validate", 0) >= 10]
    assert len(workers) == 2, answered
    # One counter for every worker: each request leaves one fewer (a new window starts at 299).
    for before, after in itertools.pairwise(remaining):
        assert after == before - 1 or after == 299, remaining


def test_schema_invalidation_reaches_every_worker(site: ScaleoutSite) -> None:
    def columns() -> list[str]:
        status, body, _ = site.request("GET", "tables/scale_items", user="alice")
        assert status == 200, body
        return [column["name"] for column in body["columns"]]

    # every worker has the catalog in memory now
    assert site.on_each_worker(columns) == [["id", "label"]] * site.workers
    sql(site.primary, "ALTER TABLE scale_items ADD COLUMN weight integer")
    site.wait_for_replay()
    done = subprocess.run(
        [sys.executable, "manage.py", "prismiq_refresh_schema"],
        env=site.env,
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert site.on_each_worker(columns) == [["id", "label", "weight"]] * site.workers


def test_counts_of_every_worker_add_up(site: ScaleoutSite) -> None:
    status, text, _ = site.request("GET", "metrics")
    assert status == 200
    before = _metric(text, "prismiq_requests_total", {"endpoint": "health-live", "status": "200"})
    for _ in range(20):
        assert site.request("GET", "health/live")[0] == 200
    status, text, _ = site.request("GET", "metrics")
    after = _metric(text, "prismiq_requests_total", {"endpoint": "health-live", "status": "200"})
    assert (after or 0) - (before or 0) == 20
