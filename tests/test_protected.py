from __future__ import annotations

import pytest

from prismiq_django.protected import is_protected_table


@pytest.mark.parametrize(
    "name",
    [
        "auth_user",
        "auth_user_groups",
        "auth_permission",
        "Auth_Group",
        "django_session",
        "DJANGO_MIGRATIONS",
        "django_admin_log",
        "django_content_type",
        "prismiq_django_exposedtable",
        "prismiq_django_savedquery",
    ],
)
def test_protected(name):
    assert is_protected_table(name)


@pytest.mark.parametrize(
    "name", ["shop_order", "shop_customer", "authors", "django_sessions_archive", "orders"]
)
def test_not_protected(name):
    assert not is_protected_table(name)


def test_custom_user_model_table_is_protected(settings, monkeypatch):
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    monkeypatch.setattr(user_model._meta, "db_table", "accounts_member")
    assert is_protected_table("accounts_member")
    assert is_protected_table("ACCOUNTS_MEMBER")


def test_app_config():
    from django.apps import apps

    config = apps.get_app_config("prismiq_django")
    assert config.verbose_name == "Prismiq analytics"
    assert config.default_auto_field == "django.db.models.BigAutoField"
