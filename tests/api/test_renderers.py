"""The orjson renderer: same JSON as DRF's for ordinary data, never fails on odd values."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

import orjson
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer

from prismiq_django.api.renderers import PrismiqJSONRenderer
from prismiq_django.execution.values import EncodedJSON


def test_matches_drf_for_ordinary_data() -> None:
    data = {"columns": ["a", "b"], "rows": [[1, "x"], [2.5, None], [True, "é"]], "n": 3}
    ours = json.loads(PrismiqJSONRenderer().render(data))
    theirs = json.loads(JSONRenderer().render(data))
    assert ours == theirs == data


def test_odd_values_do_not_fail() -> None:
    rendered = PrismiqJSONRenderer().render(
        {
            "nan": math.nan,
            "inf": math.inf,
            "dec": Decimal("35.50"),
            "dec_nan": Decimal("NaN"),
            "when": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
            "day": date(2024, 1, 2),
            "uuid": UUID(int=1),
            "lazy": gettext_lazy("Not found."),
            "tuple": (1, 2),
            "bytes": b"ab",
        }
    )
    assert json.loads(rendered) == {
        "nan": None,
        "inf": None,
        "dec": 35.5,
        "dec_nan": None,
        "when": "2024-01-02T03:04:05+00:00",
        "day": "2024-01-02",
        "uuid": "00000000-0000-0000-0000-000000000001",
        "lazy": "Not found.",
        "tuple": [1, 2],
        "bytes": "ab",
    }


def test_no_body_for_none() -> None:
    assert PrismiqJSONRenderer().render(None) == b""


def test_integers_beyond_64_bits_are_written_exactly() -> None:
    """orjson refuses them; a 500 with Django's HTML page was the result before the fallback."""
    data = {"sql": "SELECT 1", "params": [2**70, -(2**64), 1, "é"], "dec": Decimal("1.5")}
    rendered = PrismiqJSONRenderer().render(data)
    assert json.loads(rendered) == {**data, "dec": 1.5}


def test_the_fallback_keeps_fragments_and_embedded_rows_exact() -> None:
    """With an integer orjson refuses somewhere in the body, fragments (``query/sql``'s exact
    params) and embedded rows (:class:`EncodedJSON`) are still written as they are: not as the
    fragment's ``repr`` (a memory address), not re-parsed into floats."""
    rows = b'[[123456789012345678901234567890,1.10,"x"]]'
    data = {
        "rows": EncodedJSON(rows),
        "params": [orjson.Fragment(b"0.10"), 2**70],
        "nested": {"big": -(2**65), "ok": True},
    }
    rendered = PrismiqJSONRenderer().render(data)
    assert rendered == (
        b'{"rows":' + rows + b',"params":[0.10,' + str(2**70).encode() + b"],"
        b'"nested":{"big":' + str(-(2**65)).encode() + b',"ok":true}}'
    )


def test_the_last_resort_parses_raw_json_exactly() -> None:
    """Keys orjson refuses as well: the standard library writes the body, integers exact."""
    data = {
        1: "non-string key",
        "rows": EncodedJSON(b"[[123456789012345678901234567890]]"),
        "frag": orjson.Fragment(b"[7]"),
        "big": 2**70,
    }
    assert json.loads(PrismiqJSONRenderer().render(data)) == {
        "1": "non-string key",
        "rows": [[123456789012345678901234567890]],
        "frag": [7],
        "big": 2**70,
    }
