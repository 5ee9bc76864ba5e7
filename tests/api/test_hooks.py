"""The views' ``perform_*`` hooks: a site subclasses a view to audit or refuse runs."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory, force_authenticate

from prismiq_django.api.views import ExecuteView, ExplainView, PreviewView
from prismiq_django.execution import QueryResult
from tests.api.conftest import definition

AUDIT: list[tuple[str, object]] = []


class AuditedExecute(ExecuteView):
    def perform_execute(
        self, request: Request, definition: object, *, bypass_cache: bool = False
    ) -> QueryResult:
        AUDIT.append((request.user.get_username(), definition))
        return super().perform_execute(request, definition, bypass_cache=bypass_cache)


class NoPreview(PreviewView):
    def perform_preview(self, request: Request, definition: object, *, limit: int) -> QueryResult:
        raise PermissionDenied("Previews are disabled here.")


class CountedExplain(ExplainView):
    calls = 0

    def perform_explain(self, request: Request, definition: object, *, analyze: bool) -> Any:
        CountedExplain.calls += 1
        return {"wrapped": super().perform_explain(request, definition, analyze=analyze)}


def _post(view: Any, user: User, body: object) -> Any:
    request = APIRequestFactory().post("/x", body, format="json")
    force_authenticate(request, user)
    return view.as_view()(request)


def test_hooks_wrap_every_run(client: Any, alice: User) -> None:
    AUDIT.clear()
    executed = _post(AuditedExecute, alice, {"query": definition(limit=1)})
    assert executed.status_code == 200
    assert AUDIT == [("alice", definition(limit=1))]
    refused = _post(NoPreview, alice, {"query": definition()})
    assert refused.status_code == 403
    explained = _post(CountedExplain, alice, {"query": definition()})
    assert explained.status_code == 200
    assert "wrapped" in explained.data["plan"]
    assert CountedExplain.calls == 1
