"""A real second process holding a lazily decoded catalog (some tables decoded, the others not)
follows another process's change of the exposure rows: the hidden column is gone there at once."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from django.conf import settings as django_settings

from prismiq_django import services
from prismiq_django.models import ExposedColumn, ExposedTable
from tests.cache import test_redis

pytestmark = pytest.mark.redis

PRISMIQ = {
    "EXPOSED_TABLES": None,
    "SCHEMA_CACHE_TTL": 3600,
    "RATE_LIMIT": None,
    "TENANT_CALLBACK": "tests.support.tenants.tenant_of",
}

_CODE = f"""
settings.PRISMIQ = {PRISMIQ!r}
from types import SimpleNamespace
from prismiq_django import services
from prismiq_django.catalog import store
store.forget_process_memo()
catalog = services.get_catalog(SimpleNamespace(tenant=1))
print(type(catalog.tables).__name__, sorted(catalog.row_scopes), flush=True)
print(sorted(catalog.tables["shop_customer"].column_names), flush=True)
sys.stdin.readline()
catalog = services.get_catalog(SimpleNamespace(tenant=1))
print(sorted(catalog.tables["shop_customer"].column_names), flush=True)
query = {{
    "tables": [{{"id": "c", "name": "shop_customer"}}],
    "columns": [{{"table_id": "c", "column": "email"}}],
}}
try:
    services.execute(SimpleNamespace(tenant=1), query)
    print("ran")
except Exception as exc:
    print(type(exc).__name__)
"""


def test_a_process_with_a_lazy_catalog_follows_an_invalidation(
    isolated_cache: str, settings: Any, transactional_db: None
) -> None:
    settings.PRISMIQ = dict(PRISMIQ)
    ExposedTable.objects.create(name="shop_order", is_exposed=True, tenant_column="tenant_id")
    customer = ExposedTable.objects.create(name="shop_customer", is_exposed=True)
    services.invalidate_catalog()
    services.exposed_catalog()  # stored in Redis
    env = {
        **os.environ,
        "OPS_PREFIX": isolated_cache,
        "OPS_DB_NAME": str(django_settings.DATABASES["default"]["NAME"]),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": str(test_redis.ROOT),
    }
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", test_redis._PRELUDE + textwrap.dedent(_CODE)],
        env=env,
        cwd=test_redis.ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out = err = b""
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().decode()
        if not first.startswith("EncodedTables ['shop_order']"):
            # Its log says why it built a catalog of its own instead of reading Redis's.
            proc.kill()
            err = proc.communicate(timeout=60)[1]
            pytest.fail(f"{first!r}; the process's stderr: {err.decode()[-3000:]}")
        assert "email" in proc.stdout.readline().decode()
        ExposedColumn.objects.create(table=customer, name="email", is_hidden=True)
        out, err = proc.communicate(b"go\n", timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=60)  # and close the pipes (no ResourceWarning later)
    assert proc.returncode == 0, err.decode()
    columns, outcome = out.decode().splitlines()
    assert "email" not in columns
    assert "city" in columns
    assert outcome == "QueryValidationError"
