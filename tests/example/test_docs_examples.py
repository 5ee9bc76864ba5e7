"""Every example of docs/query-language.md's "Reference by example" (issue 23 item 6) is a real
request whose answer is the one printed, over the demo data the section names."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from tests.example.conftest import Loader

DOC = Path(__file__).resolve().parents[2] / "docs" / "query-language.md"
_PAIR = re.compile(r"Request:\s*```json\n(.*?)```\s*Answer:\s*```json\n(.*?)```", re.S)
DEMO = (
    "--orders=400", "--customers=60", "--products=15", "--tenants=3",
    "--end-date=2025-06-30", "--days=120",
)  # fmt: skip


def examples() -> list[tuple[Any, Any]]:
    text = DOC.read_text()
    section = text[text.index("## Reference by example") :]
    return [(json.loads(a), json.loads(b)) for a, b in _PAIR.findall(section)]


def test_the_docs_have_examples() -> None:
    assert len(examples()) >= 1
    assert "--end-date=2025-06-30 --days=120" in DOC.read_text().replace("\n", " ")


@pytest.mark.django_db
@pytest.mark.parametrize(("request_body", "answer"), examples())
def test_every_docs_example_gives_its_answer(
    load: Loader, settings: Any, request_body: Any, answer: Any
) -> None:
    load(*DEMO)
    settings.PRISMIQ = {"RATE_LIMIT": None, "RESULT_CACHE_TTL": 0, "SCHEMA_CACHE_TTL": 0}
    client = APIClient()
    client.force_authenticate(User.objects.get(username="demo"))
    response = client.post("/api/analytics/query/execute/", request_body, format="json")
    assert response.status_code == 200, response.content
    got = response.json()
    got.pop("execution_time_ms", None)
    assert got == answer
