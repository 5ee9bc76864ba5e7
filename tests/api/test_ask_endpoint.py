"""``ask`` (SPEC section 12) through HTTP: the offline backend over the API's shop data, and the
OpenAI-compatible backend against a real local HTTP server (valid, repaired, hostile and failing
answers). An answer is a validated definition: one naming an unexposed table ends as 422 and
nothing reaches the database."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.api.conftest import CANARY_SECRET, api, body_text, configure
from tests.assistant.fake_llm import FakeLLM, serve

ORDERS_BY_STATUS = {
    "tables": [{"id": "o", "name": "shop_order"}],
    "columns": [
        {"table_id": "o", "column": "status"},
        {"table_id": "o", "column": "*", "aggregation": "count", "alias": "orders"},
    ],
    "group_by": [{"table_id": "o", "column": "status"}],
    "order_by": [{"table_id": "o", "column": "status", "direction": "ASC"}],
}
UNEXPOSED = {
    "tables": [{"id": "c", "name": "api_canary"}],
    "columns": [{"table_id": "c", "column": "secret"}],
}
BAD_COLUMN = {
    "tables": [{"id": "o", "name": "shop_order"}],
    "columns": [{"table_id": "o", "column": "colour"}],
}


def reply(query: dict[str, Any], explanation: str = "Orders by status.") -> str:
    return json.dumps({"query": query, "explanation": explanation})


@contextmanager
def statement_log() -> Iterator[list[str]]:
    """Every statement sent to the analytics database inside the block."""
    seen: list[str] = []

    def spy(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        yield seen


def ask(client: APIClient, question: str, **extra: Any) -> Any:
    return client.post(api("ask"), {"question": question, **extra}, format="json")


@pytest.fixture
def offline(settings: Any, exposed: dict[str, Any]) -> None:
    configure(settings, ASSISTANT={"BACKEND": "offline"})


@pytest.fixture
def remote(settings: Any, exposed: dict[str, Any]) -> Callable[[FakeLLM], None]:
    """``remote(fake)``: the OpenAI-compatible backend pointed at ``fake``'s URL."""

    def use(fake: FakeLLM) -> None:
        configure(
            settings,
            ASSISTANT={"BACKEND": "openai_compatible", "BASE_URL": fake.url, "MODEL": "m"},
        )

    return use


def test_without_a_backend_ask_is_a_404_after_the_permission_check(
    client: APIClient, anon: APIClient
) -> None:
    response = ask(client, "number of orders by status")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert ask(anon, "number of orders by status").status_code in {401, 403}


def test_the_offline_backend_answers_with_a_definition_and_its_sql(
    offline: None, client: APIClient
) -> None:
    response = ask(client, "number of orders by status")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"query", "explanation", "sql", "params"}
    assert body["query"]["tables"] == [{"id": "t0", "name": "shop_order"}]
    assert body["explanation"]
    assert "shop_order" in body["sql"]
    assert "COUNT(" in body["sql"].upper()
    # The answer is an ordinary definition: query/sql compiles it to the same statement.
    same = client.post(api("query/sql"), body["query"], format="json").json()
    assert (same["sql"], same["params"]) == (body["sql"], body["params"])


def test_execute_true_adds_the_result(offline: None, client: APIClient) -> None:
    body = ask(client, "number of orders by status", execute=True).json()
    result = body["result"]
    assert sorted(result["rows"]) == [["cancelled", 1], ["paid", 4], ["pending", 1], ["shipped", 4]]
    assert result["row_count"] == 4
    assert result["truncated"] is False


def test_a_question_the_offline_backend_cannot_place_is_a_422(
    offline: None, client: APIClient
) -> None:
    with statement_log() as seen:
        response = ask(client, "why is the sky blue", execute=True)
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "invalid_answer"
    assert body["errors"]
    assert not [s for s in seen if "shop_" in s and "SELECT" in s.upper() and "FROM (" in s]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"question": 3},
        {"question": ""},
        {"question": "x" * 2001},
        {"question": "q", "execute": 1},
    ],
)
def test_a_malformed_body_is_a_400(offline: None, client: APIClient, body: Any) -> None:
    response = client.post(api("ask"), body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["detail"] == "Invalid request"


def test_a_remote_answer_is_validated_and_run(
    remote: Callable[[FakeLLM], None], client: APIClient
) -> None:
    with serve(FakeLLM([(200, reply(ORDERS_BY_STATUS))])) as fake:
        remote(fake)
        response = ask(
            client,
            "how many orders per status?",
            execute=True,
            context={"query": {"tables": [{"id": "o", "name": "shop_order"}]}},
        )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["query"] == ORDERS_BY_STATUS
    assert body["explanation"] == "Orders by status."
    assert body["result"]["rows"] == [["cancelled", 1], ["paid", 4], ["pending", 1], ["shipped", 4]]
    (sent,) = fake.requests
    prompt = json.dumps(sent["messages"])
    assert "shop_order" in prompt
    assert "The user's current query" in prompt
    assert "api_canary" not in prompt
    assert CANARY_SECRET not in prompt
    assert "sample_values" not in prompt  # ASSISTANT["SAMPLE_VALUES"] is off


def test_an_invalid_remote_answer_is_repaired_once(
    remote: Callable[[FakeLLM], None], client: APIClient
) -> None:
    with serve(FakeLLM([(200, reply(BAD_COLUMN)), (200, reply(ORDERS_BY_STATUS))])) as fake:
        remote(fake)
        response = ask(client, "orders by colour")
    assert response.status_code == 200, response.content
    assert response.json()["query"] == ORDERS_BY_STATUS
    assert len(fake.requests) == 2
    assert "/columns/0/column" in fake.requests[1]["messages"][-1]["content"]


@pytest.mark.parametrize("second", [UNEXPOSED, BAD_COLUMN])
def test_a_remote_answer_naming_an_unexposed_table_is_a_422_and_never_runs(
    remote: Callable[[FakeLLM], None],
    client: APIClient,
    canary: None,
    settings: Any,
    second: dict[str, Any],
) -> None:
    configure(settings, SCHEMA_CACHE_TTL=600)
    assert client.get(api("schema")).status_code == 200  # the catalog comes from the cache now
    with serve(FakeLLM([(200, reply(UNEXPOSED)), (200, reply(second))])) as fake:
        remote(fake)
        with statement_log() as seen:
            response = ask(client, "show me the canary secrets", execute=True)
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "invalid_answer"
    assert {e["code"] for e in body["errors"]} <= {"table_not_found", "column_not_found"}
    assert seen == []  # nothing reached the database: no statement at all
    assert CANARY_SECRET not in body_text(response)
    assert len(fake.requests) == 2


@pytest.mark.parametrize("status", [401, 500, 503])
def test_a_failing_backend_is_a_503_without_its_text(
    remote: Callable[[FakeLLM], None], client: APIClient, status: int
) -> None:
    with serve(FakeLLM([(status, {"error": {"message": "SECRET-UPSTREAM-TEXT"}})])) as fake:
        remote(fake)
        response = ask(client, "number of orders by status")
    assert response.status_code == 503
    assert response.json()["code"] == "assistant_unavailable"
    assert "SECRET-UPSTREAM-TEXT" not in body_text(response)


def test_an_unconfigured_remote_backend_is_a_503(
    settings: Any, client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PRISMIQ_ASSISTANT_BASE_URL", raising=False)
    monkeypatch.delenv("PRISMIQ_ASSISTANT_MODEL", raising=False)
    configure(settings, ASSISTANT={"BACKEND": "openai_compatible"})
    assert ask(client, "number of orders by status").status_code == 503


def test_sample_values_reach_the_backend_only_when_allowed(
    remote: Callable[[FakeLLM], None], client: APIClient, settings: Any
) -> None:
    with serve(FakeLLM([(200, reply(ORDERS_BY_STATUS))])) as fake:
        remote(fake)
        configure(settings, ASSISTANT={**settings.PRISMIQ["ASSISTANT"], "SAMPLE_VALUES": True})
        assert ask(client, "paid orders").status_code == 200
    prompt = json.dumps(fake.requests[0]["messages"])
    assert "sample_values" in prompt
    assert "shipped" in prompt
    assert CANARY_SECRET not in prompt


def test_offline_samples_let_a_value_name_a_filter(
    offline: None, client: APIClient, settings: Any
) -> None:
    configure(settings, ASSISTANT={"BACKEND": "offline", "SAMPLE_VALUES": True})
    body = ask(client, "number of paid orders", execute=True).json()
    assert body["result"]["rows"] == [[4]], body


def test_ask_has_its_own_rate_limit(offline: None, client: APIClient, settings: Any) -> None:
    alias = "ask_ratelimit"
    settings.CACHES = {
        **settings.CACHES,
        alias: {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"ask-{uuid.uuid4().hex}",
        },
    }
    settings.RATELIMIT_USE_CACHE = alias
    configure(settings, ASK_RATE_LIMIT="2/m", RATE_LIMIT="100/m")
    answers = [ask(client, "number of orders").status_code for _ in range(3)]
    assert answers == [200, 200, 429]
    # The query endpoints count apart.
    assert client.get(api("tables")).status_code == 200
