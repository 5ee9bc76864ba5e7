"""Example site: SQLite by default, PostgreSQL with DATABASE_URL, Redis cache with REDIS_URL."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
# Also the JWT signing key (HS256): at least 32 bytes, or PyJWT warns on every token. The built-in
# key is public (it is in this file), so anyone could sign tokens with it, is_staff included: it
# is only for the local demo (DEBUG on); with DJANGO_DEBUG=0 a key of your own is required.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "Set DJANGO_SECRET_KEY when DJANGO_DEBUG=0: the example's built-in key is public and "
            "also signs the API's access tokens."
        )
    SECRET_KEY = "example-project-insecure-key-never-use-in-production"  # noqa: S105 (demo only)
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
        # Front ends and API clients: a short-lived signed token (POST api/token/), verified in
        # memory: no session, user row or CSRF check per request. First, so that a refused
        # caller is answered 401 with "WWW-Authenticate: Bearer".
        "rest_framework_simplejwt.authentication.JWTStatelessUserAuthentication",
        # The browsable pages (Swagger UI after logging in to the admin) and curl -u demo:demo.
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# Token views in urls.py (api/token/, api/token/refresh/); the claims prismiq_django reads (user_id,
# is_staff for metrics) come from example_project/tokens.py.
SIMPLE_JWT = {
    # A stateless token stays valid until it expires, even if the user is deactivated or loses
    # is_staff meanwhile: keep access tokens short-lived; clients refresh them (api/token/refresh/).
    # DJANGO_JWT_ACCESS_MINUTES lengthens them for load tests that reuse one token.
    "ACCESS_TOKEN_LIFETIME": timedelta(
        minutes=float(os.environ.get("DJANGO_JWT_ACCESS_MINUTES", "5"))
    ),
    "REFRESH_TOKEN_LIFETIME": timedelta(hours=8),
}

# POST api/token/ (example_project/tokens.py): django-ratelimit rate of login attempts, counted per
# client address and per username tried (the demo login is public: brute force must be bounded);
# past it 429 with Retry-After. DJANGO_TOKEN_RATE_LIMIT=off turns it off (load tests that log in
# many times); behind a proxy set RATELIMIT_IP_META_KEY so the address is the client's.
TOKEN_RATE_LIMIT: str | None = (
    None
    if os.environ.get("DJANGO_TOKEN_RATE_LIMIT") == "off"
    else os.environ.get("DJANGO_TOKEN_RATE_LIMIT", "10/m")
)

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
    # PRISMIQ_EXPORT_RATE_LIMIT=off: the same for the export endpoints (bench_export.py).
    "EXPORT_RATE_LIMIT": (
        None
        if os.environ.get("PRISMIQ_EXPORT_RATE_LIMIT") == "off"
        else os.environ.get("PRISMIQ_EXPORT_RATE_LIMIT", "10/m")
    ),
    # Questions in plain language (ask): the built-in offline backend, no model, no network.
    # PRISMIQ_ASSISTANT_BACKEND=openai_compatible uses a chat-completions server instead
    # (PRISMIQ_ASSISTANT_BASE_URL, PRISMIQ_ASSISTANT_MODEL, PRISMIQ_ASSISTANT_API_KEY).
    "ASSISTANT": {
        "BACKEND": os.environ.get("PRISMIQ_ASSISTANT_BACKEND", "offline"),
        "SAMPLE_VALUES": True,
    },
}

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/analytics/"  # the dashboards page
LOGOUT_REDIRECT_URL = "/accounts/login/"
