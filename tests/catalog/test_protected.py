from __future__ import annotations

import pytest

from prismiq_django.catalog.protected import is_protected_table


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
    "name",
    [
        "shop_order",
        "shop_customer",
        "authors",
        "django_sessions_archive",
        "orders",
        # Common words that are also the labels of credential apps are not prefixes.
        "account_balance",
        "openid_settings",
        "mfa_policy",
    ],
)
def test_not_protected(name):
    assert not is_protected_table(name)


#: Default table names of the third-party apps of PROTECTED_APPS (none installed here), each read
#: from the app's models or migrations.
THIRD_PARTY_TABLES = [
    "authtoken_token",  # djangorestframework
    "token_blacklist_outstandingtoken",  # djangorestframework-simplejwt
    "token_blacklist_blacklistedtoken",
    "oauth2_provider_application",  # django-oauth-toolkit
    "oauth2_provider_grant",
    "oauth2_provider_accesstoken",
    "oauth2_provider_refreshtoken",
    "oauth2_provider_idtoken",
    "oauth2_provider_devicegrant",
    "account_emailaddress",  # django-allauth
    "account_emailconfirmation",
    "socialaccount_socialapp",
    "socialaccount_socialapp_sites",
    "socialaccount_socialaccount",
    "socialaccount_socialtoken",
    "openid_openidstore",
    "openid_openidnonce",
    "mfa_authenticator",
    "usersessions_usersession",
    "allauth_idp_oidc_client",
    "allauth_idp_oidc_token",
    "social_auth_usersocialauth",  # social-auth-app-django
    "social_auth_nonce",
    "social_auth_association",
    "social_auth_code",
    "social_auth_partial",
    "otp_totp_totpdevice",  # django-otp
    "otp_hotp_hotpdevice",
    "otp_static_staticdevice",
    "otp_static_statictoken",
    "otp_email_emaildevice",
    "otp_yubikey_yubikeydevice",  # django-otp-yubikey
    "otp_yubikey_remoteyubikeydevice",
    "otp_yubikey_validationservice",
    "knox_authtoken",  # django-rest-knox
    "two_factor_phonedevice",  # django-two-factor-auth
    "two_factor_webauthn_webauthndevice",
    "axes_accessattempt",  # django-axes
    "axes_accesslog",
    "axes_accessfailurelog",
    "axes_accessattemptexpiration",
    "user_sessions_session",  # django-user-sessions
]


@pytest.mark.parametrize("name", THIRD_PARTY_TABLES)
def test_credential_tables_of_third_party_apps_are_protected_by_default_name(name):
    """The analytics database may be another site's, with apps not installed here: their
    default table names are protected all the same."""
    assert is_protected_table(name)
    assert is_protected_table(name.upper())


def test_every_table_of_an_installed_protected_app_is_protected_whatever_its_name(monkeypatch):
    """Through the app registry: a model of a protected app with its own ``db_table``, and an
    auto-created many-to-many table, are protected though no default name matches them."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.auth.models import Group

    from prismiq_django.catalog.protected import protected_table_test

    monkeypatch.setattr(LogEntry._meta, "db_table", "site_admin_history")
    monkeypatch.setattr(Group.permissions.through._meta, "db_table", "site_group_permissions")
    is_protected = protected_table_test()
    assert is_protected("site_admin_history")
    assert is_protected("SITE_GROUP_PERMISSIONS")
    assert not is_protected("site_admin")


def test_the_user_models_parent_and_many_to_many_tables_are_protected(monkeypatch):
    """A custom user model's ``groups`` / ``user_permissions`` tables, an explicit ``through``
    table and a concrete parent's table (which holds the password) are protected with its own."""
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.db import models
    from django.test.utils import isolate_apps

    from prismiq_django.catalog.exposure import ExposureConfig, apply_exposure
    from prismiq_django.catalog.protected import protected_table_test
    from prismiq_django.query.catalog import Catalog, Column, Table

    with isolate_apps("tests"):

        class Team(models.Model):  # noqa: DJ008 - a test model, never printed
            class Meta:
                app_label = "tests"

        class Grant(models.Model):  # noqa: DJ008
            class Meta:
                app_label = "tests"

        class Person(AbstractBaseUser):
            email = models.EmailField(unique=True)
            USERNAME_FIELD = "email"

            class Meta:
                app_label = "tests"

        class Member(Person):
            groups = models.ManyToManyField(Team, related_name="+")
            user_permissions = models.ManyToManyField(Grant, related_name="+")
            roles = models.ManyToManyField(Team, through="Role", related_name="+")

            class Meta:
                app_label = "tests"

        class Role(models.Model):  # noqa: DJ008
            member = models.ForeignKey(Member, models.CASCADE)
            team = models.ForeignKey(Team, models.CASCADE)

            class Meta:
                app_label = "tests"
                db_table = 'accounts"."member_roles'

    monkeypatch.setattr("django.contrib.auth.get_user_model", lambda: Member)
    user_tables = [
        "tests_member",
        "tests_person",
        "tests_member_groups",
        "tests_member_user_permissions",
        "member_roles",
    ]
    is_protected = protected_table_test()
    assert all(is_protected(name) for name in user_tables)
    assert all(is_protected_table(name.upper()) for name in user_tables)
    assert not is_protected("tests_team")  # what the user links to is not the user's
    assert not is_protected("tests_grant")
    names = [*user_tables, "tests_team"]
    raw = Catalog.build(Table(n, (Column("id", "integer", "integer"),)) for n in names)
    assert list(apply_exposure(raw, ExposureConfig(tuple(names))).tables) == ["tests_team"]


def _session_engine(monkeypatch, model):
    """A SESSION_ENGINE module (in sys.modules) whose store keeps sessions in ``model``."""
    import sys
    from types import ModuleType

    from django.contrib.sessions.backends.db import SessionStore as DbStore

    class SessionStore(DbStore):
        @classmethod
        def get_model_class(cls):
            return model

    module = ModuleType("tests_site_session_engine")
    module.SessionStore = SessionStore
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return module.__name__


def test_a_custom_session_models_table_is_protected(monkeypatch, settings):
    """A session engine whose model is not ``django_session`` (an ``AbstractBaseSession``
    subclass with its own table) keeps session keys and data there."""
    from django.contrib.sessions.base_session import AbstractBaseSession
    from django.test.utils import isolate_apps

    from prismiq_django.catalog.protected import protected_table_test

    with isolate_apps("tests"):

        class SiteSession(AbstractBaseSession):
            class Meta:
                app_label = "tests"
                db_table = "site_sessions"

    settings.SESSION_ENGINE = _session_engine(monkeypatch, SiteSession)
    assert is_protected_table("site_sessions")
    assert protected_table_test()("SITE_SESSIONS")
    # Engines without a model add nothing (and do not fail).
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    assert not is_protected_table("site_sessions")
    assert is_protected_table("django_session")


def test_the_sites_own_protected_tables_and_prefixes(settings):
    settings.PRISMIQ = {"PROTECTED_TABLES": ["billing_card", "Vault_*"]}
    for name in ("billing_card", "BILLING_CARD", "vault_keys", "VAULT_", "Vault_Shares"):
        assert is_protected_table(name), name
    for name in ("billing_cards", "billing", "vaults", "shop_order"):
        assert not is_protected_table(name), name


@pytest.mark.parametrize("value", ["vault_*", ["ok", 3], [""], ["*"], ["va*ult"], None])
def test_an_invalid_protected_tables_setting_is_refused(settings, value):
    """Rather than build a catalog on a protection the site did not mean, refuse (E002 says
    why at startup)."""
    from django.core.exceptions import ImproperlyConfigured

    settings.PRISMIQ = {"PROTECTED_TABLES": value}
    with pytest.raises(ImproperlyConfigured, match="PROTECTED_TABLES"):
        is_protected_table("shop_order")


def test_the_protection_key_follows_what_is_protected(settings):
    """Part of the schema cache's keys: kept between requests, renewed by every setting that
    changes what is protected."""
    from prismiq_django.catalog.protected import protection_key

    base = protection_key()
    assert protection_key() == base
    settings.PRISMIQ = {"PROTECTED_TABLES": ["vault_*"]}
    vault = protection_key()
    assert vault != base
    settings.PRISMIQ = {"PROTECTED_TABLES": ["vault_*"], "MAX_ROWS": 5}
    assert protection_key() == vault  # the same protection
    settings.PRISMIQ = {}
    assert protection_key() == base
    settings.CACHES = {
        **settings.CACHES,
        "db": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "site_cache"},
    }
    assert protection_key() not in (base, vault)


def test_custom_user_model_table_is_protected(settings, monkeypatch):
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    monkeypatch.setattr(user_model._meta, "db_table", "accounts_member")
    assert is_protected_table("accounts_member")
    assert is_protected_table("ACCOUNTS_MEMBER")


@pytest.mark.parametrize(
    "setting",
    [
        "OAUTH2_PROVIDER_APPLICATION_MODEL",
        "OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL",
        "OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL",
        "OAUTH2_PROVIDER_ID_TOKEN_MODEL",
        "OAUTH2_PROVIDER_GRANT_MODEL",
    ],
)
def test_a_swapped_oauth_model_is_a_credential_table(settings, setting):
    """Issue 15 item 8: django-oauth-toolkit's swapped models live in the site's own app (no
    ``oauth2_provider_`` prefix); the rule follows the setting as it follows the user model
    (a real installed model stands in for the site's swapped one)."""
    from prismiq_django.catalog.protected import protection_key

    assert not is_protected_table("shop_customer")
    before = protection_key()
    setattr(settings, setting, "shop.Customer")
    assert is_protected_table("shop_customer")
    assert is_protected_table("SHOP_CUSTOMER")
    assert protection_key() != before
    setattr(settings, setting, "nowhere.Missing")  # not installed: nothing added, no failure
    assert not is_protected_table("shop_customer")


def test_app_config():
    from django.apps import apps

    config = apps.get_app_config("prismiq_django")
    assert config.verbose_name == "Prismiq analytics"
    assert config.default_auto_field == "django.db.models.BigAutoField"


def test_protected_table_test_agrees_with_is_protected_table(monkeypatch):
    from django.contrib.auth import get_user_model

    from prismiq_django.catalog.protected import protected_table_test

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

    from prismiq_django.catalog import protected
    from prismiq_django.catalog.exposure import ExposureConfig, apply_exposure
    from prismiq_django.query.catalog import Catalog, Column, Table

    monkeypatch.setattr(get_user_model()._meta, "db_table", "accounts_member")
    real = protected.user_model_tables
    calls = []

    def counted():
        calls.append(1)
        return real()

    monkeypatch.setattr(protected, "user_model_tables", counted)
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

    from prismiq_django.catalog.exposure import ExposureConfig, apply_exposure
    from prismiq_django.catalog.protected import protected_table_test
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
    from prismiq_django.catalog.protected import protected_table_test

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
