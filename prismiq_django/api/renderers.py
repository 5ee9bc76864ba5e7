"""The JSON renderer of the API.

Results can hold ``MAX_ROWS`` rows, so rendering is on the hot path: orjson serialises them several
times faster than the standard library, and query results arrive with their rows already encoded
(:class:`~prismiq_django.execution.values.EncodedJSON`, see
:meth:`prismiq_django.execution.QueryResult.wire_dict`), which are copied into the body as they
are. orjson never fails on a non-finite float (a PostgreSQL
``double precision`` can hold ``NaN``/``Infinity``): those become ``null`` instead of a 500.
Anything orjson does not know natively (``Decimal``, lazy translation strings, other objects DRF
would stringify) goes through :func:`prismiq_django.execution.values.json_default`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import orjson
from rest_framework.renderers import BaseRenderer

from prismiq_django.execution.values import EncodedJSON, json_default, stdlib_json_default


class PrismiqJSONRenderer(BaseRenderer):
    """``application/json`` via orjson (UTF-8, compact)."""

    media_type = "application/json"
    format = "json"
    charset = None  # JSON is UTF-8 by definition; no charset parameter (as DRF's renderer)

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        try:
            return orjson.dumps(data, default=json_default)
        except orjson.JSONEncodeError:
            pass
        # orjson refuses integers beyond 64 bits (a huge value echoed in ``query/sql``'s params):
        # written as raw JSON fragments, everything else (embedded rows, other fragments) stays
        # byte for byte what the fast path writes. Rare, so speed does not matter.
        try:
            return orjson.dumps(_exact_integers(data), default=json_default)
        except orjson.JSONEncodeError:
            # Still refused (e.g. keys that are not strings): the standard library, exact too.
            return json.dumps(
                data, default=_stdlib_default, ensure_ascii=False, separators=(",", ":")
            ).encode()


_NATIVE_INTS = range(-(2**63), 2**64)  # what orjson writes itself


def _exact_integers(value: Any) -> Any:
    """``value`` with every integer orjson refuses replaced by a fragment of its digits."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value in _NATIVE_INTS else orjson.Fragment(str(value))
    if isinstance(value, dict):
        return {key: _exact_integers(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_exact_integers(item) for item in value]
    return value


def _stdlib_default(value: Any) -> Any:
    """:func:`stdlib_json_default`, with raw JSON (fragments, embedded rows) parsed exactly."""
    if isinstance(value, orjson.Fragment | EncodedJSON):
        raw = value.data if isinstance(value, EncodedJSON) else orjson.dumps(value)
        return json.loads(raw)  # the standard library keeps every digit of an integer
    return stdlib_json_default(value)


class FileRenderer(BaseRenderer):
    """Names an export's file format for content negotiation (``Accept``, ``?format=``).

    Exports answer with a streaming response that is never rendered; errors are rendered as
    JSON (:meth:`~prismiq_django.api.views.base.PrismiqAPIView.handle_exception`). Nothing else
    reaches :meth:`render`, which refuses.
    """

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        raise TypeError("export files are streamed, not rendered")


class CSVFileRenderer(FileRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"


class XLSXFileRenderer(FileRenderer):
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"
    charset = None


__all__ = ["CSVFileRenderer", "FileRenderer", "PrismiqJSONRenderer", "XLSXFileRenderer"]
