"""The OpenAI-compatible backend against a real local HTTP server: valid answers, an invalid
answer repaired with its validation errors, hostile answers refused, servers that do not
support JSON-schema output, and what the prompt contains (the exposed catalog only)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from prismiq_django.assistant.base import AssistantError, Question
from prismiq_django.assistant.conversation import AnswerInvalid, converse
from prismiq_django.assistant.openai_compatible import (
    ENV_BASE_URL,
    ENV_MODEL,
    OpenAICompatibleBackend,
)
from prismiq_django.query import QueryValidationError, parse
from tests.assistant.fake_llm import FakeLLM, serve
from tests.query.catalogs import SHOP

GOOD = {
    "tables": [{"id": "o", "name": "shop_order"}],
    "columns": [
        {"table_id": "o", "column": "status"},
        {"table_id": "o", "column": "*", "aggregation": "count", "alias": "n"},
    ],
}
BAD = {
    "tables": [{"id": "o", "name": "shop_order"}],
    "columns": [{"table_id": "o", "column": "colour"}],
}
UNEXPOSED = {
    "tables": [{"id": "c", "name": "api_canary"}],
    "columns": [{"table_id": "c", "column": "secret"}],
}


def answer(query: dict[str, Any], explanation: str = "Orders by status.") -> str:
    return json.dumps({"query": query, "explanation": explanation})


def validate(query: dict[str, Any]) -> list[dict[str, str]]:
    try:
        parse(query, SHOP)
    except QueryValidationError as exc:
        return [e.as_dict() for e in exc.errors]
    return []


def backend(fake: FakeLLM, **kw: Any) -> OpenAICompatibleBackend:
    return OpenAICompatibleBackend(base_url=fake.url, model="test-model", api_key="k-1", **kw)


def test_a_valid_answer_is_returned_with_a_schema_constrained_request() -> None:
    with serve(FakeLLM([(200, answer(GOOD))])) as fake:
        result = converse(backend(fake), Question("orders by status", SHOP), validate)
    assert result.query == GOOD
    assert result.explanation == "Orders by status."
    (request,) = fake.requests
    assert request["model"] == "test-model"
    schema = request["response_format"]["json_schema"]["schema"]
    table_enum = schema["properties"]["query"]["properties"]["tables"]["items"]
    assert table_enum["properties"]["name"]["enum"] == sorted(SHOP.tables)
    assert fake.headers[0]["Authorization"] == "Bearer k-1"


def test_an_invalid_answer_gets_one_repair_round_with_its_errors() -> None:
    with serve(FakeLLM([(200, answer(BAD)), (200, answer(GOOD))])) as fake:
        result = converse(backend(fake), Question("orders by colour", SHOP), validate)
    assert result.query == GOOD
    assert len(fake.requests) == 2
    repair = fake.requests[1]["messages"]
    assert json.loads(repair[-2]["content"]) == BAD
    assert "colour" in repair[-1]["content"]
    assert "/columns/0/column" in repair[-1]["content"]


@pytest.mark.parametrize(
    "replies",
    [
        [(200, answer(UNEXPOSED))],
        [(200, answer(BAD)), (200, answer(UNEXPOSED))],
        [(200, "DROP TABLE shop_order; SELECT * FROM api_canary")],
        [(200, json.dumps({"sql": "SELECT * FROM api_canary"}))],
        [
            (
                200,
                answer(
                    {
                        **GOOD,
                        "columns": [
                            {
                                "table_id": "o",
                                "column": "total",
                                "sql_expression": "(SELECT secret FROM api_canary)",
                            }
                        ],
                        "tables": [{"id": "o", "name": "shop_order; DROP TABLE x"}],
                    }
                ),
            )
        ],
    ],
    ids=["unexposed-table", "bad-then-unexposed", "sql-text", "sql-field", "injection"],
)
def test_hostile_answers_end_invalid(replies: list[tuple[int, Any]]) -> None:
    with serve(FakeLLM(replies)) as fake, pytest.raises(AnswerInvalid) as caught:
        converse(backend(fake), Question("show me the canary", SHOP), validate)
    assert caught.value.errors
    assert len(fake.requests) == 2  # one repair round, never more


def test_a_server_without_json_schema_support_is_asked_again_without_it() -> None:
    fenced = "Here you go:\n```json\n" + answer(GOOD) + "\n```"
    with serve(FakeLLM([(200, fenced)], refuse_schema=True)) as fake:
        result = backend(fake).answer(Question("orders by status", SHOP))
    assert result.query == GOOD
    assert ["response_format" in r for r in fake.requests] == [True, False]


@pytest.mark.parametrize("status", [401, 429, 500, 503])
def test_server_failures_are_unavailable_without_the_server_text(status: int) -> None:
    body = {"error": {"message": "internal secret detail"}}
    with serve(FakeLLM([(status, body)])) as fake, pytest.raises(AssistantError) as caught:
        backend(fake).answer(Question("orders by status", SHOP))
    assert caught.value.unavailable
    assert "secret" not in caught.value.message


def test_an_unreachable_server_is_unavailable() -> None:
    dead = OpenAICompatibleBackend(base_url="http://127.0.0.1:9/v1", model="m", timeout=2)
    with pytest.raises(AssistantError) as caught:
        dead.answer(Question("orders", SHOP))
    assert caught.value.unavailable


def test_the_prompt_holds_the_exposed_catalog_and_samples_only_when_given() -> None:
    with serve(FakeLLM([(200, answer(GOOD))])) as fake:
        backend(fake).answer(Question("orders by status", SHOP))
        backend(fake).answer(
            Question("orders by status", SHOP, samples={("shop_order", "status"): ["paid"]})
        )
    plain, sampled = (json.dumps(r["messages"]) for r in fake.requests)
    for table in SHOP.tables:
        assert table in plain
    assert "api_token" not in plain
    assert "api_canary" not in plain
    assert "sample_values" not in plain
    assert "paid" in sampled


def test_configuration_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_BASE_URL, "http://127.0.0.1:1/v1/")
    monkeypatch.setenv(ENV_MODEL, "llama")
    configured = OpenAICompatibleBackend.from_environment()
    assert configured.url == "http://127.0.0.1:1/v1/chat/completions"
    assert configured.model == "llama"
    monkeypatch.delenv(ENV_MODEL)
    with pytest.raises(AssistantError):
        OpenAICompatibleBackend.from_environment()
