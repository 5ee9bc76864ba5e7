"""Tables that can never be exposed, whatever the configuration.

The rule: a table is protected when it holds credentials, sessions, authentication state or
internals that no analytics user may read, namely when it is

- a table of an app in :data:`PROTECTED_APPS` (Django's auth, sessions, admin log and
  contenttypes, this app's own tables, and the well-known third-party apps that store tokens,
  client secrets, one-time-password seeds, sessions or login attempts). Such an app is protected
  whole, two ways, because ``PRISMIQ["DATABASE"]`` may be another site's database whose apps are
  not installed in this process:

  - through the app registry, when the app is installed here (matched by ``AppConfig.name``, so a
    relabelled app counts too): the table of every model of the app, auto-created many-to-many
    tables included, whatever their ``db_table``;
  - by the app's default table names, installed or not: a prefix when all of the app's tables
    share one specific to the app (``oauth2_provider_``), exact names when that prefix would be a
    common word (allauth's ``account_``);

- the user model's table, its concrete parents' tables and its many-to-many tables (auto-created
  such as ``groups`` and ``user_permissions``, or an explicit ``through`` model);
- the session model's tables (``SESSION_ENGINE``'s ``SessionStore.get_model_class()``), likewise;
- a ``DatabaseCache`` table (``LOCATION``: the ``cache`` and ``cached_db`` session engines keep
  sessions there), ``django_migrations`` and ``django_cache_table``;
- named by the site in ``PRISMIQ["PROTECTED_TABLES"]`` (names, and prefixes ending in ``*``).

Names are compared lowercased and without a schema, so a protected name is protected in every
schema. A name longer than PostgreSQL's 63 bytes is protected under its first 63 bytes too: that
is the name PostgreSQL stores (and the catalog sees) for a table created with it.

Both the system checks and the runtime catalog filter consult :func:`is_protected_table`; code
that tests many names at once (a catalog build: one name per table) takes
:func:`protected_table_test` once instead, so that the registry and the settings are read once
rather than once per table. :func:`protection_key` is a digest of everything protected, part of
the schema cache's keys.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from importlib import import_module
from itertools import chain
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from django.core.exceptions import ImproperlyConfigured

from prismiq_django.conf import prismiq_settings

if TYPE_CHECKING:
    from django.db.models import Model

#: Apps whose every table is protected, by ``AppConfig.name``, each with its tables' default names
#: (``"name*"`` is a prefix). Each default name was read from the app's own models or migrations
#: (the version in the comment); the registry covers what those names miss.
PROTECTED_APPS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        # Saved queries and dashboards of every user, exposure configuration.
        "prismiq_django": ("prismiq_django_*",),
        # Django: users, password hashes, groups, permissions; sessions; admin log; content types.
        "django.contrib.auth": ("auth_*",),
        "django.contrib.sessions": ("django_session",),
        "django.contrib.admin": ("django_admin_log",),
        "django.contrib.contenttypes": ("django_content_type",),
        # Django REST framework 3.18: API tokens (authtoken_token).
        "rest_framework.authtoken": ("authtoken_*",),
        # djangorestframework-simplejwt 5.5 blacklist: whole refresh tokens
        # (token_blacklist_outstandingtoken, token_blacklist_blacklistedtoken).
        "rest_framework_simplejwt.token_blacklist": ("token_blacklist_*",),
        # django-oauth-toolkit 3.4: client secrets, grants, access/refresh/ID tokens, device grants
        # (oauth2_provider_application, _grant, _accesstoken, _refreshtoken, _idtoken,
        # _devicegrant).
        "oauth2_provider": ("oauth2_provider_*",),
        # django-allauth 65: e-mail confirmation keys and the login e-mail addresses (the label
        # "account" is too common a prefix), social app secrets and tokens (socialaccount_socialapp,
        # _socialapp_sites, _socialaccount, _socialtoken), OpenID association secrets, MFA
        # secrets and recovery codes, user sessions, and the OIDC provider's clients and tokens.
        "allauth.account": ("account_emailaddress", "account_emailconfirmation"),
        "allauth.socialaccount": ("socialaccount_*",),
        "allauth.socialaccount.providers.openid": ("openid_openidstore", "openid_openidnonce"),
        "allauth.mfa": ("mfa_authenticator",),
        "allauth.usersessions": ("usersessions_usersession",),
        "allauth.idp.oidc": ("allauth_idp_oidc_*",),
        # python-social-auth (social-auth-app-django 8.0): access tokens in extra_data, OpenID
        # associations, partial pipelines, codes (social_auth_usersocialauth, _nonce,
        # _association, _code, _partial; db_table set by the models, not the label).
        "social_django": ("social_auth_*",),
        # django-otp 1.7 and django-otp-yubikey 1.1: TOTP/HOTP/YubiKey secrets, static and e-mail
        # tokens (otp_totp_totpdevice, otp_hotp_hotpdevice, otp_static_staticdevice,
        # otp_static_statictoken, otp_email_emaildevice, otp_yubikey_yubikeydevice,
        # _remoteyubikeydevice, _validationservice).
        "django_otp.plugins.otp_totp": ("otp_totp_*",),
        "django_otp.plugins.otp_hotp": ("otp_hotp_*",),
        "django_otp.plugins.otp_static": ("otp_static_*",),
        "django_otp.plugins.otp_email": ("otp_email_*",),
        "otp_yubikey": ("otp_yubikey_*",),
        # django-rest-knox 5.1: token digests and keys (knox_authtoken).
        "knox": ("knox_*",),
        # django-two-factor-auth 1.18: phone devices with their secret keys (db_table
        # two_factor_phonedevice) and WebAuthn devices (label two_factor_webauthn).
        "two_factor.plugins.phonenumber": ("two_factor_*",),
        "two_factor.plugins.webauthn": ("two_factor_*",),
        # django-axes 8.3: login attempts and logs with usernames, IPs and user agents
        # (axes_accessattempt, _accesslog, _accessfailurelog, _accessattemptexpiration).
        "axes": ("axes_*",),
        # django-user-sessions 2.0: session keys and data (user_sessions_session).
        "user_sessions": ("user_sessions_*",),
    }
)

#: Protected tables of no app: Django's migration record and the customary ``DatabaseCache``
#: table name.
_OTHER_TABLES: Final = ("django_migrations", "django_cache_table")


#: PostgreSQL's longest identifier, in bytes (``NAMEDATALEN - 1``): it silently keeps the first 63
#: bytes of a longer name (cut at a character boundary), in ``CREATE TABLE`` as in queries, and
#: Django does not shorten an explicit ``db_table``.
_POSTGRES_NAME_BYTES: Final = 63


def _names_of(table: str) -> set[str]:
    """The lowercased names under which ``table`` may be stored: itself, and when it is longer
    than PostgreSQL's 63 bytes, its first 63 bytes as PostgreSQL keeps them."""
    names = {table.lower()}
    raw = table.encode("utf-8", "surrogatepass")
    if len(raw) > _POSTGRES_NAME_BYTES:
        names.add(raw[:_POSTGRES_NAME_BYTES].decode("utf-8", "ignore").lower())
    return names


def _split(patterns: Iterable[str]) -> tuple[frozenset[str], tuple[str, ...]]:
    """``(names, prefixes)`` of ``patterns``, lowercased (:func:`_names_of`); ``"name*"`` is a
    prefix. A prefix longer than 63 bytes also gives a name: every table it starts is stored
    on PostgreSQL as the prefix's first 63 bytes."""
    patterns = tuple(patterns)
    names = set().union(*(_names_of(p) for p in patterns if not p.endswith("*")))
    names.update(
        name
        for p in patterns
        if p.endswith("*")
        for name in _names_of(p[:-1])
        if name != p[:-1].lower()
    )
    prefixes = tuple(dict.fromkeys(p[:-1].lower() for p in patterns if p.endswith("*")))
    return frozenset(names), prefixes


_DEFAULTS: Final = _split(chain(chain.from_iterable(PROTECTED_APPS.values()), _OTHER_TABLES))
#: The default names of :data:`PROTECTED_APPS` (and ``django_migrations``, ``django_cache_table``).
PROTECTED_TABLES: Final[frozenset[str]] = _DEFAULTS[0]
#: The default prefixes of :data:`PROTECTED_APPS`.
PROTECTED_PREFIXES: Final[tuple[str, ...]] = _DEFAULTS[1]


def _bare(db_table: str) -> str:
    """The table of ``db_table``, without PostgreSQL's ``schema"."`` qualification."""
    return db_table.rsplit('"."', 1)[-1].strip('"')


def _model_tables(model: type[Model]) -> set[str]:
    """The tables holding ``model``'s rows and links, bare and lowercased: its own, its concrete
    parents' (multi-table inheritance) and its many-to-many tables (auto-created, or the table of
    an explicit ``through`` model)."""
    opts = model._meta
    tables = [str(opts.db_table)]
    tables += [str(parent._meta.db_table) for parent in opts.get_parent_list()]
    tables += [field.m2m_db_table() for field in opts.many_to_many]
    return set().union(*(_names_of(_bare(t)) for t in tables))


def user_model_tables() -> set[str]:
    """The user model's tables (see :func:`_model_tables`): the bare name of a ``db_table``
    spelled ``schema"."table`` on PostgreSQL (the catalog names tables without their schema)."""
    try:
        from django.contrib.auth import get_user_model

        user_model = get_user_model()
    except Exception:  # auth not installed or apps not ready: nothing to add
        return set()
    return _model_tables(user_model)


def _session_model_tables() -> set[str]:
    """The tables of ``SESSION_ENGINE``'s model (``SessionStore.get_model_class()``, as Django's
    ``db`` and ``cached_db`` engines and their subclasses have), e.g. a subclass of
    ``AbstractBaseSession`` with its own table."""
    from django.conf import settings

    try:
        engine = import_module(str(settings.SESSION_ENGINE))
        model = engine.SessionStore.get_model_class()
    except Exception:  # an engine without a model (cache, file, cookies) or sessions not installed
        return set()
    return _model_tables(model)


#: django-oauth-toolkit's swappable models (``OAUTH2_PROVIDER_*_MODEL`` = ``"app_label.Model"``):
#: a site that swaps one keeps client secrets or tokens in its own app's table, which the
#: ``oauth2_provider_*`` prefix does not cover.
OAUTH_MODEL_SETTINGS: Final = (
    "OAUTH2_PROVIDER_APPLICATION_MODEL",
    "OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL",
    "OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL",
    "OAUTH2_PROVIDER_ID_TOKEN_MODEL",
    "OAUTH2_PROVIDER_GRANT_MODEL",
    "OAUTH2_PROVIDER_DEVICE_GRANT_MODEL",
)


def _swapped_credential_tables() -> set[str]:
    """The tables of the models named by :data:`OAUTH_MODEL_SETTINGS` (see
    :func:`_model_tables`), followed like the user model; a setting naming no installed model
    adds nothing (django-oauth-toolkit refuses it itself)."""
    from django.apps import apps
    from django.conf import settings

    tables: set[str] = set()
    for name in OAUTH_MODEL_SETTINGS:
        label = getattr(settings, name, None)
        if not isinstance(label, str) or "." not in label:
            continue
        try:
            model = apps.get_model(label, require_ready=False)
        except (LookupError, ValueError):
            continue
        tables |= _model_tables(model)
    return tables


def _registry_tables() -> set[str]:
    """The tables of every model (auto-created many-to-many ones included) of the installed apps
    of :data:`PROTECTED_APPS`."""
    from django.apps import apps

    tables: set[str] = set()
    for config in apps.get_app_configs():
        if config.name in PROTECTED_APPS:
            for model in config.get_models(include_auto_created=True):
                tables |= _names_of(_bare(str(model._meta.db_table)))
    return tables


def _cache_tables() -> set[str]:
    """The tables of the site's database caches (``DatabaseCache``'s ``LOCATION``), which hold
    sessions with the ``cache`` and ``cached_db`` session engines."""
    from django.conf import settings

    return set().union(
        *(
            _names_of(_bare(str(conf.get("LOCATION", ""))))
            for conf in getattr(settings, "CACHES", {}).values()
            if _is_database_cache(conf.get("BACKEND"))
        )
    )


def _is_database_cache(backend: object) -> bool:
    from django.core.cache.backends.db import DatabaseCache
    from django.utils.module_loading import import_string

    try:
        found = import_string(str(backend))
    except Exception:  # Django refuses such a cache when it is used
        return False
    return isinstance(found, type) and issubclass(found, DatabaseCache)


def site_patterns_error(value: object) -> str | None:
    """Why ``value`` is not a valid ``PRISMIQ["PROTECTED_TABLES"]`` (a list of bare table names,
    a name ending in ``*`` being a prefix), or None when it is."""
    if not isinstance(value, list | tuple) or not all(isinstance(p, str) for p in value):
        return "PRISMIQ['PROTECTED_TABLES'] must be a list of table names."
    for pattern in value:
        if not pattern.rstrip("*") or "*" in pattern[:-1]:
            return (
                f"PRISMIQ['PROTECTED_TABLES'] entry {pattern!r} is not a table name or a prefix"
                " ending in '*'."
            )
        if pattern != pattern.strip() or "." in pattern or '"' in pattern:
            # It would match no table the catalog lists (bare names), protecting nothing.
            return (
                f"PRISMIQ['PROTECTED_TABLES'] entry {pattern!r} is not a bare table name: write"
                " it without schema, quotes or surrounding spaces (a protected name is"
                " protected in every schema)."
            )
    return None


def _site_patterns() -> tuple[frozenset[str], tuple[str, ...]]:
    """``PRISMIQ["PROTECTED_TABLES"]`` as ``(names, prefixes)``.

    Raises :class:`ImproperlyConfigured` when it is invalid: nothing is built on a protection
    the site did not mean (check E002 names the problem).
    """
    value = prismiq_settings.PROTECTED_TABLES
    error = site_patterns_error(value)
    if error is not None:
        raise ImproperlyConfigured(error)
    if not isinstance(value, list | tuple):  # site_patterns_error refused anything else
        raise ImproperlyConfigured("PRISMIQ['PROTECTED_TABLES'] must be a list of table names.")
    return _split(value)


def _protected() -> tuple[frozenset[str], tuple[str, ...]]:
    """Every protected name and prefix, as of now."""
    site_names, site_prefixes = _site_patterns()
    names = (
        PROTECTED_TABLES
        | site_names
        | _registry_tables()
        | user_model_tables()
        | _session_model_tables()
        | _swapped_credential_tables()
        | _cache_tables()
    )
    prefixes = tuple(dict.fromkeys(PROTECTED_PREFIXES + site_prefixes))
    return frozenset(names), prefixes


def protected_table_test() -> Callable[[str], bool]:
    """Return :func:`is_protected_table` with the app registry, the user and session models, the
    cache tables and ``PRISMIQ["PROTECTED_TABLES"]`` read now, once: the returned test is a set
    lookup and a prefix test.

    For testing many names in one go (a catalog build, a sync); the result reflects the
    configuration as it is at this call, so take a new one for each build rather than keeping it.
    Raises :class:`ImproperlyConfigured` when ``PRISMIQ["PROTECTED_TABLES"]`` is invalid.
    """
    names, prefixes = _protected()

    def is_protected(name: str) -> bool:
        lowered = name.lower()
        return lowered in names or lowered.startswith(prefixes)

    return is_protected


def is_protected_table(name: str) -> bool:
    """Return True when ``name`` (a bare table name, any case) may never be exposed.

    See the module's docstring for the rule. Raises :class:`ImproperlyConfigured` when
    ``PRISMIQ["PROTECTED_TABLES"]`` is invalid.
    """
    return protected_table_test()(name)


# The settings that :func:`_protected` reads (the app registry follows INSTALLED_APPS).
_KEY_SETTINGS: Final = frozenset(
    {
        "PRISMIQ",
        "INSTALLED_APPS",
        "AUTH_USER_MODEL",
        "SESSION_ENGINE",
        "CACHES",
        *OAUTH_MODEL_SETTINGS,
    }
)
_key: list[str | None] = [None]


def protection_key() -> str:
    """A digest of every protected name and prefix, for the schema cache's keys: a catalog
    built under another protection (another release of this list, another user model, another
    ``PROTECTED_TABLES``) is never read.

    Computed once and kept until one of the settings it depends on changes (``setting_changed``,
    sent by ``override_settings``); those do not change while a site runs. Raises
    :class:`ImproperlyConfigured` when ``PRISMIQ["PROTECTED_TABLES"]`` is invalid.
    """
    key = _key[0]
    if key is None:
        names, prefixes = _protected()
        raw = repr((sorted(names), prefixes))
        key = hashlib.sha256(raw.encode()).hexdigest()[:16]
        _key[0] = key
    return key


def forget_protection_key(*, setting: str, **kwargs: Any) -> None:
    """``setting_changed`` receiver (connected in ``AppConfig.ready()``)."""
    if setting in _KEY_SETTINGS:
        _key[0] = None


__all__ = [
    "PROTECTED_APPS",
    "PROTECTED_PREFIXES",
    "PROTECTED_TABLES",
    "is_protected_table",
    "protected_table_test",
    "protection_key",
    "site_patterns_error",
    "user_model_tables",
]
