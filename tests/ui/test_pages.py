"""The browser pages' server side: login required, configuration handed to the page, the embed
page's headers, the vendored files shipped with the package (no CDN)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

from prismiq_django.checks import check_settings
from prismiq_django.ui import urls as ui_urls
from prismiq_django.ui.security import embed_content_security_policy

pytestmark = [pytest.mark.urls("tests.ui.urls"), pytest.mark.django_db]

PAGES = [
    "/analytics/",
    "/analytics/dashboards/1/",
    "/analytics/dashboards/1/edit/",
    "/analytics/query/",
    "/analytics/saved-queries/",
]
STATIC = Path(__file__).resolve().parents[2] / "prismiq_django" / "static" / "prismiq_django"


def _config(response: Any) -> dict[str, Any]:
    match = re.search(
        r'<script id="prismiq-ui-config" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, "the page has no configuration element"
    return dict(json.loads(match.group(1)))


@pytest.fixture
def embed_token(db: None) -> str:
    """A valid embed token of a new (empty) dashboard, with the filter ``status`` locked."""
    from prismiq_django.models import Dashboard
    from prismiq_django.services.embed import issue_token

    owner = User.objects.create_user("owner")
    filters = [{"id": "status", "type": "select", "label": "Status", "field": "status"}]
    dashboard = Dashboard.objects.create(name="d", owner=owner, filters=filters)
    return issue_token(None, dashboard, {"locked_filters": {"status": "paid"}}).token


@pytest.fixture
def user_client() -> Client:
    user = User.objects.create_user("ann", password="pw")
    client = Client()
    client.force_login(user)
    return client


def test_every_route_is_listed() -> None:
    names = {p.name for p in ui_urls.urlpatterns}
    assert names == {
        "dashboards",
        "dashboard",
        "dashboard-edit",
        "builder",
        "saved-queries",
        "embed",
    }


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_browsers_are_sent_to_the_login_page(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


@pytest.mark.parametrize("path", PAGES)
def test_pages_render_for_a_logged_in_user(user_client: Client, path: str) -> None:
    response = user_client.get(path)
    assert response.status_code == 200
    config = _config(response)
    assert config["api"] == "/api/analytics/"
    assert config["csrf_token"]
    assert config["urls"]["dashboard"] == "/analytics/dashboards/{id}/"
    body = response.content.decode()
    # Only the package's own static files; nothing from another origin.
    assert not re.search(r'(src|href)="(https?:)?//', body)
    assert "/static/prismiq_django/ui/main.js" in body


def test_query_parameters_are_passed_only_as_digits(user_client: Client) -> None:
    config = _config(user_client.get("/analytics/query/?saved=12&dashboard=3"))
    assert (config["saved_query_id"], config["dashboard_id"]) == ("12", "3")
    hostile = "/analytics/query/?saved=1%3Cscript%3E&dashboard=%D9%A1"
    config = _config(user_client.get(hostile))
    assert (config["saved_query_id"], config["dashboard_id"]) == (None, None)


def test_configuration_cannot_break_out_of_its_element(user_client: Client) -> None:
    response = Client().get("/analytics/embed/</script><script>alert(1)</script>/")
    # Not a token this site signed: the refusal page, which has no script at all.
    assert response.status_code in (403, 404)
    assert "<script" not in response.content.decode()


def test_embed_page_refuses_a_token_that_does_not_verify(embed_token: str) -> None:
    for token in ("some-token", embed_token[:-1] + ("x" if embed_token[-1] != "x" else "y")):
        response = Client().get(f"/analytics/embed/{token}/")
        assert response.status_code == 403
        assert "<script" not in response.content.decode()
        assert "frame-ancestors 'self'" in response["Content-Security-Policy"]
        assert "sessionid" not in response.cookies


def test_embed_page_headers_and_no_session(embed_token: str) -> None:
    response = Client().get(f"/analytics/embed/{embed_token}/")
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-eval" not in csp
    assert "X-Frame-Options" not in response
    assert response["Referrer-Policy"] == "no-referrer"
    assert "csrftoken" not in response.cookies
    assert "sessionid" not in response.cookies
    config = _config(response)
    assert config["embed_token"] == embed_token
    assert config["csrf_token"] is None
    assert config["dashboard_id"].isdigit()
    assert config["locked_filters"] == ["status"]


@override_settings(PRISMIQ={"EMBED_FRAME_ANCESTORS": ["https://app.example.com", "'self'"]})
def test_frame_ancestors_come_from_the_setting(embed_token: str) -> None:
    response = Client().get(f"/analytics/embed/{embed_token}/")
    assert response["Content-Security-Policy"].endswith(
        "frame-ancestors https://app.example.com 'self'"
    )
    assert check_settings() == []


@override_settings(PRISMIQ={"EMBED_FRAME_ANCESTORS": []})
def test_no_frame_ancestors_means_none() -> None:
    assert embed_content_security_policy().endswith("frame-ancestors 'none'")


@pytest.mark.parametrize(
    "value",
    [
        "https://app.example.com",  # a string, not a list
        ["'self'; script-src https://evil.example"],  # would add a directive
        ["https://a.example https://b.example"],  # two sources in one entry
        ["'unsafe-inline'"],
        [""],
        [None],
    ],
)
def test_bad_frame_ancestors_are_a_check_error_and_never_reach_the_header(value: Any) -> None:
    with override_settings(PRISMIQ={"EMBED_FRAME_ANCESTORS": value}):
        assert [e.id for e in check_settings()] == ["prismiq_django.E002"]
        if isinstance(value, list):
            policy = embed_content_security_policy()
            assert policy.endswith("frame-ancestors 'none'")
            assert "evil" not in policy


def test_vendored_libraries_are_recorded_with_licences() -> None:
    versions = json.loads((STATIC / "vendor" / "versions.json").read_text())
    manifest = json.loads((Path(__file__).resolve().parents[2] / "package.json").read_text())
    pinned = manifest["devDependencies"]
    by_name = {v["name"]: v for v in versions}
    for name, version in pinned.items():
        assert by_name[name]["version"] == version  # exact pins, no ranges
        assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    for record in versions:
        files = [STATIC / "vendor" / f for f in record["files"]]
        assert all(f.is_file() and f.stat().st_size for f in files)
        assert any(f.name.startswith("LICENSE") for f in files)


def test_features_follow_the_mounted_api(user_client: Client) -> None:
    from prismiq_django.ui.features import api_url_names

    names = api_url_names()
    assert {"schema", "query-preview", "saved-query-list"} <= names
    config = _config(user_client.get("/analytics/query/"))
    assert config["features"]["dashboards"] == ("dashboard-list" in names)
    assert config["features"]["query_export"] == ("query-export" in names)
    assert config["features"]["ask"] is False  # no assistant configured
