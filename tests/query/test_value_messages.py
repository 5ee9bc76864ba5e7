"""Messages of refused filter values (issue 23 item 5): a number beyond the column's range says
so, with the range, instead of naming the Python type ("int is not a valid integer value.")."""

from __future__ import annotations

import pytest

from prismiq_django.query import QueryValidationError, parse
from tests.query.catalogs import SHOP


def _message(column: str, value: object) -> str:
    definition = {
        "tables": [{"id": "o", "name": "shop_order"}],
        "columns": [{"table_id": "o", "column": "id"}],
        "filters": [{"table_id": "o", "column": column, "operator": "eq", "value": value}],
    }
    with pytest.raises(QueryValidationError) as caught:
        parse(definition, SHOP)
    (error,) = caught.value.errors
    assert (error.code, error.path) == ("invalid_value", "/filters/0/value")
    return error.message


@pytest.mark.parametrize(
    "value", [99999999999999999999999, "99999999999999999999999", -(2**63) - 1]
)
def test_an_integer_out_of_range_says_so(value: object) -> None:
    message = _message("id", value)
    assert "out of the range of an integer column" in message
    assert "9223372036854775807" in message
    assert "int is not" not in message


def test_a_decimal_out_of_range_says_so() -> None:
    message = _message("total", 10**40)
    assert "out of the range of a decimal column" in message


@pytest.mark.parametrize(("value", "shown"), [("abc", "'abc'"), (1.5, "float"), (True, "bool")])
def test_other_refusals_keep_the_plain_message(value: object, shown: str) -> None:
    assert _message("id", value) == f"{shown} is not a valid integer value."
