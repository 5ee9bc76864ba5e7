"""The embed page in a real browser, framed by a page of another origin (SPEC sections 10, 13).

The host page is served by a small HTTP server on ``127.0.0.1``, another origin than the live
server's ``localhost``. Its ``<iframe>`` loads ``analytics/embed/<token>/`` from the live server
with a token minted through the API by the dashboard's owner, as a host site's backend would.
The frame carries no session (the browser context has no cookie): everything it shows comes
through the token. A host origin that ``EMBED_FRAME_ANCESTORS`` does not name cannot frame the
page.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.browser.conftest import new_page, screenshot

pytestmark = pytest.mark.browser


def mint(user: Any, dashboard: dict[str, Any], **body: Any) -> dict[str, Any]:
    client = APIClient()
    client.force_authenticate(user)
    response = client.post(
        f"/api/analytics/dashboards/{dashboard['id']}/embed-tokens", body, format="json"
    )
    assert response.status_code == 201, response.content
    issued: dict[str, Any] = response.json()
    return issued


@contextmanager
def host_site(frame_url: str) -> Iterator[str]:
    """A host site on 127.0.0.1 (another origin than the live server's ``localhost``; both on
    loopback, so Chromium's local-network checks do not interfere) whose page frames
    ``frame_url``; yields its origin."""
    html = (
        "<!doctype html><html><head><title>Host site</title></head><body>"
        "<h1>Our product</h1>"
        f'<iframe id="analytics" src="{frame_url}" width="1200" height="800"></iframe>'
        "</body></html>"
    ).encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def embed_url(live_server: Any, issued: dict[str, Any]) -> str:
    """The token's embed page on the live server (``url`` names the API client's host)."""
    path = issued["url"].split("://", 1)[1].split("/", 1)[1]
    return f"{live_server.url}/{path}"


def test_a_dashboard_embedded_in_another_site(
    browser: Any, live_server: Any, demo_user: Any, demo_dashboard: dict[str, Any], settings: Any
) -> None:
    issued = mint(demo_user, demo_dashboard, locked_filters={"status": "paid"})
    page = new_page(browser, live_server, None)
    try:
        with host_site(embed_url(live_server, issued)) as origin:
            settings.PRISMIQ = {**settings.PRISMIQ, "EMBED_FRAME_ANCESTORS": [origin]}
            page.goto(f"{origin}/")
            frame = page.frame_locator("#analytics")
            frame.locator("body[data-executed]").wait_for(state="attached", timeout=30_000)
            frame.locator("#dashboard-title").filter(has_text=demo_dashboard["name"]).wait_for()
            inner = next(f for f in page.frames if "/embed/" in f.url)
            # Widgets drawn from the token's run, no error entry; the locked filter has no
            # control; no cookie, no navigation of the site.
            results = inner.evaluate("window.prismiqDashboard.lastResults")
            assert results, "no dashboard run"
            assert not [k for k, v in results.items() if "error" in v], results
            assert inner.locator("#dashboard-filters [name=status]").count() == 0
            assert (
                inner.locator("#dashboard-filters [name=period], #dashboard-filters input").count()
                > 0
            )
            assert inner.evaluate("document.cookie") == ""
            assert inner.locator("#edit-link").count() == 0
            screenshot(page, "embed-cross-origin.png")
        errors = list(page.prismiq_errors)
        assert not errors, errors
    finally:
        page.context.close()


def test_a_host_not_in_embed_frame_ancestors_cannot_frame_it(
    browser: Any, live_server: Any, demo_user: Any, demo_dashboard: dict[str, Any], settings: Any
) -> None:
    issued = mint(demo_user, demo_dashboard)
    page = new_page(browser, live_server, None)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    try:
        with host_site(embed_url(live_server, issued)) as origin:
            settings.PRISMIQ = {
                **settings.PRISMIQ,
                "EMBED_FRAME_ANCESTORS": ["https://app.example.com"],
            }
            page.goto(f"{origin}/")
            page.wait_for_timeout(3_000)
            inner = [f for f in page.frames if "/embed/" in f.url]
            ready = (
                inner[0].evaluate("document.body && document.body.dataset.ready") if inner else None
            )
            assert ready is None, "the embed page rendered inside a host it does not allow"
            assert any("frame-ancestors" in text for text in console), console
    finally:
        page.context.close()
