"""Shapes of dashboard documents: layout, widget type, position bounds, config size (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from prismiq_django.query.dashboard_shapes import (
    DEFAULT_LAYOUT,
    MAX_CONFIG_BYTES,
    check_layout,
    check_widget,
    is_id,
)


def widget(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "bar_chart",
        "title": "Orders",
        "query": {"tables": []},
        "position": {"x": 0, "y": 0, "w": 6, "h": 4},
        "config": {"x_axis": "status"},
    }
    base.update(overrides)
    return base


def problems(raw: object, columns: int = 12) -> list[tuple[str, str]]:
    return [(e.code, e.path) for e in check_widget(raw, columns, "/widgets/2")]


def test_a_valid_widget_has_no_problem() -> None:
    assert problems(widget()) == []
    assert problems(widget(type="text", query=None, config={"content": "# Hi"})) == []
    assert problems(widget(query=None, saved_query="12")) == []
    assert problems(widget(query=None, saved_query=12)) == []
    assert problems(widget(position={"x": 6, "y": 9999, "w": 6, "h": 1})) == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"type": "donut"}, [("invalid_value", "/widgets/2/type")]),
        ({"type": None}, [("invalid_value", "/widgets/2/type")]),
        ({"title": 5}, [("invalid_value", "/widgets/2/title")]),
        ({"title": "x" * 201}, [("invalid_value", "/widgets/2/title")]),
        ({"saved_query": "3"}, [("invalid_definition", "/widgets/2/saved_query")]),
        ({"query": None}, [("invalid_definition", "/widgets/2")]),
        ({"query": "SELECT 1"}, [("invalid_definition", "/widgets/2/query")]),
        ({"query": None, "saved_query": "1 OR 1=1"}, [("invalid_value", "/widgets/2/saved_query")]),
        ({"query": None, "saved_query": "٣"}, [("invalid_value", "/widgets/2/saved_query")]),
        ({"query": None, "saved_query": True}, [("invalid_value", "/widgets/2/saved_query")]),
        ({"query": None, "saved_query": 0}, [("invalid_value", "/widgets/2/saved_query")]),
        (
            {"position": {"x": 7, "y": 0, "w": 6, "h": 1}},
            [("invalid_value", "/widgets/2/position/w")],
        ),
        (
            {"position": {"x": -1, "y": 0, "w": 1, "h": 1}},
            [("invalid_value", "/widgets/2/position/x")],
        ),
        (
            {"position": {"x": 0, "y": -1, "w": 1, "h": 1}},
            [("invalid_value", "/widgets/2/position/y")],
        ),
        (
            {"position": {"x": 0, "y": 0, "w": 0, "h": 1}},
            [("invalid_value", "/widgets/2/position/w")],
        ),
        (
            {"position": {"x": 0, "y": 0, "w": 1, "h": 0}},
            [("invalid_value", "/widgets/2/position/h")],
        ),
        (
            {"position": {"x": 0, "y": 0, "w": 1.5, "h": 1}},
            [("invalid_value", "/widgets/2/position/w")],
        ),
        (
            {"position": {"x": True, "y": 0, "w": 1, "h": 1}},
            [("invalid_value", "/widgets/2/position/x")],
        ),
        (
            {"position": {"x": 0, "y": 2**40, "w": 1, "h": 1}},
            [("invalid_value", "/widgets/2/position/y")],
        ),
        (
            {"position": {"x": 0, "y": 9999, "w": 1, "h": 2}},
            [("invalid_value", "/widgets/2/position/h")],
        ),
        ({"position": None}, [("invalid_definition", "/widgets/2/position")]),
        ({"config": []}, [("invalid_definition", "/widgets/2/config")]),
        ({"config": {"content": "x" * MAX_CONFIG_BYTES}}, [("too_complex", "/widgets/2/config")]),
        (
            {"config": {"content": "é" * (MAX_CONFIG_BYTES // 2)}},
            [("too_complex", "/widgets/2/config")],
        ),
    ],
)
def test_widget_problems_with_paths(
    overrides: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert problems(widget(**overrides)) == expected


def test_the_position_bound_follows_the_layout_columns() -> None:
    assert problems(widget(position={"x": 20, "y": 0, "w": 4, "h": 1}), columns=24) == []
    assert problems(widget(position={"x": 0, "y": 0, "w": 4, "h": 1}), columns=3) == [
        ("invalid_value", "/widgets/2/position/w")
    ]


def test_config_at_the_size_limit_is_accepted() -> None:
    content = "x" * (MAX_CONFIG_BYTES - len('{"content":""}'))
    assert problems(widget(config={"content": content})) == []
    assert problems("junk") == [("invalid_definition", "/widgets/2")]


def test_layout_defaults_and_bounds() -> None:
    assert check_layout(None) == (dict(DEFAULT_LAYOUT), [])
    layout, errors = check_layout({"columns": 24})
    assert layout == {"columns": 24, "row_height": 50, "margin": [10, 10]}
    assert errors == []
    _, errors = check_layout({"columns": 0, "row_height": "50", "margin": [1]})
    assert [e.path for e in errors] == ["/layout/columns", "/layout/row_height", "/layout/margin"]
    _, errors = check_layout([])
    assert [e.path for e in errors] == ["/layout"]


def test_ids() -> None:
    assert [is_id(v) for v in ("1", 9, "01x", "", -1, "9" * 20, 2**63, 1.0)] == [
        True,
        True,
        False,
        False,
        False,
        False,
        False,
        False,
    ]
