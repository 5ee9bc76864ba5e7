"""The JSON renderer of the API.

Results can hold ``MAX_ROWS`` rows, so rendering is on the hot path: orjson serialises them several
times faster than the standard library. It also never fails on a non-finite float (a PostgreSQL
``double precision`` can hold ``NaN``/``Infinity``): those become ``null`` instead of a 500.
Anything orjson does not know natively (``Decimal``, lazy translation strings, other objects DRF
would stringify) goes through :func:`_default`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import orjson
from rest_framework.renderers import BaseRenderer


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


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
            return orjson.dumps(data, default=_default)
        except orjson.JSONEncodeError:
            # orjson refuses integers beyond 64 bits (a huge value echoed in ``query/sql``'s
            # params); the standard library writes them exactly. Rare, so speed does not matter.
            return json.dumps(
                data, default=_default, ensure_ascii=False, separators=(",", ":")
            ).encode()


__all__ = ["PrismiqJSONRenderer"]
