"""The OpenAPI document and Swagger UI on sites whose DRF defaults differ from the test settings.

drf-spectacular builds the inspectors of decorated operations when the views are imported, from the
``DEFAULT_SCHEMA_CLASS`` of that moment; so each site is a fresh interpreter (a subprocess) whose
settings are fixed before anything is imported, as on a real site. An ``override_settings`` in this
process cannot show the failure: the views were imported under the test settings.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "prismiq_django"

SITE_SETTINGS = """
from tests.settings import *  # noqa: F403

DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}}}
CACHES = {{"default": {{"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}}}
REST_FRAMEWORK = {{  # noqa: F405
    key: value for key, value in REST_FRAMEWORK.items() if key != "DEFAULT_SCHEMA_CLASS"
}}
{extra}
"""

PROBE = """
import json
import django

django.setup()
from django.contrib.auth.models import User
from django.test.utils import setup_test_environment
from rest_framework.test import APIClient

setup_test_environment()
client = APIClient()
client.force_authenticate(User(id=1, username="site-user"))
answers = {}
for path in ("/api/analytics/openapi/?format=json", "/api/analytics/openapi",
             "/api/analytics/docs/", "/api/analytics/docs"):
    response = client.get(path)
    body = response.content.decode()
    answers[path] = {"status": response.status_code, "body": body}
print(json.dumps(answers))
"""


def _answers(tmp_path: Path, extra: str) -> dict[str, dict[str, object]]:
    (tmp_path / "site_settings.py").write_text(SITE_SETTINGS.format(extra=extra))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "site_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
    }
    done = subprocess.run(  # noqa: S603 (this interpreter, a fixed script)
        [sys.executable, "-c", PROBE],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answers: dict[str, dict[str, object]] = json.loads(done.stdout.strip().splitlines()[-1])
    return answers


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param("", id="DEFAULT_SCHEMA_CLASS-unset"),
        pytest.param(
            'REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "rest_framework.schemas.openapi.AutoSchema"',
            id="DEFAULT_SCHEMA_CLASS-drf-default",
        ),
    ],
)
def test_openapi_and_docs_work_on_a_site_without_spectacular_as_default(
    tmp_path: Path, extra: str
) -> None:
    """Issue 15 item 1: ``openapi`` answered 500 (TypeError in ``get_operation``) on such sites."""
    answers = _answers(tmp_path, extra)
    for path, answer in answers.items():
        assert answer["status"] == 200, (path, str(answer["body"])[:500])
    document = json.loads(str(answers["/api/analytics/openapi/?format=json"]["body"]))
    paths = document["paths"]
    for path in (
        "query/execute/",
        "query/export/",
        "saved-queries/{id}/",
        "saved-queries/{id}/execute/",
        "dashboards/{dashboard_id}/export/",
        "dashboards/{dashboard_id}/widgets/{widget_id}/execute/",
        "tables/{name}/columns/{column}/values/",
        "health/live/",
        "metrics/",
    ):
        assert "/api/analytics/" + path in paths, path
    execute = paths["/api/analytics/query/execute/"]["post"]
    assert {"200", "400", "504"} <= set(execute["responses"])
    assert "swagger" in str(answers["/api/analytics/docs/"]["body"]).lower()


def test_no_module_decorates_with_spectacular_extend_schema_directly() -> None:
    """Every ``extend_schema`` of the app is :func:`prismiq_django.api.openapi.decorators
    .extend_schema` (the direct one bases method inspectors on the site's schema class)."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "decorators.py" and path.parent.name == "openapi":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom):
                continue
            names = {alias.name for alias in node.names}
            if (node.module or "").startswith("drf_spectacular") and "extend_schema" in names:
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
