from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from rest_framework.permissions import AllowAny, IsAdminUser, IsAuthenticated

from prismiq_django.api.permissions import IsStaffUser
from prismiq_django.conf import DEFAULTS, prismiq_settings


def test_defaults_apply_when_unset():
    with override_settings(PRISMIQ={}):
        assert prismiq_settings.MAX_ROWS == 10_000
        assert prismiq_settings.QUERY_TIMEOUT == 30.0
        assert prismiq_settings.DATABASE == "default"
        assert prismiq_settings.RATE_LIMIT == "120/m"
        assert prismiq_settings.EXPOSED_TABLES is None


def test_missing_prismiq_setting_means_defaults(settings):
    del settings.PRISMIQ
    assert prismiq_settings.RESULT_CACHE_TTL == DEFAULTS["RESULT_CACHE_TTL"]


def test_reads_are_lazy_so_override_settings_works():
    with override_settings(PRISMIQ={"MAX_ROWS": 5}):
        assert prismiq_settings.MAX_ROWS == 5
    with override_settings(PRISMIQ={"MAX_ROWS": 7}):
        assert prismiq_settings.MAX_ROWS == 7


def test_unknown_key_is_refused_with_the_valid_keys_listed():
    with (
        override_settings(PRISMIQ={"MAX_ROW": 5}),
        pytest.raises(ImproperlyConfigured, match=r"MAX_ROW.*Valid keys"),
    ):
        _ = prismiq_settings.MAX_ROWS


def test_non_dict_is_refused():
    with (
        override_settings(PRISMIQ=["MAX_ROWS"]),
        pytest.raises(ImproperlyConfigured, match="must be a dict"),
    ):
        _ = prismiq_settings.MAX_ROWS


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError):
        _ = prismiq_settings.NOT_A_SETTING


def test_permission_classes_resolve_dotted_paths_and_classes():
    assert prismiq_settings.PERMISSION_CLASSES == [IsAuthenticated]
    # The default is the strict staff check (issue 15 item 3), not DRF's IsAdminUser.
    assert prismiq_settings.METRICS_PERMISSION_CLASSES == [IsStaffUser]
    assert prismiq_settings.DASHBOARD_ADMIN_PERMISSION_CLASSES == [IsStaffUser]
    with override_settings(
        PRISMIQ={"PERMISSION_CLASSES": [AllowAny, "rest_framework.permissions.IsAdminUser"]}
    ):
        assert prismiq_settings.PERMISSION_CLASSES == [AllowAny, IsAdminUser]


def test_import_error_names_the_setting():
    with (
        override_settings(PRISMIQ={"TENANT_CALLBACK": "nowhere.at_all"}),
        pytest.raises(ImproperlyConfigured, match=r"PRISMIQ\['TENANT_CALLBACK'\]"),
    ):
        _ = prismiq_settings.TENANT_CALLBACK


def test_callback_resolves():
    with override_settings(PRISMIQ={"TENANT_CALLBACK": "tests.test_conf.tenant_of"}):
        assert prismiq_settings.tenant_callback is tenant_of
    assert prismiq_settings.tenant_callback is None


def tenant_of(request: object) -> int:
    return 1


def test_every_default_is_documented_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    missing = [key for key in DEFAULTS if f"`{key}`" not in readme]
    assert missing == []
