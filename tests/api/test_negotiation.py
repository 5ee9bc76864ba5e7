"""The API's content negotiation answers exactly as DRF's, shortcut or not."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIClient

from prismiq_django.api.negotiation import PrismiqContentNegotiation
from prismiq_django.api.renderers import PrismiqJSONRenderer
from tests.api.conftest import api


class _Yaml(BaseRenderer):
    media_type = "application/vnd.oai.openapi"
    format = "yaml"


RENDERER_SETS = {
    "prismiq json": [PrismiqJSONRenderer],
    "json + browsable": [JSONRenderer, BrowsableAPIRenderer],
    "yaml + json": [_Yaml, PrismiqJSONRenderer],
    "browsable first": [BrowsableAPIRenderer, JSONRenderer],
}
ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "application/json; indent=4",
    "application/json, text/plain, */*",
    "text/html",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "application/vnd.oai.openapi",
    "application/*",
    "text/plain",
    "",
    "application/JSON",
]
QUERIES = ["", "format=json", "format=yaml", "format=api", "x=1"]


def _choose(negotiation: Any, accept: str | None, query: str, classes: list[type]) -> object:
    extra = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(RequestFactory().get("/x" + (f"?{query}" if query else ""), **extra))
    renderers = [cls() for cls in classes]
    try:
        renderer, media_type = negotiation.select_renderer(request, renderers)
    except NotAcceptable:
        return "406"
    except Exception as exc:
        return type(exc).__name__
    return type(renderer), media_type


@pytest.mark.parametrize("classes", list(RENDERER_SETS.values()), ids=list(RENDERER_SETS))
@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("accept", ACCEPTS)
def test_same_choice_as_drf(classes: list[type], query: str, accept: str | None) -> None:
    ours = _choose(PrismiqContentNegotiation(), accept, query, classes)
    drf = _choose(DefaultContentNegotiation(), accept, query, classes)
    assert ours == drf


def test_the_api_still_refuses_what_it_cannot_render(client: APIClient) -> None:
    assert client.get(api("tables"), HTTP_ACCEPT="text/html").status_code == 406
    ok = client.get(api("tables"), HTTP_ACCEPT="application/json")
    assert ok.status_code == 200
    assert ok["Content-Type"] == "application/json"
