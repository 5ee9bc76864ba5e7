"""Behaviour that only a shared Redis shows: entries, TTLs and counters seen by other processes.

Other "workers" are real subprocesses with their own Django, talking to the same Redis under the
same key prefix.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import redis
from django.conf import settings
from django.test import RequestFactory

from prismiq_django import cache
from prismiq_django.api.throttling import count_request
from tests.support.ops import Counter, Stmt, make_result

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[2]

_PRELUDE = """
import os, sys, time
import django
from django.conf import settings
django.setup()
settings.CACHES["default"]["KEY_PREFIX"] = os.environ["OPS_PREFIX"]
# The same database as the parent (its test database): result keys include the database name.
settings.DATABASES["default"]["NAME"] = os.environ["OPS_DB_NAME"]
settings.PRISMIQ = {"RESULT_CACHE_TTL": 120, "RATE_LIMIT": "5/m"}
from prismiq_django import cache
from prismiq_django.execution import QueryResult
from tests.support.ops import Stmt

def result(rows):
    return QueryResult(columns=["a", "b"], column_types=["integer", "integer"], rows=rows,
                       row_count=len(rows), truncated=False, execution_time_ms=1.0)
"""


def _worker(code: str, prefix: str, *args: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "OPS_PREFIX": prefix,
        "OPS_DB_NAME": str(settings.DATABASES["default"]["NAME"]),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": str(ROOT),
    }
    script = _PRELUDE + textwrap.dedent(code)
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", script, *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _finish(proc: subprocess.Popen[bytes]) -> str:
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    return out.decode()


def _redis() -> redis.Redis:
    return redis.Redis.from_url(os.environ["REDIS_URL"])


@pytest.fixture
def ttl_120(settings: Any) -> None:
    settings.PRISMIQ = {"RESULT_CACHE_TTL": 120, "RATE_LIMIT": "5/m"}


def test_entries_are_in_redis_with_the_ttl(isolated_cache: str, ttl_120: None) -> None:
    stmt = Stmt("SELECT ttl", (), frozenset({"t_ttl"}))
    cache.fetch_result(
        alias="default",
        compiled=stmt,
        scopes=(),
        compute=lambda: make_result([[1, 2]]),
        bypass=False,
    )
    client = _redis()
    entries = list(client.scan_iter(match=f"{isolated_cache}:*:prismiq:r:*"))
    assert len(entries) == 1
    assert 100 < client.ttl(entries[0]) <= 120
    generations = list(client.scan_iter(match=f"{isolated_cache}:*:prismiq:tv:t_ttl"))
    assert len(generations) == 1
    assert client.ttl(generations[0]) == -1  # generations never expire
    assert not list(client.scan_iter(match=f"{isolated_cache}:*:prismiq:lock:*"))  # released


def test_another_worker_sees_the_entry_this_one_stored(isolated_cache: str, ttl_120: None) -> None:
    stmt = Stmt("SELECT shared", (7,), frozenset({"t_shared"}))
    compute = Counter(lambda: make_result([[7, 7]]))
    cache.fetch_result(alias="default", compiled=stmt, scopes=(), compute=compute, bypass=False)

    out = _finish(
        _worker(
            """
            def never():
                raise SystemExit("computed instead of hitting the cache")
            r = cache.fetch_result(alias="default", compiled=Stmt("SELECT shared", (7,),
                frozenset({"t_shared"})), scopes=(), compute=never, bypass=False)
            print(r.is_from_cache, r.rows)
            """,
            isolated_cache,
        )
    )
    assert out.strip() == "True [[7, 7]]"


def test_invalidation_in_one_worker_reaches_the_others(isolated_cache: str, ttl_120: None) -> None:
    stmt = Stmt("SELECT inval", (), frozenset({"t_inval"}))
    compute = Counter(lambda: make_result([[compute.calls, 0]]))
    cache.fetch_result(alias="default", compiled=stmt, scopes=(), compute=compute, bypass=False)
    _finish(
        _worker(
            """
            from django.core.management import call_command
            call_command("prismiq_invalidate_cache", "t_inval")
            """,
            isolated_cache,
        )
    )
    again = cache.fetch_result(
        alias="default", compiled=stmt, scopes=(), compute=compute, bypass=False
    )
    assert again.is_from_cache is False
    assert compute.calls == 2


def test_single_flight_across_processes(isolated_cache: str, ttl_120: None, tmp_path: Path) -> None:
    marker = tmp_path / "computed.txt"
    code = """
        def compute():
            with open(sys.argv[1], "a") as fh:
                fh.write(f"{os.getpid()}\\n")
            time.sleep(0.8)
            return result([[1, 1]])
        start = float(sys.argv[2])
        time.sleep(max(0.0, start - time.time()))
        r = cache.fetch_result(alias="default", compiled=Stmt("SELECT flight", (),
            frozenset({"t_flight"})), scopes=(), compute=compute, bypass=False)
        print(r.is_from_cache)
        """
    start = str(time.time() + 2.0)
    workers = [_worker(code, isolated_cache, str(marker), start) for _ in range(3)]
    outs = [_finish(w).strip() for w in workers]

    assert len(marker.read_text().splitlines()) == 1
    assert sorted(outs) == ["False", "True", "True"]


def test_rate_limit_counters_are_shared_between_workers(
    isolated_cache: str, ttl_120: None, user: Any
) -> None:
    # The counter lives in a one-minute window: when the window turns between the worker's
    # requests and ours, start again with a fresh identity (at most twice; a shared counter
    # can only be missed by that rollover, never by chance).
    for attempt in range(3):
        identity = user.pk * 1000 + attempt
        _finish(
            _worker(
                f"""
                from types import SimpleNamespace
                from django.test import RequestFactory
                from prismiq_django.throttling import count_request
                request = RequestFactory().post("/")
                request.user = SimpleNamespace(is_authenticated=True, pk={identity})
                for _ in range(4):
                    count_request(request)
                """,
                isolated_cache,
            )
        )
        request = RequestFactory().post("/")
        request.user = SimpleNamespace(is_authenticated=True, pk=identity)
        usage = count_request(request)
        assert usage is not None
        rolled_over = usage.count < 5 and usage.reset_seconds > 50
        if not rolled_over:
            break
    assert usage.count == 5
    assert usage.remaining == 0
    assert not usage.limited
    usage = count_request(request)
    assert usage is not None
    assert usage.limited
