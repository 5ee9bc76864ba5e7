"""The OpenAI-compatible chat-completions backend (OpenAI, vLLM, Ollama, llama.cpp...).

Plain HTTP with httpx: ``POST {base_url}/chat/completions`` with the model, the system prompt,
the exposed catalog and the question. The answer is constrained with a JSON schema
(``response_format: json_schema``); a server that refuses that parameter (HTTP 400/422) is asked
again once without it, told to answer JSON only. In a repair round the previous answer and its
validation errors are added to the conversation. The server's own text never reaches the
caller: an unreachable or failing server is :class:`AssistantError` ``unavailable``; an answer
that is not a JSON object with a ``query`` is :class:`AssistantError` (the caller may repair).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import httpx

from prismiq_django.assistant.base import Answer, AssistantError, Question
from prismiq_django.assistant.prompt import SYSTEM_PROMPT, answer_schema, catalog_description

#: Environment variables read by :meth:`OpenAICompatibleBackend.from_environment`.
ENV_BASE_URL = "PRISMIQ_ASSISTANT_BASE_URL"
ENV_MODEL = "PRISMIQ_ASSISTANT_MODEL"
ENV_API_KEY = "PRISMIQ_ASSISTANT_API_KEY"
_FENCE = re.compile(r"```(?:json)?\s*(\{.*\})\s*```", re.DOTALL)
MAX_ANSWER_BYTES = 256 * 1024


class OpenAICompatibleBackend:
    """``ASSISTANT["BACKEND"] = "openai_compatible"``: one chat completion per answer."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 30.0,
        json_schema: bool = True,
    ) -> None:
        if not base_url or not model:
            raise AssistantError("The assistant backend is not configured.", unavailable=True)
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.json_schema = json_schema

    @classmethod
    def from_environment(cls, **overrides: Any) -> OpenAICompatibleBackend:
        """A backend configured from ``PRISMIQ_ASSISTANT_BASE_URL``, ``..._MODEL`` and
        ``..._API_KEY`` (keyword arguments that are not None win)."""
        settings: dict[str, Any] = {
            "base_url": os.environ.get(ENV_BASE_URL, ""),
            "model": os.environ.get(ENV_MODEL, ""),
            "api_key": os.environ.get(ENV_API_KEY) or None,
        }
        settings.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**settings)

    def messages(self, question: Question) -> list[dict[str, str]]:
        """The conversation sent for ``question`` (exposed catalog only; samples if given)."""
        catalog = catalog_description(question.catalog, question.samples)
        out = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "system", "content": "Catalog: " + catalog},
        ]
        if question.context:
            out.append(
                {
                    "role": "system",
                    "content": "The user's current query: " + json.dumps(question.context),
                }
            )
        out.append({"role": "user", "content": question.text})
        if question.previous is not None:
            out.append({"role": "assistant", "content": json.dumps(question.previous)})
            problems = "; ".join(
                f"{e.get('path', '')}: {e.get('message', '')}" for e in question.errors
            )
            out.append(
                {
                    "role": "user",
                    "content": "That query is invalid: " + problems + ". Answer with a fixed one.",
                }
            )
        return out

    def answer(self, question: Question) -> Answer:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": self.messages(question),
            "temperature": 0,
        }
        if self.json_schema:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "query_answer", "schema": answer_schema(question.catalog)},
            }
        response = self._post(body)
        if response.status_code in (400, 422) and "response_format" in body:
            del body["response_format"]
            body["messages"][0]["content"] += "\nAnswer with the JSON object only."
            response = self._post(body)
        if response.status_code != 200:
            raise AssistantError("The assistant backend is unavailable.", unavailable=True)
        return _parse(response)

    def _post(self, body: dict[str, Any]) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        try:
            return httpx.post(self.url, json=body, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise AssistantError("The assistant backend is unavailable.", unavailable=True) from exc


def _parse(response: httpx.Response) -> Answer:
    unusable = AssistantError("The assistant's answer was not a query definition.")
    if len(response.content) > MAX_ANSWER_BYTES:
        raise unusable
    try:
        content = response.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise AssistantError("The assistant backend is unavailable.", unavailable=True) from exc
    if not isinstance(content, str):
        raise unusable
    fenced = _FENCE.search(content)
    try:
        data = json.loads(fenced.group(1) if fenced else content)
    except ValueError as exc:
        raise unusable from exc
    if not isinstance(data, dict) or not isinstance(data.get("query"), dict):
        raise unusable
    explanation = data.get("explanation")
    return Answer(
        query=data["query"], explanation=explanation if isinstance(explanation, str) else ""
    )


__all__ = ["ENV_API_KEY", "ENV_BASE_URL", "ENV_MODEL", "OpenAICompatibleBackend"]
