"""The query endpoints: validate, sql, execute, preview, explain."""

from __future__ import annotations

from decimal import Decimal

import orjson
from drf_spectacular.utils import (
    PolymorphicProxySerializer,
)
from rest_framework.request import Request
from rest_framework.response import Response

from prismiq_django import services
from prismiq_django.api.errors import nested_errors
from prismiq_django.api.openapi import (
    DEFINITION_EXAMPLES,
    ENVELOPE_EXAMPLES,
    RESULT_EXAMPLES,
    VALIDATION_ERROR_EXAMPLE,
)
from prismiq_django.api.openapi.decorators import extend_schema
from prismiq_django.api.serializers import (
    ExecuteRequestSerializer,
    ExplainRequestSerializer,
    ExplainResponseSerializer,
    PreviewParamsSerializer,
    PreviewRequestSerializer,
    QueryDefinitionSerializer,
    QueryResultSerializer,
    SqlResponseSerializer,
    ValidateResponseSerializer,
    execute_envelope,
    paging_options,
)
from prismiq_django.api.throttling import RateLimitMixin, settled_count
from prismiq_django.api.views.base import INVALID, QUERY_ERRORS, PrismiqAPIView, result_response
from prismiq_django.catalog.store import database_alias
from prismiq_django.execution.plans import explain_analyzes

_ORJSON_INTS = range(-(2**63), 2**64)  # what orjson writes natively


def exact_param(param: object) -> object:
    """``param`` as ``query/sql`` shows it: a finite ``Decimal`` becomes a JSON number written with
    exactly its own digits (``str(Decimal)``, e.g. ``0.10``, ``1E+30``), an integer beyond 64 bits
    is written whole (both as ``orjson.Fragment``, raw JSON the renderer copies), a non-finite
    ``Decimal`` becomes ``null``; lists are converted item by item, anything else is left to the
    renderer. (The renderer alone writes decimals through ``float``: ``0.1000000000000000055``
    would show as ``0.1``.)"""
    if isinstance(param, Decimal):
        return orjson.Fragment(str(param)) if param.is_finite() else None
    if isinstance(param, int) and not isinstance(param, bool) and param not in _ORJSON_INTS:
        return orjson.Fragment(str(param))
    if isinstance(param, list | tuple):
        return [exact_param(item) for item in param]
    return param


def _is_envelope(data: object) -> bool:
    """True when a preview body is ``{query, limit?}`` rather than a bare definition."""
    return isinstance(data, dict) and "query" in data and "tables" not in data


class ValidateView(RateLimitMixin, PrismiqAPIView):  # type: ignore[misc]
    """Validate a definition: always 200, with every problem found."""

    @extend_schema(
        operation_id="query_validate",
        request=QueryDefinitionSerializer,
        responses={200: ValidateResponseSerializer},
        examples=DEFINITION_EXAMPLES,
        tags=["query"],
    )
    def post(self, request: Request) -> Response:
        problems = services.validate(request, request.data)
        return Response({"valid": not problems, "errors": [p.as_dict() for p in problems]})


class SqlView(RateLimitMixin, PrismiqAPIView):  # type: ignore[misc]
    """The exact statement and parameters the definition compiles to (nothing runs)."""

    @extend_schema(
        operation_id="query_sql",
        request=QueryDefinitionSerializer,
        responses={200: SqlResponseSerializer, 400: INVALID},
        examples=[*DEFINITION_EXAMPLES, VALIDATION_ERROR_EXAMPLE],
        tags=["query"],
    )
    def post(self, request: Request) -> Response:
        compiled = services.to_sql(request, request.data)
        return Response({"sql": compiled.sql, "params": [exact_param(p) for p in compiled.params]})


class ExecuteView(RateLimitMixin, PrismiqAPIView):  # type: ignore[misc]
    """Run a definition; the result may come from the result cache.

    Its rate count travels with the result-cache read (one Redis round trip for a hit) unless a
    subclass replaces ``post`` or ``perform_execute``: then it is counted before the handler,
    as on every other endpoint.
    """

    def rate_limit_deferrable(self, request: Request) -> bool:
        cls = type(self)
        return (
            cls.post is ExecuteView.post and cls.perform_execute is PrismiqAPIView.perform_execute
        )

    @extend_schema(
        operation_id="query_execute",
        request=ExecuteRequestSerializer,
        responses={200: QueryResultSerializer, **QUERY_ERRORS},
        examples=[*ENVELOPE_EXAMPLES, *RESULT_EXAMPLES, VALIDATION_ERROR_EXAMPLE],
        tags=["query"],
    )
    def post(self, request: Request) -> Response:
        with settled_count(request):
            query, bypass_cache = execute_envelope(request.data)
            paging = paging_options(request.data)
            with nested_errors("query"):
                # paging only when asked: a site's perform_execute override may predate it
                extra = {"paging": paging} if paging is not None else {}
                result = self.perform_execute(request, query, bypass_cache=bypass_cache, **extra)
            return result_response(result)


class PreviewView(RateLimitMixin, PrismiqAPIView):  # type: ignore[misc]
    """Run a definition with a small limit. Body: ``{query, limit?}`` or a bare definition with
    ``?limit=``."""

    @extend_schema(
        operation_id="query_preview",
        request=PolymorphicProxySerializer(
            component_name="PreviewBody",
            serializers=[PreviewRequestSerializer, QueryDefinitionSerializer],
            resource_type_field_name=None,
        ),
        parameters=[PreviewParamsSerializer],
        responses={200: QueryResultSerializer, **QUERY_ERRORS},
        examples=[*ENVELOPE_EXAMPLES, *RESULT_EXAMPLES],
        tags=["query"],
    )
    def post(self, request: Request) -> Response:
        params = PreviewParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        limit = params.validated_data["limit"]
        data = request.data
        if not _is_envelope(data):
            return result_response(self.perform_preview(request, data, limit=limit))
        envelope = PreviewRequestSerializer(data=data)
        envelope.is_valid(raise_exception=True)
        if "limit" in data:
            limit = envelope.validated_data["limit"]
        with nested_errors("query"):
            result = self.perform_preview(request, envelope.validated_data["query"], limit=limit)
        return result_response(result)


class ExplainView(RateLimitMixin, PrismiqAPIView):  # type: ignore[misc]
    """The database's plan for the compiled statement."""

    @extend_schema(
        operation_id="query_explain",
        request=ExplainRequestSerializer,
        responses={200: ExplainResponseSerializer, **QUERY_ERRORS},
        examples=ENVELOPE_EXAMPLES,
        tags=["query"],
    )
    def post(self, request: Request) -> Response:
        envelope = ExplainRequestSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        with nested_errors("query"):
            plan = self.perform_explain(
                request,
                envelope.validated_data["query"],
                analyze=envelope.validated_data["analyze"],
            )
        analyze = envelope.validated_data["analyze"]
        return Response({"plan": plan, "analyzed": analyze and explain_analyzes(database_alias())})


__all__ = ["ExecuteView", "ExplainView", "PreviewView", "SqlView", "ValidateView", "exact_param"]
