from __future__ import annotations

import pytest
from django.core.checks import Error
from django.test import override_settings

from prismiq_django.checks import REQUEST_ID_MIDDLEWARE, check_deployment, check_settings


def ids(messages: list[Error]) -> list[str]:
    return [m.id for m in messages if m.id]


def test_default_configuration_is_clean():
    with override_settings(PRISMIQ={}):
        assert check_settings() == []


def test_checks_are_registered_with_django():
    from django.core import checks

    assert check_settings in checks.registry.registry.get_checks()


def test_e001_unknown_key():
    with override_settings(PRISMIQ={"MAX_ROWZ": 1}):
        messages = check_settings()
    assert ids(messages) == ["prismiq_django.E001"]
    assert "MAX_ROWZ" in messages[0].msg
    assert messages[0].hint


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("MAX_ROWS", 0),
        ("MAX_ROWS", "100"),
        ("MAX_ROWS", True),
        ("MAX_DEPTH", -1),
        ("RESULT_CACHE_TTL", -5),
        ("SCHEMA_CACHE_TTL", 1.5),
        ("QUERY_TIMEOUT", 0),
        ("QUERY_TIMEOUT", "30"),
        # Every statement would fail (500): no millisecond count, or beyond PostgreSQL's
        # statement_timeout maximum (2**31 - 1 ms).
        ("QUERY_TIMEOUT", float("inf")),
        ("QUERY_TIMEOUT", float("nan")),
        ("QUERY_TIMEOUT", 2_147_484),
        ("DATABASE", 1),
        ("CACHE_ALIAS", None),
        ("DB_SCHEMA", 3),
        ("DB_SCHEMA", ["public", 4]),
        # PostgreSQL's own schemas: role password hashes (pg_authid), other sessions' queries.
        ("DB_SCHEMA", "pg_catalog"),
        ("DB_SCHEMA", ["public", "pg_catalog"]),
        ("DB_SCHEMA", ["public", "information_schema"]),
        ("DB_SCHEMA", ["PG_TOAST"]),
        ("DB_SCHEMA", ["pg_temp_3"]),
        ("EXPOSED_TABLES", "shop_order"),
        ("RATE_LIMIT", "lots"),
        ("RATE_LIMIT", "0/m"),
        ("RATE_LIMIT", "10/w"),
        ("EXPORT_RATE_LIMIT", "ten"),
        ("EXPORT_RATE_LIMIT", 10),
        ("EXPORT_TIMEOUT", 0),
        ("EXPORT_TIMEOUT", "300"),
        ("EXPORT_TIMEOUT", float("inf")),
        ("EXPORT_MAX_ROWS", 0),
        ("EXPORT_MAX_ROWS", 1.5),
        ("MAX_PAGE_SIZE", -1),
        ("MAX_PAGE_SIZE", True),
        ("EXPORT_CSV_ESCAPE_FORMULAS", "no"),
        ("EXPORT_CSV_ESCAPE_FORMULAS", 0),
        ("PERMISSION_CLASSES", "rest_framework.permissions.AllowAny"),
        ("PROTECTED_TABLES", "vault_*"),
        ("PROTECTED_TABLES", None),
        ("PROTECTED_TABLES", ["vault_keys", 3]),
        ("PROTECTED_TABLES", [""]),
        ("PROTECTED_TABLES", ["*"]),
        ("PROTECTED_TABLES", ["va*lt"]),
        ("DASHBOARD_CONCURRENCY", 0),
        ("DASHBOARD_CONCURRENCY", "4"),
        ("DASHBOARD_CONCURRENCY", 2.0),
        ("DASHBOARD_ADMIN_PERMISSION_CLASSES", "rest_framework.permissions.IsAdminUser"),
        ("SQL_PERMISSION_CLASSES", "rest_framework.permissions.IsAdminUser"),
        ("SQL_FORBIDDEN_FUNCTIONS", "pg_sleep"),
        ("SQL_FORBIDDEN_FUNCTIONS", ["pg_sleep", 3]),
        ("SQL_FORBIDDEN_FUNCTIONS", [""]),
        ("ASSISTANT", "offline"),
        ("ASSISTANT", {"BAKEND": "offline"}),
        ("ASSISTANT", {"BACKEND": 3}),
        ("ASSISTANT", {"BACKEND": "offline", "TIMEOUT": 0}),
        ("ASSISTANT", {"BACKEND": "offline", "TIMEOUT": "30"}),
        ("ASK_RATE_LIMIT", "often"),
    ],
)
def test_e002_wrong_types(key, value):
    with override_settings(PRISMIQ={key: value}):
        assert "prismiq_django.E002" in ids(check_settings())


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("MAX_ROWS", 100_000),
        ("QUERY_TIMEOUT", 2.5),
        ("QUERY_TIMEOUT", 0.0001),
        ("QUERY_TIMEOUT", 2_147_483.647),
        ("RESULT_CACHE_TTL", 0),
        ("DB_SCHEMA", ["public", "sales"]),
        ("DB_SCHEMA", "public"),
        ("DB_SCHEMA", ["pgsales", "information"]),  # only pg_* and information_schema are system
        ("EXPOSED_TABLES", ["shop_order"]),
        ("RATE_LIMIT", None),
        ("RATE_LIMIT", "10/s"),
        ("RATE_LIMIT", "1000/5m"),
        ("EXPORT_RATE_LIMIT", None),
        ("EXPORT_RATE_LIMIT", "2/s"),
        ("EXPORT_TIMEOUT", 600),
        ("EXPORT_MAX_ROWS", 5_000_000),
        ("MAX_PAGE_SIZE", 100),
        ("EXPORT_CSV_ESCAPE_FORMULAS", False),
        ("PROTECTED_TABLES", ["vault_keys", "billing_*"]),
        ("PROTECTED_TABLES", ()),
        ("DASHBOARD_CONCURRENCY", 1),
        ("DASHBOARD_ADMIN_PERMISSION_CLASSES", []),
        ("DASHBOARD_ADMIN_PERMISSION_CLASSES", ["rest_framework.permissions.IsAuthenticated"]),
        ("SQL_PERMISSION_CLASSES", ["rest_framework.permissions.IsAuthenticated"]),
        ("SQL_FORBIDDEN_FUNCTIONS", ["pg_sleep*", "my_udf"]),
        ("SQL_FORBIDDEN_FUNCTIONS", None),
        ("ASSISTANT", {}),
        ("ASSISTANT", {"BACKEND": "offline", "SAMPLE_VALUES": True}),
        ("ASSISTANT", {"BACKEND": "openai_compatible", "MODEL": "m", "TIMEOUT": 5}),
        ("ASSISTANT", {"BACKEND": "prismiq_django.assistant.offline.OfflineBackend"}),
        ("ASK_RATE_LIMIT", None),
        ("ASK_RATE_LIMIT", "5/m"),
    ],
)
def test_valid_values_pass(key, value):
    with override_settings(PRISMIQ={key: value}):
        assert check_settings() == []


def test_e005_unimportable_dashboard_admin_class():
    with override_settings(PRISMIQ={"DASHBOARD_ADMIN_PERMISSION_CLASSES": ["nope.Nope"]}):
        messages = check_settings()
    assert ids(messages) == ["prismiq_django.E005"]
    assert "DASHBOARD_ADMIN_PERMISSION_CLASSES" in messages[0].msg


def test_e005_unimportable_assistant_backend():
    with override_settings(PRISMIQ={"ASSISTANT": {"BACKEND": "nope.Backend"}}):
        messages = check_settings()
    assert ids(messages) == ["prismiq_django.E005"]
    assert "ASSISTANT" in messages[0].msg


def test_e005_unimportable_sql_permission_class():
    with override_settings(PRISMIQ={"SQL_PERMISSION_CLASSES": ["nope.Nope"]}):
        messages = check_settings()
    assert ids(messages) == ["prismiq_django.E005"]


def test_e003_unknown_database_alias():
    with override_settings(PRISMIQ={"DATABASE": "replica"}):
        messages = check_settings()
    assert ids(messages) == ["prismiq_django.E003"]
    assert "default" in messages[0].hint


def test_e004_unknown_cache_alias():
    with override_settings(PRISMIQ={"CACHE_ALIAS": "analytics"}):
        assert ids(check_settings()) == ["prismiq_django.E004"]


def test_e005_unimportable_dotted_path():
    with override_settings(PRISMIQ={"PERMISSION_CLASSES": ["nope.Nope"]}):
        messages = check_settings()
    assert ids(messages) == ["prismiq_django.E005"]
    assert "PERMISSION_CLASSES" in messages[0].msg


@pytest.mark.parametrize(
    "table",
    [
        "auth_user",
        "AUTH_USER",
        "auth_group",
        "django_session",
        "django_admin_log",
        "django_content_type",
        "django_migrations",
        "prismiq_django_savedquery",
        "prismiq_django_exposedtable",
        # Credential tables of third-party apps.
        "authtoken_token",
        "token_blacklist_outstandingtoken",
        "oauth2_provider_accesstoken",
        "socialaccount_socialtoken",
        "social_auth_usersocialauth",
        "otp_totp_totpdevice",
        "knox_authtoken",
        "two_factor_phonedevice",
        "axes_accessattempt",
        "user_sessions_session",
    ],
)
def test_e006_protected_table_in_exposed_tables(table):
    with override_settings(PRISMIQ={"EXPOSED_TABLES": ["shop_order", table]}):
        messages = check_settings()
    assert ids(messages) == ["prismiq_django.E006"]
    assert table in messages[0].msg


def test_e006_tables_the_site_protects():
    conf = {
        "EXPOSED_TABLES": ["shop_order", "vault_keys", "shop_customer"],
        "PROTECTED_TABLES": ["vault_*", "shop_customer"],
    }
    with override_settings(PRISMIQ=conf):
        messages = check_settings()
    assert ids(messages) == ["prismiq_django.E006", "prismiq_django.E006"]
    assert "vault_keys" in messages[0].msg
    assert "shop_customer" in messages[1].msg


@pytest.mark.parametrize(
    "entry", ["public.auth_user", "sales.django_session", "public.vault_keys", "a.b.auth_user"]
)
def test_e006_a_schema_qualified_entry_naming_a_protected_table(entry):
    """``EXPOSED_TABLES`` lists a table of a schema as ``schema.table`` (the catalog matches that
    spelling), so such an entry names the protected table as much as the bare name does."""
    conf = {"EXPOSED_TABLES": ["shop_order", entry], "PROTECTED_TABLES": ["vault_*"]}
    with override_settings(PRISMIQ=conf):
        messages = check_settings()
    assert ids(messages) == ["prismiq_django.E006"]
    assert entry in messages[0].msg


def test_e006_an_invalid_protected_tables_setting_is_e002_only():
    conf = {"EXPOSED_TABLES": ["shop_order", "auth_user"], "PROTECTED_TABLES": "vault_*"}
    with override_settings(PRISMIQ=conf):
        assert ids(check_settings()) == ["prismiq_django.E002"]


def test_w001_rate_limit_counters_in_another_cache(settings):
    settings.CACHES = {**settings.CACHES, "shared": settings.CACHES["default"]}
    settings.PRISMIQ = {"CACHE_ALIAS": "shared"}
    messages = check_deployment()
    assert "prismiq_django.W001" in ids(messages)
    settings.RATELIMIT_USE_CACHE = "shared"
    assert "prismiq_django.W001" not in ids(check_deployment())
    settings.RATELIMIT_USE_CACHE = "default"
    settings.PRISMIQ = {"CACHE_ALIAS": "shared", "RATE_LIMIT": None}
    assert "prismiq_django.W001" not in ids(check_deployment())


def test_w002_request_id_middleware_missing(settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "RequestId" not in m]
    assert "prismiq_django.W002" in ids(check_deployment())
    settings.MIDDLEWARE = [REQUEST_ID_MIDDLEWARE, *settings.MIDDLEWARE]
    assert "prismiq_django.W002" not in ids(check_deployment())


def test_deployment_checks_are_registered():
    from django.core import checks

    assert check_deployment in checks.registry.registry.get_checks()


POSTGRES = {"ENGINE": "django.db.backends.postgresql", "NAME": "analytics"}


@pytest.mark.parametrize(
    ("overrides", "warned"),
    [
        ({}, True),  # Django's default CONN_MAX_AGE is 0
        ({"CONN_MAX_AGE": 0}, True),
        ({"CONN_MAX_AGE": 0, "OPTIONS": {"pool": False}}, True),
        ({"CONN_MAX_AGE": 600}, False),
        ({"CONN_MAX_AGE": None}, False),  # persistent without a limit
        ({"OPTIONS": {"pool": True}}, False),
        ({"OPTIONS": {"pool": {"min_size": 2, "max_size": 8}}}, False),
        ({"ENGINE": "django.contrib.gis.db.backends.postgis"}, True),
        ({"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}, False),
    ],
)
def test_w004_postgresql_analytics_alias_with_neither_persistent_connections_nor_a_pool(
    settings, monkeypatch, overrides, warned
):
    """A site's ``DATABASES`` entry for the analytics alias (added to the dict the checks read,
    not through ``override_settings``, which refuses DATABASES): W004 when every request would
    open a new PostgreSQL connection."""
    monkeypatch.setitem(settings.DATABASES, "analytics", {**POSTGRES, **overrides})
    settings.PRISMIQ = {"DATABASE": "analytics"}
    messages = [m for m in check_deployment() if m.id == "prismiq_django.W004"]
    assert bool(messages) is warned
    if warned:
        assert "'analytics'" in messages[0].msg
        assert "pool" in messages[0].hint
        assert "CONN_MAX_AGE" in messages[0].hint


def test_w004_only_for_the_analytics_alias(settings, monkeypatch):
    monkeypatch.setitem(settings.DATABASES, "other", dict(POSTGRES))
    settings.PRISMIQ = {"DATABASE": "default"}
    messages = check_deployment()
    default = settings.DATABASES["default"]
    expected = "postgresql" in default["ENGINE"] and default.get("CONN_MAX_AGE", 0) == 0
    assert ("prismiq_django.W004" in ids(messages)) is expected
    settings.PRISMIQ = {"DATABASE": "missing"}  # E003 reports it
    assert "prismiq_django.W004" not in ids(check_deployment())
