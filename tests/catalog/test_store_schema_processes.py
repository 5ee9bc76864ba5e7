"""The rendered schema across real processes sharing one Redis: stored once, served by the
others without rebuilding, and dropped in every process when one of them invalidates."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from prismiq_django import services
from tests.cache.test_redis import _finish, _worker

pytestmark = pytest.mark.redis

PRISMIQ = {"EXPOSED_TABLES": ["shop_customer"], "SCHEMA_CACHE_TTL": 3600, "RATE_LIMIT": None}

_SETUP = f"""
settings.PRISMIQ = {PRISMIQ!r}
from django.db import connection
from django.test.utils import CaptureQueriesContext
from prismiq_django import services
"""


def _columns(body: bytes) -> list[str]:
    tables = json.loads(body)["tables"]
    return [c["name"] for c in tables[0]["columns"]]


def test_schema_body_is_shared_and_invalidated_in_every_process(
    isolated_cache: str,
    settings: Any,
    django_user_model: Any,
    drop_added_column: Callable[[str, str], None],
) -> None:
    drop_added_column("shop_customer", "ops_note")
    settings.PRISMIQ = dict(PRISMIQ)
    services.invalidate_catalog()
    client = APIClient()
    client.force_authenticate(django_user_model.objects.create_user("schema-processes"))
    first = client.get("/api/analytics/schema")
    assert first.status_code == 200
    assert "ops_note" not in _columns(first.content)

    # Another process serves the stored body: no catalog query, the same bytes.
    out = _finish(
        _worker(
            _SETUP
            + """
with CaptureQueriesContext(connection) as captured:
    body = services.schema_json(None)
print(len(captured.captured_queries), body.hex())
""",
            isolated_cache,
        )
    )
    queries, body = out.split()
    assert queries == "0"
    assert bytes.fromhex(body) == first.content

    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE shop_customer ADD COLUMN ops_note varchar(20)")
    assert client.get("/api/analytics/schema").content == first.content  # still this memo

    # Another process invalidates (what prismiq_refresh_schema does there): this process's memo
    # of the rendered body must not outlive the new token.
    _finish(_worker(_SETUP + "services.invalidate_catalog()\n", isolated_cache))
    again = client.get("/api/analytics/schema")
    assert again.status_code == 200
    assert "ops_note" in _columns(again.content)
