"""The JSON request parser of the API.

Stricter and safer than DRF's ``JSONParser``:

- it reads at most Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes (413 beyond; DRF itself does not
  apply that limit to JSON bodies);
- it parses with orjson (fast; refuses ``NaN``, ``Infinity`` and lone UTF-16 surrogates, which no
  database accepts as text);
- it refuses documents nested deeper than :data:`MAX_JSON_DEPTH`, so that hostile nesting is a 400
  rather than a ``RecursionError`` somewhere downstream. No valid query definition comes close to
  the limit (the filter tree itself is limited to ``MAX_DEPTH`` levels by the query core);
- it keeps integers exact: orjson reads an integer literal outside the 64-bit range as a float
  (``10**30`` -> ``1e+30``, silently rounded), so a body holding such a float is read again with
  the standard library, which keeps every integer literal an ``int`` (the core then refuses it or
  binds it exactly; a huge ``offset`` is told its maximum instead of "must be an integer");
- it refuses a body that is valid JSON but not an object (``[]``, ``"x"``, ``1``, ``null``): every
  body of this API (query definition, envelope, saved query) is an object, so each endpoint answers
  such a body alike, with the 400 of a malformed body (``invalid_definition`` at path ``""``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any, Final

import orjson
from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser

#: Deepest nesting of arrays/objects accepted in a request body.
MAX_JSON_DEPTH: Final = 64

NOT_AN_OBJECT_MESSAGE: Final = "The request body must be a JSON object."

#: orjson reads integer literals in ``[-2**63, 2**64)`` as ``int``, others as ``float``.
_ORJSON_INT_RANGE: Final = 2**63


def may_hold_rounded_integer(data: object) -> bool:
    """True when ``data`` holds a float at least as large as orjson's integer range: it may have
    been an integer literal that orjson rounded (iterative; ``data`` as orjson returns it, so
    exact ``dict``/``list``/``float`` types, compared with ``type() is`` for speed)."""
    if type(data) is not dict and type(data) is not list:
        return type(data) is float and not -_ORJSON_INT_RANGE < data < _ORJSON_INT_RANGE
    stack: list[Any] = [data]
    while stack:
        node = stack.pop()
        for value in node.values() if type(node) is dict else node:
            kind = type(value)
            if kind is dict or kind is list:
                stack.append(value)
            elif kind is float and not -_ORJSON_INT_RANGE < value < _ORJSON_INT_RANGE:
                return True
    return False


def json_depth_exceeds(data: object, limit: int) -> bool:
    """True when ``data`` nests arrays/objects more than ``limit`` levels deep (iterative)."""
    stack: list[tuple[object, int]] = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth + 1 > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _invalid_json_message(exc: orjson.JSONDecodeError) -> str:
    """Our words for a body orjson refused, with where (never orjson's text)."""
    line, column = getattr(exc, "lineno", None), getattr(exc, "colno", None)
    where = f" (line {line}, column {column})" if line and column else ""
    if str(exc.msg).startswith("number is infinity"):  # valid JSON, but no double holds it
        return f"The request body holds a number beyond the range of a double (1.8e308){where}."
    return f"The request body is not valid JSON{where}."


class PayloadTooLarge(APIException):
    """413: the body is larger than Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE``."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class PrismiqJSONParser(BaseParser):
    """``application/json`` object bodies; raises ``ParseError`` (HTTP 400) for anything malformed
    or for a JSON value that is not an object."""

    media_type = "application/json"
    #: Whether a JSON array is a body too (``PUT dashboards/{id}/layout`` takes a list).
    allow_arrays: bool = False

    def parse(
        self,
        stream: IO[Any] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit: int | None = getattr(settings, "DATA_UPLOAD_MAX_MEMORY_SIZE", None)
        if stream is None:
            raw = b""
        elif limit is None:
            raw = stream.read()
        else:
            raw = stream.read(limit + 1)
            if len(raw) > limit:
                raise PayloadTooLarge()
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ParseError(_invalid_json_message(exc)) from exc
        # A document cannot nest deeper than it has brackets (brackets inside strings only make the
        # count larger): most bodies skip the walk.
        if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and json_depth_exceeds(
            data, MAX_JSON_DEPTH
        ):
            raise ParseError(f"The request body is nested more than {MAX_JSON_DEPTH} levels deep.")
        if may_hold_rounded_integer(data):
            # orjson accepted the document (UTF-8, no NaN/Infinity, no lone surrogates, shallow,
            # no number beyond the double range, so no integer too long for int()): the standard
            # library reads the same values, integer literals exactly.
            data = json.loads(raw)
        if not isinstance(data, dict) and not (self.allow_arrays and isinstance(data, list)):
            raise ParseError(NOT_AN_OBJECT_MESSAGE)
        return data


class PrismiqJSONArrayParser(PrismiqJSONParser):
    """:class:`PrismiqJSONParser` that also takes a JSON array as the body."""

    allow_arrays = True


__all__ = [
    "MAX_JSON_DEPTH",
    "NOT_AN_OBJECT_MESSAGE",
    "PayloadTooLarge",
    "PrismiqJSONArrayParser",
    "PrismiqJSONParser",
    "json_depth_exceeds",
    "may_hold_rounded_integer",
]
