"""Admin for the exposure models, the sync, and the E007 database check."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client
from django.urls import reverse

from prismiq_django import services
from prismiq_django.catalog.exposure import looks_secret
from prismiq_django.catalog.protected import is_protected_table
from prismiq_django.catalog.sync import sync_from_database
from prismiq_django.checks import check_exposed_rows
from prismiq_django.models import ExposedColumn, ExposedTable
from tests.support.glue import fresh_catalog  # noqa: F401  (autouse: a clean catalog cache)

SYNC_URL = "admin:prismiq_django_exposedtable_sync"
LIST_URL = "admin:prismiq_django_exposedtable_changelist"
ADD_URL = "admin:prismiq_django_exposedtable_add"


@pytest.fixture
def staff_client(db: None) -> Client:
    user = User.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client


def _inline_management(prefix: str = "columns") -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": "0",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_sync_button_creates_rows_not_exposed_secrets_hidden(staff_client: Client) -> None:
    page = staff_client.get(reverse(LIST_URL))
    assert page.status_code == 200
    assert b"Sync from database" in page.content
    response = staff_client.post(reverse(SYNC_URL))
    assert response.status_code == 302
    names = set(ExposedTable.objects.values_list("name", flat=True))
    assert {"shop_customer", "shop_order", "shop_product", "shop_orderitem"} <= names
    assert not any(is_protected_table(name) for name in names)
    assert not ExposedTable.objects.filter(is_exposed=True).exists()
    hidden = set(ExposedColumn.objects.filter(is_hidden=True).values_list("name", flat=True))
    assert hidden == {"api_token"}
    assert ExposedColumn.objects.get(table__name="shop_customer", name="email").is_hidden is False
    assert services.table_names(None) == []
    # A second sync adds nothing and keeps the admin's edits.
    ExposedColumn.objects.filter(name="api_token").update(is_hidden=False)
    report = sync_from_database()
    assert (report.tables_created, report.columns_created) == (0, 0)
    assert ExposedColumn.objects.get(name="api_token").is_hidden is False


def test_sync_needs_post_and_permission(staff_client: Client) -> None:
    assert staff_client.get(reverse(SYNC_URL)).status_code == 405
    clerk = User.objects.create_user("clerk", password="pw", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_exposedtable"))
    client = Client()
    client.force_login(clerk)
    assert client.post(reverse(SYNC_URL)).status_code == 403
    assert not ExposedTable.objects.exists()
    anonymous = Client().post(reverse(SYNC_URL))
    assert anonymous.status_code == 302
    assert "/login/" in anonymous["Location"]
    assert not ExposedTable.objects.exists()


def test_sync_action_works_like_the_button(staff_client: Client) -> None:
    ExposedTable.objects.create(name="shop_order")
    response = staff_client.post(
        reverse(LIST_URL),
        {"action": "sync_action", "_selected_action": [ExposedTable.objects.get().pk]},
    )
    assert response.status_code == 302
    assert ExposedTable.objects.filter(name="shop_customer").exists()


@pytest.mark.parametrize("bar", [{"index": "0"}, {"index": "1"}, {}])
def test_sync_action_runs_with_no_row_selected_on_an_empty_table(
    staff_client: Client, bar: dict[str, str]
) -> None:
    """Issue 23 item 2: on a fresh site (no rows) the action runs without a selection (Django
    refuses actions with nothing selected: "Items must be selected ..."), from either action
    bar (``index``) or a bare POST."""
    assert not ExposedTable.objects.exists()
    response = staff_client.post(reverse(LIST_URL), {"action": "sync_action", **bar}, follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    assert "Items must be selected" not in text
    assert "Sync from database:" in text
    assert ExposedTable.objects.filter(name="shop_customer").exists()
    assert not ExposedTable.objects.filter(is_exposed=True).exists()


def test_sync_action_without_a_selection_still_needs_the_add_permission(db: None) -> None:
    clerk = User.objects.create_user("clerk", password="pw", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_exposedtable"))
    clerk.user_permissions.add(Permission.objects.get(codename="change_exposedtable"))
    client = Client()
    client.force_login(clerk)
    client.post(reverse(LIST_URL), {"action": "sync_action", "index": "0"})
    assert not ExposedTable.objects.exists()


def test_admin_refuses_protected_tables(staff_client: Client) -> None:
    for name in ("auth_user", "django_session", "prismiq_django_savedquery"):
        response = staff_client.post(
            reverse(ADD_URL),
            {"name": name, "db_schema": "", "is_exposed": "on", **_inline_management()},
        )
        assert response.status_code == 200
        assert b"may never be exposed" in response.content
    assert not ExposedTable.objects.exists()


def test_admin_exposes_table_with_inline_hidden_column(staff_client: Client) -> None:
    response = staff_client.post(
        reverse(ADD_URL),
        {
            "name": "shop_customer",
            "db_schema": "",
            "is_exposed": "on",
            "display_name": "Customers",
            "tenant_column": "",
            **_inline_management(),
            "columns-TOTAL_FORMS": "1",
            "columns-0-name": "email",
            "columns-0-is_hidden": "on",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    table = services.table_schema(None, "shop_customer")
    assert table["display_name"] == "Customers"
    assert "email" not in {c["name"] for c in table["columns"]}


def test_admin_search_by_table_and_column_name(staff_client: Client) -> None:
    sync_from_database()
    found = staff_client.get(reverse(LIST_URL), {"q": "api_token"})
    assert found.status_code == 200
    assert list(found.context["cl"].result_list) == [ExposedTable.objects.get(name="shop_customer")]
    by_table = staff_client.get(reverse(LIST_URL), {"q": "shop_order"})
    assert {t.name for t in by_table.context["cl"].result_list} == {"shop_order", "shop_orderitem"}


def test_expose_action_skips_protected_rows(staff_client: Client) -> None:
    order = ExposedTable.objects.create(name="shop_order")
    sneaky = ExposedTable.objects.create(name="auth_user")  # written around the admin form
    response = staff_client.post(
        reverse(LIST_URL),
        {"action": "expose_selected", "_selected_action": [order.pk, sneaky.pk]},
    )
    assert response.status_code == 302
    assert ExposedTable.objects.get(name="shop_order").is_exposed
    assert not ExposedTable.objects.get(name="auth_user").is_exposed
    assert services.table_names(None) == ["shop_order"]
    staff_client.post(
        reverse(LIST_URL), {"action": "unexpose_selected", "_selected_action": [order.pk]}
    )
    assert services.table_names(None) == []


@pytest.mark.django_db
def test_e007_protected_row_marked_exposed() -> None:
    assert check_exposed_rows(databases=["default"]) == []
    ExposedTable.objects.create(name="django_session", is_exposed=True)
    ExposedTable.objects.create(name="shop_order", is_exposed=True)
    messages = check_exposed_rows(databases=["default"])
    assert [m.id for m in messages] == ["prismiq_django.E007"]
    assert "django_session" in messages[0].msg
    assert check_exposed_rows(databases=None) == []
    with pytest.raises(SystemCheckError):
        call_command("check", databases=["default"])
    assert services.table_names(None) == ["shop_order"]


@pytest.mark.django_db
def test_e007_third_party_and_site_protected_rows(settings) -> None:
    ExposedTable.objects.create(name="oauth2_provider_accesstoken", is_exposed=True)
    ExposedTable.objects.create(name="shop_order", is_exposed=True)
    ExposedTable.objects.create(name="shop_customer", is_exposed=True)
    messages = check_exposed_rows(databases=["default"])
    assert [m.id for m in messages] == ["prismiq_django.E007"]
    assert "oauth2_provider_accesstoken" in messages[0].msg
    settings.PRISMIQ = {"PROTECTED_TABLES": ["shop_cust*"]}
    messages = check_exposed_rows(databases=["default"])
    assert [m.id for m in messages] == ["prismiq_django.E007", "prismiq_django.E007"]
    assert "shop_customer" in messages[1].msg
    assert services.table_names(None) == ["shop_order"]
    settings.PRISMIQ = {"PROTECTED_TABLES": "shop_cust*"}  # invalid: E002 reports it
    assert check_exposed_rows(databases=["default"]) == []


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("password", True),
        ("api_token", True),
        ("API_KEY", True),
        ("password_hash", True),
        ("salt", True),
        ("client_secret", True),
        ("email", False),
        ("total", False),
    ],
)
def test_looks_secret(name: str, secret: bool) -> None:
    assert looks_secret(name) is secret
