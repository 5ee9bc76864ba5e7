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


def test_protected_table_test_agrees_with_is_protected_table(monkeypatch):
    from django.contrib.auth import get_user_model

    from prismiq_django.protected import protected_table_test

    names = ["auth_user", "Django_Session", "prismiq_django_x", "shop_order", "accounts_member"]
    monkeypatch.setattr(get_user_model()._meta, "db_table", "accounts_member")
    is_protected = protected_table_test()
    assert [is_protected(n) for n in names] == [is_protected_table(n) for n in names]
    assert is_protected("ACCOUNTS_MEMBER")
    assert not is_protected("shop_order")


def test_a_catalog_build_looks_the_user_model_up_once(monkeypatch):
    """apply_exposure tests every table's name; the user model must not be resolved per table
    (measurable at 1,000 tables), and the site's user table must still be left out."""
    from django.contrib.auth import get_user_model

    from prismiq_django import protected
    from prismiq_django.exposure import ExposureConfig, apply_exposure
    from prismiq_django.query.catalog import Catalog, Column, Table

    monkeypatch.setattr(get_user_model()._meta, "db_table", "accounts_member")
    real = protected._user_model_table
    calls = []

    def counted():
        calls.append(1)
        return real()

    monkeypatch.setattr(protected, "_user_model_table", counted)
    names = [f"t{i:03d}" for i in range(200)] + ["accounts_member", "auth_user", "django_session"]
    raw = Catalog.build(Table(n, (Column("id", "integer", "integer"),)) for n in names)
    exposed = apply_exposure(raw, ExposureConfig(tuple(names)))
    assert sorted(exposed.tables) == names[:200]
    assert len(calls) == 1


@pytest.mark.parametrize(
    "db_table", ['accounts"."member', '"accounts"."member"', 'Accounts"."MEMBER']
)
def test_a_schema_qualified_user_table_is_protected(monkeypatch, db_table):
    """Django sites on PostgreSQL put the user model in another schema with
    ``db_table = 'schema"."table'``; introspection reports the bare name ("member"), which must
    still be protected (and with it every table of that name, in any schema)."""
    from django.contrib.auth import get_user_model

    from prismiq_django.exposure import ExposureConfig, apply_exposure
    from prismiq_django.protected import protected_table_test
    from prismiq_django.query.catalog import Catalog, Column, Table

    monkeypatch.setattr(get_user_model()._meta, "db_table", db_table)
    assert is_protected_table("member")
    assert is_protected_table("MEMBER")
    assert protected_table_test()("member")
    assert not is_protected_table("accounts")
    raw = Catalog.build(
        [Table("member", (Column("password", "text", "string"),), schema_name="accounts")]
    )
    assert dict(apply_exposure(raw, ExposureConfig(("member", "accounts.member"))).tables) == {}


def test_the_tables_of_database_caches_are_protected(settings):
    """A ``DatabaseCache`` table can hold sessions (the ``cache`` and ``cached_db`` session
    engines): whatever its LOCATION, it is protected like ``django_session``."""
    from prismiq_django.protected import protected_table_test

    settings.CACHES = {
        **settings.CACHES,
        "db": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "site_cache"},
        "other": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": 'caches"."Sessions',
        },
        "broken": {"BACKEND": "no.such.Backend", "LOCATION": "shop_order"},
    }
    assert is_protected_table("site_cache")
    assert is_protected_table("SITE_CACHE")
    assert is_protected_table("sessions")
    assert protected_table_test()("site_cache")
    assert not is_protected_table("shop_order")
