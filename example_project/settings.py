"""Example site: SQLite by default, PostgreSQL with DATABASE_URL, Redis cache with REDIS_URL."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-project-insecure-key")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI files served locally, not from a CDN
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
    # Request ids (X-Request-ID), one JSON-ready log record per request, request metrics.
    "prismiq_django.middleware.RequestIdMiddleware",
]

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"

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

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'var' / 'example.sqlite3'}", conn_max_age=60
    )
}

if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
    # Sessions read from Redis (written through to the database): a logged-in request costs one
    # cache GET instead of a session query. What a production site with Redis should use.
    # (DJANGO_SESSION_ENGINE overrides it, for comparisons.)
    SESSION_ENGINE = os.environ.get(
        "DJANGO_SESSION_ENGINE", "django.contrib.sessions.backends.cached_db"
    )
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "prismiq_django example",
    "VERSION": "0.1.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

PRISMIQ: dict[str, object] = {
    "QUERY_TIMEOUT": float(os.environ.get("PRISMIQ_QUERY_TIMEOUT", "30")),
    "MAX_ROWS": int(os.environ.get("PRISMIQ_MAX_ROWS", "10000")),
    # PRISMIQ_RATE_LIMIT=off turns rate limiting off (the benchmark runner does).
    "RATE_LIMIT": (
        None
        if os.environ.get("PRISMIQ_RATE_LIMIT") == "off"
        else os.environ.get("PRISMIQ_RATE_LIMIT", "120/m")
    ),
}

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_REDIRECT_URL = "/api/analytics/docs/"
