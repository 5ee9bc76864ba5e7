"""Staff raw SQL (``sql/validate``, ``sql/execute``) and questions (``ask``): SPEC section 12.

``sql/*`` need ``PERMISSION_CLASSES`` and ``SQL_PERMISSION_CLASSES`` (default: staff) and count
against ``RATE_LIMIT`` like the query endpoints; ``ask`` needs ``PERMISSION_CLASSES`` and has its
own counter (``ASK_RATE_LIMIT``), and answers 404 while no assistant backend is configured.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from prismiq_django.api.openapi import EXAMPLE_DEFINITION, RESULT_EXAMPLES
from prismiq_django.api.openapi.decorators import extend_schema
from prismiq_django.api.permissions import sql_permissions
from prismiq_django.api.serializers import ErrorResponseSerializer, QueryResultSerializer
from prismiq_django.api.serializers.sql import (
    AskInvalidResponseSerializer,
    AskRequestSerializer,
    AskResponseSerializer,
    SqlExecuteRequestSerializer,
    SqlInvalidResponseSerializer,
    SqlValidateRequestSerializer,
    SqlValidateResponseSerializer,
)
from prismiq_django.api.throttling import RateLimitMixin
from prismiq_django.api.views.base import DOWN, NOT_FOUND, TIMEOUT, PrismiqAPIView
from prismiq_django.api.views.queries import exact_param
from prismiq_django.execution import QueryResult
from prismiq_django.services import ask as ask_service
from prismiq_django.services import sql as sql_service

#: The counter of ``ask`` (``ASK_RATE_LIMIT``), apart from the query endpoints'.
ASK_GROUP = "prismiq.ask"

_SQL_EXAMPLE = (
    "SELECT status, count(*) AS orders, sum(total) AS revenue\n"
    "FROM shop_order WHERE ordered_at >= :since GROUP BY status ORDER BY revenue DESC"
)
_SQL_EXAMPLES = [
    OpenApiExample(
        "Orders by status since a date",
        value={"sql": _SQL_EXAMPLE, "params": {"since": "2024-01-01"}},
        request_only=True,
    ),
]
_VALIDATE_EXAMPLES = [
    *_SQL_EXAMPLES,
    OpenApiExample(
        "Valid",
        value={"valid": True, "errors": [], "tables": ["shop_order"]},
        response_only=True,
    ),
    OpenApiExample(
        "Refused",
        value={
            "valid": False,
            "errors": [
                {
                    "code": "sql_not_a_query",
                    "message": "Only queries are allowed: no data-modifying, schema or session "
                    "statement anywhere.",
                }
            ],
            "tables": [],
        },
        response_only=True,
    ),
]
_SQL_REFUSED = OpenApiResponse(
    SqlInvalidResponseSerializer,
    "The statement is refused (nothing ran) or the database refused it (sql_execution_error).",
)
_NOT_STAFF = OpenApiResponse(
    ErrorResponseSerializer, "Not permitted by PERMISSION_CLASSES / SQL_PERMISSION_CLASSES."
)
_ASK_EXAMPLES = [
    OpenApiExample(
        "A question",
        value={"question": "total revenue by country", "execute": True},
        request_only=True,
    ),
    OpenApiExample(
        "Its answer",
        value={
            "query": EXAMPLE_DEFINITION,
            "explanation": "Sum of total of orders by country of customers.",
            "sql": 'SELECT "c"."country" ...',
            "params": ["paid", "shipped"],
        },
        response_only=True,
    ),
]


class _SqlView(RateLimitMixin, PrismiqAPIView):  # type: ignore[misc]
    def get_permissions(self) -> Sequence[BasePermission]:
        """``PERMISSION_CLASSES`` and ``SQL_PERMISSION_CLASSES``, for this request."""
        return sql_permissions()


class SqlValidateView(_SqlView):
    """Check a raw statement: always 200 (for a well-formed body), with every problem found."""

    @extend_schema(
        operation_id="sql_validate",
        request=SqlValidateRequestSerializer,
        responses={200: SqlValidateResponseSerializer, 400: _SQL_REFUSED, 403: _NOT_STAFF},
        examples=_VALIDATE_EXAMPLES,
        tags=["sql"],
    )
    def post(self, request: Request) -> Response:
        body = SqlValidateRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        return Response(
            sql_service.validate_sql(request, data["sql"], data.get("params")).as_dict()
        )


class SqlExecuteView(_SqlView):
    """Run a raw statement on the query rails; answers a QueryResult."""

    @extend_schema(
        operation_id="sql_execute",
        request=SqlExecuteRequestSerializer,
        responses={
            200: QueryResultSerializer,
            400: _SQL_REFUSED,
            403: _NOT_STAFF,
            503: DOWN,
            504: TIMEOUT,
        },
        examples=[*_SQL_EXAMPLES, *RESULT_EXAMPLES],
        tags=["sql"],
    )
    def post(self, request: Request) -> Response:
        body = SqlExecuteRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        result = self.perform_sql(
            request, data["sql"], data.get("params") or {}, bypass_cache=data["bypass_cache"]
        )
        return Response(result.wire_dict())

    def perform_sql(
        self, request: Request, sql: str, params: dict[str, Any], *, bypass_cache: bool
    ) -> QueryResult:
        """Run ``sql`` with ``params`` for ``request`` (hook: audit, wrap or refuse runs)."""
        return sql_service.execute_sql(request, sql, params, bypass_cache=bypass_cache)


class AskView(RateLimitMixin, PrismiqAPIView):  # type: ignore[misc]
    """A question in plain language -> a validated query definition (and its result)."""

    rate_limit_group = ASK_GROUP
    rate_limit_setting = "ASK_RATE_LIMIT"

    @extend_schema(
        operation_id="ask",
        request=AskRequestSerializer,
        responses={
            200: AskResponseSerializer,
            400: OpenApiResponse(SqlInvalidResponseSerializer, "Invalid request."),
            404: NOT_FOUND,
            422: OpenApiResponse(
                AskInvalidResponseSerializer,
                "The assistant's answer stayed invalid after one repair round (nothing ran).",
            ),
            503: OpenApiResponse(
                ErrorResponseSerializer, "The assistant backend or the database is unavailable."
            ),
            504: TIMEOUT,
        },
        examples=_ASK_EXAMPLES,
        tags=["ask"],
    )
    def post(self, request: Request) -> Response:
        backend = ask_service.configured_backend()  # 404 before the body is read when none
        body = AskRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        context = (data.get("context") or {}).get("query")
        answer = self.perform_ask(
            request,
            data["question"],
            context=context if isinstance(context, dict) else None,
            run=data["execute"],
            backend=backend,
        )
        payload: dict[str, Any] = {
            "query": answer.query,
            "explanation": answer.explanation,
            "sql": answer.compiled.sql,
            "params": [exact_param(p) for p in answer.compiled.params],
        }
        if answer.result is not None:
            payload["result"] = answer.result.wire_dict()
        return Response(payload)

    def perform_ask(
        self,
        request: Request,
        question: str,
        *,
        context: dict[str, Any] | None,
        run: bool,
        backend: ask_service.AssistantBackend,
    ) -> ask_service.AskAnswer:
        """Answer ``question`` for ``request`` (hook, like ``perform_execute``)."""
        return ask_service.ask(request, question, context=context, run=run, backend=backend)


__all__ = ["ASK_GROUP", "AskView", "SqlExecuteView", "SqlValidateView"]
