"""The settings accessor memoises resolved values without ever serving stale ones."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from prismiq_django.conf import DEFAULTS, prismiq_settings


def test_override_settings_and_replacement_take_effect_at_once(settings: object) -> None:
    assert prismiq_settings.MAX_ROWS == prismiq_settings.MAX_ROWS  # memoised read
    with override_settings(PRISMIQ={"MAX_ROWS": 7}):
        assert prismiq_settings.MAX_ROWS == 7
        with override_settings(PRISMIQ={"MAX_ROWS": 8, "TENANT_CALLBACK": "builtins.len"}):
            assert prismiq_settings.MAX_ROWS == 8
            assert prismiq_settings.tenant_callback is len
        assert prismiq_settings.MAX_ROWS == 7
        assert prismiq_settings.tenant_callback is None
    with override_settings(PRISMIQ={}):
        assert prismiq_settings.MAX_ROWS == DEFAULTS["MAX_ROWS"]
    settings.PRISMIQ = {"MAX_ROWS": 9}  # type: ignore[attr-defined]  # pytest-django fixture
    assert prismiq_settings.MAX_ROWS == 9


def test_class_lists_are_fresh_copies_and_errors_are_not_memoised() -> None:
    with override_settings(PRISMIQ={"PERMISSION_CLASSES": ["builtins.dict"]}):
        first = prismiq_settings.PERMISSION_CLASSES
        assert first == [dict]
        first.append(list)
        assert prismiq_settings.PERMISSION_CLASSES == [dict]
    with override_settings(PRISMIQ={"PERMISSION_CLASSES": ["no.such.Thing"]}):
        for _ in range(2):
            with pytest.raises(ImproperlyConfigured):
                _ = prismiq_settings.PERMISSION_CLASSES
    with override_settings(PRISMIQ={"NOT_A_SETTING": 1}):
        for _ in range(2):
            with pytest.raises(ImproperlyConfigured):
                _ = prismiq_settings.MAX_ROWS
    with pytest.raises(AttributeError):
        _ = prismiq_settings.NOT_A_SETTING


def test_derived_values_are_made_once_per_settings_object(settings: object) -> None:
    made: list[int] = []

    def make() -> int:
        made.append(prismiq_settings.MAX_ROWS)
        return prismiq_settings.MAX_ROWS * 2

    settings.PRISMIQ = {"MAX_ROWS": 5}  # type: ignore[attr-defined]  # pytest-django fixture
    assert [prismiq_settings.derived("double", make) for _ in range(3)] == [10, 10, 10]
    assert made == [5]
    with override_settings(PRISMIQ={"MAX_ROWS": 6}):
        assert prismiq_settings.derived("double", make) == 12
    assert prismiq_settings.derived("double", make) == 10
    assert made == [5, 6, 5]
    # A derived value never shadows a setting, nor a setting a derived value.
    assert prismiq_settings.MAX_ROWS == 5
    assert prismiq_settings.derived("MAX_ROWS", lambda: "other") == "other"
