"""The OpenAPI document (``openapi``), Swagger UI (``docs``), and a schemathesis run against the
generated document that must find no 5xx answer."""

from __future__ import annotations

import json
import os
from typing import Any, ClassVar
from urllib.parse import urlencode

import hypothesis
import pytest
import requests
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck
from rest_framework.test import APIClient
from schemathesis.core import NOT_SET
from schemathesis.core.transport import Response as SchemathesisResponse
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from prismiq_django.api.openapi import DEFINITION_COMPONENTS, EXAMPLE_DEFINITION
from prismiq_django.api.views import OpenApiView
from tests.api.conftest import API, api, configure

#: Examples per operation and mode; raise it for a longer hunt (``PRISMIQ_FUZZ_EXAMPLES=200``).
FUZZ_EXAMPLES = int(os.environ.get("PRISMIQ_FUZZ_EXAMPLES", "10"))

ENDPOINT_PATHS = {
    "/schema/": {"get"},
    "/tables/": {"get"},
    "/tables/{name}/": {"get"},
    "/tables/{name}/columns/{column}/values/": {"get"},
    "/query/validate/": {"post"},
    "/query/sql/": {"post"},
    "/query/execute/": {"post"},
    "/query/preview/": {"post"},
    "/query/explain/": {"post"},
    "/sql/validate/": {"post"},
    "/sql/execute/": {"post"},
    "/ask/": {"post"},
    "/saved-queries/": {"get", "post"},
    "/saved-queries/{id}/": {"get", "put", "patch", "delete"},
    "/saved-queries/{id}/execute/": {"post"},
    "/dashboards/": {"get", "post"},
    "/dashboards/import/": {"post"},
    "/dashboards/{dashboard_id}/": {"get", "patch", "delete"},
    "/dashboards/{dashboard_id}/layout/": {"put"},
    "/dashboards/{dashboard_id}/export/": {"get"},
    "/dashboards/{dashboard_id}/execute/": {"post"},
    "/dashboards/{dashboard_id}/widgets/": {"post"},
    "/dashboards/{dashboard_id}/widgets/{widget_id}/": {"patch", "delete"},
    "/dashboards/{dashboard_id}/widgets/{widget_id}/duplicate/": {"post"},
    "/dashboards/{dashboard_id}/widgets/{widget_id}/execute/": {"post"},
}


def _document(client: APIClient) -> dict[str, Any]:
    response = client.get(api("openapi"), {"format": "json"})
    assert response.status_code == 200
    doc: dict[str, Any] = json.loads(response.content)
    return doc


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return _resolve(doc, schema["allOf"][0])
    return schema


def _walk_refs(node: object) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.add(value)
            else:
                found |= _walk_refs(value)
    elif isinstance(node, list):
        for item in node:
            found |= _walk_refs(item)
    return found


def test_document_covers_every_endpoint_under_the_mount_point(client: APIClient) -> None:
    doc = _document(client)
    assert doc["openapi"].startswith("3.")
    paths = {p.removeprefix(API.rstrip("/")): set(ops) for p, ops in doc["paths"].items()}
    assert all(p.startswith(API) for p in doc["paths"])
    for path, methods in ENDPOINT_PATHS.items():
        assert path in paths, path
        assert methods <= paths[path], path
    # Every reference resolves.
    names = set(doc["components"]["schemas"])
    for ref in _walk_refs(doc):
        assert ref.rsplit("/", 1)[1] in names, ref


def test_query_definition_and_result_are_fully_described(client: APIClient) -> None:
    doc = _document(client)
    schemas = doc["components"]["schemas"]
    definition = schemas["QueryDefinition"]
    assert set(definition["properties"]) == {
        "tables", "joins", "columns", "filters", "group_by", "order_by", "limit", "offset",
        "time_series",
    }  # fmt: skip
    assert set(definition["required"]) == {"tables", "columns"}
    for name in DEFINITION_COMPONENTS:
        assert name in schemas
    filter_schema = _resolve(doc, schemas["Filter"])
    operator = _resolve(doc, filter_schema["properties"]["operator"])
    assert "date_relative" in operator["enum"]
    assert "in_" in operator["enum"]
    trunc = _resolve(doc, _resolve(doc, schemas["ColumnSpec"])["properties"]["date_trunc"])
    assert trunc["enum"] == ["minute", "hour", "day", "week", "month", "quarter", "year"]
    result = schemas["QueryResult"]
    assert set(result["required"]) == {
        "columns", "column_types", "rows", "row_count", "truncated", "execution_time_ms",
        "is_from_cache", "cached_at",
    }  # fmt: skip
    assert result["properties"]["rows"]["items"]["type"] == "array"
    execute = doc["paths"][API + "query/execute/"]["post"]
    body = _resolve(doc, execute["requestBody"]["content"]["application/json"]["schema"])
    assert _resolve(doc, body["properties"]["query"]) == definition
    ok = execute["responses"]["200"]["content"]["application/json"]
    assert ok["schema"] == {"$ref": "#/components/schemas/QueryResult"}
    assert ok["examples"]
    assert set(execute["responses"]) >= {"200", "400", "503", "504"}
    validate = doc["paths"][API + "query/validate/"]["post"]
    examples = validate["requestBody"]["content"]["application/json"]["examples"]
    assert any(e["value"] == EXAMPLE_DEFINITION for e in examples.values())


@pytest.mark.parametrize(
    ("path", "status"),
    [("query/execute/", 200), ("query/preview/", 200), ("query/explain/", 200),
     ("query/export/", 200), ("query/validate/", 200), ("query/sql/", 200)],
)  # fmt: skip
def test_every_request_example_is_a_body_that_works(
    client: APIClient, path: str, status: int
) -> None:
    """What Swagger UI's "Try it out" sends first: the operation's request examples, never a
    body generated from the schema ("string" tables: a 400 with a wall of errors)."""
    operation = _document(client)["paths"][API + path]["post"]
    examples = operation["requestBody"]["content"]["application/json"].get("examples")
    assert examples, f"{path} has no request example"
    for example in examples.values():
        response = client.post(api(path), example["value"], format="json")
        content = _body(response)  # read to its end: an export streams in its transaction
        assert response.status_code == status, content


def test_document_generation_emits_no_warnings(
    client: APIClient, capsys: pytest.CaptureFixture[str]
) -> None:
    _document(client)
    captured = capsys.readouterr()
    assert "Warning" not in captured.err
    assert "Error" not in captured.err


def test_docs_page_points_at_the_document(client: APIClient) -> None:
    response = client.get(api("docs"))
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
    assert (API + "openapi").encode() in response.content


def test_yaml_is_the_default_format(client: APIClient) -> None:
    response = client.get(api("openapi"))
    assert response.status_code == 200
    assert response.content.startswith(b"openapi:")


CONFORMANCE = [response_schema_conformance, status_code_conformance, content_type_conformance]


def _body(response: Any) -> bytes:
    """The whole body; a streamed one (an export, inside its read-only transaction) is read to
    its end, as a WSGI server does."""
    if response.streaming:
        return b"".join(response.streaming_content)
    return bytes(response.content)


def _as_schemathesis_response(
    response: Any, content: bytes, method: str, url: str
) -> SchemathesisResponse:
    return SchemathesisResponse(
        status_code=response.status_code,
        headers={name: [value] for name, value in response.items()},
        content=content,
        request=requests.Request(method, "http://testserver" + url).prepare(),
        elapsed=0.0,
        verify=False,
        encoding="utf-8",
    )


def _query_string(query: dict[str, Any] | None) -> str:
    return "?" + urlencode(query, doseq=True) if query else ""


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_schemathesis_finds_no_server_error(client: APIClient, mode: GenerationMode) -> None:
    """Requests generated from the document (valid and invalid ones) never get a 5xx; answers to
    valid ones conform to the document (status, content type, body schema)."""
    client.post(api("saved-queries"), {"name": "seed", "query": EXAMPLE_DEFINITION}, format="json")
    schema = schemathesis.openapi.from_dict(_document(client))
    seen: dict[str, int] = {}
    statuses: set[int] = set()
    for result in schema.get_all_operations():
        operation = result.ok()

        @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
        @hypothesis.settings(
            max_examples=FUZZ_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            kwargs: dict[str, Any] = {}
            if isinstance(case.body, bytes):
                kwargs["data"] = case.body
                kwargs["content_type"] = case.media_type or "application/octet-stream"
            elif case.body is not NOT_SET:
                kwargs["data"] = json.dumps(case.body)
                kwargs["content_type"] = "application/json"
            url = case.formatted_path + _query_string(case.query)
            response = getattr(client, case.method.lower())(url, **kwargs)
            key = f"{case.method} {case.path}"
            seen[key] = seen.get(key, 0) + 1
            statuses.add(response.status_code)
            content = _body(response)
            assert response.status_code < 500, (key, case.body, case.query, content)
            if mode is GenerationMode.POSITIVE:
                # Valid requests get documented statuses, content types and bodies.
                answer = _as_schemathesis_response(response, content, case.method, url)
                case.validate_response(answer, checks=CONFORMANCE)

        try:
            run()
        except hypothesis.errors.Unsatisfiable:
            # Nothing in this operation can be made invalid (no parameters, no body).
            assert mode is GenerationMode.NEGATIVE
    assert len(seen) >= (15 if mode is GenerationMode.POSITIVE else 8), seen
    assert {200, 400} <= statuses if mode is GenerationMode.POSITIVE else 400 in statuses


def test_document_works_whatever_the_sites_schema_class(client: APIClient, settings: Any) -> None:
    """A site that does not use drf-spectacular's AutoSchema globally still gets the document."""
    settings.REST_FRAMEWORK = {
        k: v for k, v in settings.REST_FRAMEWORK.items() if k != "DEFAULT_SCHEMA_CLASS"
    }
    doc = _document(client)
    assert API + "query/execute/" in doc["paths"]
    assert API + "health/live/" in doc["paths"]


def test_site_wide_document_includes_the_components_without_warnings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A site generating one document for all its APIs gets complete, warning-free components."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    doc = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(doc)
    assert "QueryDefinition" in doc["components"]["schemas"]
    assert "/api/analytics/query/execute/" in doc["paths"]
    names = set(doc["components"]["schemas"])
    for ref in _walk_refs(doc):
        assert ref.rsplit("/", 1)[1] in names, ref
    err = capsys.readouterr().err
    assert "Warning" not in err
    assert "Error" not in err


def test_real_answers_conform_to_the_document(client: APIClient) -> None:
    """Valid and invalid requests with known outcomes: every answer (status, content type, body)
    matches what the document says, QueryResult and TableSchema included."""
    schema = schemathesis.openapi.from_dict(_document(client))
    created = client.post(
        api("saved-queries"), {"name": "seed", "query": EXAMPLE_DEFINITION}, format="json"
    )
    pk = created.json()["id"]
    bad = {**EXAMPLE_DEFINITION, "columns": [{"table_id": "o", "column": "nope"}]}
    widget = {
        "type": "table",
        "query": EXAMPLE_DEFINITION,
        "position": {"x": 0, "y": 0, "w": 6, "h": 4},
    }
    board = client.post(
        api("dashboards"),
        {
            "name": "seed",
            "widgets": [widget],
            "filters": [{"id": "s", "type": "select", "field": "status"}],
        },
        format="json",
    ).json()
    dpk, wpk = int(board["id"]), int(board["widgets"][0]["id"])
    exported = client.get(api(f"dashboards/{dpk}/export")).json()
    ids = {"dashboard_id": dpk}
    wids = {"dashboard_id": dpk, "widget_id": wpk}
    dashboard_calls: list[tuple[str, str, dict[str, Any], dict[str, Any], Any, int]] = [
        ("GET", "dashboards/", {}, {}, NOT_SET, 200),
        ("POST", "dashboards/", {}, {}, {"name": "x", "widgets": [widget]}, 201),
        ("POST", "dashboards/", {}, {}, {"name": "x", "widgets": [{**widget, "query": bad}]}, 400),
        ("GET", "dashboards/{dashboard_id}/", ids, {}, NOT_SET, 200),
        ("GET", "dashboards/{dashboard_id}/", {"dashboard_id": dpk + 1000}, {}, NOT_SET, 404),
        ("PATCH", "dashboards/{dashboard_id}/", ids, {}, {"name": "renamed"}, 200),
        ("GET", "dashboards/{dashboard_id}/export/", ids, {}, NOT_SET, 200),
        ("POST", "dashboards/import/", {}, {}, {"export_data": exported}, 201),
        (
            "POST",
            "dashboards/{dashboard_id}/execute/",
            ids,
            {},
            {"filter_values": [{"filter_id": "s", "value": "paid"}]},
            200,
        ),
        (
            "POST",
            "dashboards/{dashboard_id}/execute/",
            ids,
            {},
            {"filter_values": [{"filter_id": "x", "value": 1}]},
            400,
        ),
        (
            "POST",
            "dashboards/{dashboard_id}/widgets/{widget_id}/execute/",
            wids,
            {},
            {"filter_values": []},
            200,
        ),
        ("PATCH", "dashboards/{dashboard_id}/widgets/{widget_id}/", wids, {}, {"title": "t"}, 200),
        (
            "POST",
            "dashboards/{dashboard_id}/widgets/{widget_id}/duplicate/",
            wids,
            {},
            NOT_SET,
            201,
        ),
        ("POST", "dashboards/{dashboard_id}/widgets/", ids, {}, widget, 201),
        (
            "PUT",
            "dashboards/{dashboard_id}/layout/",
            ids,
            {},
            [{"id": str(wpk), "x": 1, "y": 1, "w": 2, "h": 2}],
            200,
        ),
        ("DELETE", "dashboards/{dashboard_id}/widgets/{widget_id}/", wids, {}, NOT_SET, 204),
        ("DELETE", "dashboards/{dashboard_id}/", ids, {}, NOT_SET, 204),
    ]
    calls: list[tuple[str, str, dict[str, Any], dict[str, Any], Any, int]] = [
        *dashboard_calls,
        ("GET", "schema/", {}, {}, NOT_SET, 200),
        ("GET", "tables/", {}, {}, NOT_SET, 200),
        ("GET", "tables/{name}/", {"name": "shop_order"}, {}, NOT_SET, 200),
        ("GET", "tables/{name}/", {"name": "nope"}, {}, NOT_SET, 404),
        (
            "GET",
            "tables/{name}/columns/{column}/values/",
            {"name": "shop_order", "column": "status"},
            {"limit": 3, "search": "a"},
            NOT_SET,
            200,
        ),
        ("POST", "query/validate/", {}, {}, EXAMPLE_DEFINITION, 200),
        ("POST", "query/validate/", {}, {}, bad, 200),
        ("POST", "query/sql/", {}, {}, EXAMPLE_DEFINITION, 200),
        ("POST", "query/sql/", {}, {}, bad, 400),
        ("POST", "query/execute/", {}, {}, {"query": EXAMPLE_DEFINITION}, 200),
        ("POST", "query/execute/", {}, {}, {"query": bad}, 400),
        ("POST", "query/preview/", {}, {}, {"query": EXAMPLE_DEFINITION, "limit": 2}, 200),
        ("POST", "query/preview/", {}, {"limit": 2}, EXAMPLE_DEFINITION, 200),
        ("POST", "query/explain/", {}, {}, {"query": EXAMPLE_DEFINITION}, 200),
        ("POST", "sql/validate/", {}, {}, {"sql": "SELECT 1"}, 403),
        ("POST", "sql/execute/", {}, {}, {"sql": "SELECT 1"}, 403),
        ("POST", "ask/", {}, {}, {"question": "number of orders"}, 404),
        ("GET", "saved-queries/", {}, {}, NOT_SET, 200),
        ("POST", "saved-queries/", {}, {}, {"name": "x", "query": EXAMPLE_DEFINITION}, 201),
        ("POST", "saved-queries/", {}, {}, {"name": "x", "query": bad}, 400),
        ("GET", "saved-queries/{id}/", {"id": pk}, {}, NOT_SET, 200),
        ("GET", "saved-queries/{id}/", {"id": pk + 1000}, {}, NOT_SET, 404),
        ("PATCH", "saved-queries/{id}/", {"id": pk}, {}, {"name": "renamed"}, 200),
        ("POST", "saved-queries/{id}/execute/", {"id": pk}, {}, {}, 200),
        ("DELETE", "saved-queries/{id}/", {"id": pk}, {}, NOT_SET, 204),
        ("GET", "health/live/", {}, {}, NOT_SET, 200),
        ("GET", "health/ready/", {}, {}, NOT_SET, 200),
        ("GET", "health/", {}, {}, NOT_SET, 200),
        ("GET", "metrics/", {}, {}, NOT_SET, 403),
    ]
    for method, path, path_parameters, query, body, expected in calls:
        operation = schema[API + path][method]
        case = operation.Case(path_parameters=path_parameters, query=query, body=body)
        kwargs: dict[str, Any] = {}
        if body is not NOT_SET:
            kwargs = {"data": json.dumps(body), "content_type": "application/json"}
        url = case.formatted_path + _query_string(query)
        response = getattr(client, method.lower())(url, **kwargs)
        content = _body(response)
        assert response.status_code == expected, (method, url, content[:300])
        answer = _as_schemathesis_response(response, content, method, url)
        case.validate_response(answer, checks=CONFORMANCE)


@pytest.mark.parametrize("path", ["openapi", "docs", "openapi/?format=json"])
def test_refusals_are_json_even_where_success_is_yaml_or_html(path: str) -> None:
    response = APIClient().get(api(path))
    assert response.status_code in (401, 403)
    assert response["Content-Type"].startswith("application/json")
    assert set(response.json()) == {"detail"}


class CountingGenerator(SchemaGenerator):
    """drf-spectacular's generator, counting the documents it generates."""

    generated: ClassVar[list[str]] = []

    def get_schema(self, request: Any = None, public: bool = False) -> Any:
        CountingGenerator.generated.append(getattr(request, "path", ""))
        return super().get_schema(request=request, public=public)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setattr(OpenApiView, "generator_class", CountingGenerator)
    CountingGenerator.generated = []
    return CountingGenerator.generated


def test_document_is_generated_once_per_process(client: APIClient, counting: list[str]) -> None:
    first = _document(client)
    again = _document(client)
    yaml = client.get(api("openapi/"))
    assert yaml.status_code == 200
    assert yaml.content.startswith(b"openapi:")
    assert again == first
    assert len(counting) == 1


def test_setting_changes_regenerate_the_document(
    client: APIClient, counting: list[str], settings: Any
) -> None:
    first = _document(client)
    _document(client)
    assert len(counting) == 1
    # Any setting may change the document (override_settings / the settings fixture in tests).
    configure(settings, MAX_ROWS=123)
    assert _document(client) == first
    assert len(counting) == 2
    settings.REST_FRAMEWORK = dict(settings.REST_FRAMEWORK)
    _document(client)
    _document(client)
    assert len(counting) == 3


def test_each_mount_point_gets_its_own_paths_from_one_document(
    client: APIClient, counting: list[str], settings: Any
) -> None:
    settings.ROOT_URLCONF = "tests.api.two_mounts_urls"
    for _ in range(2):
        for mount in (API, "/second/mount/"):
            response = client.get(mount + "openapi", {"format": "json"})
            assert response.status_code == 200, response.content
            paths = json.loads(response.content)["paths"]
            assert mount + "query/execute/" in paths
            assert all(path.startswith(mount) for path in paths), sorted(paths)[:3]
    assert len(counting) == 1


def test_a_stored_document_is_never_served_to_a_refused_caller(
    client: APIClient, counting: list[str]
) -> None:
    _document(client)
    for path in ("openapi", "openapi/?format=json"):
        response = APIClient().get(api(path))
        assert response.status_code in (401, 403)
        assert response["Content-Type"].startswith("application/json")
        assert set(response.json()) == {"detail"}
    assert len(counting) == 1
