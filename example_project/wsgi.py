"""WSGI entry of the example project: Django's application behind prismiq_django's hot path,
which serves ``query/execute`` and ``GET schema`` for bearer-token callers with the views' own
code but without Django's middleware chain (docs/deployment.md, "Worker model"); every other
request is Django's. Once loaded, everything the import made is frozen out of the garbage
collector's work (``gc.freeze``): those objects live as long as the worker, and full collections
no longer walk them on every request's allocations."""

from __future__ import annotations

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")
django_application = get_wsgi_application()

from prismiq_django.api.hotpath import HotPath  # noqa: E402  (after Django is set up)

application = HotPath(django_application)

gc.collect()
gc.freeze()
