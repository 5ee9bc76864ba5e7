"""Result cache entries: a small JSON header and the rows' JSON text exactly as the response carries
it (zstd-compressed above :data:`COMPRESS_ABOVE`), so a hit embeds the rows without parsing them.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Final

import orjson
import zstandard

from prismiq_django.execution.results import QueryResult
from prismiq_django.ops.gcpause import gc_paused

logger = logging.getLogger("prismiq_django.cache")


#: Payloads larger than this are zstd-compressed, level 1 (why zstd: benchmarks/README.md).
COMPRESS_ABOVE: Final = 256 * 1024
_ZSTD_LEVEL: Final = 1
#: Marks a compressed payload (a zstd frame follows).
_ZSTD: Final = b"s"


#: Entry payload: kind byte, 4-byte big-endian header length, header JSON, rows JSON.
_ENTRY: Final = b"R"


@dataclasses.dataclass(frozen=True, slots=True)
class Snapshot:
    """What an entry stores, taken when the result is computed (before the caller sees it).

    The write may run after the response (``defer``): by then the caller (a view's
    ``perform_execute`` hook, a site's code) may have changed the result it was handed, and the
    entry must hold what the database answered, not that. ``rows_json`` is immutable bytes the
    response reuses, so taking it costs no copy.
    """

    columns: list[str]
    column_types: list[str]
    row_count: int
    truncated: bool
    execution_time_ms: float
    rows_json: bytes
    total_rows: int | None = None


def snapshot(result: QueryResult) -> Snapshot | None:
    """The entry of ``result``, or None (logged) when its rows cannot be encoded."""
    try:
        with gc_paused():
            rows_json = result.rows_json
    except Exception as exc:  # an unencodable value: answer uncached, never fail the query
        logger.warning(
            "Result not cacheable (%s)", type(exc).__name__, extra={"event": "cache_unencodable"}
        )
        return None
    return Snapshot(
        columns=list(result.columns),
        column_types=list(result.column_types),
        row_count=result.row_count,
        truncated=result.truncated,
        execution_time_ms=result.execution_time_ms,
        rows_json=rows_json,
        total_rows=result.total_rows,
    )


def encode_entry(entry: Snapshot, cached_at: str, generations: Mapping[str, int]) -> bytes:
    head = orjson.dumps(
        {
            "columns": entry.columns,
            "column_types": entry.column_types,
            "row_count": entry.row_count,
            "truncated": entry.truncated,
            "execution_time_ms": entry.execution_time_ms,
            "cached_at": cached_at,
            "generations": dict(generations),
            "rows_bytes": len(entry.rows_json),
            "total_rows": entry.total_rows,
        }
    )
    raw = b"".join((_ENTRY, len(head).to_bytes(4, "big"), head, entry.rows_json))
    if len(raw) > COMPRESS_ABOVE:
        # A compressor per call: they are not thread-safe, and one is cheap to make.
        return _ZSTD + zstandard.ZstdCompressor(level=_ZSTD_LEVEL).compress(raw)
    return raw


def decode_entry(payload: object) -> tuple[QueryResult, dict[str, int]]:
    """Return the stored result and the generations it was computed under."""
    if not isinstance(payload, bytes) or not payload:
        raise ValueError("not a result payload")
    if payload[:1] == _ZSTD:
        # The frame records its content size (the compressor writes it): one allocation.
        payload = zstandard.ZstdDecompressor().decompress(payload[1:])
    if payload[:1] != _ENTRY or len(payload) < 5:
        raise ValueError("unknown result payload")
    size = int.from_bytes(payload[1:5], "big")
    head = orjson.loads(payload[5 : 5 + size])
    rows_json = payload[5 + size :]
    # The rows are embedded in responses unparsed: a payload cut short (or grown) after an inner
    # ``]`` would still look like a JSON array, so its length is checked against the header's.
    if head.get("rows_bytes") != len(rows_json) or not rows_json.startswith(b"["):
        raise ValueError("truncated result payload")
    result = QueryResult(
        columns=head["columns"],
        column_types=head["column_types"],
        row_count=head["row_count"],
        truncated=head["truncated"],
        execution_time_ms=head["execution_time_ms"],
        is_from_cache=True,
        cached_at=head["cached_at"],
        rows_json=rows_json,
        total_rows=head.get("total_rows"),
    )
    generations = head["generations"]
    if not isinstance(generations, dict):
        raise ValueError("result payload without generations")
    return result, generations


__all__ = ["COMPRESS_ABOVE", "Snapshot", "decode_entry", "encode_entry", "snapshot"]
