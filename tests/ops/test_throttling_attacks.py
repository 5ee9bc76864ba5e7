"""Attacks on the rate-limit key with stateless tokens: claims a signed token may carry
(simplejwt signs whatever ``user_id`` it is given) must each be counted, never let through."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django_ratelimit.core import _get_window
from rest_framework.test import APIClient

from tests.support.ops import API, customer_query
from tests.tokens import access_token, bearer


@pytest.fixture
def limited(settings: Any, exposed_shop: Any) -> None:
    settings.PRISMIQ = {**settings.PRISMIQ, "RATE_LIMIT": "3/m"}


def _validate(client: APIClient) -> Any:
    return client.post(API + "query/validate", customer_query(), format="json")


@pytest.mark.parametrize(
    "user_id",
    [
        "\ud800",  # a lone surrogate: JSON carries it, UTF-8 cannot encode it
        "a\ud800b",
        "a\x00b",
        {"id": "b" * 2000},
        ["1"],
    ],
)
def test_an_odd_subject_is_counted_not_let_through(
    limited: None, jwt_auth: None, caplog: pytest.LogCaptureFixture, user_id: object
) -> None:
    """A ``user_id`` that names no user is counted per subject. One that the counter's key
    cannot encode made every request "counters unavailable; request not limited": a signed
    token with such a claim was never rate limited."""
    key = "subject:" + str(user_id).encode("utf-8", "backslashreplace").decode()
    left = _get_window(key, 60) + 1 - time.time()
    if left < 10:
        time.sleep(left + 0.1)
    client = bearer(access_token(user_id=user_id, username="x"), REMOTE_ADDR="203.0.113.9")
    assert [_validate(client).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert not [r for r in caplog.records if "unavailable" in r.getMessage()]
