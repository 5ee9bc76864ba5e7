"""Test settings: SQLite and locmem by default; DATABASE_URL / REDIS_URL select real services.

``DATABASE_URL=postgres://...`` selects PostgreSQL, ``DATABASE_URL=mysql://root@127.0.0.1:3306/db``
MySQL or MariaDB (mysqlclient, the ``mysql`` extra). ``PRISMIQ_TEST_DB_SUFFIX`` makes the test
database name unique so that several test runs can share one database server at once.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "rest_framework",
    "rest_framework.authtoken",  # DRF's database tokens (the hot path's TokenAuthentication)
    "drf_spectacular",
    "prismiq_django",
    "example_project.shop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "tests.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

_database_url = os.environ.get("DATABASE_URL")
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=0)}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
_suffix = os.environ.get("PRISMIQ_TEST_DB_SUFFIX")
if _suffix:
    DATABASES["default"]["TEST"] = {"NAME": f"test_prismiq_{_suffix}"}
if DATABASES["default"]["ENGINE"] == "django.db.backends.mysql":
    # utf8mb4 whatever the server's default, so that every Unicode string round-trips (MySQL's
    # "utf8" is three bytes per character at most); the server's collation otherwise.
    DATABASES["default"].setdefault("OPTIONS", {})["charset"] = "utf8mb4"
    DATABASES["default"].setdefault("TEST", {})["CHARSET"] = "utf8mb4"

_redis_url = os.environ.get("REDIS_URL")
if _redis_url:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": _redis_url,
            "KEY_PREFIX": f"prismiq-test-{os.getpid()}",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Stateless JWT tests (tests/tokens.py): an HMAC key of at least 32 bytes (PyJWT warns below,
# and warnings are errors here); the token views and authentication class are set per test.
SIMPLE_JWT = {"SIGNING_KEY": "tests-only-jwt-signing-key-not-secret-0123456789"}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
        "prismiq_django.api.authentication.EmbedAuthentication",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

PRISMIQ: dict[str, object] = {}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
STATIC_URL = "/static/"
