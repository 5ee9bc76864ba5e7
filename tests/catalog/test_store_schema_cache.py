"""Schema cache: exposure model changes show at once; DDL shows after prismiq_refresh_schema."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from tests.support.ops import API


@pytest.fixture
def schema_cached(settings: Any, user: Any) -> APIClient:
    from prismiq_django import services
    from prismiq_django.models import ExposedTable

    ExposedTable.objects.create(name="shop_customer", is_exposed=True)
    settings.PRISMIQ = {"SCHEMA_CACHE_TTL": 3600, "RATE_LIMIT": None}
    services.invalidate_catalog()
    client = APIClient()
    client.force_authenticate(user)
    return client


def _columns(client: APIClient) -> list[str]:
    response = client.get(API + "tables/shop_customer")
    assert response.status_code == 200
    return [c["name"] for c in response.json()["columns"]]


def test_exposure_changes_invalidate_the_schema_cache(schema_cached: APIClient) -> None:
    from prismiq_django.models import ExposedTable

    assert schema_cached.get(API + "tables").json() == {"tables": ["shop_customer"]}
    ExposedTable.objects.create(name="shop_product", is_exposed=True)
    assert schema_cached.get(API + "tables").json() == {"tables": ["shop_customer", "shop_product"]}
    ExposedTable.objects.filter(name="shop_customer").update(is_exposed=False)
    ExposedTable.objects.get(name="shop_product").save()  # bulk update() sends no signal
    assert schema_cached.get(API + "tables").json() == {"tables": ["shop_product"]}


def test_ddl_is_seen_after_refresh_schema(
    schema_cached: APIClient, drop_added_column: Callable[[str, str], None]
) -> None:
    drop_added_column("shop_customer", "ops_note")
    assert "ops_note" not in _columns(schema_cached)
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE shop_customer ADD COLUMN ops_note varchar(20)")
    assert "ops_note" not in _columns(schema_cached)  # still the cached schema

    out = StringIO()
    call_command("prismiq_refresh_schema", stdout=out)

    assert "ops_note" in _columns(schema_cached)
    assert "1 exposed table" in out.getvalue()
