"""ASGI entry of the peer site, to compare worker models (``run.py --worker-class uvicorn``)."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_site")
application = get_asgi_application()
