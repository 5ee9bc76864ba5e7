"""``execute_envelope`` reads request envelopes exactly as ``ExecuteRequestSerializer`` does."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError

from prismiq_django.api.serializers import ExecuteRequestSerializer, execute_envelope

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)
KEYS = st.sampled_from(["query", "bypass_cache", "limit", "tables", ""])
BODIES = st.dictionaries(KEYS, JSON_VALUES | st.sampled_from([True, False, "yes", 0, 1, None]))


def _serializer(data: Any) -> object:
    envelope = ExecuteRequestSerializer(data=data)
    if not envelope.is_valid():
        return ("invalid", envelope.errors)
    return (envelope.validated_data["query"], envelope.validated_data["bypass_cache"])


def _fast(data: Any) -> object:
    try:
        return execute_envelope(data)
    except ValidationError as exc:
        return ("invalid", exc.detail)


@settings(max_examples=400)
@given(BODIES | JSON_VALUES)
def test_same_answer_as_the_serializer(data: Any) -> None:
    assert _fast(data) == _serializer(data)


def test_the_plain_shape_is_read_without_the_serializer() -> None:
    query = {"tables": [{"id": "o", "name": "shop_order"}]}
    assert execute_envelope({"query": query}) == (query, False)
    assert execute_envelope({"query": query, "bypass_cache": True}) == (query, True)
    assert execute_envelope({"query": query, "bypass_cache": False})[0] is query
