"""Damaged or foreign values under a result key are never served (and are replaced)."""

from __future__ import annotations

from typing import Any

import pytest
import zstandard
from django.core.cache import caches

from prismiq_django import cache
from tests.support.ops import Counter, Stmt, make_result


def _fetch(stmt: Stmt, compute: Any) -> Any:
    return cache.fetch_result(
        alias="default", compiled=stmt, scopes=(), compute=compute, bypass=False
    )


def _stored(stmt: Stmt, rows: list[list[Any]]) -> tuple[str, bytes, Counter]:
    compute = Counter(lambda: make_result(rows))
    _fetch(stmt, compute)
    key = cache.result_key(alias="default", compiled=stmt, scopes=())
    payload = caches["default"].get(key)
    assert isinstance(payload, bytes)
    return key, payload, compute


def test_an_entry_cut_after_a_closing_bracket_is_not_served() -> None:
    """A payload cut short right after an inner ``]`` still starts with ``[`` and ends with
    ``]``: it must not be embedded in a response as the rows (invalid JSON, missing rows)."""
    stmt = Stmt("SELECT cut", (), frozenset({"t_cut"}))
    key, payload, compute = _stored(stmt, [[1, "a"], [2, "b"], [3, "c"]])
    assert payload.endswith(b'[[1,"a"],[2,"b"],[3,"c"]]')
    caches["default"].set(key, payload[: -len(b',[2,"b"],[3,"c"]]')], 60)  # ends in [[1,"a"]

    again = _fetch(stmt, compute)

    assert again.is_from_cache is False
    assert again.rows == [[1, "a"], [2, "b"], [3, "c"]]
    assert compute.calls == 2


def test_an_entry_with_rows_appended_is_not_served() -> None:
    stmt = Stmt("SELECT grown", (), frozenset({"t_grown"}))
    key, payload, compute = _stored(stmt, [[1]])
    caches["default"].set(key, payload[:-1] + b",[2]]", 60)
    assert _fetch(stmt, compute).is_from_cache is False
    assert compute.calls == 2


def test_a_truncated_compressed_entry_is_not_served() -> None:
    stmt = Stmt("SELECT zcut", (), frozenset({"t_zcut"}))
    rows = [[i, f"row {i} " * 8] for i in range(8_000)]
    key, payload, compute = _stored(stmt, rows)
    assert payload[:1] == b"s"  # zstd
    caches["default"].set(key, payload[: len(payload) // 2], 60)
    assert _fetch(stmt, compute).is_from_cache is False
    # a complete frame of an inner cut is no better
    inner = zstandard.ZstdDecompressor().decompress(payload[1:])
    cut = inner[: inner.index(b"],[", len(inner) // 2) + 1] + b"]"
    caches["default"].set(key, b"s" + zstandard.ZstdCompressor().compress(cut), 60)
    assert _fetch(stmt, compute).is_from_cache is False
    assert compute.calls == 3


@pytest.mark.parametrize("foreign", ["text", 7, {"rows": []}, b"", b"R\x00\x00\x00\x02{}[]"])
def test_a_foreign_value_under_the_key_is_not_served(foreign: object) -> None:
    stmt = Stmt("SELECT foreign", (), frozenset({"t_foreign"}))
    key, _, compute = _stored(stmt, [[1]])
    caches["default"].set(key, foreign, 60)
    again = _fetch(stmt, compute)
    assert again.is_from_cache is False
    assert again.rows == [[1]]
    assert _fetch(stmt, compute).is_from_cache is True  # replaced by the recomputed entry


def test_a_large_entry_round_trips_compressed() -> None:
    stmt = Stmt("SELECT big", (), frozenset({"t_big"}))
    rows = [[i, f"row {i} é " * 8, None, i / 7] for i in range(8_000)]
    _, payload, compute = _stored(stmt, rows)
    assert payload[:1] == b"s"
    assert len(payload) < cache.COMPRESS_ABOVE  # it compressed well below the threshold
    again = _fetch(stmt, compute)
    assert again.is_from_cache is True
    assert again.rows == make_result(rows).rows
    assert compute.calls == 1


def test_a_zstd_frame_without_its_content_size_is_not_served() -> None:
    stmt = Stmt("SELECT nosize", (), frozenset({"t_nosize"}))
    rows = [[i, f"row {i} " * 8] for i in range(8_000)]
    key, payload, compute = _stored(stmt, rows)
    inner = zstandard.ZstdDecompressor().decompress(payload[1:])
    frame = zstandard.ZstdCompressor(write_content_size=False).compress(inner)
    caches["default"].set(key, b"s" + frame, 60)
    assert _fetch(stmt, compute).is_from_cache is False
    assert compute.calls == 2
