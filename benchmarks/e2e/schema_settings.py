"""Settings of the schema-at-scale benchmark (``e2e/schema_scale.py``): the example project, with
the analytics catalog read from the schema ``scale`` only, exposure by admin rows, and the app's
JSON request log (``duration_ms`` per request id) written to ``PRISMIQ_BENCH_REQUEST_LOG``."""

from __future__ import annotations

import os

from example_project.settings import *  # noqa: F403
from example_project.settings import PRISMIQ as _EXAMPLE_PRISMIQ

PRISMIQ = {
    **_EXAMPLE_PRISMIQ,
    "DB_SCHEMA": [os.environ.get("PRISMIQ_BENCH_SCHEMA", "scale")],
    "EXPOSED_TABLES": None,  # the ExposedTable rows decide, as on a site using the admin
    "SCHEMA_CACHE_TTL": 3600,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "prismiq_django.observability.JsonFormatter"}},
    "handlers": {
        "requests": {
            "class": "logging.FileHandler",
            "filename": os.environ.get("PRISMIQ_BENCH_REQUEST_LOG", os.devnull),
            "formatter": "json",
        }
    },
    "loggers": {
        "prismiq_django.request": {"handlers": ["requests"], "level": "INFO", "propagate": False}
    },
}
