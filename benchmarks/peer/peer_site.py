"""Django settings of our side of the peer benchmark (``benchmarks/peer/run.py``).

The example project, served as docs/deployment.md recommends for production: ``DEBUG`` off,
PostgreSQL with persistent connections (and on ``default``, where the token lookup runs,
server-side binding with psycopg's prepared statements), django-redis for the result cache,
the schema cache, the rate-limit counters and the sessions, stateless JWT (simplejwt) in
front. The app's own tables live in ``PEER_SITE_DSN`` (default ``prismiq_peer``); the analytics
alias ``shop`` is the peer dataset (``/work/shared/bench/shop.sql``) with its four tables
exposed in code.

Environment: ``PEER_SITE_DSN``, ``PEER_SHOP_DSN``, ``PEER_REDIS_URL`` (database 7 by default, so a
flush never touches another user's keys), ``PEER_RATE_LIMIT`` (``RATE_LIMIT``; ``off`` turns it
off; by default on with a rate no benchmark reaches, so the counter's cost is measured),
``PEER_AUTH``: ``jwt`` (the default: simplejwt's stateless tokens first) or ``token`` (DRF's
database tokens first, ``rest_framework.authtoken``: the token's row and its user are read from
the ``default`` database on every request).
"""

from __future__ import annotations

import os

import dj_database_url

os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_SECRET_KEY", "peer-benchmark-only-key-not-a-secret-0123456789")

from example_project.settings import *  # noqa: F403
from example_project.settings import INSTALLED_APPS as EXAMPLE_APPS
from example_project.settings import PRISMIQ as EXAMPLE_PRISMIQ
from example_project.settings import REST_FRAMEWORK as EXAMPLE_REST_FRAMEWORK

SITE_DSN = os.environ.get("PEER_SITE_DSN", "postgres://root@127.0.0.1:5432/prismiq_peer")
SHOP_DSN = os.environ.get("PEER_SHOP_DSN", "postgres://root@127.0.0.1:5432/shop")
REDIS = os.environ.get("PEER_REDIS_URL", "redis://127.0.0.1:6379/7")
RATE = os.environ.get("PEER_RATE_LIMIT", "1000000/m")
AUTH = os.environ.get("PEER_AUTH", "jwt")
if AUTH not in {"jwt", "token"}:
    raise ValueError(f"PEER_AUTH must be jwt or token, not {AUTH!r}")

INSTALLED_APPS = [*EXAMPLE_APPS, "rest_framework.authtoken"]
if AUTH == "token":
    REST_FRAMEWORK = {
        **EXAMPLE_REST_FRAMEWORK,
        "DEFAULT_AUTHENTICATION_CLASSES": [
            "rest_framework.authentication.TokenAuthentication",
            "rest_framework.authentication.SessionAuthentication",
            "rest_framework.authentication.BasicAuthentication",
        ],
    }

DATABASES = {
    "default": {
        **dj_database_url.parse(SITE_DSN),
        "CONN_MAX_AGE": 600,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"server_side_binding": True, "prepare_threshold": 5},
    },
    "shop": {**dj_database_url.parse(SHOP_DSN), "CONN_MAX_AGE": 600, "CONN_HEALTH_CHECKS": True},
}
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS,
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 5},
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
RATELIMIT_USE_CACHE = "default"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # Basic auth: a fast hasher
PRISMIQ = {
    **EXAMPLE_PRISMIQ,
    "DATABASE": "shop",
    "EXPOSED_TABLES": ["customers", "products", "orders", "order_items"],
    "MAX_ROWS": 100_000,
    "RATE_LIMIT": None if RATE == "off" else RATE,
}
