"""WSGI entry of the example project: Django's application behind prismiq_django's hot path,
which answers cached ``query/execute`` hits of bearer-token callers before Django's middleware
stack (see docs/deployment.md, "The hot path"); every other request is Django's."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")
django_application = get_wsgi_application()

from prismiq_django.api.hotpath import HotPath  # noqa: E402  (after Django is set up)

application = HotPath(django_application)
