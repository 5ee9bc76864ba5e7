"""The Dashboard admin: list (with search and the widget count), change page with widgets inline."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.test import Client

from prismiq_django.models import Dashboard, Widget
from tests.api.conftest import definition


def test_dashboard_admin_pages(alice: User) -> None:
    root = User.objects.create_superuser("root", "root@example.com", None)
    for i in range(5):
        board = Dashboard.objects.create(name=f"Sales {i}", owner=alice, tenant="acme")
        Widget.objects.create(dashboard=board, type="table", title=f"Top {i}", query=definition())
        Widget.objects.create(dashboard=board, type="text", title="Note")
    browser = Client()
    browser.force_login(root)
    listing = browser.get("/admin/prismiq_django/dashboard/", {"q": "Top 3"})
    assert listing.status_code == 200
    assert b"Sales 3" in listing.content
    assert b"Sales 2" not in listing.content
    everything = browser.get("/admin/prismiq_django/dashboard/")
    assert everything.content.count(b"acme") >= 5
    change = browser.get(f"/admin/prismiq_django/dashboard/{board.pk}/change/")
    assert change.status_code == 200
    assert b"Top 4" in change.content
    assert b"shop_order" in change.content  # the widget's query, read-only
    alice_browser = Client()
    alice_browser.force_login(alice)
    assert alice_browser.get("/admin/prismiq_django/dashboard/").status_code == 302
