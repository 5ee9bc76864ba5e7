"""Every example of docs/query-language.md's "Reference by example" (issue 23 item 6) is a real
request whose answer (status code and body) is the one printed, over the demo data and at the
clock the section names."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from tests.example.conftest import Loader

DOC = Path(__file__).resolve().parents[2] / "docs" / "query-language.md"
#: A request and its answer; ``Answer (HTTP 400):`` heads an error answer, ``Answer:`` a 200.
_PAIR = re.compile(
    r"Request:\s*```json\n(.*?)```\s*Answer(?: \(HTTP (\d{3})\))?:\s*```json\n(.*?)```", re.S
)
DEMO = (
    "--orders=400", "--customers=60", "--products=15", "--tenants=3",
    "--end-date=2025-06-30", "--days=120",
)  # fmt: skip
#: MySQL/MariaDB refuse a FULL join (docs/query-language.md, ``joins``): the documented answer.
NO_FULL_JOIN = {
    "detail": "Query validation failed",
    "errors": [
        {
            "code": "invalid_definition",
            "message": "This database has no FULL joins: use a LEFT or RIGHT join.",
            "path": "/query/joins",
        }
    ],
}
#: "Now" for the examples (``date_relative`` resolves against it).
CLOCK = dt.datetime(2025, 6, 30, 12, 0, tzinfo=dt.UTC)


def examples() -> list[tuple[Any, int, Any]]:
    """``(request body, status code, answer)`` of every example, in the page's order."""
    text = DOC.read_text()
    section = text[text.index("## Reference by example") :]
    return [
        (json.loads(request), int(status or 200), json.loads(answer))
        for request, status, answer in _PAIR.findall(section)
    ]


def test_the_docs_have_examples() -> None:
    text = DOC.read_text()
    section = text[text.index("## Reference by example") :]
    # Every example block is paired (none silently skipped by the pattern).
    assert len(examples()) == section.count("Request:") >= 40
    assert any(status == 400 for _, status, _ in examples())
    assert "--end-date=2025-06-30 --days=120" in text.replace("\n", " ")
    assert "with the clock at 2025-06-30 12:00 UTC" in text.replace("\n", " ")


@pytest.mark.django_db
@pytest.mark.parametrize(("request_body", "status", "answer"), examples())
def test_every_docs_example_gives_its_answer(
    load: Loader,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    request_body: Any,
    status: int,
    answer: Any,
) -> None:
    full_join = any(
        str(join.get("join_type", "")).upper() == "FULL"
        for join in request_body.get("query", {}).get("joins", [])
    )
    if full_join and connection.vendor == "mysql":
        status, answer = 400, NO_FULL_JOIN
    load(*DEMO)
    settings.PRISMIQ = {"RATE_LIMIT": None, "RESULT_CACHE_TTL": 0, "SCHEMA_CACHE_TTL": 0}
    monkeypatch.setattr(timezone, "now", lambda: CLOCK)
    client = APIClient()
    client.force_authenticate(User.objects.get(username="demo"))
    response = client.post("/api/analytics/query/execute/", request_body, format="json")
    assert response.status_code == status, response.content
    got = response.json()
    got.pop("execution_time_ms", None)
    assert got == answer
