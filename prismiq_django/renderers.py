"""The JSON renderer of the API.

Results can hold ``MAX_ROWS`` rows, so rendering is on the hot path: orjson serialises them several
times faster than the standard library, and query results arrive with their rows already encoded
(:class:`~prismiq_django.values.EncodedJSON`, see
:meth:`prismiq_django.execution.QueryResult.wire_dict`), which are copied into the body as they
are. orjson never fails on a non-finite float (a PostgreSQL
``double precision`` can hold ``NaN``/``Infinity``): those become ``null`` instead of a 500.
Anything orjson does not know natively (``Decimal``, lazy translation strings, other objects DRF
would stringify) goes through :func:`prismiq_django.values.json_default`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import orjson
from rest_framework.renderers import BaseRenderer

from prismiq_django.values import json_default, stdlib_json_default


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
            # orjson refuses integers beyond 64 bits (a huge value echoed in ``query/sql``'s
            # params); the standard library writes them exactly. Rare, so speed does not matter.
            return json.dumps(
                data, default=stdlib_json_default, ensure_ascii=False, separators=(",", ":")
            ).encode()


__all__ = ["PrismiqJSONRenderer"]
