"""The result cache stores what the database answered, whatever the caller does with the result.

The write of a computed result runs after the response (``afterresponse``); by then a view's
``perform_execute`` hook (docs/api.md "Hooks") may have rewritten the result it was handed. The
entry must not carry that rewrite: the next hit would run the hook on already rewritten rows.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory, force_authenticate

from prismiq_django import cache, services
from prismiq_django.api.views import ExecuteView
from prismiq_django.execution import QueryResult
from tests.ops.test_afterresponse import _close
from tests.support.ops import customer_query


class Starred(ExecuteView):
    """A site hook that rewrites the rows and the columns of every result it returns."""

    def perform_execute(
        self, request: Request, definition: object, *, bypass_cache: bool = False
    ) -> QueryResult:
        result = super().perform_execute(request, definition, bypass_cache=bypass_cache)
        for row in result.rows:
            row[1] = "*" + str(row[1])
        result.columns.append("starred")
        result.column_types.append("string")
        return result


def _starred(user: Any, **body: Any) -> dict[str, Any]:
    request = APIRequestFactory().post("/x", {"query": customer_query(), **body}, format="json")
    force_authenticate(request, user)
    response = Starred.as_view()(request)
    response.render()
    assert response.status_code == 200, response.content
    _close(response)
    return dict(orjson.loads(response.content))


def _plain(user: Any) -> QueryResult:
    request = APIRequestFactory().get("/")
    request.user = user
    return services.execute(request, customer_query())


@pytest.mark.parametrize("bypass", [False, True])
def test_a_hook_rewriting_the_result_does_not_reach_the_entry(
    exposed_shop: dict[str, Any], user: Any, bypass: bool
) -> None:
    expected = _plain(user)  # computed (and stored) without the hook
    cache.invalidate("shop_customer")
    _starred(user, bypass_cache=bypass)  # miss (or bypass): computed, stored at close

    hit = _plain(user)
    assert hit.is_from_cache is True
    assert hit.columns == expected.columns == ["name", "city"]
    assert hit.rows == expected.rows
    assert not any(str(row[1]).startswith("*") for row in hit.rows)


def test_a_hooks_rewrite_of_the_rows_is_what_the_response_carries(
    exposed_shop: dict[str, Any], user: Any
) -> None:
    for _ in range(2):  # a miss, then a hit
        body = _starred(user)
        assert all(str(row[1]).startswith("*") for row in body["rows"]), body
        assert not any(str(row[1]).startswith("**") for row in body["rows"]), body
