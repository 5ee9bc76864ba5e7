"""Fixtures of the browser tests: Debian's Chromium driven by Playwright, a live server, and a
logged-in page.

The browser is ``/usr/bin/chromium`` (``PRISMIQ_CHROMIUM`` overrides it), never Playwright's own
download. If it cannot start, every browser test fails (errors): ``make test-browser`` never
passes without a browser. Every page fails its test on an uncaught JavaScript error.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

CHROMIUM = os.environ.get("PRISMIQ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DEMO_ORDERS = 3000


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Error as exc:
            pytest.fail(f"Chromium ({CHROMIUM}) cannot start: {exc}", pytrace=False)
        yield chromium
        chromium.close()


@pytest.fixture
def demo_data(transactional_db: None) -> None:
    """The example shop's deterministic demo data (exposed, with the ``demo`` superuser)."""
    call_command("load_demo_data", orders=DEMO_ORDERS, stdout=io.StringIO(), stderr=io.StringIO())


@pytest.fixture
def demo_user(demo_data: None) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="demo")


@pytest.fixture
def demo_dashboard(demo_user: Any) -> dict[str, Any]:
    """The test dashboard (``dashboard_spec.SHOP_OVERVIEW``), created through the REST API (so
    every widget query is validated like a user's); its wire form, with ids."""
    from rest_framework.test import APIClient

    from tests.browser.dashboard_spec import SHOP_OVERVIEW

    client = APIClient()
    client.force_authenticate(demo_user)
    response = client.post("/api/analytics/dashboards", SHOP_OVERVIEW, format="json")
    assert response.status_code == 201, response.content
    return dict(response.json())


class PageErrors(list[str]):
    """Uncaught errors and failed API calls seen by a page."""


def new_page(
    browser: Any, live_server: Any, user: Any | None, *, width: int = 1280, height: int = 900
) -> Any:
    context = browser.new_context(
        viewport={"width": width, "height": height}, base_url=live_server.url
    )
    if user is not None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    page = context.new_page()
    errors = PageErrors()
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.prismiq_errors = errors
    return page


@pytest.fixture
def page(browser: Any, live_server: Any, demo_user: Any) -> Iterator[Any]:
    """A 1280 px wide page logged in as the demo superuser."""
    page = new_page(browser, live_server, demo_user)
    yield page
    errors = list(page.prismiq_errors)
    page.context.close()
    assert not errors, errors


def ready(page: Any, path: str) -> None:
    """Open ``path`` and wait until the page's module has finished its first load."""
    page.goto(path)
    page.wait_for_selector("body[data-ready]")
    assert page.evaluate("document.body.dataset.ready") == "true", page.inner_text("main")


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run only in ``make test-browser`` (``PRISMIQ_BROWSER_TESTS=1``); the plain
    passes deselect them."""
    if os.environ.get("PRISMIQ_BROWSER_TESTS") == "1":
        return
    browser_items = [item for item in items if item.get_closest_marker("browser") is not None]
    if browser_items:
        config.hook.pytest_deselected(items=browser_items)
        items[:] = [item for item in items if item.get_closest_marker("browser") is None]
