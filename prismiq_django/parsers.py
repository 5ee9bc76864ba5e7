"""The JSON request parser of the API.

Stricter and safer than DRF's ``JSONParser``: it parses with orjson (fast; refuses ``NaN``,
``Infinity`` and lone UTF-16 surrogates, which no database accepts as text) and refuses documents
nested deeper than :data:`MAX_JSON_DEPTH`, so that hostile nesting is a 400 rather than a
``RecursionError`` somewhere downstream. No valid query definition comes close to the limit (the
filter tree itself is limited to ``MAX_DEPTH`` levels by the query core).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any, Final

import orjson
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

#: Deepest nesting of arrays/objects accepted in a request body.
MAX_JSON_DEPTH: Final = 64


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


class PrismiqJSONParser(BaseParser):
    """``application/json`` bodies; raises ``ParseError`` (HTTP 400) for anything malformed."""

    media_type = "application/json"

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        raw = stream.read() if stream is not None else b""
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ParseError("The request body is not valid JSON.") from exc
        if json_depth_exceeds(data, MAX_JSON_DEPTH):
            raise ParseError(f"The request body is nested more than {MAX_JSON_DEPTH} levels deep.")
        return data


__all__ = ["MAX_JSON_DEPTH", "PrismiqJSONParser", "json_depth_exceeds"]
