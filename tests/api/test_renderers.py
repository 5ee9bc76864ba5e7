"""The orjson renderer: same JSON as DRF's for ordinary data, never fails on odd values."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer

from prismiq_django.renderers import PrismiqJSONRenderer


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
