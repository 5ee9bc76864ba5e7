"""The builder's ask box in a real browser (SPEC section 12): shown only when an assistant is
configured; a question loads the answer's definition into the builder and previews it."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Count

from example_project.shop.models import Order
from tests.browser.conftest import ready

pytestmark = pytest.mark.browser


def test_the_ask_box_is_hidden_without_an_assistant(page: Any, settings: Any) -> None:
    settings.PRISMIQ = {**settings.PRISMIQ, "ASSISTANT": {}}
    ready(page, "/analytics/query/")
    assert page.locator("#ask-panel").is_hidden()


def test_a_question_fills_the_builder_and_previews_the_answer(page: Any, settings: Any) -> None:
    settings.PRISMIQ = {**settings.PRISMIQ, "ASSISTANT": {"BACKEND": "offline"}}
    ready(page, "/analytics/query/")
    assert page.locator("#ask-panel").is_visible()
    page.get_by_label("Question", exact=True).fill("number of orders by status")
    page.get_by_role("button", name="Ask", exact=True).click()
    page.wait_for_function(
        "/shop_order|rror|not/.test(document.querySelector('#ask-explanation').textContent)"
    )
    assert "shop_order" in page.inner_text("#ask-explanation")
    page.wait_for_selector("#preview-table table")
    definition = page.evaluate("prismiqBuilder.definition()")
    assert definition["tables"] == [{"id": "t0", "name": "shop_order"}]
    rows = page.eval_on_selector_all(
        "#preview-table tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))"
    )
    expected = dict(Order.objects.values_list("status").annotate(n=Count("id")))
    assert {r[0]: int(r[1].replace(",", "")) for r in rows} == expected
