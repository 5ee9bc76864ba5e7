"""``TENANT_CALLBACK`` is called once per request object (prismiq_django.tenancy.scopes)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.test import RequestFactory
from rest_framework.request import Request

from prismiq_django.tenancy.scopes import tenant_value

CALLS: list[Any] = []


def counted_tenant(request: Any) -> object:
    """The tenant is the user's ``tenant`` attribute; every call recorded."""
    CALLS.append(request)
    return getattr(request.user, "tenant", None)


def other_tenant(request: Any) -> object:
    return "other"


@pytest.fixture
def counted(settings: Any) -> list[Any]:
    settings.PRISMIQ = {"TENANT_CALLBACK": "tests.tenancy.test_tenant_value.counted_tenant"}
    CALLS.clear()
    return CALLS


def _request(tenant: object) -> Any:
    request = RequestFactory().get("/")
    request.user = SimpleNamespace(tenant=tenant, is_authenticated=True)
    return request


def test_one_call_per_request_object(counted: list[Any]) -> None:
    request = _request(7)
    assert [tenant_value(request) for _ in range(3)] == [7, 7, 7]
    assert len(counted) == 1
    other = _request(8)
    assert tenant_value(other) == 8
    assert len(counted) == 2  # another request: its own call


def test_a_list_and_none_are_kept_too(counted: list[Any]) -> None:
    many, nobody = _request([1, 2]), _request(None)
    for _ in range(2):
        assert tenant_value(many) == [1, 2]
        assert tenant_value(nobody) is None
    assert len(counted) == 2


def test_a_replaced_user_or_a_changed_setting_calls_it_again(
    counted: list[Any], settings: Any
) -> None:
    request = _request(7)
    assert tenant_value(request) == 7
    request.user = SimpleNamespace(tenant=9, is_authenticated=True)
    assert tenant_value(request) == 9
    assert len(counted) == 2
    settings.PRISMIQ = {"TENANT_CALLBACK": "tests.tenancy.test_tenant_value.other_tenant"}
    assert tenant_value(request) == "other"


def test_a_drf_request_keeps_its_own_value_not_its_http_requests(counted: list[Any]) -> None:
    """The DRF Request and the HttpRequest it wraps may have different users (DRF's
    authentication against Django's session user): each object keeps its own answer."""
    http = _request(7)
    assert tenant_value(http) == 7
    drf = Request(http)
    drf.user = SimpleNamespace(tenant=3, is_authenticated=True)  # sets http.user too (DRF)
    drf.auth = None  # authenticated: DRF does not authenticate again
    http.user = SimpleNamespace(tenant=7, is_authenticated=True)
    assert tenant_value(drf) == 3
    assert tenant_value(http) == 7
    assert tenant_value(drf) == 3
    assert len(counted) == 3


def test_a_replaced_auth_calls_it_again(counted: list[Any]) -> None:
    """A callback may read ``request.auth`` (a token's claims): a request whose ``auth`` is
    replaced (an embed grant dropped by a view's check) is asked again."""
    drf = Request(_request(7))
    drf.user = SimpleNamespace(tenant=7, is_authenticated=True)
    drf.auth = "a token"
    assert tenant_value(drf) == 7
    drf.auth = None
    assert tenant_value(drf) == 7
    assert len(counted) == 2
