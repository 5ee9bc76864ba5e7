"""Settings of the browser tests: the test settings plus static files (served by the live server)
and the UI's URLconf. ``make test-browser`` selects them with ``--ds``."""

from __future__ import annotations

import os

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "django.contrib.staticfiles"]
ROOT_URLCONF = "tests.ui.urls"
LOGIN_URL = "/accounts/login/"

# Playwright's synchronous API runs an event loop in the test's thread; the ORM calls the tests
# make between page actions are still synchronous code on that thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
