"""Health probes against the real database and cache (and against dead ones)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.db import connection

from prismiq_django import __version__
from tests.support.ops import API


@pytest.mark.parametrize("path", ["health/live", "health/live/"])
def test_live_answers_anonymous_callers_without_touching_services(
    client: Any, path: str, dead_cache: str
) -> None:
    response = client.get(API + path)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("path", ["health/ready", "health/ready/"])
@pytest.mark.django_db
def test_ready_when_the_database_answers(client: Any, path: str) -> None:
    response = client.get(API + path)
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


def test_ready_is_503_when_the_database_is_unreachable(
    client: Any, dead_database: str, caplog: Any
) -> None:
    with caplog.at_level(logging.WARNING, logger="prismiq_django.health"):
        response = client.get(API + "health/ready")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
    # The real connection failure, not a test-harness refusal.
    assert [r.args[1] for r in caplog.records if r.name == "prismiq_django.health"] == [
        "OperationalError"
    ]


@pytest.mark.django_db
def test_health_refuses_anonymous_callers(client: Any) -> None:
    response = client.get(API + "health")
    assert response.status_code in (401, 403)
    assert "checks" not in response.json()


def test_health_is_healthy_with_database_and_cache_up(client: Any, user: Any) -> None:
    client.force_login(user)
    response = client.get(API + "health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["version"] == __version__
    assert isinstance(body["uptime_seconds"], float)
    assert body["uptime_seconds"] >= 0
    assert set(body["checks"]) == {"database", "cache"}
    for check in body["checks"].values():
        assert check["status"] == "up"
        assert isinstance(check["latency_ms"], float)
        assert check["latency_ms"] >= 0


def test_health_is_degraded_when_the_cache_is_down(client: Any, user: Any, dead_cache: str) -> None:
    client.force_login(user)
    # The session lives in the database backend, so logging in does not need the dead cache.
    response = client.get(API + "health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["cache"]["status"] == "down"
    assert body["checks"]["database"]["status"] == "up"
    assert "Connection" not in response.content.decode()


def test_health_is_unhealthy_when_the_database_is_down(
    client: Any, user: Any, dead_database: str
) -> None:
    client.force_login(user)
    response = client.get(API + "health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["database"]["status"] == "down"
    assert body["checks"]["cache"]["status"] == "up"
    text = response.content.decode()
    assert "OperationalError" not in text
    assert "nonexistent" not in text
    assert "port" not in text.lower()


@pytest.mark.django_db
def test_health_follows_permission_classes(client: Any, settings: Any) -> None:
    settings.PRISMIQ = {"PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"]}
    response = client.get(API + "health")
    assert response.status_code == 200
    assert response.json()["status"] == "healthy"


@pytest.mark.postgres
def test_health_names_a_primary_as_primary_without_a_lag(client: Any, user: Any) -> None:
    client.force_login(user)
    database = client.get(API + "health").json()["checks"]["database"]
    assert database["role"] == "primary"
    assert "replica_lag_seconds" not in database


def test_health_gives_no_role_where_the_vendor_has_no_replicas_to_tell(
    client: Any, user: Any
) -> None:
    if connection.vendor == "postgresql":  # SQLite and MySQL/MariaDB
        pytest.skip("runs in the sqlite and mysql passes")
    client.force_login(user)
    database = client.get(API + "health").json()["checks"]["database"]
    assert set(database) == {"status", "latency_ms"}
