"""The one place where errors become HTTP responses.

Every view of the API uses :func:`exception_handler` (set per view through
``get_exception_handler``, so the site's global ``EXCEPTION_HANDLER`` is left alone). The mapping:

- core ``QueryValidationError`` -> 400 ``{detail: "Query validation failed", errors: [{code,
  message, path}]}``;
- DRF ``ValidationError`` / ``ParseError`` (the envelope, query parameters, saved-query fields)
  -> 400 ``{detail: "Invalid request", errors: [...]}`` in the same item shape;
- the glue's errors become :class:`PrismiqAPIError` subclasses (``status_code``,
  ``default_code``; :data:`GLUE_ERRORS`), answered ``{detail[, code]}``:
- ``exceptions.ObjectNotFound`` -> :class:`NotExposed`, 404 ``{detail}`` (its message names only
  what the caller asked for);
- Django ``Http404`` and DRF ``NotFound`` (a saved query that is not there or not visible, a
  malformed id, a path that matches no endpoint) -> 404 ``{detail: "Not found."}``: one fixed
  text, so that no answer names a model (Django's ``No SavedQuery matches ...``);
- ``exceptions.QueryTimeout`` -> :class:`QueryTimedOut`, 504 ``{detail, code: "query_timeout"}``;
- ``exceptions.DatabaseUnavailable`` -> :class:`AnalyticsDatabaseUnavailable`, 503 ``{detail,
  code: "database_unavailable"}``;
- ``exceptions.ValueOutOfRange`` -> 400 ``{detail: "Query validation failed", errors:
  [{code: "invalid_value", ...}]}`` (the services name the time buckets' paths);
- Django ``OperationalError`` / ``InterfaceError`` (the app's own models on a database that is
  down) -> 503 ``{detail, code: "database_unavailable", request_id}``, logged with the request id;
- ``query.rawsql.RawSQLError`` (``sql/execute``: a refused statement, or one the database
  refused) -> 400 ``{detail: "Query validation failed", errors: [{code, message, path}]}``,
  ``path`` ``/params`` for a parameter's problem, ``/sql`` otherwise;
- ``services.ask``: ``AnswerInvalid`` -> 422 ``{detail, code: "invalid_answer", errors}`` (the
  validation errors of the assistant's last answer), ``AssistantError`` -> 503 ``{detail, code:
  "assistant_unavailable"}``, ``AssistantNotConfigured`` -> 404 ``{detail: "Not found."}``;
- :class:`~prismiq_django.api.throttling.RateLimited` (``RATE_LIMIT``) -> 429 ``{detail, code:
  "rate_limited"}`` with ``Retry-After``;
- other DRF ``APIException`` / ``PermissionDenied`` -> DRF's default answer (401,
  403, 404, 405, 415, 429 ...);
- ``QueryExecutionError`` and anything else -> 500 ``{detail, code: "server_error",
  request_id}``, logged with the request id and traceback.

No body ever carries SQL, a traceback or the database's error text: glue errors carry a message that
is safe to show, and everything unexpected gets a fixed generic message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from django import db
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from prismiq_django import exceptions
from prismiq_django.api.throttling import RateLimited
from prismiq_django.ops.middleware import get_request_id
from prismiq_django.query.errors import ErrorDetail, QueryValidationError, pointer
from prismiq_django.query.rawsql import RawSQLError
from prismiq_django.services.ask import AnswerInvalid, AssistantError, AssistantNotConfigured

logger = logging.getLogger("prismiq_django.api")

QUERY_INVALID_DETAIL = "Query validation failed"
REQUEST_INVALID_DETAIL = "Invalid request"
NOT_FOUND_DETAIL = "Not found."
SERVER_ERROR_DETAIL = "Internal server error. Quote the request id when reporting it."
ANSWER_INVALID_DETAIL = "The assistant's answer is not a valid query."
_PARAMETER_CODES = frozenset({"sql_invalid_parameter", "sql_missing_parameter"})


class PrismiqAPIError(drf_exceptions.APIException):
    """An error of the glue as the API answers it: ``status_code``, ``default_code`` and the glue
    error's safe message as ``detail``. ``show_code``: whether the body carries ``code``;
    ``log``: the warning logged (with the request id) when one is answered."""

    show_code = True
    log: str | None = None

    def body(self) -> dict[str, object]:
        payload: dict[str, object] = {"detail": str(self.detail)}
        if self.show_code:
            payload["code"] = self.default_code
        return payload


class NotExposed(PrismiqAPIError):
    """404: an unknown, unexposed or hidden table or column, named by the caller."""

    status_code = status.HTTP_404_NOT_FOUND
    default_detail = exceptions.ObjectNotFound.default_message
    default_code = "not_found"
    show_code = False


class QueryTimedOut(PrismiqAPIError):
    """504: the statement timeout fired."""

    status_code = status.HTTP_504_GATEWAY_TIMEOUT
    default_detail = exceptions.QueryTimeout.default_message
    default_code = "query_timeout"
    log = "Query timeout (request_id=%s)"


class AnalyticsDatabaseUnavailable(PrismiqAPIError):
    """503: the analytics database cannot be reached."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = exceptions.DatabaseUnavailable.default_message
    default_code = "database_unavailable"
    log = "Analytics database unavailable (request_id=%s)"


#: The glue's errors and the API error each one is answered as.
GLUE_ERRORS: dict[type[exceptions.PrismiqError], type[PrismiqAPIError]] = {
    exceptions.ObjectNotFound: NotExposed,
    exceptions.QueryTimeout: QueryTimedOut,
    exceptions.DatabaseUnavailable: AnalyticsDatabaseUnavailable,
}


def api_error(exc: Exception) -> PrismiqAPIError | None:
    """``exc`` as a :class:`PrismiqAPIError` (itself, or the glue error's translation)."""
    if isinstance(exc, PrismiqAPIError):
        return exc
    for glue, translated in GLUE_ERRORS.items():
        if isinstance(exc, glue):
            return translated(exc.message)
    return None


def prefix_errors(errors: Sequence[ErrorDetail], *parts: str | int) -> list[ErrorDetail]:
    """Return ``errors`` with ``pointer(*parts)`` prepended to each path.

    Used when the query definition is nested in the request (``{"query": {...}}``), so that each
    ``path`` stays a JSON pointer into the request body.
    """
    head = pointer(*parts)
    return [ErrorDetail(e.code, e.message, head + e.path) for e in errors]


@contextmanager
def nested_errors(*parts: str | int) -> Iterator[None]:
    """Re-raise a :class:`QueryValidationError` from the block with paths under ``parts``."""
    try:
        yield
    except QueryValidationError as exc:
        raise QueryValidationError(prefix_errors(exc.errors, *parts)) from exc


def validation_failed(errors: Sequence[ErrorDetail]) -> Response:
    """The 400 answer for an invalid query definition."""
    return Response(
        {"detail": QUERY_INVALID_DETAIL, "errors": [e.as_dict() for e in errors]},
        status=status.HTTP_400_BAD_REQUEST,
    )


def _flatten_drf_detail(detail: object, path: tuple[str | int, ...]) -> Iterator[dict[str, str]]:
    """Turn DRF's nested ``ValidationError.detail`` into ``{code, message, path}`` items."""
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            sub = path if key in {"non_field_errors", "detail"} else (*path, str(key))
            yield from _flatten_drf_detail(value, sub)
    elif isinstance(detail, list | tuple):
        for index, item in enumerate(detail):
            sub = (*path, index) if isinstance(item, Mapping | list | tuple) else path
            yield from _flatten_drf_detail(item, sub)
    else:
        # Field-level problems are bad values; a body of the wrong shape is a bad definition.
        missing = getattr(detail, "code", None) == "required"
        code = "invalid_value" if path and not missing else "invalid_definition"
        yield {"code": code, "message": str(detail), "path": pointer(*path)}


def request_error_items(detail: object) -> list[ErrorDetail]:
    """DRF's nested ``ValidationError.detail`` as ``{code, message, path}`` items (the same
    items the handler answers for it)."""
    return [
        ErrorDetail(item["code"], item["message"], item["path"])  # type: ignore[arg-type]
        for item in _flatten_drf_detail(detail, ())
    ]


def _logged_error(
    exc: BaseException,
    request: object,
    *,
    status_code: int = status.HTTP_500_INTERNAL_SERVER_ERROR,
    detail: str = SERVER_ERROR_DETAIL,
    code: str = "server_error",
) -> Response:
    """Log ``exc`` in full with the request id and answer generically, quoting that id."""
    rid = get_request_id(request)
    logger.error(
        "Error in prismiq_django API (request_id=%s): %s",
        rid,
        type(exc).__name__,
        exc_info=exc,
        extra={"request_id": rid},
    )
    return Response(
        {"detail": detail, "code": code, "request_id": rid},
        status=status_code,
        headers={"X-Request-ID": rid},
    )


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response:
    """DRF exception handler of every prismiq_django view (contract in the module docstring).

    Always returns a response: nothing escapes to Django's HTML error pages.
    """
    request = context.get("request")
    response = _map(exc, context)
    if response is None:
        response = _logged_error(exc, request)
    set_rollback()
    return response


def error_entry(exc: Exception, request: object) -> dict[str, Any]:
    """``{status, detail, code?, errors?, request_id?}``: what the answer to ``exc`` would say,
    for a failure reported inside a larger answer (a dashboard widget's entry). Mapped exactly
    like :func:`exception_handler` (unexpected errors logged and answered generically)."""
    response = _map(exc, {"request": request})
    if response is None:
        response = _logged_error(exc, request)
    data: Any = response.data if isinstance(response.data, Mapping) else {}
    entry: dict[str, Any] = {"status": response.status_code}
    entry.update({k: data[k] for k in ("detail", "code", "errors", "request_id") if k in data})
    entry.setdefault("detail", SERVER_ERROR_DETAIL)
    entry["detail"] = str(entry["detail"])
    return entry


def _sql_refused(exc: RawSQLError) -> Response:
    errors = [
        {**e.as_dict(), "path": "/params" if e.code in _PARAMETER_CODES else "/sql"}
        for e in exc.errors
    ]
    return Response(
        {"detail": QUERY_INVALID_DETAIL, "errors": errors}, status=status.HTTP_400_BAD_REQUEST
    )


def _assistant_error(exc: Exception) -> Response | None:
    if isinstance(exc, AnswerInvalid):
        return Response(
            {"detail": ANSWER_INVALID_DETAIL, "code": "invalid_answer", "errors": exc.errors},
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    if isinstance(exc, AssistantError):
        return Response(
            {"detail": exc.message, "code": "assistant_unavailable"},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    if isinstance(exc, AssistantNotConfigured):
        return Response({"detail": NOT_FOUND_DETAIL}, status=status.HTTP_404_NOT_FOUND)
    return None


def _map(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    request = context.get("request")
    if isinstance(exc, QueryValidationError):
        return validation_failed(exc.errors)
    if isinstance(exc, RawSQLError):
        return _sql_refused(exc)
    assistant = _assistant_error(exc)
    if assistant is not None:
        return assistant
    if isinstance(exc, drf_exceptions.ValidationError):
        errors = list(_flatten_drf_detail(exc.detail, ()))
        return Response(
            {"detail": REQUEST_INVALID_DETAIL, "errors": errors},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, drf_exceptions.ParseError):
        # Our parser's messages are fixed texts; DRF's own name the JSON error position only.
        message = str(exc.detail)
        return Response(
            {
                "detail": REQUEST_INVALID_DETAIL,
                "errors": [{"code": "invalid_definition", "message": message, "path": ""}],
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
    translated = api_error(exc)
    if translated is not None:
        if translated.log is not None:
            logger.warning(translated.log, get_request_id(request))
        return Response(translated.body(), status=translated.status_code)
    if isinstance(exc, Http404 | drf_exceptions.NotFound):
        return Response({"detail": NOT_FOUND_DETAIL}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, exceptions.ValueOutOfRange):
        # The services answer it with the paths of the time buckets; anything else, as a
        # validation error of the whole document (SPEC: a value that does not fit is a 400).
        return validation_failed([ErrorDetail("invalid_value", exc.message, "")])
    if isinstance(exc, RateLimited):
        wait = int(getattr(exc, "wait", None) or 1)
        return Response(
            {"detail": str(exc.detail), "code": RateLimited.default_code},
            status=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(wait)},
        )
    if isinstance(exc, db.OperationalError | db.InterfaceError):
        # The app's own models (saved queries) on a database that is down; the analytics
        # database's failures arrive as DatabaseUnavailable. Logged in full, answered generically.
        return _logged_error(
            exc,
            request,
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            detail=exceptions.DatabaseUnavailable.default_message,
            code="database_unavailable",
        )
    return drf_exception_handler(exc, dict(context))


__all__ = [
    "ANSWER_INVALID_DETAIL",
    "GLUE_ERRORS",
    "NOT_FOUND_DETAIL",
    "QUERY_INVALID_DETAIL",
    "REQUEST_INVALID_DETAIL",
    "SERVER_ERROR_DETAIL",
    "AnalyticsDatabaseUnavailable",
    "NotExposed",
    "PrismiqAPIError",
    "QueryTimedOut",
    "api_error",
    "error_entry",
    "exception_handler",
    "nested_errors",
    "prefix_errors",
    "request_error_items",
    "validation_failed",
]
