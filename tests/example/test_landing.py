"""The example site's landing page (issue 23, item 1): an anonymous browser at ``/`` is sent to
Django's login view, and from there, once logged in, to the dashboards page."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

from example_project import settings as example

pytestmark = [
    pytest.mark.urls("example_project.urls"),
    pytest.mark.django_db,
]

SETTINGS = {"LOGIN_URL": example.LOGIN_URL, "LOGIN_REDIRECT_URL": example.LOGIN_REDIRECT_URL}


@override_settings(**SETTINGS)
def test_anonymous_browser_goes_to_login_then_to_the_dashboards() -> None:
    User.objects.create_user("demo", password="demo")
    client = Client()
    response = client.get("/", follow=True)
    assert response.redirect_chain == [
        ("/analytics/", 302),
        ("/accounts/login/?next=/analytics/", 302),
    ]
    page = response.content.decode()
    assert 'name="username"' in page
    assert 'name="password"' in page
    assert 'href="/"' in page  # the link back
    assert "demo</strong> / <strong>demo" in page  # says which login
    response = client.post(
        "/accounts/login/", {"username": "demo", "password": "demo", "next": "/analytics/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/analytics/"
    assert client.get("/analytics/").status_code == 200
    # Without ?next= (the login page opened directly) the dashboards page is the default.
    client.logout()
    response = client.post("/accounts/login/", {"username": "demo", "password": "demo"})
    assert response["Location"] == "/analytics/"


@override_settings(**SETTINGS)
def test_wrong_password_stays_on_the_login_page() -> None:
    User.objects.create_user("demo", password="demo")
    response = Client().post("/accounts/login/", {"username": "demo", "password": "nope"})
    assert response.status_code == 200
    assert "did not match" in response.content.decode()
