"""The saved-queries page in a real browser: list, run (numbers checked against the ORM), open
in the builder, delete; another user's shared query runs but offers no delete."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db.models import Count

from example_project.shop.models import Customer
from prismiq_django.models import SavedQuery
from tests.browser.conftest import ready

pytestmark = pytest.mark.browser

CUSTOMERS_BY_COUNTRY = {
    "tables": [{"id": "c", "name": "shop_customer"}],
    "columns": [
        {"table_id": "c", "column": "country"},
        {"table_id": "c", "column": "*", "aggregation": "count", "alias": "customers"},
    ],
    "order_by": [
        {"alias": "customers", "direction": "DESC"},
        {"alias": "country", "direction": "ASC"},
    ],
}


def test_run_open_and_delete_saved_queries(page: Any, demo_user: Any) -> None:
    mine = SavedQuery.objects.create(
        name="Customers by country", query=CUSTOMERS_BY_COUNTRY, owner=demo_user
    )
    other = User.objects.create_user("bob", password="pw")
    shared = SavedQuery.objects.create(
        name="Bob's shared query", query=CUSTOMERS_BY_COUNTRY, owner=other, is_shared=True
    )
    SavedQuery.objects.create(name="Bob's private query", query=CUSTOMERS_BY_COUNTRY, owner=other)

    ready(page, "/analytics/saved-queries/")
    names = page.locator("#saved-table tbody th").all_inner_texts()
    assert sorted(names) == sorted([mine.name, shared.name])

    page.get_by_role("button", name=f"Run {mine.name}").click()
    page.wait_for_selector("#result-table table")
    expected = list(
        Customer.objects.values("country").annotate(n=Count("id")).order_by("-n", "country")
    )
    rows = page.eval_on_selector_all(
        "#result-table tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))"
    )
    assert rows == [[e["country"], str(e["n"])] for e in expected][: len(rows)]
    assert "rows" in page.inner_text("#result-meta")

    # Only the owner is offered Delete.
    assert page.get_by_role("button", name=f"Delete {shared.name}").count() == 0
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=f"Delete {mine.name}").click()
    page.wait_for_function(f"!document.querySelector('#saved-table tr[data-id=\"{mine.pk}\"]')")
    assert not SavedQuery.objects.filter(pk=mine.pk).exists()

    page.get_by_role("link", name=f"Open {shared.name} in the builder").click()
    page.wait_for_selector("#preview-table table")
    assert page.evaluate("prismiqBuilder.definition().tables") == CUSTOMERS_BY_COUNTRY["tables"]
