"""The SavedQuery admin: list, search and change pages render for staff."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.test import Client

from prismiq_django.models import SavedQuery
from tests.api.conftest import definition


def test_saved_query_admin_pages(alice: User) -> None:
    admin_user = User.objects.create_superuser("root", "root@example.com", None)
    saved = SavedQuery.objects.create(name="Monthly revenue", query=definition(), owner=alice)
    browser = Client()
    browser.force_login(admin_user)
    listing = browser.get("/admin/prismiq_django/savedquery/", {"q": "alice"})
    assert listing.status_code == 200
    assert b"Monthly revenue" in listing.content
    change = browser.get(f"/admin/prismiq_django/savedquery/{saved.pk}/change/")
    assert change.status_code == 200
    assert b"shop_order" in change.content
    assert browser.get("/admin/prismiq_django/savedquery/", {"q": "nobody"}).status_code == 200


def test_saved_query_admin_refuses_non_staff(alice: User) -> None:
    browser = Client()
    browser.force_login(alice)
    response = browser.get("/admin/prismiq_django/savedquery/")
    assert response.status_code == 302
